//! The BFF's services behind the UI's server functions: every call checks the session,
//! takes the user's own token and maps GitLab's answers to the domain.

use crate::gitlab::graphql::{self, gid_number, RepositoryNode, RepositoryOwner};
use crate::gitlab::GitLabError;
use crate::state::{Bff, Instance};
use app::backend::Backend;
use app::error::AppError;
use async_trait::async_trait;
use domain::tags::{
    DeleteOutcome, DeletionPlan, RepositoryHeader, TagDetail, TagListPage, TagListView,
};
use domain::view::{
    GroupListView, PageCursor, ProjectListView, RepositoryListView, GROUPS_PER_PAGE,
    PROJECTS_PER_PAGE, REPOSITORIES_PER_PAGE,
};
use domain::{
    AccessLevel, CleanupStatus, GroupDetails, GroupPage, GroupSummary, ImageRepository,
    InstanceInfo, ProjectDetails, ProjectPage, ProjectSummary, RepositoryPage, RepositoryStatus,
    Viewer,
};
use serde_json::json;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_sessions::Session;

pub mod cleanup;
pub mod protection;
pub mod tags;

/// Stop scanning member projects after this many (100 per GraphQL page).
const MAX_PROJECTS_SCANNED: usize = 2_000;
/// How long a user's project scan is reused (paging through it should not re-scan).
const PROJECT_SCAN_TTL: Duration = Duration::from_secs(30);
const PROJECT_SCAN_CACHE_MAX: usize = 512;

/// The result of scanning a user's member projects for images.
#[derive(Clone)]
pub struct ProjectScan {
    with_images: Vec<ProjectSummary>,
    without_images: u64,
    truncated: bool,
}

/// Per-user scans, keyed by (instance, user id, search): never shared between users.
pub type ProjectScanCache = Mutex<HashMap<(String, u64, String), (Instant, Arc<ProjectScan>)>>;

/// The [`Backend`] the UI talks to.
#[derive(Clone)]
pub struct BffBackend(pub Arc<Bff>);

