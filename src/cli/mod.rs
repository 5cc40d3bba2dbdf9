//! The command line, as clap definitions only.
//!
//! Nothing here does I/O: `build.rs`-free man pages, shell completions and the CLI
//! reference in `docs/` are all generated from these types, so they must stay pure.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run a project's security@ inbox: publish the key, fetch, decrypt, triage, acknowledge
///
/// vulnmail keeps the team's OpenPGP key, publishes it where reporters look
/// (keys/, security.txt, Web Key Directory, SECURITY.md) and checks that what is
/// published is still valid.
///
/// Example:
///   vulnmail init --batch --address security@example.org --domain example.org
///   vulnmail key publish --out site/
///   vulnmail key check --dir site/
#[derive(Debug, Parser)]
#[command(name = "vulnmail", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Use this configuration file instead of $XDG_CONFIG_HOME/vulnmail/config.toml
    #[arg(long, global = true, env = "VULNMAIL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print machine-readable JSON on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,

    /// Never prompt; fail with a message saying what is missing instead
    #[arg(long, global = true, env = "VULNMAIL_BATCH", value_parser = clap::builder::FalseyValueParser::new())]
    pub batch: bool,

    /// Say more about what is happening (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Print only errors
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// When to colour the output; NO_COLOR in the environment means never
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Pretend the current time is this RFC 3339 instant (for tests and rehearsals)
    #[arg(long, global = true, hide = true, env = "VULNMAIL_TIME", value_name = "TIME")]
    pub time: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(InitArgs),
    #[command(subcommand)]
    Key(KeyCommand),
    #[command(subcommand)]
    Secrets(SecretsCommand),
    Fetch(FetchArgs),
    Import(ImportArgs),
    Watch(WatchArgs),
    Messages(MessagesArgs),
    List(ListArgs),
    Show(ShowArgs),
    Triage(TriageArgs),
    Log(LogArgs),
    Due(DueArgs),
    Stats(StatsArgs),
    Export(ExportArgs),
    Reprocess(ReprocessArgs),
    Certs(CertsArgs),
    #[command(subcommand)]
    Attachment(AttachmentCommand),
    Ack(AckArgs),
    Run(RunArgs),
    Outbox(OutboxArgs),
    Lock(LockArgs),
    #[command(subcommand)]
    Policy(PolicyCommand),
    Completions(CompletionsArgs),
    Man(ManArgs),
}

/// Answer a reporter from a template: queue the reply in the outbox and send it
///
/// The reply goes to the address the report came from, threaded, and encrypted
/// and signed when the reporter's certificate is known. It quotes the report only
/// when the sender is bound to what was decrypted (see docs/acknowledgements.md).
/// Sending the first reply records the report as acknowledged. The no-reply rules
/// (auto-submitted mail, lists, bounces, mail not addressed to us, …) also apply
/// here; --force overrides them and the never-twice check.
///
/// Example:
///   vulnmail ack VR-2026-0007 --preview
///   vulnmail ack VR-2026-0007
///   vulnmail ack VR-2026-0007 --template needs-info --note "Which version did you test?"
///   vulnmail ack --pending
#[derive(Debug, Args)]
pub struct AckArgs {
    /// The report id
    #[arg(required_unless_present = "pending", conflicts_with = "pending")]
    pub id: Option<String>,

    /// Every report still waiting for its first response
    #[arg(long)]
    pub pending: bool,

    /// The template: ack, needs-info, triaged, fixed, disclosed, or one of your own
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,

    /// Show the reply (and any reason not to send it) without queuing it
    #[arg(long)]
    pub preview: bool,

    /// Text for the template's `note` (a question, the release, the advisory's address)
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,

    /// Reply even when a no-reply rule applies or this reply was already sent
    #[arg(long)]
    pub force: bool,

    /// Only queue the reply; `vulnmail outbox send` or `run` delivers it
    #[arg(long)]
    pub queue_only: bool,

    /// Seconds to wait for another vulnmail that is writing to the store
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub wait: u64,
}

