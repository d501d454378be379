//! Configuration from the environment and an optional TOML file.
//!
//! Environment variables override the file. Every value is checked when the configuration
//! is loaded, so a bad one stops the server at start with a sentence naming it, never at the
//! first request. The embedded GitLab double (demo mode) runs only when asked for
//! (`--demo` or `REGISTRY_DASH_DEMO=1`), never because a GitLab is missing.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use url::Url;

/// Scopes requested when a configuration names none: browsing plus the writes later features need.
pub const DEFAULT_SCOPES: &[&str] = &["api"];

/// One GitLab instance users can sign in to.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// The container registry's URL for the health check (`https://registry.example.com`);
    /// by default `https://` and the registry host GitLab reports.
    #[serde(default)]
    pub registry_url: Option<Url>,
    /// Tags past the name regexes GitLab's scheduled cleanup takes per repository and run
    /// without the metadata database: the instance's
    /// `container_registry_cleanup_tags_service_max_list_size` (GitLab's default 200; 0 for
    /// no limit). The cleanup preview counts runs with it.
    #[serde(default)]
    pub cleanup_max_tags_per_run: Option<u32>,
}

impl std::fmt::Debug for InstanceConfig {
    // The client secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceConfig")
            .field("name", &self.name)
            .field("base_url", &self.base_url.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The whole server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// The URL users open; the OAuth redirect URI of an instance is
    /// `<public_url>/auth/callback/<instance>`.
    pub public_url: Url,
    /// Mark the session cookie `Secure` (default: when `public_url` is https).
    pub cookie_secure: bool,
    /// Idle time after which a session ends (reading counts as activity).
    pub session_idle_minutes: i64,
    /// A session ends this long after sign-in, however active.
    pub session_absolute_hours: i64,
    /// Sessions kept at most (the least recently used go first).
    pub max_sessions: u64,
    /// Where the built site (`pkg/` with the wasm bundle and CSS) lives.
    pub site_root: PathBuf,
    /// GitLab instances; empty only in demo mode.
    pub instances: Vec<InstanceConfig>,
    /// Run the embedded GitLab double (demo mode).
    pub demo_mode: bool,
    /// Demo-mode knobs for the embedded GitLab double.
    pub demo: DemoConfig,
    /// Upper bound for one GitLab request.
    pub gitlab_timeout_secs: u64,
    /// How the tag index talks to GitLab, and how much memory indexes may take.
    pub index: IndexSettings,
    /// Memory for the per-credential caches in front of GitLab.
    pub cache: CacheSettings,
    /// How GitLab's CI context is read to tell which tags are in use.
    pub usage: UsageSettings,
    /// Bounds on inbound requests.
    pub limits: Limits,
    pub log_format: LogFormat,
    /// Shared state for several replicas; `None`: everything lives in this process.
    pub redis: Option<RedisSettings>,
}

/// Where replicas share sessions, sign-ins in progress, refresh locks, rate budgets and tag
/// indexes.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS) or `unix:///path`.
    pub url: Url,
    /// Prefix of every key, so several deployments can share one Redis.
    pub prefix: String,
}

impl std::fmt::Debug for RedisSettings {
    // The password in the URL never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &self.redacted_url())
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RedisSettings {
    /// The URL without its password, for logs and `check-config`.
    pub fn redacted_url(&self) -> String {
        let mut url = self.url.clone();
        if url.password().is_some() {
            let _ = url.set_password(Some("***"));
        }
        url.to_string()
    }
}

/// Limits for building tag indexes: what one user may cost GitLab, how long an index lives,
/// and how much memory all indexes may hold.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexSettings {
    /// GitLab requests in flight at once for one user.
    pub concurrency: usize,
    /// GitLab requests per minute for one user (gitlab.com allows about 2,000).
    pub requests_per_minute: u32,
    /// How long an index is served before it is rebuilt in the background (stretched to
    /// twice the last build's duration for repositories that take longer to index).
    pub ttl_secs: u64,
    /// Memory all tag indexes together may hold, including indexes being rebuilt; the least
    /// recently used index goes first.
    pub memory_mib: u64,
    /// Memory the layers of image repositories may hold (their manifests by digest and the
    /// interned blobs storage figures are computed from); the least recently used repository
    /// goes first.
    pub layers_mib: u64,
    /// The storage panel reads layers by itself for repositories of at most this many
    /// distinct images (about one GitLab request per 16); larger ones wait for the user to
    /// ask, since reading them spends that much of the user's GitLab rate limit.
    pub layers_auto_images: u64,
}

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            concurrency: 8,
            requests_per_minute: 1_200,
            ttl_secs: 300,
            memory_mib: 256,
            layers_mib: 64,
            layers_auto_images: 500,
        }
    }
}

