//! `vulnmail init`: the config, the key, its protection and file modes.

use crate::common::*;

#[test]
fn batch_init_generates_a_protected_cv25519_key_with_the_expected_shape() {
    let env = Env::new();
    env.init();
    let cfg = std::fs::read_to_string(env.config_file()).unwrap();
    assert!(cfg.contains("addresses = [\"security@example.org\"]"), "{cfg}");
    assert!(cfg.contains("passphrase = { env = \"VULNMAIL_PASSPHRASE\" }"), "{cfg}");
    assert!(!cfg.contains(PASS));

    assert_eq!(mode(&env.secret_key()), 0o600);
    assert_eq!(mode(&env.data().join("keys/team-revocation.asc")), 0o600);
    assert_eq!(mode(&env.data().join("keys")), 0o700);

    let o = env.vm().args(["key", "show", "--json"]).output().unwrap();
    let v = json(ok(&o));
    let key = &v["key"];
    assert_eq!(key["protected"], true);
    assert_eq!(key["user_ids"][0], "Example Security Team <security@example.org>");
    assert!(key["algorithm"].as_str().unwrap().contains("Ed25519"), "{key}");
    let usages: Vec<String> = key["subkeys"].as_array().unwrap().iter().map(|s| s["usage"].to_string()).collect();
    assert!(usages.iter().any(|u| u.contains("sign")), "{usages:?}");
    assert!(usages.iter().any(|u| u.contains("encrypt")), "{usages:?}");
    // Default expiry: two years, give or take the test's runtime.
    let expires: jiff::Timestamp = key["expires"].as_str().unwrap().parse().unwrap();
    let days = (expires - jiff::Timestamp::now()).as_secs() / 86_400;
    assert!((728..=730).contains(&days), "expires in {days} days");
    for s in key["subkeys"].as_array().unwrap() {
        assert_eq!(s["expires"], key["expires"]);
    }
}

#[test]
fn one_user_id_per_address_and_rsa_on_request() {
    let env = Env::new();
    env.vmp()
        .args(["init", "--batch", "--address", "security@example.org", "--address", "psirt@example.org"])
        .args(["--cipher-suite", "rsa4k", "--expires-in", "1y"])
        .assert()
        .success();
    let v = json(ok(&env.vm().args(["key", "show", "--json"]).output().unwrap()));
    let uids = v["key"]["user_ids"].as_array().unwrap();
    assert_eq!(uids.len(), 2);
    assert!(uids.iter().any(|u| u.as_str().unwrap().contains("<psirt@example.org>")), "{uids:?}");
    assert!(v["key"]["algorithm"].as_str().unwrap().contains("4096"), "{}", v["key"]["algorithm"]);
}

#[test]
fn batch_init_without_a_source_stores_unprotected_says_so_and_check_warns() {
    let env = Env::new();
    let o = env.vm().args(["init", "--batch", "--address", "security@example.org"]).output().unwrap();
    ok(&o);
    assert!(stdout(&o).contains("UNPROTECTED"), "{}", stdout(&o));
    let site = env.publish();
    let o = env.vm().args(["key", "check", "--json", "--dir"]).arg(&site).output().unwrap();
    let v = json(&o);
    assert_eq!(o.status.code(), Some(0), "a warning is not a failure: {v}");
    assert_eq!(check_status(&v, "secret-key"), ["warn"]);
    assert!(check_detail(&v, "secret-key").contains("key protect"));

    // `key protect` adds the passphrase and records the source.
    env.vmp().args(["key", "protect", "--passphrase-env", "VULNMAIL_PASSPHRASE"]).assert().success();
    let cfg = std::fs::read_to_string(env.config_file()).unwrap();
    assert!(cfg.contains("passphrase = { env = \"VULNMAIL_PASSPHRASE\" }"), "{cfg}");
    let v = json(&env.vmp().args(["key", "show", "--json"]).output().unwrap());
    assert_eq!(v["key"]["protected"], true);
    let o = env.vmp().args(["key", "check", "--json", "--dir"]).arg(&site).output().unwrap();
    assert_eq!(check_status(&json(&o), "secret-key"), ["ok"]);
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let env = Env::new();
    env.init();
    let o = env.vmp().args(["init", "--batch", "--address", "security@example.org"]).output().unwrap();
    one_line_error(&o, 2, "--force");
    env.vmp().args(["init", "--batch", "--force", "--address", "security@example.org"]).assert().success();
}

#[test]
fn passphrase_from_a_command_and_a_credentials_file() {
    let env = Env::new();
    env.vm()
        .args(["init", "--batch", "--address", "security@example.org"])
        .args(["--passphrase-command", "printf '%s\\n' 'from a command'"])
        .assert()
        .success();
    let v = json(&env.vm().args(["key", "show", "--json"]).output().unwrap());
    assert_eq!(v["key"]["protected"], true);
    let site = env.publish();
    assert!(site.join(".well-known/security.txt").exists());

    let env = Env::new();
    let creds = env.path("creds");
    std::fs::create_dir_all(&creds).unwrap();
    std::fs::write(creds.join("vulnmail-passphrase"), "from a file\n").unwrap();
    env.vm()
        .env("CREDENTIALS_DIRECTORY", &creds)
        .args(["init", "--batch", "--address", "security@example.org"])
        .args(["--passphrase-file", "vulnmail-passphrase"])
        .assert()
        .success();
    // Without the credentials directory the relative file cannot be found: clear error.
    let o = env.vm().args(["key", "publish", "--out", "x"]).output().unwrap();
    one_line_error(&o, 2, "vulnmail-passphrase");
    env.vm().env("CREDENTIALS_DIRECTORY", &creds).args(["key", "publish", "--out", "x"]).assert().success();
}
