//! Demo mode: the GitLab double runs in-process on loopback and the dashboard signs in
//! against it like against any GitLab. Only when asked for (`--demo`), and only on a
//! loopback address (checked with the configuration).

use crate::config::{Config, InstanceConfig};
use gitlab_double::{Double, DoubleConfig, OAuthApp};
use std::time::Duration;

/// The demo OAuth application (tests use it to obtain tokens with chosen scopes).
pub const DEMO_CLIENT_ID: &str = "registry-dash-demo";
pub const DEMO_CLIENT_SECRET: &str = "registry-dash-demo-secret";
/// The demo instance's name in URLs.
pub const DEMO_INSTANCE: &str = "demo";

/// The embedded double, serving on loopback.
#[derive(Clone)]
pub struct DemoDouble {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Runtime controls (latency, faults, token lifetime) for tests.
    pub double: Double,
}

/// Starts the double and returns it with the instance configuration pointing at it.
pub async fn start_double(config: &Config) -> anyhow::Result<(DemoDouble, InstanceConfig)> {
    let mut double_config = DoubleConfig {
        clients: vec![OAuthApp {
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: DEMO_CLIENT_SECRET.into(),
            redirect_uris: vec![config.redirect_uri(DEMO_INSTANCE)],
            name: "registry-dash (demo)".into(),
            confidential: true,
        }],
        latency: Duration::from_millis(config.demo.latency_ms),
        error_rate: config.demo.error_rate,
        ..DoubleConfig::default()
    };
    if let Some(ttl) = config.demo.token_ttl_secs {
        double_config.token_ttl = Duration::from_secs(ttl);
    }
    let listener =
        tokio::net::TcpListener::bind(("127.0.0.1", config.demo.port.unwrap_or(0))).await?;
    let addr = listener.local_addr()?;
    let double = Double::new(double_config);
    let serving = double.clone();
    tokio::spawn(async move {
        if let Err(error) = serving.serve(listener).await {
            tracing::error!(%error, "the GitLab double stopped");
        }
    });
    let running = DemoDouble {
        base_url: format!("http://{addr}"),
        double,
    };
    let instance = InstanceConfig {
        name: DEMO_INSTANCE.into(),
        label: Some("the demo GitLab".into()),
        base_url: url::Url::parse(&running.base_url)?,
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: DEMO_CLIENT_SECRET.into(),
        scopes: vec!["api".into()],
        // The double answers for its registry on its own address.
        registry_url: Some(url::Url::parse(&running.base_url)?),
        // The double's cleanup worker deletes as many as GitLab's default allows.
        cleanup_max_tags_per_run: None,
    };
    Ok((running, instance))
}
