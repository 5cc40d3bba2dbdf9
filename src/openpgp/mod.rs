//! OpenPGP: the team's keys, decryption and verification, encryption.
//!
//! Everything uses sequoia's `StandardPolicy`; nothing here prints or prompts.

pub mod decrypt;
pub mod keys;
pub mod verify;

use sequoia_openpgp::policy::StandardPolicy;

/// The one policy every check and operation uses.
pub fn policy() -> StandardPolicy<'static> {
    StandardPolicy::new()
}

/// Upper-case hex fingerprint, the form the report JSON uses.
pub fn fpr_hex(fpr: &sequoia_openpgp::Fingerprint) -> String {
    fpr.to_hex()
}

/// The lower-cased email address of a user ID, when it has one.
pub fn uid_email(uid: &sequoia_openpgp::packet::UserID) -> Option<String> {
    uid.email_normalized().ok().flatten()
}
