use domain::view::RepositoryListView;
use domain::{GroupDetails, RepositoryPage};
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// A group's header data and one page of the image repositories of all its projects.
#[server(prefix = "/api/fn", endpoint = "group_repositories", input = Json, output = Json)]
pub async fn group_repositories(
    instance: String,
    group_path: String,
    view: RepositoryListView,
) -> Result<(GroupDetails, RepositoryPage), AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let group = domain::input::NamespacePath::group(&group_path)?;
    backend
        .browse
        .group_repositories(&caller, &group, &view)
        .await
}
