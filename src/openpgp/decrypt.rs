//! Decrypting and verifying one OpenPGP message with the team's keys.
//!
//! Two promises sequoia does not make for us, kept here:
//! - decompressed output is capped ([`Limits::max_plaintext`]): a compression bomb
//!   stops with [`DecryptError::TooLarge`] after at most that many bytes;
//! - no plaintext leaves this module before the whole message, integrity check
//!   included, has been processed: sequoia streams out plaintext of large messages
//!   before the MDC is checked, so everything is buffered and released only at the end.

use std::io::{Read, Write};
use std::time::SystemTime;

use pgp::crypto::SessionKey;
use pgp::packet::{PKESK, SKESK};
use pgp::parse::Parse;
use pgp::parse::stream::{DecryptionHelper, DecryptorBuilder, MessageLayer, MessageStructure, VerificationHelper};
use pgp::serialize::stream::{Encryptor, LiteralWriter, Message};
use pgp::types::SymmetricAlgorithm;
use pgp::{Cert, KeyHandle};
use sequoia_openpgp as pgp;

use super::{fpr_hex, policy, uid_email};

/// Bounds on what one message may make us do.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Plaintext bytes after decryption and decompression.
    pub max_plaintext: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_plaintext: 64 * 1024 * 1024 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecryptError {
    #[error("not encrypted to any team key; it is for {}", if .0.is_empty() { "an unnamed recipient".to_string() } else { .0.join(", ") })]
    NoMatchingKey(Vec<String>),
    #[error("the plaintext exceeds the limit of {0} bytes (a compression bomb?); raise the limit to read it")]
    TooLarge(usize),
    #[error("the message failed its integrity check or is malformed: {0}")]
    Integrity(String),
}

/// A signature on the message, as checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignatureCheck {
    /// good | bad | unknown-key
    pub status: &'static str,
    /// Upper-case hex fingerprint of the signing key's certificate, or the issuer.
    pub signer: Option<String>,
    /// Lower-cased email addresses of the signer's valid user IDs.
    pub signer_addresses: Vec<String>,
}

#[derive(Debug)]
pub struct Decrypted {
    pub plaintext: Vec<u8>,
    /// The team key (certificate fingerprint) that decrypted it.
    pub decrypted_with: Option<String>,
    pub signatures: Vec<SignatureCheck>,
}

struct Helper<'a> {
    keys: &'a [Cert],
    checker: Checker<'a>,
    now: SystemTime,
    recipients: Vec<String>,
    used: Option<String>,
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, ids: &[KeyHandle]) -> pgp::Result<Vec<Cert>> {
        self.checker.get_certs(ids)
    }

    fn check(&mut self, structure: MessageStructure) -> pgp::Result<()> {
        self.checker.check(structure)
    }
}

/// Collects signature results against a set of known certificates; never fails a
/// message for its signatures (the caller decides what they mean).
pub(crate) struct Checker<'a> {
    pub verify_with: &'a [Cert],
    pub now: SystemTime,
    pub signatures: Vec<SignatureCheck>,
}

impl VerificationHelper for Checker<'_> {
    fn get_certs(&mut self, ids: &[KeyHandle]) -> pgp::Result<Vec<Cert>> {
        Ok(self
            .verify_with
            .iter()
            .filter(|c| c.keys().any(|k| ids.iter().any(|id| id.aliases(k.key().key_handle()))))
            .cloned()
            .collect())
    }

    fn check(&mut self, structure: MessageStructure) -> pgp::Result<()> {
        let p = policy();
        for layer in structure {
            if let MessageLayer::SignatureGroup { results } = layer {
                for r in results {
                    let check = match r {
                        Ok(good) => SignatureCheck {
                            status: "good",
                            signer: Some(fpr_hex(&good.ka.cert().fingerprint())),
                            signer_addresses: addresses(good.ka.cert(), self.now, &p),
                        },
                        Err(e) => {
                            use pgp::parse::stream::VerificationError as V;
                            let (status, signer) = match &e {
                                V::MissingKey { sig } => ("unknown-key", sig.get_issuers().first().map(|h| h.to_hex())),
                                V::BadKey { ka, .. } | V::BadSignature { ka, .. } => {
                                    ("bad", Some(fpr_hex(&ka.cert().fingerprint())))
                                }
                                _ => ("bad", None),
                            };
                            SignatureCheck { status, signer, signer_addresses: Vec::new() }
                        }
                    };
                    self.signatures.push(check);
                }
            }
        }
        Ok(())
    }
}

fn addresses(cert: &Cert, now: SystemTime, p: &dyn pgp::policy::Policy) -> Vec<String> {
    match cert.with_policy(p, now) {
        Ok(vc) => vc.userids().filter_map(|u| uid_email(u.userid())).collect(),
        Err(_) => Vec::new(),
    }
}

