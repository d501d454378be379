//! `gitlab-double`: serve the fake GitLab for demos and end-to-end tests.
//!
//! Every flag also reads an environment variable (flags win). Bad flags exit with status 2.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use gitlab_double::{Dataset, Double, DoubleConfig, OAuthApp, RegistryState};

const USAGE: &str = "\
gitlab-double: a fake GitLab (OAuth, REST v4, GraphQL registry subset) for registry-dash

USAGE: gitlab-double [OPTIONS]

OPTIONS (environment variable in brackets):
  --listen ADDR                 address to bind [GITLAB_DOUBLE_LISTEN] (default 127.0.0.1:8929)
  --dataset FILE                JSON dataset instead of the demo [GITLAB_DOUBLE_DATASET]
  --latency-ms N                delay added to /api and /oauth/token [GITLAB_DOUBLE_LATENCY_MS]
  --jitter-ms N                 extra random delay 0..N ms [GITLAB_DOUBLE_JITTER_MS]
  --error-rate F                share 0.0-1.0 of /api requests answered 500 \
                                [GITLAB_DOUBLE_ERROR_RATE]
  --rate-limit-per-minute N|off per-user API rate limit [GITLAB_DOUBLE_RATE_LIMIT_PER_MINUTE]
  --metadata-db on|off          registry metadata database [GITLAB_DOUBLE_METADATA_DB] (default on)
  --token-ttl-secs N            access token lifetime [GITLAB_DOUBLE_TOKEN_TTL_SECS] (default 7200)
  --client-id ID                OAuth client id [GITLAB_DOUBLE_CLIENT_ID] \
                                (default registry-dash-demo)
  --client-secret SECRET        OAuth client secret [GITLAB_DOUBLE_CLIENT_SECRET]
  --redirect-uri URI            extra allowed callback, repeatable \
                                [GITLAB_DOUBLE_REDIRECT_URIS, comma-separated]
  --registry-host HOST[:PORT]   registry host in `location` fields [GITLAB_DOUBLE_REGISTRY_HOST]
  --registry STATE              how /v2/ answers: up, down (502), wrong-realm, disabled (404)
                                [GITLAB_DOUBLE_REGISTRY] (default up)
  --seed N                      seed of the fault-injection sequence [GITLAB_DOUBLE_SEED]
  --dump-dataset                print the demo dataset as JSON and exit
  -h, --help                    this help
  -V, --version                 version
";

/// What the command line asks for.
#[derive(Debug)]
enum Command {
    Serve(Box<DoubleConfig>, SocketAddr),
    DumpDataset,
    Help,
    Version,
}

fn parse_u64(flag: &str, v: &str) -> Result<u64, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{flag}: expected a whole number, got {v:?}"))
}

