//! `vulnmail run`: the whole loop once, for cron and timers.

use serde_json::json;

use super::Ctx;
use super::fetch::{imap_password, summary_line, sync_options};
use crate::cli::RunArgs;
use crate::config::Config;
use crate::output::Output;
use crate::store::Store;

/// The steps after mail arrived: process what is new, acknowledge automatically
/// (when enabled), deliver the outbox (when [smtp] is configured). Shared with
/// `watch`. Returns the lines to print, the JSON, and whether a step failed.
pub fn after_fetch(
    ctx: &Ctx,
    cfg: &Config,
    store: &mut Store,
    creds: Option<&super::outbox::Credentials>,
    ack: bool,
    send: bool,
) -> (Vec<String>, serde_json::Value, bool) {
    let mut lines = Vec::new();
    let mut failed = false;
    let mut j = serde_json::Map::new();
    match super::process::run(ctx, cfg, store, super::process::Which::New) {
        Ok(p) => {
            if p.reports + p.follow_ups + p.not_reports + p.waiting > 0 {
                lines.push(super::process::summary(&p));
            }
            j.insert("processed".into(), json!(p));
        }
        Err(e) => {
            failed = true;
            lines.push(format!("processing failed: {e:#}"));
            j.insert("processed".into(), json!({ "error": format!("{e:#}") }));
        }
    }
    if ack && cfg.ack.auto {
        match super::ack::automatic(ctx, cfg, store) {
            Ok(s) => {
                for id in &s.queued {
                    lines.push(format!("{id}: acknowledgement queued"));
                }
                for (id, why) in s.skipped.iter().filter(|(id, _)| !s.held.contains(id)) {
                    lines.push(format!("{id}: no automatic acknowledgement: {}", crate::term::sanitize(why, false)));
                }
                if !s.held.is_empty() {
                    lines.push(format!(
                        "{} reports still without an automatic acknowledgement (see `vulnmail log ID`)",
                        s.held.len()
                    ));
                }
                j.insert("acknowledged".into(), json!(s));
            }
            Err(e) => {
                failed = true;
                lines.push(format!("acknowledging failed: {e:#}"));
                j.insert("acknowledged".into(), json!({ "error": format!("{e:#}") }));
            }
        }
    }
    if send && let Some(creds) = creds {
        match super::outbox::deliver_now(ctx, cfg, store, creds) {
            Ok(s) => {
                if s.sent + s.already_sent + s.retry + s.failed + s.unresolved > 0 {
                    lines.push(super::outbox::summary_output(&s).text.trim_end().to_string());
                }
                // A reply that could not go out (server down, 4xx, no credentials) is a
                // failed step for cron too, although it stays queued for the next run.
                failed |= s.failed > 0 || s.retry > 0 || s.unresolved > 0;
                j.insert("delivery".into(), json!(s));
            }
            Err(e) => {
                failed = true;
                lines.push(format!("delivery failed: {e:#}"));
                j.insert("delivery".into(), json!({ "error": format!("{e:#}") }));
            }
        }
    }
    (lines, serde_json::Value::Object(j), failed)
}

pub fn run(ctx: &Ctx, a: RunArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let within = crate::clock::parse_duration(&a.within)?;
    // Secrets first: a missing password is a configuration error, before any work.
    let imap = match (&cfg.imap, a.no_fetch) {
        (Some(i), false) => Some((i, imap_password(ctx, i)?, sync_options(i, None)?)),
        _ => None,
    };
    let creds = match (&cfg.smtp, a.no_send) {
        (Some(_), false) => Some(super::outbox::Credentials::resolve(ctx, &cfg)?),
        _ => None,
    };
    let (_lock, mut store) = ctx.open_store_for_writing(&cfg, "run", a.wait)?;
    let mut lines = Vec::new();
    let mut failed = false;
    let mut j = serde_json::Map::new();
    if let Some((i, pw, opts)) = &imap {
        let start = std::time::Instant::now();
        match super::fetch::fetch_all(ctx, i, pw, &mut store, &i.mailboxes, *opts) {
            Ok(r) => {
                lines.push(summary_line(&r, start.elapsed().as_secs_f64()));
                j.insert("fetched".into(), json!(r));
            }
            Err(e) => {
                failed = true;
                lines.push(format!("fetch failed: {e:#}"));
                j.insert("fetched".into(), json!({ "error": format!("{e:#}") }));
            }
        }
    }
    let (more, after, f) = after_fetch(ctx, &cfg, &mut store, creds.as_ref(), !a.no_ack, !a.no_send);
    lines.extend(more);
    failed |= f;
    if let serde_json::Value::Object(m) = after {
        j.extend(m);
    }
    // What is due, as `vulnmail due` computes it.
    let now = ctx.clock.now();
    let until = now.checked_add(jiff::SignedDuration::from_secs(within.as_secs() as i64)).unwrap_or(now);
    let tracker = super::tracking::Tracker::new(&cfg, now)?;
    let due = super::due::items(&tracker, &store, until)?;
    let overdue = due.iter().filter(|i| i.status == crate::report::deadline::Status::Overdue).count();
    for i in &due {
        lines.push(format!(
            "due: {} {} {} ({})",
            i.id,
            super::list::short_kind(i.kind),
            i.when,
            crate::term::UntrustedLine(i.title.as_deref().unwrap_or(""))
        ));
    }
    lines.push(format!("{overdue} overdue, {} due within {}", due.len() - overdue, a.within));
    j.insert("due".into(), json!({ "overdue": overdue, "items": due }));
    let code = if failed {
        None
    } else if overdue > 0 {
        Some(3)
    } else {
        None
    };
    Ok(Output::new(lines.join("\n") + "\n", serde_json::Value::Object(j)).failed(failed).code(code))
}
