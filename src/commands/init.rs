//! `vulnmail init`: write the configuration and create (or import) the team key.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context as _;
use sequoia_openpgp::crypto::Password;
use serde_json::json;

use super::{Ctx, source_from_flags, suite};
use crate::cli::InitArgs;
use crate::clock::parse_duration;
use crate::config::{self, Config, SecretSource, is_plausible_address};
use crate::error::{UserError, user};
use crate::openpgp::fpr_hex;
use crate::openpgp::keys::{self, NewKey};
use crate::output::Output;
use crate::secrets::{self, Interaction};

pub fn run(ctx: &Ctx, a: InitArgs) -> anyhow::Result<Output> {
    let cfg_path = &ctx.paths.config_file;
    let store = ctx.keystore();
    if cfg_path.exists() && !a.force {
        return user(format!(
            "{} already exists; edit it, or run `vulnmail init --force` to start over",
            cfg_path.display()
        ));
    }
    if store.exists() && !a.force {
        return user(format!(
            "a team key already exists in {}; use `vulnmail key import` or `key rotate`, or `init --force`",
            store.dir().display()
        ));
    }
    let validity = parse_duration(&a.expires_in)?;

    let mut addresses = a.addresses.clone();
    if addresses.is_empty() {
        if ctx.interaction().can_prompt().is_err() {
            return user("give the security address with --address security@example.org");
        }
        addresses.push(ask("Security address (e.g. security@example.org)")?);
    }
    for addr in &addresses {
        if !is_plausible_address(addr) {
            return user(format!("--address {addr:?} is not an email address"));
        }
    }
    let mut cfg = Config::default();
    cfg.team.addresses = addresses;
    cfg.team.domain = match &a.domain {
        Some(d) => d.to_ascii_lowercase(),
        None => cfg.domain(),
    };
    cfg.team.name = a.name.clone().unwrap_or_else(|| format!("{} Security Team", cfg.team.domain));
    cfg.team.policy_url = a.policy_url.clone();
    cfg.team.languages = if a.languages.is_empty() { vec!["en".into()] } else { a.languages.clone() };

    // Where the passphrase comes from: flags, else VULNMAIL_PASSPHRASE, else a prompt
    // (interactive) or nothing (batch: unprotected, said plainly).
    let mut new_passphrase: Option<Password> = None;
    let mut source = source_from_flags(&a.passphrase);
    if source.is_none() && std::env::var_os("VULNMAIL_PASSPHRASE").is_some_and(|v| !v.is_empty()) {
        source = Some(SecretSource::Env("VULNMAIL_PASSPHRASE".into()));
    }
    if source.is_none() && ctx.interaction() == Interaction::Allowed && ctx.interaction().can_prompt().is_ok() {
        let s = secrets::prompt_new("key passphrase", ctx.interaction())?;
        new_passphrase = Some(Password::from(s.expose()));
        source = Some(SecretSource::Prompt(true));
    }
    cfg.key.passphrase = source.clone();
    let passphrase = match (&new_passphrase, &source) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(src)) => Some(super::resolve_passphrase(src, ctx.interaction())?),
        (None, None) => None,
    };

    let now = ctx.clock.system_time();
    let (cert, generated) = match &a.import {
        Some(file) => {
            let cert = keys::read_tsk(file)?;
            let unlocked = keys::unlock(&cert, passphrase.as_ref())?;
            let unlocked = super::key::import::add_team_userids(&cfg, unlocked, now)?;
            (unlocked, false)
        }
        None => {
            let (cert, rev) = keys::generate(&NewKey {
                team_name: &cfg.team.name,
                addresses: &cfg.team.addresses,
                suite: suite(a.cipher_suite),
                validity,
                created: now,
                password: None,
            })?;
            store.save_revocation(&cert, &rev)?;
            (cert, true)
        }
    };
    let protected = match &passphrase {
        Some(pw) => {
            store.save(&keys::protect(&cert, pw)?)?;
            true
        }
        None => {
            store.save(&cert)?;
            false
        }
    };
    if !generated {
        super::key::import::write_revocation(&store, &cert)?;
    }
    if let Some(dir) = cfg_path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    keys::write_private(cfg_path, config::render_initial(&cfg).as_bytes())
        .with_context(|| format!("cannot write {}", cfg_path.display()))?;

    let fpr = fpr_hex(&cert.fingerprint());
    let info = keys::describe(&cert, now);
    let mut text = String::new();
    text.push_str(&format!("Wrote {}\n", cfg_path.display()));
    text.push_str(&format!("{} team key {fpr}\n", if generated { "Generated" } else { "Imported" }));
    text.push_str(&format!("  user IDs: {}\n", info.user_ids.join(", ")));
    if let Some(e) = &info.expires {
        text.push_str(&format!("  expires:  {e}\n"));
    }
    text.push_str(&format!("  secret key: {}\n", store.secret_path().display()));
    if generated {
        text.push_str(&format!(
            "  revocation certificate: {} (keep a copy offline)\n",
            store.revocation_path().display()
        ));
    }
    match &source {
        Some(src) => text.push_str(&format!("  passphrase from: {}\n", secrets::describe(src))),
        None => text.push_str(
            "  WARNING: no passphrase source is configured, so the secret key is stored UNPROTECTED.\n  \
             Set [key] passphrase and run `vulnmail key protect`.\n",
        ),
    }
    text.push_str("Next: `vulnmail key publish --out DIR --security-md SECURITY.md`\n");
    Ok(Output::new(
        text,
        json!({
            "config": cfg_path,
            "fingerprint": fpr,
            "generated": generated,
            "protected": protected,
            "passphrase_source": source.as_ref().map(secrets::kind),
            "secret_key": store.secret_path(),
            "revocation_certificate": store.revocation_path(),
            "key": info,
        }),
    ))
}

fn ask(question: &str) -> anyhow::Result<String> {
    let mut err = std::io::stderr();
    write!(err, "{question}: ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim().to_string();
    if line.is_empty() || !std::io::stdin().is_terminal() {
        return Err(UserError("no answer given".into()).into());
    }
    Ok(line)
}
