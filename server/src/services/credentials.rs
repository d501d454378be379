//! Registry credentials and the instance's registry health.
//!
//! Tokens: the page reads the owner (project or group) and the viewer's role there first;
//! only a viewer GitLab lets manage tokens (Maintainer of a project, Owner of a group, or an
//! administrator) has the deploy and access tokens listed, both lists at once. A creation is
//! checked by the domain's constructor and role rule before GitLab is asked, runs to its end
//! even if the request goes away, and hands GitLab's one-time value straight back in the
//! answer: it is not cached, stored or logged (the audit line names the token, never its
//! value). A revocation needs the token's name typed and is checked against GitLab's list.
//!
//! Health: GitLab's version and announced rate limit (one `/metadata` call), the registry
//! host from the viewer's most recent projects, the metadata database from one repository's
//! `size` (GitLab returns it only with the database), and the registry's own `/v2/`, which
//! must answer `401` with a `Bearer` realm on this GitLab. Each finding is a sentence for a
//! user with what to ask the administrator.

use super::{access_of, Gateway};
use crate::gitlab::tokens::{AccessToken, DeployToken, RegistryProbe};
use app::backend::{Caller, Credentials};
use app::error::AppError;
use async_trait::async_trait;
use domain::credentials::{
    CheckStatus, CredentialKind, CredentialOwner, CredentialRequest, CredentialsPage, HealthCheck,
    InstanceHealth, IssuedCredential, RateLimit, RegistryToken, TokenSecret, MAX_TOKENS_LISTED,
};
use domain::format::parse_timestamp;
use domain::input::NamespacePath;
use domain::pull::ImageLocation;
use domain::{AccessLevel, Subject};
use std::sync::Arc;
use std::time::Duration;

/// How long the registry's `/v2/` gets to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Projects whose first repository is tried for the metadata database check.
const MODE_PROBES: usize = 3;

pub struct CredentialService {
    gw: Arc<Gateway>,
}

/// The owner as GitLab showed it to the viewer.
struct Owner {
    kind: CredentialOwner,
    id: u64,
    full_path: String,
    name: String,
    web_url: String,
    access: AccessLevel,
    image_prefix: Option<String>,
}

/// An access token's `expires_at` is a date (it stops working at its start, UTC); a deploy
/// token's is a time.
fn expiry(value: &str) -> Option<i64> {
    parse_timestamp(value).or_else(|| {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(value, &format)
            .ok()
            .map(|d| d.midnight().assume_utc().unix_timestamp())
    })
}

fn from_deploy(t: DeployToken) -> RegistryToken {
    RegistryToken {
        id: t.id,
        kind: CredentialKind::DeployToken,
        name: t.name,
        username: Some(t.username),
        scopes: t.scopes,
        access_level: None,
        expires_at: t.expires_at.as_deref().and_then(expiry),
        created_at: None,
        last_used_at: None,
        revoked: t.revoked,
    }
}

fn from_access(t: AccessToken) -> RegistryToken {
    RegistryToken {
        id: t.id,
        kind: CredentialKind::AccessToken,
        name: t.name,
        username: None,
        scopes: t.scopes,
        access_level: t.access_level.map(AccessLevel::from_gitlab),
        expires_at: t.expires_at.as_deref().and_then(expiry),
        created_at: t.created_at.as_deref().and_then(parse_timestamp),
        last_used_at: t.last_used_at.as_deref().and_then(parse_timestamp),
        revoked: t.revoked || !t.active,
    }
}

fn host_of(prefix: &str) -> Option<String> {
    ImageLocation::parse(prefix)
        .ok()
        .map(|l| l.host().to_string())
}

fn subject(kind: CredentialOwner, path: &str) -> Subject {
    match kind {
        CredentialOwner::Project => Subject::Project(path.to_string()),
        CredentialOwner::Group => Subject::Group(path.to_string()),
    }
}

impl CredentialService {
    pub fn new(gw: Arc<Gateway>) -> Self {
        CredentialService { gw }
    }

