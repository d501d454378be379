mod project;
mod project_list;
pub use project::*;
pub use project_list::*;
