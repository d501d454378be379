use domain::storage::ProjectStorage;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// A project's storage across its repositories, each layer once.
#[server(prefix = "/api/fn", endpoint = "project_storage", input = Json, output = Json)]
pub async fn load_project_storage(
    instance: String,
    project_path: String,
    read_layers: bool,
) -> Result<ProjectStorage, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let project = domain::input::NamespacePath::project(&project_path)?;
    backend
        .storage
        .project_storage(&caller, &project, read_layers)
        .await
}
