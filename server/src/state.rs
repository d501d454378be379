//! The BFF's shared state: configured instances, HTTP clients, the session store, caches.

use crate::auth::{oauth_client, OAuthClient};
use crate::config::{Config, DEFAULT_SCOPES};
use crate::gitlab::GitLabClient;
use app::error::AppError;
use domain::InstanceInfo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower_sessions::MemoryStore;

/// One GitLab instance as the BFF uses it.
pub struct Instance {
    pub info: InstanceInfo,
    pub api: GitLabClient,
    pub oauth: OAuthClient,
    pub scopes: Vec<String>,
}

/// Shared state behind every request.
pub struct Bff {
    pub instances: Vec<Arc<Instance>>,
    /// For the OAuth token and revoke endpoints: no redirects (SSRF), short timeouts.
    pub oauth_http: reqwest::Client,
    pub store: MemoryStore,
    /// `scheme://host[:port]` of the public URL, for the CSRF origin check.
    pub public_origin: String,
    pub(crate) refresh_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    pub(crate) project_scans: crate::services::ProjectScanCache,
    /// Per-user access checks of image repositories (in front of the shared tag indexes).
    pub(crate) repository_access: crate::services::tags::AccessCache,
    /// Tag indexes, shared between users, and per-user GitLab request budgets.
    pub tag_indexes: crate::tags::TagIndexes,
    /// Users behind bearer tokens of API callers, briefly remembered.
    pub(crate) bearer_users: crate::api::BearerCache,
}

impl Bff {
    /// Builds the state from configuration; `instances` may include the demo double.
    pub fn new(
        config: &Config,
        instances: Vec<crate::config::InstanceConfig>,
        demo: bool,
    ) -> anyhow::Result<Self> {
        let timeout = Duration::from_secs(config.gitlab_timeout_secs);
        let redirect_uri = config.redirect_uri();
        let mut built = Vec::new();
        for cfg in instances {
            let label = cfg.label.clone().unwrap_or_else(|| {
                if demo {
                    "the demo GitLab".to_string()
                } else {
                    cfg.base_url.host_str().unwrap_or("GitLab").to_string()
                }
            });
            let scopes = if cfg.scopes.is_empty() {
                DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect()
            } else {
                cfg.scopes.clone()
            };
            built.push(Arc::new(Instance {
                info: InstanceInfo {
                    name: cfg.name.clone(),
                    label,
                    web_url: cfg.base_url.as_str().trim_end_matches('/').to_string(),
                    demo,
                },
                api: GitLabClient::new(cfg.base_url.clone(), timeout)?,
                oauth: oauth_client(
                    &cfg.base_url,
                    &cfg.client_id,
                    &cfg.client_secret,
                    &redirect_uri,
                )?,
                scopes,
            }));
        }
        let oauth_http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()?;
        Ok(Bff {
            instances: built,
            oauth_http,
            store: MemoryStore::default(),
            public_origin: config.public_url.origin().ascii_serialization(),
            refresh_locks: Mutex::new(HashMap::new()),
            project_scans: Default::default(),
            repository_access: Default::default(),
            tag_indexes: crate::tags::TagIndexes::new(config.index.clone()),
            bearer_users: Default::default(),
        })
    }

    /// The instance named in a URL.
    pub fn instance(&self, name: &str) -> Result<&Arc<Instance>, AppError> {
        self.instances
            .iter()
            .find(|i| i.info.name == name)
            .ok_or_else(|| AppError::UnknownInstance {
                instance: name.to_string(),
            })
    }
}
