//! The team's key: generate, store (0600, passphrase-protected), unlock, extend,
//! rotate, and describe it; and the minimised public certificate that is published.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use pgp::cert::prelude::*;
use pgp::crypto::{KeyPair, Password};
use pgp::packet::signature::SignatureBuilder;
use pgp::packet::{Packet, Signature, UserID};
use pgp::parse::Parse;
use pgp::serialize::{Serialize, SerializeInto};
use pgp::types::{KeyFlags, RevocationStatus, SignatureType};
use pgp::{Cert, Fingerprint, KeyHandle};
use sequoia_openpgp as pgp;
use serde::Serialize as SerdeSerialize;

use super::{fpr_hex, policy, uid_email};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no team key in {}: run `vulnmail init`, or `vulnmail key import FILE` to bring one", .0.display())]
    NotFound(PathBuf),
    #[error("{} is not an OpenPGP key ({reason}); check that the file is complete and not truncated", .path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{} holds only a public certificate; vulnmail needs the secret key: export it with \
         `gpg --export-secret-keys --armor FINGERPRINT` or `sq key export`",
        .0.display()
    )]
    PublicOnly(PathBuf),
    #[error("{} holds {count} keys; export just the team key into its own file", .path.display())]
    Several { path: PathBuf, count: usize },
    #[error("the passphrase does not unlock the team key; check the configured [key] passphrase source")]
    WrongPassphrase,
    #[error("the team key is passphrase-protected but no passphrase source is configured; set [key] passphrase")]
    NeedPassphrase,
    #[error("the key has no {0} that is valid now under the standard policy")]
    NoUsableKey(&'static str),
    #[error("cannot write {}: {source}", .path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read {}: {source}", .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("OpenPGP: {0}")]
    Pgp(String),
}

fn pgp_err(e: anyhow::Error) -> KeyError {
    KeyError::Pgp(e.to_string())
}

/// The key algorithm family for new keys.
#[derive(Debug, Clone, Copy)]
pub enum Suite {
    Cv25519,
    Rsa4k,
}

/// What a new team key looks like.
pub struct NewKey<'a> {
    pub team_name: &'a str,
    pub addresses: &'a [String],
    pub suite: Suite,
    pub validity: Duration,
    pub created: SystemTime,
    pub password: Option<Password>,
}

/// `Team Name <address>`, or the bare address when there is no name.
pub fn team_userid(name: &str, address: &str) -> UserID {
    let clean: String = name.chars().filter(|c| !c.is_control() && *c != '<' && *c != '>').collect();
    let clean = clean.trim();
    if clean.is_empty() { UserID::from(format!("<{address}>")) } else { UserID::from(format!("{clean} <{address}>")) }
}

/// Generate a key: certification-only primary, a signing subkey, an encryption subkey,
/// one user ID per address, all expiring after `validity`. Returns the key and its
/// revocation certificate.
pub fn generate(spec: &NewKey<'_>) -> Result<(Cert, Signature), KeyError> {
    let suite = match spec.suite {
        Suite::Cv25519 => CipherSuite::Cv25519,
        Suite::Rsa4k => CipherSuite::RSA4k,
    };
    let mut b = CertBuilder::new()
        .set_cipher_suite(suite)
        .set_creation_time(spec.created)
        .set_validity_period(spec.validity)
        .set_primary_key_flags(KeyFlags::empty().set_certification())
        .add_signing_subkey()
        .add_subkey(KeyFlags::empty().set_transport_encryption().set_storage_encryption(), None, None)
        .set_password(spec.password.clone());
    for a in spec.addresses {
        b = b.add_userid(team_userid(spec.team_name, a));
    }
    b.generate().map_err(pgp_err)
}

