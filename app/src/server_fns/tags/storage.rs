use domain::storage::{DeletionEstimate, RepositoryStorage, TagComparison};
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// A repository's deduplicated storage and largest layers, and how far reading layers is.
#[server(prefix = "/api/fn", endpoint = "repository_storage", input = Json, output = Json)]
pub async fn load_repository_storage(
    instance: String,
    repository_id: u64,
    read_layers: bool,
) -> Result<RepositoryStorage, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    backend
        .storage
        .repository_storage(&caller, repository_id, read_layers)
        .await
}

/// What deleting these tags would free, layer by layer.
#[server(prefix = "/api/fn", endpoint = "deletion_estimate", input = Json, output = Json)]
pub async fn estimate_deletion(
    instance: String,
    repository_id: u64,
    names: Vec<String>,
) -> Result<DeletionEstimate, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let names = domain::input::TagNames::new(names)?;
    backend
        .storage
        .deletion_estimate(&caller, repository_id, &names)
        .await
}

/// Two tags side by side.
#[server(prefix = "/api/fn", endpoint = "compare_tags", input = Json, output = Json)]
pub async fn load_comparison(
    instance: String,
    repository_id: u64,
    a: String,
    b: String,
) -> Result<TagComparison, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let pair = domain::input::TagPair::new(&a, &b)?;
    backend
        .storage
        .compare_tags(&caller, repository_id, &pair.a, &pair.b)
        .await
}