/// Do the whole loop once: fetch, process, acknowledge, deliver, show what is due
///
/// For cron and systemd timers. Each step that is configured runs even when an
/// earlier one failed (a fetch error does not hold back replies already queued).
/// New reports are acknowledged automatically only with `[ack] auto = true`.
/// Exit status: 0 all well; 1 a step failed; 3 every step worked but a deadline
/// is overdue; 2 a usage or configuration error.
///
/// Example:
///   vulnmail run
///   vulnmail run --json --within 1d
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Do not fetch (only process, acknowledge and deliver what is stored)
    #[arg(long)]
    pub no_fetch: bool,

    /// Do not acknowledge new reports, even with [ack] auto = true
    #[arg(long)]
    pub no_ack: bool,

    /// Do not deliver the outbox
    #[arg(long)]
    pub no_send: bool,

    /// Also show deadlines falling due within this time
    #[arg(long, default_value = "3d", value_name = "DURATION")]
    pub within: String,

    /// Seconds to wait for another vulnmail that is writing to the store
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub wait: u64,
}

/// Fetch new mail from the security inbox into the local store
///
/// Incremental by UIDVALIDITY/UID: only messages not yet stored are fetched, in
/// batches, with BODY.PEEK (the server's \Seen flags are left alone). Each batch
/// and the cursor covering it are committed together, so an interrupted fetch
/// resumes where it stopped and never stores a message twice. Messages over
/// imap.max_message_size are kept as placeholders until fetched with --max-size.
///
/// Example:
///   vulnmail fetch
///   vulnmail fetch --mailbox INBOX --max-size 200MiB --json
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Fetch only this mailbox (repeat for several; default: [imap] mailboxes)
    #[arg(long = "mailbox", value_name = "NAME")]
    pub mailboxes: Vec<String>,

    /// Override imap.max_message_size for this run, e.g. 200MiB
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,

    /// Seconds to wait for another vulnmail that is writing to the store
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub wait: u64,

    /// Only store the messages; turn them into reports later with `vulnmail reprocess`
    #[arg(long)]
    pub no_process: bool,
}

/// Import messages from .eml files, Maildir folders or mbox files
///
/// The same de-duplication as fetch: a message already in the store (fetched or
/// imported before, whatever its line endings) is not stored again.
///
/// Example:
///   vulnmail import ~/Maildir/.Security forwarded-report.eml old-reports.mbox
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or folders to import
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Seconds to wait for another vulnmail that is writing to the store
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub wait: u64,

    /// Only store the messages; turn them into reports later with `vulnmail reprocess`
    #[arg(long)]
    pub no_process: bool,
}

/// Fetch continuously: IMAP IDLE on the configured mailboxes
///
/// Fetches at start, then whenever the server reports new mail. Reconnects with
/// backoff after network errors and server restarts. Stops cleanly on SIGINT or
/// SIGTERM (finishing the batch in progress).
///
/// Example:
///   vulnmail watch
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Watch only this mailbox (repeat for several; default: [imap] mailboxes)
    #[arg(long = "mailbox", value_name = "NAME")]
    pub mailboxes: Vec<String>,

    /// Longest wait between reconnection attempts, in seconds
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub max_backoff: u64,

    /// Re-issue IDLE at least this often, in seconds (RFC 2177 asks for under 29 minutes)
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub idle_seconds: u64,

    /// How often, in milliseconds, a stop signal is noticed while idle
    #[arg(long, default_value_t = 1000, hide = true)]
    pub tick_ms: u64,
}

/// List what the store holds: id, mailbox, UID, date, sender, subject, size, state
///
/// Example:
///   vulnmail messages --json
#[derive(Debug, Args)]
pub struct MessagesArgs {}

