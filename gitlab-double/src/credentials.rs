//! Registry credentials other than OAuth tokens: deploy tokens, project and group access tokens,
//! and the short-lived tokens `/jwt/auth` hands out for the container registry.
//!
//! What GitLab does, and the double with it:
//!
//! - A **deploy token** belongs to one project or one group (then it works for every project
//!   below the group). It has a login name (`gitlab+deploy-token-<id>` unless one was chosen), a
//!   secret shown only in the answer that created it (`gldt-…`), scopes, and an optional expiry
//!   (a timestamp). GitLab's `DELETE` destroys the token; `revoked` is only ever set by the UI's
//!   revoke button, so the double keeps the flag for seeded tokens. Two clocks, as in GitLab's
//!   model: the `expired` field compares the expiry with *today's midnight* (`expires_at <
//!   Date.today`), while authentication uses the `active` scope (`expires_at >= NOW()`), so a token
//!   that ran out earlier today already fails to authenticate but still reads `expired: false`.
//! - A **project or group access token** is a personal access token (`glpat-…`) of a bot user
//!   that GitLab creates with it (`project_<id>_bot_<32 hex>` or `group_<id>_bot_<32 hex>`, named
//!   like the token) and adds as a direct member of the project or group at the token's access
//!   level. Its expiry is a date: the token stops working at midnight UTC of that date. Since
//!   GitLab 17.9 revoking keeps the token (listed as inactive) and the bot with its membership.
//! - A **registry token** is what `/jwt/auth` answers: GitLab signs a JWT (RS256) listing the
//!   granted `access` and the registry checks its signature. The double's registry lives in the
//!   same process, so the double keeps the grant (who, which repositories, which actions, expiry)
//!   here and the registry looks the token up. The token still looks like GitLab's JWT (same
//!   claims: `iss`, `aud`, `sub`, `iat`, `nbf`, `exp`, `jti`, `auth_type`, `access`) so a client
//!   can read what was granted, but its signature is random: it verifies against no key. It
//!   lives five minutes (GitLab's `container_registry_token_expire_delay` default).
//!
//! Secrets are compared by value; `Debug` never prints them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use rand::Rng;
use sha2::{Digest, Sha256};
use time::{Date, Duration, OffsetDateTime, Time, UtcOffset};

use crate::dataset::{AccessTokenSpec, Dataset, DeployTokenSpec};
use crate::model::World;
pub(crate) use crate::token_rules::{
    valid_deploy_token_username, Holder, ACCESS_TOKEN_SCOPES, DEPLOY_TOKEN_SCOPES,
};

/// Roles an access token's bot can have (`Gitlab::Access.options_with_owner`; GitLab 17.7 and
/// later also accept Planner, 15, which the double does not model).
pub(crate) const ACCESS_TOKEN_LEVELS: &[u8] = &[10, 20, 30, 40, 50];

/// Longest access token lifetime in days (`MAX_PERSONAL_ACCESS_TOKEN_LIFETIME_IN_DAYS`; the
/// 400-day `buffered_token_expiration_limit` flag is off by default). Without `expires_at`
/// GitLab sets this many days from now, because token expiry is enforced by default.
pub(crate) const MAX_LIFETIME_DAYS: i64 = 365;

/// Lifetime of a registry token.
pub(crate) const REGISTRY_TOKEN_TTL: Duration = Duration::minutes(5);

/// A deploy token.
#[derive(Clone)]
pub(crate) struct DeployToken {
    pub id: u64,
    pub holder: Holder,
    pub name: String,
    /// The chosen login name; `None` = `gitlab+deploy-token-<id>`.
    pub username: Option<String>,
    pub secret: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked: bool,
}

impl fmt::Debug for DeployToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeployToken")
            .field("id", &self.id)
            .field("holder", &self.holder)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

fn midnight(now: OffsetDateTime) -> OffsetDateTime {
    now.to_offset(UtcOffset::UTC).replace_time(Time::MIDNIGHT)
}

impl DeployToken {
    /// The login name `docker login` must use.
    pub fn username(&self) -> String {
        self.username
            .clone()
            .unwrap_or_else(|| format!("gitlab+deploy-token-{}", self.id))
    }

