//! Turning stored messages into reports, after fetch/import/watch and on `reprocess`.

use crate::commands::Ctx;
use crate::config::Config;
use crate::process::{self, Keys, Options};
use crate::store::Store;

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Processed {
    pub reports: u64,
    pub follow_ups: u64,
    pub not_reports: u64,
    pub failed_decryption: u64,
    /// Messages left unprocessed because the team key could not be unlocked.
    pub waiting: u64,
}

/// Process messages without a report (or all, or one), in batches.
pub fn run(ctx: &Ctx, cfg: &Config, store: &mut Store, which: Which) -> anyhow::Result<Processed> {
    let mut done = Processed::default();
    let first: Vec<i64> = match which {
        Which::One(m) => vec![m],
        Which::New => store.pending_ids(false, 200)?,
        Which::All => store.pending_ids(true, usize::MAX)?,
    };
    if first.is_empty() {
        return Ok(done);
    }
    let team = match ctx.unlocked_keys(cfg) {
        Ok(k) => k,
        Err(e) => {
            // Fetching must not fail because the key is locked: the messages are
            // safely stored and wait for `vulnmail reprocess`.
            done.waiting = first.len() as u64;
            ctx.note(&format!(
                "{} new messages are stored but not processed: {e:#}; run `vulnmail reprocess --all` once the key can be unlocked",
                first.len()
            ));
            return Ok(done);
        }
    };
    let opts = Options::default();
    let mut batch = first;
    loop {
        let known = store.known_certs()?;
        let keys = Keys { team: &team, known: &known };
        for &id in &batch {
            // One message in memory at a time.
            let Some(p) = store.pending_one(id)? else { continue };
            let outcome = process::process(&p.raw, &keys, p.received_at, &opts);
            drop(p.raw);
            if outcome.report.kind.as_str() == "not-a-report" {
                done.not_reports += 1
            }
            if outcome.report.encryption.status == "failed" {
                done.failed_decryption += 1;
            }
            let id = store.save_outcome(p.message, &outcome)?;
            if id.is_some() {
                done.reports += 1;
            } else if outcome.report.kind == "report" {
                done.follow_ups += 1;
            }
        }
        if !matches!(which, Which::New) {
            break;
        }
        batch = store.pending_ids(false, 200)?;
        if batch.is_empty() {
            break;
        }
    }
    Ok(done)
}

#[derive(Debug, Clone, Copy)]
pub enum Which {
    New,
    All,
    One(i64),
}

pub fn summary(p: &Processed) -> String {
    let mut s = format!("processed: {} reports, {} follow-ups, {} not reports", p.reports, p.follow_ups, p.not_reports);
    if p.failed_decryption > 0 {
        s.push_str(&format!(", {} could not be decrypted", p.failed_decryption));
    }
    if p.waiting > 0 {
        s.push_str(&format!(", {} waiting for the key", p.waiting));
    }
    s
}
