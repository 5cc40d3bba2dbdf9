//! One module per subcommand. Each returns an [`Output`] (text and JSON); this module
//! dispatches, holds what every command shares ([`Ctx`]), and maps errors to exit codes.

mod ack;
mod attachment;
mod certs;
mod completions;
mod due;
mod export;
mod fetch;
mod import;
mod init;
mod key;
mod list;
mod lock;
mod log;
mod lookup;
mod man;
mod messages;
mod outbox;
mod policy;
pub mod process;
mod reprocess;
mod run;
mod secrets;
mod show;
mod stats;
pub mod tracking;
mod triage;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use sequoia_openpgp::Cert;
use sequoia_openpgp::crypto::Password;

use crate::cli::{Cli, Command, KeyCommand, SecretsCommand};
use crate::clock::Clock;
use crate::config::{Config, ConfigError, Paths, SecretSource};
use crate::error::UserError;
use crate::openpgp::keys::{self, KeyError, KeyStore};
use crate::output::Style;
use crate::secrets::{self as secret_sources, Interaction, SecretError};
use crate::store::{self, Store, WriteLock, key as store_key};
use crate::term::sanitize;

/// What every command may need, decided once from the global flags.
pub struct Ctx {
    pub paths: Paths,
    pub batch: bool,
    pub json: bool,
    pub verbose: u8,
    pub quiet: bool,
    pub style: Style,
    pub clock: Clock,
}

impl Ctx {
    pub fn config(&self) -> anyhow::Result<Config> {
        Ok(Config::load(&self.paths.config_file)?)
    }

    pub fn interaction(&self) -> Interaction {
        if self.batch { Interaction::Batch } else { Interaction::Allowed }
    }

    pub fn keystore(&self) -> KeyStore {
        KeyStore::new(self.paths.keys_dir())
    }

