//! Helpers shared by the integration tests: starting the double, signing in through the real
//! OAuth flow, calling the APIs, and validating payloads against GitLab's JSON schemas.
#![allow(dead_code)]

use std::path::PathBuf;

use base64::Engine;
use gitlab_double::{Double, DoubleConfig, RunningDouble};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "registry-dash-demo";
pub const CLIENT_SECRET: &str = "registry-dash-demo-secret";
pub const REDIRECT_URI: &str = "http://127.0.0.1:3000/auth/callback";

pub async fn start() -> RunningDouble {
    start_with(DoubleConfig::default()).await
}

pub async fn start_with(config: DoubleConfig) -> RunningDouble {
    Double::spawn(config).await.expect("the binary starts")
}

/// An HTTP client that does not follow redirects (OAuth answers with 302s).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("it builds")
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce(seed: &str) -> (String, String) {
    let verifier = format!("verifier-{seed}-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH");
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Query parameters of a `Location` header.
pub fn location_params(headers: &HeaderMap) -> Vec<(String, String)> {
    let location = headers
        .get(reqwest::header::LOCATION)
        .expect("a Location header")
        .to_str()
        .expect("an ASCII header");
    url::Url::parse(location)
        .expect("a valid URL")
        .query_pairs()
        .into_owned()
        .collect()
}

pub fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Clicks "sign in as `user`" on the authorize page; returns the authorization code.
pub async fn authorize(base: &str, user: &str, scope: &str, challenge: Option<&str>) -> String {
    let mut form = vec![
        ("client_id", CLIENT_ID.to_owned()),
        ("redirect_uri", REDIRECT_URI.to_owned()),
        ("response_type", "code".to_owned()),
        ("scope", scope.to_owned()),
        ("state", "st4te".to_owned()),
        ("user", user.to_owned()),
    ];
    if let Some(c) = challenge {
        form.push(("code_challenge", c.to_owned()));
        form.push(("code_challenge_method", "S256".to_owned()));
    }
    let response = http()
        .post(format!("{base}/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), StatusCode::FOUND);
    let pairs = location_params(response.headers());
    assert_eq!(param(&pairs, "state").as_deref(), Some("st4te"));
    param(&pairs, "code").expect("a code")
}

/// Exchanges a code at `/oauth/token` (client authenticated with HTTP Basic).
pub async fn exchange(base: &str, code: &str, verifier: Option<&str>) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.to_owned()),
        ("redirect_uri", REDIRECT_URI.to_owned()),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v.to_owned()));
    }
    http()
        .post(format!("{base}/oauth/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&form)
        .send()
        .await
        .expect("the server answers")
}

/// Full sign-in with PKCE; returns the token response.
pub async fn login_full(base: &str, user: &str, scope: &str) -> Value {
    let (verifier, challenge) = pkce(user);
    let code = authorize(base, user, scope, Some(&challenge)).await;
    let response = exchange(base, &code, Some(&verifier)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a JSON body")
}

/// Access token of `user` with the `api` scope.
pub async fn login(base: &str, user: &str) -> String {
    login_scoped(base, user, "api").await
}

pub async fn login_scoped(base: &str, user: &str, scope: &str) -> String {
    login_full(base, user, scope).await["access_token"]
        .as_str()
        .expect("a string")
        .to_owned()
}

/// `GET base+path` with a bearer token: (status, headers, JSON or null).
pub async fn get(base: &str, path: &str, token: Option<&str>) -> (StatusCode, HeaderMap, Value) {
    let mut request = http().get(format!("{base}{path}"));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Any method, optional form body.
pub async fn call(
    method: reqwest::Method,
    base: &str,
    path: &str,
    token: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> (StatusCode, Value) {
    let mut request = http().request(method, format!("{base}{path}"));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(f) = form {
        request = request.form(f);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Any method with a JSON body: (status, JSON or null).
pub async fn call_json(
    method: reqwest::Method,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut request = http().request(method, format!("{base}{path}")).json(body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// POST a GraphQL query.
pub async fn gql(
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (StatusCode, Value) {
    let mut request = http()
        .post(format!("{base}/api/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .map(|v| v.to_str().expect("an ASCII header"))
}

// ---------------------------------------------------------------------------------------------
// GitLab's JSON schemas (fixtures/gitlab-reference/schemas), with documented, minimal adjustments.
// ---------------------------------------------------------------------------------------------

/// The repository's copy of GitLab's reference payloads and schemas (`fixtures/gitlab-reference`,
/// sources in its README).
pub fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/gitlab-reference")
}

/// One of GitLab's documented example payloads (`fixtures/gitlab-reference/examples`).
pub fn example(file: &str) -> Value {
    let path = reference_dir().join("examples").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read example {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad example {}: {e}", path.display()))
}

/// The JSON type of a value, for shape comparisons.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Asserts that `actual` has exactly the keys of GitLab's `examples` (one object, or every item
/// of a list example) and, key by key, a JSON type one of the examples shows; `nullable` keys
/// may also be null (GitLab's entities send null there, the examples happen to show a value).
pub fn assert_shape(actual: &Value, examples: &[&Value], nullable: &[&str], what: &str) {
    use std::collections::{BTreeMap, BTreeSet};
    let mut types: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for example in examples {
        for (k, v) in example.as_object().expect("an object") {
            types.entry(k.as_str()).or_default().insert(json_type(v));
        }
    }
    let keys: BTreeSet<&str> = actual
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {actual}"))
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = types.keys().copied().collect();
    assert_eq!(
        keys, expected,
        "{what}: keys differ from GitLab's example: {actual}"
    );
    for (key, allowed) in &types {
        let t = json_type(&actual[*key]);
        assert!(
            allowed.contains(t) || (t == "null" && nullable.contains(key)),
            "{what}.{key} is {t}, GitLab's example has {allowed:?}: {actual}"
        );
    }
}

fn read_schema(relative: &str) -> Value {
    let path = reference_dir().join("schemas").join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read schema {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad schema {}: {e}", path.display()))
}

/// Replaces `{"$ref": "file.json"}` (relative to `dir`) by the referenced schema.
fn inline_refs(value: &mut Value, dir: &str) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref").cloned() {
                if target.ends_with(".json") {
                    let file = target.trim_start_matches("./");
                    let mut referenced = load_schema(&format!("{dir}/{file}"));
                    map.remove("$ref");
                    // Keep sibling keywords (rare) by nesting the referenced schema in allOf.
                    if map.is_empty() {
                        *value = referenced;
                        return;
                    }
                    inline_refs(&mut referenced, dir);
                    map.insert("allOf".to_owned(), json!([referenced]));
                }
            }
            if let Value::Object(map) = value {
                for v in map.values_mut() {
                    inline_refs(v, dir);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| inline_refs(v, dir)),
        _ => {}
    }
}

/// Differences between GitLab's fixture schemas (written for older GitLab) and what current
/// GitLab sends, each documented in GitLab's API docs or its own type definitions.
/// Everything else, including `additionalProperties: false`, is kept.
fn adjust(relative: &str, schema: &mut Value) {
    let props = |s: &mut Value| s["properties"].as_object_mut().expect("an object").clone();
    match relative {
        "registry/tag.json" => {
            let mut p = props(schema);
            // `"type": "date"` is not a JSON Schema type; GitLab sends an ISO 8601 timestamp.
            // Current GitLab also sends `path` and `digest`, and a tag whose manifest or config is
            // missing has null created_at/digest/revision/short_revision/total_size.
            p.insert(
                "created_at".into(),
                json!({ "type": ["string", "null"], "format": "date-time" }),
            );
            p.insert("path".into(), json!({ "type": "string" }));
            p.insert("digest".into(), json!({ "type": ["string", "null"] }));
            for nullable in ["revision", "short_revision", "total_size"] {
                let ty = p[nullable]["type"].clone();
                p[nullable]["type"] = json!([ty, "null"]);
            }
            schema["properties"] = Value::Object(p);
        }
        "registry/repository.json" => {
            let mut p = props(schema);
            // `size` (metadata database) and the `delete_ongoing` status exist in current GitLab.
            p.insert("size".into(), json!({ "type": ["integer", "null"] }));
            p["status"]["oneOf"][1]["enum"]
                .as_array_mut()
                .expect("an array")
                .push(json!("delete_ongoing"));
            schema["properties"] = Value::Object(p);
        }
        "public_api/v4/deploy_token.json" => {
            // `DeployToken#expires_at` returns nil for a token that never expires (GitLab stores
            // `Forever.date` and hides it), so the entity sends null, which the fixture's
            // `"type": "string"` does not allow.
            schema["properties"]["expires_at"]["type"] = json!(["string", "null"]);
        }
        "graphql/container_repository.json" => {
            // GitLab types lastCleanupDeletedTagsCount as Int (the fixture says string|null).
            schema["properties"]["lastCleanupDeletedTagsCount"]["type"] =
                json!(["string", "integer", "null"]);
        }
        _ => {}
    }
}

/// A schema with its file references inlined and the documented adjustments applied.
pub fn load_schema(relative: &str) -> Value {
    let mut schema = read_schema(relative);
    adjust(relative, &mut schema);
    let dir = relative.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
    inline_refs(&mut schema, &dir);
    schema
}

/// Panics with every violation if `instance` does not match the schema.
pub fn assert_valid(relative: &str, instance: &Value) {
    let schema = load_schema(relative);
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("schema {relative} does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "payload does not match {relative}:\n{}\npayload: {}",
        errors.join("\n"),
        serde_json::to_string_pretty(instance).expect("it serialises")
    );
}

/// `true` if `instance` matches (for negative checks proving the schemas bite).
pub fn is_valid(relative: &str, instance: &Value) -> bool {
    let schema = load_schema(relative);
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("it builds")
        .is_valid(instance)
}