    /// GitLab's `expired?`: the expiry lies before today's midnight (UTC).
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|t| t < midnight(now))
    }

    /// GitLab's `active` scope, which authentication and `?active=true` use.
    pub fn active(&self, now: OffsetDateTime) -> bool {
        !self.revoked && self.expires_at.is_none_or(|t| t >= now)
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// A project or group access token.
#[derive(Clone)]
pub(crate) struct AccessToken {
    pub id: u64,
    pub holder: Holder,
    /// The bot user.
    pub user_id: u64,
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<String>,
    /// The bot's role in the holder.
    pub access_level: u8,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<Date>,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked: bool,
    pub secret: String,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("id", &self.id)
            .field("holder", &self.holder)
            .field("user_id", &self.user_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl AccessToken {
    /// Expired from midnight UTC of the expiry date on (`expires_at <= Time.current`).
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at
            .is_some_and(|d| d <= now.to_offset(UtcOffset::UTC).date())
    }

    pub fn active(&self, now: OffsetDateTime) -> bool {
        !self.revoked && !self.expired(now)
    }
}

/// One repository entry of a registry token: GitLab's `access` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistryAccess {
    /// Repository path (lowercase), e.g. `acme/web/worker`.
    pub name: String,
    /// Granted actions: `pull`, `push`, `delete`, `*`.
    pub actions: Vec<String>,
}

/// What a registry token allows, until when.
#[derive(Debug, Clone)]
pub(crate) struct RegistryGrant {
    /// The JWT's `sub`: the user's or bot's username; `None` for deploy tokens and anonymous.
    pub subject: Option<String>,
    /// How the caller authenticated: `oauth`, `personal_access_token`, `deploy_token`, `none`.
    pub auth_type: &'static str,
    pub access: Vec<RegistryAccess>,
    pub expires_at: OffsetDateTime,
}

impl RegistryGrant {
    /// The token for this grant: shaped like GitLab's JWT (header, claims, signature; base64url)
    /// so a client may read its claims, but the signature is random bytes that verify against
    /// nothing. The registry accepts it because the double recorded it.
    fn encode(&self, now: OffsetDateTime) -> String {
        use base64::Engine;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let header = serde_json::json!({ "typ": "JWT", "alg": "RS256", "kid": "gitlab-double" });
        let access: Vec<serde_json::Value> = self
            .access
            .iter()
            .map(|a| {
                serde_json::json!({ "type": "repository", "name": a.name, "actions": a.actions })
            })
            .collect();
        let jti: [u8; 16] = rand::thread_rng().gen();
        let claims = serde_json::json!({
            "jti": hex::encode(jti),
            "aud": "container_registry",
            "sub": self.subject.clone().unwrap_or_default(),
            "iss": "gitlab-issuer",
            "iat": now.unix_timestamp(),
            "nbf": now.unix_timestamp() - 5,
            "exp": self.expires_at.unix_timestamp(),
            "auth_type": self.auth_type,
            "access": access,
        });
        let signature: [u8; 32] = rand::thread_rng().gen();
        format!(
            "{}.{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes()),
            b64(&signature)
        )
    }
}

/// All deploy tokens, access tokens and registry tokens.
pub(crate) struct CredentialStore {
    deploy_tokens: BTreeMap<u64, DeployToken>,
    access_tokens: BTreeMap<u64, AccessToken>,
    registry_tokens: HashMap<String, RegistryGrant>,
    next_deploy_token_id: u64,
    next_access_token_id: u64,
}

impl fmt::Debug for CredentialStore {
    /// Counts only: secrets must never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialStore")
            .field("deploy_tokens", &self.deploy_tokens.len())
            .field("access_tokens", &self.access_tokens.len())
            .field("registry_tokens", &self.registry_tokens.len())
            .finish()
    }
}

/// `prefix` + `len` random characters of GitLab's friendly-token alphabet (URL-safe base64).
fn random_secret(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::thread_rng();
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    for _ in 0..len {
        out.push(char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]));
    }
    out
}

/// A new deploy token's secret.
pub(crate) fn deploy_token_secret() -> String {
    random_secret("gldt-", 20)
}

/// A new access token's secret.
pub(crate) fn access_token_secret() -> String {
    random_secret("glpat-", 20)
}

/// A bot username: `<kind>_<id>_bot_<32 hex>`. Seeds derive the hex from the token, so the demo
/// is the same on every start; tokens created at run time get random hex, as GitLab's
/// `SecureRandom.hex(16)`.
pub(crate) fn bot_username(holder: Holder, seed: Option<u64>) -> String {
    let hex = match seed {
        Some(token_id) => {
            let digest = Sha256::digest(format!("{}-{}-{token_id}", holder.kind(), holder.id()));
            hex::encode(&digest[..16])
        }
        None => {
            let bytes: [u8; 16] = rand::thread_rng().gen();
            hex::encode(bytes)
        }
    };
    format!("{}_{}_bot_{hex}", holder.kind(), holder.id())
}

fn seconds(n: i64) -> Duration {
    Duration::seconds(n.clamp(-(i64::MAX / 4), i64::MAX / 4))
}

