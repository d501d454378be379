//! The port between server functions and the BFF's services (server side only).
//!
//! A request first becomes a [`Caller`]: who is asking (the GitLab user), on which instance,
//! with which credential. The server resolves it once, from the session or from a bearer
//! token, before any other work; every service method then takes the caller, so no service
//! can run for nobody. The services implement the per-feature traits below directly, and the
//! server puts a [`Backend`] (one handle per feature) into every request's extensions.
//!
//! Inputs reach the services only as their validating types ([`NamespacePath`],
//! [`TagNames`], views read back through their query strings): a server function turns its
//! raw arguments into those after the caller is known, with the same constructors the URL
//! and the JSON API use.

use crate::error::AppError;
use async_trait::async_trait;
use domain::cleanup::{CleanupOverview, CleanupPolicy, RunConfirmation, RunOutcome, SavedPolicy};
use domain::credentials::{
    CredentialKind, CredentialOwner, CredentialRequest, CredentialsPage, InstanceHealth,
    IssuedCredential,
};
use domain::governance::apply::{ApplyOutcome, ApplyReview, ApplyView};
use domain::governance::{GroupPolicies, GroupPoliciesView};
use domain::input::{NamespacePath, TagName, TagNames};
use domain::protection::{ProtectionRules, RuleChange};
use domain::storage::{
    CleanupStorage, DeletionEstimate, ProjectStorage, RepositoryStorage, TagComparison,
};
use domain::tags::{
    DeleteOutcome, DeletionPlan, RepositoryHeader, TagDetail, TagListPage, TagListView,
};
use domain::view::{GroupListView, ProjectListView, RepositoryListView};
use domain::{
    GroupDetails, GroupPage, InstanceInfo, ProjectDetails, ProjectPage, RepositoryPage, Viewer,
};
use std::sync::Arc;
use tower_sessions::Session;

/// A GitLab access token. Never printed: `Debug` says only that it is there.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(secret: String) -> Self {
        AccessToken(secret)
    }

    /// The secret itself, for the `Authorization` header of a GitLab request.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(…)")
    }
}

/// Identifies one credential for caches: a digest of the instance and the token, so a cached
/// answer is only ever reused for the very credential GitLab checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialKey(pub [u8; 16]);

/// How the caller's GitLab calls are authorised (implemented by the server).
#[async_trait]
pub trait Credential: Send + Sync {
    /// The access token to send now.
    fn token(&self) -> AccessToken;
    /// The cache key of the current token.
    fn key(&self) -> CredentialKey;
    /// GitLab said `stale` expired: a fresh token (a browser sign-in refreshes; a bearer
    /// token cannot, so its caller is signed out).
    async fn renew(&self, stale: &AccessToken) -> Result<AccessToken, AppError>;
    /// GitLab refused the credential outright (revoked, or not a token): forget it.
    async fn revoked(&self);
    /// A sign-in kept in the browser's session, as opposed to a script's bearer token.
    fn is_session(&self) -> bool;
}

/// Who is asking: resolved once per request, before anything costs a GitLab call.
#[derive(Clone)]
pub struct Caller {
    /// The configured instance's name.
    pub instance: String,
    /// The GitLab user behind the credential, as GitLab reported it at sign-in (or when the
    /// bearer token was checked).
    pub viewer: Viewer,
    pub credential: Arc<dyn Credential>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("instance", &self.instance)
            .field("user", &self.viewer.username)
            .finish_non_exhaustive()
    }
}

/// Sign-in state: the instances, and the caller behind a session.
#[async_trait]
pub trait SignIn: Send + Sync + 'static {
    /// Configured GitLab instances (no secrets).
    fn instances(&self) -> Vec<InstanceInfo>;
    /// The caller signed in to `instance` in this session, refreshing the token when it is
    /// about to expire; [`AppError::NotSignedIn`] without a sign-in.
    async fn caller(&self, session: &Session, instance: &str) -> Result<Caller, AppError>;
}

/// Projects, groups and their image repositories.
#[async_trait]
pub trait Browse: Send + Sync + 'static {
    /// Projects the caller can see that have registry images.
    async fn projects(
        &self,
        caller: &Caller,
        view: &ProjectListView,
    ) -> Result<ProjectPage, AppError>;
    /// Groups the caller can see.
    async fn groups(&self, caller: &Caller, view: &GroupListView) -> Result<GroupPage, AppError>;
    /// One project and a page of its image repositories.
    async fn project_repositories(
        &self,
        caller: &Caller,
        project: &NamespacePath,
        view: &RepositoryListView,
    ) -> Result<(ProjectDetails, RepositoryPage), AppError>;
    /// One group and a page of the image repositories of all its projects.
    async fn group_repositories(
        &self,
        caller: &Caller,
        group: &NamespacePath,
        view: &RepositoryListView,
    ) -> Result<(GroupDetails, RepositoryPage), AppError>;
}

