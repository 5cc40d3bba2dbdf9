//! `vulnmail show ID`

use std::io::{IsTerminal, Write};

use crate::cli::ShowArgs;
use crate::commands::Ctx;
use crate::error::user;
use crate::output::Output;
use crate::report::model::Report;
use crate::term::{Untrusted, UntrustedLine, safe_file_name};

fn section(out: &mut String, style: &crate::output::Style, title: &str, body: Option<&str>) {
    if let Some(b) = body.filter(|b| !b.trim().is_empty()) {
        out.push_str(&format!("\n{}\n{}\n", style.bold(title), Untrusted(b.trim_end())));
    }
}

pub fn render(
    r: &Report,
    thread: &[crate::store::reports::ThreadEntry],
    history: &[crate::store::triage::Event],
    now: jiff::Timestamp,
    style: &crate::output::Style,
) -> String {
    let f = &r.fields;
    let mut s = String::new();
    let title = f.title.clone().or_else(|| r.subject.clone()).unwrap_or_default();
    s.push_str(&format!("{} {}\n", style.bold(&r.id), UntrustedLine(&title)));
    let from = match (&r.from.name, &r.from.address) {
        (Some(n), Some(a)) => format!("{n} <{a}>"),
        (None, Some(a)) => a.clone(),
        (Some(n), None) => n.clone(),
        _ => String::new(),
    };
    s.push_str(&format!("From:       {}\n", UntrustedLine(&from)));
    s.push_str(&format!("Subject:    {}\n", UntrustedLine(r.subject.as_deref().unwrap_or(""))));
    s.push_str(&format!("Received:   {}\n", r.received_at.as_deref().unwrap_or("")));
    s.push_str(&format!("State:      {}   severity: {}\n", r.state, r.severity.as_deref().unwrap_or("not assigned")));
    let t = &r.triage;
    if let Some(a) = &t.assignee {
        s.push_str(&format!("Assignee:   {}\n", UntrustedLine(a)));
    }
    if let Some(c) = &t.cvss {
        s.push_str(&format!("Team CVSS:  {} ({})\n", c.score, c.vector));
    }
    if !t.cve.is_empty() {
        s.push_str(&format!("Assigned:   {}\n", t.cve.join(", ")));
    }
    if let Some(d) = &t.duplicate_of {
        s.push_str(&format!("Duplicate:  of {d}\n"));
    }
    if let Some(a) = &r.acknowledged_at {
        s.push_str(&format!("Answered:   {a}\n"));
    }
    let enc = match (&r.encryption.status[..], &r.encryption.error) {
        ("failed", Some(e)) => style.fail(&format!("NOT DECRYPTED ({}): {}", r.encryption.format, UntrustedLine(e))),
        ("decrypted", _) => style.ok(&format!("decrypted ({})", r.encryption.format)),
        (st, _) => st.to_string(),
    };
    s.push_str(&format!("Encryption: {enc}\n"));
    let sig = match r.signature.status.as_str() {
        "good" => style.ok(&format!(
            "good, by {}{}",
            r.signature.signer.as_deref().unwrap_or("?"),
            match r.signature.signer_matches_from {
                Some(true) => ", matches From",
                Some(false) => ", DOES NOT match From",
                None => "",
            }
        )),
        "bad" => style.fail("BAD signature"),
        other => other.to_string(),
    };
    s.push_str(&format!(
        "Signature:  {sig}{}\n",
        if r.signature.partial { " (covers only part of the message)" } else { "" }
    ));
    if let Some(c) = &f.cvss {
        s.push_str(&format!("CVSS:       {} ({})\n", c.score, UntrustedLine(&c.vector)));
    }
    if let Some(sev) = &f.severity {
        s.push_str(&format!("Claimed:    {sev}\n"));
    }
    for (label, list) in [("CWE", &f.cwe), ("CVE", &f.cve)] {
        if !list.is_empty() {
            s.push_str(&format!("{label}:        {}\n", list.join(", ")));
        }
    }
    section(&mut s, style, "Summary", f.summary.as_deref());
    section(&mut s, style, "Steps to reproduce", f.steps_to_reproduce.as_deref());
    section(&mut s, style, "Impact", f.impact.as_deref());
    section(&mut s, style, "Affected component", f.affected_component.as_deref());
    section(&mut s, style, "Affected versions", f.affected_versions.as_deref());
    section(&mut s, style, "Vulnerability type", f.vulnerability_type.as_deref());
    section(&mut s, style, "Proof of concept", f.proof_of_concept.as_deref());
    section(&mut s, style, "Suggested fix", f.suggested_fix.as_deref());
    section(&mut s, style, "Environment", f.environment.as_deref());
    if !f.references.is_empty() {
        section(&mut s, style, "References", Some(&f.references.join("\n")));
    }
    let rep = &f.reporter;
    let credit = [rep.name.as_deref(), rep.handle.as_deref(), rep.contact.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if rep.credit.is_some() || !credit.is_empty() {
        section(&mut s, style, "Credit", Some(&format!("{} {credit}", rep.credit.as_deref().unwrap_or("not said"))));
    }
    if let Some(d) = &f.disclosure_deadline {
        s.push_str(&format!("\nDisclosure deadline: {d}\n"));
    }
    if !r.attachments.is_empty() {
        s.push_str(&format!("\n{}\n", style.bold("Attachments")));
        for (i, a) in r.attachments.iter().enumerate() {
            s.push_str(&format!(
                "  {i}  {}  {}  {} bytes{}  sha256 {}\n",
                safe_file_name(a.filename.as_deref().unwrap_or("")),
                UntrustedLine(&a.content_type),
                a.size,
                if a.encrypted { ", was encrypted" } else { "" },
                a.sha256
            ));
        }
    }
    for n in &r.notes {
        s.push_str(&format!("\nNote: {}\n", UntrustedLine(n)));
    }
    if !r.deadline_status.is_empty() {
        s.push_str(&format!("\n{}\n", style.bold("Deadlines")));
        for d in &r.deadline_status {
            use crate::report::deadline::Status;
            let when = match (d.status, d.due_ts) {
                (Status::Pending | Status::Overdue, Some(t)) => {
                    format!("{} ({})", d.due().unwrap_or_default(), crate::report::deadline::human(t, now))
                }
                (_, _) => d.due().unwrap_or_default(),
            };
            let status =
                serde_json::to_value(d.status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let status = match d.status {
                Status::Overdue | Status::Missed => style.fail(&status),
                Status::Met => style.ok(&status),
                _ => status,
            };
            s.push_str(&format!("  {:<11} {:<12} {}  ({})\n", d.kind, status, when, UntrustedLine(&d.promise)));
        }
    }
    if !history.is_empty() {
        s.push_str(&format!("\n{}\n", style.bold("History")));
        for e in history {
            s.push_str(&format!(
                "  {}  {:<12} {}\n",
                e.at.replace('T', " ").trim_end_matches('Z'),
                UntrustedLine(&e.actor),
                super::triage::describe(e)
            ));
        }
    }
    if !thread.is_empty() {
        s.push_str(&format!("\n{}\n", style.bold("Conversation")));
        for t in thread {
            s.push_str(&format!(
                "\n--- {} {}\n{}\n",
                t.received_at.as_deref().unwrap_or(""),
                UntrustedLine(t.from.as_deref().unwrap_or("")),
                Untrusted(t.text.trim_end())
            ));
        }
    }
    s
}

fn page(text: &str) -> anyhow::Result<()> {
    let pager = std::env::var("PAGER").ok().filter(|p| !p.trim().is_empty()).unwrap_or_else(|| "less -FRX".into());
    let mut child =
        match std::process::Command::new("sh").arg("-c").arg(&pager).stdin(std::process::Stdio::piped()).spawn() {
            Ok(c) => c,
            Err(_) => {
                std::io::stdout().write_all(text.as_bytes())?;
                return Ok(());
            }
        };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(text.as_bytes());
    }
    let _ = child.wait();
    Ok(())
}

pub fn run(ctx: &Ctx, a: ShowArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg)?;
    let Some((message, mut report)) = store.report(&a.id)? else {
        return user(format!("no report {}: `vulnmail list` shows the ids", crate::term::sanitize(&a.id, false)));
    };
    if a.raw {
        let raw = match store.decrypted(message)? {
            Some(d) => d,
            None => store.raw(message)?.unwrap_or_default(),
        };
        let text = if std::io::stdout().is_terminal() {
            Untrusted(&String::from_utf8_lossy(&raw)).to_string()
        } else {
            // In a pipe the bytes go out as they are, for other tools.
            std::io::stdout().write_all(&raw)?;
            return Ok(Output::text(""));
        };
        return Ok(Output::text(text));
    }
    let thread = store.thread(&a.id)?;
    let now = ctx.clock.now();
    super::tracking::Tracker::new(&cfg, now)?.fill(&mut report);
    let history = super::log::history(&report.received_at, store.events(&report.id)?);
    if ctx.json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("thread".into(), serde_json::to_value(&thread)?);
            obj.insert("history".into(), serde_json::to_value(&history)?);
        }
        return Ok(Output::new(String::new(), v));
    }
    let text = render(&report, &thread, &history, now, &ctx.style);
    if std::io::stdout().is_terminal() {
        page(&text)?;
        return Ok(Output::text(""));
    }
    Ok(Output::text(text))
}
