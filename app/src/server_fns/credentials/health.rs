use domain::credentials::InstanceHealth;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// The instance's GitLab version, registry reachability, mode and rate limits.
#[server(prefix = "/api/fn", endpoint = "instance_health", input = Json, output = Json)]
pub async fn load_instance_health(instance: String) -> Result<InstanceHealth, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    backend.credentials.instance_health(&caller).await
}
