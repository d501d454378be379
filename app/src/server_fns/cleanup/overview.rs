use domain::cleanup::CleanupOverview;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// A project's saved cleanup policy and every repository's tags, for the live preview.
#[server(prefix = "/api/fn", endpoint = "cleanup_overview", input = Json, output = Json)]
pub async fn load_cleanup_overview(
    instance: String,
    project_path: String,
) -> Result<CleanupOverview, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let project = domain::input::NamespacePath::project(&project_path)?;
    backend.cleanup.overview(&caller, &project).await
}
