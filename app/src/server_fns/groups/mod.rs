mod group_policies;
mod group_repositories;
mod list_groups;
pub use group_policies::*;
pub use group_repositories::*;
pub use list_groups::*;
