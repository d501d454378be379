use domain::credentials::CredentialsPage;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// A project's or group's registry tokens (never their values) and the viewer's rights.
#[server(prefix = "/api/fn", endpoint = "credentials", input = Json, output = Json)]
pub async fn load_credentials(
    instance: String,
    owner: String,
    path: String,
) -> Result<CredentialsPage, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let owner = domain::credentials::CredentialOwner::parse(&owner)?;
    let path = domain::input::NamespacePath::parse_as(&path, &format!("{} path", owner.noun()))?;
    backend.credentials.credentials(&caller, owner, &path).await
}
