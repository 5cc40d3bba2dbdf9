//! `vulnmail policy import` and `policy show`: the response policy, proposed from a
//! SECURITY.md or as in force.
//!
//! The SECURITY.md may be anyone's, so its words are printed through the sanitiser.

use std::io::{BufRead, Write};

use anyhow::Context as _;
use serde_json::json;

use super::Ctx;
use crate::cli::{PolicyImportArgs, PolicyShowArgs};
use crate::config::{self, Config, ConfigError};
use crate::error::user;
use crate::openpgp::keys;
use crate::output::Output;
use crate::report::policy::{Deadline, Deadlines, Policy, SEVERITIES};
use crate::report::policy_import::{self, Imported};
use crate::term::UntrustedLine;

const KINDS: [&str; 4] = ["acknowledge", "triage", "fix", "disclose"];

pub fn import(ctx: &Ctx, a: PolicyImportArgs) -> anyhow::Result<Output> {
    let bytes = match std::fs::read(&a.file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return user(format!("{} does not exist", a.file.display()));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", a.file.display())),
    };
    let markdown = String::from_utf8_lossy(&bytes);
    let imported = policy_import::import(&markdown);

    let mut text = format!("Proposed response policy from {}\n", a.file.display());
    text.push_str(&describe(ctx, &imported.policy, Some(&imported)));
    if imported.not_understood.is_empty() {
        text.push_str("\nEvery statement about timing was understood.\n");
    } else {
        text.push_str("\nNot understood (set these by hand if they are promises):\n");
        for s in &imported.not_understood {
            text.push_str(&format!("  - {}\n", UntrustedLine(s)));
        }
    }
    let mut value = serde_json::to_value(&imported).context("cannot serialise the policy")?;

    if a.write {
        let path = &ctx.paths.config_file;
        let current = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return user(format!("{} does not exist; run `vulnmail init` first", path.display()));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        if !ctx.batch {
            if let Err(why) = ctx.interaction().can_prompt() {
                return user(format!(
                    "not writing the policy to {} without confirmation ({why}); add --batch to write it anyway",
                    path.display()
                ));
            }
            // The proposal goes to stderr first, so the question makes sense even with --json.
            eprint!("{text}");
            if !confirm(&format!("Write this policy as [policy] to {}?", path.display()))? {
                return user("not written: the answer was not yes");
            }
        }
        let updated = config::with_policy(&current, &imported.policy)
            .map_err(|message| ConfigError::Invalid { path: path.clone(), message })?;
        // Never leave a file that vulnmail itself could not read back.
        let back: Config = toml::from_str(&updated)
            .map_err(|e| ConfigError::Invalid { path: path.clone(), message: e.message().to_string() })?;
        if back.policy.as_ref() != Some(&imported.policy) {
            anyhow::bail!("the policy written to {} would not read back the same; nothing written", path.display());
        }
        keys::write_private(path, updated.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
        text.push_str(&format!("\nWrote [policy] to {}\n", path.display()));
        if let Some(o) = value.as_object_mut() {
            o.insert("written".into(), json!(path));
        }
    } else {
        text.push_str("\nNothing stored; `--write` puts this policy into the configuration.\n");
    }
    Ok(Output::new(text, value))
}

pub fn show(ctx: &Ctx, _a: PolicyShowArgs) -> anyhow::Result<Output> {
    let (policy, source) = match Config::load(&ctx.paths.config_file) {
        Ok(cfg) => match cfg.policy {
            Some(p) => (p, "config"),
            None => (Policy::preset(), "preset"),
        },
        Err(ConfigError::Missing(_)) => (Policy::preset(), "preset"),
        Err(e) => return Err(e.into()),
    };
    let mut text = match source {
        "config" => format!("Response policy from {}\n", ctx.paths.config_file.display()),
        _ => "Response policy: the built-in preset (no [policy] in the configuration)\n".to_string(),
    };
    text.push_str(&describe(ctx, &policy, None));
    let mut value = serde_json::to_value(Imported { policy, sources: Vec::new(), not_understood: Vec::new() })
        .context("cannot serialise the policy")?;
    if let Some(o) = value.as_object_mut() {
        o.insert("source".into(), json!(source));
    }
    Ok(Output::new(text, value))
}

/// The policy as lines per severity and kind; with an import, the words each value came from.
fn describe(ctx: &Ctx, policy: &Policy, imported: Option<&Imported>) -> String {
    let mut s = format!("  time zone {}, weekend {}\n", UntrustedLine(&policy.time_zone), policy.weekend.join(", "));
    let empty = Deadlines::default();
    for sev in std::iter::once("default").chain(SEVERITIES) {
        let d = policy.severities.get(sev).unwrap_or(&empty);
        let title = if sev == "default" { "default (every severity unless set below)" } else { sev };
        s.push_str(&format!("\n{}\n", ctx.style.bold(title)));
        for (kind, deadline) in KINDS.iter().zip([&d.acknowledge, &d.triage, &d.fix, &d.disclose]) {
            let Some(deadline) = deadline else {
                let inherited = if sev == "default" { "not set" } else { "as default" };
                s.push_str(&format!("  {kind:<12} {}\n", ctx.style.dim(inherited)));
                continue;
            };
            s.push_str(&format!("  {kind:<12} {}\n", value_line(deadline)));
            if let Some(r) = policy_import::remark(deadline) {
                s.push_str(&format!("  {:<12} ({})\n", "", UntrustedLine(&r)));
            }
            if let Some(imp) = imported {
                for src in imp.sources.iter().filter(|x| x.severity == sev && x.kind == *kind) {
                    s.push_str(&format!("  {:<12} {} {}\n", "", ctx.style.dim("from:"), UntrustedLine(&src.text)));
                }
            }
        }
    }
    s
}

fn value_line(d: &Deadline) -> String {
    match d.amount {
        Some(_) => format!("{} {}", UntrustedLine(&d.describe()), d.from.describe()),
        // The promise's own words say when ("after the patch"); a clock start would muddle them.
        None => format!("\"{}\" (no fixed time)", UntrustedLine(d.text.as_deref().unwrap_or(""))),
    }
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    let mut err = std::io::stderr();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the answer")?;
    Ok(matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}