/// Memory bounds and lifetimes of the short-lived caches in front of GitLab, each keyed by
/// credential. Short lifetimes bound how long a token revoked at GitLab can still read
/// what was cached for it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheSettings {
    /// Repository access checks.
    pub access_mib: u64,
    /// How long an access check is reused for the same credential.
    pub access_ttl_secs: u64,
    /// Scans of a user's projects for images (30 s each).
    pub projects_mib: u64,
    /// Users behind API bearer tokens, and pending sign-ins.
    pub users_mib: u64,
    /// How long the user behind a bearer token (or a token GitLab refused) is remembered.
    pub users_ttl_secs: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            access_mib: 16,
            access_ttl_secs: 20,
            projects_mib: 32,
            users_mib: 8,
            users_ttl_secs: 30,
        }
    }
}

/// How a project's CI context (deployments, pipelines, merge requests, branches, git tags)
/// is read to tell which tags are in use and which are dead (see `domain::usage`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsageSettings {
    /// Read CI context at all (off: no tag is marked in use or dead, and GitLab is asked
    /// nothing for it).
    pub enabled: bool,
    /// Pages of 100 read at most per list; a longer list is read in part, which is enough
    /// to say "in use" but never "dead".
    pub pages_per_list: u32,
    /// Pipelines updated within this many days make the tags they built "in use".
    pub pipeline_window_days: u32,
    /// How long one reading is reused for the same credential and project.
    pub ttl_secs: u64,
    /// Memory for the readings, and as much again for the assessed repositories.
    pub cache_mib: u64,
    /// How long a tag page waits for a reading before it shows without verdicts (the page
    /// asks again; the reading goes on).
    pub wait_ms: u64,
}

impl Default for UsageSettings {
    fn default() -> Self {
        UsageSettings {
            enabled: true,
            pages_per_list: 5,
            pipeline_window_days: 14,
            ttl_secs: 60,
            cache_mib: 16,
            wait_ms: 1_500,
        }
    }
}

/// Bounds on what requests may cost.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// A request that takes longer is answered 503 (work it started that must finish, such
    /// as a deletion, still finishes).
    pub request_timeout_secs: u64,
    /// A client must send a request's headers within this time, or the connection closes.
    pub header_read_timeout_secs: u64,
    /// Requests handled at once; beyond it the server answers 503 with Retry-After at once.
    pub max_in_flight: usize,
    /// Open connections at once; beyond it new connections wait in the kernel's queue.
    pub max_connections: usize,
    /// Largest request body.
    pub max_body_kib: usize,
    /// JSON API requests per minute for one credential (token or session).
    pub api_requests_per_minute: u32,
    /// Checks of unknown bearer tokens with GitLab per minute, for the whole server (the
    /// whole deployment with Redis).
    pub bearer_checks_per_minute: u32,
    /// Sign-ins started per minute, for the whole server (the whole deployment with Redis):
    /// bounds how many sign-ins in progress are kept.
    pub logins_per_minute: u32,
    /// After SIGTERM or SIGINT: how long requests in flight may take to finish.
    pub shutdown_grace_secs: u64,
    /// Cleanup policy pages (and their JSON) built and sent at once; more wait their turn.
    /// Each holds every tag of the project's repositories (about 5 MiB for 10,000 tags).
    pub policy_pages_in_flight: usize,
    /// Projects a group's policy page reads at most (50 per GitLab request); a larger group
    /// shows the first ones GitLab lists and says so.
    pub group_policy_projects: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_timeout_secs: 60,
            header_read_timeout_secs: 10,
            max_in_flight: 512,
            max_connections: 4_096,
            max_body_kib: 512,
            api_requests_per_minute: 600,
            bearer_checks_per_minute: 600,
            logins_per_minute: 1_200,
            policy_pages_in_flight: 8,
            group_policy_projects: 1_000,
            shutdown_grace_secs: 30,
        }
    }
}

