//! Counting the team's promises: when each deadline of a report falls due, and
//! whether it was kept.
//!
//! Rules (documented in docs/triage.md):
//! - hours are elapsed time (a DST change does not move them);
//! - days and weeks are calendar days in the policy's time zone: the deadline
//!   falls at the same local time of day (jiff moves a time that does not exist
//!   on that day forward);
//! - business days skip the policy's weekend days; a clock that starts on a
//!   weekend starts at midnight of the next business day. A report received on
//!   Friday 23:00 with "1 business day" is due on Monday 23:00.
//! - A clock starts at the event the policy names (receipt, acknowledgement,
//!   triage, fix); until that event has happened the deadline has no date.
//! - A deadline is done when its step happened (acknowledged, triaged, fixed,
//!   disclosed); kept when that was no later than the due time.
//! - Which severity's deadlines apply: the team's severity, else the reporter's
//!   claim, else only the policy's `default` entries.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, ZonedDateTime as Zoned};
use std::sync::Arc;

use serde::Serialize;

use super::policy::{Deadline, Kind, Policy, Start, Unit};
use super::state::State;

#[derive(Debug, thiserror::Error)]
pub enum DeadlineError {
    #[error("unknown time zone {0:?} in the response policy (use an IANA name such as Europe/Berlin)")]
    TimeZone(String),
    #[error("unknown weekend day {0:?} in the response policy (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)")]
    Weekday(String),
    #[error("deadline out of range")]
    Range,
}

/// The policy's calendar: time zone and weekend.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
    weekend: Vec<jiff::civil::Weekday>,
}

impl Calendar {
    pub fn of(policy: &Policy) -> Result<Calendar, DeadlineError> {
        let tz = TimeZone::get(&policy.time_zone).map_err(|_| DeadlineError::TimeZone(policy.time_zone.clone()))?;
        let mut weekend = Vec::new();
        for d in &policy.weekend {
            weekend.push(weekday(d).ok_or_else(|| DeadlineError::Weekday(d.clone()))?);
        }
        Ok(Calendar { tz, weekend })
    }

    /// `start` plus `amount` of `unit`.
    pub fn add(&self, start: Timestamp, amount: u32, unit: Unit) -> Result<Timestamp, DeadlineError> {
        let n = i64::from(amount);
        if unit == Unit::Hours {
            // Elapsed hours need no calendar.
            return start.checked_add(jiff::SignedDuration::from_hours(n)).map_err(|_| DeadlineError::Range);
        }
        let z = start.to_zoned_datetime(self.tz.clone());
        let out = match unit {
            Unit::Hours => z,
            Unit::Days => z.checked_add(n.days()).map_err(|_| DeadlineError::Range)?,
            Unit::Weeks => z.checked_add((n * 7).days()).map_err(|_| DeadlineError::Range)?,
            Unit::BusinessDays => {
                if self.weekend.len() >= 7 {
                    return Err(DeadlineError::Range);
                }
                // Count on the civil calendar (cheap), then place the result in the zone once.
                let weekend = |d: jiff::civil::DateTime| self.weekend.contains(&d.weekday());
                let mut dt = z.datetime();
                if weekend(dt) {
                    while weekend(dt) {
                        dt = dt.tomorrow().map_err(|_| DeadlineError::Range)?;
                    }
                    dt = dt.date().to_datetime(jiff::civil::Time::midnight());
                }
                let mut left = n;
                while left > 0 {
                    dt = dt.tomorrow().map_err(|_| DeadlineError::Range)?;
                    if !weekend(dt) {
                        left -= 1;
                    }
                }
                dt.to_zoned_datetime(self.tz.clone()).map_err(|_| DeadlineError::Range)?
            }
        };
        Ok(out.timestamp())
    }

    pub fn zoned(&self, t: Timestamp) -> Zoned {
        t.to_zoned_datetime(self.tz.clone())
    }
}

fn weekday(s: &str) -> Option<jiff::civil::Weekday> {
    use jiff::civil::Weekday::*;
    Some(match s.trim().to_ascii_lowercase().get(..3)? {
        "mon" => Monday,
        "tue" => Tuesday,
        "wed" => Wednesday,
        "thu" => Thursday,
        "fri" => Friday,
        "sat" => Saturday,
        "sun" => Sunday,
        _ => return None,
    })
}

