//! The one context behind every request: configuration, services, sessions, metrics.

use crate::auth::pending::PendingLogins;
use crate::auth::store::{MemoryStore, RedisStore, Sessions};
use crate::auth::SignInService;
use crate::caches::Caches;
use crate::config::Config;
use crate::index::TagIndexes;
use crate::instances::{Instance, Instances};
use crate::layers::LayerStore;
use crate::metrics::Metrics;
use crate::services::{Gateway, Services};
use crate::shared::Redis;
use app::backend::Backend;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::task::TaskTracker;

/// Shared state (cheap to clone: every field is shared).
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub services: Services,
    pub sign_in: Arc<SignInService>,
    pub sessions: Sessions,
    /// Sign-ins between the redirect to GitLab and the callback.
    pub logins: Arc<PendingLogins>,
    /// Shared state of several replicas, when configured.
    pub redis: Option<Redis>,
    /// For GitLab's OAuth token and revoke endpoints: no redirects (SSRF), short timeouts.
    pub oauth_http: reqwest::Client,
    pub metrics: Arc<Metrics>,
    /// `scheme://host[:port]` of the public URL, for the CSRF origin check.
    pub public_origin: String,
    pub readiness: Arc<crate::http::health::Readiness>,
    /// Policy pages being built and sent (`limits.policy_pages_in_flight`).
    pub policy_pages: Arc<tokio::sync::Semaphore>,
    /// The browser bundle's names (`pkg/site.json`).
    pub site: Arc<crate::http::site::Site>,
}

impl AppState {
    /// Builds the state; `instances` are the configured ones (or the demo double).
    pub fn new(
        config: Config,
        instances: Vec<crate::config::InstanceConfig>,
    ) -> anyhow::Result<Self> {
        let metrics = Arc::new(Metrics::new());
        let site = Arc::new(crate::http::site::Site::load(&config.site_root)?);
        let redis = config.redis.as_ref().map(Redis::new).transpose()?;
        let timeout = Duration::from_secs(config.gitlab_timeout_secs);
        let mut built = Vec::new();
        for cfg in &instances {
            built.push(Arc::new(Instance::build(
                cfg,
                &config.redirect_uri(&cfg.name),
                timeout,
                config.demo_mode,
                metrics.clone(),
            )?));
        }
        let oauth_http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        let gateway = Arc::new(Gateway {
            instances: Instances::new(built),
            caches: Caches::new(
                &config.cache,
                &config.usage,
                config.limits.api_requests_per_minute,
                redis.clone(),
            ),
            indexes: Arc::new(TagIndexes::new(
                config.index.clone(),
                metrics.clone(),
                redis.clone(),
            )),
            layers: Arc::new(LayerStore::new(config.index.layers_mib, redis.clone())),
            metrics: metrics.clone(),
            tasks: TaskTracker::new(),
            usage: config.usage.clone(),
            group_policy_projects: config.limits.group_policy_projects,
        });
        let idle =
            Duration::from_secs(u64::try_from(config.session_idle_minutes).unwrap_or(1) * 60);
        let absolute =
            Duration::from_secs(u64::try_from(config.session_absolute_hours).unwrap_or(1) * 3600);
        let sessions = match &redis {
            Some(redis) => Sessions::Redis(RedisStore::new(redis.clone(), idle)),
            None => Sessions::Memory(MemoryStore::new(config.max_sessions, idle)),
        };
        let logins = Arc::new(PendingLogins::new(
            redis.clone(),
            config.cache.users_mib,
            config.limits.logins_per_minute,
        ));
        let sign_in = Arc::new(SignInService::new(
            gateway.clone(),
            sessions.clone(),
            redis.clone(),
            oauth_http.clone(),
            absolute,
            config.limits.bearer_checks_per_minute,
        ));
        Ok(AppState {
            public_origin: config.public_url.origin().ascii_serialization(),
            readiness: Arc::new(crate::http::health::Readiness::default()),
            policy_pages: Arc::new(tokio::sync::Semaphore::new(
                config.limits.policy_pages_in_flight,
            )),
            site,
            config: Arc::new(config),
            services: Services::new(gateway),
            sign_in,
            sessions,
            logins,
            redis,
            oauth_http,
            metrics,
        })
    }

    /// The UI's handle on the services.
    pub fn backend(&self) -> Backend {
        Backend {
            sign_in: self.sign_in.clone(),
            browse: self.services.browse.clone(),
            tags: self.services.tags.clone(),
            cleanup: self.services.cleanup.clone(),
            governance: self.services.governance.clone(),
            credentials: self.services.credentials.clone(),
            storage: self.services.storage.clone(),
        }
    }
}
