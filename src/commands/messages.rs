//! `vulnmail messages`

use serde_json::json;

use super::Ctx;
use crate::cli::MessagesArgs;
use crate::output::Output;
use crate::term::{UntrustedLine, cut};

pub fn run(ctx: &Ctx, _a: MessagesArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg)?;
    let rows = store.list_messages()?;
    let mut text = String::new();
    text.push_str(&format!(
        "{:>6}  {:<12} {:>6}  {:<25}  {:<28}  {:<40}  {:>9}  {}\n",
        "ID", "MAILBOX", "UID", "DATE", "FROM", "SUBJECT", "SIZE", "STATE"
    ));
    for r in &rows {
        // Everything but the numbers came from a mail: sanitise before it reaches a terminal.
        let from = UntrustedLine(r.from.as_deref().unwrap_or("")).to_string();
        let subject = UntrustedLine(r.subject.as_deref().unwrap_or("")).to_string();
        let mailbox = UntrustedLine(r.mailbox.as_deref().unwrap_or("(import)")).to_string();
        let state = match &r.reason {
            Some(reason) => format!("{}: {}", r.state, UntrustedLine(reason)),
            None => r.state.clone(),
        };
        text.push_str(&format!(
            "{:>6}  {:<12} {:>6}  {:<25}  {:<28}  {:<40}  {:>9}  {}\n",
            r.id,
            cut(&mailbox, 12),
            r.uid.map(|u| u.to_string()).unwrap_or_default(),
            cut(r.date.as_deref().unwrap_or(""), 25),
            cut(&from, 28),
            cut(&subject, 40),
            r.size,
            state
        ));
    }
    text.push_str(&format!("{} messages\n", rows.len()));
    Ok(Output::new(text, json!(rows)))
}
