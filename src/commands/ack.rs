//! `vulnmail ack`: answer a reporter from a template, through the outbox.
//!
//! Also the automatic acknowledgement `run` and `watch` use. The decisions live in
//! `crate::ack` (when not to reply, what may be echoed, composing); this file
//! gathers the facts from the store and the configuration.

use std::path::PathBuf;

use jiff::Timestamp;
use sequoia_openpgp::Cert;
use serde::Serialize;
use serde_json::json;

use super::Ctx;
use super::tracking::Tracker;
use crate::ack::compose::{self, Encryption, ReplyInput};
use crate::ack::echo::{EchoFacts, may_echo};
use crate::ack::rules::{self, Inbound};
use crate::ack::templates::{self, DeadlineFacts, ReportFacts, Team, TemplateContext};
use crate::cli::AckArgs;
use crate::config::Config;
use crate::error::{user, user_err};
use crate::output::Output;
use crate::report::deadline::Status;
use crate::report::model::Report;
use crate::report::state::State;
use crate::store::Store;
use crate::store::outbox::NewMail;
use crate::store::triage::Event;
use crate::term::{Untrusted, UntrustedLine};

/// A reply, rendered and composed, with the reasons it should not go out.
#[derive(Debug, Clone, Serialize)]
pub struct Prepared {
    pub report: String,
    pub template: String,
    pub to: String,
    pub automatic: bool,
    /// Whether the reply quotes the report (the sender is bound to the ciphertext).
    pub echo: bool,
    pub encrypted: bool,
    /// The reporter's certificate, when one is known.
    pub reporter_cert: Option<String>,
    /// Why no reply should be sent (empty: none).
    pub refusals: Vec<String>,
    pub subject: String,
    pub body: String,
    pub message_id: String,
    #[serde(skip)]
    pub raw: Vec<u8>,
    #[serde(skip)]
    pub envelope_to: String,
}

/// The directory whose NAME.txt files replace the default templates.
pub fn template_dir(ctx: &Ctx) -> PathBuf {
    ctx.paths.config_file.parent().map(|p| p.join("templates")).unwrap_or_else(|| PathBuf::from("templates"))
}

/// The reporter's certificate. Several may claim the address (anyone can attach a
/// key with any user ID), so the best bound one wins: the key that made this
/// report's good signature matching From, then one from the address's own domain
/// (WKD), then a keyserver's, then the newest attached or Autocrypt one. Failing
/// all, the configured lookup (which then keeps it).
fn reporter_cert(
    cfg: &Config,
    store: &mut Store,
    address: &str,
    signer: Option<&str>,
    now: std::time::SystemTime,
) -> Option<Cert> {
    let p = crate::openpgp::policy();
    let usable = |c: &Cert| {
        c.with_policy(&p, now).is_ok_and(|vc| {
            vc.userids().any(|u| crate::openpgp::uid_email(u.userid()).is_some_and(|e| e.eq_ignore_ascii_case(address)))
                && vc.keys().for_transport_encryption().next().is_some()
        })
    };
    let rows = store.certs().ok()?;
    let mut certs: std::collections::HashMap<String, Cert> = store
        .known_certs()
        .ok()?
        .into_iter()
        .filter(|c| usable(c))
        .map(|c| (crate::openpgp::fpr_hex(&c.fingerprint()), c))
        .collect();
    let rank = |fpr: &str, source: &str| {
        if Some(fpr) == signer {
            0
        } else if source.starts_with("wkd") {
            1
        } else if source.starts_with("keyserver") {
            2
        } else {
            3
        }
    };
    let best = rows
        .iter()
        .filter(|r| certs.contains_key(&r.fingerprint))
        .min_by(|a, b| {
            rank(&a.fingerprint, &a.source).cmp(&rank(&b.fingerprint, &b.source)).then(b.last_seen.cmp(&a.last_seen))
        })
        .map(|r| r.fingerprint.clone());
    if let Some(f) = best {
        return certs.remove(&f);
    }
    if (cfg.lookup.wkd || cfg.lookup.keyserver_url.is_some())
        && let Ok(Some((source, c))) = super::lookup::find(&cfg.lookup, address)
        && usable(&c)
    {
        let _ = store.add_cert(&source, &c);
        return Some(c);
    }
    None
}

fn label(kind: &str) -> &'static str {
    match kind {
        "acknowledge" => "A first answer",
        "triage" => "Our assessment",
        "fix" => "A fix",
        _ => "Disclosure",
    }
}

fn next_steps(template: &str) -> String {
    match template {
        "ack" => {
            "We will reproduce and assess the issue, and tell you whether we confirm it and how severe we rate it."
        }
        "needs-info" => "We need more information before we can assess the issue; please answer the questions below.",
        "triaged" => "We have confirmed the issue and are working on a fix.",
        "fixed" => "The fix is released; we will coordinate the disclosure with you.",
        "disclosed" => "The advisory is published. Thank you for reporting responsibly.",
        _ => "We will be in touch.",
    }
    .into()
}

