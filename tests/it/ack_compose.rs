//! Composed replies against real GnuPG: a reporter decrypts the acknowledgement and
//! verifies the team's signature; the outer message parses with the expected headers.

use mail_parser::{MessageParser, MimeHeaders};
use sequoia_openpgp::Cert;
use vulnmail::ack::compose::{Encryption, ReplyInput, compose};
use vulnmail::ack::templates::{TemplateContext, render};

use crate::common::*;

fn fixture_keys() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys")
}

fn fixture(name: &str) -> Cert {
    vulnmail::openpgp::keys::parse_certs(&std::fs::read(fixture_keys().join(name)).unwrap()).unwrap().remove(0)
}

fn reply(reporter: &str, to: &str, subject: &str) -> ReplyInput {
    let mut ctx = TemplateContext::sample(true);
    ctx.report.subject = Some(subject.to_string());
    let rendered = render("ack", None, &ctx).unwrap();
    let team = fixture("team.sec.asc");
    ReplyInput {
        from_name: "Example Security Team".into(),
        from_address: "security@example.org".into(),
        to: to.into(),
        domain: "example.org".into(),
        in_reply_to: Some("<report-1@example.net>".into()),
        references: vec![],
        subject: rendered.subject,
        body: format!("{}\n.\nafter a lone dot\n", rendered.body),
        automatic: true,
        report_id: "VR-2026-0007".into(),
        date: jiff::Timestamp::now(),
        encryption: Some(Encryption {
            reporter: fixture(reporter),
            team_cert: team.clone().strip_secret_key_material(),
            team_key: team,
        }),
    }
}

/// Decrypt the PGP/MIME part of `raw` with GnuPG; returns (status lines, plaintext).
fn gpg_decrypt(env: &Env, raw: &[u8]) -> (String, Vec<u8>) {
    gpg_decrypt_pgp_mime(&env.path(""), raw, |a| env.gpg(a))
}

#[test]
fn gnupg_reporters_decrypt_the_acknowledgement_and_the_team_signature_is_good() {
    let team = fixture("team.sec.asc");
    let team_fpr = team.fingerprint().to_hex();
    // bob's key was made by GnuPG 2.2, ada's by sq: both read it with gpg.
    for (who, addr) in [("bob", "bob@example.com"), ("ada", "ada@example.net")] {
        let env = Env::new();
        ok(&env.gpg(&["--import", fixture_keys().join(format!("{who}.sec.asc")).to_str().unwrap()]));
        ok(&env.gpg(&["--import", fixture_keys().join("team.pub.asc").to_str().unwrap()]));
        let c = compose(&reply(&format!("{who}.pub.asc"), addr, "Heap overflow in the parser")).unwrap();
        assert_eq!(c.envelope_to, addr);

        let outer = MessageParser::new().parse(&c.raw).unwrap();
        assert_eq!(outer.subject(), Some("Re: [VR-2026-0007] your security report"));
        assert_eq!(outer.in_reply_to().as_text(), Some("report-1@example.net"));
        assert_eq!(outer.header_raw("Auto-Submitted").map(str::trim), Some("auto-replied"));
        assert!(!String::from_utf8_lossy(&c.raw).contains("Heap overflow"), "the real subject leaked outside");

        let (status, plain) = gpg_decrypt(&env, &c.raw);
        assert!(status.contains("[GNUPG:] DECRYPTION_OKAY"), "{who}: {status}");
        assert!(status.contains("[GNUPG:] GOODSIG"), "{who}: {status}");
        let validsig = status.lines().find(|l| l.starts_with("[GNUPG:] VALIDSIG")).unwrap_or_default();
        assert!(validsig.trim_end().ends_with(&team_fpr), "{who}: signed by the team key: {validsig}");
        // GnuPG 2.2 would say "decryption failed: Unknown cipher algorithm" on SEIPDv2.
        assert!(!status.contains("DECRYPTION_FAILED"), "{status}");

        let inner = MessageParser::new().parse(&plain).unwrap();
        assert_eq!(inner.subject(), Some("Re: [VR-2026-0007] Heap overflow in the parser"));
        assert_eq!(inner.content_type().unwrap().attribute("protected-headers"), Some("v1"));
        let body = inner.body_text(0).unwrap();
        assert!(body.contains("VR-2026-0007") && body.contains("\r\n.\r\nafter a lone dot\r\n"), "{body}");
    }
}

#[test]
fn a_reply_to_someone_else_is_unreadable_for_them() {
    let env = Env::new();
    ok(&env.gpg(&["--import", fixture_keys().join("mallory.sec.asc").to_str().unwrap()]));
    let c = compose(&reply("bob.pub.asc", "bob@example.com", "x")).unwrap();
    let msg = MessageParser::new().parse(&c.raw).unwrap();
    let armored = env.path("reply.asc");
    std::fs::write(&armored, msg.parts[2].contents()).unwrap();
    let o = env.gpg(&["--decrypt", armored.to_str().unwrap()]);
    assert!(!o.status.success(), "mallory decrypted bob's reply");
}
