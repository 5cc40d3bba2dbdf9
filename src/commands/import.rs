//! `vulnmail import PATH...`

use serde_json::json;

use super::Ctx;
use crate::cli::ImportArgs;
use crate::mail::import;
use crate::output::Output;
use crate::store::messages::{BatchCounts, Incoming};

pub fn run(ctx: &Ctx, a: ImportArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    // Read everything first: a path that cannot be read fails before anything is stored.
    let mut found = Vec::new();
    for p in &a.paths {
        found.extend(import::read(p)?);
    }
    let (_lock, mut store) = ctx.open_store_for_writing(&cfg, "import", a.wait)?;
    let mut total = BatchCounts::default();
    for chunk in found.chunks(500) {
        let items: Vec<Incoming<'_>> = chunk
            .iter()
            .map(|f| Incoming {
                raw: &f.raw,
                size: f.raw.len() as u64,
                internaldate: None,
                flags: Vec::new(),
                source: format!("import:{}", f.origin),
            })
            .collect();
        let c = store.ingest_imported(&items)?;
        total.new += c.new;
        total.duplicate += c.duplicate;
    }
    let read = found.len();
    drop(found); // processing reads each message back from the store
    let processed =
        if a.no_process { None } else { Some(super::process::run(ctx, &cfg, &mut store, super::process::Which::New)?) };
    let mut text =
        format!("imported {} new, {} already stored, from {} messages read", total.new, total.duplicate, read);
    if let Some(p) = &processed {
        text.push_str(&format!("; {}", super::process::summary(p)));
    }
    Ok(Output::new(
        text,
        json!({ "new": total.new, "duplicate": total.duplicate, "read": read, "processed": processed }),
    ))
}
