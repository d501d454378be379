//! Parameters of the credential endpoints as Grape sees them: the query string merged with a JSON
//! or form body (the body wins), arrays kept. Rack turns `scopes[]=a&scopes[]=b` into an array and
//! `scopes=a` into a string; JSON keeps its own types.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::Value;

use super::{ApiError, Params};

/// One parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    /// JSON `null` (Grape treats it as absent).
    Null,
    /// A string (numbers and booleans of a JSON body in their JSON spelling).
    Text(String),
    /// An array (JSON array or repeated `name[]`); elements as text.
    List(Vec<String>),
    /// A JSON object: never a valid value here.
    Object,
}

/// All parameters of a request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Form(BTreeMap<String, Param>);

fn text_of(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

impl Form {
    /// Query string, then the body (JSON when the content type says so, else form-encoded).
    pub fn parse(headers: &HeaderMap, query: Option<&str>, body: &Bytes) -> Result<Form, ApiError> {
        let mut form = Form::default();
        form.add_pairs(Params::parse(query).0);
        let is_json = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if is_json {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(form);
            }
            let parsed: Value = serde_json::from_slice(body).map_err(|_| {
                ApiError::bad_param(
                    "The provided content-type 'application/json' is not supported or the body is \
                        malformed",
                )
            })?;
            if let Value::Object(map) = parsed {
                for (k, v) in map {
                    let param = match v {
                        Value::Null => Param::Null,
                        Value::Array(items) => {
                            Param::List(items.into_iter().map(text_of).collect())
                        }
                        Value::Object(_) => Param::Object,
                        other => Param::Text(text_of(other)),
                    };
                    form.0.insert(k, param);
                }
            }
        } else {
            form.add_pairs(Params::parse(std::str::from_utf8(body).ok()).0);
        }
        Ok(form)
    }

    fn add_pairs(&mut self, pairs: Vec<(String, String)>) {
        let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            match k.strip_suffix("[]") {
                Some(name) => lists.entry(name.to_owned()).or_default().push(v),
                None => {
                    self.0.insert(k, Param::Text(v));
                }
            }
        }
        for (k, items) in lists {
            self.0.insert(k, Param::List(items));
        }
    }

    /// Every parameter as text, `None` for JSON `null`, for endpoints whose parameters are all
    /// scalars: an array comes out in JSON's spelling and an object as `{}`, so either fails
    /// the endpoint's own value check.
    pub fn into_texts(self) -> BTreeMap<String, Option<String>> {
        self.0
            .into_iter()
            .map(|(k, param)| {
                let text = match param {
                    Param::Null => None,
                    Param::Text(text) => Some(text),
                    Param::List(items) => Some(Value::from(items).to_string()),
                    Param::Object => Some("{}".to_owned()),
                };
                (k, text)
            })
            .collect()
    }

    /// The value, with JSON `null` read as absent.
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.0.get(name).filter(|p| **p != Param::Null)
    }

    /// A `String` parameter: `Ok(None)` when absent, `"<name> is invalid"` for arrays and objects.
    pub fn text(&self, name: &str, errors: &mut Vec<String>) -> Option<String> {
        match self.get(name)? {
            Param::Text(s) => Some(s.clone()),
            _ => {
                errors.push(format!("{name} is invalid"));
                None
            }
        }
    }
}

/// Rails' `Array#to_sentence`, which joins model errors: `a`, `a and b`, `a, b, and c`.
pub(crate) fn to_sentence<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [a, b] => format!("{} and {}", a.as_ref(), b.as_ref()),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{}, and {}", init.join(", "), last.as_ref())
        }
    }
}

/// Grape's message list: `{"error":"a is missing, b is invalid"}`.
pub(crate) fn grape_errors(errors: Vec<String>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_param(errors.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn sentences_like_rails() {
        assert_eq!(to_sentence(&["A"]), "A");
        assert_eq!(to_sentence(&["A", "B"]), "A and B");
        assert_eq!(to_sentence(&["A", "B", "C"]), "A, B, and C");
    }

    #[test]
    fn forms_and_json_keep_arrays() {
        let empty = HeaderMap::new();
        let form = Form::parse(
            &empty,
            Some("name=q"),
            &Bytes::from_static(b"scopes[]=read_registry&scopes[]=write_registry&name=x"),
        )
        .unwrap();
        assert_eq!(
            form.get("scopes"),
            Some(&Param::List(vec![
                "read_registry".into(),
                "write_registry".into()
            ]))
        );
        assert_eq!(form.get("name"), Some(&Param::Text("x".into())));
        let mut json = HeaderMap::new();
        json.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let form = Form::parse(
            &json,
            None,
            &Bytes::from_static(br#"{"scopes":["api"],"access_level":30,"expires_at":null}"#),
        )
        .unwrap();
        assert_eq!(form.get("scopes"), Some(&Param::List(vec!["api".into()])));
        assert_eq!(form.get("access_level"), Some(&Param::Text("30".into())));
        assert_eq!(form.get("expires_at"), None);
        assert!(Form::parse(&json, None, &Bytes::from_static(b"{nope")).is_err());
    }
}
