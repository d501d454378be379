//! GraphQL at `/api/graphql`: the container-registry subset of GitLab's schema.

mod mutations;
mod paging;
mod policy;
mod protection;
mod types;

use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{
    BatchRequest, BatchResponse, Context, EmptySubscription, Object, Request, Result, Schema,
    Variables, ID,
};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use time::OffsetDateTime;

use crate::auth::tokens::TokenLookup;
use crate::model::World;
use crate::rest::{presented_token, ApiError, Params};
use crate::state::Double;
use crate::sync::lock;

use types::{
    readable_repository, ContainerRepository, ContainerRepositoryDetails, ContainerRepositoryId,
    GroupNode, ProjectNode, RepositoryDetailsExtra, UserCore,
};

pub(crate) const NOT_AVAILABLE: &str = "The resource that you are attempting to access does not \
    exist or you don't have permission to perform this action";

/// The schema type served by the double.
pub(crate) type DoubleSchema = Schema<QueryRoot, mutations::MutationRoot, EmptySubscription>;

pub(crate) fn build_schema() -> DoubleSchema {
    Schema::build(QueryRoot, mutations::MutationRoot, EmptySubscription)
        .limit_depth(30)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// Per-request context.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub double: Double,
    pub world: Arc<World>,
    pub user: Option<u64>,
    /// The token carries the `api` scope (mutations allowed).
    pub can_write: bool,
    pub metadata_db: bool,
    pub origin: String,
}

pub(crate) fn ctx<'a>(c: &'a Context<'_>) -> &'a Ctx {
    c.data_unchecked::<Ctx>()
}

/// Root query type.
pub(crate) struct QueryRoot;

/// `projects` connection.
#[derive(async_graphql::SimpleObject)]
#[graphql(name = "ProjectConnection")]
pub(crate) struct ProjectConnection {
    /// Total count of collection.
    count: usize,
    /// A list of edges.
    edges: Vec<ProjectEdge>,
    /// A list of nodes.
    nodes: Vec<ProjectNode>,
    /// Information to aid in pagination.
    page_info: paging::PageInfo,
}

/// `ProjectEdge`.
#[derive(async_graphql::SimpleObject)]
#[graphql(name = "ProjectEdge")]
pub(crate) struct ProjectEdge {
    /// A cursor for use in pagination.
    cursor: String,
    /// The item at the end of the edge.
    node: ProjectNode,
}

/// One page of `projects` as a connection.
pub(crate) fn project_connection(
    projects: &[&crate::model::Project],
    args: &paging::PageArgs,
) -> Result<ProjectConnection> {
    let w = paging::offset_window(projects.len(), args, types::MAX_PAGE_SIZE)?;
    let edges: Vec<ProjectEdge> = projects[w.start..w.end]
        .iter()
        .enumerate()
        .map(|(i, p)| ProjectEdge {
            cursor: paging::offset_cursor(w.start + i),
            node: ProjectNode { id: p.id },
        })
        .collect();
    Ok(ProjectConnection {
        count: projects.len(),
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        page_info: paging::PageInfo {
            has_next_page: w.has_next,
            has_previous_page: w.has_previous,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
    })
}

#[Object(name = "Query")]
impl QueryRoot {
    /// The signed-in user, or null.
    async fn current_user(&self, c: &Context<'_>) -> Option<UserCore> {
        ctx(c).user.map(|id| UserCore { id })
    }

    /// Find a project by its full path.
    async fn project(&self, c: &Context<'_>, full_path: ID) -> Option<ProjectNode> {
        let cx = ctx(c);
        let project = cx
            .world
            .projects
            .iter()
            .find(|p| p.path_with_namespace.eq_ignore_ascii_case(&full_path))?;
        cx.world
            .can_see_project(cx.user, project)
            .then_some(ProjectNode { id: project.id })
    }

    /// Find a group by its full path.
    async fn group(&self, c: &Context<'_>, full_path: ID) -> Option<GroupNode> {
        let cx = ctx(c);
        let group = cx
            .world
            .groups
            .iter()
            .find(|g| g.full_path.eq_ignore_ascii_case(&full_path))?;
        cx.world
            .can_see_group(cx.user, group)
            .then_some(GroupNode { id: group.id })
    }

    /// Projects visible to the current user.
    #[allow(clippy::too_many_arguments)]
    async fn projects(
        &self,
        c: &Context<'_>,
        membership: Option<bool>,
        search: Option<String>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<ProjectConnection>> {
        let cx = ctx(c);
        let search = search.filter(|s| !s.is_empty()).map(|s| s.to_lowercase());
        let mut projects: Vec<&crate::model::Project> = cx
            .world
            .projects
            .iter()
            .filter(|p| cx.world.can_see_project(cx.user, p))
            .filter(|p| {
                !membership.unwrap_or(false)
                    || cx.world.project_access(cx.user, p) > crate::model::access::NONE
            })
            .filter(|p| {
                search.as_deref().is_none_or(|s| {
                    p.name.to_lowercase().contains(s)
                        || p.path_with_namespace.to_lowercase().contains(s)
                })
            })
            .collect();
        projects.sort_by_key(|p| std::cmp::Reverse(p.id));
        let args = paging::PageArgs {
            after,
            before,
            first,
            last,
        };
        project_connection(&projects, &args).map(Some)
    }

    /// Find a container repository (null when missing or not readable).
    async fn container_repository(
        &self,
        c: &Context<'_>,
        id: ContainerRepositoryId,
    ) -> Option<ContainerRepositoryDetails> {
        let repo = readable_repository(ctx(c), id.0)?;
        Some(ContainerRepositoryDetails(
            ContainerRepository { repo: repo.clone() },
            RepositoryDetailsExtra { repo },
        ))
    }

    /// Metadata about GitLab.
    async fn metadata(&self) -> Metadata {
        Metadata
    }
}

/// `Metadata`.
pub(crate) struct Metadata;

#[Object(name = "Metadata")]
impl Metadata {
    /// Version.
    async fn version(&self) -> &str {
        crate::rest::metadata::VERSION
    }

    /// Revision.
    async fn revision(&self) -> &str {
        crate::rest::metadata::REVISION
    }

    /// Enterprise edition.
    async fn enterprise(&self) -> bool {
        false
    }
}

pub(crate) fn routes() -> Router<Double> {
    Router::new().route("/api/graphql", get(graphql_get).post(graphql_post))
}

/// GraphQL errors as a 200 response (`{"errors":[{"message":…}]}`) or with another status.
fn graphql_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "errors": [{ "message": message }] }))).into_response()
}

