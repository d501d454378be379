//! Registry credentials GitLab issues for pulling (and pushing) images: deploy tokens and
//! project or group access tokens. What a list of them shows (never a value), what a request
//! for a new one may ask, the secret of a new one (shown once, in the browser), and what a
//! user needs to create or revoke them.
//!
//! GitLab's rules, checked here before anything is sent:
//! - deploy tokens: `read_registry` to pull, `write_registry` to push; expiry optional;
//!   Maintainer of the project (Owner of a group) creates, lists and revokes them;
//! - access tokens: the same registry scopes and a role for the token's bot user (Reporter
//!   reads the registry, Developer pushes), an expiry date (GitLab caps it at a year);
//!   Maintainer of the project, Owner of a group; never a role above the creator's own;
//! - a token "can use the registry" when its scopes include `read_registry`,
//!   `write_registry` or `api`.

use crate::input::{quoted, InputError};
use crate::AccessLevel;
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

/// Longest token name GitLab accepts.
pub const MAX_TOKEN_NAME_LEN: usize = 255;
/// Longest access-token lifetime GitLab allows by default (days).
pub const MAX_ACCESS_TOKEN_DAYS: i64 = 365;
/// A token expiring within this many days is flagged.
pub const EXPIRING_SOON_DAYS: i64 = 14;
/// The expiry a new credential gets unless the user picks another (days from today).
pub const DEFAULT_EXPIRY_DAYS: i64 = 90;
/// Most tokens listed per kind (GitLab's list pages hold 100; the rest are counted).
pub const MAX_TOKENS_LISTED: usize = 100;

/// Where a credential lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CredentialOwner {
    Project,
    Group,
}

impl CredentialOwner {
    /// The role GitLab requires to create, list and revoke this owner's registry tokens.
    pub fn manager_role(self) -> AccessLevel {
        match self {
            CredentialOwner::Project => AccessLevel::Maintainer,
            CredentialOwner::Group => AccessLevel::Owner,
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            CredentialOwner::Project => "project",
            CredentialOwner::Group => "group",
        }
    }

    /// GitLab's REST collection (`projects`, `groups`).
    pub fn collection(self) -> &'static str {
        match self {
            CredentialOwner::Project => "projects",
            CredentialOwner::Group => "groups",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InputError> {
        match raw {
            "project" | "projects" => Ok(CredentialOwner::Project),
            "group" | "groups" => Ok(CredentialOwner::Group),
            other => Err(InputError(format!(
                "{} is neither “project” nor “group”.",
                quoted(other)
            ))),
        }
    }
}

/// The kinds of credential GitLab offers for registry pulls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CredentialKind {
    /// A deploy token: its own username, no user behind it, usable only with registry and
    /// repository scopes.
    DeployToken,
    /// A project or group access token: a bot user with a role.
    AccessToken,
}

impl CredentialKind {
    pub fn label(self) -> &'static str {
        match self {
            CredentialKind::DeployToken => "Deploy token",
            CredentialKind::AccessToken => "Access token",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InputError> {
        match raw {
            "deploy_token" => Ok(CredentialKind::DeployToken),
            "access_token" => Ok(CredentialKind::AccessToken),
            other => Err(InputError(format!(
                "{} is not a kind of credential (deploy_token or access_token).",
                quoted(other)
            ))),
        }
    }
}

/// One existing token as GitLab lists it; never its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistryToken {
    pub id: u64,
    pub kind: CredentialKind,
    pub name: String,
    /// A deploy token's username (access tokens log in with any username).
    pub username: Option<String>,
    pub scopes: Vec<String>,
    /// An access token's role.
    pub access_level: Option<AccessLevel>,
    /// Unix seconds; `None` never expires.
    pub expires_at: Option<i64>,
    /// Unix seconds, where GitLab reports it (access tokens).
    pub created_at: Option<i64>,
    /// Unix seconds, where GitLab reports it (access tokens).
    pub last_used_at: Option<i64>,
    /// Revoked, or otherwise not active.
    pub revoked: bool,
}

/// How a token stands today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "days")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TokenState {
    Active,
    /// Expires within [`EXPIRING_SOON_DAYS`]; whole days left (0 = today).
    ExpiringSoon(i64),
    Expired,
    Revoked,
}

