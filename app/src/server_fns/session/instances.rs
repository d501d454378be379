use domain::InstanceInfo;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// The GitLab instances a user can sign in to. Public: the sign-in page needs it.
#[server(prefix = "/api/fn", endpoint = "instances", output = Json)]
pub async fn list_instances() -> Result<Vec<InstanceInfo>, AppError> {
    let backend = crate::backend::backend().await?;
    Ok(backend.sign_in.instances())
}
