//! Publishing the team key: `keys/`, a clearsigned `.well-known/security.txt`, a Web
//! Key Directory for both methods, and the SECURITY.md section; and checking all of
//! them later.
//!
//! The output directory is the web root that `[publish] base_url` serves: a file
//! written at `DIR/R` is announced as `<base_url>/R`.

pub mod check;
pub mod securitymd;
pub mod securitytxt;
pub mod wkd;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use sequoia_openpgp::{Cert, Fingerprint};

use crate::config::Config;
use crate::openpgp::fpr_hex;
use crate::openpgp::keys::{self, KeyError};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot write {}: {source}", .path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("the team key has already expired ({0}): run `vulnmail key extend --for 1y` first")]
    Expired(String),
    #[error("cannot sign security.txt: {0}")]
    Sign(String),
}

/// The relative paths of everything published, from the configuration alone.
pub struct Layout {
    pub key_file: String,
    pub security_txt: String,
    /// (address, advanced path, direct path or None for other domains)
    pub wkd: Vec<(String, String, Option<String>)>,
    pub wkd_policies: Vec<String>,
}

pub fn layout(cfg: &Config) -> Layout {
    let domain = cfg.domain();
    let keys_dir = cfg.publish.keys_dir.trim_matches('/');
    let key_file = format!("{keys_dir}/{}.asc", safe_name(cfg.primary_address()));
    let mut wkd = Vec::new();
    let mut policies = vec![".well-known/openpgpkey/policy".to_string()];
    for a in &cfg.team.addresses {
        if let Some((adv, direct)) = wkd::file_paths(a) {
            let addr_domain = a.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
            let direct = (addr_domain == domain).then(|| format!(".well-known/openpgpkey/{direct}"));
            let pol = format!(".well-known/openpgpkey/{addr_domain}/policy");
            if !policies.contains(&pol) {
                policies.push(pol);
            }
            wkd.push((a.to_ascii_lowercase(), format!(".well-known/openpgpkey/{adv}"), direct));
        }
    }
    Layout { key_file, security_txt: ".well-known/security.txt".into(), wkd, wkd_policies: policies }
}

/// A file name made only of characters that are safe everywhere.
fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || "@.-_+".contains(c) { c.to_ascii_lowercase() } else { '_' })
        .collect()
}

pub fn url(cfg: &Config, rel: &str) -> String {
    format!("{}/{}", cfg.base_url(), rel.trim_start_matches('/'))
}

/// The security.txt fields for the current key.
pub fn security_txt_fields(cfg: &Config, cert: &Cert, now: SystemTime) -> Result<securitytxt::Fields, PublishError> {
    let lay = layout(cfg);
    let max = Duration::from_secs(u64::from(cfg.publish.security_txt_days.clamp(1, 365)) * 86_400);
    let mut expires = now + max;
    if let Some(key_end) = keys::encryption_expiry(cert, now)? {
        if key_end <= now {
            return Err(PublishError::Expired(to_ts(key_end).to_string()));
        }
        expires = expires.min(key_end);
    }
    let languages = if cfg.team.languages.is_empty() { vec!["en".to_string()] } else { cfg.team.languages.clone() };
    Ok(securitytxt::Fields {
        contacts: cfg.team.addresses.iter().map(|a| format!("mailto:{a}")).collect(),
        expires: Some(to_ts(expires)),
        encryption: vec![url(cfg, &lay.key_file), format!("openpgp4fpr:{}", fpr_hex(&cert.fingerprint()))],
        preferred_languages: languages,
        policy: cfg.team.policy_url.clone(),
        canonical: vec![url(cfg, &lay.security_txt)],
        acknowledgments: cfg.publish.acknowledgments.clone(),
        hiring: cfg.publish.hiring.clone(),
    })
}

pub fn to_ts(t: SystemTime) -> Timestamp {
    // Seconds precision: that is what OpenPGP and security.txt carry.
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The fingerprints of retired team keys: their certifications survive minimising.
pub fn own_fingerprints(retired: &[Cert]) -> Vec<Fingerprint> {
    retired.iter().map(|c| c.fingerprint()).collect()
}

/// What `publish` wrote.
#[derive(Debug, serde::Serialize)]
pub struct Published {
    pub fingerprint: String,
    pub files: Vec<String>,
    pub security_txt_expires: String,
    pub key_url: String,
}

/// Write the published tree into `out`. `tsk` must be unlocked (it signs security.txt).
pub fn publish(
    cfg: &Config,
    tsk: &Cert,
    own: &[Fingerprint],
    out: &Path,
    now: SystemTime,
) -> Result<Published, PublishError> {
    let lay = layout(cfg);
    let cert = keys::minimise(tsk, &cfg.team.addresses, own)?;
    let mut files = Vec::new();
    let mut put = |rel: &str, bytes: &[u8]| -> Result<(), PublishError> {
        let path = out.join(rel);
        write_public(&path, bytes).map_err(|source| PublishError::Write { path: path.clone(), source })?;
        files.push(rel.to_string());
        Ok(())
    };

    put(&lay.key_file, &keys::armored(&cert)?)?;
    for (addr, adv, direct) in &lay.wkd {
        let one = keys::minimise(tsk, std::slice::from_ref(addr), own)?;
        let bytes = keys::binary(&one)?;
        put(adv, &bytes)?;
        if let Some(d) = direct {
            put(d, &bytes)?;
        }
    }
    for p in &lay.wkd_policies {
        put(p, b"# Web Key Directory policy (draft-koch-openpgp-webkey-service); no options set.\n")?;
    }

    let fields = security_txt_fields(cfg, tsk, now)?;
    let signer = keys::signing_keypair(tsk, now)?;
    let signed = securitytxt::clearsign(&fields.render(), signer).map_err(|e| PublishError::Sign(e.to_string()))?;
    put(&lay.security_txt, &signed)?;
    Ok(Published {
        fingerprint: fpr_hex(&cert.fingerprint()),
        files,
        security_txt_expires: fields.expires.map(|t| t.to_string()).unwrap_or_default(),
        key_url: url(cfg, &lay.key_file),
    })
}

/// The SECURITY.md section for the current key.
pub fn security_md_section(cfg: &Config, cert: &Cert, now: SystemTime) -> String {
    let lay = layout(cfg);
    let expires = keys::encryption_expiry(cert, now).ok().flatten().map(|t| to_ts(t).strftime("%Y-%m-%d").to_string());
    let policy = cfg.policy();
    securitymd::Section {
        team_name: &cfg.team.name,
        addresses: &cfg.team.addresses,
        fingerprint: fpr_hex(&cert.fingerprint()),
        key_locations: vec![format!("[`{}`]({})", lay.key_file, lay.key_file), url(cfg, &lay.key_file)],
        key_file: lay.key_file.clone(),
        expires,
        policy: &policy,
    }
    .render()
}

/// Write a world-readable published file atomically.
fn write_public(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Update (or create) SECURITY.md's marked block.
pub fn update_security_md(path: &Path, section: &str) -> std::io::Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "# Security policy\n".to_string(),
        Err(e) => return Err(e),
    };
    write_public(path, securitymd::splice(&existing, section).as_bytes())
}
