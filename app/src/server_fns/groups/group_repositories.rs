use domain::view::RepositoryListView;
use domain::{GroupDetails, RepositoryPage};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// A group's header data and one page of the image repositories of all its projects.
#[server(prefix = "/api/fn", endpoint = "group_repositories", input = Json)]
pub async fn group_repositories(
    instance: String,
    group_path: String,
    view: RepositoryListView,
) -> Result<(GroupDetails, RepositoryPage), AppError> {
    crate::backend::with_status(
        async {
            let (backend, session) = crate::backend::request_context().await?;
            backend
                .group_repositories(&session, &instance, &group_path, &view)
                .await
        }
        .await,
    )
}
