//! GitLab's cleanup policy, evaluated exactly as GitLab's CleanupTagsService decides, so a
//! preview can say which tags a policy deletes and why. Pure: the caller passes "now".
//!
//! Per repository, in GitLab's order:
//! 1. `latest` is never a candidate.
//! 2. Candidates match `\A` + name_regex + `\z` and do not match `\A` + name_regex_keep + `\z`
//!    (pasted in without parentheses, as GitLab does: `a|b` means "starts with a or ends
//!    with b").
//! 3. keep_n: candidates sorted by timestamp, newest first, a missing timestamp counting as
//!    "now"; the first keep_n stay.
//! 4. older_than: of the rest, only tags strictly older than now − older_than go; tags
//!    without a timestamp stay.
//! 5. Protected tags are skipped.
//!
//! Without the metadata database the timestamp is the image config's `created_at`; with it,
//! the publish time, and steps 1–4 run per page of 1,000 tags in name order.
//!
//! By concern: [`policy`] (the fields, GitLab's checks, the URL form), [`engine`] (the steps
//! above and their counts), [`preview`] (a draft over a project, with its warnings), [`run`]
//! (Run now's plan, confirmation and outcome), [`view`] (the policy page's URL state) and
//! [`warning`] (the warnings and notes as data).

pub mod engine;
pub mod policy;
pub mod preview;
pub mod run;
pub mod view;
pub mod warning;

pub use engine::*;
pub use policy::*;
pub use preview::*;
pub use run::*;
pub use warning::{Notice, PolicyNote, PolicyRegex, Warning};

#[cfg(test)]
mod tests;
