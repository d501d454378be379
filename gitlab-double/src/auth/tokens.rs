//! Authorization codes and access/refresh token pairs (Doorkeeper semantics, in memory).
//!
//! Tokens are never logged; `Debug` of the records redacts them.

use std::collections::HashMap;
use std::fmt;

use rand::RngCore;
use time::{Duration, OffsetDateTime};

/// The scopes GitLab knows.
pub(crate) const KNOWN_SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_user",
    "read_registry",
    "write_registry",
    "openid",
    "profile",
    "email",
];

/// Default scope when an authorization request names none (GitLab's `DEFAULT_SCOPES`).
pub(crate) const DEFAULT_SCOPE: &str = "api";

/// Authorization codes live ten minutes (Doorkeeper default).
pub(crate) const CODE_TTL: Duration = Duration::minutes(10);

/// 64 hexadecimal characters of OS randomness (Doorkeeper's `hex` generator).
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// An issued authorization code.
#[derive(Clone)]
pub(crate) struct CodeRecord {
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: u64,
    pub scopes: Vec<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub expires_at: OffsetDateTime,
    /// Set once exchanged; a second exchange is refused and revokes what the first produced.
    pub used: bool,
}

impl fmt::Debug for CodeRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeRecord")
            .field("client_id", &self.client_id)
            .field("user_id", &self.user_id)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

/// An access/refresh token pair.
#[derive(Clone)]
pub(crate) struct TokenRecord {
    pub access_token: String,
    pub refresh_token: String,
    pub user_id: u64,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub created_at: OffsetDateTime,
    pub expires_in: u64,
    pub expires_at: OffsetDateTime,
    pub revoked: bool,
    /// The authorization code this pair (or its ancestor) came from.
    pub from_code: Option<String>,
}

impl fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRecord")
            .field("user_id", &self.user_id)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

impl TokenRecord {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Seconds left (never negative).
    pub fn expires_in_now(&self, now: OffsetDateTime) -> i64 {
        (self.expires_at - now).whole_seconds().max(0)
    }
}

/// What a presented access token turned out to be.
#[derive(Debug, Clone)]
pub(crate) enum TokenLookup {
    Valid(TokenRecord),
    Expired,
    Revoked,
    Unknown,
}

/// All codes and tokens.
#[derive(Default)]
pub(crate) struct TokenStore {
    codes: HashMap<String, CodeRecord>,
    by_access: HashMap<String, TokenRecord>,
    /// refresh token → access token of the same pair
    by_refresh: HashMap<String, String>,
}

impl fmt::Debug for TokenStore {
    /// Counts only: tokens must never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore")
            .field("codes", &self.codes.len())
            .field("tokens", &self.by_access.len())
            .finish()
    }
}

impl TokenStore {
    pub fn insert_code(&mut self, record: CodeRecord) -> String {
        let code = random_token();
        self.codes.insert(code.clone(), record);
        code
    }

    /// Looks a code up for exchange without consuming it. `Err(true)` when it was exchanged
    /// before (the tokens it produced are then revoked), `Err(false)` when unknown or expired.
    pub fn check_code(&mut self, code: &str, now: OffsetDateTime) -> Result<CodeRecord, bool> {
        let Some(record) = self.codes.get(code) else {
            return Err(false);
        };
        if record.used {
            // RFC 6749 §4.1.2: a replayed code revokes the tokens it produced.
            for token in self.by_access.values_mut() {
                if token.from_code.as_deref() == Some(code) {
                    token.revoked = true;
                }
            }
            return Err(true);
        }
        if record.expires_at <= now {
            return Err(false);
        }
        Ok(record.clone())
    }

    /// Marks a code exchanged.
    pub fn consume_code(&mut self, code: &str) {
        if let Some(record) = self.codes.get_mut(code) {
            record.used = true;
        }
    }

