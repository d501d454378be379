//! `GET /metadata` (GitLab 15.2 and later) and its deprecated alias `GET /version`.
//!
//! GitLab answers both from the same GraphQL `metadata` query (`lib/api/metadata.rb`), so both
//! return `{version, revision, kas: {enabled, externalUrl, externalK8sProxyUrl, version},
//! enterprise}` (`kas.externalK8sProxyUrl` since 17.6). They need a signed-in caller
//! (`401 Unauthorized`) whose token has `api`, `read_api` or, for these GETs, `read_user`. The
//! double has no agent server for Kubernetes (KAS) and is Community Edition.

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{authenticate, ApiError};
use crate::state::Double;

/// The GitLab version the double claims (REST `/metadata`, GraphQL `metadata.version`).
pub(crate) const VERSION: &str = "17.11.0-double";
/// Its revision.
pub(crate) const REVISION: &str = "double";

/// The metadata entity.
pub(crate) fn metadata_json() -> Value {
    json!({
        "version": VERSION,
        "revision": REVISION,
        "kas": {
            "enabled": false,
            "externalUrl": null,
            "externalK8sProxyUrl": null,
            "version": null,
        },
        "enterprise": false,
    })
}

/// `GET /metadata`, `GET /version`.
pub(super) async fn metadata(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_user_read()?;
    Ok(Json(metadata_json()).into_response())
}
