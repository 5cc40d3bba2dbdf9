//! `vulnmail export ID --format json|markdown|osv|cve5|ghsa [--output FILE]`

use std::io::{IsTerminal, Write};

use anyhow::Context as _;

use crate::cli::{ExportArgs, ExportFormat};
use crate::commands::Ctx;
use crate::config::Config;
use crate::error::user;
use crate::output::Output;
use crate::report::export::{self, Advisory, ExportError, Format};
use crate::term::{Untrusted, sanitize};

fn format(f: ExportFormat) -> Format {
    match f {
        ExportFormat::Json => Format::Json,
        ExportFormat::Markdown => Format::Markdown,
        ExportFormat::Osv => Format::Osv,
        ExportFormat::Cve5 => Format::Cve5,
        ExportFormat::Ghsa => Format::Ghsa,
    }
}

/// The advisory context from `[advisory]`, with fallbacks from `[team]` and `[publish]`.
pub fn advisory(cfg: &Config, now: jiff::Timestamp) -> Advisory {
    let a = &cfg.advisory;
    let set = |o: &Option<String>| o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let team = if cfg.team.name.trim().is_empty() { cfg.domain() } else { cfg.team.name.trim().to_string() };
    let package = set(&a.package);
    Advisory {
        vendor: set(&a.vendor).unwrap_or_else(|| team.clone()),
        product: set(&a.product).or_else(|| package.clone()).unwrap_or_else(|| team.clone()),
        ecosystem: set(&a.ecosystem),
        package,
        repository: set(&a.repository),
        homepage: Some(cfg.base_url()),
        cna_org_id: set(&a.cna_org_id),
        cna_short_name: set(&a.cna_short_name),
        team,
        now: crate::clock::rfc3339(now),
    }
}

pub fn run(ctx: &Ctx, a: ExportArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg)?;
    let Some((_, report)) = store.report(&a.id)? else {
        return user(format!("no report {}: `vulnmail list` shows the ids", sanitize(&a.id, false)));
    };
    let f = format(a.format);
    let text = match export::export(&report, &advisory(&cfg, ctx.clock.now()), f) {
        Ok(t) => t,
        // Missing configuration or triage data: the user's to fix.
        Err(
            e @ (ExportError::NoCve(_)
            | ExportError::BadCve(_)
            | ExportError::NoCnaOrgId
            | ExportError::BadCnaOrgId(_)
            | ExportError::NoReference),
        ) => {
            return user(e.to_string());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot export {}", report.id)),
    };
    let summary = |file: Option<String>| serde_json::json!({ "id": report.id, "format": f.name(), "file": file });
    if let Some(path) = &a.output {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true);
        if a.force {
            opts.create(true).truncate(true);
        } else {
            opts.create_new(true);
        }
        let mut file = match opts.open(path) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return user(format!("{} exists: choose another file or add --force to overwrite it", path.display()));
            }
            r => r.with_context(|| format!("cannot create {}", path.display()))?,
        };
        file.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
        let shown = path.display().to_string();
        return Ok(Output::new(format!("wrote {} ({}) to {shown}", report.id, f.name()), summary(Some(shown))));
    }
    if ctx.json {
        let v = match f {
            Format::Markdown => serde_json::json!({ "id": report.id, "format": f.name(), "text": text }),
            _ => serde_json::from_str(&text).context("the export is not JSON")?,
        };
        return Ok(Output::new(String::new(), v));
    }
    // The text carries what came from the mail: made safe for a terminal, raw in a pipe.
    let text = if std::io::stdout().is_terminal() { Untrusted(&text).to_string() } else { text };
    Ok(Output::text(text))
}