fn parse_args(args: Vec<String>, env: impl Fn(&str) -> Option<String>) -> Result<Command, String> {
    // Flag values override environment values: collect env first, then flags.
    let mut values: Vec<(String, String)> = Vec::new();
    let env_flags = [
        ("GITLAB_DOUBLE_LISTEN", "--listen"),
        ("GITLAB_DOUBLE_DATASET", "--dataset"),
        ("GITLAB_DOUBLE_LATENCY_MS", "--latency-ms"),
        ("GITLAB_DOUBLE_JITTER_MS", "--jitter-ms"),
        ("GITLAB_DOUBLE_ERROR_RATE", "--error-rate"),
        (
            "GITLAB_DOUBLE_RATE_LIMIT_PER_MINUTE",
            "--rate-limit-per-minute",
        ),
        ("GITLAB_DOUBLE_METADATA_DB", "--metadata-db"),
        ("GITLAB_DOUBLE_TOKEN_TTL_SECS", "--token-ttl-secs"),
        ("GITLAB_DOUBLE_CLIENT_ID", "--client-id"),
        ("GITLAB_DOUBLE_CLIENT_SECRET", "--client-secret"),
        ("GITLAB_DOUBLE_REGISTRY_HOST", "--registry-host"),
        ("GITLAB_DOUBLE_REGISTRY", "--registry"),
        ("GITLAB_DOUBLE_SEED", "--seed"),
    ];
    for (var, flag) in env_flags {
        if let Some(v) = env(var).filter(|v| !v.is_empty()) {
            values.push((flag.to_owned(), v));
        }
    }
    if let Some(uris) = env("GITLAB_DOUBLE_REDIRECT_URIS") {
        for uri in uris.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            values.push(("--redirect-uri".to_owned(), uri.to_owned()));
        }
    }
    let known: Vec<&str> = env_flags
        .iter()
        .map(|(_, f)| *f)
        .chain(["--redirect-uri"])
        .collect();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--dump-dataset" => return Ok(Command::DumpDataset),
            _ => {}
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        if !known.contains(&flag.as_str()) {
            return Err(format!("unknown option {arg:?} (see --help)"));
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .ok_or_else(|| format!("{flag} needs a value (see --help)"))?,
        };
        values.push((flag, value));
    }

    let mut config = DoubleConfig::default();
    let mut listen: SocketAddr = ([127, 0, 0, 1], 8929).into();
    let mut app = OAuthApp::demo();
    for (flag, v) in values {
        match flag.as_str() {
            "--listen" => {
                listen = v.parse().map_err(|_| {
                    format!("--listen: expected HOST:PORT like 127.0.0.1:8929, got {v:?}")
                })?;
            }
            "--dataset" => {
                config.dataset =
                    Dataset::from_json_file(&v).map_err(|e| format!("--dataset: {e}"))?;
            }
            "--latency-ms" => config.latency = Duration::from_millis(parse_u64(&flag, &v)?),
            "--jitter-ms" => config.jitter = Duration::from_millis(parse_u64(&flag, &v)?),
            "--error-rate" => {
                let rate: f64 = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("--error-rate: expected a number, got {v:?}"))?;
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!(
                        "--error-rate: must be between 0.0 and 1.0, got {v}"
                    ));
                }
                config.error_rate = rate;
            }
            "--rate-limit-per-minute" => {
                config.rate_limit_per_minute = match v.trim() {
                    "off" | "none" | "0" => None,
                    n => Some(
                        u32::try_from(parse_u64(&flag, n)?)
                            .map_err(|_| format!("{flag}: too large"))?,
                    ),
                }
            }
            "--metadata-db" => {
                config.metadata_db = match v.trim() {
                    "on" | "true" | "1" => true,
                    "off" | "false" | "0" => false,
                    _ => return Err(format!("--metadata-db: expected on or off, got {v:?}")),
                }
            }
            "--token-ttl-secs" => {
                config.token_ttl = Duration::from_secs(parse_u64(&flag, &v)?);
            }
            "--client-id" => app.client_id = v,
            "--client-secret" => app.client_secret = v,
            "--redirect-uri" => {
                url::Url::parse(&v).map_err(|e| format!("--redirect-uri {v:?}: {e}"))?;
                if !app.redirect_uris.contains(&v) {
                    app.redirect_uris.push(v);
                }
            }
            "--registry-host" => config.registry_host = v,
            "--registry" => {
                config.registry = match v.trim() {
                    "up" => RegistryState::Up,
                    "down" => RegistryState::Down,
                    "wrong-realm" | "wrong_realm" => RegistryState::WrongRealm,
                    "disabled" => RegistryState::Disabled,
                    _ => {
                        return Err(format!(
                            "--registry: expected up, down, wrong-realm or disabled, got {v:?}"
                        ))
                    }
                }
            }
            "--seed" => config.seed = parse_u64(&flag, &v)?,
            _ => return Err(format!("unknown option {flag:?}")),
        }
    }
    config.clients = vec![app];
    Ok(Command::Serve(Box::new(config), listen))
}

#[tokio::main]
async fn main() -> ExitCode {
    let command = match parse_args(std::env::args().skip(1).collect(), |k| {
        std::env::var(k).ok()
    }) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("gitlab-double: {message}");
            return ExitCode::from(2);
        }
    };
    let (config, listen) = match command {
        Command::Help => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("gitlab-double {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::DumpDataset => {
            println!("{}", Dataset::demo().to_json_pretty());
            return ExitCode::SUCCESS;
        }
        Command::Serve(config, listen) => (*config, listen),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("gitlab-double: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let clients: Vec<String> = config.clients.iter().map(|c| c.client_id.clone()).collect();
    let double = Double::new(config);
    tracing::info!(
        url = %format!("http://{listen}"),
        clients = ?clients,
        controls = ?double.controls().snapshot(),
        "gitlab double listening"
    );
    let app = double
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gitlab-double: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_override_environment() {
        let env = |k: &str| match k {
            "GITLAB_DOUBLE_LATENCY_MS" => Some("50".to_owned()),
            "GITLAB_DOUBLE_METADATA_DB" => Some("off".to_owned()),
            _ => None,
        };
        let Command::Serve(config, listen) = parse_args(
            args(&[
                "--latency-ms=10",
                "--redirect-uri",
                "http://127.0.0.1:4000/cb",
                "--listen",
                "0.0.0.0:9000",
            ]),
            env,
        )
        .unwrap() else {
            panic!("expected serve")
        };
        assert_eq!(config.latency, Duration::from_millis(10));
        assert!(!config.metadata_db);
        assert_eq!(listen.port(), 9000);
        assert!(config.clients[0]
            .redirect_uris
            .contains(&"http://127.0.0.1:4000/cb".to_owned()));
    }

    #[test]
    fn bad_flags_are_errors() {
        let none = |_: &str| None;
        assert!(parse_args(args(&["--bogus"]), none).is_err());
        assert!(parse_args(args(&["--error-rate", "2"]), none).is_err());
        assert!(parse_args(args(&["--metadata-db", "maybe"]), none).is_err());
        assert!(parse_args(args(&["--latency-ms"]), none).is_err());
        assert!(parse_args(args(&["--registry", "sideways"]), none).is_err());
        assert!(matches!(
            parse_args(args(&["--registry=wrong-realm"]), none).unwrap(),
            Command::Serve(c, _) if c.registry == RegistryState::WrongRealm
        ));
        assert!(matches!(
            parse_args(args(&["--rate-limit-per-minute", "off"]), none).unwrap(),
            Command::Serve(c, _) if c.rate_limit_per_minute.is_none()
        ));
    }
}