    /// A progress or advice line on stderr (not with -q, never data).
    pub fn note(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// The key passphrase from its configured source; `None` when none is configured.
    pub fn passphrase(&self, cfg: &Config) -> anyhow::Result<Option<Password>> {
        let Some(src) = &cfg.key.passphrase else {
            return Ok(None);
        };
        Ok(Some(resolve_passphrase(src, self.interaction())?))
    }

    /// The team key with its secrets decrypted, in memory only.
    pub fn unlocked_key(&self, cfg: &Config) -> anyhow::Result<Cert> {
        let cert = self.keystore().load()?;
        let pw = if keys::is_protected(&cert) { self.passphrase(cfg)? } else { None };
        Ok(keys::unlock(&cert, pw.as_ref())?)
    }

    /// Store an unlocked key, protected with the configured passphrase when there is one.
    pub fn save_key(&self, cfg: &Config, unlocked: &Cert) -> anyhow::Result<bool> {
        let store = self.keystore();
        match self.passphrase(cfg)? {
            Some(pw) => {
                store.save(&keys::protect(unlocked, &pw)?)?;
                Ok(true)
            }
            None => {
                store.save(unlocked)?;
                Ok(false)
            }
        }
    }

    /// Every team key (current first, then retired), unlocked, for decryption.
    ///
    /// Cached, like the store key, in the kernel keyring for `[store] cache_seconds`
    /// (the passphrase's key derivation is the slow part of a run); `vulnmail lock`
    /// forgets it. The cache is bound to the current key's fingerprint.
    pub fn unlocked_keys(&self, cfg: &Config) -> anyhow::Result<Vec<Cert>> {
        use sequoia_openpgp::serialize::SerializeInto;
        let dir = &self.paths.data_dir;
        let current = self.keystore().load_public().ok().map(|c| c.fingerprint());
        if cfg.store.cache_seconds > 0
            && let Some(bytes) = store_key::cache_get(dir, "team")
            && let Ok(certs) = keys::parse_certs(&bytes)
            && certs.first().map(|c| c.fingerprint()) == current
            && certs.iter().all(|c| !keys::is_protected(c))
        {
            return Ok(certs);
        }
        let mut out = vec![self.unlocked_key(cfg)?];
        let pw = self.passphrase(cfg).ok().flatten();
        for old in self.keystore().retired()? {
            // A retired key under another passphrase is skipped, not fatal.
            if let Ok(k) = keys::unlock(&old, pw.as_ref()) {
                out.push(k);
            }
        }
        if cfg.store.cache_seconds > 0 {
            let mut bytes = zeroize::Zeroizing::new(Vec::new());
            for c in &out {
                if let Ok(b) = c.as_tsk().to_vec() {
                    bytes.extend_from_slice(&b);
                }
            }
            store_key::cache_put(dir, "team", &bytes, cfg.store.cache_seconds);
        }
        Ok(out)
    }

    /// The store key: from the kernel keyring cache, else unwrapped with the team
    /// key (created on first use when `create` is set).
    pub fn store_key(&self, cfg: &Config, create: bool) -> anyhow::Result<store_key::StoreKey> {
        let dir = &self.paths.data_dir;
        if cfg.store.cache_seconds > 0
            && let Some(k) = store_key::cached(dir)
        {
            return Ok(k);
        }
        let now = self.clock.system_time();
        let key = if store_key::key_file(dir).exists() {
            store_key::unwrap(dir, &self.unlocked_keys(cfg)?, now)?
        } else if create {
            let current = self.keystore().load()?;
            store_key::create(dir, &[current], now)?
        } else {
            return Err(UserError(format!(
                "there is no store in {} yet: run `vulnmail fetch` or `vulnmail import` first",
                dir.display()
            ))
            .into());
        };
        if cfg.store.cache_seconds > 0 && !store_key::cache(dir, &key, cfg.store.cache_seconds) && self.verbose > 0 {
            self.note("the kernel keyring is not available here; the store is unlocked on each run");
        }
        Ok(key)
    }

    /// Open the store for reading (no lock; readers never block).
    pub fn open_store(&self, cfg: &Config) -> anyhow::Result<Store> {
        let key = self.store_key(cfg, false)?;
        Ok(Store::open(&store::db_path(&self.paths.data_dir), &key.0)?)
    }

    /// Take the writer lock, then open (or create) the store.
    pub fn open_store_for_writing(&self, cfg: &Config, what: &str, wait: u64) -> anyhow::Result<(WriteLock, Store)> {
        let lock = WriteLock::acquire(&self.paths.data_dir, what, std::time::Duration::from_secs(wait))?;
        let key = self.store_key(cfg, true)?;
        let store = Store::open(&store::db_path(&self.paths.data_dir), &key.0)?;
        Ok((lock, store))
    }

    /// The repository root (or the current directory) for publish/check defaults.
    pub fn default_tree(&self) -> PathBuf {
        let git = std::process::Command::new("git")
            .args(["rev-parse", "--show-toplevel"])
            .stderr(std::process::Stdio::null())
            .output();
        match git {
            Ok(o) if o.status.success() => {
                PathBuf::from(String::from_utf8_lossy(&o.stdout).trim_end_matches(['\n', '\r']))
            }
            _ => PathBuf::from("."),
        }
    }
}

/// Parse-free entry point: run the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = cli.global;
    let clock = Clock::new(g.time.as_deref())?;
    let paths = Paths::resolve(g.config.as_deref())?;
    let ctx = Ctx {
        paths,
        batch: g.batch,
        json: g.json,
        verbose: g.verbose,
        quiet: g.quiet,
        style: Style::new(g.color),
        clock,
    };
    let out = match cli.command {
        Command::Init(a) => init::run(&ctx, a)?,
        Command::Key(k) => match k {
            KeyCommand::Show(a) => key::show::run(&ctx, a)?,
            KeyCommand::Import(a) => key::import::run(&ctx, a)?,
            KeyCommand::Export(a) => key::export::run(&ctx, a)?,
            KeyCommand::Extend(a) => key::extend::run(&ctx, a)?,
            KeyCommand::Rotate(a) => key::rotate::run(&ctx, a)?,
            KeyCommand::Protect(a) => key::protect::run(&ctx, a)?,
            KeyCommand::Publish(a) => key::publish::run(&ctx, a)?,
            KeyCommand::Check(a) => key::check::run(&ctx, a)?,
        },
        Command::Secrets(SecretsCommand::Status(a)) => secrets::status(&ctx, a)?,
        Command::Fetch(a) => fetch::run(&ctx, a)?,
        Command::Outbox(a) => outbox::run(&ctx, a)?,
        Command::Import(a) => import::run(&ctx, a)?,
        Command::Watch(a) => watch::run(&ctx, a)?,
        Command::Messages(a) => messages::run(&ctx, a)?,
        Command::List(a) => list::run(&ctx, a)?,
        Command::Show(a) => show::run(&ctx, a)?,
        Command::Triage(a) => triage::run(&ctx, a)?,
        Command::Log(a) => log::run(&ctx, a)?,
        Command::Due(a) => due::run(&ctx, a)?,
        Command::Stats(a) => stats::run(&ctx, a)?,
        Command::Export(a) => export::run(&ctx, a)?,
        Command::Reprocess(a) => reprocess::run(&ctx, a)?,
        Command::Certs(a) => certs::run(&ctx, a)?,
        Command::Attachment(crate::cli::AttachmentCommand::Save(a)) => attachment::save(&ctx, a)?,
        Command::Ack(a) => ack::run(&ctx, a)?,
        Command::Run(a) => run::run(&ctx, a)?,
        Command::Lock(a) => lock::run(&ctx, a)?,
        Command::Policy(crate::cli::PolicyCommand::Import(a)) => policy::import(&ctx, a)?,
        Command::Policy(crate::cli::PolicyCommand::Show(a)) => policy::show(&ctx, a)?,
        Command::Completions(a) => completions::run(a)?,
        Command::Man(a) => man::run(&ctx, a)?,
    };
    out.print(ctx.json).context("cannot write the output")?;
    Ok(match (out.failed, out.code) {
        (true, _) => ExitCode::from(1),
        (false, Some(c)) => ExitCode::from(c),
        (false, None) => ExitCode::SUCCESS,
    })
}

