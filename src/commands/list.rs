//! `vulnmail list`

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::io::IsTerminal;

use jiff::Timestamp;
use serde_json::json;

use super::Ctx;
use super::tracking::Tracker;
use crate::cli::ListArgs;
use crate::error::user_err;
use crate::output::Output;
use crate::report::deadline::{self, Due, Status};
use crate::report::state::State;
use crate::store::triage::ListRow;
use crate::term::{UntrustedLine, cut};

/// A report in the listing, with its deadlines worked out.
pub struct Entry {
    pub row: ListRow,
    pub state: State,
    /// The team's severity, else the reporter's claim.
    pub severity: Option<String>,
    pub claimed_only: bool,
    pub deadlines: Vec<Due>,
    pub received: Option<Timestamp>,
    /// When the next running deadline falls due (the sort key).
    pub next_due: Option<Timestamp>,
}

impl Entry {
    pub fn next(&self) -> Option<&Due> {
        deadline::next(&self.deadlines)
    }

    pub fn overdue(&self) -> bool {
        self.deadlines.iter().any(|d| d.status == Status::Overdue)
    }
}

/// Reports with their deadlines, in the order given.
pub fn entries(tracker: &Tracker, rows: Vec<ListRow>) -> Vec<Entry> {
    rows.into_iter().map(|row| entry(tracker, row)).collect()
}

pub fn entry(tracker: &Tracker, row: ListRow) -> Entry {
    let deadlines = tracker.of_row(&row);
    let (severity, claimed_only) = match (&row.severity, &row.claimed) {
        (Some(s), _) => (Some(s.clone()), false),
        (None, Some(c)) => (Some(c.clone()), true),
        _ => (None, false),
    };
    let next_due = deadline::next(&deadlines).and_then(|d| d.due_ts);
    Entry { state: row.state, received: row.milestones.received, severity, claimed_only, deadlines, row, next_due }
}

fn severity_rank(s: Option<&str>) -> usize {
    crate::report::severity::NAMES.iter().position(|n| Some(*n) == s).unwrap_or(9)
}

/// Overdue first, then the soonest deadline, then the newest without one.
pub fn by_deadline(a: &Entry, b: &Entry) -> Ordering {
    match (a.next_due, b.next_due) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => b.received.cmp(&a.received),
    }
}

type StateTest = Box<dyn Fn(State) -> bool>;

fn state_filter(words: &[String]) -> anyhow::Result<Vec<StateTest>> {
    let mut out: Vec<StateTest> = Vec::new();
    for w in words {
        match w.trim() {
            "open" => out.push(Box::new(|s: State| !s.is_finished())),
            "closed" => out.push(Box::new(|s: State| s.is_closed())),
            other => {
                let st: State = other.parse().map_err(|e: crate::report::state::UnknownState| {
                    user_err(format!("{e}; or \"open\" / \"closed\""))
                })?;
                out.push(Box::new(move |s| s == st));
            }
        }
    }
    Ok(out)
}

/// The terminal's width, or COLUMNS, or 120 in a pipe.
pub fn width() -> usize {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse::<usize>().ok()) {
        return c.max(60);
    }
    if std::io::stdout().is_terminal()
        && let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size_of(std::io::stdout())
    {
        return usize::from(w).max(60);
    }
    120
}

/// "ack in 3h 20m", "fix 2d 1h overdue".
pub fn next_text(d: Option<&Due>, now: Timestamp) -> String {
    match d.and_then(|d| d.due_ts.map(|t| (d, t))) {
        Some((d, t)) => format!("{} {}", short_kind(d.kind), deadline::human(t, now)),
        None => "-".into(),
    }
}

pub fn short_kind(k: &str) -> &str {
    match k {
        "acknowledge" => "ack",
        other => other,
    }
}

