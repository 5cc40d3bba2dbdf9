//! The configuration file and where vulnmail keeps its files.
//!
//! The key names are an interface (`shared/spec/config-toml.md`): add keys, never
//! change what one means. A secret never appears here, only where it comes from
//! ([`SecretSource`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::policy::Policy;

/// Where a secret comes from. Written in TOML as a one-key inline table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretSource {
    /// `{ env = "NAME" }`
    Env(String),
    /// `{ command = "pass show vulnmail" }`: run with `sh -c`, first line of stdout
    Command(String),
    /// `{ file = "path" }`: relative paths are taken in `$CREDENTIALS_DIRECTORY`
    File(PathBuf),
    /// `{ keyring = "service/account" }`: the OS keyring (Secret Service, keychain)
    Keyring(String),
    /// `{ prompt = true }`: ask on the terminal (interactive use only)
    Prompt(bool),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub team: Team,
    #[serde(default)]
    pub key: KeyConfig,
    #[serde(default)]
    pub publish: Publish,
    /// The inbox; absent until configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imap: Option<ImapConfig>,
    #[serde(default)]
    pub store: StoreConfig,
    /// Looking up reporters' keys on the network: off unless configured.
    #[serde(default)]
    pub lookup: LookupConfig,
    /// Sending replies; absent until configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpConfig>,
    /// Acknowledging reports.
    #[serde(default)]
    pub ack: AckConfig,
    /// The response policy; the built-in preset when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
    /// Who publishes advisories (`vulnmail export`); every key optional.
    #[serde(default, skip_serializing_if = "AdvisoryConfig::is_empty")]
    pub advisory: AdvisoryConfig,
}

/// `[advisory]`: what exported advisories say about the product and its publisher.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryConfig {
    /// The maker of the product (CVE `vendor`); default: the team name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The product; default: the package, else the team name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The package ecosystem, OSV's name ("crates.io", "npm", "PyPI", "Go", …) or GitHub's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<String>,
    /// The package name in that ecosystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The source repository URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The CNA's organisation UUID, for CVE records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cna_org_id: Option<String>,
    /// The CNA's short name (2-32 characters), for CVE records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cna_short_name: Option<String>,
}

impl AdvisoryConfig {
    pub fn is_empty(&self) -> bool {
        self == &AdvisoryConfig::default()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Team {
    #[serde(default)]
    pub name: String,
    /// The inbox address(es); the first is the sender of replies.
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(default)]
    pub domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyConfig {
    /// Absent: the key is stored unprotected (and `key check` warns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase: Option<SecretSource>,
    /// Days before an expiry that `key check` starts failing.
    #[serde(default = "default_warn_days")]
    pub warn_days: u32,
}

impl Default for KeyConfig {
    fn default() -> Self {
        KeyConfig { passphrase: None, warn_days: default_warn_days() }
    }
}

fn default_warn_days() -> u32 {
    30
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Publish {
    /// The URL the published tree (`key publish --out DIR`) is served at; default `https://<domain>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Where the armored certificate goes, relative to the output directory.
    #[serde(default = "default_keys_dir")]
    pub keys_dir: String,
    /// security.txt's Expires is this many days ahead at most (RFC 9116: under a year).
    #[serde(default = "default_expires_days")]
    pub security_txt_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgments: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hiring: Option<String>,
}

impl Default for Publish {
    fn default() -> Self {
        Publish {
            base_url: None,
            keys_dir: default_keys_dir(),
            security_txt_days: default_expires_days(),
            acknowledgments: None,
            hiring: None,
        }
    }
}

fn default_keys_dir() -> String {
    "keys".into()
}
fn default_expires_days() -> u32 {
    365
}

/// How the connection to a mail server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    #[default]
    Implicit,
    /// Plaintext greeting, then STARTTLS before anything else; refused if not offered.
    Starttls,
    /// No TLS at all: only with `allow_plaintext = true`, and only to a loopback address.
    None,
}

/// A size in bytes, written as a number or as `"50MiB"`, `"200KB"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "toml::Value", into = "u64")]
pub struct ByteSize(pub u64);

impl From<ByteSize> for u64 {
    fn from(b: ByteSize) -> u64 {
        b.0
    }
}

impl TryFrom<toml::Value> for ByteSize {
    type Error = String;
    fn try_from(v: toml::Value) -> Result<Self, String> {
        match v {
            toml::Value::Integer(n) if n > 0 => Ok(ByteSize(n as u64)),
            toml::Value::String(s) => parse_size(&s).map(ByteSize),
            other => Err(format!("{other} is not a size such as 52428800 or \"50MiB\"")),
        }
    }
}

/// Parse `50MiB`, `50MB`, `512KiB`, `1GiB` or plain bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a size such as 52428800 or \"50MiB\""))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1024,
        "m" | "mb" => 1000 * 1000,
        "mib" => 1024 * 1024,
        "g" | "gb" => 1000 * 1000 * 1000,
        "gib" => 1024 * 1024 * 1024,
        _ => {
            return Err(format!("{s:?}: unknown unit (use KiB, MiB, GiB, KB, MB, GB)"));
        }
    };
    Ok(n * mult)
}