impl DecryptionHelper for Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> pgp::Result<Option<Cert>> {
        let p = policy();
        for pkesk in pkesks {
            let rcpt = pkesk.recipient();
            self.recipients.push(rcpt.as_ref().map(|r| r.to_hex()).unwrap_or_else(|| "anonymous".into()));
            for cert in self.keys {
                // Old encryption subkeys stay usable for decryption: no alive() filter.
                let Ok(vc) = cert.with_policy(&p, self.now) else {
                    continue;
                };
                for ka in vc.keys().unencrypted_secret().for_transport_encryption().for_storage_encryption() {
                    let matches = match &rcpt {
                        Some(r) => r.aliases(ka.key().key_handle()),
                        None => true,
                    };
                    if !matches {
                        continue;
                    }
                    let Ok(mut pair) = ka.key().clone().into_keypair() else {
                        continue;
                    };
                    if let Some((algo, sk)) = pkesk.decrypt(&mut pair, sym_algo)
                        && decrypt(algo, &sk)
                    {
                        self.used = Some(fpr_hex(&cert.fingerprint()));
                        return Ok(Some(cert.clone()));
                    }
                }
            }
        }
        Err(anyhow::anyhow!("no team key matches"))
    }
}

/// Decrypt `message` with any of the unlocked team keys in `keys`, checking
/// signatures against `verify_with`.
pub fn decrypt(
    keys: &[Cert],
    verify_with: &[Cert],
    message: &[u8],
    limits: Limits,
    now: SystemTime,
) -> Result<Decrypted, DecryptError> {
    super::guard(|| decrypt_unguarded(keys, verify_with, message, limits, now))
        .unwrap_or_else(|e| Err(DecryptError::Integrity(e)))
}

fn decrypt_unguarded(
    keys: &[Cert],
    verify_with: &[Cert],
    message: &[u8],
    limits: Limits,
    now: SystemTime,
) -> Result<Decrypted, DecryptError> {
    let p = policy();
    let checker = Checker { verify_with, now, signatures: Vec::new() };
    let helper = Helper { keys, checker, now, recipients: Vec::new(), used: None };
    let mut recipients_seen = Vec::new();
    // We hold back all plaintext until the end ourselves (read_capped), so sequoia
    // need not keep its own 25 MiB look-ahead copy.
    let decryptor = DecryptorBuilder::from_bytes(message)
        .map_err(|e| DecryptError::Integrity(e.to_string()))?
        .buffer_size(64 * 1024)
        .with_policy(&p, now, helper);
    let mut decryptor = match decryptor {
        Ok(d) => d,
        Err(e) => {
            // The helper is gone with the failed builder; recover the recipients by parsing.
            recipients_seen.extend(pkesk_recipients(message));
            if e.to_string().contains("no team key matches") {
                return Err(DecryptError::NoMatchingKey(recipients_seen));
            }
            return Err(DecryptError::Integrity(chain(&e)));
        }
    };
    let plaintext = read_capped_hint(&mut decryptor, limits.max_plaintext, message.len())?;
    if !decryptor.message_processed() {
        return Err(DecryptError::Integrity("the message did not end where it should".into()));
    }
    let helper = decryptor.into_helper();
    Ok(Decrypted { plaintext, decrypted_with: helper.used, signatures: helper.checker.signatures })
}

/// Read everything, stopping with [`DecryptError::TooLarge`] past `max` bytes.
pub(crate) fn read_capped(r: &mut dyn Read, max: usize) -> Result<Vec<u8>, DecryptError> {
    read_capped_hint(r, max, 0)
}

/// [`read_capped`], reserving `hint` bytes first (the ciphertext's size is a good
/// guess for uncompressed plaintext, and saves the growth copies of a large one).
pub(crate) fn read_capped_hint(r: &mut dyn Read, max: usize, hint: usize) -> Result<Vec<u8>, DecryptError> {
    let mut out = Vec::with_capacity(hint.min(max));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf).map_err(|e| DecryptError::Integrity(e.to_string()))?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > max {
            return Err(DecryptError::TooLarge(max));
        }
        out.extend_from_slice(&buf[..n]);
    }
}

pub(crate) fn chain(e: &anyhow::Error) -> String {
    e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ")
}

/// The recipient key IDs named by a message's PKESK packets.
pub fn pkesk_recipients(message: &[u8]) -> Vec<String> {
    use pgp::parse::{PacketParser, PacketParserResult};
    let mut out = Vec::new();
    let Ok(mut ppr) = PacketParser::from_bytes(message) else {
        return out;
    };
    while let PacketParserResult::Some(pp) = ppr {
        if let pgp::Packet::PKESK(p) = &pp.packet {
            out.push(p.recipient().map(|r| r.to_hex()).unwrap_or_else(|| "anonymous".into()));
        }
        if matches!(pp.packet, pgp::Packet::SEIP(_) | pgp::Packet::Literal(_) | pgp::Packet::CompressedData(_)) {
            break;
        }
        match pp.next() {
            Ok((_, next)) => ppr = next,
            Err(_) => break,
        }
    }
    out
}

/// Encrypt `data` to every alive encryption subkey of `recipients` (binary output).
pub fn encrypt_to(recipients: &[Cert], data: &[u8], now: SystemTime) -> anyhow::Result<Vec<u8>> {
    let p = policy();
    let mut keys = Vec::new();
    for c in recipients {
        let vc = c.with_policy(&p, now)?;
        keys.extend(vc.keys().supported().alive().revoked(false).for_transport_encryption());
    }
    if keys.is_empty() {
        anyhow::bail!("no recipient has an encryption key that is valid now");
    }
    let mut sink = Vec::new();
    let message = Message::new(&mut sink);
    let message = Encryptor::for_recipients(message, keys).build()?;
    let mut w = LiteralWriter::new(message).build()?;
    w.write_all(data)?;
    w.finalize()?;
    Ok(sink)
}
