//! Query-string encoding shared by every view state: a canonical `key=value&…` form with
//! percent-encoding, so a copied URL reproduces the view exactly.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters left readable in query values (unreserved set of RFC 3986, plus `/` and `:`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/')
    .remove(b':');

/// Percent-encodes one query value.
pub fn encode_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// Builds `?k=v&…` from pairs, skipping nothing; returns an empty string for no pairs.
pub fn build(pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_value(v)))
        .collect();
    format!("?{}", body.join("&"))
}

/// Parses a raw query string (with or without the leading `?`) into decoded pairs.
/// `+` is read as a space, as HTML forms send it.
pub fn parse(raw: &str) -> Vec<(String, String)> {
    raw.trim_start_matches('?')
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_parses_back() {
        let q = build(&[("q", "a b&c=d/é".to_string()), ("page", "2".into())]);
        assert_eq!(q, "?q=a%20b%26c%3Dd/%C3%A9&page=2");
        assert_eq!(
            parse(&q),
            vec![
                ("q".to_string(), "a b&c=d/é".to_string()),
                ("page".to_string(), "2".to_string())
            ]
        );
    }

    #[test]
    fn form_plus_is_a_space() {
        assert_eq!(
            parse("q=hello+world"),
            vec![("q".into(), "hello world".into())]
        );
    }

    #[test]
    fn empty_query_builds_nothing() {
        assert_eq!(build(&[]), "");
        assert!(parse("").is_empty());
        assert!(parse("?").is_empty());
    }
}
