//! Which of a repository's tags GitLab says are in use or dead, for the tag pages.
//!
//! 1. The project's CI context is read once per credential and project
//!    ([`GitLabClient::ci_context`](crate::gitlab::GitLabClient::ci_context), at most
//!    `usage.pages_per_list` pages per list) and kept for `usage.ttl_secs` in
//!    `Caches::ci_contexts`: one user's reading is never shown to another, since what
//!    GitLab lets a token read depends on its role.
//! 2. The reading runs in a task of its own. A page waits for it at most `usage.wait_ms`
//!    ([`UsageStart::finish`]); a slower reading goes on into the cache and the page says it
//!    is still reading (and asks again). A usage filter (`?in_use=1`, `?stale=1`) waits
//!    longer: it cannot show anything without the verdicts.
//! 3. The repository's tags, once indexed completely, are assessed against the context
//!    ([`domain::usage::RepositoryUsage`]) on a blocking thread and kept in
//!    `Caches::usages` with the index's tag version: when the list changes (a deletion, new
//!    tags indexed) the next page assesses again from the same context.
//! 4. With `usage.enabled = false` nothing is read and pages carry no verdicts.
//! 5. A refused or expired token ends the reading as any GitLab call does (the caller is
//!    signed out); any other failure leaves the verdicts unknown and says why. Lists the
//!    role may not read (a Guest of a private project) are `Unreadable` and the page says
//!    that nothing could be checked.

use super::Gateway;
use crate::caches::Assessed;
use crate::gitlab::ci::ContextBudget;
use crate::index::TagIndex;
use app::backend::Caller;
use app::error::AppError;
use domain::tags::RepositoryHeader;
use domain::usage::{Context, RepositoryUsage, TagName, UsageState};
use domain::Subject;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long a usage filter waits for the context (it shows nothing without it).
pub const FILTER_WAIT: Duration = Duration::from_secs(10);

type ContextTask = JoinHandle<Result<Arc<Context>, Arc<AppError>>>;

/// A reading of a repository's verdicts, started before the page waits for its tags.
pub enum UsageStart {
    /// The configuration turned the reading off (`usage.enabled`).
    Off,
    /// Assessed already, for the index's current tags.
    Assessed(Arc<Assessed>),
    /// The context is being read (or was, and is in the cache).
    Reading { task: ContextTask, started: Instant },
}

/// The verdicts as far as they are known when the page is answered.
pub enum UsageReading {
    Off,
    Ready(Arc<Assessed>),
    Pending,
    Failed(String),
}

impl UsageReading {
    /// The page's state: the verdicts of `names` (its tags) with the repository's counts.
    pub fn state<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> UsageState {
        match self {
            UsageReading::Ready(assessed) => UsageState::Known {
                usage: assessed.usage.only(names),
            },
            UsageReading::Off => UsageState::NotRead,
            UsageReading::Pending => UsageState::Reading,
            UsageReading::Failed(message) => UsageState::Failed {
                message: message.clone(),
            },
        }
    }

    /// The state with every verdict of the repository (for the API and the cleanup preview).
    pub fn whole(&self) -> UsageState {
        match self {
            UsageReading::Ready(assessed) => UsageState::Known {
                usage: assessed.usage.clone(),
            },
            other => other.state([]),
        }
    }

    /// [`UsageReading::narrow`] for a selection that must rest on known verdicts: an error
    /// saying why when they are not known.
    pub fn narrow_strictly(
        &self,
        filter: domain::tags::TagFilter,
    ) -> Result<domain::tags::TagFilter, AppError> {
        match self {
            UsageReading::Ready(_) => Ok(self.narrow(filter)),
            UsageReading::Off => Err(AppError::BadRequest {
                message: "This dashboard does not read GitLab's deployments and pipelines, so \
                          no tag is known to be in use or dead."
                    .into(),
            }),
            UsageReading::Pending => Err(AppError::GitLabUnavailable {
                detail: "which tags are in use is still being read; try again in a moment".into(),
            }),
            UsageReading::Failed(message) => Err(AppError::GitLabUnavailable {
                detail: message.clone(),
            }),
        }
    }

