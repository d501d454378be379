use super::error::GitLabError;
use super::graphql;
use super::wire;
use crate::metrics::Metrics;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use reqwest::{header, Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;
use url::Url;

/// How many times a read is tried in all (first try + retries).
const MAX_ATTEMPTS: u32 = 3;
/// The longest Retry-After we wait out inside one user request; longer waits go to the user.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// A page of a REST list with GitLab's pagination headers read.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// `x-total`, absent above 10,000 records.
    pub total: Option<u64>,
    /// `x-next-page`, absent on the last page.
    pub next_page: Option<u32>,
}

/// Talks to one GitLab instance. The host is fixed at construction (configuration), every
/// path segment taken from user input is percent-encoded, and a URL whose path would change
/// when resolved (a dot segment) is refused before it is sent.
#[derive(Clone)]
pub struct GitLabClient {
    http: reqwest::Client,
    base: Url,
    metrics: Arc<Metrics>,
}

impl GitLabClient {
    /// A client for `base` (GitLab's root URL). Redirects are not followed: an API that
    /// redirects is a misconfiguration, and following could leak the token elsewhere.
    pub fn new(base: Url, timeout: Duration, metrics: Arc<Metrics>) -> Result<Self, GitLabError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("registry-dash/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GitLabError::Unavailable(format!("HTTP client: {e}")))?;
        Ok(GitLabClient {
            http,
            base,
            metrics,
        })
    }

