//! The store's encryption key: 32 random bytes, kept on disk only encrypted to the
//! team's OpenPGP key (`store.key.pgp`), so unlocking the team key unlocks the store.
//!
//! The unwrapped key may be cached in the kernel's user keyring for a limited time
//! (as gpg-agent caches passphrases), so reading commands need not ask again;
//! `vulnmail lock` forgets it. Where the kernel keyring is not available the cache
//! is skipped quietly and the key is unwrapped on each run.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rand::RngCore;
use sequoia_openpgp::Cert;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::openpgp::decrypt::{self, Limits};

#[derive(Debug, thiserror::Error)]
pub enum StoreKeyError {
    #[error("cannot write the store key {}: {source}", .path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read the store key {}: {source}", .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot encrypt the store key to the team key: {0}")]
    Wrap(String),
    #[error("cannot decrypt the store key {} with the team key ({reason}); was the key replaced without `vulnmail key rotate`?", .path.display())]
    Unwrap { path: PathBuf, reason: String },
}

/// The raw SQLCipher key; zeroed when dropped.
pub struct StoreKey(pub Zeroizing<[u8; 32]>);

pub fn key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("store.key.pgp")
}

/// Make a new random store key and write it encrypted to `recipients`.
pub fn create(data_dir: &Path, recipients: &[Cert], now: SystemTime) -> Result<StoreKey, StoreKeyError> {
    let mut k = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(k.as_mut());
    let key = StoreKey(k);
    wrap(data_dir, &key, recipients, now)?;
    Ok(key)
}

/// (Re)write `store.key.pgp`, e.g. after `key rotate`.
pub fn wrap(data_dir: &Path, key: &StoreKey, recipients: &[Cert], now: SystemTime) -> Result<(), StoreKeyError> {
    let path = key_file(data_dir);
    let public: Vec<Cert> = recipients.iter().map(|c| c.clone().strip_secret_key_material()).collect();
    let msg = decrypt::encrypt_to(&public, key.0.as_ref(), now).map_err(|e| StoreKeyError::Wrap(e.to_string()))?;
    crate::openpgp::keys::write_private(&path, &msg)
        .map_err(|e| StoreKeyError::Write { path: path.clone(), source: std::io::Error::other(e.to_string()) })
}

/// Decrypt `store.key.pgp` with any of the unlocked team keys (current and retired).
pub fn unwrap(data_dir: &Path, keys: &[Cert], now: SystemTime) -> Result<StoreKey, StoreKeyError> {
    let path = key_file(data_dir);
    let msg = std::fs::read(&path).map_err(|source| StoreKeyError::Read { path: path.clone(), source })?;
    let out = decrypt::decrypt(keys, &[], &msg, Limits { max_plaintext: 1024 }, now)
        .map_err(|e| StoreKeyError::Unwrap { path: path.clone(), reason: e.to_string() })?;
    let plain = Zeroizing::new(out.plaintext);
    if plain.len() != 32 {
        return Err(StoreKeyError::Unwrap { path, reason: "it is not a 32-byte key".into() });
    }
    let mut k = Zeroizing::new([0u8; 32]);
    k.copy_from_slice(&plain);
    Ok(StoreKey(k))
}

/// The kernel keyring description of something cached for this data directory.
fn description(data_dir: &Path, what: &str) -> String {
    let canon = data_dir.canonicalize().unwrap_or_else(|_| data_dir.to_path_buf());
    let h = Sha256::digest(canon.as_os_str().as_encoded_bytes());
    format!("vulnmail:{what}:{}", super::hex(&h[..12]))
}

/// Bytes cached in the kernel's user keyring under `what`, if any.
pub fn cache_get(data_dir: &Path, what: &str) -> Option<Zeroizing<Vec<u8>>> {
    use linux_keyutils::{KeyRing, KeyRingIdentifier};
    let ring = KeyRing::from_special_id(KeyRingIdentifier::User, false).ok()?;
    let key = ring.search(&description(data_dir, what)).ok()?;
    key.read_to_vec().ok().map(Zeroizing::new)
}

/// Cache `bytes` for `seconds`, readable only by this user; false when the kernel
/// keyring refused (some containers forbid it).
pub fn cache_put(data_dir: &Path, what: &str, bytes: &[u8], seconds: u32) -> bool {
    use linux_keyutils::{KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};
    if seconds == 0 {
        return false;
    }
    let Ok(ring) = KeyRing::from_special_id(KeyRingIdentifier::User, false) else { return false };
    let Ok(k) = ring.add_key(&description(data_dir, what), bytes) else { return false };
    let perms = KeyPermissionsBuilder::builder()
        .posessor(Permission::ALL)
        .user(Permission::VIEW | Permission::READ | Permission::SEARCH | Permission::WRITE | Permission::SETATTR)
        .build();
    let _ = k.set_perms(perms);
    k.set_timeout(seconds as usize).is_ok()
}

/// Forget what is cached under `what`. True when something was there.
pub fn cache_forget(data_dir: &Path, what: &str) -> bool {
    use linux_keyutils::{KeyRing, KeyRingIdentifier};
    let Ok(ring) = KeyRing::from_special_id(KeyRingIdentifier::User, false) else { return false };
    match ring.search(&description(data_dir, what)) {
        Ok(k) => k.invalidate().is_ok(),
        Err(_) => false,
    }
}

/// The cached store key, when the kernel keyring has one for this store.
pub fn cached(data_dir: &Path) -> Option<StoreKey> {
    let bytes = cache_get(data_dir, "store")?;
    if bytes.len() != 32 {
        return None;
    }
    let mut k = Zeroizing::new([0u8; 32]);
    k.copy_from_slice(&bytes);
    Some(StoreKey(k))
}

/// Cache the store key for `seconds`.
pub fn cache(data_dir: &Path, key: &StoreKey, seconds: u32) -> bool {
    cache_put(data_dir, "store", key.0.as_ref(), seconds)
}

/// Forget the cached store key and unlocked team keys. True when anything was there.
pub fn forget(data_dir: &Path) -> bool {
    let a = cache_forget(data_dir, "store");
    let b = cache_forget(data_dir, "team");
    a || b
}
