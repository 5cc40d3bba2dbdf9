//! OpenPGP: the team's keys, decryption and verification, encryption.
//!
//! Everything uses sequoia's `StandardPolicy`; nothing here prints or prompts.

pub mod decrypt;
pub mod encrypt;
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

thread_local! {
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the current thread is inside [`guard`] (the binary's panic hook stays
/// quiet there: the panic becomes an ordinary error).
pub fn in_guard() -> bool {
    GUARDED.with(|g| g.get())
}

/// Run OpenPGP parsing that may panic on hostile input (sequoia-openpgp 2.4 has
/// `unwrap`s reachable from malformed packets) and turn a panic into `Err`.
pub fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let was = GUARDED.with(|g| g.replace(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(was));
    r.map_err(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("the OpenPGP data is malformed (the parser gave up: {})", msg.lines().next().unwrap_or("panic"))
    })
}