pub fn run(ctx: &Ctx, a: ListArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let now = ctx.clock.now();
    let tracker = Tracker::new(&cfg, now)?;
    let store = ctx.open_store(&cfg)?;
    let states = state_filter(&a.state)?;
    let mut severities = Vec::new();
    for s in &a.severity {
        if s == "unset" {
            severities.push(None);
        } else {
            let n = crate::report::severity::normalise(s).ok_or_else(|| {
                user_err(format!("unknown severity {s:?}; use critical, high, medium, low, none or unset"))
            })?;
            severities.push(Some(n.to_string()));
        }
    }
    let since = a.since.as_deref().map(|s| crate::clock::parse_since(s, now)).transpose()?;
    let found = a.search.as_deref().map(|t| store.search(t)).transpose()?;

    // The cheap filters first; deadlines only for what is left.
    let mut list: Vec<Entry> = store
        .listing()?
        .into_iter()
        .filter(|r| states.is_empty() || states.iter().any(|f| f(r.state)))
        .filter(|r| {
            severities.is_empty()
                || severities.iter().any(|s| s.as_deref() == r.severity.as_deref().or(r.claimed.as_deref()))
        })
        .filter(|r| since.is_none_or(|s| r.milestones.received.is_some_and(|t| t >= s)))
        .filter(|r| found.as_ref().is_none_or(|f| f.contains(&r.report_id)))
        .map(|r| entry(&tracker, r))
        .filter(|e| !a.overdue || e.overdue())
        .collect();
    match a.sort.as_str() {
        "received" => list.sort_by_key(|x| std::cmp::Reverse(x.received)),
        "severity" => list.sort_by(|x, y| {
            severity_rank(x.severity.as_deref()).cmp(&severity_rank(y.severity.as_deref())).then(by_deadline(x, y))
        }),
        _ => list.sort_unstable_by(by_deadline),
    }

    if ctx.json {
        // The full records, in the listing's order.
        // Records without an id (not reports) are kept apart: keyed by their empty id
        // they overwrote each other, and `--all` showed only the last one.
        let (with_id, mut rest): (Vec<_>, Vec<_>) = store.reports(a.all)?.into_iter().partition(|r| !r.id.is_empty());
        let mut by_id: std::collections::HashMap<String, crate::report::model::Report> =
            with_id.into_iter().map(|r| (r.id.clone(), r)).collect();
        let mut out = Vec::with_capacity(list.len());
        for e in &list {
            if let Some(mut r) = by_id.remove(&e.row.report_id) {
                tracker.fill(&mut r);
                out.push(r);
            }
        }
        if a.all {
            rest.sort_by(|x, y| x.received_at.cmp(&y.received_at));
            out.extend(rest);
        }
        return Ok(Output::new(String::new(), json!(out)));
    }

    let w = width();
    let fixed = 12 + 1 + 16 + 1 + 12 + 1 + 9 + 1 + 20 + 1;
    let rest = w.saturating_sub(fixed).max(30);
    let reporter_w = (rest / 3).clamp(12, 30);
    let title_w = rest.saturating_sub(reporter_w + 1).max(16);
    let mut text = String::with_capacity(200 + list.len() * (w + 8));
    let _ = writeln!(
        text,
        "{:<12} {:<16} {:<12} {:<9} {:<20} {:<title_w$} REPORTER",
        "ID", "RECEIVED", "STATE", "SEVERITY", "NEXT DEADLINE", "TITLE"
    );
    let mut overdue = 0;
    for e in &list {
        let r = &e.row;
        let mut title = UntrustedLine(r.title.as_deref().unwrap_or("")).to_string();
        if r.failed {
            title = format!("[not decrypted] {title}");
        }
        let sev = match (&e.severity, e.claimed_only) {
            (Some(s), true) => format!("{s}?"),
            (Some(s), false) => s.clone(),
            (None, _) => "-".into(),
        };
        let next = next_text(e.next(), now);
        let next = if e.overdue() {
            overdue += 1;
            ctx.style.fail(&format!("{:<20}", format!("!{next}")))
        } else {
            format!("{next:<20}")
        };
        let _ = writeln!(
            text,
            "{:<12} {:<16} {:<12} {:<9} {} {:<title_w$} {}",
            r.report_id,
            e.received.map(|t| t.strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
            e.state.as_str(),
            sev,
            next,
            cut(&title, title_w),
            cut(&UntrustedLine(r.reporter.as_deref().unwrap_or("")).to_string(), reporter_w),
        );
    }
    text.push_str(&format!("{} reports", list.len()));
    if overdue > 0 {
        text.push_str(&format!(", {overdue} overdue"));
    }
    text.push('\n');
    if a.all {
        for r in store.reports(true)?.into_iter().filter(|r| r.id.is_empty()) {
            let subject = UntrustedLine(r.subject.as_deref().unwrap_or("")).to_string();
            text.push_str(&format!(
                "({}) {} {} {}\n",
                r.kind,
                r.received_at.as_deref().unwrap_or(""),
                cut(&subject, title_w),
                UntrustedLine(r.from.address.as_deref().unwrap_or(""))
            ));
        }
    }
    Ok(Output::new(text, json!([])))
}