/// Tags of an image repository, and deleting them.
#[async_trait]
pub trait Tags: Send + Sync + 'static {
    /// A page of an image repository's tags, filtered and sorted over all of them.
    async fn tag_list(
        &self,
        caller: &Caller,
        repository_id: u64,
        view: &TagListView,
    ) -> Result<TagListPage, AppError>;
    /// One tag in full.
    async fn tag_detail(
        &self,
        caller: &Caller,
        repository_id: u64,
        name: &TagName,
    ) -> Result<TagDetail, AppError>;
    /// Names of every tag matching the view's filters, in the view's order (at most
    /// [`domain::tags::MAX_DELETE_BATCH`]), and how many matched in all.
    async fn matching_tags(
        &self,
        caller: &Caller,
        repository_id: u64,
        view: &TagListView,
    ) -> Result<(Vec<String>, u64), AppError>;
    /// What deleting `names` would do, for the confirmation dialog.
    /// Every tag of the repository GitLab says is in use or dead, with the reasons.
    async fn tag_usage(
        &self,
        caller: &Caller,
        repository_id: u64,
    ) -> Result<domain::usage::UsageState, AppError>;
    async fn deletion_plan(
        &self,
        caller: &Caller,
        repository_id: u64,
        names: &TagNames,
    ) -> Result<DeletionPlan, AppError>;
    /// Deletes exactly the named tags (the user confirmed this list), reporting each. Runs
    /// to the end even if the request goes away or the server is asked to stop.
    async fn delete_tags(
        &self,
        caller: &Caller,
        repository_id: u64,
        names: TagNames,
    ) -> Result<Vec<DeleteOutcome>, AppError>;
    /// Schedules the repository's deletion; `confirm_path` must be its path, typed.
    async fn delete_repository(
        &self,
        caller: &Caller,
        repository_id: u64,
        confirm_path: &str,
    ) -> Result<RepositoryHeader, AppError>;
}

/// Cleanup policies, Run now and protection rules.
#[async_trait]
pub trait Cleanup: Send + Sync + 'static {
    /// A project's saved cleanup policy, the caller's right to edit it, and every image
    /// repository's tags for previews.
    async fn overview(
        &self,
        caller: &Caller,
        project: &NamespacePath,
    ) -> Result<CleanupOverview, AppError>;
    /// Saves a project's cleanup policy through GitLab (Maintainer).
    async fn save_policy(
        &self,
        caller: &Caller,
        project: &NamespacePath,
        policy: &CleanupPolicy,
    ) -> Result<SavedPolicy, AppError>;
    /// "Run now": GitLab's bulk delete with `policy`'s parameters in the confirmed
    /// repositories (Maintainer), each only while the preview still deletes exactly the
    /// confirmed tags.
    async fn run_now(
        &self,
        caller: &Caller,
        project: &NamespacePath,
        policy: &CleanupPolicy,
        confirmed: &[RunConfirmation],
    ) -> Result<Vec<RunOutcome>, AppError>;
    /// Creates, changes or deletes a protection rule (Maintainer); the rules afterwards.
    async fn change_rule(
        &self,
        caller: &Caller,
        project: &NamespacePath,
        change: &RuleChange,
    ) -> Result<ProtectionRules, AppError>;
}

/// A group's cleanup policies side by side, and a standard applied to chosen projects.
#[async_trait]
pub trait Governance: Send + Sync + 'static {
    /// The policies of a group's projects (subgroups included), compared with the view's
    /// standard, filtered and sorted.
    async fn group_policies(
        &self,
        caller: &Caller,
        group: &NamespacePath,
        view: &GroupPoliciesView,
    ) -> Result<GroupPolicies, AppError>;
    /// The policies of every project of the instance (administrators only), as a group's.
    async fn instance_policies(
        &self,
        caller: &Caller,
        view: &GroupPoliciesView,
    ) -> Result<GroupPolicies, AppError>;
    /// What saving the view's standard in each chosen project would change and delete, and
    /// which projects are left out; nothing is saved.
    async fn apply_review(
        &self,
        caller: &Caller,
        group: &NamespacePath,
        view: &ApplyView,
    ) -> Result<ApplyReview, AppError>;
    /// Saves the standard in each chosen project where the review's checks still hold
    /// (`confirm`: the group's path, typed); one outcome per project, in order.
    async fn apply_standard(
        &self,
        caller: &Caller,
        group: &NamespacePath,
        view: &ApplyView,
        confirm: &str,
    ) -> Result<Vec<ApplyOutcome>, AppError>;
}

