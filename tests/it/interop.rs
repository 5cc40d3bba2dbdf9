//! Interoperability with GnuPG, sq, gpg-wks-client and an independent RFC 9116 parser.

use crate::common::*;

#[test]
fn gpg_and_sq_encrypt_to_the_published_key_and_vulnmail_decrypts() {
    let env = Env::new();
    let site = env.init_and_publish();
    let key = site.join("keys/security@example.org.asc");

    ok(&env.gpg(&["--import", key.to_str().unwrap()]));
    let msg = gpg_encrypt(&env, "security@example.org", b"XSS in the admin panel, via gpg");
    assert_eq!(decrypt_with_team_key(&env, Some(PASS), &msg), b"XSS in the admin panel, via gpg");

    let plain = env.path("sq-plain.txt");
    std::fs::write(&plain, b"SQL injection, via sq").unwrap();
    let o = env.sq(&["encrypt", "--recipient-cert", key.to_str().unwrap(), plain.to_str().unwrap()]);
    ok(&o);
    assert_eq!(decrypt_with_team_key(&env, Some(PASS), &o.stdout), b"SQL injection, via sq");

    // A wrong passphrase does not unlock it.
    let tsk = vulnmail::openpgp::keys::read_tsk(&env.secret_key()).unwrap();
    let wrong = sequoia_openpgp::crypto::Password::from("wrong");
    assert!(vulnmail::openpgp::keys::unlock(&tsk, Some(&wrong)).is_err());
}

#[test]
fn a_key_generated_by_gpg_and_imported_works() {
    let env = Env::new();
    ok(&env.gpg(&[
        "--passphrase",
        "gpg-side-pass",
        "--quick-generate-key",
        "Example Security <security@example.org>",
        "ed25519",
        "cert",
        "1y",
    ]));
    let fpr = {
        let o = ok(&env.gpg(&["--with-colons", "--list-secret-keys", "security@example.org"])).stdout.clone();
        String::from_utf8(o)
            .unwrap()
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .unwrap()
            .split(':')
            .nth(9)
            .unwrap()
            .to_string()
    };
    ok(&env.gpg(&["--passphrase", "gpg-side-pass", "--quick-add-key", &fpr, "cv25519", "encr", "1y"]));
    ok(&env.gpg(&["--passphrase", "gpg-side-pass", "--quick-add-key", &fpr, "ed25519", "sign", "1y"]));
    let exported = env.path("gpg-secret.asc");
    ok(&env.gpg(&[
        "--passphrase",
        "gpg-side-pass",
        "--armor",
        "--output",
        exported.to_str().unwrap(),
        "--export-secret-keys",
        &fpr,
    ]));

    // init --import with the file's own passphrase as the team's.
    env.vm()
        .env("VULNMAIL_PASSPHRASE", "gpg-side-pass")
        .args(["init", "--batch", "--address", "security@example.org", "--import"])
        .arg(&exported)
        .assert()
        .success();
    let v = json(&env.vm().args(["key", "show", "--json"]).output().unwrap());
    assert_eq!(v["key"]["fingerprint"], fpr);
    assert_eq!(v["key"]["protected"], true);

    let msg = gpg_encrypt(&env, &fpr, b"reported to a gpg-made key");
    assert_eq!(decrypt_with_team_key(&env, Some("gpg-side-pass"), &msg), b"reported to a gpg-made key");

    // key import with a different team passphrase: unlocked with --passphrase-env,
    // stored under the team's.
    let env2 = Env::new();
    env2.init();
    env2.vmp()
        .env("GPG_FILE_PASS", "gpg-side-pass")
        .args(["key", "import", "--passphrase-env", "GPG_FILE_PASS"])
        .arg(&exported)
        .assert()
        .success();
    assert_eq!(decrypt_with_team_key(&env2, Some(PASS), &msg), b"reported to a gpg-made key");
    let site = env2.publish();
    env2.vmp().args(["key", "check", "--dir"]).arg(&site).assert().success();
}

#[test]
fn wkd_file_names_match_gpg_wks_client() {
    let env = Env::new();
    env.vmp()
        .args(["init", "--batch", "--address", "security@example.org", "--address", "Vuln.Reports@example.org"])
        .assert()
        .success();
    let site = env.publish();
    for addr in ["security@example.org", "Vuln.Reports@example.org"] {
        let o = std::process::Command::new("/usr/lib/gnupg/gpg-wks-client")
            .args(["--print-wkd-hash", addr])
            .output()
            .expect("gpg-wks-client (Debian gpg-wks-client) is installed by scripts/setup.sh");
        let line = stdout(ok(&o));
        let hash = line.split_whitespace().next().unwrap();
        assert!(site.join(format!(".well-known/openpgpkey/example.org/hu/{hash}")).is_file(), "advanced {hash}");
        assert!(site.join(format!(".well-known/openpgpkey/hu/{hash}")).is_file(), "direct {hash}");
        // gpg-wks-client's URL for the advanced method names the same path.
        let o = std::process::Command::new("/usr/lib/gnupg/gpg-wks-client")
            .args(["--print-wkd-url", addr])
            .output()
            .unwrap();
        assert!(stdout(&o).contains(&format!("/.well-known/openpgpkey/example.org/hu/{hash}")), "{}", stdout(&o));
    }
    assert!(site.join(".well-known/openpgpkey/example.org/policy").is_file());
    assert!(site.join(".well-known/openpgpkey/policy").is_file());
    // Each WKD file carries only its own address's user ID.
    let hash = vulnmail::publish::wkd::hash_local_part("security");
    let bytes = std::fs::read(site.join(format!(".well-known/openpgpkey/hu/{hash}"))).unwrap();
    let cert = vulnmail::openpgp::keys::parse_certs(&bytes).unwrap().remove(0);
    let uids: Vec<String> = cert.userids().map(|u| String::from_utf8_lossy(u.userid().value()).into_owned()).collect();
    assert_eq!(uids.len(), 1, "{uids:?}");
    assert!(uids[0].contains("security@example.org"));
    // gpg imports the binary WKD file.
    ok(&env.gpg(&["--import", site.join(format!(".well-known/openpgpkey/hu/{hash}")).to_str().unwrap()]));
}

#[test]
fn gpg_verifies_security_txt_and_an_rfc9116_parser_accepts_it() {
    let env = Env::new();
    let site = env.init_and_publish();
    let sectxt = site.join(".well-known/security.txt");
    ok(&env.gpg(&["--import", site.join("keys/security@example.org.asc").to_str().unwrap()]));
    let o = env.gpg(&["--verify", sectxt.to_str().unwrap()]);
    ok(&o);
    assert!(stderr(&o).contains("Good signature"), "{}", stderr(&o));

    let text = std::fs::read_to_string(&sectxt).unwrap();
    let parsed: sectxtlib::SecurityTxt = text.parse().unwrap_or_else(|e| panic!("sectxtlib rejects it: {e:?}\n{text}"));
    assert_eq!(parsed.contact[0].uri.as_str(), "mailto:security@example.org");
    assert!(text.contains("Policy: https://example.org/security"));
    assert!(text.contains("Canonical: https://example.org/.well-known/security.txt"));
    assert!(text.contains("Preferred-Languages: en"));

    // A tampered file fails gpg's check too.
    let tampered = text.replace("mailto:security@example.org", "mailto:attacker@example.net");
    let bad = env.path("tampered.txt");
    std::fs::write(&bad, tampered).unwrap();
    assert!(!env.gpg(&["--verify", bad.to_str().unwrap()]).status.success());
}
