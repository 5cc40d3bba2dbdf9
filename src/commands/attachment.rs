//! `vulnmail attachment save ID NAME --to DIR`

use std::io::Write;

use anyhow::Context as _;
use serde_json::json;

use super::Ctx;
use crate::cli::AttachmentSaveArgs;
use crate::error::user;
use crate::output::Output;
use crate::term::safe_file_name;

pub fn save(ctx: &Ctx, a: AttachmentSaveArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg)?;
    let Some((message, _)) = store.report(&a.id)? else {
        return user(format!("no report {}", crate::term::sanitize(&a.id, false)));
    };
    let Some((name, data)) = store.attachment(message, &a.name)? else {
        return user(format!(
            "report {} has no attachment {}: `vulnmail show {}` lists them",
            a.id,
            crate::term::sanitize(&a.name, false),
            a.id
        ));
    };
    let meta = std::fs::symlink_metadata(&a.to).with_context(|| format!("cannot use {}", a.to.display()))?;
    if !meta.is_dir() {
        return user(format!("{} is not a directory (links are not followed)", a.to.display()));
    }
    let file = safe_file_name(name.as_deref().unwrap_or("attachment"));
    let path = a.to.join(&file);
    // create_new: never replace a file, never follow a link planted at that name.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {} (it may already exist)", path.display()))?;
    f.write_all(&data)?;
    f.sync_all()?;
    Ok(Output::new(
        format!("wrote {} ({} bytes)", path.display(), data.len()),
        json!({ "path": path, "size": data.len() }),
    ))
}
