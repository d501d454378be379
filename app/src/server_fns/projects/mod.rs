mod list_projects;
mod project_repositories;
pub use list_projects::*;
pub use project_repositories::*;