    pub fn issue(
        &mut self,
        user_id: u64,
        client_id: &str,
        scopes: Vec<String>,
        ttl: std::time::Duration,
        from_code: Option<String>,
        now: OffsetDateTime,
    ) -> TokenRecord {
        let ttl_secs = ttl.as_secs();
        let record = TokenRecord {
            access_token: random_token(),
            refresh_token: random_token(),
            user_id,
            client_id: client_id.to_owned(),
            scopes,
            created_at: now,
            expires_in: ttl_secs,
            expires_at: now + Duration::seconds(i64::try_from(ttl_secs).unwrap_or(i64::MAX / 4)),
            revoked: false,
            from_code,
        };
        self.by_refresh
            .insert(record.refresh_token.clone(), record.access_token.clone());
        self.by_access
            .insert(record.access_token.clone(), record.clone());
        record
    }

    pub fn lookup(&self, access_token: &str, now: OffsetDateTime) -> TokenLookup {
        match self.by_access.get(access_token) {
            None => TokenLookup::Unknown,
            Some(t) if t.revoked => TokenLookup::Revoked,
            Some(t) if t.expires_at <= now => TokenLookup::Expired,
            Some(t) => TokenLookup::Valid(t.clone()),
        }
    }

    /// The pair of a refresh token, if it is still usable (refresh tokens do not expire).
    pub fn by_refresh(&self, refresh_token: &str) -> Option<&TokenRecord> {
        let access = self.by_refresh.get(refresh_token)?;
        self.by_access.get(access).filter(|t| !t.revoked)
    }

    /// Revokes the pair containing `token` (access or refresh); returns whether one was found.
    pub fn revoke(&mut self, token: &str) -> bool {
        let access = if self.by_access.contains_key(token) {
            Some(token.to_owned())
        } else {
            self.by_refresh.get(token).cloned()
        };
        match access.and_then(|a| self.by_access.get_mut(&a)) {
            Some(record) => {
                record.revoked = true;
                true
            }
            None => false,
        }
    }

    /// Which client owns the pair containing `token`.
    pub fn client_of(&self, token: &str) -> Option<String> {
        self.by_access
            .get(token)
            .or_else(|| {
                self.by_refresh
                    .get(token)
                    .and_then(|a| self.by_access.get(a))
            })
            .map(|t| t.client_id.clone())
    }

    /// Makes every issued access token expired (refresh tokens keep working).
    /// Every pair ever issued (revoked ones too): (user id, access token, refresh token).
    pub fn all_pairs(&self) -> Vec<(u64, String, String)> {
        self.by_access
            .values()
            .map(|r| (r.user_id, r.access_token.clone(), r.refresh_token.clone()))
            .collect()
    }

    pub fn expire_all(&mut self, now: OffsetDateTime) {
        for t in self.by_access.values_mut() {
            if t.expires_at > now {
                t.expires_at = now - Duration::seconds(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_64_hex() {
        let t = random_token();
        assert_eq!(t.len(), 64);
        assert!(t.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(t, random_token());
    }

    #[test]
    fn replayed_code_revokes_its_tokens() {
        let now = OffsetDateTime::now_utc();
        let mut s = TokenStore::default();
        let code = s.insert_code(CodeRecord {
            client_id: "c".into(),
            redirect_uri: "http://x".into(),
            user_id: 1,
            scopes: vec!["api".into()],
            code_challenge: None,
            code_challenge_method: None,
            expires_at: now + CODE_TTL,
            used: false,
        });
        let rec = s.check_code(&code, now).unwrap();
        s.consume_code(&code);
        let t = s.issue(
            1,
            "c",
            rec.scopes,
            std::time::Duration::from_secs(60),
            Some(code.clone()),
            now,
        );
        assert!(matches!(
            s.lookup(&t.access_token, now),
            TokenLookup::Valid(_)
        ));
        assert_eq!(s.check_code(&code, now).err(), Some(true));
        assert!(matches!(
            s.lookup(&t.access_token, now),
            TokenLookup::Revoked
        ));
    }
}
