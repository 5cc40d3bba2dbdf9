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

/// Append `t` as "YYYY-MM-DD HH:MM" in UTC (the tables' time column), without
/// allocating.
pub fn push_utc_minutes(out: &mut String, t: Timestamp) {
    let d = jiff::tz::Offset::UTC.to_datetime(t);
    let Ok(year) = u32::try_from(d.year()) else {
        out.push_str(&t.strftime("%Y-%m-%d %H:%M").to_string());
        return;
    };
    push_digits(out, year, 4);
    out.push('-');
    push_digits(out, d.month() as u32, 2);
    out.push('-');
    push_digits(out, d.day() as u32, 2);
    out.push(' ');
    push_digits(out, d.hour() as u32, 2);
    out.push(':');
    push_digits(out, d.minute() as u32, 2);
}

/// Append `n` in decimal, zero-padded to at least `min` digits.
pub fn push_digits(out: &mut String, n: u32, min: usize) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for _ in (buf.len() - i)..min {
        out.push('0');
    }
    for &b in &buf[i..] {
        out.push(b as char);
    }
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
    fn table_times_match_strftime() {
        for s in ["2026-12-01T09:05:59Z", "0999-01-02T03:04:05Z", "2024-02-29T23:59:00Z", "1970-01-01T00:00:00Z"] {
            let t: Timestamp = s.parse().unwrap();
            let mut out = String::new();
            push_utc_minutes(&mut out, t);
            assert_eq!(out, t.strftime("%Y-%m-%d %H:%M").to_string());
        }
        let mut out = String::new();
        push_digits(&mut out, 1234567, 2);
        push_digits(&mut out, 7, 3);
        assert_eq!(out, "1234567007");
    }

    #[test]
    fn fixed_time() {
        let c = Clock::new(Some("2026-12-01T09:00:00Z")).unwrap();
        assert_eq!(c.now().to_string(), "2026-12-01T09:00:00Z");
        assert!(Clock::new(Some("yesterday")).is_err());
    }
}
