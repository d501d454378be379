//! Timestamp formats GitLab uses in its responses.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

const MILLIS_Z: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
const MILLIS_OFFSET: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+00:00");
const SECONDS_Z: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const SECONDS_OFFSET: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+00:00");
const HTTP_DATE: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC)
}

/// REST timestamps of ActiveRecord models: `2019-01-10T13:38:57.391Z`.
pub(crate) fn rest(t: OffsetDateTime) -> String {
    utc(t).format(MILLIS_Z).unwrap_or_default()
}

/// REST timestamps of registry tags (Ruby `DateTime`): `2019-01-06T16:49:51.272+00:00`.
pub(crate) fn rest_tag(t: OffsetDateTime) -> String {
    utc(t).format(MILLIS_OFFSET).unwrap_or_default()
}

/// GraphQL `Time` of models: `2019-01-10T13:38:57Z`.
pub(crate) fn graphql(t: OffsetDateTime) -> String {
    utc(t).format(SECONDS_Z).unwrap_or_default()
}

/// GraphQL `Time` of registry tags (Ruby `DateTime#iso8601`): `2019-01-06T16:49:51+00:00`.
pub(crate) fn graphql_tag(t: OffsetDateTime) -> String {
    utc(t).format(SECONDS_OFFSET).unwrap_or_default()
}

/// Dates (`Date#iso8601`, e.g. access tokens' `expires_at`): `2021-01-31`.
pub(crate) fn date(d: Date) -> String {
    let (year, month, day) = d.to_calendar_date();
    format!("{year:04}-{:02}-{day:02}", u8::from(month))
}

/// The date at the start of `text` (`YYYY-MM-DD`) and what follows it.
fn leading_date(text: &str) -> Option<(Date, &str)> {
    let head = text.get(..10)?;
    let mut parts = head.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let date = Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
    Some((date, &text[10..]))
}

/// A `Date` parameter as Grape coerces it (`Date.parse`): an ISO 8601 date, or the date part of
/// an ISO 8601 timestamp. (Ruby also reads looser spellings such as `Jan 5 2025`; the double
/// does not.)
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let (date, rest) = leading_date(text)?;
    (rest.is_empty() || parse_datetime(text).is_some()).then_some(date)
}

/// A `DateTime` parameter as Grape coerces it (`DateTime.parse`): `2019-03-15`,
/// `2019-03-15T08:00:00Z`, `2019-03-15 08:00`, fractions of seconds, `±HH:MM` offsets; no
/// offset means UTC.
pub(crate) fn parse_datetime(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    let (date, rest) = leading_date(text)?;
    if rest.is_empty() {
        return Some(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc());
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut fields = hms.split(':');
    let hour: u8 = fields.next()?.parse().ok()?;
    let minute: u8 = fields.next()?.parse().ok()?;
    let second: u8 = match fields.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    if fields.next().is_some() || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let nanos: u32 = format!("{:0<9}", fraction.get(..fraction.len().min(9))?)
        .parse()
        .ok()?;
    let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    let offset = match zone {
        "" | "Z" | "z" => UtcOffset::UTC,
        _ => {
            let sign: i8 = if zone.starts_with('-') { -1 } else { 1 };
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let h: i8 = digits[..2].parse().ok()?;
            let m: i8 = digits[2..].parse().ok()?;
            UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
        }
    };
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// RFC 7231 date for headers.
pub(crate) fn http_date(t: OffsetDateTime) -> String {
    utc(t).format(HTTP_DATE).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_like_gitlab() {
        let t = datetime!(2019-01-10 13:38:57.391 UTC);
        assert_eq!(rest(t), "2019-01-10T13:38:57.391Z");
        assert_eq!(rest_tag(t), "2019-01-10T13:38:57.391+00:00");
        assert_eq!(graphql(t), "2019-01-10T13:38:57Z");
        assert_eq!(graphql_tag(t), "2019-01-10T13:38:57+00:00");
        assert_eq!(http_date(t), "Thu, 10 Jan 2019 13:38:57 GMT");
        assert_eq!(date(t.date()), "2019-01-10");
    }

    #[test]
    fn parses_like_grape() {
        use time::macros::date;
        let utc = |s: &str| parse_datetime(s).map(rest);
        assert_eq!(
            utc("2021-01-01").as_deref(),
            Some("2021-01-01T00:00:00.000Z")
        );
        assert_eq!(
            utc("2019-03-15T08:00:00Z").as_deref(),
            Some("2019-03-15T08:00:00.000Z")
        );
        assert_eq!(
            utc("2019-03-15 08:00").as_deref(),
            Some("2019-03-15T08:00:00.000Z")
        );
        assert_eq!(
            utc("2019-03-15T10:00:00.25+02:00").as_deref(),
            Some("2019-03-15T08:00:00.250Z")
        );
        for bad in [
            "",
            "tomorrow",
            "2019-13-01",
            "2019-02-30",
            "2019-03-15T25:00",
            "2019-03-15X",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
        assert_eq!(parse_date("2026-02-14"), Some(date!(2026 - 02 - 14)));
        assert_eq!(
            parse_date("2026-02-14T10:00:00Z"),
            Some(date!(2026 - 02 - 14))
        );
        assert_eq!(parse_date("14/02/2026"), None);
    }
}