impl CredentialStore {
    /// The tokens of a dataset, resolved against `now`; access tokens' bot users and their
    /// memberships are added to `world`.
    pub fn seed(data: &Dataset, world: &mut World, now: OffsetDateTime) -> CredentialStore {
        let mut store = CredentialStore {
            deploy_tokens: BTreeMap::new(),
            access_tokens: BTreeMap::new(),
            registry_tokens: HashMap::new(),
            next_deploy_token_id: 1,
            next_access_token_id: 1,
        };
        let holders = data
            .projects
            .iter()
            .map(|p| (Holder::Project(p.id), &p.deploy_tokens, &p.access_tokens))
            .chain(
                data.groups
                    .iter()
                    .map(|g| (Holder::Group(g.id), &g.deploy_tokens, &g.access_tokens)),
            );
        for (holder, deploy, access) in holders {
            for spec in deploy {
                store.seed_deploy_token(holder, spec, now);
            }
            for spec in access {
                store.seed_access_token(holder, spec, world, now);
            }
        }
        store
    }

    fn seed_deploy_token(&mut self, holder: Holder, spec: &DeployTokenSpec, now: OffsetDateTime) {
        self.next_deploy_token_id = self.next_deploy_token_id.max(spec.id + 1);
        self.deploy_tokens.insert(
            spec.id,
            DeployToken {
                id: spec.id,
                holder,
                name: spec.name.clone(),
                username: spec.username.clone(),
                secret: deploy_token_secret(),
                scopes: spec.scopes.clone(),
                expires_at: spec.expires_in_seconds.map(|s| now + seconds(s)),
                revoked: spec.revoked,
            },
        );
    }

    fn seed_access_token(
        &mut self,
        holder: Holder,
        spec: &AccessTokenSpec,
        world: &mut World,
        now: OffsetDateTime,
    ) {
        let username = bot_username(holder, Some(spec.id));
        let Some(user_id) = world.add_bot(username, spec.name.clone(), holder, spec.access_level)
        else {
            return;
        };
        self.next_access_token_id = self.next_access_token_id.max(spec.id + 1);
        let today = now.to_offset(UtcOffset::UTC).date();
        self.access_tokens.insert(
            spec.id,
            AccessToken {
                id: spec.id,
                holder,
                user_id,
                name: spec.name.clone(),
                description: spec.description.clone(),
                scopes: spec.scopes.clone(),
                access_level: spec.access_level,
                created_at: now - seconds(i64::try_from(spec.created_seconds_ago).unwrap_or(0)),
                expires_at: spec
                    .expires_in_days
                    .and_then(|d| today.checked_add(Duration::days(d))),
                last_used_at: spec
                    .last_used_seconds_ago
                    .map(|s| now - seconds(i64::try_from(s).unwrap_or(0))),
                revoked: spec.revoked,
                secret: access_token_secret(),
            },
        );
    }

    /// Deploy tokens of a project or group, by id.
    pub fn deploy_tokens(&self, holder: Holder) -> Vec<&DeployToken> {
        self.deploy_tokens
            .values()
            .filter(|t| t.holder == holder)
            .collect()
    }

    pub fn deploy_token(&self, holder: Holder, id: u64) -> Option<&DeployToken> {
        self.deploy_tokens.get(&id).filter(|t| t.holder == holder)
    }

    /// Stores a new deploy token under the next id; the token's `id` is set here.
    pub fn insert_deploy_token(&mut self, mut token: DeployToken) -> DeployToken {
        token.id = self.next_deploy_token_id;
        self.next_deploy_token_id += 1;
        self.deploy_tokens.insert(token.id, token.clone());
        token
    }

    /// Destroys a deploy token; `false` if the holder has no such token.
    pub fn delete_deploy_token(&mut self, holder: Holder, id: u64) -> bool {
        if self.deploy_token(holder, id).is_none() {
            return false;
        }
        self.deploy_tokens.remove(&id).is_some()
    }

    /// The deploy token with this secret, if any.
    pub fn deploy_token_by_secret(&self, secret: &str) -> Option<&DeployToken> {
        self.deploy_tokens.values().find(|t| t.secret == secret)
    }

    /// Access tokens of a project or group, by id.
    pub fn access_tokens(&self, holder: Holder) -> Vec<&AccessToken> {
        self.access_tokens
            .values()
            .filter(|t| t.holder == holder)
            .collect()
    }

    pub fn access_token(&self, holder: Holder, id: u64) -> Option<&AccessToken> {
        self.access_tokens.get(&id).filter(|t| t.holder == holder)
    }

    /// Stores a new access token under the next id; the token's `id` is set here.
    pub fn insert_access_token(&mut self, mut token: AccessToken) -> AccessToken {
        token.id = self.next_access_token_id;
        self.next_access_token_id += 1;
        self.access_tokens.insert(token.id, token.clone());
        token
    }

