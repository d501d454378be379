use domain::cleanup::{CleanupPolicy, RunConfirmation, RunOutcome};
use domain::protection::{ProtectionRules, RuleChange};
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// "Run now": GitLab's bulk delete with the policy's parameters, in the repositories the user
/// confirmed after seeing the preview (Maintainer).
#[server(prefix = "/api/fn", endpoint = "run_cleanup_now", input = Json, output = Json)]
pub async fn run_cleanup_now(
    instance: String,
    project_path: String,
    policy: CleanupPolicy,
    confirmed: Vec<RunConfirmation>,
) -> Result<Vec<RunOutcome>, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let project = domain::input::NamespacePath::project(&project_path)?;
    domain::cleanup::check_confirmations(&confirmed)?;
    backend
        .cleanup
        .run_now(&caller, &project, &policy, &confirmed)
        .await
}

/// Creates, changes or deletes one protection rule (Maintainer); answers with the rules.
#[server(prefix = "/api/fn", endpoint = "change_protection_rule", input = Json, output = Json)]
pub async fn change_protection_rule(
    instance: String,
    project_path: String,
    change: RuleChange,
) -> Result<ProtectionRules, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let project = domain::input::NamespacePath::project(&project_path)?;
    backend
        .cleanup
        .change_rule(&caller, &project, &change)
        .await
}
