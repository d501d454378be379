use domain::view::RepositoryListView;
use domain::{ProjectDetails, RepositoryPage};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// A project's header data and one page of its image repositories.
#[server(prefix = "/api/fn", endpoint = "project_repositories", input = Json)]
pub async fn project_repositories(
    instance: String,
    project_path: String,
    view: RepositoryListView,
) -> Result<(ProjectDetails, RepositoryPage), AppError> {
    crate::backend::with_status(
        async {
            let (backend, session) = crate::backend::request_context().await?;
            backend
                .project_repositories(&session, &instance, &project_path, &view)
                .await
        }
        .await,
    )
}
