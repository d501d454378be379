use domain::governance::apply::{ApplyOutcome, ApplyReview, ApplyView};
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// What saving the view's standard in each chosen project of a group would change and
/// delete; nothing is saved.
#[server(prefix = "/api/fn", endpoint = "apply_review", input = Json, output = Json)]
pub async fn apply_review_page(
    instance: String,
    group_path: String,
    view: ApplyView,
) -> Result<ApplyReview, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let group = domain::input::NamespacePath::group(&group_path)?;
    backend
        .governance
        .apply_review(&caller, &group, &view)
        .await
}

/// Saves the view's standard in each chosen project where the checks hold; `confirm` is the
/// group's path as the user typed it.
#[server(prefix = "/api/fn", endpoint = "apply_standard", input = Json, output = Json)]
pub async fn apply_standard(
    instance: String,
    group_path: String,
    view: ApplyView,
    confirm: String,
) -> Result<Vec<ApplyOutcome>, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let group = domain::input::NamespacePath::group(&group_path)?;
    backend
        .governance
        .apply_standard(&caller, &group, &view, &confirm)
        .await
}
