//! HTML of the sign-in/authorization page, OAuth error pages and user avatars.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Two-letter initials of a display name.
pub(crate) fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// A stable hue per username, so avatars look different but never change.
fn hue(username: &str) -> u32 {
    username
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 360
}

const STYLE: &str = "
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif; \
    background: #f5f4fa; color: #1f1e24; }
header { background: #292961; color: #fff; padding: 0.75rem 1.5rem; font-weight: 600; }
main { max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }
.card { background: #fff; border: 1px solid #dcdcde; border-radius: 0.5rem; padding: 1.5rem; }
h1 { font-size: 1.4rem; margin: 0 0 0.5rem; }
p { line-height: 1.5; }
.scopes { margin: 0.5rem 0 1rem; padding-left: 1.2rem; }
.scopes code { background: #ececef; padding: 0 0.3rem; border-radius: 0.2rem; }
ul.users { list-style: none; padding: 0; margin: 0; display: grid; gap: 0.5rem; }
.user { display: flex; align-items: center; gap: 0.9rem; width: 100%; text-align: left; \
    padding: 0.7rem 0.9rem; border: 1px solid #bfbfc3; border-radius: 0.4rem; background: #fff; \
    font: inherit; color: inherit; cursor: pointer; }
.user:hover, .user:focus-visible { border-color: #1f75cb; background: #f2f7fd; \
    outline: 2px solid #1f75cb; outline-offset: 1px; }
.avatar { flex: none; width: 2.5rem; height: 2.5rem; border-radius: 50%; display: grid; \
    place-items: center; color: #fff; font-weight: 700; }
.who { display: grid; }
.who .name { font-weight: 600; }
.who .username, .who .roles { color: #535158; font-size: 0.9rem; }
.actions { margin-top: 1.25rem; display: flex; justify-content: flex-end; }
.deny { padding: 0.5rem 1rem; border: 1px solid #dd2b0e; color: #a31700; background: #fff; \
    border-radius: 0.4rem; font: inherit; cursor: pointer; }
.deny:hover, .deny:focus-visible { background: #fdd4cd; outline: 2px solid #a31700; \
    outline-offset: 1px; }
.error { border-left: 4px solid #dd2b0e; }
.note { color: #535158; font-size: 0.85rem; margin-top: 1.5rem; }
";

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header role=\"banner\">GitLab \
             (double)</header>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        title = escape(title),
    )
}

/// A user offered on the sign-in page.
pub(crate) struct UserChoice {
    pub username: String,
    pub name: String,
    /// e.g. "Maintainer of acme".
    pub roles: Vec<String>,
}

/// The sign-in + authorize page: one button per seeded user, plus Deny.
pub(crate) fn sign_in_page(
    app_name: &str,
    hidden: &[(&str, String)],
    scopes: &[String],
    users: &[UserChoice],
) -> String {
    let fields: String = hidden
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let scope_items: String = scopes
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    let user_items: String = users
        .iter()
        .map(|u| {
            let roles = if u.roles.is_empty() {
                "No memberships".to_owned()
            } else {
                u.roles.join(", ")
            };
            format!(
                "<li><button type=\"submit\" class=\"user\" name=\"user\" value=\"{username}\" \
                 aria-label=\"Sign in as {name} (@{username})\">\
                 <span class=\"avatar\" aria-hidden=\"true\" \
                 style=\"background: hsl({hue} 45% 38%)\">{initials}</span>\
                 <span class=\"who\"><span class=\"name\">{name}</span>\
                 <span class=\"username\">@{username}</span>\
                 <span class=\"roles\">{roles}</span></span></button></li>\n",
                username = escape(&u.username),
                name = escape(&u.name),
                hue = hue(&u.username),
                initials = escape(&initials(&u.name)),
                roles = escape(&roles),
            )
        })
        .collect();
    let body = format!(
        "<section class=\"card\" aria-labelledby=\"title\">\n\
         <h1 id=\"title\">Sign in to GitLab (double)</h1>\n\
         <p><strong>{app}</strong> wants to access your account. It asks for these scopes:</p>\n\
         <ul class=\"scopes\">{scope_items}</ul>\n\
         <form method=\"post\" action=\"/oauth/authorize\">\n{fields}\
         <fieldset style=\"border:0;padding:0;margin:0\">\n\
         <legend>Choose who you are — each button signs in and authorizes as that user:</legend>\n\
         <ul class=\"users\">\n{user_items}</ul>\n</fieldset>\n\
         <div class=\"actions\"><button type=\"submit\" class=\"deny\" name=\"deny\" \
         value=\"1\">Deny</button></div>\n\
         </form>\n\
         <p class=\"note\">This is a test double of GitLab: no password is needed.</p>\n</section>",
        app = escape(app_name),
    );
    layout("Sign in to GitLab (double)", &body)
}

/// Doorkeeper's "An error has occurred" page.
pub(crate) fn error_page(status: StatusCode, description: &str) -> Response {
    let body = format!(
        "<section class=\"card error\" role=\"alert\" aria-labelledby=\"title\">\n\
         <h1 id=\"title\">An error has occurred</h1>\n<p>{}</p>\n</section>",
        escape(description)
    );
    let mut response = (status, Html(layout("An error has occurred", &body))).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /-/double/avatars/{username}.svg`: initials on a coloured disc.
pub(crate) async fn avatar(Path(file): Path<String>) -> Response {
    let username = file.strip_suffix(".svg").unwrap_or(&file);
    let letters: String = username
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\" \
         viewBox=\"0 0 64 64\" role=\"img\" aria-label=\"{label}\">\
         <circle cx=\"32\" cy=\"32\" r=\"32\" fill=\"hsl({hue} 45% 38%)\"/>\
         <text x=\"32\" y=\"40\" font-family=\"sans-serif\" font-size=\"24\" font-weight=\"700\" \
             fill=\"#fff\" text-anchor=\"middle\">{letters}</text></svg>",
        label = escape(username),
        hue = hue(username),
        letters = escape(&letters),
    );
    let mut response = (StatusCode::OK, svg).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_initials() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(initials("Maria Maintainer"), "MM");
        assert_eq!(initials("cher"), "C");
    }

    #[test]
    fn page_has_accessible_user_buttons() {
        let page = sign_in_page(
            "app <x>",
            &[("state", "s\"1".to_owned())],
            &["api".to_owned()],
            &[UserChoice {
                username: "maria".into(),
                name: "Maria Maintainer".into(),
                roles: vec!["Maintainer of acme".into()],
            }],
        );
        assert!(page.contains("aria-label=\"Sign in as Maria Maintainer (@maria)\""));
        assert!(page.contains("value=\"s&quot;1\""));
        assert!(page.contains("app &lt;x&gt;"));
        assert!(page.contains(">Deny</button>"));
    }
}
