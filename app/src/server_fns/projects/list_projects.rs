use domain::view::ProjectListView;
use domain::ProjectPage;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// Projects the user can see that have registry images, searched and paged.
#[server(prefix = "/api/fn", endpoint = "projects", input = Json, output = Json)]
pub async fn list_projects(
    instance: String,
    view: ProjectListView,
) -> Result<ProjectPage, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    backend.browse.projects(&caller, &view).await
}
