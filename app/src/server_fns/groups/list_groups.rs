use domain::view::GroupListView;
use domain::GroupPage;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// Groups the user can see, searched and paged.
#[server(prefix = "/api/fn", endpoint = "groups", input = Json, output = Json)]
pub async fn list_groups(instance: String, view: GroupListView) -> Result<GroupPage, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    backend.browse.groups(&caller, &view).await
}
