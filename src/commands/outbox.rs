//! `vulnmail outbox` (list), `outbox send`, `outbox retry`, `outbox drop`, and the
//! hidden testing aid `outbox enqueue-raw`.

use anyhow::Context as _;
use serde_json::json;

use super::Ctx;
use crate::cli::{OutboxArgs, OutboxCommand, OutboxEnqueueRawArgs, OutboxIdArgs, OutboxSendArgs};
use crate::config::{Config, SmtpConfig};
use crate::error::user;
use crate::mail::deliver::{self, Outcome, RetryPolicy, SentMailbox};
use crate::mail::smtp;
use crate::output::Output;
use crate::secrets::Secret;
use crate::store::Store;
use crate::store::outbox::{Change, NewMail};
use crate::term::{UntrustedLine, cut};

pub fn run(ctx: &Ctx, a: OutboxArgs) -> anyhow::Result<Output> {
    match a.command {
        None => list(ctx),
        Some(OutboxCommand::Send(a)) => send(ctx, a),
        Some(OutboxCommand::Retry(a)) => change(ctx, a, true),
        Some(OutboxCommand::Drop(a)) => change(ctx, a, false),
        Some(OutboxCommand::EnqueueRaw(a)) => enqueue_raw(ctx, a),
    }
}

fn list(ctx: &Ctx) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg)?;
    let rows = store.list_outbox()?;
    let mut text = format!(
        "{:>5}  {:<13} {:<8} {:<30} {:<8} {:>3}  {:<20}  {}\n",
        "ID", "REPORT", "TEMPLATE", "TO", "STATE", "TRY", "NEXT ATTEMPT", "LAST ERROR"
    );
    for r in &rows {
        // The recipient and the server's words came from outside: sanitise them.
        let to = UntrustedLine(&r.envelope_to).to_string();
        let err = UntrustedLine(r.last_error.as_deref().unwrap_or("")).to_string();
        text.push_str(&format!(
            "{:>5}  {:<13} {:<8} {:<30} {:<8} {:>3}  {:<20}  {}\n",
            r.id,
            cut(&UntrustedLine(r.report_id.as_deref().unwrap_or("-")).to_string(), 13),
            cut(&UntrustedLine(&r.template).to_string(), 8),
            cut(&to, 30),
            r.state.as_str(),
            r.attempts,
            r.next_attempt_at.as_deref().unwrap_or(""),
            err
        ));
    }
    text.push_str(&format!("{} messages\n", rows.len()));
    Ok(Output::new(text, serde_json::to_value(&rows)?))
}

fn smtp_config(cfg: &Config) -> anyhow::Result<&SmtpConfig> {
    match &cfg.smtp {
        Some(s) => Ok(s),
        None => user("no [smtp] section in the configuration: add host, port and tls (see docs/configuration.md)"),
    }
}

fn smtp_password(ctx: &Ctx, s: &SmtpConfig) -> anyhow::Result<Option<Secret>> {
    if s.user.is_none() {
        return Ok(None);
    }
    let Some(src) = &s.password else {
        return user(
            "[smtp] user is set but password is not: give its source, e.g. password = { env = \"VULNMAIL_SMTP_PASSWORD\" }",
        );
    };
    Ok(Some(super::resolve_secret("the SMTP password", src, ctx.interaction())?))
}

/// The credentials delivery needs, resolved once (watch keeps them).
pub struct Credentials {
    pub smtp: Option<Secret>,
    /// The [imap] password, when a Sent mailbox is configured.
    pub imap: Option<Secret>,
}

impl Credentials {
    pub fn resolve(ctx: &Ctx, cfg: &Config) -> anyhow::Result<Credentials> {
        let smtp_cfg = smtp_config(cfg)?;
        let imap = match (&cfg.imap, smtp_cfg.sent_mailbox.is_empty()) {
            (Some(imap), false) => Some(super::fetch::imap_password(ctx, imap)?),
            _ => None,
        };
        Ok(Credentials { smtp: smtp_password(ctx, smtp_cfg)?, imap })
    }
}

