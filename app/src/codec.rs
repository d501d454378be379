//! The JSON encoding of every server function (arguments, results and [`AppError`]s).
//!
//! It is server_fn's own `Json` with one difference, for the size of the browser bundle: a
//! body is decoded with `serde_json::from_str` after a UTF-8 check instead of `from_slice`.
//! Resources hydrate with `from_str` (Leptos' `JsonSerdeCodec`); when server functions
//! decoded with `from_slice`, every type a page both hydrates and fetches again had its
//! deserializer compiled twice into the wasm, once per reader. One reader, one copy.
//!
//! [`AppError`]: crate::error::AppError

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::{DeserializeOwned, Error as _};
use serde::Serialize;

/// JSON, decoded from text (see the module's documentation).
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| serde_json::Error::custom(format!("the body is not UTF-8: {e}")))?;
        serde_json::from_str(text)
    }
}

/// A `POST` with a JSON body, answered with JSON: every server function's input and output.
pub type Json = Post<JsonText>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_it_encodes_and_refuses_what_is_not_text() {
        let value = vec![("tag".to_string(), 3u64)];
        let bytes = <JsonText as Encodes<_>>::encode(&value).unwrap();
        let back: Vec<(String, u64)> = <JsonText as Decodes<_>>::decode(bytes).unwrap();
        assert_eq!(back, value);
        let error = <JsonText as Decodes<Vec<u8>>>::decode(Bytes::from_static(b"[\xff]"));
        assert!(error.unwrap_err().to_string().contains("not UTF-8"));
    }
}
