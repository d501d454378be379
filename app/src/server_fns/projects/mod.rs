mod list_projects;
mod project_repositories;
mod project_storage;
pub use list_projects::*;
pub use project_repositories::*;
pub use project_storage::*;
