//! `vulnmail key publish`

use anyhow::Context as _;
use serde_json::json;

use crate::cli::KeyPublishArgs;
use crate::commands::Ctx;
use crate::output::Output;
use crate::publish::{self, own_fingerprints};

pub fn run(ctx: &Ctx, a: KeyPublishArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let now = ctx.clock.system_time();
    let out = a.out.clone().unwrap_or_else(|| ctx.default_tree());
    let tsk = ctx.unlocked_key(&cfg)?;
    let own = own_fingerprints(&ctx.keystore().retired()?);
    let done = publish::publish(&cfg, &tsk, &own, &out, now)?;
    let section = publish::security_md_section(&cfg, &tsk, now);
    let mut text = format!("Published key {} into {}:\n", done.fingerprint, out.display());
    for f in &done.files {
        text.push_str(&format!("  {f}\n"));
    }
    text.push_str(&format!("security.txt expires {}\n", done.security_txt_expires));
    let security_md = match &a.security_md {
        Some(path) => {
            publish::update_security_md(path, &section).with_context(|| format!("cannot update {}", path.display()))?;
            text.push_str(&format!("Updated the vulnmail section of {}\n", path.display()));
            Some(path.clone())
        }
        None => {
            text.push_str("\nSECURITY.md section (or pass --security-md FILE to update one in place):\n\n");
            text.push_str(&section);
            None
        }
    };
    Ok(Output::new(
        text,
        json!({
            "fingerprint": done.fingerprint,
            "out": out,
            "files": done.files,
            "security_txt_expires": done.security_txt_expires,
            "key_url": done.key_url,
            "security_md": security_md,
            "security_md_section": section,
        }),
    ))
}
