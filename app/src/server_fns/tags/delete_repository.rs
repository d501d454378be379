use domain::tags::RepositoryHeader;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// Schedules an image repository's deletion after its path was typed as confirmation.
#[server(prefix = "/api/fn", endpoint = "delete_repository", input = Json, output = Json)]
pub async fn delete_repository(
    instance: String,
    repository_id: u64,
    confirm_path: String,
) -> Result<RepositoryHeader, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    backend
        .tags
        .delete_repository(&caller, repository_id, &confirm_path)
        .await
}
