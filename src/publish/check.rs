//! `key check`: is the key still good, and does everything published still match it?
//!
//! Each check yields one [`Item`]; any `fail` makes the command exit 1.

use std::path::Path;
use std::time::{Duration, SystemTime};

use sequoia_openpgp::{Cert, Fingerprint};
use serde::Serialize;

use super::securitytxt::{self, Signed};
use super::{layout, securitymd, to_ts};
use crate::config::Config;
use crate::openpgp::keys;
use crate::openpgp::{fpr_hex, policy};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub check: String,
    pub status: Status,
    pub detail: String,
}

fn item(check: &str, status: Status, detail: impl Into<String>) -> Item {
    Item { check: check.to_string(), status, detail: detail.into() }
}

/// How the secret half fared, decided by the caller (it owns passphrases and prompts).
pub enum SecretState {
    /// Unlocked and decrypted a test message; `protected` says whether a passphrase guards it.
    Works {
        protected: bool,
    },
    Broken(String),
    NotChecked(String),
}

pub struct Inputs<'a> {
    pub cfg: &'a Config,
    /// The current certificate (public parts are enough).
    pub cert: &'a Cert,
    /// Fingerprints whose certifications the published certificate keeps.
    pub own: &'a [Fingerprint],
    pub dir: &'a Path,
    pub now: SystemTime,
    pub warn_days: u32,
    pub secret: SecretState,
}

pub fn run(i: &Inputs<'_>) -> Vec<Item> {
    let mut out = Vec::new();
    expiry_checks(i, &mut out);
    security_txt_check(i, &mut out);
    published_files_check(i, &mut out);
    security_md_check(i, &mut out);
    out.push(match &i.secret {
        SecretState::Works { protected: true } => item("secret-key", Status::Ok, "unlocks and decrypts a test message"),
        SecretState::Works { protected: false } => {
            item("secret-key", Status::Warn, "decrypts, but is stored without a passphrase: run `vulnmail key protect`")
        }
        SecretState::Broken(why) => item("secret-key", Status::Fail, why.clone()),
        SecretState::NotChecked(why) => item("secret-key", Status::Skip, why.clone()),
    });
    out
}

fn date(t: SystemTime) -> String {
    to_ts(t).strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn days_left(now: SystemTime, t: SystemTime) -> u64 {
    t.duration_since(now).map(|d| d.as_secs() / 86_400).unwrap_or(0)
}

fn expiry_item(name: &str, what: &str, exp: Option<SystemTime>, i: &Inputs<'_>) -> Item {
    let warn = Duration::from_secs(u64::from(i.warn_days) * 86_400);
    match exp {
        None => item(name, Status::Ok, format!("{what} does not expire")),
        Some(t) if t <= i.now => item(
            name,
            Status::Fail,
            format!("{what} expired on {}: run `vulnmail key extend --for 1y`, then publish again", date(t)),
        ),
        Some(t) if t <= i.now + warn => item(
            name,
            Status::Fail,
            format!(
                "{what} expires in {} days, on {}: run `vulnmail key extend --for 1y`, then publish again",
                days_left(i.now, t),
                date(t)
            ),
        ),
        Some(t) => item(name, Status::Ok, format!("{what} valid until {} ({} days)", date(t), days_left(i.now, t))),
    }
}

fn expiry_checks(i: &Inputs<'_>, out: &mut Vec<Item>) {
    let p = policy();
    let vc = match i.cert.with_policy(&p, i.now) {
        Ok(vc) => vc,
        Err(e) => {
            out.push(item("key", Status::Fail, format!("the key is not valid under the standard policy: {e}")));
            return;
        }
    };
    if let sequoia_openpgp::types::RevocationStatus::Revoked(_) = vc.revocation_status() {
        out.push(item("key", Status::Fail, "the key is revoked: run `vulnmail key rotate`"));
        return;
    }
    out.push(expiry_item("key-expiry", "the primary key", vc.primary_key().key_expiration_time(), i));
    match keys::encryption_expiry(i.cert, i.now) {
        Ok(exp) => out.push(expiry_item("encryption-subkey", "the encryption subkey", exp, i)),
        Err(e) => out.push(item("encryption-subkey", Status::Fail, format!("{e}: run `vulnmail key rotate`"))),
    }
}

fn security_txt_check(i: &Inputs<'_>, out: &mut Vec<Item>) {
    let lay = layout(i.cfg);
    let name = "security.txt";
    let path = i.dir.join(&lay.security_txt);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(_) => {
            out.push(item(name, Status::Fail, format!("{} is missing: run `vulnmail key publish`", path.display())));
            return;
        }
    };
    let text = match securitytxt::verify(&bytes, i.cert, i.now) {
        Signed::Good(t) => t,
        Signed::Unsigned(_) => {
            out.push(item(name, Status::Fail, "is not signed: run `vulnmail key publish` to sign it"));
            return;
        }
        Signed::BadSignature { reason, .. } => {
            out.push(item(name, Status::Fail, format!("signature not accepted: {reason}; publish again")));
            return;
        }
    };
    let fields = match securitytxt::Fields::parse(&text) {
        Ok(f) => f,
        Err(e) => {
            out.push(item(name, Status::Fail, format!("not a valid security.txt: {e}")));
            return;
        }
    };
    let mut problems = Vec::new();
    if let Some(exp) = fields.expires {
        let exp = std::time::SystemTime::try_from(exp).unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        let warn = Duration::from_secs(u64::from(i.warn_days) * 86_400);
        if exp <= i.now {
            problems.push(format!("Expires {} has passed", date(exp)));
        } else if exp > i.now + Duration::from_secs(366 * 86_400) {
            problems.push(format!("Expires {} is more than a year away (RFC 9116 asks for less)", date(exp)));
        } else if exp <= i.now + warn {
            problems.push(format!("Expires {} is in {} days", date(exp), days_left(i.now, exp)));
        }
    }
    for a in &i.cfg.team.addresses {
        let want = format!("mailto:{a}");
        if !fields.contacts.iter().any(|c| c.eq_ignore_ascii_case(&want)) {
            problems.push(format!("no Contact for {a}"));
        }
    }
    let fpr = fpr_hex(&i.cert.fingerprint());
    if fields.encryption.is_empty() {
        problems.push("no Encryption field".into());
    }
    for e in &fields.encryption {
        if let Some(f) = e.strip_prefix("openpgp4fpr:") {
            if !f.eq_ignore_ascii_case(&fpr) {
                problems.push(format!("Encryption {e} names another key than {fpr}"));
            }
        } else if let Some(rel) = e.strip_prefix(&format!("{}/", i.cfg.base_url())) {
            match read_cert(&i.dir.join(rel)) {
                Ok(c) if c.fingerprint() == i.cert.fingerprint() => {}
                Ok(c) => problems
                    .push(format!("Encryption {e} serves key {}, not the team key {fpr}", fpr_hex(&c.fingerprint()))),
                Err(why) => problems.push(format!("Encryption {e}: {why}")),
            }
        } else {
            out.push(item(
                "security.txt-encryption",
                Status::Warn,
                format!("Encryption {e} is outside {}; not checked", i.cfg.base_url()),
            ));
        }
    }
    if problems.is_empty() {
        out.push(item(name, Status::Ok, "signed by the team key, Expires in range, Encryption matches"));
    } else {
        out.push(item(name, Status::Fail, format!("{}; run `vulnmail key publish`", problems.join("; "))));
    }
}

