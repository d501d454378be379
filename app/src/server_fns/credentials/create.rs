use domain::credentials::{CredentialForm, IssuedCredential};
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// Creates a registry token through GitLab. The answer is the only place its value ever
/// appears; the page builds every format from it in the browser.
#[server(prefix = "/api/fn", endpoint = "create_credential", input = Json, output = Json)]
pub async fn create_credential(
    instance: String,
    owner: String,
    path: String,
    form: CredentialForm,
) -> Result<IssuedCredential, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let owner = domain::credentials::CredentialOwner::parse(&owner)?;
    let path = domain::input::NamespacePath::parse_as(&path, &format!("{} path", owner.noun()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let today = domain::credentials::date_of(now);
    let request = domain::credentials::CredentialRequest::new(&form, today)?;
    backend
        .credentials
        .create_credential(&caller, owner, &path, &request)
        .await
}
