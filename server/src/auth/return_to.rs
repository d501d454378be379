//! `return_to` after sign-in: only a path on this site, never another origin.

/// Where to go when `return_to` is missing or unsafe.
pub const DEFAULT: &str = "/";

/// Accepts only same-origin absolute paths: starts with one `/`, no scheme-relative `//`,
/// no backslash tricks (`/\evil.com`), no control characters, bounded length.
pub fn sanitize(candidate: Option<&str>) -> String {
    let Some(value) = candidate else {
        return DEFAULT.into();
    };
    let ok = value.starts_with('/')
        && !value.starts_with("//")
        && !value.contains('\\')
        && !value.chars().any(|c| c.is_control())
        && value.len() <= 2048;
    if ok {
        value.to_string()
    } else {
        DEFAULT.into()
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn keeps_local_paths() {
        assert_eq!(
            sanitize(Some("/i/demo/projects/acme/web?q=x")),
            "/i/demo/projects/acme/web?q=x"
        );
        assert_eq!(sanitize(Some("/")), "/");
    }

    #[test]
    fn rejects_everything_that_could_leave_the_site() {
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/ok\r\nSet-Cookie: x",
            "",
        ] {
            assert_eq!(sanitize(Some(bad)), "/", "{bad:?} should be refused");
        }
        assert_eq!(sanitize(None), "/");
        assert_eq!(sanitize(Some(&format!("/{}", "a".repeat(3000)))), "/");
    }
}
