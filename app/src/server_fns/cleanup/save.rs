use domain::cleanup::{CleanupPolicy, SavedPolicy};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// Saves a project's cleanup policy through GitLab (Maintainer).
#[server(prefix = "/api/fn", endpoint = "save_cleanup_policy", input = Json)]
pub async fn save_cleanup_policy(
    instance: String,
    project_path: String,
    policy: CleanupPolicy,
) -> Result<SavedPolicy, AppError> {
    crate::backend::with_status(
        async {
            let (backend, session) = crate::backend::request_context().await?;
            backend
                .save_cleanup_policy(&session, &instance, &project_path, &policy)
                .await
        }
        .await,
    )
}
