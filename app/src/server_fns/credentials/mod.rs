mod create;
mod health;
mod page;
mod revoke;
pub use create::*;
pub use health::*;
pub use page::*;
pub use revoke::*;