    async fn owner(
        &self,
        caller: &Caller,
        kind: CredentialOwner,
        path: &NamespacePath,
    ) -> Result<Owner, AppError> {
        let subject = subject(kind, path.as_str());
        let admin = caller.viewer.is_admin;
        let role = |level: AccessLevel| if admin { AccessLevel::Admin } else { level };
        match kind {
            CredentialOwner::Project => {
                let id = path.as_str().to_string();
                let project = self
                    .gw
                    .call(caller, subject, |api, token| {
                        let id = id.clone();
                        async move { api.project(&token, &id).await }
                    })
                    .await?;
                Ok(Owner {
                    kind,
                    id: project.id,
                    access: role(access_of(&project)),
                    full_path: project.path_with_namespace,
                    name: project.name,
                    web_url: project.web_url,
                    image_prefix: project.container_registry_image_prefix,
                })
            }
            CredentialOwner::Group => {
                let id = path.as_str().to_string();
                let group = self
                    .gw
                    .call(caller, subject.clone(), |api, token| {
                        let id = id.clone();
                        async move { api.group(&token, &id).await }
                    })
                    .await?;
                let user = caller.viewer.id;
                let level = self
                    .gw
                    .call(caller, subject, |api, token| async move {
                        api.group_access(&token, group.id, user).await
                    })
                    .await?;
                Ok(Owner {
                    kind,
                    id: group.id,
                    access: role(AccessLevel::from_gitlab(level)),
                    full_path: group.full_path,
                    name: group.name,
                    web_url: group.web_url,
                    image_prefix: None,
                })
            }
        }
    }

    /// The registry host for a group: a prefix of one of its projects.
    async fn group_registry_host(&self, caller: &Caller, group: u64) -> Option<String> {
        let listed = self
            .gw
            .call(caller, Subject::Projects, |api, token| async move {
                api.image_prefixes(&token, Some(group)).await
            })
            .await
            .ok()?;
        listed
            .iter()
            .find_map(|(_, p)| p.as_deref().and_then(host_of))
    }

    async fn tokens(
        &self,
        caller: &Caller,
        owner: &Owner,
    ) -> Result<(Vec<RegistryToken>, u64, bool), AppError> {
        let subject = subject(owner.kind, &owner.full_path);
        let (kind, id) = (owner.kind, owner.id);
        let deploy = self
            .gw
            .call(caller, subject.clone(), |api, token| async move {
                api.deploy_tokens(&token, kind, id).await
            });
        let access = self.gw.call(caller, subject, |api, token| async move {
            api.access_tokens(&token, kind, id).await
        });
        let (deploy, access) = tokio::join!(deploy, access);
        let refused =
            |e: &AppError| matches!(e, AppError::Forbidden { .. } | AppError::NotFound { .. });
        let (deploy, access) = match (deploy, access) {
            (Ok(d), Ok(a)) => (d, a),
            (Err(e), _) | (_, Err(e)) if refused(&e) => return Ok((Vec::new(), 0, false)),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let mut all: Vec<RegistryToken> = deploy
            .into_iter()
            .map(from_deploy)
            .chain(access.into_iter().map(from_access))
            .collect();
        let before = all.len();
        all.retain(RegistryToken::can_use_registry);
        let mut other = (before - all.len()) as u64;
        // Newest first: ids grow with creation within each kind.
        all.sort_by(|a, b| b.id.cmp(&a.id).then(a.name.cmp(&b.name)));
        if all.len() > MAX_TOKENS_LISTED {
            other += (all.len() - MAX_TOKENS_LISTED) as u64;
            all.truncate(MAX_TOKENS_LISTED);
        }
        Ok((all, other, true))
    }

    async fn page(&self, caller: &Caller, owner: Owner) -> Result<CredentialsPage, AppError> {
        let manager_role = owner.kind.manager_role();
        let listing = async {
            if owner.access >= manager_role {
                self.tokens(caller, &owner).await
            } else {
                Ok((Vec::new(), 0, false))
            }
        };
        let version = self
            .gw
            .call(caller, Subject::User, |api, token| async move {
                api.metadata(&token).await
            });
        let registry_host = async {
            match (&owner.image_prefix, owner.kind) {
                (Some(prefix), _) => host_of(prefix),
                (None, CredentialOwner::Group) => self.group_registry_host(caller, owner.id).await,
                (None, CredentialOwner::Project) => None,
            }
        };
        let (listing, version, registry_host) = tokio::join!(listing, version, registry_host);
        let (tokens, other_tokens, listed) = listing?;
        Ok(CredentialsPage {
            owner: owner.kind,
            id: owner.id,
            full_path: owner.full_path,
            name: owner.name,
            web_url: owner.web_url,
            access: owner.access,
            manager_role,
            registry_host,
            image_prefix: owner.image_prefix,
            tokens,
            other_tokens,
            listed,
            gitlab_version: version.ok().map(|(m, _)| m.version),
            now: crate::clock::now(),
        })
    }

    async fn issue(
        &self,
        caller: &Caller,
        owner: &Owner,
        request: &CredentialRequest,
    ) -> Result<IssuedCredential, AppError> {
        let subject = subject(owner.kind, &owner.full_path);
        let (kind, id) = (owner.kind, owner.id);
        match request.kind {
            CredentialKind::DeployToken => {
                let created = self
                    .gw
                    .call(caller, subject, |api, token| async move {
                        api.create_deploy_token(&token, kind, id, request).await
                    })
                    .await?;
                let secret = created.token.clone().ok_or_else(no_secret)?;
                let username = created.username.clone();
                Ok(IssuedCredential {
                    token: from_deploy(created),
                    username,
                    secret,
                })
            }
            CredentialKind::AccessToken => {
                let created = self
                    .gw
                    .call(caller, subject, |api, token| async move {
                        api.create_access_token(&token, kind, id, request).await
                    })
                    .await?;
                let secret: TokenSecret = created.token.clone().ok_or_else(no_secret)?;
                // GitLab ignores the username an access token logs in with; its bot user's
                // name is still the clearest one to show.
                let username = match created.user_id {
                    Some(user) => self
                        .gw
                        .call(caller, Subject::User, |api, token| async move {
                            api.username(&token, user).await
                        })
                        .await
                        .ok(),
                    None => None,
                }
                .unwrap_or_else(|| "gitlab-token".to_string());
                Ok(IssuedCredential {
                    token: from_access(created),
                    username,
                    secret,
                })
            }
        }
    }
}

fn no_secret() -> AppError {
    AppError::GitLabUnavailable {
        detail: "GitLab created the token but did not return its value; revoke it in GitLab and \
            create another"
            .into(),
    }
}

#[async_trait]
impl Credentials for CredentialService {
    async fn credentials(
        &self,
        caller: &Caller,
        owner: CredentialOwner,
        path: &NamespacePath,
    ) -> Result<CredentialsPage, AppError> {
        let owner = self.owner(caller, owner, path).await?;
        self.page(caller, owner).await
    }

