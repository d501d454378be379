use domain::cleanup::CleanupOverview;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// A project's saved cleanup policy and every repository's tags, for the live preview.
#[server(prefix = "/api/fn", endpoint = "cleanup_overview", input = Json)]
pub async fn load_cleanup_overview(
    instance: String,
    project_path: String,
) -> Result<CleanupOverview, AppError> {
    crate::backend::with_status(
        async {
            let (backend, session) = crate::backend::request_context().await?;
            backend
                .cleanup_overview(&session, &instance, &project_path)
                .await
        }
        .await,
    )
}