/// Print an error chain on one line and choose the exit code: 2 for the user's
/// mistakes, 1 for failures, 0 for a closed pipe (`vulnmail … | head`).
pub fn report_error(err: &anyhow::Error, _quiet: bool) -> ExitCode {
    for cause in err.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return ExitCode::SUCCESS;
        }
    }
    let parts: Vec<String> = err.chain().map(|c| c.to_string()).collect();
    let mut line = String::new();
    for p in parts {
        // anyhow contexts often repeat their cause; print each piece once.
        if !line.contains(&p) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&p);
        }
    }
    eprintln!("vulnmail: error: {}", sanitize(&line, false));
    if is_user_error(err) { ExitCode::from(2) } else { ExitCode::from(1) }
}

fn is_user_error(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.is::<UserError>()
            || c.is::<SecretError>()
            || matches!(
                c.downcast_ref::<crate::mail::imap::ImapError>(),
                Some(
                    crate::mail::imap::ImapError::Login { .. }
                        | crate::mail::imap::ImapError::NoStartTls(_)
                        | crate::mail::imap::ImapError::PlaintextRefused(_)
                        | crate::mail::imap::ImapError::TlsConfig(_)
                )
            )
            || matches!(c.downcast_ref::<ConfigError>(), Some(ConfigError::Missing(_) | ConfigError::Invalid { .. }))
            || matches!(
                c.downcast_ref::<KeyError>(),
                Some(
                    KeyError::NotFound(_)
                        | KeyError::Corrupt { .. }
                        | KeyError::PublicOnly(_)
                        | KeyError::Several { .. }
                        | KeyError::WrongPassphrase
                        | KeyError::NeedPassphrase
                )
            )
    })
}

/// The key passphrase from `src`, with the source named when it cannot be read.
pub fn resolve_passphrase(src: &SecretSource, interaction: Interaction) -> anyhow::Result<Password> {
    let s = resolve_secret("the key passphrase", src, interaction)?;
    Ok(Password::from(s.expose()))
}

/// Resolve a configured secret ("the IMAP password"), saying where from on failure.
pub fn resolve_secret(
    what: &str,
    src: &SecretSource,
    interaction: Interaction,
) -> anyhow::Result<secret_sources::Secret> {
    secret_sources::resolve(what, src, interaction)
        .with_context(|| format!("cannot get {what} from {}", secret_sources::describe(src)))
}

/// The passphrase source named by `--passphrase-*` flags, if any.
pub fn source_from_flags(p: &crate::cli::PassphraseSourceArgs) -> Option<SecretSource> {
    if let Some(n) = &p.passphrase_env {
        return Some(SecretSource::Env(n.clone()));
    }
    if let Some(c) = &p.passphrase_command {
        return Some(SecretSource::Command(c.clone()));
    }
    if let Some(f) = &p.passphrase_file {
        return Some(SecretSource::File(f.clone()));
    }
    p.passphrase_keyring.clone().map(SecretSource::Keyring)
}

fn suite(c: crate::cli::CipherSuite) -> keys::Suite {
    match c {
        crate::cli::CipherSuite::Cv25519 => keys::Suite::Cv25519,
        crate::cli::CipherSuite::Rsa4k => keys::Suite::Rsa4k,
    }
}
