use domain::tags::DeleteOutcome;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// Deletes exactly the tags the user confirmed and reports each one.
#[server(prefix = "/api/fn", endpoint = "delete_tags", input = Json, output = Json)]
pub async fn delete_tags(
    instance: String,
    repository_id: u64,
    names: Vec<String>,
) -> Result<Vec<DeleteOutcome>, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let names = domain::input::TagNames::new(names)?;
    backend
        .tags
        .delete_tags(&caller, repository_id, names)
        .await
}
