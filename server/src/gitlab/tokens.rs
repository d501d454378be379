//! Registry credentials and instance facts through GitLab's REST API: deploy tokens and
//! project or group access tokens (list, create, revoke), a group member's role, GitLab's
//! version, and the registry's `/v2/` challenge.
//!
//! A creation's answer carries the token's value, once. It is parsed into a
//! [`TokenSecret`] (whose `Debug` prints nothing) and no error built from that answer quotes
//! it: a body that does not parse becomes a fixed message, never serde's (which can echo a
//! value).

use super::client::GitLabClient;
use super::GitLabError;
use domain::credentials::{CredentialOwner, CredentialRequest, TokenSecret};
use reqwest::{header, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use url::Url;

/// `GET|POST /{projects|groups}/:id/deploy_tokens`.
#[derive(Debug, Clone, Deserialize)]
pub struct DeployToken {
    pub id: u64,
    pub name: String,
    pub username: String,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub revoked: bool,
    #[serde(default)]
    pub expired: bool,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Only in the creation's answer.
    #[serde(default)]
    pub token: Option<TokenSecret>,
}

/// `GET|POST /{projects|groups}/:id/access_tokens`.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessToken {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub user_id: Option<u64>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub revoked: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub last_used_at: Option<String>,
    #[serde(default)]
    pub access_level: Option<u32>,
    /// Only in the creation's answer.
    #[serde(default)]
    pub token: Option<TokenSecret>,
}

fn yes() -> bool {
    true
}

/// `GET /api/v4/metadata` (GitLab 15.2+) or `/api/v4/version`.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub version: String,
    #[serde(default)]
    pub revision: Option<String>,
}

/// `GET /groups/:id/members/all/:user_id`.
#[derive(Debug, Clone, Deserialize)]
struct Member {
    access_level: u32,
}

/// `RateLimit-Limit` and `RateLimit-Remaining` of an answer, when GitLab sent them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnouncedLimit {
    pub limit: u64,
    pub remaining: Option<u64>,
}

/// What a registry's `/v2/` answered without credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryProbe {
    /// `401` with a `Bearer` challenge: its realm and service.
    Challenge {
        realm: String,
        service: Option<String>,
    },
    /// `200` without credentials (an open registry) or another status.
    Status(u16),
    /// No answer: refused, timed out, TLS failed.
    Unreachable(String),
}

/// Parses `Bearer realm="…",service="…",scope="…"` (RFC 7235 auth-params).
pub fn bearer_params(header: &str) -> Option<(String, Option<String>)> {
    let rest = header.trim().strip_prefix("Bearer")?.trim_start();
    let mut realm = None;
    let mut service = None;
    let mut rest = rest;
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        match key.as_str() {
            "realm" => realm = Some(value.to_string()),
            "service" => service = Some(value.to_string()),
            _ => {}
        }
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    Some((realm?, service))
}

/// Parses a creation's answer without ever quoting it in an error.
fn parse_created<T: DeserializeOwned>(body: &str, what: &str) -> Result<T, GitLabError> {
    serde_json::from_str(body).map_err(|_| {
        GitLabError::Malformed(format!(
            "GitLab created the {what} but its answer could not be read; revoke it in GitLab and \
                try again"
        ))
    })
}

impl GitLabClient {
    /// A project's or group's deploy tokens (first 100).
    pub async fn deploy_tokens(
        &self,
        token: &str,
        owner: CredentialOwner,
        id: u64,
    ) -> Result<Vec<DeployToken>, GitLabError> {
        let path = format!(
            "/api/v4/{}/{id}/deploy_tokens?per_page=100",
            owner.collection()
        );
        Ok(self.get_json("deploy_tokens", token, &path).await?.0)
    }

    /// A project's or group's access tokens (first 100).
    pub async fn access_tokens(
        &self,
        token: &str,
        owner: CredentialOwner,
        id: u64,
    ) -> Result<Vec<AccessToken>, GitLabError> {
        let path = format!(
            "/api/v4/{}/{id}/access_tokens?per_page=100",
            owner.collection()
        );
        Ok(self.get_json("access_tokens", token, &path).await?.0)
    }

