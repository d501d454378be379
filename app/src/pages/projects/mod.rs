mod project;
mod project_list;
mod storage;
pub use project::*;
pub use project_list::*;
pub use storage::*;
