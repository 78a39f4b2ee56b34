//! Time as the core counts it: ms since the Unix epoch, in UTC. The lengths
//! of a minute, an hour and a day, the start of the bucket holding a time,
//! and RFC 3339 read and written. A leaf: it uses no other module.

use std::time::{Duration, UNIX_EPOCH};

/// One minute, in ms: the fine rollup bucket.
pub const MINUTE_MS: u64 = 60_000;
/// One hour, in ms: the coarse rollup bucket.
pub const HOUR_MS: u64 = 3_600_000;
/// One day, in ms.
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// The start of the bucket of width `width_ms` holding `at_ms`.
pub fn bucket_start(at_ms: u64, width_ms: u64) -> u64 {
    at_ms - at_ms % width_ms
}

/// Formats ms since the Unix epoch as RFC 3339 in UTC, e.g. `2026-11-21T04:25:35.120Z`.
///
/// Total: times after the last ms of year 9999 (which RFC 3339 cannot write,
/// and a damaged state row may hold) are shown as that last ms.
pub fn rfc3339(unix_ms: u64) -> String {
    /// 9999-12-31T23:59:59.999Z, ms since the Unix epoch.
    const LAST_MS: u64 = 253_402_300_799_999;
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(unix_ms.min(LAST_MS))).to_string()
}

/// Reads an RFC 3339 time in UTC (`2026-12-01T22:00:00Z`) as ms since the
/// Unix epoch; the complaint otherwise.
pub fn parse_time(text: &str) -> Result<u64, String> {
    let at = humantime::parse_rfc3339(text)
        .map_err(|e| format!("{e}: an RFC 3339 time in UTC is expected, for example 2026-12-01T22:00:00Z"))?;
    Ok(at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64))
}
