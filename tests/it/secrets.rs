//! `vulnmail secrets status` and the headless secret sources.

use crate::common::*;

#[test]
fn status_names_each_source_and_never_the_value() {
    let env = Env::new();
    env.init();
    let cfg = std::fs::read_to_string(env.config_file()).unwrap();
    let pwfile = env.path("imap-password");
    std::fs::write(&pwfile, "imap-marker-123\n").unwrap();
    std::fs::write(
        env.config_file(),
        format!("{cfg}\n[imap]\nhost = \"localhost\"\nuser = \"security@example.org\"\npassword = {{ command = \"cat {}\" }}\n\n[smtp]\nhost = \"localhost\"\nuser = \"security@example.org\"\npassword = {{ keyring = \"vulnmail/smtp\" }}\n", pwfile.display()),
    )
    .unwrap();
    let o = env.vmp().args(["secrets", "status", "--probe", "--json"]).output().unwrap();
    let out = stdout(ok(&o));
    assert!(!out.contains(PASS) && !out.contains("imap-marker-123"), "{out}");
    let v = json(&o);
    let rows = v["secrets"].as_array().unwrap();
    let row = |name: &str| rows.iter().find(|r| r["secret"] == name).unwrap().clone();
    assert_eq!(row("key.passphrase")["source"], "env");
    assert_eq!(row("key.passphrase")["available"], true);
    assert_eq!(row("imap.password")["source"], "command");
    assert_eq!(row("imap.password")["detail"], "readable");
    // No D-Bus here: the keyring source is reported unusable, naming the alternatives.
    let smtp = row("smtp.password");
    assert_eq!(smtp["source"], "keyring");
    assert_eq!(smtp["available"], false);
    assert!(smtp["detail"].as_str().unwrap().contains("env"), "{smtp}");
    assert_eq!(v["dbus_session"], false);

    let o = env.vm().args(["secrets", "status"]).output().unwrap();
    let text = stdout(ok(&o));
    assert!(
        text.contains("environment variable VULNMAIL_PASSPHRASE") && text.contains("VULNMAIL_PASSPHRASE is not set"),
        "{text}"
    );
    assert!(text.contains("no D-Bus session"), "{text}");
}

#[test]
fn a_keyring_passphrase_on_a_headless_machine_fails_naming_the_other_sources() {
    let env = Env::new();
    let o = env
        .vm()
        .args(["init", "--batch", "--address", "security@example.org", "--passphrase-keyring", "vulnmail/key"])
        .output()
        .unwrap();
    one_line_error(&o, 2, "{ env = \"NAME\" }");
    assert!(stderr(&o).contains("keyring"), "{}", stderr(&o));
}

#[test]
fn batch_with_a_prompt_source_fails_instead_of_asking() {
    let env = Env::new();
    env.init();
    let cfg = std::fs::read_to_string(env.config_file()).unwrap();
    std::fs::write(env.config_file(), cfg.replace("{ env = \"VULNMAIL_PASSPHRASE\" }", "{ prompt = true }")).unwrap();
    let o = env.vm().args(["--batch", "key", "publish", "--out", "x"]).output().unwrap();
    one_line_error(&o, 2, "--batch forbids prompting");
    // Without --batch but with no terminal, the same refusal, with another reason.
    let o = env.vm().args(["key", "publish", "--out", "x"]).output().unwrap();
    one_line_error(&o, 2, "no terminal");
}
