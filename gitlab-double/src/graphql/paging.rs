//! Relay-style connection windows over in-memory lists.

use async_graphql::{Error, Result, SimpleObject};
use base64::Engine;

/// GraphQL `PageInfo`.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "PageInfo")]
pub(crate) struct PageInfo {
    /// When paginating forwards, are there more items?
    pub has_next_page: bool,
    /// When paginating backwards, are there more items?
    pub has_previous_page: bool,
    /// When paginating backwards, the cursor to continue.
    pub start_cursor: Option<String>,
    /// When paginating forwards, the cursor to continue.
    pub end_cursor: Option<String>,
}

/// Paging arguments as received.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageArgs {
    pub after: Option<String>,
    pub before: Option<String>,
    pub first: Option<i32>,
    pub last: Option<i32>,
}

/// A slice `start..end` of the full list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub start: usize,
    pub end: usize,
    pub has_previous: bool,
    pub has_next: bool,
}

/// graphql-ruby's array cursor: base64 of the 1-based position.
pub(crate) fn offset_cursor(index: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode((index + 1).to_string())
}

fn decode_offset(cursor: &str) -> Result<usize> {
    base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<usize>().ok())
        .ok_or_else(|| Error::new("Please provide a valid cursor"))
}

fn check_count(name: &str, value: Option<i32>) -> Result<Option<usize>> {
    match value {
        Some(v) if v < 0 => Err(Error::new(format!(
            "Argument '{name}' on Field has an invalid value ({v}). Expected type 'Int'."
        ))),
        Some(v) => Ok(Some(usize::try_from(v).unwrap_or(0))),
        None => Ok(None),
    }
}

/// The window of a list of `total` items for offset cursors, with the field's page-size limit.
pub(crate) fn offset_window(total: usize, args: &PageArgs, max_page_size: usize) -> Result<Window> {
    let after = args.after.as_deref().map(decode_offset).transpose()?;
    let before = args.before.as_deref().map(decode_offset).transpose()?;
    position_window(
        total,
        after,
        before.map(|b| b.saturating_sub(1)),
        args,
        max_page_size,
    )
}

/// The window given an exclusive lower bound (`after`: items from this position on) and an
/// exclusive upper bound (`before`: items before this position).
pub(crate) fn position_window(
    total: usize,
    after: Option<usize>,
    before: Option<usize>,
    args: &PageArgs,
    max_page_size: usize,
) -> Result<Window> {
    let first = check_count("first", args.first)?.map(|f| f.min(max_page_size));
    let last = check_count("last", args.last)?.map(|l| l.min(max_page_size));
    let mut start = after.unwrap_or(0).min(total);
    let mut end = before.unwrap_or(total).min(total).max(start);
    if let Some(f) = first {
        end = end.min(start + f);
    }
    if let Some(l) = last {
        start = start.max(end.saturating_sub(l));
    }
    if first.is_none() && last.is_none() {
        end = end.min(start + max_page_size);
    }
    Ok(Window {
        start,
        end,
        has_previous: start > 0,
        has_next: end < total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward() {
        let args = PageArgs {
            first: Some(10),
            ..Default::default()
        };
        let w = offset_window(25, &args, 20).unwrap();
        assert_eq!(
            (w.start, w.end, w.has_previous, w.has_next),
            (0, 10, false, true)
        );
        let args = PageArgs {
            first: Some(10),
            after: Some(offset_cursor(w.end - 1)),
            ..Default::default()
        };
        let w = offset_window(25, &args, 20).unwrap();
        assert_eq!((w.start, w.end), (10, 20));
        let args = PageArgs {
            last: Some(5),
            before: Some(offset_cursor(10)),
            ..Default::default()
        };
        let w = offset_window(25, &args, 20).unwrap();
        assert_eq!((w.start, w.end, w.has_previous), (5, 10, true));
        let w = offset_window(
            25,
            &PageArgs {
                first: Some(500),
                ..Default::default()
            },
            20,
        )
        .unwrap();
        assert_eq!(w.end, 20, "clamped to the max page size");
        assert!(offset_window(
            25,
            &PageArgs {
                after: Some("!!".into()),
                ..Default::default()
            },
            20
        )
        .is_err());
    }
}