/// When the steps of a report happened.
#[derive(Debug, Clone, Default)]
pub struct Milestones {
    pub received: Option<Timestamp>,
    pub acknowledged: Option<Timestamp>,
    pub triaged: Option<Timestamp>,
    pub fixed: Option<Timestamp>,
    pub disclosed: Option<Timestamp>,
    /// Closed with a reason: open deadlines are cancelled.
    pub closed: Option<Timestamp>,
}

impl Milestones {
    fn start(&self, s: Start) -> Option<Timestamp> {
        match s {
            Start::Receipt => self.received,
            Start::Acknowledge => self.acknowledged,
            Start::Triage => self.triaged,
            Start::Fix => self.fixed,
        }
    }

    fn done(&self, k: Kind) -> Option<Timestamp> {
        match k {
            Kind::Acknowledge => self.acknowledged,
            Kind::Triage => self.triaged,
            Kind::Fix => self.fixed,
            Kind::Disclose => self.disclosed,
        }
    }
}

impl Milestones {
    /// From a report's receipt time and the team's triage data (RFC 3339 strings).
    pub fn of(received: Option<&str>, acknowledged: Option<&str>, t: &super::model::Triage) -> Milestones {
        let p = |s: Option<&String>| s.and_then(|s| s.parse::<Timestamp>().ok());
        Milestones {
            received: received.and_then(|s| s.parse().ok()),
            acknowledged: acknowledged.and_then(|s| s.parse().ok()),
            triaged: p(t.triaged_at.as_ref()),
            fixed: p(t.fixed_at.as_ref()),
            disclosed: p(t.disclosed_at.as_ref()),
            closed: p(t.closed_at.as_ref()),
        }
    }
}

/// The severity whose deadlines apply: the team's, else the reporter's claim.
pub fn applicable_severity<'a>(team: Option<&'a str>, claimed: Option<&'a str>) -> Option<&'a str> {
    team.or(claimed).filter(|s| super::policy::SEVERITIES.contains(s))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Running, not yet due.
    Pending,
    /// Running and past due.
    Overdue,
    /// Done in time.
    Met,
    /// Done, but late.
    Missed,
    /// Its clock has not started (the step it counts from has not happened).
    NotStarted,
    /// A promise without a number ("next release"): nothing to count.
    Untimed,
    /// The report was closed before the step happened.
    Cancelled,
}

/// One deadline of one report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Due {
    pub kind: &'static str,
    /// RFC 3339, UTC; null when not started or untimed.
    #[serde(rename = "due", serialize_with = "ts_opt")]
    pub due_ts: Option<Timestamp>,
    pub status: Status,
    /// "within 48 hours of receipt", "90 days after the fix", "next regular release".
    #[serde(serialize_with = "arc_str")]
    pub promise: Arc<str>,
    /// When the step was done.
    #[serde(serialize_with = "ts_opt")]
    pub done_at: Option<Timestamp>,
}

impl Due {
    /// The due time as RFC 3339, UTC.
    pub fn due(&self) -> Option<String> {
        self.due_ts.map(|t| t.to_string())
    }
}

fn ts_opt<S: serde::Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.collect_str(t),
        None => s.serialize_none(),
    }
}

/// Serialise a shared string.
pub fn arc_str<S: serde::Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

/// The policy's deadlines per severity, with their descriptions, worked out once
/// (reading thousands of reports should not rebuild the same words each time).
#[derive(Debug, Clone)]
pub struct Schedule {
    rows: Vec<(String, Entry)>,
}

/// Per kind: the deadline and its words.
type Entry = [Option<(Deadline, Arc<str>)>; 4];

impl Schedule {
    pub fn of(policy: &Policy) -> Schedule {
        let mut names: Vec<String> = vec!["default".into()];
        names.extend(policy.severities.keys().filter(|k| *k != "default").cloned());
        let rows = names
            .into_iter()
            .map(|sev| {
                let entry = KINDS.map(|(kind, _)| policy.deadline(&sev, kind).map(|d| (d.clone(), promise(d).into())));
                (sev, entry)
            })
            .collect();
        Schedule { rows }
    }

    fn get(&self, severity: &str) -> &Entry {
        &self.rows.iter().find(|(s, _)| s == severity).unwrap_or(&self.rows[0]).1
    }
}

