use domain::tags::{TagListPage, TagListView};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// One page of an image repository's tags, filtered and sorted across all of them.
#[server(prefix = "/api/fn", endpoint = "tag_list", input = Json)]
pub async fn tag_list(
    instance: String,
    repository_id: u64,
    view: TagListView,
) -> Result<TagListPage, AppError> {
    crate::backend::with_status(
        async {
            let (backend, session) = crate::backend::request_context().await?;
            backend
                .tag_list(&session, &instance, repository_id, &view)
                .await
        }
        .await,
    )
}
