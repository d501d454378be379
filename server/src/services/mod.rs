//! The BFF's services. Each implements one of the UI's backend traits
//! (`app::backend::{Browse, Tags, Cleanup}`) directly and takes an already resolved
//! [`Caller`]: no service can run for nobody, and none parses raw input (they take the
//! domain's validated types).
//!
//! [`Gateway`] is what they share: the instances, the caches, the tag indexes and budgets,
//! the metrics, and the tracker of work that must finish. Its [`Gateway::call`] runs one
//! GitLab call with the caller's token: on "token expired" it renews the credential once
//! and retries; when GitLab refuses the credential it forgets it (session sign-in and every
//! cached answer of that credential) and the caller is signed out.

use crate::caches::Caches;
use crate::errors;
use crate::gitlab::{GitLabClient, GitLabError};
use crate::index::TagIndexes;
use crate::instances::{Instance, Instances};
use crate::layers::LayerStore;
use crate::metrics::{KindLabels, Metrics};
use app::backend::Caller;
use app::error::AppError;
use domain::{AccessLevel, Subject};
use std::future::Future;
use std::sync::Arc;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

pub mod browse;
pub mod cleanup;
pub mod credentials;
pub mod governance;
pub mod protection;
pub mod storage;
pub mod tags;
pub mod usage;

pub use browse::BrowseService;
pub use cleanup::CleanupService;
pub use credentials::CredentialService;
pub use governance::GovernanceService;
pub use storage::StorageService;
pub use tags::TagService;

/// What every service shares.
pub struct Gateway {
    pub instances: Instances,
    pub caches: Caches,
    pub indexes: Arc<TagIndexes>,
    /// Every repository's layers (manifests by digest), for storage figures.
    pub layers: Arc<LayerStore>,
    pub metrics: Arc<Metrics>,
    /// Work that must run to its end even if its request goes away: deletions, runs,
    /// policy and rule changes. Shutdown waits for it (within the grace period).
    pub tasks: TaskTracker,
    /// How CI context is read for the "in use" verdicts.
    pub usage: crate::config::UsageSettings,
    /// `limits.group_policy_projects`.
    pub group_policy_projects: u32,
}

impl Gateway {
    /// The caller's instance.
    pub fn instance(&self, caller: &Caller) -> Result<&Arc<Instance>, AppError> {
        self.instances.get(&caller.instance)
    }

    /// One GitLab call with the caller's token (see the module docs).
    pub async fn call<T, F, Fut>(
        &self,
        caller: &Caller,
        subject: Subject,
        f: F,
    ) -> Result<T, AppError>
    where
        F: Fn(GitLabClient, String) -> Fut,
        Fut: Future<Output = Result<T, GitLabError>>,
    {
        let instance = self.instance(caller)?;
        let token = caller.credential.token();
        let outcome = match f(instance.api.clone(), token.secret().to_string()).await {
            // Refused as expired, or refused outright while a session's token was being
            // replaced (GitLab revokes the old token when it rotates the pair): renewing
            // takes the stored newer token, or refreshes, or signs out if that fails too.
            Err(error)
                if matches!(error, GitLabError::TokenExpired)
                    || (matches!(error, GitLabError::Unauthorized)
                        && caller.credential.is_session()) =>
            {
                let fresh = caller.credential.renew(&token).await?;
                f(instance.api.clone(), fresh.secret().to_string()).await
            }
            other => other,
        };
        match outcome {
            Ok(value) => Ok(value),
            Err(error) => Err(self.failure(caller, error, subject).await),
        }
    }

    /// A group by path, which also checks that the caller may see it.
    pub(crate) async fn group(
        &self,
        caller: &Caller,
        group: &domain::input::NamespacePath,
    ) -> Result<crate::gitlab::wire::Group, AppError> {
        self.call(caller, Subject::Group(group.to_string()), |api, token| {
            let path = group.to_string();
            async move { api.group(&token, &path).await }
        })
        .await
    }