/// List reports: id, received, state, severity, title, reporter
///
/// Follow-ups, bounces and automatic replies are left out unless --all is given.
///
/// Example:
///   vulnmail list --json
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Also list follow-ups and messages that are not reports
    #[arg(long)]
    pub all: bool,

    /// Only reports in these states (comma-separated; also "open" and "closed")
    #[arg(long, value_delimiter = ',', value_name = "STATE")]
    pub state: Vec<String>,

    /// Only reports of these severities (the team's, else the reporter's claim; "unset" for none)
    #[arg(long, value_delimiter = ',', value_name = "SEVERITY")]
    pub severity: Vec<String>,

    /// Only reports with a deadline already missed and still open
    #[arg(long)]
    pub overdue: bool,

    /// Only reports received at or after this date (YYYY-MM-DD or RFC 3339) or this long ago (7d)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// Only reports whose decrypted fields or conversation contain TEXT (case-insensitive)
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,

    /// Sort order: deadline (overdue and soonest first, the default), received, severity
    #[arg(long, default_value = "deadline", value_parser = ["deadline", "received", "severity"])]
    pub sort: String,
}

/// Triage a report: move its state, set severity, CVSS, owner, CVE, or add a note
///
/// Every change is recorded with its time and actor (see `vulnmail log`). A CVSS
/// vector (3.1 or 4.0) sets the team's severity from its score unless --severity
/// is given too. An illegal move is refused with the moves allowed from the
/// current state. The reporter's own severity claim is kept apart.
///
/// Example:
///   vulnmail triage VR-2026-0007 --state triaged --cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
///   vulnmail triage VR-2026-0008 --duplicate-of VR-2026-0007 --note "same bug as 0007"
#[derive(Debug, Args)]
pub struct TriageArgs {
    /// The report id (VR-YYYY-NNNN)
    pub id: String,

    /// New state: new, acknowledged, needs-info, triaged, fixing, fixed, disclosed,
    /// duplicate, invalid, informative, out-of-scope, wont-fix
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,

    /// The team's severity: critical, high, medium, low, none
    #[arg(long, value_name = "SEVERITY")]
    pub severity: Option<String>,

    /// The team's CVSS 3.1 or 4.0 vector
    #[arg(long, value_name = "VECTOR")]
    pub cvss: Option<String>,

    /// Who owns the report ("" to unassign)
    #[arg(long, value_name = "WHO")]
    pub assign: Option<String>,

    /// Add a note to the history
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,

    /// Close as a duplicate of this report (implies --state duplicate)
    #[arg(long, value_name = "ID")]
    pub duplicate_of: Option<String>,

    /// Record a CVE id assigned to the report (repeat for several)
    #[arg(long, value_name = "CVE-YYYY-NNNN")]
    pub cve: Vec<String>,

    /// Who makes the change (default: $VULNMAIL_ACTOR, else the login name)
    #[arg(long, value_name = "WHO")]
    pub actor: Option<String>,

    /// Seconds to wait for another vulnmail that is writing to the store
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub wait: u64,
}

/// Show the history of a report: every triage change with its time and actor
///
/// Example:
///   vulnmail log VR-2026-0007
#[derive(Debug, Args)]
pub struct LogArgs {
    /// The report id
    pub id: String,
}

/// Show what needs action: deadlines overdue or due soon, overdue first
///
/// Exits with status 1 when any deadline is overdue, so cron or CI can alert.
///
/// Example:
///   vulnmail due
///   vulnmail due --within 7d --json
#[derive(Debug, Args)]
pub struct DueArgs {
    /// Also list deadlines falling due within this time (e.g. 12h, 3d, 2w)
    #[arg(long, default_value = "3d", value_name = "DURATION")]
    pub within: String,
}

/// Show response metrics: time to first response, triage and fix; deadlines met
///
/// Per severity, the median and 90th percentile of each time, and the share of
/// deadlines met (a deadline still open past its time counts as missed).
///
/// Example:
///   vulnmail stats --since 2026-01-01
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Only reports received at or after this date (YYYY-MM-DD or RFC 3339) or this long ago (90d)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
}