    /// The instance's base URL.
    /// The HTTP client (no redirects, the configured timeout).
    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, path_and_query: &str) -> Result<Url, GitLabError> {
        let base = self.base.as_str().trim_end_matches('/');
        let url = Url::parse(&format!("{base}{path_and_query}"))
            .map_err(|e| GitLabError::Malformed(format!("bad URL: {e}")))?;
        // `%2E%2E` counts as `..` for URL parsers: a path that resolves to anything but
        // itself would reach another endpoint. Inputs are validated long before this; this
        // is the last line.
        let base_path = self.base.path().trim_end_matches('/');
        let path = path_and_query.split('?').next().unwrap_or_default();
        if url.path() != format!("{base_path}{path}") {
            return Err(GitLabError::Malformed(
                "refused a GitLab URL with a dot segment".into(),
            ));
        }
        Ok(url)
    }

    /// A probe for readiness: GitLab's API answers (401 without a token is an answer).
    pub async fn reachable(&self) -> Result<(), GitLabError> {
        let url = self.url("/api/v4/user")?;
        let started = Instant::now();
        let outcome = self.http.get(url).send().await;
        let status = outcome.as_ref().map(|r| r.status());
        self.metrics
            .gitlab("probe", outcome_label(&status), started.elapsed());
        match outcome {
            Ok(response) if !response.status().is_server_error() => Ok(()),
            Ok(response) => Err(GitLabError::Unavailable(format!(
                "HTTP {}",
                response.status().as_u16()
            ))),
            Err(e) => Err(transport_error(&e)),
        }
    }

    /// Encodes a project or group id/path for a REST path segment (`acme/web` → `acme%2Fweb`).
    pub fn encode_id(id: &str) -> String {
        utf8_percent_encode(id, NON_ALPHANUMERIC).to_string()
    }

    /// Sends a safe (read-only) request with retries for transient failures and short 429s.
    async fn send_read(
        &self,
        kind: &'static str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<reqwest::Response, GitLabError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let outcome = build().send().await;
            let status = outcome.as_ref().map(|r| r.status());
            self.metrics
                .gitlab(kind, outcome_label(&status), started.elapsed());
            let error = match outcome {
                Ok(response) => match classify(response).await {
                    Ok(response) => return Ok(response),
                    Err(Failure::RetryAfter(wait)) => {
                        if wait > MAX_RETRY_WAIT || attempt >= MAX_ATTEMPTS {
                            return Err(GitLabError::RateLimited(wait));
                        }
                        tracing::info!(?wait, attempt, "GitLab rate limit; waiting");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    Err(Failure::Final(error)) => error,
                },
                Err(e) => transport_error(&e),
            };
            if error.is_transient() && attempt < MAX_ATTEMPTS {
                let backoff = Duration::from_millis(150 * 3u64.pow(attempt - 1));
                tracing::info!(%error, attempt, "GitLab read failed; retrying");
                tokio::time::sleep(backoff).await;
                continue;
            }
            return Err(error);
        }
    }

    pub(super) async fn get_json<T: DeserializeOwned>(
        &self,
        kind: &'static str,
        token: &str,
        path_and_query: &str,
    ) -> Result<(T, header::HeaderMap), GitLabError> {
        let url = self.url(path_and_query)?;
        let response = self
            .send_read(kind, || {
                self.http
                    .request(Method::GET, url.clone())
                    .bearer_auth(token)
                    .header(header::ACCEPT, "application/json")
            })
            .await?;
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| GitLabError::Unavailable(format!("reading body: {}", without_url(&e))))?;
        let value = serde_json::from_slice(&body)
            .map_err(|e| GitLabError::Malformed(format!("{path_and_query}: {e}")))?;
        Ok((value, headers))
    }

    /// Runs a GraphQL query (queries are safe to retry).
    pub async fn graphql<T: DeserializeOwned>(
        &self,
        token: &str,
        query: &str,
        variables: Value,
    ) -> Result<T, GitLabError> {
        match self.graphql_partial(token, query, variables).await? {
            (Some(data), errors) if errors.is_empty() => Ok(data),
            (_, errors) => {
                let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
                Err(GitLabError::Rejected(if messages.is_empty() {
                    "GraphQL returned no data".into()
                } else {
                    messages.join("; ")
                }))
            }
        }
    }

    /// A GraphQL query whose fields may fail one by one: the data GitLab gave (if any) and
    /// the errors with their paths, for the caller to pin to the failed fields.
    pub async fn graphql_partial<T: DeserializeOwned>(
        &self,
        token: &str,
        query: &str,
        variables: Value,
    ) -> Result<(Option<T>, Vec<graphql::ErrorEntry>), GitLabError> {
        let url = self.url("/api/graphql")?;
        let body = json!({ "query": query, "variables": variables });
        let response = self
            .send_read("graphql", || {
                self.http
                    .request(Method::POST, url.clone())
                    .bearer_auth(token)
                    .json(&body)
            })
            .await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| GitLabError::Unavailable(format!("reading body: {}", without_url(&e))))?;
        let envelope: graphql::Response<T> = serde_json::from_slice(&bytes)
            .map_err(|e| GitLabError::Malformed(format!("GraphQL: {e}")))?;
        Ok((envelope.data, envelope.errors))
    }

    /// `GET /api/v4/user`.
    pub async fn current_user(&self, token: &str) -> Result<wire::User, GitLabError> {
        Ok(self.get_json("user", token, "/api/v4/user").await?.0)
    }

    /// `GET /api/v4/projects/:id` (id or full path).
    pub async fn project(&self, token: &str, id: &str) -> Result<wire::Project, GitLabError> {
        let path = format!("/api/v4/projects/{}", Self::encode_id(id));
        Ok(self.get_json("project", token, &path).await?.0)
    }

    /// `GET /api/v4/groups/:id` (id or full path), without its project list.
    pub async fn group(&self, token: &str, id: &str) -> Result<wire::Group, GitLabError> {
        let path = format!("/api/v4/groups/{}?with_projects=false", Self::encode_id(id));
        Ok(self.get_json("group", token, &path).await?.0)
    }

    /// `GET /api/v4/groups?search=&page=&per_page=` — groups visible to the user.
    pub async fn groups(
        &self,
        token: &str,
        search: &str,
        page: u32,
        per_page: u32,
    ) -> Result<Paged<wire::Group>, GitLabError> {
        let mut query =
            format!("/api/v4/groups?page={page}&per_page={per_page}&order_by=name&sort=asc");
        if !search.is_empty() {
            query.push_str("&search=");
            query.push_str(&Self::encode_id(search));
        }
        let (items, headers) = self
            .get_json::<Vec<wire::Group>>("groups", token, &query)
            .await?;
        Ok(Paged {
            items,
            total: header_number(&headers, "x-total"),
            next_page: header_number(&headers, "x-next-page").map(|n: u64| n as u32),
        })
    }

    /// `GET …/registry/repositories/:rid/tags?page=&per_page=` — names only, name order.
    pub async fn tag_names(
        &self,
        token: &str,
        project_id: u64,
        repository_id: u64,
        page: u32,
        per_page: u32,
    ) -> Result<Paged<wire::TagSummary>, GitLabError> {
        let query = format!(
            "/api/v4/projects/{project_id}/registry/repositories/{repository_id}/tags\
             ?page={page}&per_page={per_page}"
        );
        let (items, headers) = self
            .get_json::<Vec<wire::TagSummary>>("tag_names", token, &query)
            .await?;
        Ok(Paged {
            items,
            total: header_number(&headers, "x-total"),
            next_page: header_number(&headers, "x-next-page").map(|n: u64| n as u32),
        })
    }

    /// `DELETE …/registry/repositories/:rid/tags/:tag_name`. Sent once: a failed delete is
    /// reported, never retried behind the user's back.
    pub async fn delete_tag(
        &self,
        token: &str,
        project_id: u64,
        repository_id: u64,
        tag: &str,
    ) -> Result<(), GitLabError> {
        let path = format!(
            "/api/v4/projects/{project_id}/registry/repositories/{repository_id}/tags/{}",
            Self::encode_id(tag)
        );
        self.send_mutation("delete_tag", Method::DELETE, &path)
            .run(token)
            .await
            .map(drop)
    }

    /// `DELETE /projects/:id/registry/repositories/:rid` (GitLab schedules it: 202).
    pub async fn delete_repository(
        &self,
        token: &str,
        project_id: u64,
        repository_id: u64,
    ) -> Result<(), GitLabError> {
        let path = format!("/api/v4/projects/{project_id}/registry/repositories/{repository_id}");
        self.send_mutation("delete_repository", Method::DELETE, &path)
            .run(token)
            .await
            .map(drop)
    }

    /// `PUT /projects/:id` with `container_expiration_policy_attributes`; GitLab answers
    /// with the project, whose policy (with the new `next_run_at`) is returned.
    pub async fn update_cleanup_policy(
        &self,
        token: &str,
        project_id: u64,
        attributes: Value,
    ) -> Result<wire::ExpirationPolicy, GitLabError> {
        let path = format!("/api/v4/projects/{project_id}");
        let mut mutation = self.send_mutation("update_policy", Method::PUT, &path);
        mutation.body = Some(json!({ "container_expiration_policy_attributes": attributes }));
        let body = mutation.run(token).await?;
        serde_json::from_str::<wire::ProjectPolicyFragment>(&body)
            .map(|p| p.container_expiration_policy)
            .map_err(|e| GitLabError::Malformed(format!("project after update: {e}")))
    }

    /// `GET /projects/:id/registry/protection/repository/rules`.
    pub async fn repository_rules(
        &self,
        token: &str,
        project_id: u64,
    ) -> Result<Vec<wire::RepositoryRule>, GitLabError> {
        let path = format!("/api/v4/projects/{project_id}/registry/protection/repository/rules");
        Ok(self.get_json("repository_rules", token, &path).await?.0)
    }

    /// `GET /projects/:id/registry/protection/tag/rules`.
    pub async fn tag_rules(
        &self,
        token: &str,
        project_id: u64,
    ) -> Result<Vec<wire::TagRule>, GitLabError> {
        let path = format!("/api/v4/projects/{project_id}/registry/protection/tag/rules");
        Ok(self.get_json("tag_rules", token, &path).await?.0)
    }

    /// `POST`, `PATCH` or `DELETE` on `/projects/:id/registry/protection/<kind>/rules[/:id]`
    /// (`kind` is `repository` or `tag`; GitLab creates and deletes tag rules only through
    /// GraphQL). Sent once.
    pub async fn change_rule(
        &self,
        token: &str,
        method: Method,
        project_id: u64,
        kind: &str,
        rule_id: Option<u64>,
        body: Option<Value>,
    ) -> Result<(), GitLabError> {
        let mut path = format!("/api/v4/projects/{project_id}/registry/protection/{kind}/rules");
        if let Some(id) = rule_id {
            path.push_str(&format!("/{id}"));
        }
        let mut mutation = self.send_mutation("change_rule", method, &path);
        mutation.body = body;
        mutation.run(token).await.map(drop)
    }

    /// Bulk `DELETE …/registry/repositories/:rid/tags` with a policy's parameters (query
    /// string). GitLab answers 202 and deletes in the background. Sent once.
    pub async fn bulk_delete_tags(
        &self,
        token: &str,
        project_id: u64,
        repository_id: u64,
        params: &[(&str, String)],
    ) -> Result<(), GitLabError> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let path = format!(
            "/api/v4/projects/{project_id}/registry/repositories/{repository_id}/tags?{query}"
        );
        self.send_mutation("bulk_delete", Method::DELETE, &path)
            .run(token)
            .await
            .map(drop)
    }

    /// A GraphQL mutation, sent once. `T` is the `data` object.
    pub async fn graphql_mutation<T: DeserializeOwned>(
        &self,
        token: &str,
        query: &str,
        variables: Value,
    ) -> Result<T, GitLabError> {
        let mut mutation = self.send_mutation("graphql_mutation", Method::POST, "/api/graphql");
        mutation.body = Some(json!({ "query": query, "variables": variables }));
        let body = mutation.run(token).await?;
        let envelope: graphql::Response<T> = serde_json::from_str(&body)
            .map_err(|e| GitLabError::Malformed(format!("GraphQL: {e}")))?;
        match envelope.data {
            Some(data) if envelope.errors.is_empty() => Ok(data),
            _ => Err(GitLabError::Refused(
                envelope
                    .errors
                    .into_iter()
                    .map(|e| e.message)
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
        }
    }

    pub(super) fn send_mutation(
        &self,
        kind: &'static str,
        method: Method,
        path: &str,
    ) -> Mutation<'_> {
        Mutation {
            client: self,
            kind,
            method,
            path: path.to_string(),
            body: None,
        }
    }
}

