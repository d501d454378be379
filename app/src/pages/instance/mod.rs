mod health;
mod layout;
pub use health::*;
pub use layout::*;
