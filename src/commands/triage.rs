//! `vulnmail triage ID …`

use serde_json::json;

use super::Ctx;
use crate::cli::TriageArgs;
use crate::error::{user, user_err};
use crate::output::Output;
use crate::report::severity;
use crate::report::state::{State, names};
use crate::store::triage::{Event, TriageRow};
use crate::term::UntrustedLine;

/// Who makes a change: --actor, $VULNMAIL_ACTOR, the login name.
pub fn actor(given: Option<&str>) -> String {
    given
        .map(str::to_string)
        .or_else(|| std::env::var("VULNMAIL_ACTOR").ok())
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .map(|s| crate::term::sanitize(s.trim(), false))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Move a triage row to a new state, setting the times the deadlines use.
/// Returns the events, or the refusal naming the allowed moves.
pub fn move_state(id: &str, row: &mut TriageRow, to: State, at: &str) -> Result<(), String> {
    let from: State = row.state.parse().unwrap_or(State::New);
    if from == to {
        return Err(format!("{id} is already {to}"));
    }
    if !from.may_become(to) {
        return Err(format!(
            "{id} cannot move from {from} to {to}; from {from} it can move to {}",
            names(&from.next())
        ));
    }
    let t = &mut row.triage;
    match to {
        State::Acknowledged => {
            row.acknowledged_at.get_or_insert_with(|| at.to_string());
        }
        State::Triaged => {
            t.triaged_at.get_or_insert_with(|| at.to_string());
        }
        State::Fixed => {
            t.fixed_at.get_or_insert_with(|| at.to_string());
        }
        State::Disclosed => {
            t.disclosed_at.get_or_insert_with(|| at.to_string());
        }
        _ => {}
    }
    if to.is_closed() {
        t.closed_at = Some(at.to_string());
    } else if from.is_closed() {
        t.closed_at = None;
    }
    if to != State::Duplicate {
        t.duplicate_of = None;
    }
    row.state = to.as_str().to_string();
    Ok(())
}

fn valid_cve(s: &str) -> Option<String> {
    let up = s.trim().to_ascii_uppercase();
    let mut parts = up.splitn(3, '-');
    let ok = parts.next() == Some("CVE")
        && parts.next().is_some_and(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_some_and(|n| n.len() >= 4 && n.bytes().all(|b| b.is_ascii_digit()));
    ok.then_some(up)
}

pub fn run(ctx: &Ctx, a: TriageArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let (_lock, mut store) = ctx.open_store_for_writing(&cfg, "triage", a.wait)?;
    let id = a.id.trim().to_ascii_uppercase();
    let Some(old) = store.triage_row(&id)? else {
        return user(format!("no report {id} (see `vulnmail list`)"));
    };
    let at = crate::clock::rfc3339(ctx.clock.now());
    let who = actor(a.actor.as_deref());
    let mut row = old.clone();

    let mut to = match &a.state {
        Some(s) => Some(s.parse::<State>().map_err(|e| user_err(e.to_string()))?),
        None => None,
    };
    if let Some(dup) = &a.duplicate_of {
        let dup = dup.trim().to_ascii_uppercase();
        if dup == id {
            return user(format!("{id} cannot be a duplicate of itself"));
        }
        if store.triage_row(&dup)?.is_none() {
            return user(format!("no report {dup} to be a duplicate of"));
        }
        match to {
            None => to = Some(State::Duplicate),
            Some(State::Duplicate) => {}
            Some(other) => return user(format!("--duplicate-of means state duplicate, not {other}")),
        }
        row.triage.duplicate_of = Some(dup);
    } else if to == Some(State::Duplicate) && old.triage.duplicate_of.is_none() {
        return user(format!("say which report {id} duplicates: --duplicate-of ID"));
    }
    if let Some(to) = to {
        let keep_dup = row.triage.duplicate_of.clone();
        move_state(&id, &mut row, to, &at).map_err(user_err)?;
        if to == State::Duplicate {
            row.triage.duplicate_of = keep_dup;
        }
    }

    if let Some(v) = &a.cvss {
        let c = severity::parse_vector(v).map_err(user_err)?;
        if a.severity.is_none() {
            row.severity = Some(severity::from_score(c.score).to_string());
        }
        row.triage.cvss = Some(c);
    }
    if let Some(s) = &a.severity {
        let s = severity::normalise(s)
            .ok_or_else(|| user_err(format!("unknown severity {s:?}; use one of {}", severity::NAMES.join(", "))))?;
        row.severity = Some(s.to_string());
    }
    if let Some(w) = &a.assign {
        let w = crate::term::sanitize(w.trim(), false);
        row.triage.assignee = (!w.is_empty() && w != "none").then_some(w);
    }
    for c in &a.cve {
        let c = valid_cve(c).ok_or_else(|| user_err(format!("{c:?} is not a CVE id (CVE-YYYY-NNNN)")))?;
        if !row.triage.cve.contains(&c) {
            row.triage.cve.push(c);
        }
    }

    let mut events = Vec::new();
    let mut ev = |field: &str, old: Option<String>, new: Option<String>| {
        if old != new {
            events.push(Event { at: at.clone(), actor: who.clone(), field: field.into(), old, new });
        }
    };
    ev("state", Some(old.state.clone()), Some(row.state.clone()));
    ev("duplicate_of", old.triage.duplicate_of.clone(), row.triage.duplicate_of.clone());
    ev("severity", old.severity.clone(), row.severity.clone());
    ev("cvss", old.triage.cvss.as_ref().map(|c| c.vector.clone()), row.triage.cvss.as_ref().map(|c| c.vector.clone()));
    ev("assignee", old.triage.assignee.clone(), row.triage.assignee.clone());
    for c in &row.triage.cve {
        if !old.triage.cve.contains(c) {
            ev("cve", None, Some(c.clone()));
        }
    }
    if let Some(n) = a.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        ev("note", None, Some(n.to_string()));
    }
    if events.is_empty() {
        return user(format!(
            "nothing to change for {id}: give --state, --severity, --cvss, --assign, --cve or --note"
        ));
    }
    store.set_triage(&id, &row, &events)?;

    let mut text = String::new();
    for e in &events {
        text.push_str(&format!("{id}: {}\n", describe(e)));
    }
    Ok(Output::new(
        text,
        json!({ "id": id, "state": row.state, "severity": row.severity, "triage": row.triage,
                "acknowledged_at": row.acknowledged_at, "events": events }),
    ))
}

/// One event in words.
pub fn describe(e: &Event) -> String {
    let v = |s: &Option<String>| UntrustedLine(s.as_deref().unwrap_or("none")).to_string();
    match e.field.as_str() {
        "note" => format!("note: {}", v(&e.new)),
        "cve" => format!("CVE {} recorded", v(&e.new)),
        "acknowledged" => format!("acknowledged ({})", v(&e.new)),
        "received" => "report received".into(),
        "no-auto-reply" => format!("no automatic reply: {}", v(&e.new)),
        f => format!("{f} {} -> {}", v(&e.old), v(&e.new)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids() {
        assert_eq!(valid_cve("cve-2026-12345").as_deref(), Some("CVE-2026-12345"));
        assert!(valid_cve("CVE-26-1").is_none());
        assert!(valid_cve("CVE-2026-12a4").is_none());
    }

    #[test]
    fn closing_and_reopening_keeps_the_times() {
        let mut r = TriageRow { state: "new".into(), ..Default::default() };
        move_state("VR-1", &mut r, State::Triaged, "2026-11-02T10:00:00Z").unwrap();
        move_state("VR-1", &mut r, State::WontFix, "2026-11-03T10:00:00Z").unwrap();
        assert_eq!(r.triage.closed_at.as_deref(), Some("2026-11-03T10:00:00Z"));
        move_state("VR-1", &mut r, State::Triaged, "2026-11-04T10:00:00Z").unwrap();
        assert_eq!(r.triage.closed_at, None);
        assert_eq!(r.triage.triaged_at.as_deref(), Some("2026-11-02T10:00:00Z"));
        let e = move_state("VR-1", &mut r, State::Disclosed, "x").unwrap_err();
        assert!(e.contains("needs-info, fixing, fixed"), "{e}");
    }
}