/// Where the team's keys live: `<data>/keys/`, 0700, files 0600.
pub struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    pub fn new(dir: PathBuf) -> Self {
        KeyStore { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn secret_path(&self) -> PathBuf {
        self.dir.join("team-secret.asc")
    }

    /// The public half, kept beside the secret so that checks can say what is
    /// missing even when the secret key file is damaged or gone.
    pub fn public_path(&self) -> PathBuf {
        self.dir.join("team-public.asc")
    }

    pub fn revocation_path(&self) -> PathBuf {
        self.dir.join("team-revocation.asc")
    }

    pub fn retired_dir(&self) -> PathBuf {
        self.dir.join("retired")
    }

    pub fn exists(&self) -> bool {
        self.secret_path().exists()
    }

    /// The current team key, with its secret parts (possibly still encrypted).
    pub fn load(&self) -> Result<Cert, KeyError> {
        let path = self.secret_path();
        if !path.exists() {
            return Err(KeyError::NotFound(self.dir.clone()));
        }
        read_tsk(&path)
    }

    pub fn save(&self, cert: &Cert) -> Result<(), KeyError> {
        let bytes = cert.as_tsk().armored().to_vec().map_err(pgp_err)?;
        write_private(&self.secret_path(), &bytes)?;
        let public = cert.clone().strip_secret_key_material().armored().to_vec().map_err(pgp_err)?;
        write_private(&self.public_path(), &public)
    }

    /// The current certificate without secrets, from the public copy.
    pub fn load_public(&self) -> Result<Cert, KeyError> {
        let path = self.public_path();
        let bytes = fs::read(&path).map_err(|_| KeyError::NotFound(self.dir.clone()))?;
        let mut certs = parse_certs(&bytes).map_err(|reason| KeyError::Corrupt { path: path.clone(), reason })?;
        if certs.len() != 1 {
            return Err(KeyError::Several { path, count: certs.len() });
        }
        Ok(certs.remove(0))
    }

    pub fn save_revocation(&self, cert: &Cert, rev: &Signature) -> Result<(), KeyError> {
        let mut bytes = Vec::new();
        let header = format!(
            "This is a revocation certificate for the OpenPGP key {}.\n\
             Importing it anywhere revokes the key: keep it offline and safe.\n\n",
            fpr_hex(&cert.fingerprint())
        );
        bytes.extend_from_slice(header.as_bytes());
        let mut w = pgp::armor::Writer::new(&mut bytes, pgp::armor::Kind::PublicKey)
            .map_err(|e| KeyError::Pgp(e.to_string()))?;
        // A revocation certificate is the primary key with its revocation signature.
        Packet::from(cert.primary_key().key().clone()).serialize(&mut w).map_err(pgp_err)?;
        Packet::from(rev.clone()).serialize(&mut w).map_err(pgp_err)?;
        w.finalize().map_err(|e| KeyError::Pgp(e.to_string()))?;
        write_private(&self.revocation_path(), &bytes)
    }

    /// Keep an old key for decrypting old reports.
    pub fn retire(&self, cert: &Cert) -> Result<PathBuf, KeyError> {
        let path = self.retired_dir().join(format!("{}.asc", fpr_hex(&cert.fingerprint())));
        let bytes = cert.as_tsk().armored().to_vec().map_err(pgp_err)?;
        write_private(&path, &bytes)?;
        let rev = self.revocation_path();
        if rev.exists() {
            let to = self.retired_dir().join(format!("{}.rev", fpr_hex(&cert.fingerprint())));
            fs::rename(&rev, &to).map_err(|source| KeyError::Write { path: to, source })?;
        }
        Ok(path)
    }

    /// Retired keys, oldest file name order (fingerprints), for decryption.
    pub fn retired(&self) -> Result<Vec<Cert>, KeyError> {
        let dir = self.retired_dir();
        let mut out = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(source) => return Err(KeyError::Read { path: dir, source }),
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "asc"))
            .collect();
        paths.sort();
        for p in paths {
            out.push(read_tsk(&p)?);
        }
        Ok(out)
    }
}

/// Read a file holding exactly one secret key.
pub fn read_tsk(path: &Path) -> Result<Cert, KeyError> {
    let bytes = fs::read(path).map_err(|source| KeyError::Read { path: path.to_path_buf(), source })?;
    let certs = parse_certs(&bytes).map_err(|reason| KeyError::Corrupt { path: path.to_path_buf(), reason })?;
    let count = certs.len();
    let mut it = certs.into_iter();
    let cert = match (it.next(), count) {
        (Some(c), 1) => c,
        (None, _) => {
            return Err(KeyError::Corrupt { path: path.to_path_buf(), reason: "no key found".into() });
        }
        _ => {
            return Err(KeyError::Several { path: path.to_path_buf(), count });
        }
    };
    if !cert.is_tsk() {
        return Err(KeyError::PublicOnly(path.to_path_buf()));
    }
    Ok(cert)
}

/// Parse one or more certificates, armored or binary; a parse failure anywhere is an error.
pub fn parse_certs(bytes: &[u8]) -> Result<Vec<Cert>, String> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("the file is empty".into());
    }
    let out = super::guard(|| -> Result<Vec<Cert>, String> {
        let parser = CertParser::from_bytes(bytes).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for c in parser {
            out.push(c.map_err(|e| e.to_string())?);
        }
        Ok(out)
    })??;
    if out.is_empty() {
        return Err("no key found".into());
    }
    Ok(out)
}

