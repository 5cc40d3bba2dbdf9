//! `vulnmail key export [--secret]`

use std::io::{IsTerminal, Write};

use anyhow::Context as _;
use sequoia_openpgp::serialize::SerializeInto;

use crate::cli::KeyExportArgs;
use crate::commands::Ctx;
use crate::error::user;
use crate::openpgp::keys;
use crate::output::Output;
use crate::publish::own_fingerprints;

pub fn run(ctx: &Ctx, a: KeyExportArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let store = ctx.keystore();
    let cert = store.load()?;
    let bytes = if a.secret {
        if a.output.is_none() && std::io::stdout().is_terminal() {
            return user("refusing to print a secret key on a terminal: use --output FILE or redirect stdout");
        }
        if !keys::is_protected(&cert) {
            ctx.note("warning: the exported secret key is not passphrase-protected");
        }
        cert.as_tsk().armored().to_vec().map_err(|e| anyhow::anyhow!("{e}"))?
    } else {
        let own = own_fingerprints(&store.retired()?);
        keys::armored(&keys::minimise(&cert, &cfg.team.addresses, &own)?)?
    };
    match &a.output {
        Some(path) if a.secret => keys::write_private(path, &bytes)?,
        Some(path) => std::fs::write(path, &bytes).with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(Output::text(""))
}
