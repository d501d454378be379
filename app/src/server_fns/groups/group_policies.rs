use domain::governance::{GroupPolicies, GroupPoliciesView};
use leptos::prelude::*;

use crate::codec::Json;
use crate::error::AppError;

/// The cleanup policies of a group's projects (subgroups included), compared with the
/// view's standard, filtered and sorted.
#[server(prefix = "/api/fn", endpoint = "group_policies", input = Json, output = Json)]
pub async fn group_policy_page(
    instance: String,
    group_path: String,
    view: GroupPoliciesView,
) -> Result<GroupPolicies, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    let group = domain::input::NamespacePath::group(&group_path)?;
    backend
        .governance
        .group_policies(&caller, &group, &view)
        .await
}

/// The cleanup policies of every project of the instance (administrators only), compared
/// with the view's standard, filtered and sorted.
#[server(prefix = "/api/fn", endpoint = "instance_policies", input = Json, output = Json)]
pub async fn instance_policy_page(
    instance: String,
    view: GroupPoliciesView,
) -> Result<GroupPolicies, AppError> {
    let (backend, caller) = crate::backend::caller(&instance).await?;
    backend.governance.instance_policies(&caller, &view).await
}
