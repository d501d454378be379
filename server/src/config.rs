//! Configuration from the environment and an optional TOML file.
//!
//! Environment variables override the file. With no GitLab instance configured the server
//! runs in demo mode against the embedded GitLab double.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use url::Url;

/// Scopes requested when a configuration names none: browsing plus the writes later features need.
pub const DEFAULT_SCOPES: &[&str] = &["api"];

/// One GitLab instance users can sign in to.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct InstanceConfig {
    /// Short name used in URLs (`/i/<name>/…`): letters, digits, `-` and `_`.
    pub name: String,
    /// Label on the sign-in button; defaults to the host name.
    #[serde(default)]
    pub label: Option<String>,
    /// GitLab's base URL, e.g. `https://gitlab.com`. The BFF only ever talks to this host.
    pub base_url: Url,
    pub client_id: String,
    pub client_secret: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// The whole server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// The URL users open; the OAuth redirect URI is `<public_url>/auth/callback`.
    pub public_url: Url,
    /// Mark the session cookie `Secure` (default: when `public_url` is https).
    pub cookie_secure: bool,
    /// Idle time after which a session ends.
    pub session_idle_minutes: i64,
    /// Where the built site (`pkg/` with the wasm bundle and CSS) lives.
    pub site_root: PathBuf,
    /// GitLab instances; empty means demo mode.
    pub instances: Vec<InstanceConfig>,
    /// Demo-mode knobs for the embedded GitLab double.
    pub demo: DemoConfig,
    /// Upper bound for one GitLab request.
    pub gitlab_timeout_secs: u64,
    /// How the tag index talks to GitLab.
    pub index: IndexSettings,
}

/// Limits for building tag indexes: what one user may cost GitLab, and how long an index lives.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexSettings {
    /// GitLab requests in flight at once for one user.
    pub concurrency: usize,
    /// GitLab requests per minute for one user (gitlab.com allows about 2,000).
    pub requests_per_minute: u32,
    /// How long an index is served before it is rebuilt in the background.
    pub ttl_secs: u64,
}

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            concurrency: 8,
            requests_per_minute: 1_200,
            ttl_secs: 300,
        }
    }
}

/// Knobs for the embedded GitLab double (demo mode only).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DemoConfig {
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub error_rate: f64,
    #[serde(default)]
    pub token_ttl_secs: Option<u64>,
    /// Fixed port for the double (default: any free loopback port).
    #[serde(default)]
    pub port: Option<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    public_url: Option<Url>,
    cookie_secure: Option<bool>,
    session_idle_minutes: Option<i64>,
    site_root: Option<PathBuf>,
    gitlab_timeout_secs: Option<u64>,
    #[serde(default)]
    index: Option<IndexSettings>,
    #[serde(default)]
    instances: Vec<InstanceConfig>,
    #[serde(default)]
    demo: Option<DemoConfig>,
}