    /// `POST …/deploy_tokens`. Sent once.
    pub async fn create_deploy_token(
        &self,
        token: &str,
        owner: CredentialOwner,
        id: u64,
        request: &CredentialRequest,
    ) -> Result<DeployToken, GitLabError> {
        let path = format!("/api/v4/{}/{id}/deploy_tokens", owner.collection());
        let mut mutation = self.send_mutation("create_deploy_token", Method::POST, &path);
        let mut body = json!({ "name": request.name, "scopes": request.scopes() });
        if let Some(date) = &request.expires_on {
            // Deploy tokens expire at a time; the end of the chosen day in UTC.
            body["expires_at"] = json!(format!("{date}T23:59:59Z"));
        }
        mutation.body = Some(body);
        let answer = mutation.run(token).await?;
        parse_created(&answer, "deploy token")
    }

    /// `POST …/access_tokens`. Sent once.
    pub async fn create_access_token(
        &self,
        token: &str,
        owner: CredentialOwner,
        id: u64,
        request: &CredentialRequest,
    ) -> Result<AccessToken, GitLabError> {
        let path = format!("/api/v4/{}/{id}/access_tokens", owner.collection());
        let mut mutation = self.send_mutation("create_access_token", Method::POST, &path);
        mutation.body = Some(json!({
            "name": request.name,
            "scopes": request.scopes(),
            "access_level": request.role.map(|r| r.gitlab_level()).unwrap_or(20),
            "expires_at": request.expires_on,
        }));
        let answer = mutation.run(token).await?;
        parse_created(&answer, "access token")
    }

    /// `DELETE …/deploy_tokens/:id` or `…/access_tokens/:id`. Sent once.
    pub async fn revoke_token(
        &self,
        token: &str,
        owner: CredentialOwner,
        id: u64,
        collection: &str,
        token_id: u64,
    ) -> Result<(), GitLabError> {
        let path = format!(
            "/api/v4/{}/{id}/{collection}/{token_id}",
            owner.collection()
        );
        self.send_mutation("revoke_token", Method::DELETE, &path)
            .run(token)
            .await
            .map(drop)
    }

    /// `GET /users/:id`'s username (an access token's bot user).
    pub async fn username(&self, token: &str, user_id: u64) -> Result<String, GitLabError> {
        #[derive(Deserialize)]
        struct User {
            username: String,
        }
        let path = format!("/api/v4/users/{user_id}");
        let (user, _) = self.get_json::<User>("user_by_id", token, &path).await?;
        Ok(user.username)
    }

    /// A member's effective role in a group, inherited included; `0` when not a member.
    pub async fn group_access(
        &self,
        token: &str,
        group_id: u64,
        user_id: u64,
    ) -> Result<u32, GitLabError> {
        let path = format!("/api/v4/groups/{group_id}/members/all/{user_id}");
        match self.get_json::<Member>("group_member", token, &path).await {
            Ok((member, _)) => Ok(member.access_level),
            Err(GitLabError::NotFound) => Ok(0),
            Err(error) => Err(error),
        }
    }

    /// GitLab's version, and the rate limit its answer announced (`/metadata`, or the older
    /// `/version`).
    pub async fn metadata(
        &self,
        token: &str,
    ) -> Result<(Metadata, Option<AnnouncedLimit>), GitLabError> {
        let (metadata, headers) = match self
            .get_json::<Metadata>("metadata", token, "/api/v4/metadata")
            .await
        {
            Err(GitLabError::NotFound) => {
                self.get_json::<Metadata>("metadata", token, "/api/v4/version")
                    .await?
            }
            other => other?,
        };
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let limit = number("ratelimit-limit").map(|limit| AnnouncedLimit {
            limit,
            remaining: number("ratelimit-remaining"),
        });
        Ok((metadata, limit))
    }

