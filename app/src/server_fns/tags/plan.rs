use domain::tags::{DeletionPlan, TagListView};
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// Every tag name matching a list view (for "select all matching"), and the full count.
#[server(prefix = "/api/fn", endpoint = "matching_tags", input = Json, output = Json)]
pub async fn matching_tags(
    instance: String,
    repository_id: u64,
    view: TagListView,
) -> Result<(Vec<String>, u64), AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    backend
        .tags
        .matching_tags(&caller, repository_id, &view)
        .await
}

/// What deleting these tags would do: refusals, shared images, `latest`.
#[server(prefix = "/api/fn", endpoint = "deletion_plan", input = Json, output = Json)]
pub async fn plan_deletion(
    instance: String,
    repository_id: u64,
    names: Vec<String>,
) -> Result<DeletionPlan, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let names = domain::input::TagNames::new(names)?;
    backend
        .tags
        .deletion_plan(&caller, repository_id, &names)
        .await
}