/// Show one report: its fields, attachments, signature, and conversation
///
/// Everything that came from the mail is sanitised for the terminal. On a
/// terminal the text goes through a pager ($PAGER, else less).
///
/// Example:
///   vulnmail show VR-2026-0007
///   vulnmail show VR-2026-0007 --json
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The report id, e.g. VR-2026-0007
    pub id: String,

    /// Print the decrypted MIME message instead (sanitised on a terminal)
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,
}

/// Export a report as an advisory: report JSON, Markdown draft, OSV, CVE JSON 5 or GitHub
///
/// The reporter is named only when they asked for public credit; otherwise their
/// name, handle, contact and address are left out, also from the free text. A CVE
/// record needs a CVE id assigned with `vulnmail triage ID --cve` and the CNA's
/// [advisory] cna_org_id. See docs/exports.md for the field mapping.
///
/// Example:
///   vulnmail export VR-2026-0007 --format osv
///   vulnmail export VR-2026-0007 --format markdown --output advisory.md
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The report id, e.g. VR-2026-0007
    pub id: String,

    /// The format: json, markdown, osv, cve5 or ghsa
    #[arg(long, short = 'f', value_enum, value_name = "FORMAT")]
    pub format: ExportFormat,

    /// Write to this file (which must not exist yet) instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Overwrite FILE if it exists
    #[arg(long, requires = "output")]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// The report JSON contract (as `show --json`), credit rule applied
    Json,
    /// An advisory draft in Markdown
    Markdown,
    /// An OSV record (ossf/osv-schema)
    Osv,
    /// A CVE JSON 5.1 record with the CNA container
    Cve5,
    /// The body of GitHub's "create a repository security advisory" request
    Ghsa,
}

/// Rebuild reports from the stored raw messages, keeping the team's triage data
///
/// Run it after upgrading vulnmail or importing a key that makes old messages
/// decryptable.
///
/// Example:
///   vulnmail reprocess --all
#[derive(Debug, Args)]
pub struct ReprocessArgs {
    /// The report to rebuild
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub id: Option<String>,

    /// Rebuild every report
    #[arg(long)]
    pub all: bool,
}

/// List reporters' certificates collected from reports
///
/// Collected from attached keys and Autocrypt headers; used to verify later
/// reports and to encrypt replies.
///
/// Example:
///   vulnmail certs --json
#[derive(Debug, Args)]
pub struct CertsArgs {}

/// Work with a report's attachments
#[derive(Debug, Subcommand)]
pub enum AttachmentCommand {
    Save(AttachmentSaveArgs),
}

/// Show the outbox: replies waiting, sent, failed
///
/// Every reply is written to the outbox first and sent from there; see
/// docs/delivery.md for the states. Without a subcommand, lists the queue.
///
/// Example:
///   vulnmail outbox --json
///   vulnmail outbox send
///   vulnmail outbox retry 7
#[derive(Debug, Args)]
pub struct OutboxArgs {
    #[command(subcommand)]
    pub command: Option<OutboxCommand>,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    Send(OutboxSendArgs),
    Retry(OutboxIdArgs),
    Drop(OutboxIdArgs),
    #[command(hide = true)]
    EnqueueRaw(OutboxEnqueueRawArgs),
}

/// Send what is due now over [smtp], keeping a copy in the Sent mailbox
///
/// Exits 1 when a message failed for good in this run.
///
/// Example:
///   vulnmail outbox send --json
#[derive(Debug, Args)]
pub struct OutboxSendArgs {
    /// Seconds to wait for another vulnmail that is writing to the store
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub wait: u64,
}

/// Act on one outbox message: retry queues it again now, drop gives it up
///
/// Example:
///   vulnmail outbox retry 7
#[derive(Debug, Args)]
pub struct OutboxIdArgs {
    /// The message's id, as `vulnmail outbox` shows it
    #[arg(value_name = "ID")]
    pub id: i64,

    /// Seconds to wait for another vulnmail that is writing to the store
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub wait: u64,
}

