//! The current time, injectable so that tests move it instead of sleeping.

use std::time::SystemTime;

use jiff::Timestamp;

use crate::error::UserError;

/// The instant vulnmail treats as now.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    now: Timestamp,
}

impl Clock {
    /// The real clock, or the RFC 3339 instant given by the hidden `--time` / `VULNMAIL_TIME`.
    pub fn new(fixed: Option<&str>) -> Result<Self, UserError> {
        let now = match fixed {
            Some(s) => s.parse::<Timestamp>().map_err(|e| {
                UserError(format!("--time {s:?} is not an RFC 3339 instant such as 2026-12-01T09:00:00Z: {e}"))
            })?,
            None => Timestamp::now(),
        };
        Ok(Clock { now })
    }

    pub fn fixed(now: Timestamp) -> Self {
        Clock { now }
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn system_time(&self) -> SystemTime {
        // Every Timestamp jiff parses is inside SystemTime's range on Unix.
        SystemTime::try_from(self.now).unwrap_or(SystemTime::UNIX_EPOCH)
    }
}

/// Parse a human duration such as `2y`, `18m`, `6w`, `400d`, `12h` into seconds.
///
/// Years are 365 days and months 30: key lifetimes need no calendar precision.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, UserError> {
    let t = s.trim();
    let bad = || UserError(format!("{s:?} is not a duration: write a number and a unit, e.g. 2y, 18m, 6w, 90d or 12h"));
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let day = 86_400u64;
    let secs = match unit.trim() {
        "y" | "year" | "years" => n * 365 * day,
        "m" | "mo" | "month" | "months" => n * 30 * day,
        "w" | "week" | "weeks" => n * 7 * day,
        "d" | "day" | "days" => n * day,
        "h" | "hour" | "hours" => n * 3600,
        _ => return Err(bad()),
    };
    if n == 0 {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// A time as vulnmail writes it everywhere (store, JSON, history): RFC 3339,
/// UTC, whole seconds.
pub fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A point in time given as a date (YYYY-MM-DD, midnight UTC), an RFC 3339
/// time, or a duration before `now` ("30d").
pub fn parse_since(s: &str, now: Timestamp) -> Result<Timestamp, UserError> {
    let t = s.trim();
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(d) = t.parse::<jiff::civil::Date>() {
        return d
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|_| UserError(format!("{s:?} is out of range")));
    }
    let d = parse_duration(t).map_err(|_| {
        UserError(format!("{s:?} is not a date: write YYYY-MM-DD, an RFC 3339 time, or a duration such as 30d"))
    })?;
    now.checked_sub(jiff::SignedDuration::from_secs(d.as_secs() as i64))
        .map_err(|_| UserError(format!("{s:?} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2y").unwrap().as_secs(), 2 * 365 * 86_400);
        assert_eq!(parse_duration("90d").unwrap().as_secs(), 90 * 86_400);
        assert_eq!(parse_duration("6 weeks").unwrap().as_secs(), 42 * 86_400);
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0d").is_err());
        assert!(parse_duration("12").is_err());
    }

    #[test]
    fn fixed_time() {
        let c = Clock::new(Some("2026-12-01T09:00:00Z")).unwrap();
        assert_eq!(c.now().to_string(), "2026-12-01T09:00:00Z");
        assert!(Clock::new(Some("yesterday")).is_err());
    }
}