/// `[imap]`: the security inbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImapConfig {
    pub host: String,
    /// Default: 993 for implicit TLS, 143 otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretSource>,
    /// Trust this CA (PEM) in addition to the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_mailboxes")]
    pub mailboxes: Vec<String>,
    #[serde(default)]
    pub allow_plaintext: bool,
    /// Messages larger than this are kept as placeholders (size and reason) until
    /// fetched with a larger cap.
    #[serde(default = "default_max_message")]
    pub max_message_size: ByteSize,
    /// After a message is safely stored, set this IMAP keyword on it (off when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_stored: Option<String>,
    /// After a message is safely stored, move it to this mailbox (off when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_stored_to: Option<String>,
    /// Seconds a network read or write may take before the connection is given up.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

impl ImapConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.tls == TlsMode::Implicit { 993 } else { 143 })
    }
}

fn default_mailboxes() -> Vec<String> {
    vec!["INBOX".into()]
}
fn default_max_message() -> ByteSize {
    ByteSize(50 * 1024 * 1024)
}
fn default_timeout() -> u64 {
    60
}

/// The envelope sender (`MAIL FROM`) of outgoing mail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvelopeFrom {
    /// `MAIL FROM:<>` for automatic replies (RFC 3834), so that no bounce answers a bounce;
    /// replies a person sends use the team address.
    #[default]
    Null,
    /// Always the team address, for servers that refuse the null sender.
    Address,
}

/// `[smtp]`: where replies are sent, and where copies are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmtpConfig {
    pub host: String,
    /// Default: 465 for implicit TLS, 587 for STARTTLS, 25 otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    /// Absent: no AUTH (a relay that trusts the host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretSource>,
    /// Trust this CA (PEM) in addition to the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub allow_plaintext: bool,
    /// The IMAP mailbox a copy of each sent message is appended to ([imap] account); "" = none.
    #[serde(default = "default_sent_mailbox")]
    pub sent_mailbox: String,
    #[serde(default)]
    pub envelope_from: EnvelopeFrom,
    /// Seconds a connection, command or answer may take.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Attempts per message before it is marked failed.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// The wait after the first failed attempt; doubled after each further one.
    #[serde(default = "default_backoff_seconds")]
    pub backoff_seconds: u64,
    /// The longest wait between two attempts.
    #[serde(default = "default_backoff_max_seconds")]
    pub backoff_max_seconds: u64,
}

impl SmtpConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::Implicit => 465,
            TlsMode::Starttls => 587,
            TlsMode::None => 25,
        })
    }
}

fn default_sent_mailbox() -> String {
    "Sent".into()
}
fn default_max_attempts() -> u32 {
    8
}
fn default_backoff_seconds() -> u64 {
    60
}
fn default_backoff_max_seconds() -> u64 {
    6 * 3600
}

/// `[ack]`: acknowledging reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AckConfig {
    /// Acknowledge new reports without a person (run / watch).
    #[serde(default)]
    pub auto: bool,
    /// At most one automatic reply per sender in this many days (RFC 3834).
    #[serde(default = "default_rate_limit_days")]
    pub rate_limit_days: u32,
}

impl Default for AckConfig {
    fn default() -> Self {
        AckConfig { auto: false, rate_limit_days: default_rate_limit_days() }
    }
}

fn default_rate_limit_days() -> u32 {
    7
}

