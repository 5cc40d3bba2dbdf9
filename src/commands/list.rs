//! `vulnmail list`

use std::fmt::Write as _;
use std::io::IsTerminal;

use jiff::Timestamp;

use super::Ctx;
use super::tracking::{Lines, Tracker, merge_lines, over_listing, sort_key, table};
use crate::cli::ListArgs;
use crate::error::user_err;
use crate::output::Output;
use crate::report::deadline::{self, Due};
use crate::report::state::State;
use crate::store::triage::ListRow;
use crate::term::push_cell;

fn severity_rank(s: Option<&str>) -> usize {
    crate::report::severity::NAMES.iter().position(|n| Some(*n) == s).unwrap_or(9)
}

/// How `--sort` orders reports, as a small key: by deadline (the default), overdue
/// first, then the soonest deadline, then the newest without one; by severity, the
/// same within each severity; by receipt, the newest first.
fn order_key(sort: &str, severity: Option<&str>, next_due: Option<Timestamp>, received: Option<Timestamp>) -> u64 {
    // Newest first; no receipt time last.
    let newest = received.map_or(i64::MAX, |t| -t.as_second());
    let (none_due, secs) = match next_due {
        Some(t) => (false, t.as_second()),
        None => (true, newest),
    };
    match sort {
        "received" => sort_key(0, false, newest),
        "severity" => sort_key(severity_rank(severity), none_due, secs),
        _ => sort_key(0, none_due, secs),
    }
}

type StateTest = Box<dyn Fn(State) -> bool + Send + Sync>;

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

    let layout = Layout::new(width());
    // Lines are written as the rows are read (with `--json`, just the ids), on a
    // thread a part, and only their places sorted.
    let parts = over_listing(&store, |st, part| {
        let mut out = Lines::default();
        st.each_listing_in(part, |r| {
            // The cheap filters first; deadlines only for what is left.
            let (severity, claimed_only) = r.shown_severity();
            if !(states.is_empty() || states.iter().any(|f| f(r.state)))
                || !(severities.is_empty() || severities.iter().any(|s| s.as_deref() == severity))
                || since.is_some_and(|s| r.milestones.received.is_none_or(|t| t < s))
                || found.as_ref().is_some_and(|f| !f.contains(r.report_id))
            {
                return;
            }
            let (next, overdue) = deadline::next_and_overdue(tracker.each_of_row(r));
            if a.overdue && !overdue {
                return;
            }
            let start = out.buf.len();
            if ctx.json {
                out.buf.push_str(r.report_id);
            } else {
                layout.line(&mut out.buf, r, (severity, claimed_only), next.as_ref(), overdue, now, ctx.style);
            }
            out.push(order_key(&a.sort, severity, next.and_then(|d| d.due_ts), r.milestones.received), overdue, start);
        })?;
        Ok(out.sorted())
    })?;
    let (bufs, picked) = merge_lines(parts);

    if ctx.json {
        // The full records, in the listing's order.
        // Records without an id (not reports) are kept apart: keyed by their empty id
        // they overwrote each other, and `--all` showed only the last one.
        let (with_id, mut rest): (Vec<_>, Vec<_>) = store.reports(a.all)?.into_iter().partition(|r| !r.id.is_empty());
        let mut by_id: std::collections::HashMap<String, crate::report::model::Report> =
            with_id.into_iter().map(|r| (r.id.clone(), r)).collect();
        let mut out = Vec::with_capacity(picked.len());
        for p in &picked {
            if let Some(mut r) = by_id.remove(&bufs[p.text.buf][p.text.start..p.text.end]) {
                tracker.fill(&mut r);
                out.push(r);
            }
        }
        if a.all {
            rest.sort_by(|x, y| x.received_at.cmp(&y.received_at));
            out.extend(rest);
        }
        return Ok(Output::json_of(&out)?);
    }

    let mut head = String::new();
    layout.header(&mut head);
    let mut foot = String::new();
    let overdue = picked.iter().filter(|p| p.overdue).count();
    let _ = write!(foot, "{} reports", picked.len());
    if overdue > 0 {
        let _ = write!(foot, ", {overdue} overdue");
    }
    foot.push('\n');
    if a.all {
        for r in store.reports(true)?.into_iter().filter(|r| r.id.is_empty()) {
            let _ = write!(foot, "({}) {} ", r.kind, r.received_at.as_deref().unwrap_or(""));
            push_cell(&mut foot, r.subject.as_deref().unwrap_or(""), layout.title, false);
            foot.push(' ');
            push_cell(&mut foot, r.from.address.as_deref().unwrap_or(""), layout.reporter.max(30), false);
            foot.push('\n');
        }
    }
    Ok(table(bufs, &picked, head, foot))
}

/// The listing's columns for a terminal width.
pub struct Layout {
    pub title: usize,
    /// 0: no reporter column (a narrow terminal).
    pub reporter: usize,
}

/// Fixed columns: id, received, state, severity, next deadline (each with its space).
const FIXED: usize = 13 + 1 + 16 + 1 + 12 + 1 + 9 + 1 + 20 + 1;

impl Layout {
    /// Title and reporter share what the fixed columns leave; below 40 columns for
    /// both, the reporter goes and the title takes the rest (at least 5 columns, so an
    /// 80-column terminal still gets lines that fit).
    pub fn new(width: usize) -> Layout {
        let rest = width.saturating_sub(FIXED);
        if rest < 40 {
            return Layout { title: rest.max(5), reporter: 0 };
        }
        let reporter = (rest / 3).clamp(12, 30);
        Layout { title: rest - reporter - 1, reporter }
    }