/// Testing aid: queue a finished RFC 5322 message file as it is
///
/// Example:
///   vulnmail outbox enqueue-raw reply.eml --to reporter@example.net --automatic
#[derive(Debug, Args)]
pub struct OutboxEnqueueRawArgs {
    /// The message; it must carry a Message-ID
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The envelope recipient
    #[arg(long, value_name = "ADDR")]
    pub to: String,

    /// Queue it as an automatic reply (null envelope sender unless configured otherwise)
    #[arg(long)]
    pub automatic: bool,

    /// The report it answers
    #[arg(long, value_name = "ID")]
    pub report: Option<String>,

    /// Which reply it is
    #[arg(long, default_value = "raw", value_name = "NAME")]
    pub template: String,

    /// Seconds to wait for another vulnmail that is writing to the store
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub wait: u64,
}

/// Write an attachment into a directory under a safe file name
///
/// The name is stripped of any path, control characters and leading dots; the
/// file is created new inside DIR (never replacing one, never following a link).
///
/// Example:
///   vulnmail attachment save VR-2026-0007 poc.py --to ./evidence
#[derive(Debug, Args)]
pub struct AttachmentSaveArgs {
    /// The report id
    pub id: String,
    /// The attachment's name as `show` lists it, or its number
    pub name: String,
    /// The directory to write into
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
}

/// Forget the cached store key; the next command unlocks the team key again
///
/// Example:
///   vulnmail lock
#[derive(Debug, Args)]
pub struct LockArgs {}

/// Create the configuration and the team's OpenPGP key
///
/// Writes a commented config.toml and, unless --import is given, generates the team
/// key: one user ID per security address, a certification-only primary key, a
/// signing and an encryption subkey, an expiry, and a revocation certificate kept
/// beside the secret key. The secret key is stored passphrase-protected (0600).
///
/// With --batch the passphrase comes from the configured source
/// (--passphrase-env/-command/-file/-keyring, or VULNMAIL_PASSPHRASE when set);
/// with none, the key is stored unprotected and `key check` warns about it.
///
/// Example:
///   VULNMAIL_PASSPHRASE=… vulnmail init --batch --address security@example.org \
///       --name "Example Security Team" --domain example.org
#[derive(Debug, Args)]
pub struct InitArgs {
    /// A security address (repeat for several); the first is the sender of replies
    #[arg(long = "address", value_name = "EMAIL")]
    pub addresses: Vec<String>,

    /// The team's name, used in the key's user IDs and in replies
    #[arg(long)]
    pub name: Option<String>,

    /// The domain whose Web Key Directory and security.txt are published
    #[arg(long)]
    pub domain: Option<String>,

    /// URL of the project's security policy (security.txt Policy field)
    #[arg(long, value_name = "URL")]
    pub policy_url: Option<String>,

    /// Languages reports may be written in (security.txt Preferred-Languages)
    #[arg(long = "language", value_name = "TAG")]
    pub languages: Vec<String>,

    /// Import this secret key (TSK, armored or binary) instead of generating one
    #[arg(long, value_name = "FILE")]
    pub import: Option<PathBuf>,

    /// Algorithm of the generated key
    #[arg(long, value_enum, default_value_t = CipherSuite::Cv25519)]
    pub cipher_suite: CipherSuite,

    /// How long the generated key is valid, e.g. 2y, 18m, 400d
    #[arg(long, default_value = "2y", value_name = "DURATION")]
    pub expires_in: String,

    #[command(flatten)]
    pub passphrase: PassphraseSourceArgs,

    /// Replace an existing configuration and key store
    #[arg(long)]
    pub force: bool,
}

/// Where the key passphrase comes from; only the source is stored, never the secret
#[derive(Debug, Args, Default, Clone)]
#[group(multiple = false)]
pub struct PassphraseSourceArgs {
    /// Read the passphrase from this environment variable
    #[arg(long, value_name = "NAME")]
    pub passphrase_env: Option<String>,