/// `[lookup]`: finding a reporter's certificate by the From address.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LookupConfig {
    /// Ask the reporter's domain's Web Key Directory.
    #[serde(default)]
    pub wkd: bool,
    /// WKD URL templates tried in order ({local}, {hash}, {domain}); default: the
    /// advanced then the direct method.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wkd_urls: Vec<String>,
    /// A keyserver URL template with {email}, e.g. https://keys.openpgp.org/vks/v1/by-email/{email}.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyserver_url: Option<String>,
    /// Trust this CA (PEM) in addition to the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

impl LookupConfig {
    pub fn enabled(&self) -> bool {
        self.wkd || self.keyserver_url.is_some()
    }
}

/// `[store]`: the local encrypted store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreConfig {
    /// How long the unlocked store key stays in the kernel keyring (0: never cached).
    #[serde(default = "default_cache_seconds")]
    pub cache_seconds: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { cache_seconds: default_cache_seconds() }
    }
}

fn default_cache_seconds() -> u32 {
    900
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no configuration at {}: run `vulnmail init` first, or point --config / VULNMAIL_CONFIG at one",
        .0.display()
    )]
    Missing(PathBuf),
    #[error("cannot read {}: {source}", .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not a valid vulnmail configuration: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::Missing(path.to_path_buf()));
            }
            Err(source) => {
                return Err(ConfigError::Read { path: path.to_path_buf(), source });
            }
        };
        let cfg: Config = toml::from_str(&text)
            .map_err(|e| ConfigError::Invalid { path: path.to_path_buf(), message: e.message().to_string() })?;
        cfg.validate().map_err(|message| ConfigError::Invalid { path: path.to_path_buf(), message })?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), String> {
        if self.team.addresses.is_empty() {
            return Err("[team] addresses is empty: list at least the security inbox".into());
        }
        for a in &self.team.addresses {
            if !is_plausible_address(a) {
                return Err(format!("[team] addresses: {a:?} is not an email address"));
            }
        }
        if let Some(smtp) = &self.smtp {
            if smtp.password.is_some() && smtp.user.is_none() {
                return Err("[smtp] password is set but user is not".into());
            }
            if smtp.max_attempts == 0 {
                return Err("[smtp] max_attempts must be at least 1".into());
            }
        }
        if let Some(SecretSource::Prompt(false)) = self.key.passphrase {
            return Err("[key] passphrase = { prompt = false } names no source".into());
        }
        Ok(())
    }

    /// The security address replies come from.
    pub fn primary_address(&self) -> &str {
        self.team.addresses.first().map(String::as_str).unwrap_or_default()
    }

    /// The team's domain: `[team] domain`, else the primary address's.
    pub fn domain(&self) -> String {
        if !self.team.domain.is_empty() {
            return self.team.domain.to_ascii_lowercase();
        }
        self.primary_address().rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default()
    }

    pub fn base_url(&self) -> String {
        match &self.publish.base_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("https://{}", self.domain()),
        }
    }

    pub fn policy(&self) -> Policy {
        self.policy.clone().unwrap_or_else(Policy::preset)
    }
}

/// A deliberately loose check: one `@`, something on both sides, no spaces or angle brackets.
pub fn is_plausible_address(a: &str) -> bool {
    match a.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !a.chars().any(|c| c.is_whitespace() || c == '<' || c == '>' || c.is_control())
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

/// The files vulnmail uses, resolved once from the environment.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_file: PathBuf,
    /// Keys, the store; `VULNMAIL_HOME`, else `$XDG_DATA_HOME/vulnmail`.
    pub data_dir: PathBuf,
}

impl Paths {
    pub fn resolve(config_override: Option<&Path>) -> Result<Paths, crate::error::UserError> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let xdg = |var: &str, fallback: &str| -> Option<PathBuf> {
            match std::env::var_os(var) {
                Some(v) if Path::new(&v).is_absolute() => Some(PathBuf::from(v)),
                _ => home.as_ref().map(|h| h.join(fallback)),
            }
        };
        let no_home = || {
            crate::error::UserError("cannot tell where to keep files: set HOME, or VULNMAIL_HOME and --config".into())
        };
        let config_file = match config_override {
            Some(p) => p.to_path_buf(),
            None => xdg("XDG_CONFIG_HOME", ".config").ok_or_else(no_home)?.join("vulnmail/config.toml"),
        };
        let data_dir = match std::env::var_os("VULNMAIL_HOME") {
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => xdg("XDG_DATA_HOME", ".local/share").ok_or_else(no_home)?.join("vulnmail"),
        };
        Ok(Paths { config_file, data_dir })
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.data_dir.join("keys")
    }
}

