mod apply_standard;
mod group_policies;
mod group_repositories;
mod list_groups;
pub use apply_standard::*;
pub use group_policies::*;
pub use group_repositories::*;
pub use list_groups::*;
