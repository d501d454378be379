mod overview;
mod save;
pub use overview::*;
pub use save::*;