/// The commented configuration `vulnmail init` writes.
pub fn render_initial(cfg: &Config) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let list = |v: &[String]| {
        let items: Vec<String> = v.iter().map(|s| q(s)).collect();
        format!("[{}]", items.join(", "))
    };
    let mut s = String::new();
    s.push_str("# vulnmail configuration. Key names: shared/spec/config-toml.md, docs/configuration.md.\n");
    s.push_str("# No secret belongs in this file: name where each one comes from instead.\n\n");
    s.push_str("[team]\n");
    s.push_str(&format!("name = {}\n", q(&cfg.team.name)));
    s.push_str("# The inbox address(es); the first is the sender of replies.\n");
    s.push_str(&format!("addresses = {}\n", list(&cfg.team.addresses)));
    s.push_str(&format!("domain = {}\n", q(&cfg.team.domain)));
    match &cfg.team.policy_url {
        Some(u) => s.push_str(&format!("policy_url = {}\n", q(u))),
        None => s.push_str("# policy_url = \"https://example.org/security-policy\"\n"),
    }
    s.push_str("# Languages reports may be written in (security.txt Preferred-Languages).\n");
    s.push_str(&format!("languages = {}\n\n", list(&cfg.team.languages)));
    s.push_str("[key]\n");
    s.push_str("# Where the key's passphrase comes from: { env = \"NAME\" }, { command = \"…\" },\n");
    s.push_str("# { file = \"path\" } (inside $CREDENTIALS_DIRECTORY when relative),\n");
    s.push_str("# { keyring = \"service/account\" } or { prompt = true }. Absent: unprotected key.\n");
    match &cfg.key.passphrase {
        Some(src) => s.push_str(&format!("{}\n", passphrase_line(src))),
        None => s.push_str("# passphrase = { env = \"VULNMAIL_PASSPHRASE\" }\n"),
    }
    s.push_str("# Days before an expiry that `vulnmail key check` starts failing.\n");
    s.push_str(&format!("warn_days = {}\n\n", cfg.key.warn_days));
    s.push_str("[publish]\n");
    s.push_str("# The web root the published tree is served from (default https://<domain>).\n");
    s.push_str(&format!("# base_url = {}\n", q(&cfg.base_url())));
    s.push_str(&format!("keys_dir = {}\n", q(&cfg.publish.keys_dir)));
    s.push_str(&format!("security_txt_days = {}\n", cfg.publish.security_txt_days));
    s.push_str("# acknowledgments = \"https://example.org/hall-of-fame\"\n");
    s.push_str("# hiring = \"https://example.org/jobs\"\n");
    s
}