impl BffBackend {
    /// Runs a GitLab call with the user's token; on "token expired" refreshes once and retries.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        session: &Session,
        instance: &Instance,
        what: &str,
        f: F,
    ) -> Result<T, AppError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<T, GitLabError>>,
    {
        let token = self.0.access_token(session, instance).await?;
        let outcome = match f(token.clone()).await {
            Err(GitLabError::TokenExpired) => {
                let fresh = self.0.refresh(session, instance, &token).await?;
                f(fresh).await
            }
            other => other,
        };
        match outcome {
            Ok(value) => Ok(value),
            Err(GitLabError::Unauthorized | GitLabError::TokenExpired) => {
                self.0.forget(session, instance).await;
                Err(AppError::NotSignedIn {
                    instance: instance.info.name.clone(),
                })
            }
            Err(error) => Err(to_app_error(error, what)),
        }
    }

    async fn scan_projects(
        &self,
        session: &Session,
        instance: &Instance,
        user: u64,
        search: &str,
    ) -> Result<Arc<ProjectScan>, AppError> {
        let key = (instance.info.name.clone(), user, search.to_string());
        if let Some((at, scan)) = lock(&self.0.project_scans).get(&key) {
            if at.elapsed() < PROJECT_SCAN_TTL {
                return Ok(scan.clone());
            }
        }
        let mut with_images = Vec::new();
        let mut without_images = 0;
        let mut after: Option<String> = None;
        let mut scanned = 0;
        let truncated = loop {
            let variables = json!({
                "search": (!search.is_empty()).then_some(search),
                "after": after,
            });
            let data: graphql::ProjectsData = self
                .call(session, instance, "your projects", |token| {
                    let variables = variables.clone();
                    let api = instance.api.clone();
                    async move {
                        api.graphql(&token, graphql::PROJECTS_WITH_COUNTS, variables)
                            .await
                    }
                })
                .await?;
            scanned += data.projects.nodes.len();
            for node in data.projects.nodes {
                if node.container_repositories_count == 0 {
                    without_images += 1;
                    continue;
                }
                with_images.push(ProjectSummary {
                    id: gid_number(&node.id).unwrap_or_default(),
                    name: node.name,
                    full_path: node.full_path,
                    description: node.description,
                    visibility: node.visibility.unwrap_or_else(|| "private".into()),
                    web_url: node.web_url,
                    image_repositories: node.container_repositories_count,
                });
            }
            let page = data.projects.page_info;
            if !page.has_next_page || page.end_cursor.is_none() {
                break false;
            }
            if scanned >= MAX_PROJECTS_SCANNED {
                break true;
            }
            after = page.end_cursor;
        };
        with_images.sort_by_cached_key(|p| p.full_path.to_lowercase());
        let scan = Arc::new(ProjectScan {
            with_images,
            without_images,
            truncated,
        });
        let mut cache = lock(&self.0.project_scans);
        if cache.len() >= PROJECT_SCAN_CACHE_MAX {
            cache.retain(|_, (at, _)| at.elapsed() < PROJECT_SCAN_TTL);
        }
        if cache.len() < PROJECT_SCAN_CACHE_MAX {
            cache.insert(key, (Instant::now(), scan.clone()));
        }
        Ok(scan)
    }

    async fn viewer_for(&self, session: &Session, instance: &Instance) -> Result<Viewer, AppError> {
        // Also proves the token is still usable (refreshes it when due).
        self.0.access_token(session, instance).await?;
        self.0
            .auth_record(session, instance)
            .await?
            .map(|r| r.viewer)
            .ok_or_else(|| AppError::NotSignedIn {
                instance: instance.info.name.clone(),
            })
    }

    async fn repository_page(
        &self,
        session: &Session,
        instance: &Instance,
        owner: Owner,
        full_path: &str,
        what: &str,
        view: &RepositoryListView,
    ) -> Result<RepositoryPage, AppError> {
        let query = owner.query();
        let per_page = i64::from(REPOSITORIES_PER_PAGE);
        let mut variables = json!({
            "fullPath": full_path,
            "name": (!view.search.is_empty()).then_some(view.search.as_str()),
            "sort": view.sort.as_graphql(),
        });
        match &view.cursor {
            Some(PageCursor::Before(c)) => {
                variables["last"] = json!(per_page);
                variables["before"] = json!(c);
            }
            Some(PageCursor::After(c)) => {
                variables["first"] = json!(per_page);
                variables["after"] = json!(c);
            }
            None => variables["first"] = json!(per_page),
        }
        let data: serde_json::Value = self
            .call(session, instance, what, |token| {
                let variables = variables.clone();
                let api = instance.api.clone();
                let query = query.clone();
                async move { api.graphql(&token, &query, variables).await }
            })
            .await?;
        let owner = data
            .get(owner.field())
            .filter(|v| !v.is_null())
            .cloned()
            .ok_or_else(|| AppError::NotFound {
                what: capitalize(what),
            })?;
        let owner: RepositoryOwner = serde_json::from_value(owner).map_err(|e| {
            tracing::warn!(error = %e, "unexpected GraphQL repository payload");
            AppError::GitLabUnavailable {
                detail: "GitLab sent an unexpected answer".into(),
            }
        })?;
        let Some(connection) = owner.container_repositories else {
            return Err(AppError::Forbidden {
                what: format!("the container registry of {what}"),
            });
        };
        let page = connection.page_info;
        let mut repositories: Vec<ImageRepository> = connection
            .nodes
            .into_iter()
            .map(|node| repository_from_node(node, full_path))
            .collect();
        self.add_sizes(session, instance, &mut repositories).await;
        Ok(RepositoryPage {
            repositories,
            total: owner.container_repositories_count,
            next_cursor: page.has_next_page.then_some(page.end_cursor).flatten(),
            prev_cursor: page
                .has_previous_page
                .then_some(page.start_cursor)
                .flatten(),
            now: crate::auth::records::now(),
        })
    }
}

impl BffBackend {
    /// Sizes live only on each repository's details: one aliased GraphQL request fetches
    /// them for the whole page. Best effort: without them the page still shows.
    async fn add_sizes(
        &self,
        session: &Session,
        instance: &Instance,
        repositories: &mut [ImageRepository],
    ) {
        if repositories.is_empty() {
            return;
        }
        let fields: String = repositories
            .iter()
            .map(|r| {
                format!(
                    "r{id}: containerRepository(id: \"gid://gitlab/ContainerRepository/{id}\") {{ size }}\n",
                    id = r.id
                )
            })
            .collect();
        let query = format!("query RepositorySizes {{\n{fields}}}");
        let sizes: Result<serde_json::Value, AppError> = self
            .call(session, instance, "repository sizes", |token| {
                let api = instance.api.clone();
                let query = query.clone();
                async move { api.graphql(&token, &query, json!({})).await }
            })
            .await;
        match sizes {
            Ok(data) => {
                for repo in repositories.iter_mut() {
                    repo.size = data[format!("r{}", repo.id)]["size"]
                        .as_f64()
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .map(|s| s as u64);
                }
            }
            Err(error) => tracing::info!(%error, "repository sizes unavailable"),
        }
    }
}

