//! Timestamp formats GitLab uses in its responses.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

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
    }
}
