//! Test harness: the BFF in demo mode (GitLab double in-process) on ephemeral ports, and a
//! cookie-keeping HTTP client that signs in through the real OAuth flow.
#![allow(dead_code)]

pub mod cluster;

use reqwest::header::{HeaderMap, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use server::config::Config;
use server::RunningServer;
use std::sync::Arc;
use url::Url;

pub async fn start(extra: &[(&str, &str)]) -> RunningServer {
    let mut vars = vec![
        (
            "REGISTRY_DASH_LISTEN".to_string(),
            "127.0.0.1:0".to_string(),
        ),
        ("REGISTRY_DASH_DEMO".to_string(), "1".to_string()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::load(None, &vars).expect("a valid configuration");
    servers()
        .spawn(async move { server::start(config).await })
        .await
        .expect("the start-up task ends")
        .expect("the server starts")
}

/// One long-lived multi-threaded runtime for every server the tests start, as in production.
pub fn servers() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("it builds")
    })
}

/// A browser stand-in: keeps cookies, never follows redirects by itself.
pub struct Browser {
    pub client: Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    pub base: String,
    /// The `Origin` its POSTs carry (the site's public URL).
    pub origin: String,
}

impl Browser {
    pub fn new(server: &RunningServer) -> Self {
        Self::at(&server.base_url)
    }

    /// A browser for a dashboard at `base` (a server in another process, say).
    pub fn at(base: &str) -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            // A request that hangs fails the test instead of stalling the whole run. Above
            // the server's own request timeout (60 s): a request that is merely slow on a
            // loaded machine fails, if at all, as the server's 503, and only a hang as this.
            .timeout(std::time::Duration::from_secs(90))
            .build()
            .expect("it builds");
        Browser {
            client,
            jar,
            base: base.to_string(),
            origin: base.to_string(),
        }
    }

    /// The same browser (cookies and origin) sending its requests to `base`: one replica
    /// of several behind the public URL, say.
    pub fn via(&self, base: &str) -> Browser {
        Browser {
            client: self.client.clone(),
            jar: self.jar.clone(),
            base: base.to_string(),
            origin: self.origin.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the server answers")
    }

    /// GET `path`: the status and the JSON body.
    pub async fn get_json(&self, path: &str) -> (StatusCode, serde_json::Value) {
        json_of(self.get(path).await).await
    }

    /// POST from one of our own pages (the browser sends Origin).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .header(ORIGIN, &self.origin)
            .form(form)
            .send()
            .await
            .expect("the server answers")
    }

    /// Calls a server function as the hydrated page would.
    pub async fn server_fn(&self, name: &str, body: serde_json::Value) -> Response {
        self.client
            .post(self.url(&format!("/api/fn/{name}")))
            .header(ORIGIN, &self.origin)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .json(&body)
            .send()
            .await
            .expect("the server answers")
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookie("registry_dash_session")
            .map(|v| format!("registry_dash_session={v}"))
    }

    /// A cookie's value as the browser holds it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = Url::parse(&self.base).expect("a valid URL");
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .expect("an ASCII header")
            .split("; ")
            .find_map(|c| c.strip_prefix(&format!("{name}=")).map(str::to_string))
    }

    /// Starts sign-in; returns GitLab's authorize URL the browser is sent to.
    pub async fn begin_login(&self, return_to: &str) -> Url {
        let response = self
            .client
            .get(self.url("/auth/login"))
            .query(&[("instance", "demo"), ("return_to", return_to)])
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        Url::parse(location(response.headers())).expect("a valid URL")
    }

    /// The user approves at GitLab's sign-in page; returns the callback URL GitLab redirects to.
    pub async fn approve_at_gitlab(&self, authorize: &Url, user: &str) -> Url {
        let page = self
            .client
            .get(authorize.clone())
            .send()
            .await
            .expect("the server answers");
        assert_eq!(page.status(), StatusCode::OK, "GitLab's sign-in page");
        let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        form.push(("user".into(), user.into()));
        let mut post_url = authorize.clone();
        post_url.set_query(None);
        let response = self
            .client
            .post(post_url)
            .form(&form)
            .send()
            .await
            .expect("the server answers");
        assert!(
            response.status().is_redirection(),
            "approval redirects back: {}",
            response.status()
        );
        Url::parse(location(response.headers())).expect("a valid URL")
    }

    /// Follows the callback; returns where the BFF sends the browser afterwards.
    pub async fn finish_login(&self, callback: &Url) -> (StatusCode, String) {
        let response = self
            .client
            .get(callback.clone())
            .send()
            .await
            .expect("the server answers");
        (response.status(), location(response.headers()).to_string())
    }

    /// The whole sign-in as `user`, landing on `return_to`.
    pub async fn sign_in(&self, user: &str, return_to: &str) {
        let authorize = self.begin_login(return_to).await;
        let callback = self.approve_at_gitlab(&authorize, user).await;
        let (status, to) = self.finish_login(&callback).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(to, return_to);
    }
}

