//! The words of a reply: minijinja templates, embedded defaults a team may override.
//!
//! A template file is plain text: its first line is `Subject: …` (itself a template,
//! rendered to one line), the second line is empty, and the rest is the body. Both
//! render against a [`TemplateContext`]; an undefined variable is an error, never
//! empty text. `trim_blocks` and `lstrip_blocks` are on, so a line holding only a
//! `{% … %}` tag leaves nothing behind; end a line of text with `{% endif +%}` to keep
//! its newline. Nothing is HTML-escaped (the output is plain text).
//!
//! Overrides: `NAME.txt` in the override directory (the lead passes
//! `<config dir>/templates/`) replaces the default of that name; a file there with a
//! new name is a new template. Every variable is documented in `docs/templates.md`.
//!
//! The rendered text is not yet mail: [`super::compose`] makes header values safe
//! and normalises line ends.

use std::fmt;
use std::path::{Path, PathBuf};

use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

/// The templates vulnmail ships, by name.
pub const DEFAULTS: [(&str, &str); 5] = [
    ("ack", include_str!("templates/ack.txt")),
    ("needs-info", include_str!("templates/needs-info.txt")),
    ("triaged", include_str!("templates/triaged.txt")),
    ("fixed", include_str!("templates/fixed.txt")),
    ("disclosed", include_str!("templates/disclosed.txt")),
];

