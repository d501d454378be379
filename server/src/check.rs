//! `registry-dash check-config`: validates a configuration and tries each instance's
//! GitLab without starting to serve.
//!
//! For each instance: the API answers (`GET /api/v4/user` without a token is a 401: an
//! answer), and the OAuth application's credentials are accepted (a token request with a
//! made-up authorization code must fail with `invalid_grant`, which GitLab only says after
//! it has accepted the client id and secret; `invalid_client` means they are wrong). It
//! prints the redirect URI each application must have registered. With `redis_url`, Redis
//! must answer too.

use crate::config::Config;
use crate::instances::Instance;
use crate::metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;

/// One line of the report.
pub struct Finding {
    pub ok: bool,
    pub text: String,
}

/// Checks every configured instance; `Ok` when all are usable.
pub async fn check(config: &Config) -> Vec<Finding> {
    let mut findings = vec![Finding {
        ok: true,
        text: format!(
            "configuration is valid: listen {}, public URL {}",
            config.listen, config.public_url
        ),
    }];
    if config.demo_mode {
        findings.push(Finding {
            ok: true,
            text: "demo mode: the embedded GitLab double is used; nothing else to try".into(),
        });
        return findings;
    }
    findings.push(match crate::http::site::Site::load(&config.site_root) {
        Err(error) => Finding {
            ok: false,
            text: format!("site files unusable: {error}"),
        },
        Ok(site) if site.wasm_file().is_file() => Finding {
            ok: true,
            text: format!(
                "site files found in {} (bundle {})",
                config.site_root.display(),
                site.leptos_pkg_dir()
            ),
        },
        Ok(site) => Finding {
            ok: false,
            text: format!(
                "site files missing: {} (build them with scripts/build-site.sh)",
                site.wasm_file().display()
            ),
        },
    });
    if let Some(settings) = &config.redis {
        let answer = match crate::shared::Redis::new(settings) {
            Ok(redis) => redis.ping().await,
            Err(error) => Err(error),
        };
        findings.push(Finding {
            ok: answer.is_ok(),
            text: match answer {
                Ok(()) => format!(
                    "Redis {} answers (prefix “{}”): sessions and budgets are shared",
                    settings.redacted_url(),
                    settings.prefix
                ),
                Err(error) => format!("Redis {} does not answer: {error}", settings.redacted_url()),
            },
        });
    }
    let timeout = Duration::from_secs(config.gitlab_timeout_secs);
    let http = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
    {
        Ok(http) => http,
        Err(error) => {
            findings.push(Finding {
                ok: false,
                text: format!("could not build an HTTP client: {error}"),
            });
            return findings;
        }
    };
    let metrics = Arc::new(Metrics::new());
    for cfg in &config.instances {
        let redirect = config.redirect_uri(&cfg.name);
        let instance = match Instance::build(cfg, &redirect, timeout, false, metrics.clone()) {
            Ok(instance) => instance,
            Err(error) => {
                findings.push(Finding {
                    ok: false,
                    text: format!("instance {}: {error}", cfg.name),
                });
                continue;
            }
        };
        let name = &cfg.name;
        let base = cfg.base_url.as_str().trim_end_matches('/');
        match instance.api.reachable().await {
            Ok(()) => findings.push(Finding {
                ok: true,
                text: format!("instance {name}: GitLab answers at {base}"),
            }),
            Err(error) => {
                findings.push(Finding {
                    ok: false,
                    text: format!("instance {name}: GitLab at {base} is not reachable: {error}"),
                });
                continue;
            }
        }
        let answer = http
            .post(format!("{base}/oauth/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", "registry-dash-check-config"),
                ("redirect_uri", redirect.as_str()),
                ("client_id", cfg.client_id.as_str()),
                ("client_secret", cfg.client_secret.as_str()),
            ])
            .send()
            .await;
        let finding = match answer {
            Ok(response) => {
                let status = response.status();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                match body["error"].as_str() {
                    Some("invalid_grant") => Finding {
                        ok: true,
                        text: format!(
                            "instance {name}: GitLab accepts the OAuth application's \
                            client id and secret"
                        ),
                    },
                    Some("invalid_client") => Finding {
                        ok: false,
                        text: format!(
                            "instance {name}: GitLab does not know this client id and \
                            secret (invalid_client): check the application in GitLab"
                        ),
                    },
                    other => Finding {
                        ok: false,
                        text: format!(
                            "instance {name}: unexpected answer from GitLab's token endpoint (HTTP \
                                {}, {})",
                            status.as_u16(),
                            other.unwrap_or("no OAuth error")
                        ),
                    },
                }
            }
            Err(error) => Finding {
                ok: false,
                text: format!("instance {name}: GitLab's token endpoint did not answer: {error}"),
            },
        };
        findings.push(finding);
        findings.push(Finding {
            ok: true,
            text: format!(
                "instance {name}: the OAuth application must have the redirect URI {redirect} and \
                    the scopes {}",
                instance.scopes.join(" ")
            ),
        });
    }
    findings
}
