//! `vulnmail key check`: passes on a fresh publish, fails (exit 1, named check) in
//! each situation the issue lists. Time moves with the hidden --time flag.

use std::path::{Path, PathBuf};

use crate::common::*;

fn check_at(env: &Env, site: &Path, time: Option<&str>) -> (i32, serde_json::Value) {
    let mut c = env.vmp();
    if let Some(t) = time {
        c.args(["--time", t]);
    }
    let o = c.args(["key", "check", "--json", "--dir"]).arg(site).output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    (o.status.code().unwrap(), json(&o))
}

fn assert_fails(env: &Env, site: &Path, time: Option<&str>, check: &str, needle: &str) {
    let (code, v) = check_at(env, site, time);
    assert_eq!(code, 1, "key check should fail: {v:#}");
    assert!(check_status(&v, check).iter().any(|s| s == "fail"), "{check} should fail: {v:#}");
    let detail = check_detail(&v, check);
    assert!(detail.contains(needle), "{check}: expected {needle:?} in {detail:?}");
}

fn security_txt(site: &Path) -> PathBuf {
    site.join(".well-known/security.txt")
}

#[test]
fn fresh_publish_passes_with_a_readable_checklist() {
    let env = Env::new();
    let site = env.init_and_publish();
    let (code, v) = check_at(&env, &site, None);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["ok"], true);
    for c in v["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "ok", "{c}");
    }
    let o = env.vmp().args(["key", "check", "--dir"]).arg(&site).output().unwrap();
    let text = stdout(ok(&o));
    assert!(text.contains("[ ok ] security.txt") && text.contains("All checks passed."), "{text}");
}

#[test]
fn key_expiring_within_the_warning_window_fails() {
    let env = Env::new();
    let site = env.init_and_publish();
    assert_fails(&env, &site, Some(&days_from_now(715)), "key-expiry", "expires in");
    assert_fails(&env, &site, Some(&days_from_now(715)), "encryption-subkey", "expires in");
    // The window is configurable.
    let o = env.vmp().args(["key", "check", "--json", "--warn-days", "800", "--dir"]).arg(&site).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(check_status(&json(&o), "key-expiry"), ["fail"]);
}

#[test]
fn expired_key_fails() {
    let env = Env::new();
    let site = env.init_and_publish();
    assert_fails(&env, &site, Some(&days_from_now(732)), "key-expiry", "expired on");
    assert_fails(&env, &site, Some(&days_from_now(732)), "encryption-subkey", "expired on");
}

#[test]
fn missing_security_txt_fails() {
    let env = Env::new();
    let site = env.init_and_publish();
    std::fs::remove_file(security_txt(&site)).unwrap();
    assert_fails(&env, &site, None, "security.txt", "missing");
}

#[test]
fn unsigned_security_txt_fails() {
    let env = Env::new();
    let site = env.init_and_publish();
    let text = std::fs::read_to_string(security_txt(&site)).unwrap();
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("Contact:"))
        .take_while(|l| !l.starts_with("-----BEGIN PGP SIGNATURE"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(security_txt(&site), body).unwrap();
    assert_fails(&env, &site, None, "security.txt", "not signed");
}

#[test]
fn security_txt_signed_by_another_key_fails() {
    let env = Env::new();
    let site = env.init_and_publish();
    let other = Env::new();
    let other_site = other.init_and_publish();
    std::fs::copy(security_txt(&other_site), security_txt(&site)).unwrap();
    assert_fails(&env, &site, None, "security.txt", "another key");
}

#[test]
fn security_txt_past_its_expires_fails() {
    let env = Env::new();
    let site = env.init_and_publish();
    let (code, v) = check_at(&env, &site, Some(&days_from_now(367)));
    assert_eq!(code, 1);
    assert_eq!(check_status(&v, "key-expiry"), ["ok"], "the key itself is fine: {v:#}");
    assert_fails(&env, &site, Some(&days_from_now(367)), "security.txt", "has passed");
}

#[test]
fn security_txt_expiring_too_far_ahead_fails() {
    // A hand-made security.txt, validly signed by the team key (with sq), whose
    // Expires is two years away.
    let env = Env::new();
    env.vm().args(["init", "--batch", "--address", "security@example.org", "--expires-in", "5y"]).assert().success();
    let site = env.publish();
    let text = std::fs::read_to_string(security_txt(&site)).unwrap();
    let far = days_from_now(800);
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("Contact:"))
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("-----"))
        .map(|l| if l.starts_with("Expires:") { format!("Expires: {far}\n") } else { format!("{l}\n") })
        .collect();
    let plain = env.path("sectxt-plain.txt");
    std::fs::write(&plain, body).unwrap();
    let o = env.sq(&[
        "sign",
        "--cleartext-signature",
        "--signer-key",
        env.secret_key().to_str().unwrap(),
        plain.to_str().unwrap(),
    ]);
    std::fs::write(security_txt(&site), &ok(&o).stdout).unwrap();
    assert_fails(&env, &site, None, "security.txt", "more than a year away");
}