    fn header(&self, out: &mut String) {
        let _ =
            write!(out, "{:<13} {:<16} {:<12} {:<9} {:<20} ", "ID", "RECEIVED", "STATE", "SEVERITY", "NEXT DEADLINE");
        if self.reporter > 0 {
            let _ = writeln!(out, "{:<w$} REPORTER", "TITLE", w = self.title);
        } else {
            out.push_str("TITLE\n");
        }
    }

    /// One report's line. Everything from the mail (title, reporter, the claimed
    /// severity) is sanitised and cut to its column.
    #[allow(clippy::too_many_arguments)]
    fn line(
        &self,
        out: &mut String,
        r: &ListRow<'_>,
        (severity, claimed_only): (Option<&str>, bool),
        next: Option<&Due>,
        overdue: bool,
        now: Timestamp,
        style: crate::output::Style,
    ) {
        push_cell(out, r.report_id, 13, true);
        out.push(' ');
        match r.milestones.received {
            Some(t) => crate::clock::push_utc_minutes(out, t),
            None => out.push_str(&" ".repeat(16)),
        }
        out.push(' ');
        push_cell(out, r.state.as_str(), 12, true);
        out.push(' ');
        match severity {
            Some(s) => {
                let used = push_cell(out, s, 8, false);
                if claimed_only {
                    out.push('?');
                }
                pad(out, used + usize::from(claimed_only), 9);
            }
            None => out.push_str("-        "),
        }
        out.push(' ');
        style.push_fail(out, overdue, |out| {
            let start = out.len();
            match next.and_then(|d| d.due_ts.map(|t| (d, t))) {
                Some((d, t)) => {
                    if overdue {
                        out.push('!');
                    }
                    out.push_str(short_kind(d.kind));
                    out.push(' ');
                    deadline::push_human(out, t, now);
                }
                None => out.push('-'),
            }
            // ASCII only: one column a byte.
            let used = out.len() - start;
            pad(out, used, 20);
        });
        out.push(' ');
        let pad_title = self.reporter > 0;
        let mut title_w = self.title;
        if r.failed {
            let mark = "[not decrypted] ";
            let used = push_cell(out, mark, title_w.min(mark.len()), false);
            title_w -= used;
        }
        push_cell(out, r.title.unwrap_or(""), title_w, pad_title);
        if self.reporter > 0 {
            out.push(' ');
            push_cell(out, r.reporter.unwrap_or(""), self.reporter, false);
        }
        out.push('\n');
    }
}

fn pad(out: &mut String, used: usize, width: usize) {
    for _ in used..width {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::deadline::{Milestones, Status};
    use unicode_width::UnicodeWidthStr;

    fn row<'a>(title: &'a str, reporter: &'a str, failed: bool) -> ListRow<'a> {
        ListRow {
            report_id: "VR-2026-12345",
            message: 1,
            title: Some(title),
            reporter: Some(reporter),
            claimed: Some("high"),
            failed,
            state: State::NeedsInfo,
            severity: None,
            milestones: Milestones { received: "2026-11-30T12:00:00Z".parse().ok(), ..Default::default() },
        }
    }

    /// Every line fits the terminal, whatever the mail put in the title, and the
    /// columns stay under their headings.
    #[test]
    fn lines_fit_the_width_and_line_up_with_the_header() {
        let now: Timestamp = "2026-12-01T12:00:00Z".parse().unwrap();
        let next = Due {
            kind: "acknowledge",
            due_ts: "2026-11-30T20:00:00Z".parse().ok(),
            status: Status::Overdue,
            promise: "within 8 hours".into(),
            done_at: None,
        };
        let titles = [
            "XSS in the admin panel",
            "漏洞报告：管理面板中的跨站脚本漏洞，影响所有用户",
            "a\x1b]52;c;ZXZpbA==\x07\u{202e}b\nc",
            "",
        ];
        // The display column at which `needle` starts in the header, and the text of a
        // line from a display column on.
        let col = |header: &str, needle: &str| header.find(needle).map(|i| header[..i].width()).unwrap();
        fn from(line: &str, c: usize) -> &str {
            line.char_indices().find(|(i, _)| line[..*i].width() == c).map_or("", |(i, _)| &line[i..])
        }
        for width in [80, 100, 113, 120, 161, 250] {
            let layout = Layout::new(width);
            let mut header = String::new();
            layout.header(&mut header);
            assert!(header.trim_end().width() <= width, "{header}");
            for title in titles {
                for failed in [false, true] {
                    let mut out = String::new();
                    let r = row(title, "Ada 漏洞 <ada@example.net>", failed);
                    layout.line(
                        &mut out,
                        &r,
                        r.shown_severity(),
                        Some(&next),
                        true,
                        now,
                        crate::output::Style { color: false },
                    );
                    let line = out.strip_suffix('\n').unwrap();
                    assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
                    assert!(line.width() <= width, "{} columns in {width}: {line}", line.width());
                    assert!(
                        line.starts_with("VR-2026-12345 2026-11-30 12:00 needs-info   high?     !ack 16h 0m overdue  "),
                        "{line}"
                    );
                    let first = title.chars().next().map(String::from).unwrap_or_default();
                    let shown = if failed { "[" } else { first.as_str() };
                    assert!(from(line, col(&header, "TITLE")).starts_with(shown), "{header}{line}");
                    if layout.reporter > 0 {
                        assert!(from(line, col(&header, "REPORTER")).starts_with("Ada 漏洞"), "{header}{line}");
                    } else {
                        assert!(!line.contains("Ada") && !header.contains("REPORTER"));
                    }
                }
            }
        }
    }
}
