//! `vulnmail reprocess [ID | --all]`

use serde_json::json;

use super::Ctx;
use super::process::{self, Which};
use crate::cli::ReprocessArgs;
use crate::error::user;
use crate::output::Output;

pub fn run(ctx: &Ctx, a: ReprocessArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let (_lock, mut store) = ctx.open_store_for_writing(&cfg, "reprocess", 10)?;
    let which = match &a.id {
        Some(id) => match store.report(id)? {
            Some((m, _)) => Which::One(m),
            None => return user(format!("no report {}", crate::term::sanitize(id, false))),
        },
        None => Which::All,
    };
    let p = process::run(ctx, &cfg, &mut store, which)?;
    Ok(Output::new(process::summary(&p), json!(p)))
}
