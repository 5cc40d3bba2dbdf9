//! `vulnmail list`

use serde_json::json;

use super::Ctx;
use crate::cli::ListArgs;
use crate::output::Output;
use crate::term::{UntrustedLine, cut};

pub fn run(ctx: &Ctx, a: ListArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg)?;
    let reports = store.reports(a.all)?;
    let mut text =
        format!("{:<13} {:<20} {:<12} {:<8} {:<44} {}\n", "ID", "RECEIVED", "STATE", "SEVERITY", "TITLE", "REPORTER");
    for r in &reports {
        let title = r.fields.title.clone().or_else(|| r.subject.clone()).unwrap_or_default();
        let who = r.from.address.clone().unwrap_or_default();
        let id = if r.id.is_empty() { format!("({})", r.kind) } else { r.id.clone() };
        let mut title = UntrustedLine(&title).to_string();
        if r.encryption.status == "failed" {
            title = format!("[not decrypted] {title}");
        }
        text.push_str(&format!(
            "{:<13} {:<20} {:<12} {:<8} {:<44} {}\n",
            id,
            r.received_at.as_deref().unwrap_or("").replace('T', " ").trim_end_matches('Z'),
            r.state,
            r.severity.as_deref().or(r.fields.severity.as_deref()).unwrap_or("-"),
            cut(&title, 44),
            UntrustedLine(&who)
        ));
    }
    text.push_str(&format!("{} reports\n", reports.len()));
    Ok(Output::new(text, json!(reports)))
}
