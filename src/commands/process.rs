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
        Which::New => store.pending_ids(false, usize::MAX)?,
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
    let ids = first;
    let mut known = store.known_certs()?;
    let mut known_addrs = addresses(&known);
    let mut looked_up = std::collections::BTreeSet::new();
    // Save in groups (one commit each), bounded in count and in bytes held.
    let mut group: Vec<(i64, process::Outcome)> = Vec::new();
    let mut held = 0usize;
    for &id in &ids {
        // One raw message in memory at a time.
        let Some(p) = store.pending_one(id)? else { continue };
        let received_at = p.received_at;
        let mut outcome = process::process_owned(p.raw, &Keys { team: &team, known: &known }, received_at, &opts);
        // No certificate for the sender yet: ask the network, when configured.
        if cfg.lookup.enabled()
            && outcome.report.kind == "report"
            && outcome.certs.is_empty()
            && let Some(addr) = outcome.report.from.address.clone()
            && !known_addrs.contains(&addr)
            && looked_up.insert(addr.clone())
        {
            match super::lookup::find(&cfg.lookup, &addr) {
                Ok(Some((source, cert))) => {
                    store.add_cert(&source, &cert)?;
                    known = store.known_certs()?;
                    known_addrs = addresses(&known);
                    if let Some(p) = store.pending_one(id)? {
                        outcome =
                            process::process_owned(p.raw, &Keys { team: &team, known: &known }, received_at, &opts);
                    }
                }
                Ok(None) => {}
                Err(e) => ctx.note(&format!("key lookup for {}: {e}", crate::term::sanitize(&addr, false))),
            }
        }
        if outcome.report.kind == "not-a-report" {
            done.not_reports += 1;
        }
        if outcome.report.encryption.status == "failed" {
            done.failed_decryption += 1;
        }
        held += outcome.attachments.iter().map(|a| a.data.len()).sum::<usize>()
            + outcome.decrypted.as_ref().map(Vec::len).unwrap_or(0)
            + outcome.text.len();
        let found_certs = !outcome.certs.is_empty();
        group.push((p.message, outcome));
        // A certificate found now may verify the next message: save, then reload.
        if group.len() >= 100 || held >= 32 * 1024 * 1024 || found_certs {
            flush(store, &mut group, &mut done)?;
            held = 0;
            if found_certs {
                known = store.known_certs()?;
                known_addrs = addresses(&known);
            }
        }
    }
    flush(store, &mut group, &mut done)?;
    Ok(done)
}

/// Save a group of outcomes in one commit and count what they were.
fn flush(store: &mut Store, group: &mut Vec<(i64, process::Outcome)>, done: &mut Processed) -> anyhow::Result<()> {
    if group.is_empty() {
        return Ok(());
    }
    let refs: Vec<(i64, &process::Outcome)> = group.iter().map(|(m, o)| (*m, o)).collect();
    for (saved, (_, o)) in store.save_outcomes(&refs)?.into_iter().zip(group.iter()) {
        if saved.is_some() {
            done.reports += 1;
        } else if o.report.kind == "report" {
            done.follow_ups += 1;
        }
    }
    group.clear();
    Ok(())
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

/// The addresses of the valid user IDs of `certs`.
fn addresses(certs: &[sequoia_openpgp::Cert]) -> std::collections::BTreeSet<String> {
    let p = crate::openpgp::policy();
    certs
        .iter()
        .filter_map(|c| c.with_policy(&p, std::time::SystemTime::now()).ok())
        .flat_map(|vc| vc.userids().filter_map(|u| crate::openpgp::uid_email(u.userid())).collect::<Vec<_>>())
        .collect()
}
