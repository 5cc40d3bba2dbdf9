//! `vulnmail key extend --for DURATION`

use serde_json::json;

use crate::cli::KeyExtendArgs;
use crate::clock::parse_duration;
use crate::commands::Ctx;
use crate::openpgp::keys;
use crate::output::Output;

pub fn run(ctx: &Ctx, a: KeyExtendArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let d = parse_duration(&a.duration)?;
    let now = ctx.clock.system_time();
    let unlocked = ctx.unlocked_key(&cfg)?;
    let extended = keys::extend(&unlocked, now + d, now)?;
    ctx.save_key(&cfg, &extended)?;
    let info = keys::describe(&extended, now);
    let text = format!(
        "Key {} now expires {}; its subkeys too.\nRun `vulnmail key publish` so reporters see the new expiry.\n",
        info.fingerprint,
        info.expires.as_deref().unwrap_or("never")
    );
    Ok(Output::new(text, json!({ "key": info })))
}
