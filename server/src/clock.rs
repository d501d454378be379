//! The wall clock, in the unix seconds the domain and the session records use.

/// Unix seconds now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
