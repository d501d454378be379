//! registry-dash's backend-for-frontend: serves the Leptos pages (SSR + hydration), signs
//! users in with GitLab OAuth, keeps their tokens in the server-side session and talks to
//! GitLab on their behalf.
//!
//! Layout: `config` (checked at start) → `state` (the one context: `services` over a shared
//! `services::Gateway` of `instances`, `caches`, `index` and `metrics`; `auth` for
//! sign-in and callers) → `http` (the router and its layers, the JSON `api`, serving with
//! a graceful stop). `gitlab` is the typed client, knowing nothing of the rest.
// Leptos view types nest deeply; computing their layouts needs more than the default 128.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod caches;
pub mod check;
pub mod clock;
pub mod config;
pub mod demo;
pub mod errors;
pub mod gitlab;
pub mod http;
pub mod index;
pub mod instances;
pub mod layers;
pub mod metrics;
pub mod services;
pub mod shared;
pub mod state;
pub mod telemetry;

use config::Config;
use state::AppState;
use std::net::SocketAddr;
use tokio::sync::oneshot;

/// A started server (used by `main` and by tests).
pub struct RunningServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub addr: SocketAddr,
    pub state: AppState,
    /// The embedded GitLab double in demo mode.
    pub double: Option<demo::DemoDouble>,
    stop: Option<oneshot::Sender<()>>,
    /// Ends when the server has stopped (after a graceful shutdown).
    pub task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Begins a graceful shutdown (as SIGTERM does); await [`RunningServer::task`] for its
    /// end.
    pub fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds `config.listen` (port 0 picks a free port and fixes up the public URL), starts the
/// GitLab double in demo mode, and serves in a background task until
/// [`RunningServer::shutdown`].
pub async fn start(mut config: Config) -> anyhow::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    if config.listen.port() == 0 {
        // The public URL was derived from the listen address: it gets the real port too.
        if config.public_url.port() == Some(0) {
            config.public_url = url::Url::parse(&format!("http://{addr}"))?;
        }
        config.listen = addr;
    }
    let (double, instances) = if config.demo_mode {
        let (running, instance) = demo::start_double(&config).await?;
        tracing::info!(
            gitlab = %running.base_url,
            "demo mode: using the embedded GitLab double"
        );
        (Some(running), vec![instance])
    } else {
        (None, config.instances.clone())
    };
    let limits = config.limits.clone();
    let state = AppState::new(config, instances)?;
    let app = http::router(state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let tasks = state.services.gateway.tasks.clone();
    let indexes = state.services.gateway.indexes.clone();
    let task = tokio::spawn(async move {
        http::serve::serve(listener, app, limits, tasks, async {
            let _ = stopped.await;
        })
        .await;
        // Requests and tracked work have ended: index builds have nobody left to serve.
        indexes.cancel_all();
    });
    Ok(RunningServer {
        base_url: format!("http://{addr}"),
        addr,
        state,
        double,
        stop: Some(stop),
        task,
    })
}
