use domain::tags::TagDetail;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// One tag in full: digests, platforms or layers, referrers, other tags of the same image.
#[server(prefix = "/api/fn", endpoint = "tag_detail", input = Json)]
pub async fn load_tag_detail(
    instance: String,
    repository_id: u64,
    name: String,
) -> Result<TagDetail, AppError> {
    crate::backend::with_status(
        async {
            let (backend, session) = crate::backend::request_context().await?;
            backend
                .tag_detail(&session, &instance, repository_id, &name)
                .await
        }
        .await,
    )
}
