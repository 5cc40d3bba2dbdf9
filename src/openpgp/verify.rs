//! Checking signatures that are not inside an encrypted message: detached
//! (multipart/signed) and inline (cleartext or signed-only OpenPGP messages).

use std::time::SystemTime;

use pgp::Cert;
use pgp::parse::Parse;
use pgp::parse::stream::{DetachedVerifierBuilder, VerifierBuilder};
use sequoia_openpgp as pgp;

use super::decrypt::{Checker, DecryptError, SignatureCheck, chain, read_capped};
use super::policy;

/// Verify a detached signature over `data`.
pub fn detached(data: &[u8], signature: &[u8], certs: &[Cert], now: SystemTime) -> Result<Vec<SignatureCheck>, String> {
    super::guard(|| detached_unguarded(data, signature, certs, now)).and_then(|r| r)
}

fn detached_unguarded(
    data: &[u8],
    signature: &[u8],
    certs: &[Cert],
    now: SystemTime,
) -> Result<Vec<SignatureCheck>, String> {
    let p = policy();
    let checker = Checker { verify_with: certs, now, signatures: Vec::new() };
    let mut v = DetachedVerifierBuilder::from_bytes(signature)
        .and_then(|b| b.with_policy(&p, now, checker))
        .map_err(|e| chain(&e))?;
    v.verify_bytes(data).map_err(|e| chain(&e))?;
    Ok(v.into_helper().signatures)
}

/// Verify an inline-signed message (a cleartext signature or a signed OpenPGP
/// message) and return the signed text with the results.
pub fn inline(
    message: &[u8],
    certs: &[Cert],
    now: SystemTime,
    max: usize,
) -> Result<(Vec<u8>, Vec<SignatureCheck>), DecryptError> {
    let p = policy();
    let checker = Checker { verify_with: certs, now, signatures: Vec::new() };
    let mut v = VerifierBuilder::from_bytes(message)
        .and_then(|b| b.with_policy(&p, now, checker))
        .map_err(|e| DecryptError::Integrity(chain(&e)))?;
    let text = read_capped(&mut v, max)?;
    Ok((text, v.into_helper().signatures))
}
