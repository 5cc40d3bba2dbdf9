//! `vulnmail fetch`

use std::time::Instant;

use serde_json::json;

use super::Ctx;
use crate::cli::FetchArgs;
use crate::config::{Config, ImapConfig, parse_size};
use crate::error::{UserError, user};
use crate::mail::imap::{self, AfterStore, MailboxSync, Progress, SyncOptions};
use crate::output::Output;
use crate::secrets::Secret;
use crate::store::Store;

/// The `[imap]` section, or a clear error when there is none.
pub fn imap_config(cfg: &Config) -> anyhow::Result<&ImapConfig> {
    match &cfg.imap {
        Some(i) => Ok(i),
        None => user("no [imap] section in the configuration: add host, user and password (see docs/configuration.md)"),
    }
}

pub fn imap_password(ctx: &Ctx, imap: &ImapConfig) -> anyhow::Result<Secret> {
    let Some(src) = &imap.password else {
        return user(
            "[imap] password is not set: give its source, e.g. password = { env = \"VULNMAIL_IMAP_PASSWORD\" }",
        );
    };
    super::resolve_secret("the IMAP password", src, ctx.interaction())
}

pub fn sync_options(imap: &ImapConfig, max_size: Option<&str>) -> anyhow::Result<SyncOptions> {
    let max = match max_size {
        Some(s) => parse_size(s).map_err(|e| UserError(format!("--max-size: {e}")))?,
        None => imap.max_message_size.0,
    };
    Ok(SyncOptions { max_message_size: max, ..SyncOptions::default() })
}

/// A progress bar on a terminal (stderr), nothing in a pipe or with -q.
pub struct Bar {
    bar: Option<indicatif::ProgressBar>,
}

impl Bar {
    pub fn new(ctx: &Ctx) -> Bar {
        use std::io::IsTerminal;
        let show = !ctx.quiet && !ctx.json && std::io::stderr().is_terminal();
        Bar { bar: show.then(indicatif::ProgressBar::hidden) }
    }
}

impl Progress for Bar {
    fn start(&mut self, mailbox: &str, total: u64) {
        if let Some(b) = &self.bar {
            b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            b.set_length(total);
            b.set_position(0);
            if let Ok(style) = indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {per_sec}") {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_prefix(crate::term::sanitize(mailbox, false));
        }
    }
    fn advance(&mut self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Sync every mailbox over one connection.
pub fn fetch_all(
    ctx: &Ctx,
    imap_cfg: &ImapConfig,
    password: &Secret,
    store: &mut Store,
    mailboxes: &[String],
    opts: SyncOptions,
) -> anyhow::Result<Vec<MailboxSync>> {
    let mut conn = imap::connect(imap_cfg, password)?;
    let after = AfterStore { keyword: imap_cfg.mark_stored.as_deref(), move_to: imap_cfg.move_stored_to.as_deref() };
    let mut bar = Bar::new(ctx);
    let mut out = Vec::new();
    for m in mailboxes {
        out.push(imap::sync_mailbox(&mut conn, store, m, opts, &after, &mut bar)?);
    }
    conn.logout();
    Ok(out)
}

pub fn summary_line(results: &[MailboxSync], secs: f64) -> String {
    let new: u64 = results.iter().map(|r| r.counts.new).sum();
    let dup: u64 = results.iter().map(|r| r.counts.duplicate).sum();
    let over: u64 = results.iter().map(|r| r.counts.oversize).sum();
    let per: Vec<String> = results
        .iter()
        .map(|r| {
            let mut s = format!("{}: {} new", crate::term::sanitize(&r.mailbox, false), r.counts.new);
            if r.uidvalidity_changed {
                s.push_str(", UIDVALIDITY changed");
            }
            s
        })
        .collect();
    format!("fetched {new} new, {dup} already stored, {over} oversize in {secs:.2} s ({})", per.join("; "))
}

pub fn run(ctx: &Ctx, a: FetchArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let imap_cfg = imap_config(&cfg)?;
    let opts = sync_options(imap_cfg, a.max_size.as_deref())?;
    let mailboxes = if a.mailboxes.is_empty() { imap_cfg.mailboxes.clone() } else { a.mailboxes.clone() };
    let password = imap_password(ctx, imap_cfg)?;
    let (_lock, mut store) = ctx.open_store_for_writing(&cfg, "fetch", a.wait)?;
    let start = Instant::now();
    let results = fetch_all(ctx, imap_cfg, &password, &mut store, &mailboxes, opts)?;
    let secs = start.elapsed().as_secs_f64();
    let processed =
        if a.no_process { None } else { Some(super::process::run(ctx, &cfg, &mut store, super::process::Which::New)?) };
    let mut text = summary_line(&results, secs);
    if let Some(p) = &processed {
        text.push_str(&format!("; {}", super::process::summary(p)));
    }
    let json = json!({
        "processed": processed,
        "new": results.iter().map(|r| r.counts.new).sum::<u64>(),
        "duplicate": results.iter().map(|r| r.counts.duplicate).sum::<u64>(),
        "oversize": results.iter().map(|r| r.counts.oversize).sum::<u64>(),
        "seconds": secs,
        "mailboxes": results,
    });
    Ok(Output::new(text, json))
}