#[test]
fn encryption_url_serving_another_key_fails() {
    let env = Env::new();
    let site = env.init_and_publish();
    let other = Env::new();
    let other_site = other.init_and_publish();
    let keyfile = "keys/security@example.org.asc";
    std::fs::copy(other_site.join(keyfile), site.join(keyfile)).unwrap();
    assert_fails(&env, &site, None, "security.txt", "serves key");
    assert_fails(&env, &site, None, "keys-file", "not the team key");
}

#[test]
fn wkd_file_differing_from_the_key_fails() {
    let env = Env::new();
    let site = env.init_and_publish();
    let other = Env::new();
    let other_site = other.init_and_publish();
    let hash = vulnmail::publish::wkd::hash_local_part("security");
    let direct = format!(".well-known/openpgpkey/hu/{hash}");
    std::fs::copy(other_site.join(&direct), site.join(&direct)).unwrap();
    assert_fails(&env, &site, None, "wkd-direct", "not the team key");
    std::fs::remove_file(site.join(format!(".well-known/openpgpkey/example.org/hu/{hash}"))).unwrap();
    assert_fails(&env, &site, None, "wkd-advanced", "missing");
}

#[test]
fn security_md_with_another_fingerprint_fails() {
    let env = Env::new();
    let site = env.init_and_publish();
    let md = site.join("SECURITY.md");
    let text = std::fs::read_to_string(&md).unwrap();
    let start = text.find("Fingerprint: `").unwrap() + "Fingerprint: `".len();
    let mut changed = text.clone();
    changed.replace_range(start..start + 4, "0000");
    std::fs::write(&md, changed).unwrap();
    assert_fails(&env, &site, None, "security-md", "states fingerprint");
    std::fs::remove_file(&md).unwrap();
    assert_fails(&env, &site, None, "security-md", "missing");
}

#[test]
fn secret_key_that_cannot_decrypt_fails() {
    let env = Env::new();
    let site = env.init_and_publish();
    let o = env
        .vm()
        .env("VULNMAIL_PASSPHRASE", "not the passphrase")
        .args(["key", "check", "--json", "--dir"])
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(check_status(&v, "secret-key"), ["fail"]);
    assert!(check_detail(&v, "secret-key").contains("passphrase does not unlock"), "{v:#}");

    // The secret key file is gone: everything else is still checked against the
    // public copy, and the secret key check fails.
    std::fs::remove_file(env.secret_key()).unwrap();
    let (code, v) = check_at(&env, &site, None);
    assert_eq!(code, 1);
    assert_eq!(check_status(&v, "secret-key"), ["fail"]);
    assert_eq!(check_status(&v, "security.txt"), ["ok"]);
}

#[test]
fn a_checklist_in_colour_only_when_asked_and_never_with_no_color() {
    let env = Env::new();
    let site = env.init_and_publish();
    let o = env.vmp().args(["--color", "always", "key", "check", "--dir"]).arg(&site).output().unwrap();
    assert!(stdout(&o).contains("\x1b[32m"), "{}", stdout(&o));
    let o = env
        .vmp()
        .env("NO_COLOR", "1")
        .args(["--color", "always", "key", "check", "--dir"])
        .arg(&site)
        .output()
        .unwrap();
    assert!(!stdout(&o).contains('\x1b'));
    let o = env.vmp().args(["key", "check", "--dir"]).arg(&site).output().unwrap();
    assert!(!stdout(&o).contains('\x1b'), "not a terminal: no colour");
}
