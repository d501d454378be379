//! A tag list prepared once for the many views read from it.
//!
//! [`select`](crate::tags::select) filters and partially sorts the whole list for every
//! request, which for a warm 10,000-tag index is most of a page's server time. A
//! [`Listing`] belongs to one version of an index and keeps what does not change between
//! requests: the tags by position, each name lowercased once (what the substring filter
//! compares), and each sort order, computed the first time a view asks for it with the same
//! comparator as `select`. A filtered view costs one pass over the order, testing the
//! filter, and a copy of its page; the last [`SELECTIONS`] filtered results are kept, so
//! the next page of the same filter, or the same shared link opened by many, only copies
//! its page, as an unfiltered view does. The answer is the same as `select`'s, which a
//! property test checks.

use crate::tags::{FilterKey, Tag, TagFilter, TagListView, TagSlice, TagSort};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

/// A kept filtered result: the sort and filter, and the matching positions in that order.
type Selection = ((TagSort, FilterKey), Arc<[u32]>);

/// Filtered results a listing keeps (the most recently used; each at most 4 bytes a tag).
pub const SELECTIONS: usize = 8;

/// One version of a tag list with its sort orders, built as views ask for them.
pub struct Listing {
    tags: Vec<Arc<Tag>>,
    /// `tags[i].name` lowercased.
    lowered: Vec<Box<str>>,
    /// Positions in `tags` in the order of `TagSort::ALL[k]`.
    orders: [OnceLock<Box<[u32]>>; 6],
    /// Recent filtered results (positions in sort order), most recent first.
    selections: Mutex<VecDeque<Selection>>,
}

impl Listing {
    /// Prepares `tags` (in any order; at most `u32::MAX`).
    pub fn new(tags: Vec<Arc<Tag>>) -> Self {
        let lowered = tags
            .iter()
            .map(|t| t.name.to_lowercase().into_boxed_str())
            .collect();
        Listing {
            tags,
            lowered,
            orders: Default::default(),
            selections: Mutex::new(VecDeque::with_capacity(SELECTIONS)),
        }
    }

