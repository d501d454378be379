use domain::tags::TagDetail;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// One tag in full: digests, platforms or layers, referrers, other tags of the same image.
#[server(prefix = "/api/fn", endpoint = "tag_detail", input = Json, output = Json)]
pub async fn load_tag_detail(
    instance: String,
    repository_id: u64,
    name: String,
) -> Result<TagDetail, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    // A name no tag can have is simply not there.
    let tag = domain::input::TagName::parse(&name).map_err(|_| AppError::NotFound {
        what: domain::Subject::Tag {
            repository: repository_id,
            name: domain::input::quoted(&name)
                .trim_matches(['“', '”'])
                .to_string(),
        },
    })?;
    backend.tags.tag_detail(&caller, repository_id, &tag).await
}
