//! The double itself: shared state, the router, serving.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::DoubleConfig;
use crate::controls::Controls;
use crate::credentials::CredentialStore;
use crate::model::{Project, Repository, World};
use crate::sync::{lock, read, write};

/// A running fake GitLab's state. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Double {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Double {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Double")
            .field("registry_host", &self.inner.registry_host)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    world: RwLock<Arc<World>>,
    pub controls: Controls,
    pub registry_host: String,
    pub schema: crate::graphql::DoubleSchema,
    /// repository id → when the last bulk tag deletion was accepted (one per hour)
    pub cleanup_leases: Mutex<HashMap<u64, OffsetDateTime>>,
    /// Deploy tokens, access tokens and registry tokens. Lock order: the world's lock first
    /// (when both are needed), then this one.
    pub credentials: Mutex<CredentialStore>,
}

impl Double {
    /// Builds the double from `config`, resolving the dataset's relative ages against now.
    pub fn new(config: DoubleConfig) -> Double {
        let now = OffsetDateTime::now_utc();
        if let Err(e) = config.dataset.validate() {
            tracing::warn!(error = %e, "serving an inconsistent dataset");
        }
        let mut world = World::from_dataset(&config.dataset, now);
        let credentials = CredentialStore::seed(&config.dataset, &mut world, now);
        Double {
            inner: Arc::new(Inner {
                world: RwLock::new(Arc::new(world)),
                controls: Controls::new(&config),
                registry_host: config.registry_host.clone(),
                schema: crate::graphql::build_schema(),
                cleanup_leases: Mutex::new(HashMap::new()),
                credentials: Mutex::new(credentials),
            }),
        }
    }

    /// The whole fake GitLab as an axum router (OAuth, REST v4, GraphQL, the registry's `/v2/`
    /// and `/jwt/auth`, control endpoints).
    pub fn router(&self) -> Router {
        let api = crate::rest::routes().merge(crate::graphql::routes()).layer(
            axum::middleware::from_fn_with_state(self.clone(), crate::faults::api_faults),
        );
        // The registry and its token endpoint get latency but none of the API's faults.
        let registry = crate::registry::routes().layer(axum::middleware::from_fn_with_state(
            self.clone(),
            crate::faults::latency_only,
        ));
        Router::new()
            .merge(api)
            .merge(registry)
            .merge(crate::auth::routes(self.clone()))
            .merge(crate::controls::routes())
            .route(
                "/-/double/avatars/{file}",
                axum::routing::get(crate::auth::pages::avatar),
            )
            .fallback(fallback)
            .with_state(self.clone())
    }

    /// Serves the router on `listener` until the process ends.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await
    }

    /// Binds `127.0.0.1:0` and serves `config` in a background task.
    pub async fn spawn(config: DoubleConfig) -> anyhow::Result<RunningDouble> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let double = Double::new(config);
        let app = double
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = rx.await;
            });
            if let Err(e) = server.await {
                tracing::error!(error = %e, "gitlab double stopped");
            }
        });
        Ok(RunningDouble {
            base_url: format!("http://{addr}"),
            addr,
            double,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Runtime knobs.
    pub fn controls(&self) -> &Controls {
        &self.inner.controls
    }

    /// A consistent snapshot of all data.
    pub(crate) fn world(&self) -> Arc<World> {
        read(&self.inner.world).clone()
    }

    pub(crate) fn registry_host(&self) -> &str {
        &self.inner.registry_host
    }

    pub(crate) fn metadata_db(&self) -> bool {
        self.inner.controls.metadata_db()
    }

    /// Deploy tokens, access tokens and registry tokens (never hold this while taking the
    /// world's write lock).
    pub(crate) fn credentials(&self) -> std::sync::MutexGuard<'_, CredentialStore> {
        lock(&self.inner.credentials)
    }

    /// Changes one repository (copy-on-write); `None` if it does not exist.
    pub(crate) fn update_repository<R>(
        &self,
        id: u64,
        change: impl FnOnce(&mut Repository) -> R,
    ) -> Option<R> {
        let mut guard = write(&self.inner.world);
        let world = Arc::make_mut(&mut guard);
        let repo = world.repositories.get_mut(&id)?;
        Some(change(Arc::make_mut(repo)))
    }

    /// Changes the whole world under the write lock, so checks and changes are atomic.
    pub(crate) fn update_world<R>(&self, change: impl FnOnce(&mut World) -> R) -> R {
        let mut guard = write(&self.inner.world);
        change(Arc::make_mut(&mut guard))
    }

    /// Changes one project; `None` if it does not exist.
    pub(crate) fn update_project<R>(
        &self,
        id: u64,
        change: impl FnOnce(&mut Project) -> R,
    ) -> Option<R> {
        let mut guard = write(&self.inner.world);
        let world = Arc::make_mut(&mut guard);
        let project = world.projects.iter_mut().find(|p| p.id == id)?;
        Some(change(project))
    }

    /// Takes the once-per-hour lease of bulk tag deletion for a repository.
    pub(crate) fn take_cleanup_lease(&self, repository_id: u64, now: OffsetDateTime) -> bool {
        let mut leases = lock(&self.inner.cleanup_leases);
        match leases.get(&repository_id) {
            Some(taken) if now - *taken < time::Duration::hours(1) => false,
            _ => {
                leases.insert(repository_id, now);
                true
            }
        }
    }
}

/// A double serving on an ephemeral port (see [`Double::spawn`]).
#[derive(Debug)]
pub struct RunningDouble {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// The double, for its controls.
    pub double: Double,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningDouble {
    /// Stops accepting connections; in-flight requests finish in the background.
    pub fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        drop(self.task.take());
    }

    /// Stops the server and waits until it has finished.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

async fn fallback(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": "404 Not Found" })),
        )
            .into_response()
    } else {
        (StatusCode::NOT_FOUND, "Not Found").into_response()
    }
}