    pub fn len(&self) -> usize {
        self.tags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// Heap bytes held: the tags' handles, the lowercased names (as the allocator rounds
    /// them) and the orders computed so far.
    pub fn bytes(&self) -> usize {
        let chunk = |len: usize| {
            if len == 0 {
                0
            } else {
                ((len + 8 + 15) & !15).max(32)
            }
        };
        self.tags.capacity() * std::mem::size_of::<Arc<Tag>>()
            + self.lowered.capacity() * std::mem::size_of::<Box<str>>()
            + self.lowered.iter().map(|n| chunk(n.len())).sum::<usize>()
            + self
                .orders
                .iter()
                .filter_map(OnceLock::get)
                .map(|o| o.len() * 4)
                .sum::<usize>()
            + self
                .recent()
                .iter()
                .map(|(_, s)| s.len() * 4)
                .sum::<usize>()
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, VecDeque<Selection>> {
        self.selections
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The positions matching `filter`, in `sort` order: kept, or computed and kept.
    fn selection(&self, sort: TagSort, filter: &TagFilter) -> Arc<[u32]> {
        let key = (sort, filter.key());
        {
            let mut recent = self.recent();
            if let Some(at) = recent.iter().position(|(k, _)| *k == key) {
                let hit = recent.remove(at).unwrap_or_else(|| unreachable!());
                let positions = hit.1.clone();
                recent.push_front(hit);
                return positions;
            }
        }
        let positions: Arc<[u32]> = self
            .order(sort)
            .iter()
            .copied()
            .filter(|&i| filter.matches_lowered(&self.tags[i as usize], &self.lowered[i as usize]))
            .collect();
        let mut recent = self.recent();
        if !recent.iter().any(|(k, _)| *k == key) {
            recent.push_front((key, positions.clone()));
            recent.truncate(SELECTIONS);
        }
        positions
    }

    fn order(&self, sort: TagSort) -> &[u32] {
        let slot = TagSort::ALL.iter().position(|s| *s == sort).unwrap_or(0);
        self.orders[slot].get_or_init(|| {
            let len = u32::try_from(self.tags.len()).unwrap_or(u32::MAX);
            let mut order: Vec<u32> = (0..len).collect();
            order.sort_unstable_by(|&a, &b| {
                sort.compare(&self.tags[a as usize], &self.tags[b as usize])
            });
            order.into_boxed_slice()
        })
    }

    /// The view's page: what [`select`](crate::tags::select) answers for the same tags.
    pub fn select(&self, view: &TagListView, filter: &TagFilter) -> TagSlice {
        let selection;
        let matched: &[u32] = if filter.is_everything() {
            self.order(view.sort)
        } else {
            selection = self.selection(view.sort, filter);
            &selection
        };
        let per_page = view.per_page.max(1) as usize;
        let pages = u32::try_from(matched.len().div_ceil(per_page).max(1)).unwrap_or(u32::MAX);
        let page = view.page.clamp(1, pages);
        let start = (page as usize - 1) * per_page;
        let end = (start + per_page).min(matched.len());
        TagSlice {
            tags: matched
                .get(start..end)
                .unwrap_or_default()
                .iter()
                .map(|&i| Tag::clone(&self.tags[i as usize]))
                .collect(),
            matched: matched.len() as u64,
            page,
            pages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::{select, Age, TagKind, PAGE_SIZES};
    use crate::usage::UsageFilter;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn tag(name: String, ts: Option<i64>, size: Option<u64>, signed: bool) -> Tag {
        Tag {
            name,
            digest: Some("sha256:00".into()),
            revision: None,
            created_at: ts,
            published_at: None,
            total_size: size,
            media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
            referrers: if signed {
                vec![crate::tags::Referrer {
                    artifact_type: "application/vnd.dev.cosign.artifact.sig.v1+json".into(),
                    digest: "sha256:01".into(),
                }]
            } else {
                vec![]
            },
            protection: None,
        }
    }

    proptest! {
        #[test]
        fn a_listing_answers_every_view_as_select_does(
            tags in proptest::collection::vec(
                (
                    "[a-cA-C0-9.-]{1,6}",
                    proptest::option::of(0i64..40),
                    proptest::option::of(0u64..40),
                    any::<bool>(),
                ),
                0..80,
            ),
            name in "[a-cA-C0-9.]{0,2}", regex: bool, sort in 0usize..6, page in 1u32..6,
            per in 0usize..3, older in proptest::option::of(1i64..40), signed: bool,
            in_use in proptest::option::of("[a-cA-C0-9.]{0,2}"),
        ) {
            let mut seen = std::collections::HashSet::new();
            let tags: Vec<Tag> = tags
                .into_iter()
                .filter(|(n, ..)| seen.insert(n.clone()))
                .map(|(n, ts, size, s)| tag(n, ts.map(|d| d * 86_400), size, s))
                .collect();
            let view = TagListView {
                name, regex, sort: TagSort::ALL[sort], page, per_page: PAGE_SIZES[per],
                older_than: older.map(|d| Age { text: format!("{d}d"), seconds: d * 86_400 }),
                kinds: if signed { vec![TagKind::Signed] } else { vec![] },
                usage: in_use.as_ref().map(|_| UsageFilter::InUse),
                ..TagListView::default()
            };
            let Ok(filter) = view.filter(40 * 86_400) else { return Ok(()); };
            // The tags in use: those whose name contains the drawn text.
            let names: HashSet<String> = tags
                .iter()
                .filter(|t| in_use.as_ref().is_some_and(|n| t.name.contains(n.as_str())))
                .map(|t| t.name.clone())
                .collect();
            let filter = filter.with_usage(Arc::new(names), 1);
            let listing = Listing::new(tags.iter().cloned().map(Arc::new).collect());
            let expected = select(tags.iter(), &view, &filter);
            prop_assert_eq!(listing.select(&view, &filter), expected.clone());
            // Again, from the kept selection.
            prop_assert_eq!(listing.select(&view, &filter), expected);
        }
    }

    #[test]
    fn kept_selections_never_answer_for_another_filter() {
        let tags: Vec<Tag> = (0..300)
            .map(|i| {
                tag(
                    format!("v{}.{}", i % 17, i),
                    Some(i * 3_600),
                    Some(i as u64),
                    i % 3 == 0,
                )
            })
            .collect();
        let listing = Listing::new(tags.iter().cloned().map(Arc::new).collect());
        // More filters than are kept, each asked twice, interleaved, on two sorts.
        for round in 0..3 {
            for needle in 0..(SELECTIONS + 4) {
                for sort in [TagSort::ALL[1], TagSort::ALL[4]] {
                    let view = TagListView {
                        name: format!("v{needle}."),
                        sort,
                        page: 1 + round,
                        ..TagListView::default()
                    };
                    let filter = view.filter(0).unwrap_or_else(|_| unreachable!());
                    assert_eq!(
                        listing.select(&view, &filter),
                        select(tags.iter(), &view, &filter)
                    );
                }
            }
        }
        assert!(listing.bytes() > 300 * 4);
    }

    #[test]
    fn a_usage_filter_keeps_the_names_of_its_own_assessment() {
        let tags: Vec<Tag> = (0..50)
            .map(|i| tag(format!("t{i}"), Some(i * 60), None, false))
            .collect();
        let listing = Listing::new(tags.iter().cloned().map(Arc::new).collect());
        let view = TagListView {
            usage: Some(UsageFilter::Stale),
            ..TagListView::default()
        };
        let compiled = || view.filter(0).unwrap_or_else(|_| unreachable!());
        // Before an assessment gives it names, the filter keeps nothing.
        assert_eq!(listing.select(&view, &compiled()).matched, 0);
        let names = |n: &[&str]| Arc::new(n.iter().map(|s| s.to_string()).collect());
        let first = compiled().with_usage(names(&["t1", "t2"]), 1);
        assert_eq!(listing.select(&view, &first).matched, 2);
        // A later assessment with other verdicts is not answered from the kept selection.
        let second = compiled().with_usage(names(&["t3"]), 2);
        let slice = listing.select(&view, &second);
        assert_eq!(slice.matched, 1);
        assert_eq!(slice.tags[0].name, "t3");
    }
}
