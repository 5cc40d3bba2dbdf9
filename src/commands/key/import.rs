//! `vulnmail key import FILE`

use std::time::SystemTime;

use pgp::Cert;
use pgp::crypto::Password;
use pgp::packet::Packet;
use pgp::packet::signature::SignatureBuilder;
use pgp::types::ReasonForRevocation;
use sequoia_openpgp as pgp;
use serde_json::json;

use super::render_info;
use crate::cli::KeyImportArgs;
use crate::commands::Ctx;
use crate::config::Config;
use crate::error::UserError;
use crate::openpgp::keys::{self, KeyError, KeyStore, team_userid};
use crate::openpgp::{policy, uid_email};
use crate::output::Output;

pub fn run(ctx: &Ctx, a: KeyImportArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let now = ctx.clock.system_time();
    let cert = keys::read_tsk(&a.file)?;
    let file_pw = match &a.passphrase_env {
        Some(name) => Some(Password::from(
            std::env::var(name)
                .map_err(|_| UserError(format!("--passphrase-env: environment variable {name} is not set")))?
                .as_str(),
        )),
        None if keys::is_protected(&cert) => ctx.passphrase(&cfg)?,
        None => None,
    };
    let unlocked = match keys::unlock(&cert, file_pw.as_ref()) {
        Err(KeyError::WrongPassphrase) => {
            return Err(UserError(format!(
                "the passphrase does not unlock {}; give its own with --passphrase-env NAME",
                a.file.display()
            ))
            .into());
        }
        other => other?,
    };
    let p = policy();
    let vc = unlocked
        .with_policy(&p, now)
        .map_err(|e| UserError(format!("{} is not usable under the standard policy: {e}", a.file.display())))?;
    if vc.keys().for_transport_encryption().for_storage_encryption().next().is_none() {
        return Err(UserError(format!(
            "{} has no encryption key that is valid now; reports could not be decrypted",
            a.file.display()
        ))
        .into());
    }
    let unlocked = add_team_userids(&cfg, unlocked, now)?;
    let store = ctx.keystore();
    let mut retired = None;
    if store.exists() {
        let old = store.load()?;
        if old.fingerprint() != unlocked.fingerprint() {
            retired = Some(store.retire(&old)?);
        }
    }
    let protected = ctx.save_key(&cfg, &unlocked)?;
    write_revocation(&store, &unlocked)?;
    let info = keys::describe(&unlocked, now);
    let mut text = format!("Imported the team key from {}\n", a.file.display());
    let mut shown = keys::describe(&unlocked, now);
    shown.protected = protected;
    text.push_str(&render_info(&shown, &ctx.style));
    if let Some(r) = &retired {
        text.push_str(&format!("The previous key is kept in {}\n", r.display()));
    }
    if !protected {
        text.push_str("WARNING: stored without a passphrase; set [key] passphrase and run `vulnmail key protect`.\n");
    }
    text.push_str("Next: `vulnmail key publish`\n");
    Ok(Output::new(
        text,
        json!({ "key": shown_json(info, protected), "protected": protected, "retired_file": retired }),
    ))
}

/// Add a self-signed user ID for each team address the key lacks, so the published
/// (minimised) certificate names the security inbox. `cert` must be unlocked.
pub fn add_team_userids(cfg: &Config, cert: Cert, now: SystemTime) -> anyhow::Result<Cert> {
    let have: Vec<String> = cert.userids().filter_map(|u| uid_email(u.userid())).collect();
    let missing: Vec<&String> = cfg.team.addresses.iter().filter(|a| !have.contains(&a.to_ascii_lowercase())).collect();
    if missing.is_empty() {
        return Ok(cert);
    }
    let p = policy();
    let template = {
        let vc = cert.with_policy(&p, now)?;
        // Copy the primary user ID's binding so flags and preferences carry over.
        match vc.primary_userid() {
            Ok(u) => SignatureBuilder::from(u.binding_signature().clone()),
            Err(_) => SignatureBuilder::new(pgp::types::SignatureType::PositiveCertification),
        }
    };
    let mut signer = cert.primary_key().key().clone().parts_into_secret()?.into_keypair()?;
    let mut packets: Vec<Packet> = Vec::new();
    for a in missing {
        let uid = team_userid(&cfg.team.name, a);
        let sig = template.clone().set_signature_creation_time(now)?.set_primary_userid(false)?.sign_userid_binding(
            &mut signer,
            cert.primary_key().key(),
            &uid,
        )?;
        packets.push(uid.into());
        packets.push(sig.into());
    }
    Ok(cert.insert_packets(packets)?.0)
}

/// A revocation certificate for an imported key, so the team always has one.
pub fn write_revocation(store: &KeyStore, unlocked: &Cert) -> anyhow::Result<()> {
    let mut signer = unlocked.primary_key().key().clone().parts_into_secret()?.into_keypair()?;
    let rev = pgp::cert::CertRevocationBuilder::new()
        .set_reason_for_revocation(ReasonForRevocation::Unspecified, b"")?
        .build(&mut signer, unlocked, None)?;
    store.save_revocation(unlocked, &rev)?;
    Ok(())
}

fn shown_json(mut info: keys::KeyInfo, protected: bool) -> keys::KeyInfo {
    info.protected = protected;
    info
}
