//! Private Dovecot and Postfix instances on 127.0.0.1, through scripts/mailservers.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct MailServers {
    dir: PathBuf,
    env: HashMap<String, String>,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mailservers")
}

impl MailServers {
    /// Start a fresh set of servers in a short temporary directory.
    pub fn start() -> MailServers {
        // Unix socket paths must stay short, and the servers' users must reach it: /var/tmp (this machine's /tmp is 0700).
        let base = tempfile::Builder::new().prefix("ms").tempdir_in("/var/tmp").unwrap().keep();
        // The servers' unprivileged users must be able to reach it.
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let dir = base.join("s");
        let o = Command::new(script()).arg("start").arg(&dir).output().expect("scripts/mailservers runs");
        assert!(
            o.status.success(),
            "scripts/mailservers start failed:\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let text = std::fs::read_to_string(dir.join("env")).unwrap();
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        MailServers { dir, env }
    }

    pub fn get(&self, key: &str) -> &str {
        self.env.get(key).unwrap_or_else(|| panic!("{key} missing from the mailservers env"))
    }

    pub fn port(&self, key: &str) -> u16 {
        self.get(key).parse().unwrap()
    }

    fn run(&self, args: &[&str]) -> String {
        let o = Command::new(script()).args(args).output().unwrap();
        assert!(o.status.success(), "mailservers {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn d(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// Put message files straight into a user's mailbox (INBOX unless given).
    pub fn deliver(&self, user: &str, files: &[PathBuf]) {
        self.deliver_to(user, None, files)
    }

    pub fn deliver_to(&self, user: &str, mailbox: Option<&str>, files: &[PathBuf]) {
        let mut cmd = Command::new(script());
        cmd.arg("deliver");
        if let Some(m) = mailbox {
            cmd.arg(format!("--mailbox={m}"));
        }
        cmd.arg(&self.dir).arg(user);
        for chunk in files.chunks(500) {
            let mut c = Command::new(script());
            c.args(cmd.get_args());
            c.args(chunk);
            let o = c.output().unwrap();
            assert!(o.status.success(), "deliver: {}", String::from_utf8_lossy(&o.stderr));
        }
    }

    pub fn count(&self, user: &str, mailbox: &str) -> u64 {
        self.run(&["count", self.d(), user, mailbox]).trim().parse().unwrap()
    }

    pub fn stop_imap(&self) {
        self.run(&["stop-imap", self.d()]);
    }

    pub fn start_imap(&self) {
        self.run(&["start-imap", self.d()]);
    }

    pub fn restart_imap(&self) {
        self.run(&["restart-imap", self.d()]);
    }

    /// doveadm against the main instance.
    pub fn doveadm(&self, args: &[&str]) -> String {
        let o = Command::new("doveadm").arg("-c").arg(self.get("MS_DOVECOT_CONF")).args(args).output().unwrap();
        assert!(o.status.success(), "doveadm {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// The `[imap]` section for the security inbox on a given port and TLS mode.
    pub fn imap_section(&self, port_key: &str, tls: &str) -> String {
        format!(
            "[imap]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"{tls}\"\nuser = \"{}\"\n\
             password = {{ env = \"VULNMAIL_IMAP_PASSWORD\" }}\nca_file = \"{}\"\nmailboxes = [\"INBOX\"]\n",
            self.port(port_key),
            self.get("MS_SECURITY_USER"),
            self.get("MS_CA"),
        )
    }

    pub fn logs(&self) -> String {
        let o = Command::new(script()).arg("logs").arg(&self.dir).output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).output();
        if let Some(base) = self.dir.parent() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}
