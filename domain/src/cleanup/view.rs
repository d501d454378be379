//! The policy page's URL state: the draft policy (every field, on top of the saved policy)
//! and what the preview lists (`show=deleted`: only the tags the draft deletes). One reader
//! for the page, its no-JavaScript form and the JSON API, so a copied link shows the same
//! preview everywhere, and a value nobody understands becomes a notice, never a guess.

use super::{CleanupPolicy, TagDecision};
use crate::view::{Notice, UrlNote};

/// What the preview lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PreviewShow {
    /// Every tag with its decision.
    #[default]
    All,
    /// Only the tags the draft deletes (`show=deleted`).
    Deleted,
}

impl PreviewShow {
    /// Whether a tag with this decision is listed.
    pub fn lists(self, decision: &TagDecision) -> bool {
        match self {
            PreviewShow::All => true,
            PreviewShow::Deleted => decision.reason.deletes(),
        }
    }

    /// The other choice (what the page's toggle link switches to).
    pub fn toggled(self) -> PreviewShow {
        match self {
            PreviewShow::All => PreviewShow::Deleted,
            PreviewShow::Deleted => PreviewShow::All,
        }
    }
}

/// The policy page's state, as its URL carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyPageView {
    pub draft: CleanupPolicy,
    pub show: PreviewShow,
}

impl PolicyPageView {
    /// Reads the query on top of the saved policy: absent fields keep the saved values;
    /// unusable values (the draft's, or a `show` other than `deleted`/`all`) become notices.
    pub fn from_pairs(pairs: &[(String, String)], saved: &CleanupPolicy) -> (Self, Vec<Notice>) {
        let (draft, mut notices) = CleanupPolicy::from_pairs(pairs, saved);
        let mut show = PreviewShow::All;
        for (_, value) in pairs.iter().filter(|(k, _)| k == "show") {
            match value.trim() {
                "" | "all" => show = PreviewShow::All,
                "deleted" => show = PreviewShow::Deleted,
                _ => notices.push(Notice::from(UrlNote::NotAPreviewChoice {
                    value: value.clone(),
                })),
            }
        }
        (PolicyPageView { draft, show }, notices)
    }

    /// The whole state as a query string: every field of the draft, then `show=deleted`
    /// when only deletions are listed.
    pub fn to_query(&self) -> String {
        let query = self.draft.to_query();
        match self.show {
            PreviewShow::All => query,
            PreviewShow::Deleted => format!("{query}&show=deleted"),
        }
    }

    /// The same state listing `show`.
    pub fn with_show(&self, show: PreviewShow) -> Self {
        PolicyPageView {
            draft: self.draft.clone(),
            show,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        crate::query::parse(query)
    }

    #[test]
    fn show_deleted_travels_with_the_draft_and_back() {
        let saved = CleanupPolicy::default();
        let (view, notices) = PolicyPageView::from_pairs(&pairs("keep_n=5&show=deleted"), &saved);
        assert!(notices.is_empty());
        assert_eq!(view.show, PreviewShow::Deleted);
        assert_eq!(view.draft.keep_n, Some(5));
        let query = view.to_query();
        assert!(query.ends_with("&show=deleted"), "{query}");
        let (back, notices) =
            PolicyPageView::from_pairs(&pairs(query.trim_start_matches('?')), &saved);
        assert!(notices.is_empty());
        assert_eq!(back, view);
        let all = view.with_show(PreviewShow::All);
        assert!(!all.to_query().contains("show="));
        assert_eq!(all.show.toggled(), PreviewShow::Deleted);
    }

    #[test]
    fn an_unknown_show_is_a_notice_and_lists_everything() {
        let (view, notices) =
            PolicyPageView::from_pairs(&pairs("show=gone"), &CleanupPolicy::default());
        assert_eq!(view.show, PreviewShow::All);
        assert_eq!(notices.len(), 1);
        assert_eq!(
            notices[0].kind,
            crate::view::UrlNote::NotAPreviewChoice {
                value: "gone".into()
            }
        );
        assert!(notices[0].message.contains("“gone”"), "{notices:?}");
        let (view, notices) =
            PolicyPageView::from_pairs(&pairs("show=all"), &CleanupPolicy::default());
        assert_eq!(view.show, PreviewShow::All);
        assert!(notices.is_empty());
    }
}
