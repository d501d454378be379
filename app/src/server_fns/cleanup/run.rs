use domain::cleanup::{CleanupPolicy, RunConfirmation, RunOutcome};
use domain::protection::{ProtectionRules, RuleChange};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// "Run now": GitLab's bulk delete with the policy's parameters, in the repositories the user
/// confirmed after seeing the preview (Maintainer).
#[server(prefix = "/api/fn", endpoint = "run_cleanup_now", input = Json)]
pub async fn run_cleanup_now(
    instance: String,
    project_path: String,
    policy: CleanupPolicy,
    confirmed: Vec<RunConfirmation>,
) -> Result<Vec<RunOutcome>, AppError> {
    crate::backend::with_status(
        async {
            let (backend, session) = crate::backend::request_context().await?;
            backend
                .run_cleanup_now(&session, &instance, &project_path, &policy, &confirmed)
                .await
        }
        .await,
    )
}

/// Creates, changes or deletes one protection rule (Maintainer); answers with the rules.
#[server(prefix = "/api/fn", endpoint = "change_protection_rule", input = Json)]
pub async fn change_protection_rule(
    instance: String,
    project_path: String,
    change: RuleChange,
) -> Result<ProtectionRules, AppError> {
    crate::backend::with_status(
        async {
            let (backend, session) = crate::backend::request_context().await?;
            backend
                .change_protection_rule(&session, &instance, &project_path, &change)
                .await
        }
        .await,
    )
}