/// Everything a template can use. Fields that echo the report's content (`title`,
/// `subject`, `credit`, `reporter_name`, …) are `None` when the reply may not quote
/// it (see [`super::echo::may_echo`]); templates must render either way.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TemplateContext {
    pub team: Team,
    pub report: ReportFacts,
    /// The deadlines that apply, in the order to show them.
    pub deadlines: Vec<DeadlineFacts>,
    /// What happens next, as prose (one or more lines).
    pub next_steps: String,
    /// Free text the team adds for this reply (the question of a needs-info, the
    /// release of a fix, the advisory's address); `None` when there is none.
    pub note: Option<String>,
    /// Whether the reply quotes the report (the echoable fields are set).
    pub echo: bool,
    /// Whether the reply is encrypted to the reporter.
    pub encrypted: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Team {
    pub name: String,
    /// The address replies come from (the first team address).
    pub address: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReportFacts {
    /// `VR-2026-0007`.
    pub id: String,
    /// When the report arrived, RFC 3339.
    pub received_at: String,
    /// The triage state (`new`, `acknowledged`, `needs-info`, …).
    pub state: String,
    /// The team's severity (`critical`, `high`, `medium`, `low`), once triaged.
    pub severity: Option<String>,
    /// The CVE id, once assigned.
    pub cve: Option<String>,
    // Echoable: None unless the reply may quote the report.
    pub title: Option<String>,
    pub subject: Option<String>,
    pub credit: Option<String>,
    pub reporter_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeadlineFacts {
    /// `acknowledge`, `triage`, `fix` or `disclose`.
    pub kind: String,
    /// Words for the kind: "A first answer", "Our assessment", …
    pub label: String,
    /// The instant, RFC 3339; `None` for a deadline in words ("next regular release").
    pub due: Option<String>,
    /// The instant for people ("Thursday, 12 March 2026, 14:00 UTC"); `None` as `due`.
    pub due_human: Option<String>,
    /// What the policy promises: "within 48 hours of receipt".
    pub promise: String,
}

impl TemplateContext {
    /// Believable values for every variable: to check a template without a report
    /// (`--preview` of an override, the tests, the documentation).
    pub fn sample(echo: bool) -> TemplateContext {
        let e = |s: &str| echo.then(|| s.to_string());
        TemplateContext {
            team: Team { name: "Example Security Team".into(), address: "security@example.org".into() },
            report: ReportFacts {
                id: "VR-2026-0007".into(),
                received_at: "2026-03-10T09:30:00Z".into(),
                state: "new".into(),
                severity: None,
                cve: None,
                title: e("Stored XSS in the admin panel"),
                subject: e("XSS in the admin panel"),
                credit: e("Ada Lovelace (example.net)"),
                reporter_name: e("Ada"),
            },
            deadlines: vec![
                DeadlineFacts {
                    kind: "triage".into(),
                    label: "Our assessment".into(),
                    due: Some("2026-03-17T09:30:00Z".into()),
                    due_human: Some("Tuesday, 17 March 2026, 09:30 UTC".into()),
                    promise: "within 5 business days of receipt".into(),
                },
                DeadlineFacts {
                    kind: "fix".into(),
                    label: "A fix".into(),
                    due: None,
                    due_human: None,
                    promise: "in the next regular release".into(),
                },
            ],
            next_steps: "We reproduce the problem and assess its severity, then tell you what we found.".into(),
            note: None,
            echo,
            encrypted: echo,
        }
    }
}

/// Where a template's text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    Override(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => write!(f, "the default"),
            Origin::Override(p) => write!(f, "{}", p.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no template named {name:?}: the templates are {known} (or NAME.txt in the override directory)")]
    Unknown { name: String, known: String },
    #[error("{name:?} is not a template name: use lower-case letters, digits and '-'")]
    BadName { name: String },
    #[error("cannot read template {name} ({}): {source}", .path.display())]
    Read { name: String, path: PathBuf, source: std::io::Error },
    #[error("template {name} ({origin}) line {line}: {reason}")]
    Format { name: String, origin: Origin, line: usize, reason: String },
    #[error("template {name} ({origin}) line {}: {detail}", line.map_or("?".to_string(), |l| l.to_string()))]
    Template { name: String, origin: Origin, line: Option<usize>, detail: String },
}

/// A rendered template: one subject line and the body (lines end in `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
    pub origin: Origin,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

/// The template's source text and where it came from.
pub fn source(name: &str, overrides: Option<&Path>) -> Result<(String, Origin), TemplateError> {
    if !valid_name(name) {
        return Err(TemplateError::BadName { name: name.to_string() });
    }
    if let Some(dir) = overrides {
        let path = dir.join(format!("{name}.txt"));
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| TemplateError::Format {
                    name: name.to_string(),
                    origin: Origin::Override(path.clone()),
                    line: 1,
                    reason: "the file is not UTF-8".into(),
                })?;
                return Ok((text, Origin::Override(path)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(TemplateError::Read { name: name.to_string(), path, source }),
        }
    }
    DEFAULTS.iter().find(|(n, _)| *n == name).map(|(_, s)| (s.to_string(), Origin::Default)).ok_or_else(|| {
        TemplateError::Unknown {
            name: name.to_string(),
            known: DEFAULTS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
        }
    })
}

/// Every template name: the defaults and any `NAME.txt` in the override directory,
/// sorted, each with where it comes from.
pub fn available(overrides: Option<&Path>) -> Vec<(String, Origin)> {
    let mut out: std::collections::BTreeMap<String, Origin> =
        DEFAULTS.iter().map(|(n, _)| (n.to_string(), Origin::Default)).collect();
    if let Some(dir) = overrides
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for e in entries.flatten() {
            let p = e.path();
            if let (Some(stem), Some("txt")) =
                (p.file_stem().and_then(|s| s.to_str()), p.extension().and_then(|s| s.to_str()))
                && valid_name(stem)
            {
                out.insert(stem.to_string(), Origin::Override(p.clone()));
            }
        }
    }
    out.into_iter().collect()
}

/// Render template `name` (an override when `overrides` has one) against `ctx`.
pub fn render(name: &str, overrides: Option<&Path>, ctx: &TemplateContext) -> Result<Rendered, TemplateError> {
    let (text, origin) = source(name, overrides)?;
    render_source(name, &text, origin, ctx)
}

/// Render template text (the file format above) against `ctx`.
pub fn render_source(name: &str, text: &str, origin: Origin, ctx: &TemplateContext) -> Result<Rendered, TemplateError> {
    let text = text.replace("\r\n", "\n");
    let format_err = |line: usize, reason: &str| TemplateError::Format {
        name: name.to_string(),
        origin: origin.clone(),
        line,
        reason: reason.to_string(),
    };
    let (first, rest) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let subject_src = match first.split_once(':') {
        Some((h, v)) if h.trim().eq_ignore_ascii_case("subject") => v.trim(),
        _ => return Err(format_err(1, "the first line must be `Subject: …`")),
    };
    let body_src = match rest.split_once('\n') {
        Some((blank, body)) if blank.trim().is_empty() => body,
        None if rest.trim().is_empty() => "",
        _ => return Err(format_err(2, "the second line must be empty (it separates the subject from the body)")),
    };

    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
        .map_err(|e| format_err(1, &e.to_string()))?;
    env.set_syntax(syntax);
    // Printing a none would put "none" into a mail to a reporter: an error instead, so a
    // template tests optional values (`{% if report.credit %}`) before printing them.
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                "a value here is none (not set for this report); test it with {% if … %} or use `or \"…\"`",
            ));
        }
        minijinja::escape_formatter(out, state, value)
    });
    // Override templates are the team's own, but a runaway loop should still end.
    env.set_fuel(Some(1_000_000));

    let template_err = |e: minijinja::Error, line_offset: usize| TemplateError::Template {
        name: name.to_string(),
        origin: origin.clone(),
        line: e.line().map(|l| l + line_offset),
        detail: match e.detail() {
            Some(d) => format!("{}: {d}", e.kind()),
            None => e.kind().to_string(),
        },
    };
    let subject = env
        .template_from_named_str(name, subject_src)
        .and_then(|t| t.render(Serde(ctx)))
        .map_err(|e| template_err(e, 0))?;
    let body = env
        .template_from_named_str(name, body_src)
        .and_then(|t| t.render(Serde(ctx)))
        .map_err(|e| template_err(e, 2))?;

    // One line: a value with a line break or a tab cannot break the subject apart.
    let subject = subject
        .split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if subject.is_empty() {
        return Err(format_err(1, "the subject renders empty"));
    }
    let mut body = body.replace("\r\n", "\n").replace('\r', "\n").trim_end().to_string();
    body.push('\n');
    Ok(Rendered { subject, body, origin })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_renders_with_and_without_echo() {
        for (name, _) in DEFAULTS {
            for echo in [true, false] {
                let mut ctx = TemplateContext::sample(echo);
                ctx.note = Some("Which version did you test?".into());
                let r = render(name, None, &ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(r.subject.contains("[VR-2026-0007]"), "{name}: {}", r.subject);
                assert!(r.body.contains("VR-2026-0007"), "{name}");
                assert!(r.body.contains("Example Security Team"), "{name}");
                assert_eq!(r.origin, Origin::Default);
                assert!(!r.body.contains("{{") && !r.body.contains("{%"), "{name}");
                // No quoting without echo: none of the reporter's words appear.
                let all = format!("{}\n{}", r.subject, r.body);
                for words in ["XSS", "Ada", "Stored"] {
                    assert!(echo || !all.contains(words), "{name} quotes {words}:\n{all}");
                }
                assert_eq!(all.contains("Hello Ada,"), echo, "{name}");
            }
        }
    }

    #[test]
    fn the_ack_says_id_next_steps_deadlines_and_credit() {
        let r = render("ack", None, &TemplateContext::sample(true)).unwrap();
        assert_eq!(r.subject, "Re: [VR-2026-0007] XSS in the admin panel");
        let b = &r.body;
        assert!(b.starts_with("Hello Ada,\n\n"), "{b}");
        assert!(b.contains("We reproduce the problem"), "{b}");
        assert!(b.contains("- Our assessment: within 5 business days of receipt, that is by Tuesday, 17 March 2026, 09:30 UTC\n- A fix: in the next regular release\n"), "{b}");
        assert!(b.contains("credited as \"Ada Lovelace (example.net)\""), "{b}");
        assert!(b.contains("filed it as VR-2026-0007:\n\"Stored XSS in the admin panel\"."), "{b}");
        assert!(!b.contains("not encrypted"));
        // No blank-line runs left by block tags.
        assert!(!b.contains("\n\n\n"), "{b}");

        let r = render("ack", None, &TemplateContext::sample(false)).unwrap();
        assert_eq!(r.subject, "Re: [VR-2026-0007] your security report");
        assert!(r.body.starts_with("Hello,\n\n"), "{}", r.body);
        assert!(r.body.contains("filed it as VR-2026-0007.\n"), "{}", r.body);
        assert!(r.body.contains("tell us the name to use"));
        assert!(r.body.contains("not encrypted"));
        assert!(!r.body.contains("\n\n\n"), "{}", r.body);
    }

    #[test]
    fn an_override_replaces_the_default_and_adds_new_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ack.txt"), "Subject: Got it: {{ report.id }}\n\nThanks, {{ team.name }}.\n")
            .unwrap();
        std::fs::write(dir.path().join("wontfix.txt"), "Subject: {{ report.id }} closed\n\nWe will not fix it.\n")
            .unwrap();
        let ctx = TemplateContext::sample(false);
        let r = render("ack", Some(dir.path()), &ctx).unwrap();
        assert_eq!(r.subject, "Got it: VR-2026-0007");
        assert_eq!(r.body, "Thanks, Example Security Team.\n");
        assert_eq!(r.origin, Origin::Override(dir.path().join("ack.txt")));
        assert_eq!(render("wontfix", Some(dir.path()), &ctx).unwrap().subject, "VR-2026-0007 closed");
        // The others stay the defaults.
        assert_eq!(render("fixed", Some(dir.path()), &ctx).unwrap().origin, Origin::Default);
        let names: Vec<String> = available(Some(dir.path())).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["ack", "disclosed", "fixed", "needs-info", "triaged", "wontfix"]);
        assert!(matches!(render("wontfix", None, &ctx), Err(TemplateError::Unknown { .. })));
        assert!(matches!(render("../etc/passwd", Some(dir.path()), &ctx), Err(TemplateError::BadName { .. })));
    }

    #[test]
    fn an_undefined_variable_is_an_error_naming_template_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("triaged.txt");
        std::fs::write(&path, "Subject: {{ report.id }}\n\nline three\nline four {{ report.severty }}\n").unwrap();
        let e = render("triaged", Some(dir.path()), &TemplateContext::sample(true)).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, TemplateError::Template { line: Some(4), .. }), "{text}");
        assert!(text.starts_with(&format!("template triaged ({}) line 4: undefined", path.display())), "{text}");
        // Also a plain top-level name, and in the subject (line 1).
        let e = render_source("x", "Subject: {{ nope }}\n\nbody\n", Origin::Default, &TemplateContext::sample(true))
            .unwrap_err();
        assert!(e.to_string().starts_with("template x (the default) line 1: undefined"), "{e}");
    }

    #[test]
    fn a_syntax_error_names_the_line() {
        let e =
            render_source("ack", "Subject: hi\n\nok\nok\n{% if %}\n", Origin::Default, &TemplateContext::sample(true))
                .unwrap_err();
        assert!(matches!(e, TemplateError::Template { line: Some(5), .. }), "{e}");
        assert!(e.to_string().contains("syntax error"), "{e}");
    }

    #[test]
    fn the_file_format_is_checked() {
        let ctx = TemplateContext::sample(true);
        let e = render_source("a", "Hello\n\nbody", Origin::Default, &ctx).unwrap_err();
        assert!(matches!(e, TemplateError::Format { line: 1, .. }), "{e}");
        let e = render_source("a", "Subject: x\nbody", Origin::Default, &ctx).unwrap_err();
        assert!(matches!(e, TemplateError::Format { line: 2, .. }), "{e}");
        let e = render_source("a", "Subject: {{ '' }}\n\nbody", Origin::Default, &ctx).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        // CRLF files work.
        let r = render_source("a", "Subject: x\r\n\r\nbody\r\nmore\r\n", Origin::Default, &ctx).unwrap();
        assert_eq!(r.body, "body\nmore\n");
    }

    #[test]
    fn a_value_with_line_breaks_stays_on_the_subject_line() {
        let mut ctx = TemplateContext::sample(true);
        ctx.report.subject = Some("XSS\r\nBcc: x@evil\n\tmore".into());
        let r = render("ack", None, &ctx).unwrap();
        assert_eq!(r.subject, "Re: [VR-2026-0007] XSS Bcc: x@evil more");
        assert!(!r.body.starts_with("Bcc"));
    }

    #[test]
    fn nothing_is_html_escaped() {
        let mut ctx = TemplateContext::sample(true);
        ctx.report.title = Some("<script>&\"x\"".into());
        let r = render_source("a.html", "Subject: s\n\n{{ report.title }}", Origin::Default, &ctx).unwrap();
        assert_eq!(r.body, "<script>&\"x\"\n");
    }
}

