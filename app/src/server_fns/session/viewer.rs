use domain::Viewer;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// The signed-in user on an instance.
#[server(prefix = "/api/fn", endpoint = "viewer", input = Json, output = Json)]
pub async fn current_viewer(instance: String) -> Result<Viewer, AppError> {
    let (_, caller) = crate::backend::caller(&instance).await?;
    Ok(caller.viewer)
}
