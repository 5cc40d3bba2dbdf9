//! `vulnmail key check`

use sequoia_openpgp::Cert;
use serde_json::json;

use crate::cli::KeyCheckArgs;
use crate::commands::Ctx;
use crate::config::Config;
use crate::openpgp::decrypt::{self, Limits};
use crate::openpgp::keys;
use crate::output::Output;
use crate::publish::check::{self, Inputs, SecretState, Status};
use crate::publish::own_fingerprints;

pub fn run(ctx: &Ctx, a: KeyCheckArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let now = ctx.clock.system_time();
    let dir = a.dir.clone().unwrap_or_else(|| ctx.default_tree());
    let warn_days = a.warn_days.unwrap_or(cfg.key.warn_days);
    let store = ctx.keystore();
    let (cert, own, secret) = match &a.cert {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let mut certs = keys::parse_certs(&bytes)
                .map_err(|e| crate::error::UserError(format!("{} is not a certificate: {e}", path.display())))?;
            let cert = certs.remove(0);
            // A published certificate keeps exactly the certifications it carries.
            let own = cert
                .userids()
                .flat_map(|u| u.certifications().flat_map(|s| s.issuer_fingerprints().cloned().collect::<Vec<_>>()))
                .collect();
            (cert, own, SecretState::NotChecked("checking a given certificate; no secret key involved".into()))
        }
        None => {
            let own = own_fingerprints(&store.retired()?);
            match store.load() {
                Ok(stored) => {
                    let secret = secret_state(ctx, &cfg, &stored, now);
                    (stored.strip_secret_key_material(), own, secret)
                }
                // The secret file is damaged or gone: check what is published against
                // the public copy, and say plainly that decryption is impossible.
                Err(e) => match store.load_public() {
                    Ok(public) => (public, own, SecretState::Broken(format!("{e}"))),
                    Err(_) => return Err(e.into()),
                },
            }
        }
    };
    let items = check::run(&Inputs { cfg: &cfg, cert: &cert, own: &own, dir: &dir, now, warn_days, secret });
    let failed = items.iter().any(|i| i.status == Status::Fail);
    let mut text = String::new();
    for i in &items {
        let mark = match i.status {
            Status::Ok => ctx.style.ok("[ ok ]"),
            Status::Warn => ctx.style.warn("[warn]"),
            Status::Fail => ctx.style.fail("[FAIL]"),
            Status::Skip => ctx.style.dim("[skip]"),
        };
        text.push_str(&format!("{mark} {:<20} {}\n", i.check, i.detail));
    }
    text.push_str(if failed { "Some checks failed.\n" } else { "All checks passed.\n" });
    Ok(Output::new(text, json!({ "ok": !failed, "dir": dir, "checks": items })).failed(failed))
}

/// Unlock the secret key and decrypt a message encrypted to the certificate.
fn secret_state(ctx: &Ctx, cfg: &Config, stored: &Cert, now: std::time::SystemTime) -> SecretState {
    let protected = keys::is_protected(stored);
    let unlocked = match ctx.unlocked_key(cfg) {
        Ok(k) => k,
        Err(e) => return SecretState::Broken(format!("cannot unlock the secret key: {e:#}")),
    };
    let probe = b"vulnmail key check";
    let public = stored.clone().strip_secret_key_material();
    let msg = match decrypt::encrypt_to(&[public], probe, now) {
        Ok(m) => m,
        Err(e) => {
            return SecretState::Broken(format!("cannot encrypt a test message to the key: {e}"));
        }
    };
    match decrypt::decrypt(&[unlocked], &[], &msg, Limits::default(), now) {
        Ok(d) if d.plaintext == probe => SecretState::Works { protected },
        Ok(_) => SecretState::Broken("the test message decrypted to something else".into()),
        Err(e) => SecretState::Broken(format!("the secret key cannot decrypt: {e}")),
    }
}
