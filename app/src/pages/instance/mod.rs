mod layout;
pub use layout::*;