/// Authenticates the GraphQL caller: no token = anonymous; bad tokens fail like REST.
fn context(
    double: &Double,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Ctx, Box<Response>> {
    let origin = crate::rest::origin(headers);
    let base = |user, can_write| Ctx {
        double: double.clone(),
        world: double.world(),
        user,
        can_write,
        metadata_db: double.metadata_db(),
        origin: origin.clone(),
    };
    let Some(token) = presented_token(headers, query) else {
        return Ok(base(None, false));
    };
    let lookup = lock(&double.controls().tokens).lookup(&token, OffsetDateTime::now_utc());
    match lookup {
        TokenLookup::Valid(record) => {
            if !(record.has_scope("api") || record.has_scope("read_api")) {
                return Err(Box::new(
                    ApiError::InsufficientScope("api read_api").into_response(),
                ));
            }
            Ok(base(Some(record.user_id), record.has_scope("api")))
        }
        TokenLookup::Expired => Err(Box::new(ApiError::TokenExpired.into_response())),
        TokenLookup::Revoked => Err(Box::new(ApiError::TokenRevoked.into_response())),
        TokenLookup::Unknown => Err(Box::new(graphql_error(
            StatusCode::UNAUTHORIZED,
            "Invalid token",
        ))),
    }
}

fn is_mutation(request: &Request) -> bool {
    match async_graphql::parser::parse_query(&request.query) {
        Ok(doc) => match &doc.operations {
            DocumentOperations::Single(op) => op.node.ty == OperationType::Mutation,
            DocumentOperations::Multiple(ops) => {
                let wanted = request.operation_name.as_deref();
                ops.iter().any(|(name, op)| {
                    wanted.is_none_or(|w| name.as_str() == w)
                        && op.node.ty == OperationType::Mutation
                })
            }
        },
        Err(_) => false,
    }
}

/// GitLab's limit on a request's query text, in characters (all queries of a batch together).
const MAX_QUERY_SIZE: usize = 10_000;
/// GitLab's complexity limit for signed-in users (see [`connection_complexity`]).
const MAX_COMPLEXITY: usize = 250;

/// GitLab's complexity of a connection field with a resolver: its selections, 1 for the
/// resolver, 1 more when sorted, and 1 % of that again per item of the page (the page size
/// is the smaller of `first`/`last` and the field's maximum), rounded down.
pub(crate) fn connection_complexity(
    child: usize,
    sorted: bool,
    first: Option<i32>,
    last: Option<i32>,
    max_page: usize,
) -> usize {
    let own = child + 1 + usize::from(sorted);
    let page = [first, last]
        .into_iter()
        .flatten()
        .map(|n| usize::try_from(n).unwrap_or(0))
        .chain([max_page])
        .min()
        .unwrap_or(max_page);
    own + own * page / 100
}

async fn execute(double: &Double, cx: Ctx, batch: BatchRequest) -> Response {
    let size: usize = match &batch {
        BatchRequest::Single(r) => r.query.chars().count(),
        BatchRequest::Batch(rs) => rs.iter().map(|r| r.query.chars().count()).sum(),
    };
    if size > MAX_QUERY_SIZE {
        return graphql_error(StatusCode::UNPROCESSABLE_ENTITY, "Query too large");
    }
    let batch = match batch {
        BatchRequest::Single(r) => BatchRequest::Single(r.data(cx)),
        BatchRequest::Batch(rs) => {
            BatchRequest::Batch(rs.into_iter().map(|r| r.data(cx.clone())).collect())
        }
    };
    let response: BatchResponse = double.inner.schema.execute_batch(batch).await;
    Json(response).into_response()
}

async fn graphql_post(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let cx = match context(&double, &headers, query.as_deref()) {
        Ok(cx) => cx,
        Err(response) => return *response,
    };
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(_) => {
            return graphql_error(
                StatusCode::BAD_REQUEST,
                "Invalid request body: expected a GraphQL query as JSON",
            );
        }
    };
    execute(&double, cx, batch).await
}

async fn graphql_get(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let cx = match context(&double, &headers, query.as_deref()) {
        Ok(cx) => cx,
        Err(response) => return *response,
    };
    let params = Params::parse(query.as_deref());
    let mut request = Request::new(params.get("query").unwrap_or_default());
    if let Some(name) = params.get("operationName").filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.get("variables").filter(|v| !v.is_empty()) {
        match serde_json::from_str::<serde_json::Value>(vars) {
            Ok(v) => request = request.variables(Variables::from_json(v)),
            Err(_) => return graphql_error(StatusCode::BAD_REQUEST, "Invalid variables"),
        }
    }
    if is_mutation(&request) {
        return graphql_error(StatusCode::OK, "Mutations are forbidden in GET requests");
    }
    execute(&double, cx, BatchRequest::Single(request)).await
}