impl RegistryToken {
    /// The token's scopes let it log in to the registry.
    pub fn can_use_registry(&self) -> bool {
        self.scopes
            .iter()
            .any(|s| matches!(s.as_str(), "read_registry" | "write_registry" | "api"))
    }

    /// The token's scopes let it push.
    pub fn can_push(&self) -> bool {
        self.scopes
            .iter()
            .any(|s| matches!(s.as_str(), "write_registry" | "api"))
    }

    pub fn state(&self, now: i64) -> TokenState {
        if self.revoked {
            return TokenState::Revoked;
        }
        match self.expires_at {
            Some(at) if at <= now => TokenState::Expired,
            Some(at) if at - now < EXPIRING_SOON_DAYS * 86_400 => {
                TokenState::ExpiringSoon((at - now) / 86_400)
            }
            _ => TokenState::Active,
        }
    }
}

/// A project's or group's registry tokens, and what the viewer may do with them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialsPage {
    pub owner: CredentialOwner,
    pub id: u64,
    pub full_path: String,
    pub name: String,
    pub web_url: String,
    /// The viewer's role.
    pub access: AccessLevel,
    /// The role creating and revoking needs here.
    pub manager_role: AccessLevel,
    /// `host[:port]` users log in to, when GitLab reports it (a project's
    /// `container_registry_image_prefix`).
    pub registry_host: Option<String>,
    /// The image prefix of a project (`host/group/project`).
    pub image_prefix: Option<String>,
    /// Tokens whose scopes reach the registry, newest first; empty when the viewer cannot
    /// list them (see `listed`).
    pub tokens: Vec<RegistryToken>,
    /// Tokens of other scopes that were left out.
    pub other_tokens: u64,
    /// GitLab let the viewer list the tokens.
    pub listed: bool,
    /// GitLab's version, when known (`17.11.0-ee`).
    pub gitlab_version: Option<String>,
    /// Server time (Unix seconds), for "expires in 3 days".
    pub now: i64,
}

impl CredentialsPage {
    pub fn can_manage(&self) -> bool {
        self.access >= self.manager_role
    }
}

/// A request for a new registry credential, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialRequest {
    pub kind: CredentialKind,
    pub name: String,
    /// `YYYY-MM-DD`; `None` only for deploy tokens (never expires).
    pub expires_on: Option<String>,
    /// Also `write_registry` (push).
    pub write: bool,
    /// An access token's role (Reporter or higher; Developer when it pushes).
    pub role: Option<AccessLevel>,
}

/// The raw fields of the creation form, as any transport delivers them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialForm {
    /// `deploy_token` or `access_token`.
    pub kind: String,
    pub name: String,
    /// `YYYY-MM-DD`, or empty for a deploy token that never expires.
    #[serde(default)]
    pub expires_on: String,
    #[serde(default)]
    pub write: bool,
    /// `reporter`, `developer` or `maintainer` (access tokens).
    #[serde(default)]
    pub role: String,
}

fn parse_date(raw: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw, &format).ok()
}