    /// `filter` given the names its usage filter keeps (none while the verdicts are not
    /// known: an unknown verdict is never shown as in use or dead).
    pub fn narrow(&self, filter: domain::tags::TagFilter) -> domain::tags::TagFilter {
        match (self, filter.usage()) {
            (UsageReading::Ready(assessed), Some(usage)) => {
                let names = match usage {
                    domain::usage::UsageFilter::InUse => assessed.in_use.clone(),
                    domain::usage::UsageFilter::Stale => assessed.dead.clone(),
                };
                filter.with_usage(names, assessed.generation)
            }
            _ => filter,
        }
    }
}

/// Starts (or finds) the verdicts of `header`'s tags for `caller` (module docs, steps 1–2).
pub async fn start(
    gw: &Arc<Gateway>,
    caller: &Caller,
    header: &RepositoryHeader,
    index: &TagIndex,
) -> UsageStart {
    if !gw.usage.enabled {
        return UsageStart::Off;
    }
    let key = (caller.credential.key(), header.id);
    let version = index.read(|s| s.tags_version());
    if let Some(hit) = gw.caches.usages.get(&key).await {
        if hit.tags_version == version {
            return UsageStart::Assessed(hit);
        }
    }
    let (gw, caller, project_id) = (gw.clone(), caller.clone(), header.project_id);
    let task = tokio::spawn(async move {
        let key = (caller.credential.key(), project_id);
        gw.caches
            .ci_contexts
            .try_get_with(key, read_context(&gw, &caller, project_id))
            .await
    });
    UsageStart::Reading {
        task,
        started: Instant::now(),
    }
}

async fn read_context(
    gw: &Gateway,
    caller: &Caller,
    project_id: u64,
) -> Result<Arc<Context>, AppError> {
    let settings = &gw.usage;
    let budget = ContextBudget {
        pages: settings.pages_per_list,
        window_seconds: i64::from(settings.pipeline_window_days) * 86_400,
        ..ContextBudget::default()
    };
    let now = crate::clock::now();
    let context = gw
        .call(
            caller,
            Subject::Project(project_id.to_string()),
            |api, token| async move { api.ci_context(&token, project_id, now, budget).await },
        )
        .await?;
    Ok(Arc::new(context))
}

impl UsageStart {
    /// Waits for the reading until `wait` after it started, then assesses the index's tags
    /// (module docs, steps 2–4). Only a refused credential is an error.
    pub async fn finish(
        self,
        gw: &Gateway,
        caller: &Caller,
        header: &RepositoryHeader,
        index: &TagIndex,
        wait: Duration,
    ) -> Result<UsageReading, AppError> {
        let (task, started) = match self {
            UsageStart::Off => return Ok(UsageReading::Off),
            UsageStart::Assessed(assessed) => return Ok(UsageReading::Ready(assessed)),
            UsageStart::Reading { task, started } => (task, started),
        };
        let context = match tokio::time::timeout_at(started + wait, task).await {
            Err(_) => return Ok(UsageReading::Pending),
            Ok(Err(join)) => {
                tracing::error!(error = %join, "reading a project's CI context stopped");
                return Ok(UsageReading::Failed(
                    "Reading GitLab's deployments stopped unexpectedly.".into(),
                ));
            }
            Ok(Ok(Err(error))) => {
                return match &*error {
                    AppError::NotSignedIn { .. } => Err(AppError::clone(&error)),
                    other => Ok(UsageReading::Failed(other.to_string())),
                };
            }
            Ok(Ok(Ok(context))) => context,
        };
        // Verdicts are of the whole list: while it is still being indexed, the page (which
        // polls meanwhile) says they are coming, and nothing is assessed twice.
        let Some((version, tags)) = index.read(|s| {
            (s.is_current() || s.error.is_some()).then(|| {
                (
                    s.tags_version(),
                    s.tags.values().cloned().collect::<Vec<_>>(),
                )
            })
        }) else {
            return Ok(UsageReading::Pending);
        };
        let usage = tokio::task::spawn_blocking(move || {
            let names: Vec<TagName<'_>> = tags
                .iter()
                .map(|t| TagName {
                    name: &t.name,
                    digest: t.digest.as_deref(),
                })
                .collect();
            RepositoryUsage::of(&names, &context)
        })
        .await
        .map_err(|join| AppError::Internal {
            message: format!("assessing the tags stopped: {join}"),
        })?;
        let assessed = Arc::new(Assessed::new(version, usage));
        gw.caches
            .usages
            .insert((caller.credential.key(), header.id), assessed.clone())
            .await;
        Ok(UsageReading::Ready(assessed))
    }
}