/// Deliver what is due in the outbox now, then record the acknowledgements that
/// went out.
pub fn deliver_now(
    ctx: &Ctx,
    cfg: &Config,
    store: &mut Store,
    creds: &Credentials,
) -> anyhow::Result<deliver::Summary> {
    let smtp_cfg = smtp_config(cfg)?;
    let transport = smtp::connect(smtp_cfg, creds.smtp.as_ref(), &cfg.domain())
        .map_err(|e| crate::error::UserError(e.to_string()))?;
    let mut sent = match (&cfg.imap, &creds.imap) {
        (Some(i), Some(pw)) => Some(SentMailbox::new(i, pw, &smtp_cfg.sent_mailbox)),
        _ => None,
    };
    let summary =
        deliver::deliver(store, &transport, RetryPolicy::from_config(smtp_cfg), sent.as_mut(), ctx.clock.now());
    if let Some(s) = sent {
        s.close();
    }
    super::ack::record_sent(store)?;
    Ok(summary?)
}

fn send(ctx: &Ctx, a: OutboxSendArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let creds = Credentials::resolve(ctx, &cfg)?;
    let (_lock, mut store) = ctx.open_store_for_writing(&cfg, "outbox send", a.wait)?;
    let summary = deliver_now(ctx, &cfg, &mut store, &creds)?;
    Ok(summary_output(&summary))
}

/// The text and JSON of a delivery run; failed when anything failed for good.
pub fn summary_output(summary: &deliver::Summary) -> Output {
    let mut text = format!(
        "sent {}, already sent {}, to retry {}, failed {}, unresolved {}\n",
        summary.sent, summary.already_sent, summary.retry, summary.failed, summary.unresolved
    );
    for i in &summary.items {
        if let Some(r) = &i.reason {
            let what = match i.outcome {
                Outcome::Sent => "sent",
                Outcome::AlreadySent => "already sent",
                Outcome::Retry => "will retry",
                Outcome::Failed => "failed",
                Outcome::Unresolved => "unresolved",
            };
            text.push_str(&format!("  {}: {what}: {}\n", i.id, UntrustedLine(r)));
        }
    }
    let failed = summary.failed > 0;
    Output::new(text, serde_json::to_value(summary).unwrap_or_default()).failed(failed)
}

fn change(ctx: &Ctx, a: OutboxIdArgs, retry: bool) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let (_lock, store) = ctx.open_store_for_writing(&cfg, "outbox", a.wait)?;
    let res = if retry { store.retry(a.id, ctx.clock.now())? } else { store.drop_mail(a.id)? };
    let verb = if retry { "retry" } else { "drop" };
    match res {
        Change::Done => {
            let text =
                if retry { format!("message {} queued again", a.id) } else { format!("message {} dropped", a.id) };
            Ok(Output::new(text, json!({ "id": a.id, "action": verb })))
        }
        Change::NotFound => user(format!("no outbox message {} (see `vulnmail outbox`)", a.id)),
        Change::Refused(state) => user(format!("cannot {verb} message {}: it is {} already", a.id, state.as_str())),
    }
}

fn enqueue_raw(ctx: &Ctx, a: OutboxEnqueueRawArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let raw = std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let parsed = mail_parser::MessageParser::default().parse_headers(&raw);
    let Some(message_id) = parsed.as_ref().and_then(|m| m.message_id()).map(str::to_string) else {
        return user(format!("{} has no Message-ID header", a.file.display()));
    };
    if !crate::config::is_plausible_address(&a.to) {
        return user(format!("--to {:?} is not an email address", a.to));
    }
    let (_lock, store) = ctx.open_store_for_writing(&cfg, "outbox", a.wait)?;
    let mail = NewMail {
        report_id: a.report,
        template: a.template,
        automatic: a.automatic,
        message_id,
        envelope_from: deliver::envelope_sender(&cfg, a.automatic),
        envelope_to: a.to,
        raw,
    };
    let id = store.enqueue(&mail, ctx.clock.now())?;
    Ok(Output::new(format!("queued as {id}"), json!({ "id": id })))
}