/// Render and compose one reply to a report (`tracker` works out its deadlines;
/// callers build it once for all the reports they prepare).
#[allow(clippy::too_many_arguments)]
pub fn prepare(
    ctx: &Ctx,
    cfg: &Config,
    tracker: &Tracker,
    store: &mut Store,
    id: &str,
    template: &str,
    automatic: bool,
    note: Option<&str>,
) -> anyhow::Result<Prepared> {
    let Some((message, mut report)) = store.report(id)? else {
        return user(format!("no report {} (see `vulnmail list`)", crate::term::sanitize(id, false)));
    };
    let now = ctx.clock.now();
    tracker.fill(&mut report);
    let raw = store.raw(message)?.unwrap_or_default();
    let inbound = Inbound::parse(&raw).map_err(|e| user_err(format!("cannot reply to {id}: {e}")))?;
    let mut refusals: Vec<String> =
        rules::refusals(&inbound, &cfg.team.addresses).iter().map(|r| r.to_string()).collect();
    // The address the report came from (never one found in the body).
    let to = inbound
        .from
        .as_deref()
        .and_then(compose::mailbox)
        .ok_or_else(|| user_err(format!("{id} has no single sender address to reply to")))?;
    if automatic {
        let window = jiff::SignedDuration::from_hours(24 * i64::from(cfg.ack.rate_limit_days));
        let last = store.last_auto_reply(&to)?;
        let received: Option<Timestamp> = report.received_at.as_deref().and_then(|t| t.parse().ok());
        if rules::rate_limited(last, now, window) {
            refusals.push(format!(
                "{} already had an automatic reply in the last {} days",
                UntrustedLine(&to),
                cfg.ack.rate_limit_days
            ));
        } else if let (Some(last), Some(received)) = (last, received)
            && last >= received
        {
            // Withheld once for the limit, a report stays withheld: without this, the
            // oldest of a flood would get a "we received it" days later, once the
            // window has passed, instead of the report that arrived then.
            refusals.push(format!(
                "{} had an automatic reply after this report arrived (one per {} days)",
                UntrustedLine(&to),
                cfg.ack.rate_limit_days
            ));
        }
    }
    let signer = (report.signature.status == "good" && report.signature.signer_matches_from == Some(true))
        .then(|| report.signature.signer.clone())
        .flatten();
    let cert = reporter_cert(cfg, store, &to, signer.as_deref(), ctx.clock.system_time());
    let facts = EchoFacts {
        encrypted: report.encryption.status == "decrypted",
        encrypted_root: report.encryption.root,
        signed_by_from: report.signature.status == "good"
            && report.signature.signer_matches_from == Some(true)
            && !report.signature.partial,
        // The report is the first message of its conversation: nobody is its
        // reporter of record before it.
        sender_is_reporter_of_record: false,
        ciphertext_seen_elsewhere: !store.same_ciphertext(message)?.is_empty(),
        reply_encrypted: cert.is_some(),
    };
    let echo = may_echo(&facts);
    let ctx_t = context(cfg, &report, tracker, template, echo, cert.is_some(), note);
    let rendered = templates::render(template, Some(&template_dir(ctx)), &ctx_t)?;
    let encryption = match &cert {
        Some(c) => Some(Encryption {
            reporter: c.clone(),
            team_key: ctx.unlocked_key(cfg)?,
            team_cert: ctx.keystore().load_public()?,
        }),
        None => None,
    };
    let mut references = inbound.references.clone();
    if let Some(m) = &inbound.message_id
        && !references.contains(m)
    {
        references.push(m.clone());
    }
    let composed = compose::compose(&ReplyInput {
        from_name: cfg.team.name.clone(),
        from_address: cfg.primary_address().to_string(),
        to: to.clone(),
        domain: cfg.domain(),
        in_reply_to: inbound.message_id.clone(),
        references,
        subject: rendered.subject.clone(),
        body: rendered.body.clone(),
        automatic,
        report_id: report.id.clone(),
        date: now,
        encryption,
    })?;
    Ok(Prepared {
        report: report.id.clone(),
        template: template.to_string(),
        to,
        automatic,
        echo,
        encrypted: cert.is_some(),
        reporter_cert: cert.map(|c| crate::openpgp::fpr_hex(&c.fingerprint())),
        refusals,
        subject: rendered.subject,
        body: rendered.body,
        message_id: composed.message_id,
        raw: composed.raw,
        envelope_to: composed.envelope_to,
    })
}