/// A configuration problem, said precisely enough to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Reads `REGISTRY_DASH_CONFIG` (a TOML file, optional), then the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let vars: Vec<(String, String)> = std::env::vars().collect();
        let file = match std::env::var("REGISTRY_DASH_CONFIG") {
            Ok(path) if !path.is_empty() => Some(PathBuf::from(path)),
            _ => None,
        };
        Self::load(file.as_deref(), &vars)
    }

    /// Builds the configuration from an optional file and explicit variables (testable).
    pub fn load(file: Option<&Path>, vars: &[(String, String)]) -> Result<Self, ConfigError> {
        let file_cfg = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?
            }
            None => FileConfig::default(),
        };
        let var = |name: &str| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        fn parse<T: std::str::FromStr>(name: &str, value: String) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            value.parse::<T>().map_err(|e| ConfigError::Env {
                name: name.to_string(),
                message: format!("“{value}” is not valid: {e}"),
            })
        }

        let listen = match var("REGISTRY_DASH_LISTEN") {
            Some(v) => parse("REGISTRY_DASH_LISTEN", v)?,
            None => file_cfg
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000))),
        };
        let public_url = match var("REGISTRY_DASH_PUBLIC_URL") {
            Some(v) => parse("REGISTRY_DASH_PUBLIC_URL", v)?,
            None => match file_cfg.public_url {
                Some(url) => url,
                None => Url::parse(&format!("http://{listen}"))
                    .map_err(|e| ConfigError::Invalid(format!("listen address: {e}")))?,
            },
        };
        let cookie_secure = match var("REGISTRY_DASH_COOKIE_SECURE") {
            Some(v) => parse("REGISTRY_DASH_COOKIE_SECURE", v)?,
            None => file_cfg
                .cookie_secure
                .unwrap_or(public_url.scheme() == "https"),
        };
        let session_idle_minutes = match var("REGISTRY_DASH_SESSION_IDLE_MINUTES") {
            Some(v) => parse("REGISTRY_DASH_SESSION_IDLE_MINUTES", v)?,
            None => file_cfg.session_idle_minutes.unwrap_or(8 * 60),
        };
        let site_root = var("REGISTRY_DASH_SITE_ROOT")
            .map(PathBuf::from)
            .or(file_cfg.site_root)
            .unwrap_or_else(|| PathBuf::from("target/site"));
        let gitlab_timeout_secs = match var("REGISTRY_DASH_GITLAB_TIMEOUT_SECS") {
            Some(v) => parse("REGISTRY_DASH_GITLAB_TIMEOUT_SECS", v)?,
            None => file_cfg.gitlab_timeout_secs.unwrap_or(15),
        };

        let mut index = file_cfg.index.unwrap_or_default();
        if let Some(v) = var("REGISTRY_DASH_INDEX_CONCURRENCY") {
            index.concurrency = parse("REGISTRY_DASH_INDEX_CONCURRENCY", v)?;
        }
        if let Some(v) = var("REGISTRY_DASH_REQUESTS_PER_MINUTE") {
            index.requests_per_minute = parse("REGISTRY_DASH_REQUESTS_PER_MINUTE", v)?;
        }
        if let Some(v) = var("REGISTRY_DASH_INDEX_TTL_SECS") {
            index.ttl_secs = parse("REGISTRY_DASH_INDEX_TTL_SECS", v)?;
        }

        let mut instances = file_cfg.instances;
        // A single instance can be given entirely through the environment.
        if let Some(base) = var("GITLAB_URL") {
            let client_id = var("GITLAB_CLIENT_ID").ok_or_else(|| ConfigError::Env {
                name: "GITLAB_CLIENT_ID".into(),
                message: "is required when GITLAB_URL is set".into(),
            })?;
            let client_secret = var("GITLAB_CLIENT_SECRET").ok_or_else(|| ConfigError::Env {
                name: "GITLAB_CLIENT_SECRET".into(),
                message: "is required when GITLAB_URL is set".into(),
            })?;
            instances.push(InstanceConfig {
                name: var("GITLAB_NAME").unwrap_or_else(|| "gitlab".into()),
                label: var("GITLAB_LABEL"),
                base_url: parse("GITLAB_URL", base)?,
                client_id,
                client_secret,
                scopes: var("GITLAB_SCOPES")
                    .map(|s| {
                        s.split([' ', ','])
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
        let mut demo = file_cfg.demo.unwrap_or_default();
        if let Some(v) = var("REGISTRY_DASH_DEMO_LATENCY_MS") {
            demo.latency_ms = parse("REGISTRY_DASH_DEMO_LATENCY_MS", v)?;
        }
        if let Some(v) = var("REGISTRY_DASH_DEMO_ERROR_RATE") {
            demo.error_rate = parse("REGISTRY_DASH_DEMO_ERROR_RATE", v)?;
        }
        if let Some(v) = var("REGISTRY_DASH_DEMO_TOKEN_TTL_SECS") {
            demo.token_ttl_secs = Some(parse("REGISTRY_DASH_DEMO_TOKEN_TTL_SECS", v)?);
        }
        if let Some(v) = var("REGISTRY_DASH_DEMO_PORT") {
            demo.port = Some(parse("REGISTRY_DASH_DEMO_PORT", v)?);
        }

        let config = Config {
            listen,
            public_url,
            cookie_secure,
            session_idle_minutes,
            site_root,
            instances,
            demo,
            gitlab_timeout_secs,
            index,
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for instance in &self.instances {
            let ok_name = !instance.name.is_empty()
                && instance.name.len() <= 40
                && instance
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok_name {
                return Err(ConfigError::Invalid(format!(
                    "instance name “{}” must be 1–40 letters, digits, '-' or '_'",
                    instance.name
                )));
            }
            if !seen.insert(instance.name.clone()) {
                return Err(ConfigError::Invalid(format!(
                    "instance name “{}” is used twice",
                    instance.name
                )));
            }
            if !matches!(instance.base_url.scheme(), "http" | "https") {
                return Err(ConfigError::Invalid(format!(
                    "instance “{}”: base_url must be http or https",
                    instance.name
                )));
            }
        }
        if !(0.0..=1.0).contains(&self.demo.error_rate) {
            return Err(ConfigError::Invalid(
                "demo error_rate must be between 0 and 1".into(),
            ));
        }
        if self.session_idle_minutes < 1 {
            return Err(ConfigError::Invalid(
                "session_idle_minutes must be at least 1".into(),
            ));
        }
        if !(1..=64).contains(&self.index.concurrency) {
            return Err(ConfigError::Invalid(
                "index concurrency must be between 1 and 64".into(),
            ));
        }
        if self.index.requests_per_minute < 10 {
            return Err(ConfigError::Invalid(
                "index requests_per_minute must be at least 10".into(),
            ));
        }
        Ok(())
    }

    /// True when no GitLab is configured and the embedded double is used.
    pub fn demo_mode(&self) -> bool {
        self.instances.is_empty()
    }

    /// The OAuth redirect URI GitLab must have registered for this dashboard.
    pub fn redirect_uri(&self) -> String {
        format!(
            "{}/auth/callback",
            self.public_url.as_str().trim_end_matches('/')
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_mean_demo_mode_on_loopback() {
        let config = Config::load(None, &[]).unwrap();
        assert!(config.demo_mode());
        assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(config.redirect_uri(), "http://127.0.0.1:3000/auth/callback");
        assert!(!config.cookie_secure);
    }

    #[test]
    fn one_instance_from_the_environment() {
        let config = Config::load(
            None,
            &vars(&[
                ("GITLAB_URL", "https://gitlab.example.com"),
                ("GITLAB_CLIENT_ID", "id"),
                ("GITLAB_CLIENT_SECRET", "secret"),
                ("REGISTRY_DASH_PUBLIC_URL", "https://dash.example.com/"),
            ]),
        )
        .unwrap();
        assert!(!config.demo_mode());
        assert_eq!(config.instances[0].name, "gitlab");
        assert!(config.cookie_secure);
        assert_eq!(
            config.redirect_uri(),
            "https://dash.example.com/auth/callback"
        );
    }

    #[test]
    fn several_instances_from_a_file() {
        let dir = std::env::temp_dir().join(format!("rd-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(
            &path,
            r#"
listen = "0.0.0.0:8080"
public_url = "https://registry.example.com"
[[instances]]
name = "com"
label = "GitLab.com"
base_url = "https://gitlab.com"
client_id = "a"
client_secret = "b"
scopes = ["read_api"]
[[instances]]
name = "self-managed"
base_url = "https://git.corp.example"
client_id = "c"
client_secret = "d"
"#,
        )
        .unwrap();
        let config = Config::load(Some(&path), &[]).unwrap();
        assert_eq!(config.instances.len(), 2);
        assert_eq!(config.instances[1].name, "self-managed");
        assert_eq!(config.listen.port(), 8080);
    }

    #[test]
    fn bad_input_is_reported_precisely() {
        let err = Config::load(None, &vars(&[("REGISTRY_DASH_LISTEN", "nope")])).unwrap_err();
        assert!(err.to_string().contains("REGISTRY_DASH_LISTEN"), "{err}");
        let err = Config::load(None, &vars(&[("GITLAB_URL", "https://g.example")])).unwrap_err();
        assert!(err.to_string().contains("GITLAB_CLIENT_ID"), "{err}");
        let err = Config::load(None, &vars(&[("REGISTRY_DASH_DEMO_ERROR_RATE", "2")])).unwrap_err();
        assert!(err.to_string().contains("error_rate"), "{err}");
    }
}
