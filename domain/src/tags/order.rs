//! Orders over tags: the natural name order (`v1.9` before `v1.10`) that every list and
//! plan uses, and the tag list's sorts, which fall back to it so pages never shuffle.

use super::Tag;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Natural order: digit runs compare by value, so `v1.9` < `v1.10`; ties fall back to the
/// plain byte order so the order is total and stable.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(cx), Some(cy)) if cx.is_ascii_digit() && cy.is_ascii_digit() => {
                let dx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let dy = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (nx, ny) = (&x[..dx], &y[..dy]);
                let tx = trim_zeros(nx);
                let ty = trim_zeros(ny);
                let by_value = tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                x = &x[dx..];
                y = &y[dy..];
            }
            (Some(cx), Some(cy)) => {
                if cx != cy {
                    return cx.cmp(cy);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[zeros.min(digits.len().saturating_sub(1))..]
}

/// What the tag list sorts by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TagSortKey {
    Name,
    #[default]
    Published,
    Size,
}

/// Sort key and direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TagSort {
    pub key: TagSortKey,
    pub descending: bool,
}

impl Default for TagSort {
    /// Newest first: what people look for most.
    fn default() -> Self {
        TagSort {
            key: TagSortKey::Published,
            descending: true,
        }
    }
}

impl TagSort {
    /// Every sort the list offers, in menu order.
    pub const ALL: [TagSort; 6] = [
        TagSort::new(TagSortKey::Published, true),
        TagSort::new(TagSortKey::Published, false),
        TagSort::new(TagSortKey::Name, false),
        TagSort::new(TagSortKey::Name, true),
        TagSort::new(TagSortKey::Size, true),
        TagSort::new(TagSortKey::Size, false),
    ];

    const fn new(key: TagSortKey, descending: bool) -> Self {
        TagSort { key, descending }
    }

    /// `name_asc`, `published_desc`, …
    pub fn as_param(self) -> &'static str {
        match (self.key, self.descending) {
            (TagSortKey::Name, false) => "name_asc",
            (TagSortKey::Name, true) => "name_desc",
            (TagSortKey::Published, false) => "published_asc",
            (TagSortKey::Published, true) => "published_desc",
            (TagSortKey::Size, false) => "size_asc",
            (TagSortKey::Size, true) => "size_desc",
        }
    }

    pub fn from_param(value: &str) -> Option<Self> {
        TagSort::ALL.into_iter().find(|s| s.as_param() == value)
    }

    pub fn label(self) -> &'static str {
        match (self.key, self.descending) {
            (TagSortKey::Name, false) => "Name, A to Z",
            (TagSortKey::Name, true) => "Name, Z to A",
            (TagSortKey::Published, false) => "Oldest first",
            (TagSortKey::Published, true) => "Newest first",
            (TagSortKey::Size, false) => "Smallest first",
            (TagSortKey::Size, true) => "Largest first",
        }
    }

    /// The same key in the other direction (for clickable column headers).
    pub fn toggled(self) -> Self {
        TagSort::new(self.key, !self.descending)
    }

    /// Compares two tags. Tags without a timestamp or size sort last in both directions;
    /// equal keys fall back to the natural name order, so pages never shuffle.
    pub fn compare(self, a: &Tag, b: &Tag) -> Ordering {
        let directed = |o: Ordering| if self.descending { o.reverse() } else { o };
        let by_name = || natural_cmp(&a.name, &b.name);
        match self.key {
            TagSortKey::Name => directed(by_name()),
            TagSortKey::Published => {
                missing_last(a.timestamp(), b.timestamp(), directed).then_with(by_name)
            }
            TagSortKey::Size => {
                missing_last(a.total_size, b.total_size, directed).then_with(by_name)
            }
        }
    }
}

fn missing_last<T: Ord>(
    a: Option<T>,
    b: Option<T>,
    directed: impl Fn(Ordering) -> Ordering,
) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => directed(x.cmp(&y)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The first `shown` names in natural order and how many more there are.
pub fn first_names(mut names: Vec<&str>, shown: usize) -> (Vec<String>, u64) {
    let more = names.len().saturating_sub(shown);
    if more > 0 {
        names.select_nth_unstable_by(shown, |a, b| natural_cmp(a, b));
        names.truncate(shown);
    }
    names.sort_by(|a, b| natural_cmp(a, b));
    (names.into_iter().map(str::to_string).collect(), more as u64)
}