    /// `GET <registry>/v2/` without credentials. `registry` is the configured registry URL or
    /// `https://` + the host GitLab reports; redirects are not followed.
    pub async fn probe_registry(&self, registry: &Url, timeout: Duration) -> RegistryProbe {
        let Ok(url) = registry.join("/v2/") else {
            return RegistryProbe::Unreachable("not a URL".into());
        };
        match self.http().get(url).timeout(timeout).send().await {
            Ok(response) => {
                let status = response.status();
                let challenge = response
                    .headers()
                    .get(header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(bearer_params);
                match (status, challenge) {
                    (StatusCode::UNAUTHORIZED, Some((realm, service))) => {
                        RegistryProbe::Challenge { realm, service }
                    }
                    (status, _) => RegistryProbe::Status(status.as_u16()),
                }
            }
            Err(error) if error.is_timeout() => RegistryProbe::Unreachable("timed out".into()),
            Err(error) if error.is_connect() => {
                RegistryProbe::Unreachable("the connection was refused or failed".into())
            }
            Err(_) => RegistryProbe::Unreachable("no HTTP answer".into()),
        }
    }

    /// The user's most recently active projects (at most 20) with their registry image
    /// prefix, where GitLab reports one: `(project id, prefix)`.
    pub async fn image_prefixes(
        &self,
        token: &str,
        group_id: Option<u64>,
    ) -> Result<Vec<(u64, Option<String>)>, GitLabError> {
        #[derive(Deserialize)]
        struct Listed {
            id: u64,
            #[serde(default)]
            container_registry_image_prefix: Option<String>,
        }
        let path = match group_id {
            Some(group) => format!(
                "/api/v4/groups/{group}/projects?include_subgroups=true&per_page=20\
                 &order_by=last_activity_at"
            ),
            None => {
                "/api/v4/projects?membership=true&per_page=20&order_by=last_activity_at".to_string()
            }
        };
        let (projects, _) = self
            .get_json::<Vec<Listed>>("image_prefixes", token, &path)
            .await?;
        Ok(projects
            .into_iter()
            .map(|p| (p.id, p.container_registry_image_prefix))
            .collect())
    }

    /// The id of a project's first image repository, if it has any.
    pub async fn first_repository(
        &self,
        token: &str,
        project_id: u64,
    ) -> Result<Option<u64>, GitLabError> {
        #[derive(Deserialize)]
        struct Listed {
            id: u64,
        }
        let path = format!("/api/v4/projects/{project_id}/registry/repositories?per_page=1");
        let (repositories, _) = self
            .get_json::<Vec<Listed>>("first_repository", token, &path)
            .await?;
        Ok(repositories.first().map(|r| r.id))
    }

    /// `GET /registry/repositories/:id?size=true`'s `size`: `Some` only with the metadata
    /// database.
    pub async fn repository_size(
        &self,
        token: &str,
        repository_id: u64,
    ) -> Result<Option<u64>, GitLabError> {
        #[derive(Deserialize)]
        struct Sized {
            #[serde(default)]
            size: Option<u64>,
        }
        let path = format!("/api/v4/registry/repositories/{repository_id}?size=true");
        Ok(self
            .get_json::<Sized>("repository_size", token, &path)
            .await?
            .0
            .size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_parse() {
        assert_eq!(
            bearer_params(
                r#"Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry""#
            ),
            Some((
                "https://gitlab.example.com/jwt/auth".to_string(),
                Some("container_registry".to_string())
            ))
        );
        assert_eq!(
            bearer_params(
                r#"Bearer service="x", realm="https://a/jwt/auth", scope="repository:a:pull""#
            ),
            Some(("https://a/jwt/auth".to_string(), Some("x".to_string())))
        );
        assert_eq!(bearer_params("Basic realm=\"x\""), None);
        assert_eq!(bearer_params("Bearer service=\"x\""), None);
    }

    #[test]
    fn a_creation_answer_that_does_not_parse_is_never_quoted() {
        let body = r#"{"id":"not-a-number","token":"glpat-secret-value"}"#;
        let error = parse_created::<DeployToken>(body, "deploy token").unwrap_err();
        assert!(!error.to_string().contains("secret-value"), "{error}");
        let parsed: DeployToken = parse_created(
            concat!(
                r#"{"id":1,"name":"n","username":"u","scopes":["read_registry"],"#,
                r#""token":"glpat-secret-value"}"#,
            ),
            "deploy token",
        )
        .unwrap();
        assert!(!format!("{parsed:?}").contains("secret-value"));
    }
}
