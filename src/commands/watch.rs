//! `vulnmail watch`: fetch on every change the server reports (IMAP IDLE).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::Ctx;
use super::fetch::{imap_config, imap_password, sync_options};
use crate::cli::WatchArgs;
use crate::config::ImapConfig;
use crate::mail::imap::{self, AfterStore, NoProgress, SyncOptions};
use crate::output::Output;
use crate::secrets::Secret;
use crate::store::Store;
use crate::store::lock::WriteLock;

struct Shared<'a> {
    ctx: &'a Ctx,
    cfg: &'a crate::config::Config,
    imap: &'a ImapConfig,
    password: &'a Secret,
    store: &'a Mutex<Store>,
    stop: &'a AtomicBool,
    opts: SyncOptions,
    args: &'a WatchArgs,
    creds: Option<&'a super::outbox::Credentials>,
}

/// Process, acknowledge and deliver what arrived, printing what happened.
fn after_mail(s: &Shared<'_>, store: &mut Store) {
    let (lines, json, failed) = super::run::after_fetch(s.ctx, s.cfg, store, s.creds, true, true);
    let now = crate::clock::rfc3339(jiff::Timestamp::now());
    if failed {
        for l in &lines {
            s.ctx.note(&format!("watch: {l}"));
        }
    }
    if !lines.is_empty() {
        emit(
            s.ctx,
            &format!("{now} {}", lines.join(&format!("\n{now} "))),
            json!({ "time": now, "event": "processed", "result": json }),
        );
    }
}

/// Sleep up to `d`, waking early when asked to stop.
fn nap(stop: &AtomicBool, d: Duration) {
    let step = Duration::from_millis(100);
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
}

fn emit(ctx: &Ctx, line: &str, json: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = if ctx.json { writeln!(out, "{json}") } else { writeln!(out, "{line}") };
    let _ = out.flush();
}

fn watch_one(s: &Shared<'_>, mailbox: &str) -> u64 {
    let mut total = 0u64;
    let mut backoff = Duration::from_secs(1);
    let max_backoff = Duration::from_secs(s.args.max_backoff.max(1));
    let after = AfterStore { keyword: s.imap.mark_stored.as_deref(), move_to: s.imap.move_stored_to.as_deref() };
    let clean = crate::term::sanitize(mailbox, false);
    while !s.stop.load(Ordering::Relaxed) {
        let mut conn = match imap::connect(s.imap, s.password) {
            Ok(c) => {
                backoff = Duration::from_secs(1);
                c
            }
            Err(e) => {
                s.ctx.note(&format!("watch: {clean}: {e}; retrying in {} s", backoff.as_secs()));
                nap(s.stop, backoff);
                backoff = (backoff * 2).min(max_backoff);
                continue;
            }
        };
        loop {
            let result = {
                let mut store = match s.store.lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                // The writer lock only while writing: triage, ack and outbox commands
                // can run while watch waits in IDLE.
                let lock = match WriteLock::acquire(&s.ctx.paths.data_dir, "watch", Duration::from_secs(120)) {
                    Ok(l) => l,
                    Err(e) => {
                        s.ctx.note(&format!("watch: {e}; trying again later"));
                        drop(store);
                        nap(s.stop, Duration::from_secs(5));
                        continue;
                    }
                };
                let r = imap::sync_mailbox(&mut conn, &mut store, mailbox, s.opts, &after, &mut NoProgress);
                let outbox_due = s.creds.is_some() && store.due(s.ctx.clock.now()).is_ok_and(|d| !d.is_empty());
                if r.as_ref().is_ok_and(|sync| sync.counts.new > 0) || outbox_due {
                    after_mail(s, &mut store);
                }
                drop(lock);
                r
            };
            match result {
                Ok(r) => {
                    total += r.counts.new;
                    if r.counts.new > 0 || r.counts.oversize > 0 || r.uidvalidity_changed {
                        let now = crate::clock::rfc3339(jiff::Timestamp::now());
                        emit(
                            s.ctx,
                            &format!(
                                "{now} {clean}: {} new, {} already stored, {} oversize",
                                r.counts.new, r.counts.duplicate, r.counts.oversize
                            ),
                            json!({ "time": now.to_string(), "event": "fetched", "sync": r }),
                        );
                    }
                }
                Err(e) => {
                    s.ctx.note(&format!("watch: {clean}: {e}"));
                    break;
                }
            }
            if s.stop.load(Ordering::Relaxed) {
                conn.logout();
                return total;
            }
            let stop = || s.stop.load(Ordering::Relaxed);
            let idle = Duration::from_secs(s.args.idle_seconds.clamp(10, 29 * 60));
            if let Err(e) = conn.idle(idle, Duration::from_millis(s.args.tick_ms.max(50)), &stop) {
                s.ctx.note(&format!("watch: {clean}: {e}; reconnecting"));
                break;
            }
            if s.stop.load(Ordering::Relaxed) {
                conn.logout();
                return total;
            }
        }
        nap(s.stop, backoff);
        backoff = (backoff * 2).min(max_backoff);
    }
    total
}

pub fn run(ctx: &Ctx, a: WatchArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let imap_cfg = imap_config(&cfg)?;
    let opts = sync_options(imap_cfg, None)?;
    let mailboxes = if a.mailboxes.is_empty() { imap_cfg.mailboxes.clone() } else { a.mailboxes.clone() };
    let password = imap_password(ctx, imap_cfg)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let creds = match &cfg.smtp {
        Some(_) => Some(super::outbox::Credentials::resolve(ctx, &cfg)?),
        None => None,
    };
    let store = {
        // Created if need be under the lock, then opened without holding it.
        let (_lock, store) = ctx.open_store_for_writing(&cfg, "watch", 10)?;
        store
    };
    let store = Mutex::new(store);
    let shared = Shared {
        ctx,
        cfg: &cfg,
        imap: imap_cfg,
        password: &password,
        store: &store,
        stop: &stop,
        opts,
        args: &a,
        creds: creds.as_ref(),
    };
    // What an earlier run left: unprocessed messages, pending acknowledgements, the outbox.
    if let Ok(mut st) = store.lock() {
        let _lock = WriteLock::acquire(&ctx.paths.data_dir, "watch", Duration::from_secs(120))?;
        after_mail(&shared, &mut st);
    }
    ctx.note(&format!("watching {} (stop with Ctrl-C or SIGTERM)", mailboxes.join(", ")));
    let totals: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = mailboxes.iter().map(|m| scope.spawn(|| watch_one(&shared, m))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    let total: u64 = totals.iter().sum();
    Ok(Output::new(format!("watch stopped; {total} new messages stored"), json!({ "event": "stopped", "new": total })))
}
