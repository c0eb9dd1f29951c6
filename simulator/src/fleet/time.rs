//! Dates as freqtrade prints them, serialised without building intermediate strings.

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

/// Milliseconds since the epoch, the current wall clock.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// freqtrade's trade dates: `"YYYY-MM-DD HH:MM:SS"` in UTC without a zone.
#[derive(Debug, Clone, Copy)]
pub struct FtDate(pub i64);

impl Serialize for FtDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match DateTime::<Utc>::from_timestamp_millis(self.0) {
            Some(date) => serializer.collect_str(&date.format("%Y-%m-%d %H:%M:%S")),
            None => serializer.serialize_str(""),
        }
    }
}

/// `/health`'s ISO 8601 dates with microseconds, e.g. `2026-11-24T23:29:51.123769Z`.
#[derive(Debug, Clone, Copy)]
pub struct IsoDate(pub i64);

impl Serialize for IsoDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match DateTime::<Utc>::from_timestamp_millis(self.0) {
            Some(date) => serializer.collect_str(&date.format("%Y-%m-%dT%H:%M:%S%.6fZ")),
            None => serializer.serialize_none(),
        }
    }
}

/// Python's `str(timedelta)` without fractions, as `/profit`'s `avg_duration`:
/// `0:01:27`, `1 day, 2:03:04`.
pub fn duration_text(secs: i64) -> String {
    let secs = secs.max(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let clock = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        _ => format!("{days} days, {clock}"),
    }
}

/// Roughly freqtrade's (humanize's) "5 minutes ago".
pub fn humanized_ago(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..=9 => "just now".to_owned(),
        10..=59 => format!("{secs} seconds ago"),
        60..=119 => "a minute ago".to_owned(),
        120..=3599 => format!("{} minutes ago", secs / 60),
        3600..=7199 => "an hour ago".to_owned(),
        7200..=86_399 => format!("{} hours ago", secs / 3600),
        86_400..=172_799 => "a day ago".to_owned(),
        _ => format!("{} days ago", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_freqtrade() {
        let ms = 1_795_562_692_254;
        assert_eq!(
            serde_json::to_string(&FtDate(ms)).unwrap(),
            "\"2026-11-24 23:24:52\""
        );
        assert_eq!(
            serde_json::to_string(&IsoDate(ms)).unwrap(),
            "\"2026-11-24T23:24:52.254000Z\""
        );
        assert_eq!(duration_text(87), "0:01:27");
        assert_eq!(duration_text(90_061), "1 day, 1:01:01");
        assert_eq!(humanized_ago(300), "5 minutes ago");
    }
}
