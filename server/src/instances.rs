//! The configured GitLab instances as the BFF uses them: a REST/GraphQL client, an OAuth
//! client with the instance's own redirect URI, and token revocation.

use crate::config::{InstanceConfig, DEFAULT_SCOPES};
use crate::gitlab::GitLabClient;
use crate::metrics::Metrics;
use app::error::AppError;
use domain::InstanceInfo;
use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RedirectUrl, TokenUrl};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// An OAuth client for one GitLab instance with its authorize and token endpoints set.
/// (Revocation is sent by [`Instance::revoke`]: the OAuth library refuses `http` revocation
/// URLs, and many self-managed GitLabs and the demo double are plain http behind a proxy.)
pub type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// One GitLab instance.
pub struct Instance {
    pub info: InstanceInfo,
    pub api: GitLabClient,
    /// GraphQL's `Project.maxAccessLevel` (GitLab 16.9): the role comes with the access
    /// check. Cleared the first time this GitLab says it does not know the field.
    pub max_access_level: Arc<std::sync::atomic::AtomicBool>,
    /// Whether this GitLab's GraphQL has `Project.containerProtectionTagRules`; cleared
    /// the first time GitLab says it does not.
    pub tag_rules_field: Arc<std::sync::atomic::AtomicBool>,
    pub oauth: OAuthClient,
    pub scopes: Vec<String>,
    /// Where the health check finds the registry's `/v2/`, when configured.
    pub registry_url: Option<Url>,
    /// Tags GitLab's scheduled cleanup deletes per repository and run.
    pub cleanup_max_tags_per_run: u32,
    client_id: String,
    client_secret: String,
    revoke_url: Url,
}

impl Instance {
    /// Builds an instance from its configuration; `redirect_uri` is its own callback.
    pub fn build(
        cfg: &InstanceConfig,
        redirect_uri: &str,
        timeout: Duration,
        demo: bool,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
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
        let root = cfg.base_url.as_str().trim_end_matches('/');
        let oauth = BasicClient::new(ClientId::new(cfg.client_id.clone()))
            .set_client_secret(ClientSecret::new(cfg.client_secret.clone()))
            .set_auth_uri(AuthUrl::new(format!("{root}/oauth/authorize"))?)
            .set_token_uri(TokenUrl::new(format!("{root}/oauth/token"))?)
            .set_redirect_uri(RedirectUrl::new(redirect_uri.to_string())?);
        Ok(Instance {
            info: InstanceInfo {
                name: cfg.name.clone(),
                label,
                web_url: root.to_string(),
                demo,
            },
            api: GitLabClient::new(cfg.base_url.clone(), timeout, metrics)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            max_access_level: Arc::new(std::sync::atomic::AtomicBool::new(true)),
            tag_rules_field: Arc::new(std::sync::atomic::AtomicBool::new(true)),
            oauth,
            scopes,
            registry_url: cfg.registry_url.clone(),
            cleanup_max_tags_per_run: cfg
                .cleanup_max_tags_per_run
                .unwrap_or(domain::cleanup::DEFAULT_MAX_TAGS_PER_RUN),
            client_id: cfg.client_id.clone(),
            client_secret: cfg.client_secret.clone(),
            revoke_url: Url::parse(&format!("{root}/oauth/revoke"))?,
        })
    }

    /// Revokes a token at GitLab (RFC 7009, with the client's credentials as GitLab wants
    /// for confidential applications). `http` never follows redirects.
    pub async fn revoke(&self, http: &reqwest::Client, token: &str) -> Result<(), String> {
        let response = http
            .post(self.revoke_url.clone())
            .form(&[
                ("token", token),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.client_secret.as_str()),
            ])
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "timed out".to_string()
                } else {
                    "could not reach GitLab".to_string()
                }
            })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "GitLab answered HTTP {}",
                response.status().as_u16()
            ))
        }
    }
}

/// All configured instances.
pub struct Instances(Vec<Arc<Instance>>);

impl Instances {
    pub fn new(instances: Vec<Arc<Instance>>) -> Self {
        Instances(instances)
    }

    /// The instance a URL or request names. Names that cannot be an instance's are refused
    /// without being echoed in full.
    pub fn get(&self, name: &str) -> Result<&Arc<Instance>, AppError> {
        self.0
            .iter()
            .find(|i| i.info.name == name)
            .ok_or_else(|| AppError::UnknownInstance {
                instance: if domain::input::plausible_instance_name(name) {
                    name.to_string()
                } else {
                    domain::input::quoted(name)
                        .trim_matches(['“', '”'])
                        .to_string()
                },
            })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Instance>> {
        self.0.iter()
    }

    pub fn first(&self) -> Option<&Arc<Instance>> {
        self.0.first()
    }

    /// What the UI may know of them (no secrets).
    pub fn infos(&self) -> Vec<InstanceInfo> {
        self.0.iter().map(|i| i.info.clone()).collect()
    }
}
