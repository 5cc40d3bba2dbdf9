//! `vulnmail due`

use serde::Serialize;
use serde_json::json;

use super::Ctx;
use super::list::{entry, short_kind, width};
use super::tracking::Tracker;
use crate::cli::DueArgs;
use crate::output::Output;
use crate::report::deadline::{self, Status};
use crate::term::{UntrustedLine, cut};

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
    pub due_ts: jiff::Timestamp,
}

/// Every running deadline due before `until`, overdue first, soonest first.
pub fn items(tracker: &Tracker, rows: Vec<crate::store::triage::ListRow>, until: jiff::Timestamp) -> Vec<Item> {
    let mut out = Vec::new();
    // Finished reports have nothing due: skip them before counting their deadlines.
    for e in rows.into_iter().filter(|r| !r.state.is_finished()).map(|r| entry(tracker, r)) {
        for d in &e.deadlines {
            let Some(t) = d.due_ts else { continue };
            if !matches!(d.status, Status::Overdue | Status::Pending) || t > until {
                continue;
            }
            out.push(Item {
                id: e.row.report_id.clone(),
                kind: d.kind,
                due: t.to_string(),
                status: d.status,
                when: deadline::human(t, tracker.now),
                promise: d.promise.clone(),
                state: e.state.as_str(),
                severity: e.severity.clone(),
                title: e.row.title.clone(),
                reporter: e.row.reporter.clone(),
                due_ts: t,
            });
        }
    }
    out.sort_by(|a, b| (a.status != Status::Overdue).cmp(&(b.status != Status::Overdue)).then(a.due_ts.cmp(&b.due_ts)));
    out
}

pub fn run(ctx: &Ctx, a: DueArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let now = ctx.clock.now();
    let within = crate::clock::parse_duration(&a.within)?;
    let until = now.checked_add(jiff::SignedDuration::from_secs(within.as_secs() as i64)).unwrap_or(now);
    let tracker = Tracker::new(&cfg, now)?;
    let store = ctx.open_store(&cfg)?;
    let list = items(&tracker, store.listing()?, until);
    let overdue = list.iter().filter(|i| i.status == Status::Overdue).count();

    if ctx.json {
        let json = json!({
            "now": crate::clock::rfc3339(now),
            "within": a.within,
            "overdue": overdue,
            "items": list,
        });
        return Ok(Output::new(String::new(), json).failed(overdue > 0));
    }
    let title_w = width().saturating_sub(12 + 1 + 9 + 1 + 20 + 1 + 12 + 1 + 9 + 1).max(16);
    let mut text = String::new();
    if list.is_empty() {
        text.push_str(&format!("nothing due within {}\n", a.within));
    } else {
        text.push_str(&format!(
            "{:<12} {:<9} {:<20} {:<12} {:<9} {}\n",
            "ID", "DEADLINE", "WHEN", "STATE", "SEVERITY", "TITLE"
        ));
        for i in &list {
            let when = format!("{:<20}", i.when);
            let when = if i.status == Status::Overdue { ctx.style.fail(&when) } else { when };
            text.push_str(&format!(
                "{:<12} {:<9} {} {:<12} {:<9} {}\n",
                i.id,
                short_kind(i.kind),
                when,
                i.state,
                i.severity.as_deref().unwrap_or("-"),
                cut(&UntrustedLine(i.title.as_deref().unwrap_or("")).to_string(), title_w)
            ));
        }
        text.push_str(&format!("{overdue} overdue, {} due within {}\n", list.len() - overdue, a.within));
    }
    Ok(Output::new(text, serde_json::Value::Null).failed(overdue > 0))
}
