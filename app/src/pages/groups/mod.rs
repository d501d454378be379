mod group;
mod group_list;
pub use group::*;
pub use group_list::*;