fn inline(v: &toml::Value) -> String {
    match v {
        toml::Value::Table(t) => {
            let parts: Vec<String> = t.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            format!("{{ {} }}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// The `passphrase = …` line for a source, as `init` and `key protect` write it.
pub fn passphrase_line(src: &SecretSource) -> String {
    let v = toml::Value::try_from(src).map(|v| inline(&v)).unwrap_or_else(|_| "{ prompt = true }".into());
    format!("passphrase = {v}")
}

/// Set `[key] passphrase` in a configuration file's text, keeping everything else
/// (comments included) as the team wrote it.
pub fn with_key_passphrase(text: &str, src: &SecretSource) -> String {
    let line = passphrase_line(src);
    let mut out: Vec<String> = Vec::new();
    let mut in_key = false;
    let mut done = false;
    let mut saw_key = false;
    for l in text.lines() {
        let t = l.trim();
        if t.starts_with('[') {
            if in_key && !done {
                out.push(line.clone());
                done = true;
            }
            in_key = t == "[key]";
            saw_key |= in_key;
            out.push(l.to_string());
            continue;
        }
        if in_key && !done {
            let bare = t.trim_start_matches('#').trim_start();
            if bare.starts_with("passphrase") && bare[10..].trim_start().starts_with('=') {
                out.push(line.clone());
                done = true;
                continue;
            }
        }
        out.push(l.to_string());
    }
    if !done {
        if !saw_key {
            out.push(String::new());
            out.push("[key]".into());
        }
        out.push(line);
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// The `[policy]` section for a policy, one inline table per deadline.
pub fn render_policy(policy: &Policy) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut s = String::from("[policy]\n");
    s.push_str(&format!("time_zone = {}\n", q(&policy.time_zone)));
    let weekend: Vec<String> = policy.weekend.iter().map(|d| q(d)).collect();
    s.push_str(&format!("weekend = [{}]\n", weekend.join(", ")));
    let order = |k: &str| std::iter::once("default").chain(crate::report::policy::SEVERITIES).position(|x| x == k);
    let mut sevs: Vec<_> = policy.severities.iter().collect();
    sevs.sort_by_key(|(k, _)| (order(k).unwrap_or(usize::MAX), k.to_string()));
    for (sev, d) in sevs {
        s.push_str(&format!(
            "\n[policy.severities.{}]\n",
            toml::Value::String(sev.clone()).to_string().trim_matches('"')
        ));
        for (kind, deadline) in
            [("acknowledge", &d.acknowledge), ("triage", &d.triage), ("fix", &d.fix), ("disclose", &d.disclose)]
        {
            if let Some(v) = deadline.as_ref().and_then(|x| toml::Value::try_from(x).ok()) {
                s.push_str(&format!("{kind} = {}\n", inline(&v)));
            }
        }
    }
    s
}

/// Set `[policy]` in a configuration file's text, replacing any policy there and
/// keeping everything else (comments included) as the team wrote it.
pub fn with_policy(text: &str, policy: &Policy) -> Result<String, String> {
    use toml_edit::{DocumentMut, Item};
    fn max_position(item: &Item, max: &mut isize) {
        if let Item::Table(t) = item {
            *max = (*max).max(t.position().unwrap_or(0));
            for (_, i) in t.iter() {
                max_position(i, max);
            }
        }
    }
    fn renumber(item: &mut Item, next: &mut isize) {
        if let Item::Table(t) = item {
            t.set_position(Some(*next));
            *next += 1;
            for (_, i) in t.iter_mut() {
                renumber(i, next);
            }
        }
    }
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| e.message().to_string())?;
    let prefix = doc
        .get("policy")
        .and_then(Item::as_table)
        .and_then(|t| t.decor().prefix())
        .and_then(|p| p.as_str())
        .map(str::to_string);
    doc.remove("policy");
    let mut max = 0;
    for (_, i) in doc.iter() {
        max_position(i, &mut max);
    }
    let mut fresh: DocumentMut =
        render_policy(policy).parse().map_err(|e: toml_edit::TomlError| e.message().to_string())?;
    let mut item = fresh.remove("policy").ok_or("the policy did not render")?;
    let mut next = max + 1;
    renumber(&mut item, &mut next);
    if let Item::Table(t) = &mut item {
        let lead = if text.trim().is_empty() { "" } else { "\n" };
        t.decor_mut().set_prefix(prefix.unwrap_or_else(|| lead.to_string()));
    }
    doc.insert("policy", item);
    let mut out = doc.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_sources_parse_as_in_the_spec() {
        let cfg: Config = toml::from_str(
            r#"
            [team]
            addresses = ["security@example.org"]
            [key]
            passphrase = { env = "VULNMAIL_PASSPHRASE" }
            "#,
        )
        .unwrap();
        assert_eq!(cfg.key.passphrase, Some(SecretSource::Env("VULNMAIL_PASSPHRASE".into())));
        for (src, want) in [
            (r#"{ command = "pass show x" }"#, SecretSource::Command("pass show x".into())),
            (r#"{ file = "pw" }"#, SecretSource::File("pw".into())),
            (r#"{ keyring = "vulnmail/key" }"#, SecretSource::Keyring("vulnmail/key".into())),
            ("{ prompt = true }", SecretSource::Prompt(true)),
        ] {
            let t: toml::Table = toml::from_str(&format!("p = {src}")).unwrap();
            let got: SecretSource = t["p"].clone().try_into().unwrap();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn initial_config_round_trips() {
        let mut cfg = Config::default();
        cfg.team.name = "Example \"Sec\" Team".into();
        cfg.team.addresses = vec!["security@example.org".into()];
        cfg.team.domain = "example.org".into();
        cfg.key.passphrase = Some(SecretSource::Env("VULNMAIL_PASSPHRASE".into()));
        let text = render_initial(&cfg);
        let back: Config = toml::from_str(&text).unwrap();
        assert_eq!(back.team.name, cfg.team.name);
        assert_eq!(back.key.passphrase, cfg.key.passphrase);
        assert_eq!(back.publish.keys_dir, "keys");
    }

    #[test]
    fn passphrase_line_is_replaced_in_place() {
        let text = "# top\n[team]\naddresses = [\"a@b.org\"]\n\n[key]\n# where it comes from\n# passphrase = { env = \"X\" }\nwarn_days = 30\n";
        let out = with_key_passphrase(text, &SecretSource::Env("VULNMAIL_PASSPHRASE".into()));
        assert!(
            out.contains("# where it comes from\npassphrase = { env = \"VULNMAIL_PASSPHRASE\" }\nwarn_days = 30"),
            "{out}"
        );
        let cfg: Config = toml::from_str(&out).unwrap();
        assert_eq!(cfg.key.passphrase, Some(SecretSource::Env("VULNMAIL_PASSPHRASE".into())));
        let added = with_key_passphrase("[team]\naddresses = [\"a@b.org\"]\n", &SecretSource::Prompt(true));
        let cfg: Config = toml::from_str(&added).unwrap();
        assert_eq!(cfg.key.passphrase, Some(SecretSource::Prompt(true)));
    }

    #[test]
    fn smtp_and_ack_sections_have_safe_defaults() {
        let cfg: Config =
            toml::from_str("[team]\naddresses = [\"security@example.org\"]\n[smtp]\nhost = \"smtp.example.org\"\n")
                .unwrap();
        let s = cfg.smtp.as_ref().unwrap();
        assert_eq!((s.tls, s.port(), s.sent_mailbox.as_str()), (TlsMode::Implicit, 465, "Sent"));
        assert_eq!((s.envelope_from, s.max_attempts, s.backoff_seconds), (EnvelopeFrom::Null, 8, 60));
        assert!(!s.allow_plaintext && s.user.is_none());
        assert!(!cfg.ack.auto);
        assert_eq!(cfg.ack.rate_limit_days, 7);
        assert!(cfg.validate().is_ok());
        let cfg: Config = toml::from_str(
            "[team]\naddresses = [\"security@example.org\"]\n[smtp]\nhost = \"h\"\ntls = \"starttls\"\n\
             envelope_from = \"address\"\npassword = { env = \"P\" }\n[ack]\nauto = true\nrate_limit_days = 3\n",
        )
        .unwrap();
        let s = cfg.smtp.as_ref().unwrap();
        assert_eq!((s.port(), s.envelope_from), (587, EnvelopeFrom::Address));
        assert!(cfg.validate().is_err(), "a password without a user");
        assert!(toml::from_str::<Config>("[smtp]\nhost = \"h\"\nenvelope_from = \"bogus\"\n").is_err());
    }

    #[test]
    fn addresses() {
        assert!(is_plausible_address("security@example.org"));
        assert!(!is_plausible_address("security"));
        assert!(!is_plausible_address("a b@example.org"));
        assert!(!is_plausible_address("x@localhost"));
    }
    #[test]
    fn policy_is_written_in_place_of_the_old_one_and_comments_stay() {
        let text = "# top comment\n[team]\naddresses = [\"a@b.org\"] # inbox\n\n# our promises\n[policy]\ntime_zone = \"Europe/Berlin\"\nweekend = []\n[policy.severities.high.fix]\namount = 1\nunit = \"days\"\nfrom = \"triage\"\n\n# after\n[publish]\nkeys_dir = \"k\"\n";
        let policy = Policy::preset();
        let out = with_policy(text, &policy).unwrap();
        assert!(out.starts_with("# top comment\n[team]\naddresses = [\"a@b.org\"] # inbox\n"), "{out}");
        assert!(out.contains("# after\n[publish]\nkeys_dir = \"k\""), "{out}");
        assert!(out.contains("# our promises\n[policy]\n"), "{out}");
        assert!(!out.contains("Europe/Berlin"), "{out}");
        assert!(out.contains("[policy.severities.default]\nacknowledge = { amount = 48,"), "{out}");
        let cfg: Config = toml::from_str(&out).unwrap();
        assert_eq!(cfg.policy, Some(policy.clone()));
        // Written again, nothing moves.
        assert_eq!(with_policy(&out, &policy).unwrap(), out);
        let added = with_policy("[team]\naddresses = [\"a@b.org\"]\n", &policy).unwrap();
        let cfg: Config = toml::from_str(&added).unwrap();
        assert_eq!(cfg.policy, Some(policy));
    }
}
