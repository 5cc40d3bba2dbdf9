//! `vulnmail man --out DIR`: one page per command, from the clap definitions.

use anyhow::Context as _;
use serde_json::json;

use super::Ctx;
use crate::cli::{ManArgs, command};
use crate::output::Output;

pub fn run(_ctx: &Ctx, a: ManArgs) -> anyhow::Result<Output> {
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    let mut cmd = command();
    cmd.build();
    let mut written = Vec::new();
    write_pages(&cmd, "vulnmail", &a.out, &mut written)?;
    let text = format!("Wrote {} man pages into {}\n", written.len(), a.out.display());
    Ok(Output::new(text, json!({ "pages": written })))
}

fn write_pages(
    cmd: &clap::Command,
    name: &str,
    dir: &std::path::Path,
    written: &mut Vec<String>,
) -> anyhow::Result<()> {
    let page = cmd.clone().name(name.to_string());
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    let file = dir.join(format!("{name}.1"));
    std::fs::write(&file, buf).with_context(|| format!("cannot write {}", file.display()))?;
    written.push(file.display().to_string());
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}
