mod overview;
mod run;
mod save;
mod storage;
pub use overview::*;
pub use run::*;
pub use save::*;
pub use storage::*;
