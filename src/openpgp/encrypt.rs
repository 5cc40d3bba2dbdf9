//! Encrypting replies: sign with the team's key, then encrypt to the reporter and
//! the team, as one ASCII-armored OpenPGP message.
//!
//! Compatibility choice: recipients with v4 keys get SEIPDv1 (with MDC), even when
//! their certificate advertises SEIPDv2. Certificates made by sequoia 2 advertise
//! SEIPDv2, but the reporter may read the reply with GnuPG (2.2 and 2.4 cannot read
//! RFC 9580 SEIPDv2), and the team's own key is such a certificate. v6 keys require
//! SEIPDv2 and keep sequoia's choice.

use std::io::Write;
use std::time::SystemTime;

use pgp::Cert;
use pgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Recipient, Signer};
use pgp::types::Features;
use sequoia_openpgp as pgp;

use super::keys::{KeyError, signing_keypair};
use super::{fpr_hex, policy};

#[derive(Debug, thiserror::Error)]
pub enum EncryptError {
    #[error("certificate {0} has no encryption key that is valid now; the reply cannot be encrypted to it")]
    NoEncryptionKey(String),
    #[error("no recipients")]
    NoRecipients,
    #[error("cannot sign the reply: {0}")]
    Signing(#[from] KeyError),
    #[error("OpenPGP: {0}")]
    Pgp(String),
}

/// Sign `plaintext` with `signer` (an unlocked team key) and encrypt the result to
/// every alive encryption key of each recipient; ASCII-armored.
pub fn sign_and_encrypt(
    signer: &Cert,
    recipients: &[Cert],
    plaintext: &[u8],
    now: SystemTime,
) -> Result<Vec<u8>, EncryptError> {
    if recipients.is_empty() {
        return Err(EncryptError::NoRecipients);
    }
    super::guard(|| inner(signer, recipients, plaintext, now)).map_err(EncryptError::Pgp)?
}

fn inner(signer: &Cert, recipients: &[Cert], plaintext: &[u8], now: SystemTime) -> Result<Vec<u8>, EncryptError> {
    let keypair = signing_keypair(signer, now)?;
    let p = policy();
    let pgp_err = |e: anyhow::Error| EncryptError::Pgp(e.to_string());
    let mut keys: Vec<Recipient<'_>> = Vec::new();
    for c in recipients {
        let vc = c.with_policy(&p, now).map_err(|_| EncryptError::NoEncryptionKey(fpr_hex(&c.fingerprint())))?;
        let before = keys.len();
        for ka in vc.keys().supported().alive().revoked(false).for_transport_encryption() {
            if ka.key().version() == 4 {
                keys.push(Recipient::new(
                    Features::empty().set_seipdv1(),
                    pgp::KeyHandle::from(ka.key().keyid()),
                    ka.key(),
                ));
            } else {
                keys.push(ka.into());
            }
        }
        if keys.len() == before {
            return Err(EncryptError::NoEncryptionKey(fpr_hex(&c.fingerprint())));
        }
    }
    let mut sink = Vec::new();
    let message = Message::new(&mut sink);
    let message = Armorer::new(message).build().map_err(pgp_err)?;
    let message = Encryptor::for_recipients(message, keys).build().map_err(pgp_err)?;
    let message = Signer::new(message, keypair).map_err(pgp_err)?.creation_time(now).build().map_err(pgp_err)?;
    let mut w = LiteralWriter::new(message).date(now).map_err(pgp_err)?.build().map_err(pgp_err)?;
    w.write_all(plaintext).map_err(|e| EncryptError::Pgp(e.to_string()))?;
    w.finalize().map_err(pgp_err)?;
    Ok(sink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openpgp::decrypt;
    use crate::openpgp::keys::parse_certs;

    fn fixture(name: &str) -> Cert {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys").join(name);
        parse_certs(&std::fs::read(path).unwrap()).unwrap().remove(0)
    }

    #[test]
    fn the_reporter_and_the_team_decrypt_and_the_signature_is_the_teams() {
        let team = fixture("team.sec.asc");
        let ada = fixture("ada.sec.asc");
        let now = SystemTime::now();
        let out = sign_and_encrypt(&team, &[ada.clone(), team.clone()], b"hello ada", now).unwrap();
        assert!(out.starts_with(b"-----BEGIN PGP MESSAGE-----"));
        for key in [&ada, &team] {
            let d = decrypt::decrypt(
                std::slice::from_ref(key),
                std::slice::from_ref(&team),
                &out,
                decrypt::Limits::default(),
                now,
            )
            .unwrap();
            assert_eq!(d.plaintext, b"hello ada");
            assert_eq!(d.signatures.len(), 1, "{:?}", d.signatures);
            assert_eq!(d.signatures[0].status, "good");
            assert_eq!(d.signatures[0].signer.as_deref(), Some(fpr_hex(&team.fingerprint()).as_str()));
        }
        // Mallory is no recipient.
        let mallory = fixture("mallory.sec.asc");
        assert!(decrypt::decrypt(&[mallory], &[], &out, decrypt::Limits::default(), now).is_err());
    }

    #[test]
    fn v4_recipients_get_seipd_v1_even_when_they_advertise_v2() {
        let team = fixture("team.sec.asc");
        let out = sign_and_encrypt(&team, std::slice::from_ref(&team), b"x", SystemTime::now()).unwrap();
        let mut reader = pgp::armor::Reader::from_bytes(&out, None);
        let mut bin = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut bin).unwrap();
        use pgp::parse::{PacketParser, PacketParserResult, Parse};
        let mut ppr = PacketParser::from_bytes(&bin).unwrap();
        let mut seip = None;
        while let PacketParserResult::Some(pp) = ppr {
            if let pgp::Packet::SEIP(s) = &pp.packet {
                seip = Some(s.version());
                break;
            }
            ppr = pp.recurse().unwrap().1;
        }
        assert_eq!(seip, Some(1));
    }

    #[test]
    fn a_locked_key_or_a_certificate_without_encryption_key_is_an_error() {
        let team = fixture("team.sec.asc");
        let public = team.clone().strip_secret_key_material();
        assert!(matches!(
            sign_and_encrypt(&public, std::slice::from_ref(&team), b"x", SystemTime::now()),
            Err(EncryptError::Signing(_))
        ));
        assert!(matches!(sign_and_encrypt(&team, &[], b"x", SystemTime::now()), Err(EncryptError::NoRecipients)));
        // Long expired: no key is alive then.
        let later = SystemTime::now() + std::time::Duration::from_secs(100 * 365 * 86400);
        assert!(sign_and_encrypt(&team, &[fixture("ada.pub.asc")], b"x", later).is_err());
    }
}