impl CredentialRequest {
    /// The one validating constructor: `today` is the server's (or browser's) date.
    pub fn new(form: &CredentialForm, today: Date) -> Result<Self, InputError> {
        let kind = CredentialKind::parse(form.kind.trim())?;
        let name = form.name.trim();
        if name.is_empty() {
            return Err(InputError("Give the token a name.".into()));
        }
        if name.chars().count() > MAX_TOKEN_NAME_LEN {
            return Err(InputError(format!(
                "The name is longer than {MAX_TOKEN_NAME_LEN} characters."
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(InputError(
                "The name cannot contain control characters.".into(),
            ));
        }
        let expires = form.expires_on.trim();
        let expires_on = if expires.is_empty() {
            if kind == CredentialKind::AccessToken {
                return Err(InputError(
                    "An access token needs an expiry date (GitLab allows at most a year).".into(),
                ));
            }
            None
        } else {
            let Some(date) = parse_date(expires) else {
                return Err(InputError(format!(
                    "{} is not a date (YYYY-MM-DD).",
                    quoted(expires)
                )));
            };
            if date <= today {
                return Err(InputError("The expiry date must be after today.".into()));
            }
            if kind == CredentialKind::AccessToken
                && date > today + Duration::days(MAX_ACCESS_TOKEN_DAYS)
            {
                return Err(InputError(format!(
                    "GitLab lets an access token live at most {MAX_ACCESS_TOKEN_DAYS} days; pick \
                        {} or earlier.",
                    today + Duration::days(MAX_ACCESS_TOKEN_DAYS)
                )));
            }
            Some(date.to_string())
        };
        let role = match kind {
            CredentialKind::DeployToken => None,
            CredentialKind::AccessToken => {
                let role = match form.role.trim() {
                    "" | "reporter" => AccessLevel::Reporter,
                    "developer" => AccessLevel::Developer,
                    "maintainer" => AccessLevel::Maintainer,
                    other => {
                        return Err(InputError(format!(
                            "{} is not a role a registry token can have (reporter, developer or \
                                maintainer).",
                            quoted(other)
                        )))
                    }
                };
                if form.write && role < AccessLevel::Developer {
                    return Err(InputError(
                        "Pushing needs a token with the Developer role or higher.".into(),
                    ));
                }
                Some(role)
            }
        };
        Ok(CredentialRequest {
            kind,
            name: name.to_string(),
            expires_on,
            write: form.write,
            role,
        })
    }

    /// The scopes GitLab is asked for.
    pub fn scopes(&self) -> Vec<&'static str> {
        if self.write {
            vec!["read_registry", "write_registry"]
        } else {
            vec!["read_registry"]
        }
    }

    /// Refused before GitLab is asked: the viewer's role cannot create this.
    pub fn refusal(&self, owner: CredentialOwner, access: AccessLevel) -> Option<String> {
        let needed = owner.manager_role();
        if access < needed {
            return Some(format!(
                "Creating registry tokens for a {} needs the {} role; you are {}.",
                owner.noun(),
                needed.label(),
                access.label()
            ));
        }
        match self.role {
            Some(role) if role > access => Some(format!(
                "A token cannot have a higher role than yours ({}).",
                access.label()
            )),
            _ => None,
        }
    }
}

/// The UTC date of a Unix time.
pub fn date_of(unix: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(unix)
        .map(OffsetDateTime::date)
        .unwrap_or(Date::MIN)
}

/// The form's default expiry: [`DEFAULT_EXPIRY_DAYS`] after `now` (Unix seconds).
pub fn default_expiry(now: i64) -> String {
    (date_of(now) + Duration::days(DEFAULT_EXPIRY_DAYS)).to_string()
}

/// A token's secret, as GitLab returns it once at creation. It goes to the browser in the
/// creation response and nowhere else: `Debug` never prints it, nothing stores it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenSecret(String);

impl TokenSecret {
    pub fn new(secret: String) -> Self {
        TokenSecret(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(…)")
    }
}

/// A credential GitLab just created: everything a page needs to build the formats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedCredential {
    pub token: RegistryToken,
    /// The username to log in with (the deploy token's, or the access token's bot user).
    pub username: String,
    pub secret: TokenSecret,
}

/// One check of an instance's registry, in words for a user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthCheck {
    pub label: String,
    pub status: CheckStatus,
    /// What was found.
    pub detail: String,
    /// What to do, or whom to ask, when it is not fine.
    pub advice: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CheckStatus {
    Ok,
    Warning,
    Failed,
    Unknown,
}

/// An instance's registry health, as the instance page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceHealth {
    pub instance: String,
    pub label: String,
    pub web_url: String,
    pub gitlab_version: Option<String>,
    /// `host[:port]` users push to, when known.
    pub registry_host: Option<String>,
    /// With the metadata database (`Some(true)`), without (`Some(false)`), unknown.
    pub metadata_database: Option<bool>,
    /// `RateLimit-Limit` per minute GitLab announced, and what remained.
    pub rate_limit: Option<RateLimit>,
    pub checks: Vec<HealthCheck>,
    /// Unix seconds of the check.
    pub checked_at: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateLimit {
    pub limit: u64,
    pub remaining: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 30);

    fn form(kind: &str, expires: &str, write: bool, role: &str) -> CredentialForm {
        CredentialForm {
            kind: kind.into(),
            name: " k8s pull ".into(),
            expires_on: expires.into(),
            write,
            role: role.into(),
        }
    }

    #[test]
    fn requests_are_checked_before_gitlab_is_asked() {
        let ok = CredentialRequest::new(&form("deploy_token", "", false, ""), TODAY).unwrap();
        assert_eq!(ok.name, "k8s pull");
        assert_eq!(ok.expires_on, None);
        assert_eq!(ok.scopes(), ["read_registry"]);
        let access = CredentialRequest::new(
            &form("access_token", "2027-01-31", true, "developer"),
            TODAY,
        )
        .unwrap();
        assert_eq!(access.scopes(), ["read_registry", "write_registry"]);
        assert_eq!(access.role, Some(AccessLevel::Developer));
        assert_eq!(access.expires_on.as_deref(), Some("2027-01-31"));
        for (bad, why) in [
            (form("access_token", "", false, ""), "needs an expiry"),
            (form("access_token", "2028-01-01", false, ""), "at most 365"),
            (form("deploy_token", "2026-11-30", false, ""), "after today"),
            (form("deploy_token", "30/12/2026", false, ""), "not a date"),
            (
                form("access_token", "2027-01-01", true, "reporter"),
                "Developer",
            ),
            (
                form("access_token", "2027-01-01", false, "owner"),
                "not a role",
            ),
            (form("password", "", false, ""), "not a kind"),
        ] {
            let error = CredentialRequest::new(&bad, TODAY).unwrap_err();
            assert!(error.0.contains(why), "{bad:?}: {error}");
        }
        let mut unnamed = form("deploy_token", "", false, "");
        unnamed.name = "  ".into();
        assert!(CredentialRequest::new(&unnamed, TODAY).is_err());
    }

    #[test]
    fn roles_gate_creation() {
        let deploy = CredentialRequest::new(&form("deploy_token", "", false, ""), TODAY).unwrap();
        assert!(deploy
            .refusal(CredentialOwner::Project, AccessLevel::Developer)
            .unwrap()
            .contains("Maintainer"));
        assert_eq!(
            deploy.refusal(CredentialOwner::Project, AccessLevel::Maintainer),
            None
        );
        assert!(deploy
            .refusal(CredentialOwner::Group, AccessLevel::Maintainer)
            .unwrap()
            .contains("Owner"));
        let high = CredentialRequest::new(
            &form("access_token", "2027-01-01", false, "maintainer"),
            TODAY,
        )
        .unwrap();
        assert_eq!(
            high.refusal(CredentialOwner::Project, AccessLevel::Maintainer),
            None
        );
    }

    #[test]
    fn token_states() {
        let now = 1_000_000_000;
        let token = |expires_at: Option<i64>, revoked| RegistryToken {
            id: 1,
            kind: CredentialKind::DeployToken,
            name: "t".into(),
            username: None,
            scopes: vec!["read_repository".into()],
            access_level: None,
            expires_at,
            created_at: None,
            last_used_at: None,
            revoked,
        };
        assert_eq!(token(None, false).state(now), TokenState::Active);
        assert_eq!(token(Some(now), false).state(now), TokenState::Expired);
        assert_eq!(
            token(Some(now + 3 * 86_400 + 5), false).state(now),
            TokenState::ExpiringSoon(3)
        );
        assert_eq!(
            token(Some(now + 30 * 86_400), false).state(now),
            TokenState::Active
        );
        assert_eq!(token(None, true).state(now), TokenState::Revoked);
        assert!(!token(None, false).can_use_registry());
        let mut api = token(None, false);
        api.scopes = vec!["api".into()];
        assert!(api.can_use_registry() && api.can_push());
    }

    #[test]
    fn secrets_never_print() {
        let secret = TokenSecret::new("glpat-very-secret".into());
        assert!(!format!("{secret:?}").contains("very-secret"));
        assert_eq!(
            serde_json::to_string(&secret).unwrap(),
            "\"glpat-very-secret\""
        );
    }
}
