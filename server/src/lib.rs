//! registry-dash's backend-for-frontend: serves the Leptos pages (SSR + hydration), signs
//! users in with GitLab OAuth, keeps their tokens in the server-side session and talks to
//! GitLab on their behalf.
// Leptos view types nest deeply; computing their layouts needs more than the default 128.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod config;
pub mod demo;
pub mod gitlab;
pub mod openapi;
pub mod router;
pub mod services;
pub mod state;
pub mod tags;
pub mod web;

use config::Config;
use state::Bff;
use std::net::SocketAddr;
use std::sync::Arc;

/// A started server (used by `main` and by tests).
pub struct RunningServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub addr: SocketAddr,
    pub bff: Arc<Bff>,
    /// The embedded GitLab double in demo mode.
    pub double: Option<demo::DemoDouble>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds `config.listen` (port 0 picks a free port and fixes up the public URL), starts the
/// GitLab double in demo mode, and serves in a background task.
pub async fn start(mut config: Config) -> anyhow::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    if config.listen.port() == 0 {
        config.public_url = url::Url::parse(&format!("http://{addr}"))?;
        config.listen = addr;
    }
    let (double, instances) = if config.demo_mode() {
        let (running, instance) = demo::start_double(&config).await?;
        tracing::info!(
            gitlab = %running.base_url,
            "demo mode: no GitLab configured, using the embedded GitLab double"
        );
        (Some(running), vec![instance])
    } else {
        (None, config.instances.clone())
    };
    let bff = Arc::new(Bff::new(&config, instances, double.is_some())?);
    let app = router::build(&config, bff.clone());
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "server stopped");
        }
    });
    Ok(RunningServer {
        base_url: format!("http://{addr}"),
        addr,
        bff,
        double,
        task,
    })
}