/// What a deadline promises, in words.
pub fn promise(d: &Deadline) -> String {
    match (d.amount, d.from) {
        (None, _) => d.describe(),
        (Some(_), Start::Fix) => format!("{} {}", d.describe(), d.from.describe()),
        (Some(_), from) => format!("within {} {}", d.describe(), from.describe()),
    }
}

pub const KINDS: [(Kind, &str); 4] =
    [(Kind::Acknowledge, "acknowledge"), (Kind::Triage, "triage"), (Kind::Fix, "fix"), (Kind::Disclose, "disclose")];

/// Every deadline of a report, in process order.
pub fn deadlines(
    schedule: &Schedule,
    cal: &Calendar,
    severity: Option<&str>,
    state: State,
    m: &Milestones,
    now: Timestamp,
) -> Vec<Due> {
    each(schedule, cal, severity, state, m, now).collect()
}

/// The deadlines of a report one by one, in process order, without collecting them
/// (list and due work through every report).
pub fn each<'a>(
    schedule: &'a Schedule,
    cal: &'a Calendar,
    severity: Option<&str>,
    state: State,
    m: &'a Milestones,
    now: Timestamp,
) -> impl Iterator<Item = Due> + 'a {
    let entry = schedule.get(severity.unwrap_or("default"));
    KINDS.into_iter().zip(entry).filter_map(move |((kind, name), slot)| {
        let (d, promise) = slot.as_ref()?;
        Some(one(cal, d, promise, kind, name, state, m, now))
    })
}

#[allow(clippy::too_many_arguments)]
fn one(
    cal: &Calendar,
    d: &Deadline,
    promise: &Arc<str>,
    kind: Kind,
    name: &'static str,
    state: State,
    m: &Milestones,
    now: Timestamp,
) -> Due {
    let done = m.done(kind);
    let mut due = Due { kind: name, due_ts: None, status: Status::NotStarted, promise: promise.clone(), done_at: done };
    let Some(start) = m.start(d.from) else {
        if state.is_closed() && done.is_none() {
            due.status = Status::Cancelled;
        }
        return due;
    };
    let (Some(amount), Some(unit)) = (d.amount, d.unit) else {
        due.status = if done.is_some() { Status::Met } else { Status::Untimed };
        return due;
    };
    let Ok(at) = cal.add(start, amount, unit) else {
        due.status = Status::Untimed;
        return due;
    };
    due.due_ts = Some(at);
    due.status = match done {
        Some(t) if t <= at => Status::Met,
        Some(_) => Status::Missed,
        None if state.is_closed() => Status::Cancelled,
        None if now > at => Status::Overdue,
        None => Status::Pending,
    };
    due
}

/// The next deadline that needs action (the earliest running one), and whether any
/// deadline is overdue.
pub fn next_and_overdue(deadlines: impl Iterator<Item = Due>) -> (Option<Due>, bool) {
    let mut next: Option<Due> = None;
    let mut overdue = false;
    for d in deadlines {
        overdue |= d.status == Status::Overdue;
        if matches!(d.status, Status::Pending | Status::Overdue) && next.as_ref().is_none_or(|n| d.due_ts < n.due_ts) {
            next = Some(d);
        }
    }
    (next, overdue)
}

/// "in 3h", "2d 4h overdue".
pub fn human(due: Timestamp, now: Timestamp) -> String {
    let mut out = String::with_capacity(20);
    push_human(&mut out, due, now);
    out
}

