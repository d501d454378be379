//! Formatting for people: sizes, counts, relative and exact times.
//!
//! Relative times take "now" from the caller so the server render and the hydrated page agree.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Parses a GitLab timestamp (RFC 3339, with `Z` or an offset) to unix seconds.
pub fn parse_timestamp(value: &str) -> Option<i64> {
    OffsetDateTime::parse(value, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

/// "3 minutes ago", "in 2 days", "just now" for a timestamp relative to `now` (unix seconds).
pub fn relative_time(timestamp: i64, now: i64) -> String {
    let delta = now - timestamp;
    let (amount, future) = if delta >= 0 {
        (delta, false)
    } else {
        (-delta, true)
    };
    if amount < 45 {
        return "just now".into();
    }
    const UNITS: [(i64, &str); 6] = [
        (60, "minute"),
        (3_600, "hour"),
        (86_400, "day"),
        (7 * 86_400, "week"),
        (30 * 86_400, "month"),
        (365 * 86_400, "year"),
    ];
    let mut chosen = UNITS[0];
    for unit in UNITS {
        if amount >= unit.0 {
            chosen = unit;
        }
    }
    // Round to nearest, so 89 minutes reads "1 hour" and 90 reads "2 hours" like GitLab's timeago.
    let count = ((amount + chosen.0 / 2) / chosen.0).max(1);
    let plural = if count == 1 { "" } else { "s" };
    if future {
        format!("in {count} {}{plural}", chosen.1)
    } else {
        format!("{count} {}{plural} ago", chosen.1)
    }
}

/// The exact time in UTC, e.g. "2026-11-23 08:54 UTC", or the raw text when unparsable.
pub fn exact_time(value: &str) -> String {
    match OffsetDateTime::parse(value, &Rfc3339) {
        Ok(t) => {
            let t = t.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => value.to_string(),
    }
}

/// The exact time in UTC for unix seconds, e.g. "2026-11-23 08:54 UTC".
pub fn exact_unix(timestamp: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(timestamp) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => "unknown".into(),
    }
}

/// Relative time for a GitLab timestamp string, or "unknown" when absent or unparsable.
pub fn relative_timestamp(value: Option<&str>, now: i64) -> String {
    value
        .and_then(parse_timestamp)
        .map(|t| relative_time(t, now))
        .unwrap_or_else(|| "unknown".into())
}

/// Sizes in binary units as registries report them: "0 B", "512 B", "1.5 KiB", "230.4 MiB".
pub fn bytes(size: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if size < 1024 {
        return format!("{size} B");
    }
    let mut value = size as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Counts with thousands separators: 10000 → "10,000".
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1 tag" / "3 tags".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", count(n))
    }
}

/// "20, 50 or 100" (empty for none).
pub fn or_list(values: &[impl std::fmt::Display]) -> String {
    match values {
        [] => String::new(),
        [only] => only.to_string(),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(ToString::to_string).collect();
            format!("{} or {last}", init.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn or_lists_join_with_commas_and_a_final_or() {
        assert_eq!(or_list(&[] as &[u32]), "");
        assert_eq!(or_list(&[7]), "7");
        assert_eq!(or_list(&[20, 50]), "20 or 50");
        assert_eq!(or_list(&[20, 50, 100]), "20, 50 or 100");
    }
    use rstest::rstest;

    #[rstest]
    #[case(0, "just now")]
    #[case(44, "just now")]
    #[case(60, "1 minute ago")]
    #[case(89 * 60, "1 hour ago")]
    #[case(90 * 60, "2 hours ago")]
    #[case(86_400 * 3, "3 days ago")]
    #[case(86_400 * 14, "2 weeks ago")]
    #[case(86_400 * 400, "1 year ago")]
    #[case(-7_200, "in 2 hours")]
    fn relative_times(#[case] delta: i64, #[case] expected: &str) {
        let now = 1_800_000_000;
        assert_eq!(relative_time(now - delta, now), expected);
    }

    #[test]
    fn parses_gitlab_timestamps_with_zone_or_offset() {
        assert_eq!(
            parse_timestamp("2019-01-10T13:38:57.391Z"),
            Some(1_547_127_537)
        );
        assert_eq!(
            parse_timestamp("2019-01-06T16:49:51.272+00:00"),
            Some(1_546_793_391)
        );
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(
            exact_time("2019-01-10T13:38:57.391Z"),
            "2019-01-10 13:38 UTC"
        );
        assert_eq!(relative_timestamp(None, 0), "unknown");
    }

    #[rstest]
    #[case(0, "0 B")]
    #[case(1023, "1023 B")]
    #[case(1536, "1.5 KiB")]
    #[case(350_224_384, "334.0 MiB")]
    fn sizes(#[case] size: u64, #[case] expected: &str) {
        assert_eq!(bytes(size), expected);
    }

    #[rstest]
    #[case(0, "0")]
    #[case(999, "999")]
    #[case(1000, "1,000")]
    #[case(10_000, "10,000")]
    #[case(1_234_567, "1,234,567")]
    fn counts(#[case] n: u64, #[case] expected: &str) {
        assert_eq!(count(n), expected);
        assert_eq!(plural(1, "tag", "tags"), "1 tag");
    }
}
