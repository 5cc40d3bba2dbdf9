//! `vulnmail key rotate`: a new key, vouched for by the old one, which is kept.

use serde_json::json;

use crate::cli::KeyRotateArgs;
use crate::clock::parse_duration;
use crate::commands::{Ctx, suite};
use crate::openpgp::keys::{self, NewKey};
use crate::output::Output;

pub fn run(ctx: &Ctx, a: KeyRotateArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let validity = parse_duration(&a.expires_in)?;
    let now = ctx.clock.system_time();
    let store = ctx.keystore();
    let stored_old = store.load()?;
    let old = ctx.unlocked_key(&cfg)?;
    let (new, rev) = keys::generate(&NewKey {
        team_name: &cfg.team.name,
        addresses: &cfg.team.addresses,
        suite: suite(a.cipher_suite),
        validity,
        created: now,
        password: None,
    })?;
    let new = keys::cross_certify(&old, new, now)?;
    // The store key follows the team key: rewrap it before the old key is retired.
    let data = &ctx.paths.data_dir;
    if crate::store::key::key_file(data).exists() {
        let mut all = vec![old.clone()];
        all.extend(ctx.unlocked_keys(&cfg)?.into_iter().skip(1));
        let store_key = crate::store::key::unwrap(data, &all, now)?;
        crate::store::key::wrap(data, &store_key, std::slice::from_ref(&new), now)?;
    }
    // Retire the old key as stored (still protected), then make the new one current.
    let retired_at = store.retire(&stored_old)?;
    ctx.save_key(&cfg, &new)?;
    store.save_revocation(&new, &rev)?;
    let info = keys::describe(&new, now);
    let text = format!(
        "New team key {}\n  certified by the old key {}\n  old key kept in {} for decrypting old reports\n\
         Run `vulnmail key publish` now: reporters still encrypt to the old key until you do.\n",
        info.fingerprint,
        crate::openpgp::fpr_hex(&old.fingerprint()),
        retired_at.display()
    );
    Ok(Output::new(
        text,
        json!({ "key": info, "previous": crate::openpgp::fpr_hex(&old.fingerprint()), "retired_file": retired_at }),
    ))
}