    /// Marks an access token revoked; `false` if the holder has no such token.
    pub fn revoke_access_token(&mut self, holder: Holder, id: u64) -> bool {
        match self
            .access_tokens
            .get_mut(&id)
            .filter(|t| t.holder == holder)
        {
            Some(token) => {
                token.revoked = true;
                true
            }
            None => false,
        }
    }

    /// The access token with this secret, if any.
    pub fn access_token_by_secret_mut(&mut self, secret: &str) -> Option<&mut AccessToken> {
        self.access_tokens.values_mut().find(|t| t.secret == secret)
    }

    /// Issues a registry token for `grant`; expired ones are dropped on the way.
    pub fn issue_registry_token(&mut self, grant: RegistryGrant, now: OffsetDateTime) -> String {
        self.registry_tokens.retain(|_, g| g.expires_at > now);
        let token = grant.encode(now);
        self.registry_tokens.insert(token.clone(), grant);
        token
    }

    /// The grant of a registry token that has not expired.
    pub fn registry_grant(&self, token: &str, now: OffsetDateTime) -> Option<&RegistryGrant> {
        self.registry_tokens
            .get(token)
            .filter(|g| g.expires_at > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn deploy(expires_at: Option<OffsetDateTime>) -> DeployToken {
        DeployToken {
            id: 7,
            holder: Holder::Project(1),
            name: "t".into(),
            username: None,
            secret: deploy_token_secret(),
            scopes: vec!["read_registry".into()],
            expires_at,
            revoked: false,
        }
    }

    #[test]
    fn deploy_tokens_have_two_clocks_like_gitlab() {
        let now = datetime!(2025-03-10 15:00 UTC);
        let earlier_today = deploy(Some(datetime!(2025-03-10 09:00 UTC)));
        assert!(!earlier_today.active(now), "authentication uses NOW()");
        assert!(!earlier_today.expired(now), "expired? compares with today");
        let yesterday = deploy(Some(datetime!(2025-03-09 23:00 UTC)));
        assert!(yesterday.expired(now));
        let never = deploy(None);
        assert!(never.active(now) && !never.expired(now));
        assert_eq!(never.username(), "gitlab+deploy-token-7");
        assert!(never.secret.starts_with("gldt-") && never.secret.len() == 25);
        assert!(format!("{never:?}").find(&never.secret).is_none());
    }

    #[test]
    fn access_tokens_expire_at_midnight_of_their_date() {
        let now = datetime!(2025-03-10 00:00:01 UTC);
        let mut token = AccessToken {
            id: 1,
            holder: Holder::Group(10),
            user_id: 9,
            name: "t".into(),
            description: None,
            scopes: vec!["read_registry".into()],
            access_level: 20,
            created_at: now,
            expires_at: Some(time::macros::date!(2025 - 03 - 10)),
            last_used_at: None,
            revoked: false,
            secret: access_token_secret(),
        };
        assert!(token.expired(now) && !token.active(now));
        token.expires_at = Some(time::macros::date!(2025 - 03 - 11));
        assert!(token.active(now));
        token.revoked = true;
        assert!(!token.active(now));
    }

    #[test]
    fn bot_usernames_follow_gitlab() {
        let seeded = bot_username(Holder::Project(1001), Some(1));
        assert_eq!(seeded, bot_username(Holder::Project(1001), Some(1)));
        assert!(seeded.starts_with("project_1001_bot_"));
        assert_eq!(seeded.len(), "project_1001_bot_".len() + 32);
        assert_ne!(
            bot_username(Holder::Group(10), None),
            bot_username(Holder::Group(10), None)
        );
        assert!(valid_deploy_token_username("gitlab+deploy-token-1"));
        assert!(!valid_deploy_token_username("no spaces"));
    }

    #[test]
    fn registry_tokens_expire() {
        let now = OffsetDateTime::now_utc();
        let mut store = CredentialStore::seed(
            &Dataset {
                users: Vec::new(),
                groups: Vec::new(),
                projects: Vec::new(),
            },
            &mut World::from_dataset(
                &Dataset {
                    users: Vec::new(),
                    groups: Vec::new(),
                    projects: Vec::new(),
                },
                now,
            ),
            now,
        );
        let token = store.issue_registry_token(
            RegistryGrant {
                subject: None,
                auth_type: "none",
                access: Vec::new(),
                expires_at: now + REGISTRY_TOKEN_TTL,
            },
            now,
        );
        assert!(store.registry_grant(&token, now).is_some());
        assert_eq!(token.split('.').count(), 3, "shaped like a JWT");
        assert!(store
            .registry_grant(&token, now + REGISTRY_TOKEN_TTL)
            .is_none());
    }
}
