//! `vulnmail key show`

use serde_json::json;

use super::render_info;
use crate::cli::KeyShowArgs;
use crate::commands::Ctx;
use crate::openpgp::keys;
use crate::output::Output;

pub fn run(ctx: &Ctx, a: KeyShowArgs) -> anyhow::Result<Output> {
    let store = ctx.keystore();
    let cert = store.load()?;
    let now = ctx.clock.system_time();
    let info = keys::describe(&cert, now);
    let mut text = render_info(&info, &ctx.style);
    let mut retired = Vec::new();
    if a.all {
        for c in store.retired()? {
            let r = keys::describe(&c, now);
            text.push_str(&format!("\nRetired (kept for decrypting old reports):\n{}", render_info(&r, &ctx.style)));
            retired.push(r);
        }
    }
    Ok(Output::new(text, json!({ "key": info, "retired": retired })))
}
