mod group_repositories;
mod list_groups;
pub use group_repositories::*;
pub use list_groups::*;
