use domain::view::GroupListView;
use domain::GroupPage;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// Groups the user can see, searched and paged.
#[server(prefix = "/api/fn", endpoint = "groups", input = Json)]
pub async fn list_groups(instance: String, view: GroupListView) -> Result<GroupPage, AppError> {
    crate::backend::with_status(
        async {
            let (backend, session) = crate::backend::request_context().await?;
            backend.groups(&session, &instance, &view).await
        }
        .await,
    )
}