fn context(
    cfg: &Config,
    r: &Report,
    tracker: &Tracker,
    template: &str,
    echo: bool,
    encrypted: bool,
    note: Option<&str>,
) -> TemplateContext {
    let human = |t: Timestamp| tracker.cal.zoned(t).strftime("%A, %-d %B %Y, %H:%M %Z").to_string();
    let deadlines = r
        .deadline_status
        .iter()
        .filter(|d| !(template == "ack" && d.kind == "acknowledge"))
        .filter(|d| matches!(d.status, Status::Pending | Status::Overdue | Status::NotStarted | Status::Untimed))
        .map(|d| DeadlineFacts {
            kind: d.kind.to_string(),
            label: label(d.kind).to_string(),
            due: d.due(),
            due_human: d.due_ts.map(human),
            promise: d.promise.to_string(),
        })
        .collect();
    let rep = &r.fields.reporter;
    let credit = match rep.credit.as_deref() {
        Some("anonymous") => Some("anonymous (you will not be named)".to_string()),
        Some(_) => rep.name.clone().or_else(|| rep.handle.clone()),
        None => None,
    };
    let e = |v: Option<String>| if echo { v.map(|s| crate::term::sanitize(&s, false)) } else { None };
    TemplateContext {
        team: Team { name: cfg.team.name.clone(), address: cfg.primary_address().to_string() },
        report: ReportFacts {
            id: r.id.clone(),
            received_at: r.received_at.as_deref().and_then(|s| s.parse().ok()).map(human).unwrap_or_default(),
            state: r.state.clone(),
            severity: r.severity.clone(),
            cve: r.triage.cve.first().cloned(),
            title: e(r.fields.title.clone()),
            subject: e(r.subject.clone()),
            credit: e(credit),
            reporter_name: e(r.from.name.clone().or_else(|| rep.name.clone())),
        },
        deadlines,
        next_steps: next_steps(template),
        note: note.map(str::to_string),
        echo,
        encrypted,
    }
}

/// Put a prepared reply in the outbox; an automatic one is remembered for the
/// per-sender limit.
pub fn enqueue(cfg: &Config, store: &Store, p: &Prepared, now: Timestamp) -> anyhow::Result<i64> {
    let id = store.enqueue(
        &NewMail {
            report_id: Some(p.report.clone()),
            template: p.template.clone(),
            automatic: p.automatic,
            message_id: p.message_id.clone(),
            envelope_from: crate::mail::deliver::envelope_sender(cfg, p.automatic),
            envelope_to: p.envelope_to.clone(),
            raw: p.raw.clone(),
        },
        now,
    )?;
    if p.automatic {
        store.record_auto_reply(&p.to, now)?;
    }
    Ok(id)
}

/// Record the first response of every report whose reply has gone out: the
/// time it was sent, and `new` becomes `acknowledged`.
pub fn record_sent(store: &mut Store) -> anyhow::Result<()> {
    for (id, sent_at, message_id) in store.unrecorded_replies()? {
        let Some(mut row) = store.triage_row(&id)? else { continue };
        let old_state = row.state.clone();
        row.acknowledged_at = Some(sent_at.clone());
        let mut events = vec![Event {
            at: sent_at.clone(),
            actor: "vulnmail".into(),
            field: "acknowledged".into(),
            old: None,
            new: Some(format!("reply <{message_id}> sent")),
        }];
        if row.state.parse::<State>().unwrap_or(State::New) == State::New {
            row.state = State::Acknowledged.as_str().into();
            events.push(Event {
                at: sent_at,
                actor: "vulnmail".into(),
                field: "state".into(),
                old: Some(old_state),
                new: Some(row.state.clone()),
            });
        }
        store.set_triage(&id, &row, &events)?;
    }
    Ok(())
}

/// Reports still waiting for their first response, with no reply queued.
pub fn pending(store: &Store) -> anyhow::Result<Vec<String>> {
    let mut waiting = Vec::new();
    store.each_listing(|r| {
        if r.milestones.acknowledged.is_none() && !r.state.is_finished() {
            waiting.push((r.message, r.report_id.to_string()));
        }
    })?;
    // In the order the messages were stored.
    waiting.sort_unstable();
    let mut out = Vec::new();
    for (_, id) in waiting {
        if !store.pending_for_report(&id, "ack")? {
            out.push(id);
        }
    }
    Ok(out)
}

/// What the automatic acknowledgement did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AutoSummary {
    pub queued: Vec<String>,
    /// (report, why not): every report left without an automatic reply.
    pub skipped: Vec<(String, String)>,
    /// Those of `skipped` refused before for the same reason (in their history):
    /// the text output does not repeat them.
    pub held: Vec<String>,
}

