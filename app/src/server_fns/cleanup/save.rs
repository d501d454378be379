use domain::cleanup::{CleanupPolicy, SavedPolicy};
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// Saves a project's cleanup policy through GitLab (Maintainer).
#[server(prefix = "/api/fn", endpoint = "save_cleanup_policy", input = Json, output = Json)]
pub async fn save_cleanup_policy(
    instance: String,
    project_path: String,
    policy: CleanupPolicy,
) -> Result<SavedPolicy, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let project = domain::input::NamespacePath::project(&project_path)?;
    backend
        .cleanup
        .save_policy(&caller, &project, &policy)
        .await
}
