use domain::credentials::CredentialsPage;
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// Revokes a registry token; `confirm_name` is its name as the user typed it.
#[server(prefix = "/api/fn", endpoint = "revoke_credential", input = Json, output = Json)]
pub async fn revoke_credential(
    instance: String,
    owner: String,
    path: String,
    kind: String,
    token_id: u64,
    confirm_name: String,
) -> Result<CredentialsPage, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let owner = domain::credentials::CredentialOwner::parse(&owner)?;
    let path = domain::input::NamespacePath::parse_as(&path, &format!("{} path", owner.noun()))?;
    let kind = domain::credentials::CredentialKind::parse(&kind)?;
    backend
        .credentials
        .revoke_credential(&caller, owner, &path, kind, token_id, &confirm_name)
        .await
}