    /// A failed GitLab call in the user's terms; a refused credential signs the caller out.
    pub async fn failure(&self, caller: &Caller, error: GitLabError, subject: Subject) -> AppError {
        match error {
            GitLabError::Unauthorized | GitLabError::TokenExpired => {
                self.caches.forget_credential(caller.credential.key()).await;
                caller.credential.revoked().await;
                AppError::NotSignedIn {
                    instance: caller.instance.clone(),
                }
            }
            other => errors::app_error(other, subject),
        }
    }

    /// Runs destructive work in a tracked task, so it ends as it would have even if the
    /// request is dropped (a client gone, a timeout) or the server is asked to stop; the
    /// request still gets the result when it is there to get it. Refused once shutdown
    /// has begun.
    pub async fn to_the_end<T, Fut>(&self, work: Fut) -> Result<T, AppError>
    where
        Fut: Future<Output = Result<T, AppError>> + Send + 'static,
        T: Send + 'static,
    {
        if self.tasks.is_closed() {
            return Err(AppError::Unavailable {
                retry_after_secs: 5,
            });
        }
        // The request's span goes with the work: its log lines keep the request id.
        let work = work.instrument(tracing::Span::current());
        self.tasks.spawn(work).await.unwrap_or_else(|error| {
            tracing::error!(%error, "destructive work panicked");
            Err(AppError::Internal {
                message: "the change stopped unexpectedly; reload to see what GitLab did".into(),
            })
        })
    }

    /// Writes one audit event: who asked for what, where, and what GitLab said.
    pub fn audit(&self, caller: &Caller, action: &'static str, target: &str, outcome: &str) {
        self.metrics
            .audit_events
            .get_or_create(&KindLabels { kind: action })
            .inc();
        tracing::info!(
            target: "audit",
            action,
            instance = %caller.instance,
            user = %caller.viewer.username,
            user_id = caller.viewer.id,
            via = if caller.credential.is_session() { "session" } else { "token" },
            target,
            outcome,
            "audit"
        );
    }
}

/// The services as the UI and the API use them.
#[derive(Clone)]
pub struct Services {
    pub gateway: Arc<Gateway>,
    pub browse: Arc<BrowseService>,
    pub tags: Arc<TagService>,
    pub cleanup: Arc<CleanupService>,
    pub governance: Arc<GovernanceService>,
    pub credentials: Arc<CredentialService>,
    pub storage: Arc<StorageService>,
}

impl Services {
    pub fn new(gateway: Arc<Gateway>) -> Self {
        let tags = Arc::new(TagService::new(gateway.clone()));
        let cleanup = Arc::new(CleanupService::new(gateway.clone(), tags.clone()));
        let storage = Arc::new(StorageService::new(
            gateway.clone(),
            tags.clone(),
            cleanup.clone(),
        ));
        Services {
            browse: Arc::new(BrowseService::new(gateway.clone())),
            governance: Arc::new(GovernanceService::new(
                gateway.clone(),
                cleanup.clone(),
                storage.clone(),
            )),
            cleanup,
            credentials: Arc::new(CredentialService::new(gateway.clone())),
            storage,
            tags,
            gateway,
        }
    }
}

/// A repository id from a request: GitLab's ids are positive.
pub(crate) fn repository_id(id: u64) -> Result<u64, AppError> {
    if id == 0 {
        Err(AppError::NotFound {
            what: Subject::Repository(0),
        })
    } else {
        Ok(id)
    }
}

/// What the caller may do in a project: an instance administrator may do what an Owner may
/// (GitLab's admin mode) whatever her membership; anyone else has their role.
pub(crate) fn effective_access(
    caller: &Caller,
    project: &crate::gitlab::wire::Project,
) -> AccessLevel {
    if caller.viewer.is_admin {
        AccessLevel::Admin
    } else {
        access_of(project)
    }
}

/// The caller's role in a project from GitLab's `permissions`.
pub(crate) fn access_of(project: &crate::gitlab::wire::Project) -> AccessLevel {
    let perms = project.permissions.clone().unwrap_or_default();
    let level = [perms.project_access, perms.group_access]
        .into_iter()
        .flatten()
        .map(|a| a.access_level)
        .max()
        .unwrap_or(0);
    AccessLevel::from_gitlab(level)
}
