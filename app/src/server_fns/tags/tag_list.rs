use domain::tags::{TagListPage, TagListView};
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// One page of an image repository's tags, filtered and sorted across all of them.
#[server(prefix = "/api/fn", endpoint = "tag_list", input = Json, output = Json)]
pub async fn tag_list(
    instance: String,
    repository_id: u64,
    view: TagListView,
) -> Result<TagListPage, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    backend.tags.tag_list(&caller, repository_id, &view).await
}
