mod apply;
mod group;
mod group_list;
mod policies;
pub use apply::*;
pub use group::*;
pub use group_list::*;
pub use policies::*;
