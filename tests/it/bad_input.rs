//! Bad input: one line saying what to do, exit 2 (the user's to fix) or 1, never a panic.

use crate::common::*;

#[test]
fn missing_config_says_to_run_init() {
    let env = Env::new();
    for args in [
        vec!["key", "show"],
        vec!["key", "publish"],
        vec!["key", "check"],
        vec!["key", "import", "x.asc"],
        vec!["secrets", "status"],
    ] {
        let o = env.vm().args(&args).output().unwrap();
        if args[1] == "show" {
            one_line_error(&o, 2, "vulnmail init");
        } else {
            one_line_error(&o, 2, "run `vulnmail init` first");
        }
    }
}

#[test]
fn invalid_config_names_the_file_and_the_problem() {
    let env = Env::new();
    env.init();
    std::fs::write(env.config_file(), "[team]\naddresses = [\"not an address\"]\n").unwrap();
    let o = env.vm().args(["key", "check"]).output().unwrap();
    one_line_error(&o, 2, "is not an email address");
    std::fs::write(env.config_file(), "[team\n").unwrap();
    let o = env.vm().args(["key", "check"]).output().unwrap();
    one_line_error(&o, 2, "config.toml is not a valid vulnmail configuration");
}

#[test]
fn corrupt_and_truncated_key_files_are_refused() {
    let env = Env::new();
    env.init();
    let junk = env.path("junk.asc");
    std::fs::write(&junk, b"\x99\x01\x0dthis is not a key at all \x00\xff").unwrap();
    let o = env.vmp().args(["key", "import"]).arg(&junk).output().unwrap();
    one_line_error(&o, 2, "is not an OpenPGP key");

    let whole = std::fs::read_to_string(env.secret_key()).unwrap();
    let truncated = env.path("truncated.asc");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    let o = env.vmp().args(["key", "import"]).arg(&truncated).output().unwrap();
    one_line_error(&o, 2, "not truncated");

    // Binary and truncated.
    let tsk = vulnmail::openpgp::keys::read_tsk(&env.secret_key()).unwrap();
    let bin = sequoia_openpgp::serialize::SerializeInto::to_vec(&tsk.as_tsk()).unwrap();
    let cut = env.path("truncated.pgp");
    std::fs::write(&cut, &bin[..bin.len() - 40]).unwrap();
    let o = env.vmp().args(["key", "import"]).arg(&cut).output().unwrap();
    one_line_error(&o, 2, "OpenPGP key");

    let empty = env.path("empty.asc");
    std::fs::write(&empty, b"").unwrap();
    let o = env
        .vmp()
        .args(["init", "--batch", "--force", "--address", "security@example.org", "--import"])
        .arg(&empty)
        .output()
        .unwrap();
    one_line_error(&o, 2, "empty");

    let o = env.vmp().args(["key", "import", "/nonexistent/key.asc"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot read /nonexistent/key.asc"));
}

#[test]
fn a_public_only_certificate_is_refused_by_import() {
    let env = Env::new();
    env.init();
    let public = env.path("public.asc");
    env.vm().args(["key", "export", "--output"]).arg(&public).assert().success();
    let o = env.vmp().args(["key", "import"]).arg(&public).output().unwrap();
    one_line_error(&o, 2, "only a public certificate");
}

#[test]
fn a_wrong_passphrase_is_named_as_such() {
    let env = Env::new();
    env.init();
    // Unlocking the team key with a wrong passphrase.
    let o = env.vm().env("VULNMAIL_PASSPHRASE", "wrong").args(["key", "publish", "--out", "x"]).output().unwrap();
    one_line_error(&o, 2, "passphrase does not unlock the team key");
    // No passphrase at all where one is needed.
    let o = env.vm().args(["key", "publish", "--out", "x"]).output().unwrap();
    one_line_error(&o, 2, "VULNMAIL_PASSPHRASE is not set");
    // Importing a protected file whose passphrase differs from the team's.
    let other = Env::new();
    other.init();
    let o = env
        .vm()
        .env("VULNMAIL_PASSPHRASE", "team pass")
        .args(["key", "import"])
        .arg(other.secret_key())
        .output()
        .unwrap();
    one_line_error(&o, 2, "--passphrase-env");
}

#[test]
fn bad_flags_and_values_exit_2() {
    let env = Env::new();
    let o = env
        .vm()
        .args(["init", "--batch", "--address", "security@example.org", "--expires-in", "soon"])
        .output()
        .unwrap();
    one_line_error(&o, 2, "is not a duration");
    let o = env.vm().args(["--time", "yesterday", "key", "show"]).output().unwrap();
    one_line_error(&o, 2, "RFC 3339");
    let o = env.vm().args(["init", "--batch"]).output().unwrap();
    one_line_error(&o, 2, "--address");
    let o = env.vm().args(["key", "frobnicate"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn no_secret_outside_the_protected_key_file_and_key_files_are_private() {
    let env = Env::new();
    let site = env.init_and_publish();
    env.vmp().args(["key", "check", "--dir"]).arg(&site).assert().success();
    env.vmp().args(["key", "rotate"]).assert().success();
    env.publish();

    let mut tsk_files = Vec::new();
    for root in [env.home(), env.path("config"), env.data(), env.work()] {
        for entry in walk(&root) {
            let bytes = std::fs::read(&entry).unwrap();
            let hay = String::from_utf8_lossy(&bytes);
            assert!(!hay.contains(PASS), "{} contains the passphrase", entry.display());
            if let Ok(certs) = vulnmail::openpgp::keys::parse_certs(&bytes) {
                for c in certs {
                    if c.is_tsk() {
                        assert!(
                            vulnmail::openpgp::keys::is_protected(&c),
                            "{} holds an unprotected secret",
                            entry.display()
                        );
                        assert_eq!(mode(&entry), 0o600, "{}", entry.display());
                        tsk_files.push(entry.clone());
                    }
                }
            }
        }
    }
    // The current key and the retired one; nothing else holds secret key material.
    let names: Vec<String> =
        tsk_files.iter().map(|p| p.strip_prefix(env.data()).unwrap().display().to_string()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"keys/team-secret.asc".to_string()), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("keys/retired/")), "{names:?}");
    assert_eq!(mode(&env.data().join("keys/retired")), 0o700);
}

fn walk(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}