/// Record in the report's history, once, why it got no automatic reply; later
/// runs also list it under `held`.
fn note_refusal(store: &mut Store, s: &mut AutoSummary, id: String, why: String, now: Timestamp) -> anyhow::Result<()> {
    let noted = store.events(&id)?.iter().any(|e| e.field == "no-auto-reply" && e.new.as_deref() == Some(why.as_str()));
    if noted {
        s.held.push(id.clone());
        s.skipped.push((id, why));
        return Ok(());
    }
    if let Some(row) = store.triage_row(&id)? {
        let e = Event {
            at: crate::clock::rfc3339(now),
            actor: "vulnmail".into(),
            field: "no-auto-reply".into(),
            old: None,
            new: Some(why.clone()),
        };
        store.set_triage(&id, &row, &[e])?;
    }
    s.skipped.push((id, why));
    Ok(())
}

/// Acknowledge every pending report automatically, where the rules allow.
pub fn automatic(ctx: &Ctx, cfg: &Config, store: &mut Store) -> anyhow::Result<AutoSummary> {
    let mut s = AutoSummary::default();
    let tracker = Tracker::new(cfg, ctx.clock.now())?;
    for id in pending(store)? {
        match prepare(ctx, cfg, &tracker, store, &id, "ack", true, None) {
            Ok(p) if p.refusals.is_empty() => {
                enqueue(cfg, store, &p, ctx.clock.now())?;
                s.queued.push(id);
            }
            Ok(p) => note_refusal(store, &mut s, id, p.refusals.join("; "), ctx.clock.now())?,
            Err(e) => note_refusal(store, &mut s, id, format!("{e:#}"), ctx.clock.now())?,
        }
    }
    Ok(s)
}

pub fn run(ctx: &Ctx, a: AckArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let (_lock, mut store) = ctx.open_store_for_writing(&cfg, "ack", a.wait)?;
    let template = a.template.as_deref().unwrap_or("ack");
    let ids = match (&a.id, a.pending) {
        (Some(id), false) => vec![id.trim().to_ascii_uppercase()],
        (None, true) => pending(&store)?,
        _ => return user("give a report id, or --pending for every report still waiting for its first response"),
    };
    let mut text = String::new();
    let mut items = Vec::new();
    let mut queued = 0;
    let tracker = Tracker::new(&cfg, ctx.clock.now())?;
    for id in &ids {
        let p = prepare(ctx, &cfg, &tracker, &mut store, id, template, false, a.note.as_deref())?;
        if a.preview {
            text.push_str(&preview(&p));
            items.push(json!(p));
            continue;
        }
        if !p.refusals.is_empty() && !a.force {
            let why = p.refusals.join("; ");
            if a.pending {
                text.push_str(&format!("{id}: not answered: {why}\n"));
                items.push(json!({ "report": id, "skipped": why }));
                continue;
            }
            return user(format!("not replying to {id}: {why} (use --force to reply anyway)"));
        }
        if store.pending_for_report(id, template)? && !a.force {
            return user(format!(
                "a {template} reply to {id} is already queued or sent (see `vulnmail outbox`; --force sends another)"
            ));
        }
        let n = enqueue(&cfg, &store, &p, ctx.clock.now())?;
        queued += 1;
        text.push_str(&format!(
            "{id}: {template} reply to {} queued as outbox {n} ({}{})\n",
            UntrustedLine(&p.to),
            if p.encrypted { "encrypted" } else { "plaintext" },
            if p.echo { "" } else { ", quoting nothing" }
        ));
        items.push(json!({ "report": id, "outbox": n, "to": p.to, "encrypted": p.encrypted, "echo": p.echo,
                           "message_id": p.message_id }));
    }
    let mut delivery = None;
    if queued > 0 && !a.queue_only && cfg.smtp.is_some() {
        let creds = super::outbox::Credentials::resolve(ctx, &cfg)?;
        let s = super::outbox::deliver_now(ctx, &cfg, &mut store, &creds)?;
        text.push_str(&super::outbox::summary_output(&s).text);
        delivery = Some(s);
    } else if queued > 0 && cfg.smtp.is_none() {
        text.push_str("no [smtp] section: the replies wait in the outbox\n");
    }
    if ids.is_empty() {
        text.push_str("no report is waiting for its first response\n");
    }
    let failed = delivery.as_ref().is_some_and(|d| d.failed > 0);
    Ok(Output::new(text, json!({ "replies": items, "delivery": delivery })).failed(failed))
}

fn preview(p: &Prepared) -> String {
    let mut s = format!(
        "--- {} reply to {} for {} ({}, {})\n",
        p.template,
        UntrustedLine(&p.to),
        p.report,
        if p.encrypted { "encrypted and signed" } else { "plaintext" },
        if p.echo { "quotes the report" } else { "quotes nothing of the report" }
    );
    for r in &p.refusals {
        s.push_str(&format!("!!! would not be sent without --force: {r}\n"));
    }
    s.push_str(&format!("Subject: {}\n\n{}\n", UntrustedLine(&p.subject), Untrusted(p.body.trim_end())));
    s
}