/// Write a file only its owner can read, atomically, in a 0700 directory.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let err = |source| KeyError::Write { path: path.to_path_buf(), source };
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(err)?;
    let mut tmp =
        tempfile::Builder::new().prefix(".tmp-").permissions(private_mode(0o600)).tempfile_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Create a directory (and parents) that only its owner may enter.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, private_mode(0o700))
}

#[cfg(unix)]
fn private_mode(mode: u32) -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    fs::Permissions::from_mode(mode)
}

/// Whether any secret key material in the key is passphrase-encrypted.
pub fn is_protected(cert: &Cert) -> bool {
    cert.keys().secret().any(|ka| !ka.key().has_unencrypted_secret())
}

/// Decrypt every secret key in `cert` with `password` (no-op for unprotected keys).
pub fn unlock(cert: &Cert, password: Option<&Password>) -> Result<Cert, KeyError> {
    if !is_protected(cert) {
        return Ok(cert.clone());
    }
    let password = password.ok_or(KeyError::NeedPassphrase)?;
    let mut unlocked: Vec<Packet> = Vec::new();
    for ka in cert.keys().secret() {
        if ka.key().has_unencrypted_secret() {
            continue;
        }
        let key = ka.key().clone().decrypt_secret(password).map_err(|_| KeyError::WrongPassphrase)?;
        unlocked.push(if ka.primary() {
            Packet::from(key.role_into_primary())
        } else {
            Packet::from(key.role_into_subordinate())
        });
    }
    cert.clone().insert_packets(unlocked).map(|(c, _)| c).map_err(pgp_err)
}

/// Encrypt every secret key in an unlocked `cert` with `password`.
pub fn protect(cert: &Cert, password: &Password) -> Result<Cert, KeyError> {
    let mut locked: Vec<Packet> = Vec::new();
    for ka in cert.keys().unencrypted_secret() {
        let key = ka.key().clone().encrypt_secret(password).map_err(pgp_err)?;
        locked.push(if ka.primary() {
            Packet::from(key.role_into_primary())
        } else {
            Packet::from(key.role_into_subordinate())
        });
    }
    cert.clone().insert_packets(locked).map(|(c, _)| c).map_err(pgp_err)
}

fn primary_keypair(cert: &Cert) -> Result<KeyPair, KeyError> {
    cert.primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .and_then(|k| k.into_keypair())
        .map_err(|_| KeyError::NoUsableKey("unlocked primary key"))
}

/// The keypair that makes data signatures (security.txt, replies).
pub fn signing_keypair(cert: &Cert, now: SystemTime) -> Result<KeyPair, KeyError> {
    let p = policy();
    let vc = cert.with_policy(&p, now).map_err(pgp_err)?;
    vc.keys()
        .unencrypted_secret()
        .alive()
        .revoked(false)
        .for_signing()
        .next()
        .ok_or(KeyError::NoUsableKey("unlocked signing key"))?
        .key()
        .clone()
        .into_keypair()
        .map_err(pgp_err)
}

/// The newest self-signature on the certificate.
fn newest_self_signature(cert: &Cert) -> Option<SystemTime> {
    let pk = cert.primary_key();
    let mut times: Vec<SystemTime> = pk.self_signatures().filter_map(|s| s.signature_creation_time()).collect();
    for u in cert.userids() {
        times.extend(u.self_signatures().filter_map(|s| s.signature_creation_time()));
    }
    for k in cert.keys().subkeys() {
        times.extend(k.self_signatures().filter_map(|s| s.signature_creation_time()));
    }
    times.into_iter().max()
}