fn read_cert(path: &Path) -> Result<Cert, String> {
    let bytes = std::fs::read(path).map_err(|_| format!("{} is missing", path.display()))?;
    let mut certs = keys::parse_certs(&bytes).map_err(|e| format!("{} is not a certificate: {e}", path.display()))?;
    if certs.len() != 1 {
        return Err(format!("{} holds {} certificates", path.display(), certs.len()));
    }
    Ok(certs.remove(0))
}

fn same(a: &Cert, b: &Cert) -> bool {
    match (keys::binary(a), keys::binary(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn compare_file(name: &str, path: &Path, want: &Cert, out: &mut Vec<Item>) {
    match read_cert(path) {
        Ok(c) if same(&c, want) => out.push(item(name, Status::Ok, format!("{} matches the key", path.display()))),
        Ok(c) if c.fingerprint() != want.fingerprint() => out.push(item(
            name,
            Status::Fail,
            format!(
                "{} holds key {}, not the team key {}: run `vulnmail key publish`",
                path.display(),
                fpr_hex(&c.fingerprint()),
                fpr_hex(&want.fingerprint())
            ),
        )),
        Ok(_) => out.push(item(
            name,
            Status::Fail,
            format!(
                "{} differs from the current key (old expiry or signatures?): run `vulnmail key publish`",
                path.display()
            ),
        )),
        Err(why) => out.push(item(name, Status::Fail, format!("{why}: run `vulnmail key publish`"))),
    }
}

fn published_files_check(i: &Inputs<'_>, out: &mut Vec<Item>) {
    let lay = layout(i.cfg);
    match keys::minimise(i.cert, &i.cfg.team.addresses, i.own) {
        Ok(want) => compare_file("keys-file", &i.dir.join(&lay.key_file), &want, out),
        Err(e) => out.push(item("keys-file", Status::Fail, e.to_string())),
    }
    for (addr, adv, direct) in &lay.wkd {
        let want = match keys::minimise(i.cert, std::slice::from_ref(addr), i.own) {
            Ok(c) => c,
            Err(e) => {
                out.push(item("wkd", Status::Fail, e.to_string()));
                continue;
            }
        };
        compare_file("wkd-advanced", &i.dir.join(adv), &want, out);
        if let Some(d) = direct {
            compare_file("wkd-direct", &i.dir.join(d), &want, out);
        }
    }
    let missing: Vec<&String> = lay.wkd_policies.iter().filter(|p| !i.dir.join(p).is_file()).collect();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        out.push(item("wkd-policy", Status::Fail, format!("missing {}: run `vulnmail key publish`", names.join(", "))));
    }
}

fn security_md_check(i: &Inputs<'_>, out: &mut Vec<Item>) {
    let path = i.dir.join("SECURITY.md");
    let name = "security-md";
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => {
            out.push(item(
                name,
                Status::Fail,
                format!("{} is missing: run `vulnmail key publish --security-md {}`", path.display(), path.display()),
            ));
            return;
        }
    };
    let fpr = fpr_hex(&i.cert.fingerprint());
    match securitymd::block(&text).and_then(securitymd::stated_fingerprint) {
        Some(f) if f == fpr => out.push(item(name, Status::Ok, "states the team key's fingerprint")),
        Some(f) => out.push(item(
            name,
            Status::Fail,
            format!("states fingerprint {f}, but the team key is {fpr}: run `vulnmail key publish --security-md`"),
        )),
        None => out.push(item(
            name,
            Status::Fail,
            "has no vulnmail section with a fingerprint: run `vulnmail key publish --security-md`",
        )),
    }
}
