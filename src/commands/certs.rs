//! `vulnmail certs`

use serde_json::json;

use super::Ctx;
use crate::cli::CertsArgs;
use crate::output::Output;
use crate::term::UntrustedLine;

pub fn run(ctx: &Ctx, _a: CertsArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg)?;
    let certs = store.certs()?;
    let mut text = String::new();
    for c in &certs {
        let addrs: Vec<String> = c.addresses.iter().map(|a| UntrustedLine(a).to_string()).collect();
        text.push_str(&format!(
            "{}  {}  (from {}, first seen {})\n",
            c.fingerprint,
            addrs.join(", "),
            UntrustedLine(&c.source),
            c.first_seen
        ));
    }
    text.push_str(&format!("{} certificates\n", certs.len()));
    Ok(Output::new(text, json!(certs)))
}
