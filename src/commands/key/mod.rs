//! `vulnmail key …`: the team key's life cycle and its publication.

pub mod check;
pub mod export;
pub mod extend;
pub mod import;
pub mod protect;
pub mod publish;
pub mod rotate;
pub mod show;

use crate::openpgp::keys::KeyInfo;
use crate::term::UntrustedLine;

/// The person-readable form of a key, shared by show/import/rotate.
pub fn render_info(info: &KeyInfo, style: &crate::output::Style) -> String {
    let mut s = String::new();
    s.push_str(&format!("{} {}\n", style.bold("Fingerprint:"), info.fingerprint));
    s.push_str(&format!("  algorithm: {}\n", info.algorithm));
    s.push_str(&format!("  created:   {}\n", info.created));
    s.push_str(&format!("  expires:   {}\n", info.expires.as_deref().unwrap_or("never")));
    let st = if info.status == "valid" { style.ok(&info.status) } else { style.fail(&info.status) };
    s.push_str(&format!("  status:    {st}\n"));
    s.push_str(&format!(
        "  secret:    {}\n",
        match (info.has_secret, info.protected) {
            (false, _) => "not present".to_string(),
            (true, true) => "present, passphrase-protected".to_string(),
            (true, false) => style.warn("present, UNPROTECTED"),
        }
    ));
    for u in &info.user_ids {
        // User IDs of imported keys are untrusted text.
        s.push_str(&format!("  user ID:   {}\n", UntrustedLine(u)));
    }
    for k in &info.subkeys {
        s.push_str(&format!(
            "  subkey:    {} {} [{}] expires {} ({})\n",
            k.fingerprint,
            k.algorithm,
            k.usage.join(","),
            k.expires.as_deref().unwrap_or("never"),
            k.status
        ));
    }
    s
}