/// Knobs for the embedded GitLab double (demo mode only).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
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
    session_absolute_hours: Option<i64>,
    max_sessions: Option<u64>,
    site_root: Option<PathBuf>,
    gitlab_timeout_secs: Option<u64>,
    log_format: Option<LogFormat>,
    demo_mode: Option<bool>,
    redis_url: Option<Url>,
    redis_prefix: Option<String>,
    #[serde(default)]
    index: Option<IndexSettings>,
    #[serde(default)]
    cache: Option<CacheSettings>,
    #[serde(default)]
    usage: Option<UsageSettings>,
    #[serde(default)]
    limits: Option<Limits>,
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

/// The variable naming the configuration file.
pub const CONFIG_VAR: &str = "REGISTRY_DASH_CONFIG";

impl Config {
    /// Reads the file named by `file` or `REGISTRY_DASH_CONFIG` (optional), then the
    /// environment.
    pub fn from_env(file: Option<&Path>) -> Result<Self, ConfigError> {
        let vars: Vec<(String, String)> = std::env::vars().collect();
        let named = match std::env::var(CONFIG_VAR) {
            Ok(path) if !path.is_empty() => Some(PathBuf::from(path)),
            _ => None,
        };
        Self::load(file.or(named.as_deref()), &vars)
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
        fn flag(name: &str, value: String) -> Result<bool, ConfigError> {
            match value.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(ConfigError::Env {
                    name: name.to_string(),
                    message: format!("“{value}” is not valid: use 1 or 0"),
                }),
            }
        }
        macro_rules! setting {
            ($var:literal, $file:expr, $default:expr) => {
                match var($var) {
                    Some(v) => parse($var, v)?,
                    None => $file.unwrap_or($default),
                }
            };
        }

