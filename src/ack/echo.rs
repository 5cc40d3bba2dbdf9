//! The decryption-oracle rule: may a reply quote anything decrypted from the report?
//!
//! An attacker can wrap someone else's intercepted ciphertext in a mail of their own
//! and let the acknowledgement tell them what it says. So decrypted content (subject,
//! title, credit, any field) is echoed only when the sender is bound to the
//! ciphertext, and a plaintext reply quotes nothing at all.

/// What the caller knows about the report and the reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EchoFacts {
    /// The report arrived encrypted (any encrypted part).
    pub encrypted: bool,
    /// The encrypted part is the message root (the whole message is PGP/MIME or inline
    /// PGP), not one part among others the sender may have added around it.
    pub encrypted_root: bool,
    /// Inside the encryption, a good signature by a key whose user ID carries the
    /// message's From address.
    pub signed_by_from: bool,
    /// The From address is already the reporter of record of this report (an earlier
    /// message bound it).
    pub sender_is_reporter_of_record: bool,
    /// The same ciphertext (same hash) is already part of another report.
    pub ciphertext_seen_elsewhere: bool,
    /// The reply will be encrypted to the reporter (their certificate is known).
    pub reply_encrypted: bool,
}

/// Whether the reply may quote the report's content.
///
/// - A plaintext reply quotes nothing of the report (it would travel in the clear).
/// - A ciphertext already seen in another report never echoes.
/// - A plaintext report's own words may go back to it: that is no oracle.
/// - An encrypted report echoes only when the sender is bound to the ciphertext: the
///   encrypted part is the root and signed by the From address's key, or the sender
///   is already the reporter of record.
pub fn may_echo(f: &EchoFacts) -> bool {
    if !f.reply_encrypted || f.ciphertext_seen_elsewhere {
        return false;
    }
    if !f.encrypted {
        return true;
    }
    (f.encrypted_root && f.signed_by_from) || f.sender_is_reporter_of_record
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<EchoFacts> {
        (0u8..64)
            .map(|b| EchoFacts {
                encrypted: b & 1 != 0,
                encrypted_root: b & 2 != 0,
                signed_by_from: b & 4 != 0,
                sender_is_reporter_of_record: b & 8 != 0,
                ciphertext_seen_elsewhere: b & 16 != 0,
                reply_encrypted: b & 32 != 0,
            })
            .collect()
    }

    // Each test states one sentence of the rule and checks it over all 64 combinations.

    #[test]
    fn a_plaintext_reply_quotes_nothing() {
        for f in all().iter().filter(|f| !f.reply_encrypted) {
            assert!(!may_echo(f), "{f:?}");
        }
    }

    #[test]
    fn a_ciphertext_seen_in_another_report_never_echoes() {
        for f in all().iter().filter(|f| f.ciphertext_seen_elsewhere) {
            assert!(!may_echo(f), "{f:?}");
        }
    }

    #[test]
    fn a_plaintext_report_echoes_into_an_encrypted_reply() {
        for f in all().iter().filter(|f| !f.encrypted && f.reply_encrypted && !f.ciphertext_seen_elsewhere) {
            assert!(may_echo(f), "{f:?}");
        }
    }

    #[test]
    fn an_unbound_ciphertext_never_echoes() {
        // Wrapped in the attacker's own mail (not the root), or unsigned, or signed by
        // someone else, and the sender is no reporter of record.
        for f in all().iter().filter(|f| f.encrypted && !f.sender_is_reporter_of_record) {
            if !(f.encrypted_root && f.signed_by_from) {
                assert!(!may_echo(f), "{f:?}");
            }
        }
    }

    #[test]
    fn a_bound_ciphertext_echoes() {
        for f in all().iter().filter(|f| f.encrypted && f.reply_encrypted && !f.ciphertext_seen_elsewhere) {
            if (f.encrypted_root && f.signed_by_from) || f.sender_is_reporter_of_record {
                assert!(may_echo(f), "{f:?}");
            }
        }
    }

    #[test]
    fn signed_but_not_root_and_root_but_unsigned_are_both_unbound() {
        let base = EchoFacts { encrypted: true, reply_encrypted: true, ..Default::default() };
        assert!(!may_echo(&EchoFacts { encrypted_root: true, ..base }));
        assert!(!may_echo(&EchoFacts { signed_by_from: true, ..base }));
        assert!(may_echo(&EchoFacts { encrypted_root: true, signed_by_from: true, ..base }));
        assert!(may_echo(&EchoFacts { sender_is_reporter_of_record: true, ..base }));
    }

    #[test]
    fn only_thirteen_of_the_64_combinations_echo() {
        // Encrypted reply and fresh ciphertext leave 16 cases: the 8 plaintext reports,
        // plus 5 encrypted ones (4 with a reporter of record, 1 signed root without).
        assert_eq!(all().iter().filter(|f| may_echo(f)).count(), 13);
    }
}
