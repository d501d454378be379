use domain::cleanup::CleanupPolicy;
use domain::storage::CleanupStorage;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// What a draft (and the saved policy) would free, layer by layer, per repository and for
/// the project.
#[server(prefix = "/api/fn", endpoint = "cleanup_storage", input = Json, output = Json)]
pub async fn load_cleanup_storage(
    instance: String,
    project_path: String,
    draft: CleanupPolicy,
) -> Result<CleanupStorage, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let project = domain::input::NamespacePath::project(&project_path)?;
    backend
        .storage
        .cleanup_storage(&caller, &project, &draft)
        .await
}