/// sequoia stamps new self-signatures with the wall clock, in whole seconds; a
/// signature made in the same second as the one it replaces may lose to it. Wait
/// (at most a second or two) until the wall clock is past the newest one.
fn wait_past_newest_signature(cert: &Cert) -> Result<(), KeyError> {
    let Some(newest) = newest_self_signature(cert) else {
        return Ok(());
    };
    let deadline = SystemTime::now() + Duration::from_secs(3);
    loop {
        let now = SystemTime::now();
        match now.duration_since(newest) {
            Ok(d) if d >= Duration::from_secs(1) => return Ok(()),
            _ if now > deadline => {
                return Err(KeyError::Pgp(
                    "the key's newest self-signature is dated in the future; check the system clock".into(),
                ));
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Renew primary and subkey expiry to `expiry`. `cert` must be unlocked.
pub fn extend(cert: &Cert, expiry: SystemTime, now: SystemTime) -> Result<Cert, KeyError> {
    wait_past_newest_signature(cert)?;
    let p = policy();
    let vc = cert.with_policy(&p, now).map_err(pgp_err)?;
    let mut primary = primary_keypair(cert)?;
    let mut sigs: Vec<Packet> = Vec::new();
    for s in vc.primary_key().set_expiration_time(&mut primary, Some(expiry)).map_err(pgp_err)? {
        sigs.push(s.into());
    }
    for ka in vc.keys().subkeys().revoked(false) {
        let new = if ka.for_signing() {
            let mut sub = ka
                .key()
                .clone()
                .parts_into_secret()
                .and_then(|k| k.into_keypair())
                .map_err(|_| KeyError::NoUsableKey("unlocked signing subkey"))?;
            ka.set_expiration_time(&mut primary, Some(&mut sub), Some(expiry))
        } else {
            ka.set_expiration_time(&mut primary, None, Some(expiry))
        }
        .map_err(pgp_err)?;
        sigs.extend(new.into_iter().map(Packet::from));
    }
    cert.clone().insert_packets(sigs).map(|(c, _)| c).map_err(pgp_err)
}

/// `certifier` (unlocked) certifies each of `target`'s user IDs: the old team key
/// vouching for the new one on rotation.
pub fn cross_certify(certifier: &Cert, target: Cert, now: SystemTime) -> Result<Cert, KeyError> {
    let mut signer = primary_keypair(certifier)?;
    let mut sigs: Vec<Packet> = Vec::new();
    for ua in target.userids() {
        let sig = SignatureBuilder::new(SignatureType::GenericCertification)
            .set_signature_creation_time(now)
            .map_err(pgp_err)?
            .sign_userid_binding(&mut signer, target.primary_key().key(), ua.userid())
            .map_err(pgp_err)?;
        sigs.push(sig.into());
    }
    target.insert_packets(sigs).map(|(c, _)| c).map_err(pgp_err)
}

/// The public certificate as published: no secret parts, only user IDs carrying one
/// of `addresses`, no user attributes, and no third-party certifications except
/// those made by `own` keys (the team's retired keys vouching for the current one).
pub fn minimise(cert: &Cert, addresses: &[String], own: &[Fingerprint]) -> Result<Cert, KeyError> {
    let public = cert.clone().strip_secret_key_material();
    let wanted: Vec<String> = addresses.iter().map(|a| a.to_ascii_lowercase()).collect();
    let own: Vec<KeyHandle> = own.iter().map(|f| KeyHandle::from(f.clone())).collect();
    let by_own = |s: &Signature| s.get_issuers().iter().any(|i| own.iter().any(|o| o.aliases(i)));

    let mut packets: Vec<Packet> = Vec::new();
    let pk = public.primary_key();
    packets.push(pk.key().clone().into());
    packets.extend(pk.self_signatures().cloned().map(Packet::from));
    packets.extend(pk.self_revocations().cloned().map(Packet::from));
    for ua in public.userids() {
        let keep = uid_email(ua.userid()).is_some_and(|e| wanted.contains(&e));
        if !keep {
            continue;
        }
        packets.push(ua.userid().clone().into());
        packets.extend(ua.self_signatures().cloned().map(Packet::from));
        packets.extend(ua.self_revocations().cloned().map(Packet::from));
        packets.extend(ua.certifications().filter(|s| by_own(s)).cloned().map(Packet::from));
    }
    for ka in public.keys().subkeys() {
        packets.push(ka.key().clone().into());
        packets.extend(ka.self_signatures().cloned().map(Packet::from));
        packets.extend(ka.self_revocations().cloned().map(Packet::from));
    }
    Cert::from_packets(packets.into_iter()).map_err(pgp_err)
}

/// Armored public certificate bytes.
pub fn armored(cert: &Cert) -> Result<Vec<u8>, KeyError> {
    cert.armored().to_vec().map_err(pgp_err)
}

/// Binary public certificate bytes (WKD).
pub fn binary(cert: &Cert) -> Result<Vec<u8>, KeyError> {
    cert.to_vec().map_err(pgp_err)
}

#[derive(Debug, SerdeSerialize)]
pub struct KeyInfo {
    pub fingerprint: String,
    pub algorithm: String,
    pub created: String,
    pub expires: Option<String>,
    pub status: String,
    pub protected: bool,
    pub has_secret: bool,
    pub user_ids: Vec<String>,
    pub subkeys: Vec<SubkeyInfo>,
}

#[derive(Debug, SerdeSerialize)]
pub struct SubkeyInfo {
    pub fingerprint: String,
    pub algorithm: String,
    pub usage: Vec<&'static str>,
    pub created: String,
    pub expires: Option<String>,
    pub status: String,
}

fn ts(t: SystemTime) -> String {
    jiff::Timestamp::try_from(t).map(|t| t.to_string()).unwrap_or_else(|_| "?".into())
}

fn algorithm<P: pgp::packet::key::KeyParts, R: pgp::packet::key::KeyRole>(key: &pgp::packet::Key<P, R>) -> String {
    use pgp::crypto::mpi::PublicKey as M;
    let curve = match key.mpis() {
        M::EdDSA { curve, .. } | M::ECDH { curve, .. } | M::ECDSA { curve, .. } => Some(curve.to_string()),
        _ => None,
    };
    match (curve, key.mpis().bits()) {
        (Some(c), _) => format!("{} ({c})", key.pk_algo()),
        (None, Some(bits)) => format!("{} {bits}", key.pk_algo()),
        (None, None) => key.pk_algo().to_string(),
    }
}

fn usage(flags: Option<KeyFlags>) -> Vec<&'static str> {
    let mut out = Vec::new();
    if let Some(f) = flags {
        if f.for_certification() {
            out.push("certify");
        }
        if f.for_signing() {
            out.push("sign");
        }
        if f.for_transport_encryption() || f.for_storage_encryption() {
            out.push("encrypt");
        }
        if f.for_authentication() {
            out.push("authenticate");
        }
    }
    out
}

/// Describe a key as of `now`.
pub fn describe(cert: &Cert, now: SystemTime) -> KeyInfo {
    let p = policy();
    let vc = cert.with_policy(&p, now);
    let status = |alive: Result<(), String>, revoked: bool| -> String {
        if revoked {
            "revoked".into()
        } else {
            match alive {
                Ok(()) => "valid".into(),
                Err(e) => e,
            }
        }
    };
    let (expires, primary_status) = match &vc {
        Ok(vc) => (
            vc.primary_key().key_expiration_time().map(ts),
            status(
                vc.primary_key().alive().map_err(|_| "expired".to_string()),
                matches!(vc.revocation_status(), RevocationStatus::Revoked(_)),
            ),
        ),
        Err(e) => (None, format!("invalid: {e}")),
    };
    let mut subkeys = Vec::new();
    for ka in cert.keys().subkeys() {
        let (exp, flags, st) = match &vc {
            Ok(vc) => match vc.keys().subkeys().key_handle(ka.key().fingerprint()).next() {
                Some(vka) => (
                    vka.key_expiration_time().map(ts),
                    vka.key_flags(),
                    status(
                        vka.alive().map_err(|_| "expired".to_string()),
                        matches!(vka.revocation_status(), RevocationStatus::Revoked(_)),
                    ),
                ),
                None => (None, None, "invalid".into()),
            },
            Err(_) => (None, None, "invalid".into()),
        };
        subkeys.push(SubkeyInfo {
            fingerprint: fpr_hex(&ka.key().fingerprint()),
            algorithm: algorithm(ka.key()),
            usage: usage(flags),
            created: ts(ka.key().creation_time()),
            expires: exp,
            status: st,
        });
    }
    KeyInfo {
        fingerprint: fpr_hex(&cert.fingerprint()),
        algorithm: algorithm(cert.primary_key().key()),
        created: ts(cert.primary_key().key().creation_time()),
        expires,
        status: primary_status,
        protected: is_protected(cert),
        has_secret: cert.is_tsk(),
        user_ids: cert.userids().map(|u| String::from_utf8_lossy(u.userid().value()).into_owned()).collect(),
        subkeys,
    }
}

/// When the certificate stops being usable for encryption to it: the earlier of the
/// primary key's expiry and the last alive encryption subkey's.
pub fn encryption_expiry(cert: &Cert, now: SystemTime) -> Result<Option<SystemTime>, KeyError> {
    let p = policy();
    let vc = cert.with_policy(&p, now).map_err(pgp_err)?;
    let primary = vc.primary_key().key_expiration_time();
    let sub = vc.keys().subkeys().revoked(false).for_transport_encryption().map(|ka| ka.key_expiration_time()).max_by(
        |a, b| match (a, b) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, _) => std::cmp::Ordering::Greater,
            (_, None) => std::cmp::Ordering::Less,
            (Some(a), Some(b)) => a.cmp(b),
        },
    );
    let sub = match sub {
        Some(s) => s,
        None => return Err(KeyError::NoUsableKey("encryption subkey")),
    };
    Ok(match (primary, sub) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}
