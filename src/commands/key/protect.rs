//! `vulnmail key protect`: add a passphrase to a key stored without one.

use anyhow::Context as _;
use sequoia_openpgp::crypto::Password;
use serde_json::json;

use crate::cli::KeyProtectArgs;
use crate::commands::{Ctx, source_from_flags};
use crate::config::{self, SecretSource};
use crate::error::user;
use crate::openpgp::keys;
use crate::output::Output;
use crate::secrets;

pub fn run(ctx: &Ctx, a: KeyProtectArgs) -> anyhow::Result<Output> {
    let mut cfg = ctx.config()?;
    let store = ctx.keystore();
    let stored = store.load()?;
    let flagged = source_from_flags(&a.passphrase);
    if keys::is_protected(&stored) && flagged.is_none() {
        return Ok(Output::new(
            "The team key is already passphrase-protected.\n",
            json!({ "protected": true, "changed": false }),
        ));
    }
    // An already protected key being moved to a new source is unlocked with the old one.
    let unlocked = ctx.unlocked_key(&cfg)?;
    let (source, password) = match flagged.or_else(|| cfg.key.passphrase.clone()) {
        Some(src) => {
            let pw = crate::commands::resolve_passphrase(&src, ctx.interaction())?;
            (src, pw)
        }
        None => {
            if ctx.interaction().can_prompt().is_err() {
                return user(
                    "no passphrase source: give --passphrase-env NAME, --passphrase-command CMD, \
                     --passphrase-file FILE or --passphrase-keyring SERVICE/ACCOUNT",
                );
            }
            let s = secrets::prompt_new("key passphrase", ctx.interaction())?;
            (SecretSource::Prompt(true), Password::from(s.expose()))
        }
    };
    store.save(&keys::protect(&unlocked, &password)?)?;
    if cfg.key.passphrase.as_ref() != Some(&source) {
        let path = &ctx.paths.config_file;
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        keys::write_private(path, config::with_key_passphrase(&text, &source).as_bytes())?;
        cfg.key.passphrase = Some(source.clone());
    }
    Ok(Output::new(
        format!(
            "The team key is now passphrase-protected; the passphrase comes from {}.\n",
            secrets::describe(&source)
        ),
        json!({ "protected": true, "changed": true, "passphrase_source": secrets::kind(&source) }),
    ))
}