    /// Run this shell command and use its first output line as the passphrase
    #[arg(long, value_name = "COMMAND")]
    pub passphrase_command: Option<String>,

    /// Read the passphrase from this file (relative to $CREDENTIALS_DIRECTORY when set)
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,

    /// Take the passphrase from the OS keyring entry SERVICE/ACCOUNT
    #[arg(long, value_name = "SERVICE/ACCOUNT")]
    pub passphrase_keyring: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CipherSuite {
    /// Ed25519 signing and certification, X25519 encryption
    Cv25519,
    /// RSA with 4096-bit keys, for peers that lack elliptic curves
    Rsa4k,
}

/// Manage and publish the team's OpenPGP key
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    Show(KeyShowArgs),
    Import(KeyImportArgs),
    Export(KeyExportArgs),
    Extend(KeyExtendArgs),
    Rotate(KeyRotateArgs),
    Protect(KeyProtectArgs),
    Publish(KeyPublishArgs),
    Check(KeyCheckArgs),
}

/// Show the team key: fingerprint, user IDs, subkeys, algorithms and expiry
///
/// Example:
///   vulnmail key show --json
#[derive(Debug, Args)]
pub struct KeyShowArgs {
    /// Also list retired keys kept for decrypting old reports
    #[arg(long)]
    pub all: bool,
}

/// Make a secret key (TSK) the team key
///
/// The file may be armored or binary, protected or not. A protected key is unlocked
/// with the configured passphrase source (or --passphrase-env for the file's own
/// passphrase) and stored protected with the team's passphrase. An existing team
/// key is retired and kept for decrypting old reports.
///
/// Example:
///   vulnmail key import team-secret.asc
#[derive(Debug, Args)]
pub struct KeyImportArgs {
    /// The secret key file
    pub file: PathBuf,

    /// Environment variable holding the imported file's passphrase, when it differs
    /// from the team's configured one
    #[arg(long, value_name = "NAME")]
    pub passphrase_env: Option<String>,
}

/// Print the team's certificate (armored); with --secret, the secret key as stored
///
/// Example:
///   vulnmail key export > security-team.asc
#[derive(Debug, Args)]
pub struct KeyExportArgs {
    /// Export the secret key (still protected by its passphrase, if any)
    #[arg(long)]
    pub secret: bool,

    /// Write to this file instead of stdout (0600 for secret keys)
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Renew the expiry of the primary key and all its subkeys
///
/// The new expiry counts from now. Publish again afterwards so reporters see it.
///
/// Example:
///   vulnmail key extend --for 1y && vulnmail key publish
#[derive(Debug, Args)]
pub struct KeyExtendArgs {
    /// How long from now the key stays valid, e.g. 1y, 6m, 90d
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: String,
}

/// Replace the team key with a new one, cross-signed with the old
///
/// The old key certifies the new key's user IDs and is kept (retired) so that old
/// reports stay decryptable. Publish again afterwards.
///
/// Example:
///   vulnmail key rotate && vulnmail key publish
#[derive(Debug, Args)]
pub struct KeyRotateArgs {
    /// Algorithm of the new key
    #[arg(long, value_enum, default_value_t = CipherSuite::Cv25519)]
    pub cipher_suite: CipherSuite,