    async fn create_credential(
        &self,
        caller: &Caller,
        owner: CredentialOwner,
        path: &NamespacePath,
        request: &CredentialRequest,
    ) -> Result<IssuedCredential, AppError> {
        let owner = self.owner(caller, owner, path).await?;
        if let Some(reason) = request.refusal(owner.kind, owner.access) {
            return Err(AppError::NotAllowed { reason });
        }
        let this = CredentialService {
            gw: self.gw.clone(),
        };
        let caller = caller.clone();
        let request = request.clone();
        self.gw
            .clone()
            .to_the_end(async move {
                let outcome = this.issue(&caller, &owner, &request).await;
                let target = format!(
                    "{} {} “{}”",
                    owner.kind.noun(),
                    owner.full_path,
                    request.name
                );
                let said = match &outcome {
                    Ok(issued) => format!("created {} {}", request.kind.label(), issued.token.id),
                    Err(error) => error.to_string(),
                };
                this.gw.audit(&caller, "create_credential", &target, &said);
                outcome
            })
            .await
    }

    async fn revoke_credential(
        &self,
        caller: &Caller,
        owner: CredentialOwner,
        path: &NamespacePath,
        kind: CredentialKind,
        token_id: u64,
        confirm_name: &str,
    ) -> Result<CredentialsPage, AppError> {
        let owner = self.owner(caller, owner, path).await?;
        let needed = owner.kind.manager_role();
        if owner.access < needed {
            return Err(AppError::NotAllowed {
                reason: format!(
                    "Revoking a {}'s tokens needs the {} role; you are {}.",
                    owner.kind.noun(),
                    needed.label(),
                    owner.access.label()
                ),
            });
        }
        let (tokens, _, _) = self.tokens(caller, &owner).await?;
        let Some(token) = tokens.iter().find(|t| t.kind == kind && t.id == token_id) else {
            return Err(AppError::BadRequest {
                message: format!(
                    "GitLab lists no registry {} {token_id} for {}; reload the page.",
                    kind.label().to_lowercase(),
                    owner.full_path
                ),
            });
        };
        if confirm_name.trim() != token.name {
            return Err(AppError::BadRequest {
                message: format!("Type the token's name, “{}”, to revoke it.", token.name),
            });
        }
        let collection = match kind {
            CredentialKind::DeployToken => "deploy_tokens",
            CredentialKind::AccessToken => "access_tokens",
        };
        let target = format!("{} {} “{}”", owner.kind.noun(), owner.full_path, token.name);
        let (kind_owner, id) = (owner.kind, owner.id);
        let this = CredentialService {
            gw: self.gw.clone(),
        };
        let caller_done = caller.clone();
        let subject = subject(owner.kind, &owner.full_path);
        self.gw
            .clone()
            .to_the_end(async move {
                let outcome = this
                    .gw
                    .call(&caller_done, subject, |api, token| async move {
                        api.revoke_token(&token, kind_owner, id, collection, token_id)
                            .await
                    })
                    .await;
                let said = match &outcome {
                    Ok(()) => "revoked".to_string(),
                    Err(error) => error.to_string(),
                };
                this.gw
                    .audit(&caller_done, "revoke_credential", &target, &said);
                outcome
            })
            .await?;
        self.page(caller, owner).await
    }

