mod overview;
mod run;
mod save;
pub use overview::*;
pub use run::*;
pub use save::*;