    /// How long the new key is valid
    #[arg(long, default_value = "2y", value_name = "DURATION")]
    pub expires_in: String,
}

/// Protect an unprotected secret key with the configured passphrase
///
/// Give the source with one of the --passphrase-* options to record it in the
/// configuration at the same time.
///
/// Example:
///   VULNMAIL_PASSPHRASE=… vulnmail key protect --passphrase-env VULNMAIL_PASSPHRASE
#[derive(Debug, Args)]
pub struct KeyProtectArgs {
    #[command(flatten)]
    pub passphrase: PassphraseSourceArgs,
}

/// Write keys/, security.txt (clearsigned), the Web Key Directory and SECURITY.md's section
///
/// Everything is derived from the configuration and the current team key. Paths
/// inside DIR follow the [publish] settings (keys_dir, well_known_dir).
///
/// Example:
///   vulnmail key publish --out . --security-md SECURITY.md
#[derive(Debug, Args)]
pub struct KeyPublishArgs {
    /// The tree to write into (default: the current repository's root)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Update the vulnmail block of this SECURITY.md (created when missing);
    /// without it the section goes to stdout
    #[arg(long, value_name = "FILE")]
    pub security_md: Option<PathBuf>,
}

/// Check the key and everything published from it; exit 1 when anything is wrong
///
/// Checks the expiry of the key and its encryption subkey, security.txt (present,
/// signed by the team key, Expires in range, Encryption URL), the Web Key Directory
/// and keys/ files, SECURITY.md's fingerprint, and that the secret key can decrypt.
///
/// Example:
///   vulnmail key check --dir . --json
#[derive(Debug, Args)]
pub struct KeyCheckArgs {
    /// The published tree to check (default: the current repository's root)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Warn this many days before an expiry (default: [key] warn_days, else 30)
    #[arg(long, value_name = "DAYS")]
    pub warn_days: Option<u32>,

    /// Check against this public certificate instead of the team key (skips the
    /// secret-key check); for a repository that publishes a key it does not hold
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
}

/// The response policy: deadlines per severity for acknowledge, triage, fix, disclose
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    Import(PolicyImportArgs),
    Show(PolicyShowArgs),
}

/// Propose a response policy from the timelines a SECURITY.md states
///
/// Reads tables, sentences and lists ("We acknowledge reports within 48 hours",
/// "| Critical | 24 hours | 7 days |") and shows, per severity and deadline, the
/// proposed value and the words it came from, then the timing sentences it could
/// not turn into a value. Nothing is stored unless --write is given.
///
/// Example:
///   vulnmail policy import SECURITY.md
///   vulnmail policy import SECURITY.md --write --batch
#[derive(Debug, Args)]
pub struct PolicyImportArgs {
    /// The Markdown file to read
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Store the proposed policy as [policy] in the configuration file, after asking
    /// (with --batch: without asking); the rest of the file is kept as it is
    #[arg(long)]
    pub write: bool,
}

/// Show the response policy in force: the configured one, else the built-in preset
///
/// Example:
///   vulnmail policy show --json
#[derive(Debug, Args)]
pub struct PolicyShowArgs {}

/// Say where each secret comes from, never its value
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    Status(SecretsStatusArgs),
}

/// List each configured secret, its source, and whether it can be read now
///
/// Example:
///   vulnmail secrets status --json
#[derive(Debug, Args)]
pub struct SecretsStatusArgs {
    /// Also try to read each secret (runs commands, may query the keyring); the value
    /// is never printed
    #[arg(long)]
    pub probe: bool,
}

/// Print a shell completion script
///
/// Example:
///   vulnmail completions bash > /etc/bash_completion.d/vulnmail
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Write man pages for vulnmail and every subcommand
///
/// Example:
///   vulnmail man --out /usr/local/share/man/man1
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write the .1 files into
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// The clap command tree, for generators (completions, man pages, docs).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// The CLI reference in Markdown: every command's full `--help`, in tree order.
///
/// `docs/cli.md` is this text; a test keeps the two identical.
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# vulnmail command-line reference\n\n\
         Generated from the clap definitions in `src/cli/`; `cargo test` fails when this \
         file and `--help` disagree (regenerate with `VULNMAIL_BLESS=1 cargo test --test it cli_reference`).\n",
    );
    let mut cmd = command();
    cmd.build();
    walk(&cmd, "vulnmail", &mut out);
    out
}

fn walk(cmd: &clap::Command, path: &str, out: &mut String) {
    let mut c = cmd.clone().term_width(100);
    let help = c.render_long_help().to_string();
    out.push_str(&format!("\n## `{path}`\n\n```text\n{}\n```\n", help.trim_end()));
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        walk(sub, &format!("{path} {}", sub.get_name()), out);
    }
}
