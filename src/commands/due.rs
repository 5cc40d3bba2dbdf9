//! `vulnmail due`

use serde::Serialize;

use super::Ctx;
use std::fmt::Write as _;

use jiff::Timestamp;

use super::list::{short_kind, width};
use super::tracking::{Lines, Tracker, merge_lines, over_listing, sort_key, table};
use crate::cli::DueArgs;
use crate::output::Output;
use crate::report::deadline::{self, Due, Status};
use crate::store::Store;
use crate::store::triage::ListRow;
use crate::term::push_cell;

/// One deadline that needs action.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: String,
    /// acknowledge | triage | fix | disclose
    pub kind: &'static str,
    /// RFC 3339, UTC
    pub due: String,
    /// overdue | pending
    pub status: Status,
    /// "in 3h 20m", "2d 1h overdue"
    pub when: String,
    #[serde(serialize_with = "crate::report::deadline::arc_str")]
    pub promise: std::sync::Arc<str>,
    pub state: &'static str,
    pub severity: Option<String>,
    pub title: Option<String>,
    pub reporter: Option<String>,
    #[serde(skip)]
    pub due_ts: Timestamp,
}

/// The deadlines of one report that need action before `until`: running (pending
/// or overdue) and due by then. Finished reports have none.
fn needing_action<'a>(
    tracker: &'a Tracker,
    r: &'a ListRow<'_>,
    until: Timestamp,
) -> impl Iterator<Item = (Due, Timestamp)> + 'a {
    let finished = r.state.is_finished();
    // Finished reports have nothing due: their deadlines are not even counted.
    tracker.each_of_row(r).take_while(move |_| !finished).filter_map(move |d| {
        let t = d.due_ts?;
        (matches!(d.status, Status::Overdue | Status::Pending) && t <= until).then_some((d, t))
    })
}

/// Overdue first, then soonest first.
fn due_key(status: Status, t: Timestamp) -> u64 {
    sort_key(0, status != Status::Overdue, t.as_second())
}

/// Every running deadline due before `until`, overdue first, soonest first.
pub fn items(tracker: &Tracker, store: &Store, until: Timestamp) -> anyhow::Result<Vec<Item>> {
    let parts = over_listing(store, |st, part| {
        let mut out = Vec::new();
        st.each_listing_in(part, |r| {
            for (d, t) in needing_action(tracker, r, until) {
                out.push(Item {
                    id: r.report_id.to_string(),
                    kind: d.kind,
                    due: crate::clock::rfc3339(t),
                    status: d.status,
                    when: deadline::human(t, tracker.now),
                    promise: d.promise,
                    state: r.state.as_str(),
                    severity: r.shown_severity().0.map(str::to_string),
                    title: r.title.map(str::to_string),
                    reporter: r.reporter.map(str::to_string),
                    due_ts: t,
                });
            }
        })?;
        Ok(out)
    })?;
    let mut out: Vec<Item> = parts.into_iter().flatten().collect();
    // Stable: ties keep the storage order.
    out.sort_by_key(|i| due_key(i.status, i.due_ts));
    Ok(out)
}

pub fn run(ctx: &Ctx, a: DueArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let now = ctx.clock.now();
    let within = crate::clock::parse_duration(&a.within)?;
    let until = now.checked_add(jiff::SignedDuration::from_secs(within.as_secs() as i64)).unwrap_or(now);
    let tracker = Tracker::new(&cfg, now)?;
    let store = ctx.open_store(&cfg)?;

    if ctx.json {
        let list = items(&tracker, &store, until)?;
        let overdue = list.iter().filter(|i| i.status == Status::Overdue).count();
        #[derive(Serialize)]
        struct DueJson<'a> {
            now: String,
            within: &'a str,
            overdue: usize,
            items: &'a [Item],
        }
        let json = DueJson { now: crate::clock::rfc3339(now), within: &a.within, overdue, items: &list };
        return Ok(Output::json_of(&json)?.failed(overdue > 0));
    }
    // Lines are written as the rows are read, and only their places sorted.
    let title_w = width().saturating_sub(13 + 1 + 9 + 1 + 20 + 1 + 12 + 1 + 9 + 1).max(5);
    let parts = over_listing(&store, |st, part| {
        let mut out = Lines::default();
        st.each_listing_in(part, |r| {
            for (d, t) in needing_action(&tracker, r, until) {
                let buf = &mut out.buf;
                let start = buf.len();
                let overdue = d.status == Status::Overdue;
                push_cell(buf, r.report_id, 13, true);
                buf.push(' ');
                push_cell(buf, short_kind(d.kind), 9, true);
                buf.push(' ');
                ctx.style.push_fail(buf, overdue, |buf| {
                    let at = buf.len();
                    deadline::push_human(buf, t, now);
                    let used = buf.len() - at;
                    buf.extend(std::iter::repeat_n(' ', 20usize.saturating_sub(used)));
                });
                buf.push(' ');
                push_cell(buf, r.state.as_str(), 12, true);
                buf.push(' ');
                push_cell(buf, r.shown_severity().0.unwrap_or("-"), 9, true);
                buf.push(' ');
                push_cell(buf, r.title.unwrap_or(""), title_w, false);
                buf.push('\n');
                out.push(due_key(d.status, t), overdue, start);
            }
        })?;
        Ok(out.sorted())
    })?;
    let (bufs, lines) = merge_lines(parts);
    let overdue = lines.iter().filter(|l| l.overdue).count();
    let (mut head, mut foot) = (String::new(), String::new());
    if lines.is_empty() {
        let _ = writeln!(head, "nothing due within {}", a.within);
    } else {
        let _ = writeln!(head, "{:<13} {:<9} {:<20} {:<12} {:<9} TITLE", "ID", "DEADLINE", "WHEN", "STATE", "SEVERITY");
        let _ = writeln!(foot, "{overdue} overdue, {} due within {}", lines.len() - overdue, a.within);
    }
    Ok(table(bufs, &lines, head, foot).failed(overdue > 0))
}
