mod not_found;
pub use not_found::*;
