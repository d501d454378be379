//! Tags of an image repository: the indexed tag, the tag list's URL state, and the filter and
//! sort that run over ALL tags of a repository (never only a page).
//!
//! By concern: [`model`] (the tag), [`order`] (natural order and sorts), [`view`] (the URL
//! state), [`filter`] (filter and page cut), [`page`] (what the pages show) and [`deletion`]
//! (who may delete, and the plan a confirmation shows).

pub mod deletion;
pub mod filter;
pub mod model;
pub mod order;
pub mod page;
pub mod view;

pub use deletion::*;
pub use filter::*;
pub use model::*;
pub use order::*;
pub use page::*;
pub use view::*;

#[cfg(test)]
mod tests;