/// Registry credentials (deploy and access tokens) and the instance's registry health.
#[async_trait]
pub trait Credentials: Send + Sync + 'static {
    /// A project's or group's registry-capable tokens (never their values) and the
    /// viewer's right to manage them.
    async fn credentials(
        &self,
        caller: &Caller,
        owner: CredentialOwner,
        path: &NamespacePath,
    ) -> Result<CredentialsPage, AppError>;
    /// Creates a token through GitLab (Maintainer; Owner for groups). The answer carries the
    /// secret, once; nothing keeps it.
    async fn create_credential(
        &self,
        caller: &Caller,
        owner: CredentialOwner,
        path: &NamespacePath,
        request: &CredentialRequest,
    ) -> Result<IssuedCredential, AppError>;
    /// Revokes a token; `confirm_name` must be its name, typed.
    async fn revoke_credential(
        &self,
        caller: &Caller,
        owner: CredentialOwner,
        path: &NamespacePath,
        kind: CredentialKind,
        token_id: u64,
        confirm_name: &str,
    ) -> Result<CredentialsPage, AppError>;
    /// GitLab's version, its registry's reachability, mode and rate limits.
    async fn instance_health(&self, caller: &Caller) -> Result<InstanceHealth, AppError>;
}

/// Storage truth: figures computed from the repositories' layers, gathered on demand.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// The repository's deduplicated storage, largest layers and shape. Reading layers
    /// starts by itself for small repositories, for large ones when `read_layers` asks; the
    /// progress says how far it is.
    async fn repository_storage(
        &self,
        caller: &Caller,
        repository_id: u64,
        read_layers: bool,
    ) -> Result<RepositoryStorage, AppError>;
    /// What deleting these tags would free, layer by layer, as far as layers are known.
    async fn deletion_estimate(
        &self,
        caller: &Caller,
        repository_id: u64,
        names: &TagNames,
    ) -> Result<DeletionEstimate, AppError>;
    /// What a cleanup policy draft, and the saved policy, would free in each repository of
    /// the project and across it, layer by layer.
    async fn cleanup_storage(
        &self,
        caller: &Caller,
        project: &NamespacePath,
        draft: &CleanupPolicy,
    ) -> Result<CleanupStorage, AppError>;
    /// The project's storage across its repositories: each blob once, what the repositories
    /// share, the largest layers, GitLab's own figure where it has one.
    async fn project_storage(
        &self,
        caller: &Caller,
        project: &NamespacePath,
        read_layers: bool,
    ) -> Result<ProjectStorage, AppError>;
    /// Two tags side by side: digests, platforms, layers aligned, sizes.
    async fn compare_tags(
        &self,
        caller: &Caller,
        repository_id: u64,
        a: &TagName,
        b: &TagName,
    ) -> Result<TagComparison, AppError>;
}

/// The services, one handle per feature; cloned into every request's extensions.
#[derive(Clone)]
pub struct Backend {
    pub sign_in: Arc<dyn SignIn>,
    pub browse: Arc<dyn Browse>,
    pub tags: Arc<dyn Tags>,
    pub cleanup: Arc<dyn Cleanup>,
    pub governance: Arc<dyn Governance>,
    pub credentials: Arc<dyn Credentials>,
    pub storage: Arc<dyn Storage>,
}

/// The backend, for a server function that needs no caller (the public instance list).
pub async fn backend() -> Result<Backend, AppError> {
    let axum::Extension(backend) = leptos_axum::extract::<axum::Extension<Backend>>()
        .await
        .map_err(|_| AppError::Internal {
            message: "the backend is not configured".into(),
        })?;
    Ok(backend)
}

/// The backend and the caller signed in to `instance`, resolved before anything else.
pub async fn caller(instance: &str) -> Result<(Backend, Caller), AppError> {
    let backend = backend().await?;
    let session = leptos_axum::extract::<Session>()
        .await
        .map_err(|_| AppError::Internal {
            message: "sessions are not configured".into(),
        })?;
    let caller = backend.sign_in.caller(&session, instance).await?;
    Ok((backend, caller))
}