/// A mutation waiting for its token (kept apart from reads: no retries).
pub(super) struct Mutation<'a> {
    client: &'a GitLabClient,
    kind: &'static str,
    method: Method,
    path: String,
    pub(super) body: Option<Value>,
}

impl Mutation<'_> {
    /// Sends it once; the body of a successful answer.
    pub(super) async fn run(self, token: &str) -> Result<String, GitLabError> {
        let url = self.client.url(&self.path)?;
        let mut request = self
            .client
            .http
            .request(self.method, url)
            .bearer_auth(token)
            .header(header::ACCEPT, "application/json");
        if let Some(body) = &self.body {
            request = request.json(body);
        }
        let started = Instant::now();
        let outcome = request.send().await;
        let status = outcome.as_ref().map(|r| r.status());
        self.client
            .metrics
            .gitlab(self.kind, outcome_label(&status), started.elapsed());
        let response = match outcome {
            Ok(response) => response,
            Err(e) if e.is_timeout() => {
                return Err(GitLabError::Unavailable(
                    "timed out; the change may or may not have happened".into(),
                ))
            }
            Err(e) => return Err(GitLabError::Unavailable(without_url(&e))),
        };
        let status = response.status();
        if status.is_success() {
            return response.text().await.map_err(|e| {
                GitLabError::Unavailable(format!("reading body: {}", without_url(&e)))
            });
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = response.text().await.unwrap_or_default();
        Err(match status {
            StatusCode::UNAUTHORIZED if body.contains("Token is expired") => {
                GitLabError::TokenExpired
            }
            StatusCode::UNAUTHORIZED => GitLabError::Unauthorized,
            StatusCode::TOO_MANY_REQUESTS => {
                GitLabError::RateLimited(Duration::from_secs(retry_after.unwrap_or(60)))
            }
            StatusCode::NOT_FOUND => GitLabError::NotFound,
            s if s.is_server_error() => GitLabError::Unavailable(format!("HTTP {}", s.as_u16())),
            StatusCode::FORBIDDEN => GitLabError::Refused(gitlab_message(&body, "Forbidden")),
            _ => GitLabError::Refused(gitlab_message(&body, status.as_str())),
        })
    }
}

