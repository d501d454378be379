//! Something the dashboard tells people, as data: a typed kind (an enum with a `code` and its
//! parameters, such as [`crate::cleanup::Warning`], [`crate::tags::Refusal`] or
//! [`crate::view::UrlNote`]) and the sentence it renders to.
//!
//! On the wire a [`Notice`] is flat: `{"code": "several_runs",
//! "tags": 1200, "runs": 6, …, "message": "…"}`.
//! Scripts match the stable `code` and its parameters; people read `message`, and the page
//! shows the same sentence the JSON API returns.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A typed notice as the page and the JSON API receive it: its code and parameters, and the
/// sentence that says it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notice<W = crate::cleanup::Warning> {
    /// The code and its parameters.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub kind: W,
    /// The same in words, as the page shows it.
    pub message: String,
}

impl<W: fmt::Display> From<W> for Notice<W> {
    fn from(kind: W) -> Notice<W> {
        Notice {
            message: kind.to_string(),
            kind,
        }
    }
}

impl<W> fmt::Display for Notice<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
