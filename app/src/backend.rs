//! The port between server functions and the BFF's services (server-side only).
//!
//! The server crate implements [`Backend`] and puts a [`BackendHandle`] into every request's
//! extensions; server functions pull it out together with the session. This keeps data
//! flowing one way (page → server fn → service → GitLab) without the UI crate knowing the
//! GitLab client.

use crate::error::AppError;
use async_trait::async_trait;
use domain::tags::{
    DeleteOutcome, DeletionPlan, RepositoryHeader, TagDetail, TagListPage, TagListView,
};
use domain::view::{GroupListView, ProjectListView, RepositoryListView};
use domain::{
    GroupDetails, GroupPage, InstanceInfo, ProjectDetails, ProjectPage, RepositoryPage, Viewer,
};
use std::sync::Arc;
use tower_sessions::Session;

/// Everything the UI can ask of the BFF. Every method that touches GitLab checks the session.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Configured GitLab instances (no secrets).
    fn instances(&self) -> Vec<InstanceInfo>;
    /// The signed-in user on `instance`, or [`AppError::NotSignedIn`].
    async fn viewer(&self, session: &Session, instance: &str) -> Result<Viewer, AppError>;
    /// Projects the user can see that have registry images.
    async fn projects(
        &self,
        session: &Session,
        instance: &str,
        view: &ProjectListView,
    ) -> Result<ProjectPage, AppError>;
    /// Groups the user can see.
    async fn groups(
        &self,
        session: &Session,
        instance: &str,
        view: &GroupListView,
    ) -> Result<GroupPage, AppError>;
    /// One project and a page of its image repositories.
    async fn project_repositories(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
        view: &RepositoryListView,
    ) -> Result<(ProjectDetails, RepositoryPage), AppError>;
    /// One group and a page of the image repositories of all its projects.
    async fn group_repositories(
        &self,
        session: &Session,
        instance: &str,
        group_path: &str,
        view: &RepositoryListView,
    ) -> Result<(GroupDetails, RepositoryPage), AppError>;
    /// A page of an image repository's tags, filtered and sorted over all of them.
    async fn tag_list(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        view: &TagListView,
    ) -> Result<TagListPage, AppError>;
    /// One tag in full.
    async fn tag_detail(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        name: &str,
    ) -> Result<TagDetail, AppError>;
    /// Names of every tag matching the view's filters, in the view's order (at most
    /// [`domain::tags::MAX_DELETE_BATCH`]), and how many matched in all.
    async fn matching_tags(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        view: &TagListView,
    ) -> Result<(Vec<String>, u64), AppError>;
    /// What deleting `names` would do, for the confirmation dialog.
    async fn deletion_plan(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        names: Vec<String>,
    ) -> Result<DeletionPlan, AppError>;
    /// Deletes exactly the named tags (the user confirmed this list), reporting each.
    async fn delete_tags(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        names: Vec<String>,
    ) -> Result<Vec<DeleteOutcome>, AppError>;
    /// A project's saved cleanup policy, the viewer's right to edit it, and every image
    /// repository's tags for previews.
    async fn cleanup_overview(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
    ) -> Result<domain::cleanup::CleanupOverview, AppError>;
    /// Saves a project's cleanup policy through GitLab (Maintainer).
    async fn save_cleanup_policy(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
        policy: &domain::cleanup::CleanupPolicy,
    ) -> Result<domain::cleanup::SavedPolicy, AppError>;
    /// "Run now": GitLab's bulk delete with `policy`'s parameters in the confirmed
    /// repositories (Maintainer), each only while the preview still deletes no more tags
    /// than confirmed.
    async fn run_cleanup_now(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
        policy: &domain::cleanup::CleanupPolicy,
        confirmed: &[domain::cleanup::RunConfirmation],
    ) -> Result<Vec<domain::cleanup::RunOutcome>, AppError>;
    /// Creates, changes or deletes a protection rule (Maintainer); the rules afterwards.
    async fn change_protection_rule(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
        change: &domain::protection::RuleChange,
    ) -> Result<domain::protection::ProtectionRules, AppError>;
    /// Schedules the repository's deletion; `confirm_path` must be its path, typed.
    async fn delete_repository(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        confirm_path: &str,
    ) -> Result<RepositoryHeader, AppError>;
}

/// Cloneable handle stored in request extensions.
#[derive(Clone)]
pub struct BackendHandle(pub Arc<dyn Backend>);

/// The backend and the caller's session, for a server function.
pub async fn request_context() -> Result<(Arc<dyn Backend>, Session), AppError> {
    let axum::Extension(BackendHandle(backend)) =
        leptos_axum::extract::<axum::Extension<BackendHandle>>()
            .await
            .map_err(|_| AppError::Internal {
                message: "the backend is not configured".into(),
            })?;
    let session = leptos_axum::extract::<Session>()
        .await
        .map_err(|_| AppError::Internal {
            message: "sessions are not configured".into(),
        })?;
    Ok((backend, session))
}

/// Gives a server function's error its HTTP status (401, 403, 404, 429, 502 …) instead of
/// the default 500, so scripts and the browser's network panel see what happened. Only when
/// called over HTTP: during a page render the page decides its own status.
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    let over_http = leptos::prelude::use_context::<http::request::Parts>()
        .is_some_and(|parts| parts.uri.path().starts_with("/api/"));
    if let (Err(error), true) = (&result, over_http) {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(error.status()) {
                response.set_status(status);
            }
        }
    }
    result
}