/// The embedded double's knobs (latency, faults, rate limit, tokens).
/// A response's status and JSON body (a body that is not JSON fails the test).
pub async fn json_of(response: Response) -> (StatusCode, serde_json::Value) {
    let status = response.status();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

pub fn controls(server: &RunningServer) -> &gitlab_double::Controls {
    server
        .double
        .as_ref()
        .expect("started with the double")
        .double
        .controls()
}

/// GitLab requests (REST and GraphQL) the embedded double has answered so far.
pub fn requests(server: &RunningServer) -> u64 {
    controls(server).request_count()
}

/// A browser signed in as `user` through the real OAuth flow.
pub async fn signed_in(server: &RunningServer, user: &str) -> Browser {
    let browser = Browser::new(server);
    browser.sign_in(user, "/i/demo").await;
    browser
}

/// A GitLab access token for `user` with exactly `scopes`, obtained from the double with the
/// demo application as a script would (authorization code, then the token endpoint).
pub async fn token_for(server: &RunningServer, user: &str, scopes: &str) -> String {
    let double = &server
        .double
        .as_ref()
        .expect("started with the double")
        .base_url;
    let redirect = server.state.config.redirect_uri("demo");
    let mut authorize = Url::parse(&format!("{double}/oauth/authorize")).expect("a valid URL");
    authorize
        .query_pairs_mut()
        .append_pair("client_id", server::demo::DEMO_CLIENT_ID)
        .append_pair("redirect_uri", &redirect)
        .append_pair("response_type", "code")
        .append_pair("scope", scopes)
        .append_pair("state", "scripted-token-state");
    let browser = Browser::new(server);
    let callback = browser.approve_at_gitlab(&authorize, user).await;
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("the expected entry")
        .1
        .into_owned();
    let answer: serde_json::Value = browser
        .client
        .post(format!("{double}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("client_id", server::demo::DEMO_CLIENT_ID),
            ("client_secret", server::demo::DEMO_CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a JSON body");
    answer["access_token"]
        .as_str()
        .expect("a string")
        .to_string()
}

/// The access token the double issued last to the user with this id (the one the
/// dashboard's session holds after a sign-in).
pub fn issued_token(server: &RunningServer, user_id: u64) -> String {
    controls(server)
        .issued_tokens()
        .into_iter()
        .rev()
        .find(|t| t.user_id == user_id)
        .expect("the expected entry")
        .access_token
}

/// Every tag name of a repository, read from the double's REST list (100 a page) with
/// `token`, as a plain client would.
pub async fn gitlab_tag_names(
    gitlab: &str,
    token: &str,
    project: u64,
    repository: u64,
) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut names = Vec::new();
    for page in 1.. {
        let list: Vec<serde_json::Value> = http
            .get(format!(
                "{gitlab}/api/v4/projects/{project}/registry/repositories/{repository}/tags\
                 ?page={page}&per_page=100"
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("a JSON body");
        if list.is_empty() {
            break;
        }
        names.extend(
            list.iter()
                .map(|t| t["name"].as_str().expect("a string").to_owned()),
        );
    }
    names
}

/// Revokes a token at the double, as a user revoking it in GitLab's settings would.
pub async fn revoke_at_gitlab(server: &RunningServer, token: &str) {
    let double = &server
        .double
        .as_ref()
        .expect("started with the double")
        .base_url;
    let status = Client::new()
        .post(format!("{double}/oauth/revoke"))
        .form(&[
            ("token", token),
            ("client_id", server::demo::DEMO_CLIENT_ID),
            ("client_secret", server::demo::DEMO_CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("the server answers")
        .status();
    assert!(status.is_success(), "revocation at GitLab: {status}");
}

pub fn location(headers: &HeaderMap) -> &str {
    headers
        .get(LOCATION)
        .expect("the server answers")
        .to_str()
        .expect("an ASCII header")
}

pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("an ASCII header").to_string())
        .collect()
}

/// The decisions of one repository in a cleanup preview answer (`/cleanup-preview`).
pub fn preview_decisions<'a>(
    preview: &'a serde_json::Value,
    repository: &str,
) -> &'a Vec<serde_json::Value> {
    preview["repositories"]
        .as_array()
        .expect("an array")
        .iter()
        .find(|r| r["path"] == repository)
        .expect("the expected entry")["decisions"]
        .as_array()
        .expect("an array")
}

/// The reason a cleanup preview gives for one tag.
pub fn preview_reason<'a>(preview: &'a serde_json::Value, repository: &str, tag: &str) -> &'a str {
    preview_decisions(preview, repository)
        .iter()
        .find(|d| d["name"] == tag)
        .expect("the expected entry")["reason"]
        .as_str()
        .expect("a string")
}
