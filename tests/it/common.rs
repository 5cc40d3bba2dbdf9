//! The test harness: an isolated home per test, the binary, and the peers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub const PASS: &str = "correct horse battery staple 7f3a";

/// One isolated user: config, data, GnuPG home and a working directory.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::Builder::new().prefix("vm-it-").tempdir().expect("tempdir");
        for d in ["home", "config", "data", "gnupg", "work"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        set_mode(&dir.path().join("gnupg"), 0o700);
        Env { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn home(&self) -> PathBuf {
        self.path("home")
    }
    pub fn config_file(&self) -> PathBuf {
        self.path("config/vulnmail/config.toml")
    }
    pub fn data(&self) -> PathBuf {
        self.path("data")
    }
    pub fn work(&self) -> PathBuf {
        self.path("work")
    }
    pub fn secret_key(&self) -> PathBuf {
        self.data().join("keys/team-secret.asc")
    }

    /// `vulnmail` with a clean, pinned environment, as a plain std Command.
    pub fn std_vm(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("vulnmail"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("xdg-data"))
            .env("VULNMAIL_HOME", self.data())
            .env("GNUPGHOME", self.path("gnupg"))
            .env("LC_ALL", "C.UTF-8")
            .current_dir(self.work());
        c
    }

    /// `vulnmail` with a clean, pinned environment.
    pub fn vm(&self) -> Command {
        Command::from_std(self.std_vm())
    }

    /// `vulnmail` with the passphrase in VULNMAIL_PASSPHRASE.
    pub fn vmp(&self) -> Command {
        let mut c = self.vm();
        c.env("VULNMAIL_PASSPHRASE", PASS);
        c
    }

    /// `vulnmail init --batch` for security@example.org, protected with [`PASS`].
    pub fn init(&self) {
        self.vmp()
            .args(["init", "--batch", "--address", "security@example.org", "--domain", "example.org"])
            .args(["--name", "Example Security Team", "--policy-url", "https://example.org/security"])
            .assert()
            .success();
    }

    /// init + publish into `work/site` with SECURITY.md there.
    pub fn init_and_publish(&self) -> PathBuf {
        self.init();
        self.publish()
    }

    pub fn publish(&self) -> PathBuf {
        let site = self.work().join("site");
        self.vmp()
            .args(["key", "publish", "--out"])
            .arg(&site)
            .arg("--security-md")
            .arg(site.join("SECURITY.md"))
            .assert()
            .success();
        site
    }

    pub fn gpg(&self, args: &[&str]) -> Output {
        std::process::Command::new("gpg")
            .env("GNUPGHOME", self.path("gnupg"))
            .args(["--batch", "--no-tty", "--quiet", "--pinentry-mode", "loopback", "--trust-model", "always"])
            .args(args)
            .output()
            .expect("gpg runs")
    }

    pub fn sq(&self, args: &[&str]) -> Output {
        std::process::Command::new("sq")
            .env("HOME", self.home())
            .env("SEQUOIA_HOME", self.path("sq"))
            .args(args)
            .output()
            .expect("sq runs")
    }
}

pub fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

pub fn ok(o: &Output) -> &Output {
    assert!(
        o.status.success(),
        "command failed: {}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", stdout(o), stderr(o)))
}

/// An RFC 3339 instant `days` from now (negative: in the past).
pub fn days_from_now(days: i64) -> String {
    let t = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * days);
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Assert a failing command ended with exactly one line on stderr, the given code,
/// a hint, and no panic.
pub fn one_line_error(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "exit code; stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}

/// The unlocked team key and the library's decrypt, as later pipeline stages use them.
pub fn decrypt_with_team_key(env: &Env, passphrase: Option<&str>, message: &[u8]) -> Vec<u8> {
    use vulnmail::openpgp::{decrypt, keys};
    let tsk = keys::read_tsk(&env.secret_key()).expect("team key");
    let pw = passphrase.map(sequoia_openpgp::crypto::Password::from);
    let unlocked = keys::unlock(&tsk, pw.as_ref()).expect("unlock");
    let mut all = vec![unlocked];
    for old in keys::KeyStore::new(env.data().join("keys")).retired().unwrap() {
        all.push(keys::unlock(&old, pw.as_ref()).unwrap());
    }
    decrypt::decrypt(&all, &[], message, decrypt::Limits::default(), std::time::SystemTime::now())
        .expect("decrypts")
        .plaintext
}

/// Check (check name -> status) from `key check --json` output.
pub fn check_status(v: &serde_json::Value, check: &str) -> Vec<String> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == check)
        .map(|c| c["status"].as_str().unwrap().to_string())
        .collect()
}

pub fn check_detail(v: &serde_json::Value, check: &str) -> String {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == check)
        .map(|c| c["detail"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Encrypt `plaintext` with GnuPG to `recipient` (already imported), armored.
pub fn gpg_encrypt(env: &Env, recipient: &str, plaintext: &[u8]) -> Vec<u8> {
    let input = env.path("plain.txt");
    let output = env.path("cipher.asc");
    let _ = std::fs::remove_file(&output);
    std::fs::write(&input, plaintext).unwrap();
    ok(&env.gpg(&[
        "--encrypt",
        "--armor",
        "-r",
        recipient,
        "--output",
        output.to_str().unwrap(),
        input.to_str().unwrap(),
    ]));
    std::fs::read(&output).unwrap()
}

/// Send SIGTERM to a running `vulnmail watch` and wait (20 s at most) for it to stop.
pub fn stop_with_sigterm(mut child: std::process::Child) -> (std::process::ExitStatus, Output) {
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "watch did not stop on SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    (status, child.wait_with_output().unwrap())
}

/// Decrypt the PGP/MIME message `raw` with GnuPG (`gpg` runs it with the reader's
/// home; scratch files go in `dir`): (status lines, plaintext).
pub fn gpg_decrypt_pgp_mime(dir: &Path, raw: &[u8], gpg: impl Fn(&[&str]) -> Output) -> (String, Vec<u8>) {
    use mail_parser::{MessageParser, MimeHeaders};
    let msg = MessageParser::new().parse(raw).unwrap();
    let ct = msg.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("encrypted")), "{}", String::from_utf8_lossy(raw));
    let armored = dir.join("reply.asc");
    std::fs::write(&armored, msg.parts[2].contents()).unwrap();
    let out = dir.join("reply.txt");
    let status = dir.join("status.txt");
    let _ = std::fs::remove_file(&out);
    let o = gpg(&[
        "--status-file",
        status.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--decrypt",
        armored.to_str().unwrap(),
    ]);
    let status = String::from_utf8_lossy(&std::fs::read(&status).unwrap()).into_owned();
    assert!(o.status.success(), "gpg --decrypt failed: {}\n{status}", stderr(&o));
    (status, std::fs::read(&out).unwrap())
}