#[cfg(test)]
mod doc_tests {
    use super::*;

    fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    out.push(p.clone());
                    flatten(&p, v, out);
                }
            }
            serde_json::Value::Array(a) => {
                if let Some(first) = a.first() {
                    flatten(&format!("{prefix}[]"), first, out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_variable_is_documented_and_every_documented_one_exists() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/templates.md")).unwrap();
        let documented: std::collections::BTreeSet<String> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once('`').map(|(v, _)| v.to_string()))
            .filter(|v| !DEFAULTS.iter().any(|(n, _)| n == v))
            .collect();
        let mut vars = Vec::new();
        flatten("", &serde_json::to_value(TemplateContext::sample(true)).unwrap(), &mut vars);
        // Objects themselves (`team`, `report`) need no row of their own.
        let vars: std::collections::BTreeSet<String> =
            vars.into_iter().filter(|v| v != "team" && v != "report").collect();
        assert_eq!(documented, vars);
    }

    #[test]
    fn the_documented_error_messages_and_idioms_hold() {
        let ctx = TemplateContext::sample(false);
        let e = render_source("ack", "Subject: x\n\n{% if %}", Origin::Default, &ctx).unwrap_err();
        assert!(e.to_string().starts_with("template ack (the default) line 3: syntax error"), "{e}");
        let r =
            render_source("a", "Subject: x\n\n{{ report.credit or \"anonymous\" }}", Origin::Default, &ctx).unwrap();
        assert_eq!(r.body, "anonymous\n");
        let e = render_source("a", "Subject: x\n\n\n{{ report.credit }}", Origin::Default, &ctx).unwrap_err();
        assert!(
            e.to_string().starts_with("template a (the default) line 4: invalid operation: a value here is none"),
            "{e}"
        );
    }
}