/// Whose image repositories a page lists.
#[derive(Clone, Copy)]
enum Owner {
    Project,
    Group,
}

impl Owner {
    fn query(self) -> String {
        match self {
            Owner::Project => graphql::project_repositories(),
            Owner::Group => graphql::group_repositories(),
        }
    }

    fn field(self) -> &'static str {
        match self {
            Owner::Project => "project",
            Owner::Group => "group",
        }
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn repository_from_node(node: RepositoryNode, owner_path: &str) -> ImageRepository {
    ImageRepository {
        id: gid_number(&node.id).unwrap_or_default(),
        name: node.name,
        path: node.path,
        location: node.location,
        created_at: node.created_at,
        updated_at: node.updated_at,
        tags_count: node.tags_count,
        size: None,
        cleanup_status: node
            .expiration_policy_cleanup_status
            .as_deref()
            .map(CleanupStatus::from_gitlab)
            .unwrap_or(CleanupStatus::Unscheduled),
        status: node
            .status
            .as_deref()
            .and_then(RepositoryStatus::from_gitlab),
        project_path: node
            .project
            .map(|p| p.full_path)
            .unwrap_or_else(|| owner_path.to_string()),
    }
}

/// GitLab's answer in the user's words. Internal details go to the log only.
pub(crate) fn to_app_error(error: GitLabError, what: &str) -> AppError {
    match error {
        GitLabError::Forbidden => AppError::Forbidden {
            what: what.to_string(),
        },
        GitLabError::NotFound => AppError::NotFound {
            what: capitalize(what),
        },
        GitLabError::RateLimited(wait) => AppError::RateLimited {
            retry_after_secs: wait.as_secs().max(1),
        },
        GitLabError::Unavailable(detail) => {
            tracing::warn!(%detail, "GitLab unavailable");
            AppError::GitLabUnavailable { detail }
        }
        GitLabError::Malformed(detail) => {
            tracing::warn!(%detail, "malformed GitLab answer");
            AppError::GitLabUnavailable {
                detail: "GitLab sent an unexpected answer".into(),
            }
        }
        GitLabError::Refused(message) => AppError::BadRequest {
            message: format!("GitLab refused: {message}"),
        },
        GitLabError::Rejected(detail) => {
            tracing::warn!(%detail, "GitLab rejected a request");
            AppError::BadRequest {
                message: format!("GitLab could not answer for {what}."),
            }
        }
        GitLabError::TokenExpired | GitLabError::Unauthorized => AppError::Internal {
            message: "sign-in state was not handled".into(),
        },
    }
}

pub(crate) fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

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

#[async_trait]
impl Backend for BffBackend {
    fn instances(&self) -> Vec<InstanceInfo> {
        self.0.instances.iter().map(|i| i.info.clone()).collect()
    }

    async fn viewer(&self, session: &Session, instance: &str) -> Result<Viewer, AppError> {
        let instance = self.0.instance(instance)?;
        self.viewer_for(session, instance).await
    }

    async fn projects(
        &self,
        session: &Session,
        instance: &str,
        view: &ProjectListView,
    ) -> Result<ProjectPage, AppError> {
        let instance = self.0.instance(instance)?;
        let viewer = self.viewer_for(session, instance).await?;
        let scan = self
            .scan_projects(session, instance, viewer.id, &view.search)
            .await?;
        let per_page = PROJECTS_PER_PAGE;
        let start = (view.page.max(1) as usize - 1) * per_page as usize;
        Ok(ProjectPage {
            projects: scan
                .with_images
                .iter()
                .skip(start)
                .take(per_page as usize)
                .cloned()
                .collect(),
            total: scan.with_images.len() as u64,
            page: view.page.max(1),
            per_page,
            without_images: scan.without_images,
            truncated: scan.truncated,
        })
    }