    async fn instance_health(&self, caller: &Caller) -> Result<InstanceHealth, AppError> {
        let instance = self.gw.instance(caller)?.clone();
        let metadata = self
            .gw
            .call(caller, Subject::User, |api, token| async move {
                api.metadata(&token).await
            });
        let projects = self
            .gw
            .call(caller, Subject::Projects, |api, token| async move {
                api.image_prefixes(&token, None).await
            });
        let (metadata, projects) = tokio::join!(metadata, projects);
        let mut checks = Vec::new();
        let (version, rate_limit) = match metadata {
            Ok((m, limit)) => {
                checks.push(HealthCheck {
                    label: "GitLab".into(),
                    status: CheckStatus::Ok,
                    detail: format!("GitLab {} answers at {}.", m.version, instance.info.web_url),
                    advice: None,
                });
                (Some(m.version), limit)
            }
            Err(error @ AppError::NotSignedIn { .. }) => return Err(error),
            Err(error) => {
                checks.push(HealthCheck {
                    label: "GitLab".into(),
                    status: CheckStatus::Failed,
                    detail: format!("GitLab did not say its version: {error}"),
                    advice: Some(
                        "If this lasts, ask your GitLab administrator whether GitLab is up.".into(),
                    ),
                });
                (None, None)
            }
        };
        let projects = projects.unwrap_or_default();
        let registry_host = projects
            .iter()
            .find_map(|(_, p)| p.as_deref().and_then(host_of));
        checks.push(match &registry_host {
            Some(host) => HealthCheck {
                label: "Container registry enabled".into(),
                status: CheckStatus::Ok,
                detail: format!(
                    "GitLab reports the registry at {host}: images are pushed to and \
                    pulled from there."
                ),
                advice: None,
            },
            None if projects.is_empty() => HealthCheck {
                label: "Container registry enabled".into(),
                status: CheckStatus::Unknown,
                detail: "You are not a member of any project, so GitLab reported no registry \
                    address."
                    .into(),
                advice: None,
            },
            None => HealthCheck {
                label: "Container registry enabled".into(),
                status: CheckStatus::Failed,
                detail: "None of your projects reports a container registry address: the registry \
                    looks switched off on this GitLab."
                    .into(),
                advice: Some(
                    "Ask your GitLab administrator whether the container registry is \
                    enabled (registry_external_url in gitlab.rb) and on for your projects."
                        .into(),
                ),
            },
        });
        let registry_url = instance.registry_url.clone().or_else(|| {
            registry_host
                .as_ref()
                .and_then(|h| url::Url::parse(&format!("https://{h}/")).ok())
        });
        if let Some(url) = &registry_url {
            let probe = instance.api.probe_registry(url, PROBE_TIMEOUT).await;
            checks.push(probe_check(&probe, url, &instance.info.web_url));
        }
        let metadata_database = self.metadata_database(caller, &projects).await;
        checks.push(match metadata_database {
            Some(true) => HealthCheck {
                label: "Metadata database".into(),
                status: CheckStatus::Ok,
                detail:
                    "In use: tags have publish dates and sizes, sorting by date and protection \
                    rules work, and the cleanup preview counts as GitLab does with the database."
                        .into(),
                advice: None,
            },
            Some(false) => HealthCheck {
                label: "Metadata database".into(),
                status: CheckStatus::Warning,
                detail: "Not in use: GitLab has no sizes or publish dates for tags and no \
                    protection rules; the dashboard sorts by build date and says which figures \
                    are partial."
                    .into(),
                advice: Some(
                    "The registry metadata database (GitLab 17.3 and later) makes these \
                    exact; ask your administrator whether it is planned."
                        .into(),
                ),
            },
            None => HealthCheck {
                label: "Metadata database".into(),
                status: CheckStatus::Unknown,
                detail: "None of your projects has an image repository to tell from.".into(),
                advice: None,
            },
        });
        checks.push(match rate_limit {
            Some(limit) => HealthCheck {
                label: "API rate limit".into(),
                status: CheckStatus::Ok,
                detail: format!(
                    "GitLab allows {} API requests per minute{}.",
                    limit.limit,
                    limit
                        .remaining
                        .map(|r| format!("; {r} were left at this check"))
                        .unwrap_or_default()
                ),
                advice: None,
            },
            None => HealthCheck {
                label: "API rate limit".into(),
                status: CheckStatus::Ok,
                detail: "GitLab announced no rate limit on its answers (common on self-managed \
                    GitLab; GitLab.com allows 2,000 requests per minute per user)."
                    .into(),
                advice: None,
            },
        });
        Ok(InstanceHealth {
            instance: instance.info.name.clone(),
            label: instance.info.label.clone(),
            web_url: instance.info.web_url.clone(),
            gitlab_version: version,
            registry_host,
            metadata_database,
            rate_limit: rate_limit.map(|l| RateLimit {
                limit: l.limit,
                remaining: l.remaining,
            }),
            checks,
            checked_at: crate::clock::now(),
        })
    }
}

impl CredentialService {
    /// `size` of the first repository found in the first few projects with a registry.
    async fn metadata_database(
        &self,
        caller: &Caller,
        projects: &[(u64, Option<String>)],
    ) -> Option<bool> {
        for (project, _) in projects
            .iter()
            .filter(|(_, p)| p.is_some())
            .take(MODE_PROBES)
        {
            let project = *project;
            let first = self
                .gw
                .call(caller, Subject::Projects, |api, token| async move {
                    api.first_repository(&token, project).await
                })
                .await
                .ok()
                .flatten();
            if let Some(repository) = first {
                return self
                    .gw
                    .call(
                        caller,
                        Subject::Repository(repository),
                        |api, token| async move { api.repository_size(&token, repository).await },
                    )
                    .await
                    .ok()
                    .map(|size| size.is_some());
            }
        }
        None
    }
}

/// The registry's `/v2/` answer as a check.
fn probe_check(probe: &RegistryProbe, url: &url::Url, gitlab: &str) -> HealthCheck {
    let label = "Registry answers".to_string();
    let at = url.as_str().trim_end_matches('/');
    let down = |detail: String| HealthCheck {
        label: label.clone(),
        status: CheckStatus::Failed,
        detail,
        advice: Some(
            "Pulls and pushes fail while GitLab's own pages may still list images (GitLab \
            reads its database, not the registry). Ask your GitLab administrator to check the \
            registry service (gitlab-ctl status registry) and its logs."
                .into(),
        ),
    };
    match probe {
        RegistryProbe::Challenge { realm, .. } => {
            let expected = format!("{}/jwt/auth", gitlab.trim_end_matches('/'));
            if realm == &expected {
                HealthCheck {
                    label,
                    status: CheckStatus::Ok,
                    detail: format!(
                        "{at}/v2/ asks for a login and sends clients to this GitLab \
                        for tokens ({realm})."
                    ),
                    advice: None,
                }
            } else {
                HealthCheck {
                    label,
                    status: CheckStatus::Failed,
                    detail: format!(
                        "{at}/v2/ sends clients to {realm} for tokens, not to this \
                        GitLab ({expected}): docker login will fail."
                    ),
                    advice: Some(format!(
                        "Ask your GitLab administrator to set the registry's \
                        token realm to {expected}."
                    )),
                }
            }
        }
        RegistryProbe::Status(200) => HealthCheck {
            label,
            status: CheckStatus::Warning,
            detail: format!(
                "{at}/v2/ answers without asking for a login: this registry does not \
                use GitLab's tokens."
            ),
            advice: Some(
                "Ask your GitLab administrator whether the registry's token \
                authentication is configured."
                    .into(),
            ),
        },
        RegistryProbe::Status(404) => down(format!(
            "{at}/v2/ answered 404: there is no registry at \
            this address."
        )),
        RegistryProbe::Status(status) => down(format!(
            "{at}/v2/ answered HTTP {status}: the \
            registry is down or unreachable behind GitLab's proxy."
        )),
        RegistryProbe::Unreachable(why) => down(format!("{at}/v2/ did not answer: {why}.")),
    }
}
