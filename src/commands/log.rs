//! `vulnmail log ID`

use serde_json::json;

use super::Ctx;
use crate::cli::LogArgs;
use crate::error::user;
use crate::output::Output;
use crate::store::triage::Event;
use crate::term::UntrustedLine;

pub fn run(ctx: &Ctx, a: LogArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg)?;
    let id = a.id.trim().to_ascii_uppercase();
    let Some((_, report)) = store.report(&id)? else {
        return user(format!("no report {id} (see `vulnmail list`)"));
    };
    let events = history(&report.received_at, store.events(&id)?);
    let mut text = String::new();
    for e in &events {
        text.push_str(&format!(
            "{}  {:<12} {}\n",
            e.at.replace('T', " ").trim_end_matches('Z'),
            UntrustedLine(&e.actor),
            super::triage::describe(e)
        ));
    }
    Ok(Output::new(text, json!({ "id": id, "events": events })))
}

/// The stored events, preceded by the receipt of the report.
pub fn history(received_at: &Option<String>, events: Vec<Event>) -> Vec<Event> {
    let mut out = Vec::with_capacity(events.len() + 1);
    if let Some(at) = received_at {
        out.push(Event { at: at.clone(), actor: "vulnmail".into(), field: "received".into(), old: None, new: None });
    }
    out.extend(events);
    out
}