/// GitLab's `{"message": …}` (a string, or an object of field errors), else a fallback.
pub fn gitlab_message(body: &str, fallback: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("message").or_else(|| v.get("error")));
    match message {
        Some(Value::String(s)) => short(s),
        Some(Value::Object(fields)) => {
            // Rails' field errors: `{"error": ["…"]}` or `{"name_regex": ["is invalid"]}`.
            let mut parts = Vec::new();
            for (field, errors) in fields {
                let texts: Vec<&str> = match errors {
                    Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                    Value::String(s) => vec![s.as_str()],
                    _ => Vec::new(),
                };
                for text in texts {
                    if matches!(field.as_str(), "error" | "base") {
                        parts.push(text.to_string());
                    } else {
                        parts.push(format!("{field} {text}"));
                    }
                }
            }
            if parts.is_empty() {
                short(&Value::Object(fields.clone()).to_string())
            } else {
                short(&parts.join("; "))
            }
        }
        Some(other @ Value::Array(_)) => short(&other.to_string()),
        _ => fallback.to_string(),
    }
}

enum Failure {
    RetryAfter(Duration),
    Final(GitLabError),
}

/// Sorts a response into success, a wait, or a final error.
async fn classify(response: reqwest::Response) -> Result<reqwest::Response, Failure> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        let wait = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
            .unwrap_or(Duration::from_secs(1));
        return Err(Failure::RetryAfter(wait));
    }
    let body = response.text().await.unwrap_or_default();
    let error = match status {
        StatusCode::UNAUTHORIZED => {
            if body.contains("Token is expired") {
                GitLabError::TokenExpired
            } else {
                GitLabError::Unauthorized
            }
        }
        StatusCode::FORBIDDEN => GitLabError::Forbidden,
        StatusCode::NOT_FOUND => GitLabError::NotFound,
        s if s.is_server_error() => GitLabError::Unavailable(format!("HTTP {}", s.as_u16())),
        s if s.is_redirection() => {
            GitLabError::Unavailable(format!("unexpected redirect (HTTP {})", s.as_u16()))
        }
        s => GitLabError::Rejected(format!("HTTP {}: {}", s.as_u16(), short(&body))),
    };
    Err(Failure::Final(error))
}

