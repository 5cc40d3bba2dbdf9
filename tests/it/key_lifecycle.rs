//! `key extend`, `key rotate`, `key export`, `key import` over an existing key.

use crate::common::*;

#[test]
fn extend_renews_primary_and_subkeys_and_check_sees_it() {
    let env = Env::new();
    let site = env.init_and_publish();
    env.vmp().args(["key", "extend", "--for", "3y"]).assert().success();
    let v = json(&env.vm().args(["key", "show", "--json"]).output().unwrap());
    let expires: jiff::Timestamp = v["key"]["expires"].as_str().unwrap().parse().unwrap();
    let days = (expires - jiff::Timestamp::now()).as_secs() / 86_400;
    assert!((1093..=1095).contains(&days), "{days}");
    for s in v["key"]["subkeys"].as_array().unwrap() {
        assert_eq!(s["expires"], v["key"]["expires"], "subkey {s}");
    }
    // The published files still carry the old expiry until published again.
    let o = env.vmp().args(["key", "check", "--json", "--dir"]).arg(&site).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(check_detail(&json(&o), "keys-file").contains("differs"), "{}", stdout(&o));
    env.publish();
    env.vmp().args(["key", "check", "--dir"]).arg(&site).assert().success();
    // Two and a half years on, the key is still valid (security.txt would need a refresh).
    let o =
        env.vmp().args(["--time", &days_from_now(910), "key", "check", "--json", "--dir"]).arg(&site).output().unwrap();
    assert_eq!(check_status(&json(&o), "key-expiry"), ["ok"]);
}

#[test]
fn rotate_cross_signs_keeps_the_old_key_and_old_mail_still_decrypts() {
    let env = Env::new();
    let site = env.init_and_publish();
    let old_cert = site.join("keys/security@example.org.asc");
    ok(&env.gpg(&["--import", old_cert.to_str().unwrap()]));
    let old_msg = gpg_encrypt(&env, "security@example.org", b"report to the old key");
    let old = json(&env.vm().args(["key", "show", "--json"]).output().unwrap());
    let o = env.vmp().args(["key", "rotate", "--json"]).output().unwrap();
    let rotated = json(ok(&o));
    assert_eq!(rotated["previous"], old["key"]["fingerprint"]);
    assert_ne!(rotated["key"]["fingerprint"], old["key"]["fingerprint"]);
    assert_eq!(mode(std::path::Path::new(rotated["retired_file"].as_str().unwrap())), 0o600);

    // Old mail still decrypts, with the retired key.
    assert_eq!(decrypt_with_team_key(&env, Some(PASS), &old_msg), b"report to the old key");

    // The published certificate carries the old key's certification (the cross-signature).
    env.publish();
    let new_cert = std::fs::read(site.join("keys/security@example.org.asc")).unwrap();
    let cert = vulnmail::openpgp::keys::parse_certs(&new_cert).unwrap().remove(0);
    let old_fpr: sequoia_openpgp::Fingerprint = old["key"]["fingerprint"].as_str().unwrap().parse().unwrap();
    let certified = cert.userids().any(|u| u.certifications().any(|s| s.issuer_fingerprints().any(|f| *f == old_fpr)));
    assert!(certified, "the new key's user ID should carry the old key's certification");
    env.vmp().args(["key", "check", "--dir"]).arg(&site).assert().success();
    let v = json(&env.vm().args(["key", "show", "--all", "--json"]).output().unwrap());
    assert_eq!(v["retired"][0]["fingerprint"], old["key"]["fingerprint"]);
}

#[test]
fn export_public_is_minimised_and_secret_export_is_private() {
    let env = Env::new();
    env.init();
    let o = env.vm().args(["key", "export"]).output().unwrap();
    let text = stdout(ok(&o));
    assert!(text.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"), "{text}");
    let cert = vulnmail::openpgp::keys::parse_certs(&o.stdout).unwrap().remove(0);
    assert!(!cert.is_tsk());
    let out = env.path("exported-secret.asc");
    env.vm().args(["key", "export", "--secret", "--output"]).arg(&out).assert().success();
    assert_eq!(mode(&out), 0o600);
    let tsk = vulnmail::openpgp::keys::read_tsk(&out).unwrap();
    assert!(vulnmail::openpgp::keys::is_protected(&tsk), "exported still under its passphrase");
}

#[test]
fn importing_a_second_key_retires_the_first() {
    let env = Env::new();
    env.init();
    let before = json(&env.vm().args(["key", "show", "--json"]).output().unwrap());
    let other = Env::new();
    other.init();
    let file = other.secret_key();
    let o = env.vmp().args(["key", "import", "--json"]).arg(&file).output().unwrap();
    let v = json(ok(&o));
    assert!(v["retired_file"].as_str().unwrap().contains(before["key"]["fingerprint"].as_str().unwrap()));
    let after = json(&env.vm().args(["key", "show", "--json"]).output().unwrap());
    assert_ne!(after["key"]["fingerprint"], before["key"]["fingerprint"]);
}

#[test]
fn rotation_carries_the_store_key_over_to_the_new_key() {
    let env = Env::new();
    env.init();
    let msg = env.path("r.eml");
    std::fs::write(&msg, "From: a@example.net\r\nSubject: before rotation\r\n\r\nbody\r\n").unwrap();
    env.vmp().arg("import").arg(&msg).assert().success();
    env.vmp().args(["key", "rotate"]).assert().success();
    env.vm().arg("lock").assert().success();
    // Only the new key is needed to open the store: hide the retired one.
    std::fs::rename(env.data().join("keys/retired"), env.path("retired-elsewhere")).unwrap();
    let o = env.vmp().args(["messages", "--json"]).output().unwrap();
    let v = json(ok(&o));
    assert_eq!(v[0]["subject"], "before rotation");
}
