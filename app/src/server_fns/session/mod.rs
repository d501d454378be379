mod instances;
mod viewer;
pub use instances::*;
pub use viewer::*;