fn short(body: &str) -> String {
    let trimmed: String = body.chars().take(200).collect();
    trimmed.replace(['\n', '\r'], " ")
}

/// The metrics label of a response or a failed send.
fn outcome_label(status: &Result<StatusCode, &reqwest::Error>) -> &'static str {
    match status {
        Ok(s) if s.is_success() => "ok",
        Ok(s) if *s == StatusCode::UNAUTHORIZED => "unauthorized",
        Ok(s) if *s == StatusCode::FORBIDDEN => "forbidden",
        Ok(s) if *s == StatusCode::NOT_FOUND => "not_found",
        Ok(s) if *s == StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        Ok(s) if s.is_server_error() => "server_error",
        Ok(_) => "client_error",
        Err(e) if e.is_timeout() => "timeout",
        Err(_) => "unreachable",
    }
}

fn transport_error(e: &reqwest::Error) -> GitLabError {
    if e.is_timeout() {
        GitLabError::Unavailable("timed out".into())
    } else if e.is_connect() {
        GitLabError::Unavailable("could not connect".into())
    } else {
        GitLabError::Unavailable(format!("request failed: {}", without_url(e)))
    }
}

/// reqwest errors print the URL; ours never carry secrets in URLs, but keep logs terse.
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<gitlab>");
    }
    text
}

pub(super) fn header_number<T: std::str::FromStr>(
    headers: &header::HeaderMap,
    name: &str,
) -> Option<T> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_encoded_as_one_segment() {
        assert_eq!(GitLabClient::encode_id("acme/web"), "acme%2Fweb");
        assert_eq!(GitLabClient::encode_id("a/../b"), "a%2F%2E%2E%2Fb");
        assert_eq!(GitLabClient::encode_id("42"), "42");
    }

    #[test]
    fn a_url_that_would_climb_out_of_its_endpoint_is_refused() {
        let client = GitLabClient::new(
            Url::parse("https://gitlab.example/").unwrap(),
            Duration::from_secs(1),
            Arc::new(Metrics::new()),
        )
        .unwrap();
        for id in ["..", "."] {
            let path = format!("/api/v4/projects/{}", GitLabClient::encode_id(id));
            assert!(client.url(&path).is_err(), "{path}");
        }
        assert!(client.url("/api/v4/projects/acme%2Fweb?x=1").is_ok());
    }
}