        let listen: SocketAddr = setting!(
            "REGISTRY_DASH_LISTEN",
            file_cfg.listen,
            SocketAddr::from(([127, 0, 0, 1], 3000))
        );
        let public_url = match var("REGISTRY_DASH_PUBLIC_URL") {
            Some(v) => parse("REGISTRY_DASH_PUBLIC_URL", v)?,
            None => match file_cfg.public_url {
                Some(url) => url,
                None => Url::parse(&format!("http://{listen}"))
                    .map_err(|e| ConfigError::Invalid(format!("listen address: {e}")))?,
            },
        };
        let cookie_secure = match var("REGISTRY_DASH_COOKIE_SECURE") {
            Some(v) => flag("REGISTRY_DASH_COOKIE_SECURE", v)?,
            None => file_cfg
                .cookie_secure
                .unwrap_or(public_url.scheme() == "https"),
        };
        let demo_mode = match var("REGISTRY_DASH_DEMO") {
            Some(v) => flag("REGISTRY_DASH_DEMO", v)?,
            None => file_cfg.demo_mode.unwrap_or(false),
        };
        let log_format = match var("REGISTRY_DASH_LOG_FORMAT") {
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => {
                    return Err(ConfigError::Env {
                        name: "REGISTRY_DASH_LOG_FORMAT".into(),
                        message: format!("“{v}” is not valid: use text or json"),
                    })
                }
            },
            None => file_cfg.log_format.unwrap_or_default(),
        };
        let session_idle_minutes = setting!(
            "REGISTRY_DASH_SESSION_IDLE_MINUTES",
            file_cfg.session_idle_minutes,
            8 * 60
        );
        let session_absolute_hours = setting!(
            "REGISTRY_DASH_SESSION_ABSOLUTE_HOURS",
            file_cfg.session_absolute_hours,
            12
        );
        let max_sessions = setting!("REGISTRY_DASH_MAX_SESSIONS", file_cfg.max_sessions, 100_000);
        let site_root = var("REGISTRY_DASH_SITE_ROOT")
            .map(PathBuf::from)
            .or(file_cfg.site_root)
            .unwrap_or_else(|| PathBuf::from("target/site"));
        let gitlab_timeout_secs = setting!(
            "REGISTRY_DASH_GITLAB_TIMEOUT_SECS",
            file_cfg.gitlab_timeout_secs,
            15
        );

        macro_rules! overrides {
            ($target:expr, $($var:literal => $field:ident),+ $(,)?) => {
                $(if let Some(v) = var($var) {
                    $target.$field = parse($var, v)?;
                })+
            };
        }
        let mut index = file_cfg.index.unwrap_or_default();
        overrides!(index,
            "REGISTRY_DASH_INDEX_CONCURRENCY" => concurrency,
            "REGISTRY_DASH_REQUESTS_PER_MINUTE" => requests_per_minute,
            "REGISTRY_DASH_INDEX_TTL_SECS" => ttl_secs,
            "REGISTRY_DASH_INDEX_MEMORY_MIB" => memory_mib,
            "REGISTRY_DASH_INDEX_LAYERS_MIB" => layers_mib,
            "REGISTRY_DASH_INDEX_LAYERS_AUTO_IMAGES" => layers_auto_images,
        );
        let mut cache = file_cfg.cache.unwrap_or_default();
        overrides!(cache,
            "REGISTRY_DASH_CACHE_ACCESS_MIB" => access_mib,
            "REGISTRY_DASH_CACHE_ACCESS_TTL_SECS" => access_ttl_secs,
            "REGISTRY_DASH_CACHE_PROJECTS_MIB" => projects_mib,
            "REGISTRY_DASH_CACHE_USERS_MIB" => users_mib,
            "REGISTRY_DASH_CACHE_USERS_TTL_SECS" => users_ttl_secs,
        );
        let mut usage = file_cfg.usage.unwrap_or_default();
        overrides!(usage,
            "REGISTRY_DASH_USAGE_ENABLED" => enabled,
            "REGISTRY_DASH_USAGE_PAGES_PER_LIST" => pages_per_list,
            "REGISTRY_DASH_USAGE_PIPELINE_WINDOW_DAYS" => pipeline_window_days,
            "REGISTRY_DASH_USAGE_TTL_SECS" => ttl_secs,
            "REGISTRY_DASH_USAGE_CACHE_MIB" => cache_mib,
            "REGISTRY_DASH_USAGE_WAIT_MS" => wait_ms,
        );
        let mut limits = file_cfg.limits.unwrap_or_default();
        overrides!(limits,
            "REGISTRY_DASH_REQUEST_TIMEOUT_SECS" => request_timeout_secs,
            "REGISTRY_DASH_HEADER_READ_TIMEOUT_SECS" => header_read_timeout_secs,
            "REGISTRY_DASH_MAX_IN_FLIGHT" => max_in_flight,
            "REGISTRY_DASH_MAX_CONNECTIONS" => max_connections,
            "REGISTRY_DASH_MAX_BODY_KIB" => max_body_kib,
            "REGISTRY_DASH_API_REQUESTS_PER_MINUTE" => api_requests_per_minute,
            "REGISTRY_DASH_BEARER_CHECKS_PER_MINUTE" => bearer_checks_per_minute,
            "REGISTRY_DASH_LOGINS_PER_MINUTE" => logins_per_minute,
            "REGISTRY_DASH_POLICY_PAGES_IN_FLIGHT" => policy_pages_in_flight,
            "REGISTRY_DASH_GROUP_POLICY_PROJECTS" => group_policy_projects,
            "REGISTRY_DASH_SHUTDOWN_GRACE_SECS" => shutdown_grace_secs,
        );

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
                registry_url: var("GITLAB_REGISTRY_URL")
                    .map(|v| parse("GITLAB_REGISTRY_URL", v))
                    .transpose()?,
                cleanup_max_tags_per_run: var("GITLAB_CLEANUP_MAX_TAGS_PER_RUN")
                    .map(|v| parse("GITLAB_CLEANUP_MAX_TAGS_PER_RUN", v))
                    .transpose()?,
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

        let redis_url = match var("REGISTRY_DASH_REDIS_URL") {
            Some(v) => Some(parse("REGISTRY_DASH_REDIS_URL", v)?),
            None => file_cfg.redis_url,
        };
        let redis = redis_url.map(|url| RedisSettings {
            url,
            prefix: var("REGISTRY_DASH_REDIS_PREFIX")
                .or(file_cfg.redis_prefix.clone())
                .unwrap_or_else(|| "registry-dash".into()),
        });

        let config = Config {
            redis,
            listen,
            public_url,
            cookie_secure,
            session_idle_minutes,
            session_absolute_hours,
            max_sessions,
            site_root,
            instances,
            demo_mode,
            demo,
            gitlab_timeout_secs,
            index,
            cache,
            usage,
            limits,
            log_format,
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        if let Some(redis) = &self.redis {
            if !matches!(
                redis.url.scheme(),
                "redis" | "rediss" | "unix" | "redis+unix"
            ) {
                return invalid(format!(
                    "redis_url “{}” must start with redis://, rediss:// or unix://",
                    redis.redacted_url()
                ));
            }
            let prefix_ok = (1..=64).contains(&redis.prefix.len())
                && redis
                    .prefix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
            if !prefix_ok {
                return invalid(format!(
                    "redis_prefix “{}” must be 1–64 letters, digits, '-', '_', '.' or ':'",
                    redis.prefix
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for instance in &self.instances {
            if !domain::input::plausible_instance_name(&instance.name) {
                return invalid(format!(
                    "instance name “{}” must be 1–40 letters, digits, '-' or '_'",
                    instance.name
                ));
            }
            if !seen.insert(instance.name.clone()) {
                return invalid(format!("instance name “{}” is used twice", instance.name));
            }
            if !matches!(instance.base_url.scheme(), "http" | "https")
                || instance.base_url.host_str().is_none()
            {
                return invalid(format!(
                    "instance “{}”: base_url must be an http or https URL with a host",
                    instance.name
                ));
            }
            if instance.client_id.trim().is_empty() || instance.client_secret.trim().is_empty() {
                return invalid(format!(
                    "instance “{}”: client_id and client_secret are required (GitLab → \
                        Applications)",
                    instance.name
                ));
            }
        }
        match (self.demo_mode, self.instances.is_empty()) {
            (false, true) => {
                return invalid(
                    "no GitLab instance is configured: set GITLAB_URL, GITLAB_CLIENT_ID and \
                        GITLAB_CLIENT_SECRET, or add [[instances]] to the config file; to try the \
                        dashboard on the built-in demo GitLab, run it with --demo \
                        (or REGISTRY_DASH_DEMO=1)"
                        .into(),
                )
            }
            (true, false) => {
                return invalid(
                    "demo mode runs only the built-in demo GitLab: remove the configured GitLab \
                        instances or turn demo mode off"
                        .into(),
                )
            }
            _ => {}
        }
        if self.demo_mode && !self.listen.ip().is_loopback() {
            return invalid(format!(
                "demo mode serves fixed demo accounts and refuses to listen on {}: use a loopback \
                    address such as 127.0.0.1",
                self.listen.ip()
            ));
        }
        if !matches!(self.public_url.scheme(), "http" | "https")
            || self.public_url.host_str().is_none()
        {
            return invalid("public_url must be an http or https URL with a host".into());
        }
        if self.public_url.path() != "/"
            || self.public_url.query().is_some()
            || self.public_url.fragment().is_some()
        {
            return invalid(format!(
                "public_url must be the site's root (scheme, host and port only), not {}",
                self.public_url
            ));
        }
        if self.public_url.scheme() == "https" && !self.cookie_secure {
            return invalid(
                "public_url is https but cookie_secure is off: the session cookie would also \
                    travel over plain http"
                    .into(),
            );
        }
        if !(0.0..=1.0).contains(&self.demo.error_rate) {
            return invalid("demo error_rate must be between 0 and 1".into());
        }
        let ranges: [(&str, u64, u64, u64); 10] = [
            ("gitlab_timeout_secs", self.gitlab_timeout_secs, 1, 300),
            (
                "session_idle_minutes",
                u64::try_from(self.session_idle_minutes).unwrap_or(0),
                1,
                30 * 24 * 60,
            ),
            (
                "session_absolute_hours",
                u64::try_from(self.session_absolute_hours).unwrap_or(0),
                1,
                30 * 24,
            ),
            ("index ttl_secs", self.index.ttl_secs, 10, 86_400),
            ("index memory_mib", self.index.memory_mib, 1, 1 << 20),
            ("index layers_mib", self.index.layers_mib, 1, 1 << 20),
            (
                "limits request_timeout_secs",
                self.limits.request_timeout_secs,
                1,
                3_600,
            ),
            (
                "limits header_read_timeout_secs",
                self.limits.header_read_timeout_secs,
                1,
                300,
            ),
            (
                "limits shutdown_grace_secs",
                self.limits.shutdown_grace_secs,
                0,
                3_600,
            ),
            ("max_sessions", self.max_sessions, 10, 100_000_000),
        ];
        for (name, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return invalid(format!(
                    "{name} must be between {min} and {max}, not {value}"
                ));
            }
        }
        if self.session_idle_minutes > self.session_absolute_hours * 60 {
            return invalid(
                "session_idle_minutes is longer than session_absolute_hours: a session would never \
                    idle out".into(),
            );
        }
        if !(1..=64).contains(&self.index.concurrency) {
            return invalid("index concurrency must be between 1 and 64".into());
        }
        if self.index.requests_per_minute < 10 {
            return invalid("index requests_per_minute must be at least 10".into());
        }
        for (name, value) in [
            ("cache access_mib", self.cache.access_mib),
            ("cache projects_mib", self.cache.projects_mib),
            ("cache users_mib", self.cache.users_mib),
        ] {
            if !(1..=1 << 16).contains(&value) {
                return invalid(format!("{name} must be between 1 and 65536"));
            }
        }
        for (name, value) in [
            ("cache access_ttl_secs", self.cache.access_ttl_secs),
            ("cache users_ttl_secs", self.cache.users_ttl_secs),
        ] {
            // Long lifetimes would let a revoked token read cached answers for long.
            if !(1..=300).contains(&value) {
                return invalid(format!("{name} must be between 1 and 300, not {value}"));
            }
        }
        let u = &self.usage;
        for (name, value, min, max) in [
            ("usage pages_per_list", u64::from(u.pages_per_list), 1, 50),
            (
                "usage pipeline_window_days",
                u64::from(u.pipeline_window_days),
                1,
                365,
            ),
            // Long lifetimes would show deployments that have since changed.
            ("usage ttl_secs", u.ttl_secs, 1, 300),
            ("usage cache_mib", u.cache_mib, 1, 1 << 16),
            ("usage wait_ms", u.wait_ms, 0, 10_000),
        ] {
            if !(min..=max).contains(&value) {
                return invalid(format!(
                    "{name} must be between {min} and {max}, not {value}"
                ));
            }
        }
        let l = &self.limits;
        if l.max_in_flight == 0 || l.max_connections == 0 || l.policy_pages_in_flight == 0 {
            return invalid(
                "limits max_in_flight, max_connections and policy_pages_in_flight must be at least \
                    1"
                    .into(),
            );
        }
        if !(1..=100_000).contains(&l.group_policy_projects) {
            return invalid(format!(
                "limits group_policy_projects must be between 1 and 100000, not {}",
                l.group_policy_projects
            ));
        }
        if !(16..=64 * 1024).contains(&l.max_body_kib) {
            return invalid("limits max_body_kib must be between 16 and 65536".into());
        }
        if l.api_requests_per_minute == 0
            || l.bearer_checks_per_minute == 0
            || l.logins_per_minute == 0
        {
            return invalid(
                "limits api_requests_per_minute, bearer_checks_per_minute and logins_per_minute \
                 must be at least 1"
                    .into(),
            );
        }
        Ok(())
    }

    /// The OAuth redirect URI of an instance: GitLab must have exactly this registered for
    /// the instance's application. One per instance, so a callback says which GitLab sent
    /// it (RFC 9700's mix-up defence).
    pub fn redirect_uri(&self, instance: &str) -> String {
        format!(
            "{}/auth/callback/{instance}",
            self.public_url.as_str().trim_end_matches('/')
        )
    }

    /// The site is served over https.
    pub fn https(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const GITLAB: [(&str, &str); 3] = [
        ("GITLAB_URL", "https://gitlab.example.com"),
        ("GITLAB_CLIENT_ID", "id"),
        ("GITLAB_CLIENT_SECRET", "secret"),
    ];

    #[test]
    fn demo_mode_only_when_asked_and_only_on_loopback() {
        let err = Config::load(None, &[]).unwrap_err();
        assert!(err.to_string().contains("--demo"), "{err}");
        let config = Config::load(None, &vars(&[("REGISTRY_DASH_DEMO", "1")])).unwrap();
        assert!(config.demo_mode);
        assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(
            config.redirect_uri("demo"),
            "http://127.0.0.1:3000/auth/callback/demo"
        );
        assert!(!config.cookie_secure);
        let err = Config::load(
            None,
            &vars(&[
                ("REGISTRY_DASH_DEMO", "1"),
                ("REGISTRY_DASH_LISTEN", "0.0.0.0:3000"),
            ]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
        let mut both = vars(&GITLAB);
        both.push(("REGISTRY_DASH_DEMO".into(), "1".into()));
        assert!(Config::load(None, &both).is_err());
    }

    #[test]
    fn one_instance_from_the_environment() {
        let mut v = vars(&GITLAB);
        v.extend(vars(&[(
            "REGISTRY_DASH_PUBLIC_URL",
            "https://dash.example.com/",
        )]));
        let config = Config::load(None, &v).unwrap();
        assert!(!config.demo_mode);
        assert_eq!(config.instances[0].name, "gitlab");
        assert!(config.cookie_secure);
        assert_eq!(
            config.redirect_uri("gitlab"),
            "https://dash.example.com/auth/callback/gitlab"
        );
        assert!(!format!("{:?}", config.instances[0]).contains("secret"));
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
log_format = "json"
[limits]
max_in_flight = 64
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
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.limits.max_in_flight, 64);
        assert_eq!(config.limits.request_timeout_secs, 60);
    }

    #[test]
    fn bad_input_is_reported_precisely() {
        let demo = ("REGISTRY_DASH_DEMO", "1");
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[demo, ("REGISTRY_DASH_LISTEN", "nope")],
                "REGISTRY_DASH_LISTEN",
            ),
            (&[("GITLAB_URL", "https://g.example")], "GITLAB_CLIENT_ID"),
            (
                &[demo, ("REGISTRY_DASH_DEMO_ERROR_RATE", "2")],
                "error_rate",
            ),
            (&[demo, ("REGISTRY_DASH_INDEX_TTL_SECS", "0")], "ttl_secs"),
            (
                &[demo, ("REGISTRY_DASH_POLICY_PAGES_IN_FLIGHT", "0")],
                "policy_pages_in_flight",
            ),
            (
                &[demo, ("REGISTRY_DASH_GROUP_POLICY_PROJECTS", "0")],
                "group_policy_projects",
            ),
            (
                &[demo, ("REGISTRY_DASH_GITLAB_TIMEOUT_SECS", "0")],
                "gitlab_timeout_secs",
            ),
            (
                &[demo, ("REGISTRY_DASH_REQUEST_TIMEOUT_SECS", "0")],
                "request_timeout_secs",
            ),
            (
                &[demo, ("REGISTRY_DASH_SESSION_IDLE_MINUTES", "10000000")],
                "session_idle_minutes",
            ),
            (
                &[demo, ("REGISTRY_DASH_SESSION_IDLE_MINUTES", "800")],
                "never idle out",
            ),
            (
                &[demo, ("REGISTRY_DASH_MAX_IN_FLIGHT", "0")],
                "max_in_flight",
            ),
            (&[("REGISTRY_DASH_DEMO", "maybe")], "REGISTRY_DASH_DEMO"),
            (
                &[
                    demo,
                    ("REGISTRY_DASH_PUBLIC_URL", "https://dash.example"),
                    ("REGISTRY_DASH_COOKIE_SECURE", "0"),
                ],
                "cookie_secure",
            ),
            (
                &[
                    demo,
                    ("REGISTRY_DASH_PUBLIC_URL", "http://dash.example/sub/"),
                ],
                "root",
            ),
        ];
        for (pairs, needle) in cases {
            let err = Config::load(None, &vars(pairs)).unwrap_err();
            assert!(err.to_string().contains(needle), "{pairs:?}: {err}");
        }
    }
}