/// [`human`], appended to `out`.
pub fn push_human(out: &mut String, due: Timestamp, now: Timestamp) {
    use crate::clock::push_digits;
    let secs = due.as_second() - now.as_second();
    let a = secs.unsigned_abs();
    let n = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
    if secs >= 0 {
        out.push_str("in ");
    }
    if a >= 86_400 {
        push_digits(out, n(a / 86_400), 1);
        out.push_str("d ");
        push_digits(out, n((a % 86_400) / 3600), 1);
        out.push('h');
    } else if a >= 3600 {
        push_digits(out, n(a / 3600), 1);
        out.push_str("h ");
        push_digits(out, n((a % 3600) / 60), 1);
        out.push('m');
    } else {
        push_digits(out, n(a.div_ceil(60).max(1)), 1);
        out.push('m');
    }
    if secs < 0 {
        out.push_str(" overdue");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(tz: &str) -> Calendar {
        let mut p = Policy::preset();
        p.time_zone = tz.into();
        Calendar::of(&p).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn business_days_skip_the_weekend() {
        let c = cal("UTC");
        // Friday 23:00 + 1 business day = Monday 23:00.
        assert_eq!(c.add(ts("2026-11-27T23:00:00Z"), 1, Unit::BusinessDays).unwrap(), ts("2026-11-30T23:00:00Z"));
        // Saturday noon: the clock starts Monday 00:00.
        assert_eq!(c.add(ts("2026-11-28T12:00:00Z"), 1, Unit::BusinessDays).unwrap(), ts("2026-12-01T00:00:00Z"));
        // Wednesday + 5 business days = next Wednesday.
        assert_eq!(c.add(ts("2026-11-25T10:00:00Z"), 5, Unit::BusinessDays).unwrap(), ts("2026-12-02T10:00:00Z"));
    }

    #[test]
    fn weekend_is_counted_in_the_policy_time_zone() {
        // Friday 23:30 UTC is already Saturday in Tokyo: the clock starts Monday 00:00 JST.
        let c = cal("Asia/Tokyo");
        assert_eq!(c.add(ts("2026-11-27T23:30:00Z"), 1, Unit::BusinessDays).unwrap(), ts("2026-11-30T15:00:00Z"));
    }

    #[test]
    fn days_keep_the_local_time_across_dst_but_hours_do_not() {
        let c = cal("Europe/Berlin");
        // 2026-10-25: clocks go back one hour in Berlin.
        let start = ts("2026-10-24T10:00:00Z"); // 12:00 CEST
        assert_eq!(c.add(start, 1, Unit::Days).unwrap(), ts("2026-10-25T11:00:00Z")); // 12:00 CET
        assert_eq!(c.add(start, 24, Unit::Hours).unwrap(), ts("2026-10-25T10:00:00Z"));
    }

    #[test]
    fn leap_day() {
        let c = cal("UTC");
        assert_eq!(c.add(ts("2028-02-28T09:00:00Z"), 1, Unit::Days).unwrap(), ts("2028-02-29T09:00:00Z"));
        assert_eq!(c.add(ts("2028-02-25T09:00:00Z"), 2, Unit::BusinessDays).unwrap(), ts("2028-02-29T09:00:00Z"));
        assert_eq!(c.add(ts("2027-02-28T09:00:00Z"), 1, Unit::Weeks).unwrap(), ts("2027-03-07T09:00:00Z"));
    }

    #[test]
    fn status_follows_the_milestones() {
        let p = Policy::preset();
        let c = Calendar::of(&p).unwrap();
        let received = ts("2026-11-02T09:00:00Z");
        let mut m = Milestones { received: Some(received), ..Default::default() };
        let d = deadlines(&Schedule::of(&p), &c, Some("critical"), State::New, &m, ts("2026-11-05T09:00:00Z"));
        assert_eq!(d[0].status, Status::Overdue, "ack after 48h");
        assert_eq!(d[2].status, Status::NotStarted, "fix counts from triage");
        m.acknowledged = Some(ts("2026-11-03T09:00:00Z"));
        m.triaged = Some(ts("2026-11-04T09:00:00Z"));
        let d = deadlines(&Schedule::of(&p), &c, Some("critical"), State::Triaged, &m, ts("2026-11-05T09:00:00Z"));
        assert_eq!(d[0].status, Status::Met);
        assert_eq!(d[2].status, Status::Pending);
        assert_eq!(d[2].due().as_deref(), Some("2026-11-11T09:00:00Z"));
        let d = deadlines(&Schedule::of(&p), &c, Some("critical"), State::WontFix, &m, ts("2026-11-20T09:00:00Z"));
        assert_eq!(d[2].status, Status::Cancelled);
    }

    #[test]
    fn human_durations() {
        let now = ts("2026-11-02T09:00:00Z");
        assert_eq!(human(ts("2026-11-02T12:30:00Z"), now), "in 3h 30m");
        assert_eq!(human(ts("2026-10-31T05:00:00Z"), now), "2d 4h overdue");
    }
}