    async fn groups(
        &self,
        session: &Session,
        instance: &str,
        view: &GroupListView,
    ) -> Result<GroupPage, AppError> {
        let instance = self.0.instance(instance)?;
        let page = view.page.max(1);
        let result = self
            .call(session, instance, "groups", |token| {
                let api = instance.api.clone();
                let search = view.search.clone();
                async move { api.groups(&token, &search, page, GROUPS_PER_PAGE).await }
            })
            .await?;
        Ok(GroupPage {
            groups: result
                .items
                .into_iter()
                .map(|g| GroupSummary {
                    id: g.id,
                    name: g.name,
                    full_path: g.full_path,
                    description: g.description,
                    visibility: g.visibility.unwrap_or_else(|| "private".into()),
                    web_url: g.web_url,
                })
                .collect(),
            total: result.total,
            page,
            per_page: GROUPS_PER_PAGE,
            has_next: result.next_page.is_some(),
        })
    }

    async fn project_repositories(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
        view: &RepositoryListView,
    ) -> Result<(ProjectDetails, RepositoryPage), AppError> {
        let instance = self.0.instance(instance)?;
        let what = format!("project {project_path}");
        let project = self
            .call(session, instance, &what, |token| {
                let api = instance.api.clone();
                let path = project_path.to_string();
                async move { api.project(&token, &path).await }
            })
            .await?;
        let page = self
            .repository_page(
                session,
                instance,
                Owner::Project,
                &project.path_with_namespace,
                &what,
                view,
            )
            .await?;
        let details = ProjectDetails {
            access: access_of(&project),
            id: project.id,
            name: project.name,
            full_path: project.path_with_namespace,
            description: project.description,
            visibility: project.visibility.unwrap_or_else(|| "private".into()),
            web_url: project.web_url,
        };
        Ok((details, page))
    }

    async fn group_repositories(
        &self,
        session: &Session,
        instance: &str,
        group_path: &str,
        view: &RepositoryListView,
    ) -> Result<(GroupDetails, RepositoryPage), AppError> {
        let instance = self.0.instance(instance)?;
        let what = format!("group {group_path}");
        let group = self
            .call(session, instance, &what, |token| {
                let api = instance.api.clone();
                let path = group_path.to_string();
                async move { api.group(&token, &path).await }
            })
            .await?;
        let page = self
            .repository_page(
                session,
                instance,
                Owner::Group,
                &group.full_path,
                &what,
                view,
            )
            .await?;
        Ok((
            GroupDetails {
                id: group.id,
                name: group.name,
                full_path: group.full_path,
                description: group.description,
                visibility: group.visibility.unwrap_or_else(|| "private".into()),
                web_url: group.web_url,
            },
            page,
        ))
    }

    async fn tag_list(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        view: &TagListView,
    ) -> Result<TagListPage, AppError> {
        self.tag_list_page(session, instance, repository_id, view)
            .await
    }

    async fn tag_detail(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        name: &str,
    ) -> Result<TagDetail, AppError> {
        self.tag_detail_page(session, instance, repository_id, name)
            .await
    }

    async fn matching_tags(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        view: &TagListView,
    ) -> Result<(Vec<String>, u64), AppError> {
        self.matching_tag_names(session, instance, repository_id, view)
            .await
    }

    async fn deletion_plan(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        names: Vec<String>,
    ) -> Result<DeletionPlan, AppError> {
        self.plan_tag_deletion(session, instance, repository_id, names)
            .await
    }

    async fn delete_tags(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        names: Vec<String>,
    ) -> Result<Vec<DeleteOutcome>, AppError> {
        self.delete_tag_list(session, instance, repository_id, names)
            .await
    }

    async fn cleanup_overview(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
    ) -> Result<domain::cleanup::CleanupOverview, AppError> {
        self.cleanup_overview_of(session, instance, project_path)
            .await
    }

    async fn save_cleanup_policy(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
        policy: &domain::cleanup::CleanupPolicy,
    ) -> Result<domain::cleanup::SavedPolicy, AppError> {
        self.save_policy(session, instance, project_path, policy)
            .await
    }

    async fn run_cleanup_now(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
        policy: &domain::cleanup::CleanupPolicy,
        confirmed: &[domain::cleanup::RunConfirmation],
    ) -> Result<Vec<domain::cleanup::RunOutcome>, AppError> {
        self.run_cleanup_now(session, instance, project_path, policy, confirmed)
            .await
    }

    async fn change_protection_rule(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
        change: &domain::protection::RuleChange,
    ) -> Result<domain::protection::ProtectionRules, AppError> {
        self.change_rule(session, instance, project_path, change)
            .await
    }

    async fn delete_repository(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        confirm_path: &str,
    ) -> Result<RepositoryHeader, AppError> {
        self.delete_whole_repository(session, instance, repository_id, confirm_path)
            .await
    }
}
