use domain::tags::DeleteOutcome;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// Deletes exactly the tags the user confirmed and reports each one.
#[server(prefix = "/api/fn", endpoint = "delete_tags", input = Json)]
pub async fn delete_tags(
    instance: String,
    repository_id: u64,
    names: Vec<String>,
) -> Result<Vec<DeleteOutcome>, AppError> {
    crate::backend::with_status(
        async {
            let (backend, session) = crate::backend::request_context().await?;
            backend
                .delete_tags(&session, &instance, repository_id, names)
                .await
        }
        .await,
    )
}
