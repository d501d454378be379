use domain::view::RepositoryListView;
use domain::{ProjectDetails, RepositoryPage};
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// A project's header data and one page of its image repositories.
#[server(prefix = "/api/fn", endpoint = "project_repositories", input = Json, output = Json)]
pub async fn project_repositories(
    instance: String,
    project_path: String,
    view: RepositoryListView,
) -> Result<(ProjectDetails, RepositoryPage), AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let project = domain::input::NamespacePath::project(&project_path)?;
    backend
        .browse
        .project_repositories(&caller, &project, &view)
        .await
}
