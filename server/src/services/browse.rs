//! Projects, groups and their image repositories.
//!
//! The project list shows only projects with container images, which GitLab cannot filter
//! for: the service scans the caller's member projects (GraphQL, 100 per page, at most
//! [`MAX_PROJECTS_SCANNED`]) once per credential and search, caches the scan briefly (in
//! bytes, see `caches`), and pages through it. Concurrent requests for the same scan wait
//! for one scan.

use super::{access_of, Gateway};
use crate::caches::ProjectScan;
use crate::gitlab::graphql::{self, gid, RepositoryNode, RepositoryOwner};
use app::backend::{Browse, Caller};
use app::error::AppError;
use async_trait::async_trait;
use domain::input::NamespacePath;
use domain::view::{
    GroupListView, PageCursor, ProjectListView, RepositoryListView, GROUPS_PER_PAGE,
    PROJECTS_PER_PAGE, REPOSITORIES_PER_PAGE,
};
use domain::{
    CleanupStatus, GroupDetails, GroupPage, GroupSummary, ImageRepository, ProjectDetails,
    ProjectPage, ProjectSummary, RepositoryPage, RepositoryStatus, Subject,
};
use serde_json::json;
use std::sync::Arc;

/// Stop scanning member projects after this many (100 per GraphQL page).
const MAX_PROJECTS_SCANNED: usize = 2_000;

/// Projects, groups, repository lists.
pub struct BrowseService {
    gw: Arc<Gateway>,
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

    fn subject(self, path: &str) -> Subject {
        match self {
            Owner::Project => Subject::Project(path.to_string()),
            Owner::Group => Subject::Group(path.to_string()),
        }
    }
}

impl BrowseService {
    pub fn new(gw: Arc<Gateway>) -> Self {
        BrowseService { gw }
    }

    async fn scan_projects(
        &self,
        caller: &Caller,
        search: &str,
    ) -> Result<Arc<ProjectScan>, AppError> {
        let key = (caller.credential.key(), search.to_string());
        self.gw
            .caches
            .project_scans
            .try_get_with(key, self.scan(caller, search))
            .await
            .map_err(|e| (*e).clone())
    }

    async fn scan(&self, caller: &Caller, search: &str) -> Result<Arc<ProjectScan>, AppError> {
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
                .gw
                .call(caller, Subject::Projects, |api, token| {
                    let variables = variables.clone();
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
                let id = gid(&node.id).map_err(|e| self.gw_error(e))?;
                with_images.push(ProjectSummary {
                    id,
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
        Ok(Arc::new(ProjectScan {
            with_images,
            without_images,
            truncated,
        }))
    }

    fn gw_error(&self, error: crate::gitlab::GitLabError) -> AppError {
        crate::errors::app_error(error, Subject::Projects)
    }

    async fn repository_page(
        &self,
        caller: &Caller,
        owner: Owner,
        full_path: &str,
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
        let subject = owner.subject(full_path);
        let data: serde_json::Value = self
            .gw
            .call(caller, subject.clone(), |api, token| {
                let variables = variables.clone();
                let query = query.clone();
                async move { api.graphql(&token, &query, variables).await }
            })
            .await?;
        let owner_node = data
            .get(owner.field())
            .filter(|v| !v.is_null())
            .cloned()
            .ok_or_else(|| AppError::NotFound {
                what: subject.clone(),
            })?;
        let owner_node: RepositoryOwner = serde_json::from_value(owner_node).map_err(|e| {
            crate::errors::app_error(
                crate::gitlab::GitLabError::Malformed(format!("repository list: {e}")),
                subject.clone(),
            )
        })?;
        let Some(connection) = owner_node.container_repositories else {
            return Err(AppError::Forbidden {
                what: Subject::Registry(full_path.to_string()),
            });
        };
        let page = connection.page_info;
        let mut repositories = connection
            .nodes
            .into_iter()
            .map(|node| repository_from_node(node, full_path))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| crate::errors::app_error(e, subject))?;
        self.add_sizes(caller, &mut repositories).await;
        Ok(RepositoryPage {
            repositories,
            total: owner_node.container_repositories_count,
            next_cursor: page.has_next_page.then_some(page.end_cursor).flatten(),
            prev_cursor: page
                .has_previous_page
                .then_some(page.start_cursor)
                .flatten(),
            now: crate::clock::now(),
        })
    }

    /// Sizes live only on each repository's details: one aliased GraphQL request fetches
    /// them for the whole page. Best effort: without them the page still shows.
    async fn add_sizes(&self, caller: &Caller, repositories: &mut [ImageRepository]) {
        if repositories.is_empty() {
            return;
        }
        let fields: String = repositories
            .iter()
            .map(|r| {
                format!(
                    "r{id}: containerRepository(id: \"gid://gitlab/ContainerRepository/{id}\") {{ \
                        size }}\n",
                    id = r.id
                )
            })
            .collect();
        let query = format!("query RepositorySizes {{\n{fields}}}");
        let subject = Subject::Repository(repositories[0].id);
        let sizes: Result<serde_json::Value, AppError> = self
            .gw
            .call(caller, subject, |api, token| {
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

fn repository_from_node(
    node: RepositoryNode,
    owner_path: &str,
) -> Result<ImageRepository, crate::gitlab::GitLabError> {
    Ok(ImageRepository {
        id: gid(&node.id)?,
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
    })
}

#[async_trait]
impl Browse for BrowseService {
    async fn projects(
        &self,
        caller: &Caller,
        view: &ProjectListView,
    ) -> Result<ProjectPage, AppError> {
        let scan = self.scan_projects(caller, &view.search).await?;
        let per_page = PROJECTS_PER_PAGE;
        let page = view.page.max(1);
        let start = (page as usize - 1).saturating_mul(per_page as usize);
        Ok(ProjectPage {
            projects: scan
                .with_images
                .iter()
                .skip(start)
                .take(per_page as usize)
                .cloned()
                .collect(),
            total: scan.with_images.len() as u64,
            page,
            per_page,
            without_images: scan.without_images,
            truncated: scan.truncated,
        })
    }

    async fn groups(&self, caller: &Caller, view: &GroupListView) -> Result<GroupPage, AppError> {
        let page = view.page.max(1);
        let result = self
            .gw
            .call(caller, Subject::Groups, |api, token| {
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
        caller: &Caller,
        project: &NamespacePath,
        view: &RepositoryListView,
    ) -> Result<(ProjectDetails, RepositoryPage), AppError> {
        let subject = Subject::Project(project.to_string());
        let found = self
            .gw
            .call(caller, subject, |api, token| {
                let path = project.to_string();
                async move { api.project(&token, &path).await }
            })
            .await?;
        let page = self
            .repository_page(caller, Owner::Project, &found.path_with_namespace, view)
            .await?;
        let details = ProjectDetails {
            access: access_of(&found),
            id: found.id,
            name: found.name,
            full_path: found.path_with_namespace,
            description: found.description,
            visibility: found.visibility.unwrap_or_else(|| "private".into()),
            web_url: found.web_url,
        };
        Ok((details, page))
    }

    async fn group_repositories(
        &self,
        caller: &Caller,
        group: &NamespacePath,
        view: &RepositoryListView,
    ) -> Result<(GroupDetails, RepositoryPage), AppError> {
        let found = self.gw.group(caller, group).await?;
        let page = self
            .repository_page(caller, Owner::Group, &found.full_path, view)
            .await?;
        Ok((found.into(), page))
    }
}
