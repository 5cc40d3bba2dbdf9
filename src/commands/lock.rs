//! `vulnmail lock`

use serde_json::json;

use super::Ctx;
use crate::cli::LockArgs;
use crate::output::Output;
use crate::store::key;

pub fn run(ctx: &Ctx, _a: LockArgs) -> anyhow::Result<Output> {
    let forgotten = key::forget(&ctx.paths.data_dir);
    let text = if forgotten {
        "Forgot the cached store key; the next command unlocks the team key again."
    } else {
        "No store key was cached."
    };
    Ok(Output::new(text, json!({ "forgotten": forgotten })))
}
