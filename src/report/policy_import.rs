//! Reading the response timelines a SECURITY.md states, and proposing a [`Policy`].
//!
//! Pure: takes the Markdown text, returns the proposal with, for every value, the
//! sentence or table row it came from, and the timing sentences it could not use.
//! It proposes; a person confirms (`vulnmail policy import --write`). It never
//! guesses a number: a promise without one ("as soon as possible") stays words.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::policy::{Deadline, Deadlines, Policy, SEVERITIES, Start, Unit};

/// What an import proposes: the policy-json shape plus `sources` and `not_understood`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    #[serde(flatten)]
    pub policy: Policy,
    pub sources: Vec<Source>,
    pub not_understood: Vec<String>,
}

/// Where one value of the proposal came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// `default`, `critical`, `high`, `medium` or `low`.
    pub severity: String,
    /// `acknowledge`, `triage`, `fix` or `disclose`.
    pub kind: String,
    /// The sentence or table row, Markdown markup removed.
    pub text: String,
}

/// Propose a policy from a SECURITY.md.
pub fn import(markdown: &str) -> Imported {
    let mut acc = Acc::default();
    // A heading that names only severities ("### Critical") applies to what follows it.
    let mut section: Vec<&'static str> = Vec::new();
    for block in blocks(markdown) {
        match block {
            Block::Table(rows) => table(&rows, &mut acc),
            Block::Paragraph(p) => {
                for s in sentences(&p) {
                    sentence(&s, &section, &mut acc);
                }
            }
            Block::Heading(h) => section = only_severities(&h).unwrap_or_default(),
        }
    }
    let mut severities = BTreeMap::new();
    severities.insert("default".to_string(), Deadlines::default());
    for s in SEVERITIES {
        severities.insert(s.to_string(), Deadlines::default());
    }
    for ((sev, kind), d) in acc.values {
        let entry = severities.entry(sev).or_default();
        let slot = match kind.as_str() {
            "acknowledge" => &mut entry.acknowledge,
            "triage" => &mut entry.triage,
            "fix" => &mut entry.fix,
            _ => &mut entry.disclose,
        };
        *slot = Some(d);
    }
    let time_zone = TZ_RE.find(markdown).map(|m| m.as_str().to_string()).unwrap_or_else(|| "UTC".into());
    Imported {
        policy: Policy { time_zone, weekend: vec!["Sat".into(), "Sun".into()], severities },
        sources: acc.sources,
        not_understood: acc.not_understood,
    }
}

/// Why a value reads differently from its words, for people ("upper bound of 2-4 weeks").
pub fn remark(d: &Deadline) -> Option<String> {
    let text = d.text.as_deref()?;
    d.amount?;
    let m = DURATION_RE.captures(text)?;
    if m.name("b").is_some() {
        return Some(format!("upper bound of the range {:?}", m.get(0).map_or("", |x| x.as_str()).trim()));
    }
    if unit_of(m.name("unit").or(m.name("short")).map_or("", |u| u.as_str())).is_some_and(|(_, mult)| mult == 30) {
        return Some("a month counted as 30 days".into());
    }
    None
}

#[derive(Default)]
struct Acc {
    /// (severity, kind) -> value; the first statement of a pair wins.
    values: BTreeMap<(String, String), Deadline>,
    sources: Vec<Source>,
    not_understood: Vec<String>,
}

impl Acc {
    /// Record a value; false when an earlier statement already set another one.
    fn set(&mut self, sev: &str, kind: &str, d: Deadline, text: &str) -> bool {
        let key = (sev.to_string(), kind.to_string());
        if let Some(old) = self.values.get(&key) {
            return old.amount == d.amount && old.unit == d.unit && old.from == d.from;
        }
        self.values.insert(key, d);
        self.sources.push(Source { severity: sev.into(), kind: kind.into(), text: text.into() });
        true
    }

    fn unclear(&mut self, text: &str) {
        if !self.not_understood.iter().any(|t| t == text) {
            self.not_understood.push(text.to_string());
        }
    }
}

// ---------------------------------------------------------------------------
// Markdown into blocks

#[derive(Debug, PartialEq)]
enum Block {
    /// Rows of cells, the header first, the `|---|` line dropped; each with its raw line.
    Table(Vec<(String, Vec<String>)>),
    /// A paragraph or one list item, lines joined, markup removed.
    Paragraph(String),
    /// A heading's text.
    Heading(String),
}

fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut para: Vec<String> = Vec::new();
    let mut table_rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut fenced = false;
    let mut in_comment = false;
    let flush_para = |para: &mut Vec<String>, out: &mut Vec<Block>| {
        if !para.is_empty() {
            out.push(Block::Paragraph(clean(&para.join(" "))));
            para.clear();
        }
    };
    let flush_table = |rows: &mut Vec<(String, Vec<String>)>, out: &mut Vec<Block>| {
        if !rows.is_empty() {
            out.push(Block::Table(std::mem::take(rows)));
        }
    };
    for line in md.lines() {
        let t = line.trim();
        if t.starts_with("```") || t.starts_with("~~~") {
            flush_para(&mut para, &mut out);
            flush_table(&mut table_rows, &mut out);
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        if in_comment {
            in_comment = !t.contains("-->");
            continue;
        }
        if t.starts_with("<!--") {
            in_comment = !t.contains("-->");
            continue;
        }
        if t.starts_with('|') {
            flush_para(&mut para, &mut out);
            let cells = split_row(t);
            let separator = cells.iter().all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')));
            if !separator {
                table_rows.push((clean(t), cells));
            }
            continue;
        }
        flush_table(&mut table_rows, &mut out);
        if t.starts_with('#') {
            flush_para(&mut para, &mut out);
            out.push(Block::Heading(clean(t.trim_start_matches('#').trim())));
            continue;
        }
        if t.is_empty() || t.chars().all(|c| matches!(c, '-' | '=' | '*' | '_')) {
            flush_para(&mut para, &mut out);
            continue;
        }
        if let Some(item) = BULLET_RE.find(t) {
            flush_para(&mut para, &mut out);
            para.push(t[item.end()..].to_string());
            continue;
        }
        para.push(t.trim_start_matches('>').trim().to_string());
    }
    flush_para(&mut para, &mut out);
    flush_table(&mut table_rows, &mut out);
    out
}

fn split_row(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(|c| clean(c.trim())).collect()
}

/// Markdown emphasis, code and links removed, spaces collapsed.
fn clean(s: &str) -> String {
    let s = LINK_RE.replace_all(s, "$1");
    let s: String = s.chars().filter(|c| !matches!(c, '*' | '`')).collect();
    let s = s.replace("__", "");
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sentences(p: &str) -> Vec<String> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        cur.push(c);
        if matches!(c, '.' | '!' | '?') {
            let next_ws = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
            let next_word = chars[i + 1..].iter().find(|n| !n.is_whitespace());
            let starts_upper = next_word.is_none_or(|n| n.is_uppercase() || n.is_ascii_digit());
            let abbrev = ["e.g.", "i.e.", "etc.", "approx.", "ca."].iter().any(|a| cur.to_lowercase().ends_with(a));
            if next_ws && starts_upper && !abbrev {
                out.push(cur.trim().to_string());
                cur.clear();
            }
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

// ---------------------------------------------------------------------------
// Tables

fn table(rows: &[(String, Vec<String>)], acc: &mut Acc) {
    let Some(((_, header), body)) = rows.split_first() else { return };
    // The column naming the severity: the one whose cells name severities most often.
    let width = header.len();
    let label_col = (0..width)
        .max_by_key(|&j| {
            let n = body.iter().filter(|(_, c)| c.get(j).is_some_and(|c| !severities_in(c).is_empty())).count();
            (n, std::cmp::Reverse(j))
        })
        .unwrap_or(0);
    for (raw, cells) in body {
        let Some(label) = cells.get(label_col) else { continue };
        let row_sevs = severities_in(label);
        let row_kind = kind_of_header(label);
        if row_sevs.is_empty() && row_kind.is_none() {
            if cells.iter().any(|c| time_of(c).is_some()) {
                acc.unclear(raw);
            }
            continue;
        }
        for (j, cell) in cells.iter().enumerate() {
            if j == label_col {
                continue;
            }
            let head = header.get(j).map(String::as_str).unwrap_or("");
            let kind = kind_of_header(head).or(row_kind);
            let sevs = if !row_sevs.is_empty() {
                row_sevs.clone()
            } else {
                let s = severities_in(head);
                if s.is_empty() { vec!["default"] } else { s }
            };
            let Some(kind) = kind else { continue };
            if is_blank_cell(cell) {
                continue;
            }
            match time_of(cell) {
                Some(t) => {
                    let d = t.deadline(kind, cell, cell);
                    for s in &sevs {
                        if !acc.set(s, kind, d.clone(), raw) {
                            acc.unclear(raw);
                        }
                    }
                }
                None => acc.unclear(&format!("{label} / {head}: {cell}")),
            }
        }
    }
}

fn is_blank_cell(c: &str) -> bool {
    let l = c.trim().to_lowercase();
    l.is_empty() || matches!(l.as_str(), "-" | "–" | "—" | "n/a" | "na" | "none" | "tbd" | "?")
}

/// The deadline kind a column header (or row label) names.
fn kind_of_header(h: &str) -> Option<&'static str> {
    let l = h.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| l.contains(w));
    if has(&["disclos", "publication", "publish", "advisory", "public", "veröffentlich", "offenleg", "divulga"]) {
        Some("disclose")
    } else if has(&[
        "acknowledg",
        "response",
        "respond",
        "reply",
        "receipt",
        "bestätig",
        "accusé",
        "réception",
        "acuse",
    ]) {
        Some("acknowledge")
    } else if has(&[
        "triage",
        "assess",
        "validat",
        "investigat",
        "evaluat",
        "analys",
        "bewert",
        "análisis",
        "évaluation",
    ]) {
        Some("triage")
    } else if has(&["fix", "patch", "remediat", "resolution", "resolve", "mitigat", "behebung", "correct", "parche"]) {
        Some("fix")
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// Sentences

fn sentence(s: &str, section: &[&'static str], acc: &mut Acc) {
    let (label_sevs, body) = match label_split(s) {
        Some((sevs, body)) => (sevs, body),
        None => (Vec::new(), s),
    };
    let labelled = !label_sevs.is_empty();
    if !labelled && !is_timing(s) {
        return;
    }
    // "Business days are counted in Europe/Berlin": read as the time zone.
    if TZ_RE.is_match(s) && time_of(s).is_none() {
        return;
    }
    let mut produced = false;
    let mut failed = false;
    let mut last_kind: Option<&'static str> = None;
    let mut last_sevs: Vec<&'static str> = if labelled { label_sevs } else { section.to_vec() };
    for clause in clauses(body) {
        let named = severities_in_prose(&clause);
        if !named.is_empty() {
            last_sevs = named;
        }
        let Some(t) = time_of(&clause) else {
            if let Some(k) = kind_in(&clause) {
                last_kind = Some(k);
            }
            continue;
        };
        let mut sevs = last_sevs.clone();
        // A severity's own sentence without a kind word is about its fix ("High: 30 days").
        let kind = kind_in(&clause).or(last_kind).or(if sevs.is_empty() { None } else { Some("fix") });
        let Some(kind) = kind else {
            failed = true;
            continue;
        };
        last_kind = Some(kind);
        let d = t.deadline(kind, &clause, &t.words);
        if sevs.is_empty() {
            sevs.push("default");
        }
        for sev in sevs {
            // A second, different statement for the same deadline: shown, not used.
            failed |= !acc.set(sev, kind, d.clone(), s);
        }
        produced = true;
    }
    if failed || !produced {
        acc.unclear(s);
    }
}

/// The severities a label names, when it names nothing else ("Critical vulnerabilities").
fn only_severities(head: &str) -> Option<Vec<&'static str>> {
    let sevs = severities_in(head);
    let filler = |w: &str| LABEL_FILLER.contains(&w);
    if sevs.is_empty() || words(head).iter().any(|w| severity_word(w).is_none() && !filler(w)) {
        return None;
    }
    Some(sevs)
}

/// "Critical vulnerabilities: …", "Medium/Low – …": the severities a leading label
/// names, and the rest of the sentence.
fn label_split(s: &str) -> Option<(Vec<&'static str>, &str)> {
    let (head, body) = LABEL_RE.captures(s).map(|c| {
        let whole = c.get(0).map_or(0, |m| m.end());
        (c.get(1).map_or("", |m| m.as_str()), &s[whole..])
    })?;
    Some((only_severities(head)?, body))
}

const LABEL_FILLER: [&str; 22] = [
    "severity",
    "severities",
    "vulnerability",
    "vulnerabilities",
    "issue",
    "issues",
    "bug",
    "bugs",
    "risk",
    "priority",
    "and",
    "or",
    "findings",
    "finding",
    "reports",
    "level",
    "impact",
    "cvss",
    "rated",
    "for",
    "sev",
    "und",
];

const SEVERITY_NOUNS: [&str; 12] = [
    "severity",
    "vulnerability",
    "vulnerabilities",
    "issue",
    "issues",
    "bug",
    "bugs",
    "risk",
    "priority",
    "findings",
    "reports",
    "impact",
];

/// Severities named in prose: "critical issues", "high-severity bugs", "severity high".
fn severities_in_prose(s: &str) -> Vec<&'static str> {
    let w = words(s);
    let mut out = Vec::new();
    for (i, word) in w.iter().enumerate() {
        let Some(sev) = severity_word(word) else { continue };
        let next_noun = w.get(i + 1).is_some_and(|n| SEVERITY_NOUNS.contains(&n.as_str()))
            || (w.get(i + 1).is_some_and(|n| n == "or" || n == "and")
                && w.get(i + 2).is_some_and(|n| severity_word(n).is_some()));
        let after_noun = i > 0 && (w[i - 1] == "severity" || w[i - 1] == "priority");
        let code = word.starts_with('p') && word.len() == 2;
        if (next_noun || after_noun || code) && !out.contains(&sev) {
            out.push(sev);
        }
    }
    // "critical or high issues": the first word is named through the second's noun.
    let mut i = 0;
    while i + 2 < w.len() {
        if let (Some(a), true, Some(b)) =
            (severity_word(&w[i]), w[i + 1] == "or" || w[i + 1] == "and", severity_word(&w[i + 2]))
            && out.contains(&b)
            && !out.contains(&a)
        {
            out.push(a);
        }
        i += 1;
    }
    out.sort_by_key(|s| SEVERITIES.iter().position(|x| x == s));
    out
}

/// Every severity a label names ("Medium/Low", "P0/P1", "Élevée").
fn severities_in(s: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for w in words(s) {
        if let Some(sev) = severity_word(&w)
            && !out.contains(&sev)
        {
            out.push(sev);
        }
    }
    out
}

fn severity_word(w: &str) -> Option<&'static str> {
    Some(match w {
        "critical" | "severe" | "p0" | "p1" | "urgent" | "kritisch" | "critique" | "crítica" | "critica"
        | "crítico" | "critico" => "critical",
        "high" | "important" | "p2" | "hoch" | "élevée" | "élevé" | "elevee" | "eleve" | "haute" | "alta" | "alto" => {
            "high"
        }
        "medium" | "moderate" | "p3" | "mittel" | "moyenne" | "moyen" | "media" | "medio" | "moderada" => "medium",
        "low" | "minor" | "p4" | "niedrig" | "gering" | "faible" | "basse" | "baja" | "bajo" => "low",
        _ => return None,
    })
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Does this sentence speak about time at all?
fn is_timing(s: &str) -> bool {
    TIMING_RE.is_match(s) || time_of(s).is_some()
}

/// A sentence in the pieces that may each carry one deadline. A piece without a
/// time is the subject of what follows ("we acknowledge and triage within …").
fn clauses(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    for m in CLAUSE_RE.find_iter(s) {
        if time_of(&s[start..m.start()]).is_some() {
            out.push(s[start..m.start()].trim().to_string());
            start = m.end();
        }
    }
    if !s[start..].trim().is_empty() {
        out.push(s[start..].trim().to_string());
    }
    out
}

/// The deadline kind a clause is about: the first kind word that is not a clock
/// start ("after the patch", "of triage").
fn kind_in(s: &str) -> Option<&'static str> {
    let mut best: Option<(usize, &'static str)> = None;
    for (kind, re) in KIND_RES.iter() {
        for m in re.find_iter(s) {
            let before = s[..m.start()].to_lowercase();
            if CLOCK_START_RE.is_match(&before) {
                continue;
            }
            if best.is_none_or(|(p, _)| m.start() < p) {
                best = Some((m.start(), kind));
            }
            break;
        }
    }
    best.map(|(_, k)| k)
}

// ---------------------------------------------------------------------------
// Times

/// A time a piece of text states: a duration or a promise without a number.
#[derive(Debug, Clone, PartialEq)]
struct Time {
    amount: Option<u32>,
    unit: Option<Unit>,
    /// The words it was read from ("48-72 hours", "as soon as possible").
    words: String,
}

impl Time {
    fn deadline(&self, kind: &str, context: &str, text: &str) -> Deadline {
        Deadline { amount: self.amount, unit: self.unit, from: start_of(kind, context), text: Some(text.to_string()) }
    }
}

fn time_of(s: &str) -> Option<Time> {
    if let Some(c) = DURATION_RE.captures(s) {
        let a = c.name("a").or(c.name("a2")).map(|m| m.as_str());
        let b = c.name("b").map(|m| m.as_str());
        let unit = c.name("unit").or(c.name("short")).map_or("", |m| m.as_str());
        let (unit, mult) = unit_of(unit)?;
        let n = number(b.or(a).unwrap_or("a"))?;
        let words = c.get(0).map_or("", |m| m.as_str()).trim().to_string();
        return Some(Time { amount: Some(n.saturating_mul(mult)), unit: Some(unit), words });
    }
    PROMISE_RE.find(s).map(|m| Time { amount: None, unit: None, words: m.as_str().to_string() })
}

/// A unit word: the unit and how many of it one is (a fortnight is two weeks).
fn unit_of(u: &str) -> Option<(Unit, u32)> {
    let l = u.to_lowercase();
    let l = l.split_whitespace().collect::<Vec<_>>().join(" ");
    let business = ["business", "working", "work", "werktag", "arbeitstag", "ouvr", "hábil", "habil", "laborable"];
    if business.iter().any(|b| l.contains(b)) {
        return Some((Unit::BusinessDays, 1));
    }
    Some(match l.as_str() {
        "h" | "hr" | "hrs" | "hour" | "hours" | "stunde" | "stunden" | "heure" | "heures" | "hora" | "horas" => {
            (Unit::Hours, 1)
        }
        "d" | "day" | "days" | "calendar day" | "calendar days" | "tag" | "tage" | "tagen" | "jour" | "jours"
        | "día" | "días" | "dia" | "dias" => (Unit::Days, 1),
        "w" | "wk" | "wks" | "week" | "weeks" | "woche" | "wochen" | "semaine" | "semaines" | "semana" | "semanas" => {
            (Unit::Weeks, 1)
        }
        "fortnight" | "fortnights" => (Unit::Weeks, 2),
        "month" | "months" | "monat" | "monate" | "monaten" | "mois" | "mes" | "meses" => (Unit::Days, 30),
        _ => return None,
    })
}

fn number(s: &str) -> Option<u32> {
    let l = s.to_lowercase();
    if let Ok(n) = l.parse::<u32>() {
        return Some(n);
    }
    Some(match l.as_str() {
        "a" | "an" | "one" | "ein" | "eine" | "einer" | "un" | "une" | "uno" | "una" => 1,
        "two" | "zwei" | "deux" | "dos" => 2,
        "three" | "drei" | "trois" | "tres" => 3,
        "four" | "vier" | "quatre" | "cuatro" => 4,
        "five" | "fünf" | "cinq" | "cinco" => 5,
        "six" | "sechs" | "seis" => 6,
        "seven" | "sieben" | "sept" | "siete" => 7,
        "eight" | "acht" | "huit" | "ocho" => 8,
        "nine" | "neun" | "neuf" | "nueve" => 9,
        "ten" | "zehn" | "dix" | "diez" => 10,
        "eleven" | "elf" | "onze" | "once" => 11,
        "twelve" | "zwölf" | "douze" | "doce" => 12,
        "fourteen" => 14,
        "thirty" => 30,
        "ninety" => 90,
        _ => return None,
    })
}

/// What starts a deadline's clock, from its kind and the words around it.
fn start_of(kind: &str, context: &str) -> Start {
    let l = context.to_lowercase();
    let receipt = RECEIPT_RE.is_match(&l);
    match kind {
        "acknowledge" => Start::Receipt,
        "triage" => {
            if ACK_START_RE.is_match(&l) {
                Start::Acknowledge
            } else {
                Start::Receipt
            }
        }
        "fix" => {
            if receipt {
                Start::Receipt
            } else if ACK_START_RE.is_match(&l) {
                Start::Acknowledge
            } else {
                Start::Triage
            }
        }
        _ => {
            if FIX_START_RE.is_match(&l) || !receipt {
                Start::Fix
            } else {
                Start::Receipt
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The patterns

const NUMBER_WORDS: &str = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|thirty|ninety|an?|ein|eine|einer|zwei|drei|vier|fünf|sechs|sieben|acht|zehn|deux|trois|quatre|cinq|sept|huit|dix|une?|dos|tres|cuatro|cinco|siete|ocho|diez|uno|una";

const UNIT_WORDS: &str = r"(?:business|working|work|calendar)[\s-]+days?|werktagen?|werktage|arbeitstagen?|jours?\s+ouvr(?:é|e|a)s?(?:bles)?|d[ií]as\s+(?:h[aá]biles|laborables)|hours?|hrs?|days?|weeks?|wks?|fortnights?|months?|stunden?|tagen|tage|wochen?|monate?n?|monat|heures?|jours?|semaines?|mois|horas?|d[ií]as?|semanas?|mes(?:es)?";

static DURATION_RE: LazyLock<Regex> = LazyLock::new(|| {
    let num = format!(r"(?:\d+|{NUMBER_WORDS})");
    let pat = format!(
        r"(?i)\b(?P<a>{num})(?:\s*(?:-|–|—|to|or|bis|à)\s*(?P<b>{num}))?(?:\s*\(\d+\))?\s*(?P<unit>{UNIT_WORDS})\b|\b(?P<a2>\d+)\s*(?P<short>h|d|w)\b"
    );
    regex(&pat)
});

static PROMISE_RE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\bas soon as (?:possible|practical|practicable|we can|feasible)\b|\basap\b|\bimmediately\b|\bnext\s+(?:[\w-]+\s+){0,2}(?:release|version)s?\b|\b(?:after|once|when|following)\s+(?:the\s+|a\s+)?(?:fix|patch|release|update)(?:es)?(?:\s+(?:is|has been|are|have been)\s+(?:released|available|published|shipped))?|\bafter\s+(?:it\s+is\s+|being\s+)?(?:fixed|patched|released)\b",
    )
});

static TIMING_RE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:hours?|days?|weeks?|months?|fortnight|business days?|working days?|as soon as|asap|timeline|timelines|time ?frame|deadlines?|no later than|sla|response times?|within a reasonable)\b",
    )
});

static KIND_RES: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    vec![
        (
            "acknowledge",
            regex(
                r"(?i)\backnowledg\w*|\brespond\w*|\bresponse\b|\breply\b|\breplies\b|\bget back to you|\bhear (?:back )?from us|\bconfirm(?:ation of)? (?:the )?receipt",
            ),
        ),
        (
            "triage",
            regex(
                r"(?i)\btriag\w*|\bassess\w*|\binvestigat\w*|\bvalidat\w*|\bevaluat\w*|\banaly[sz]\w*|\bconfirm (?:the|whether|if)\b",
            ),
        ),
        (
            "fix",
            regex(
                r"(?i)\bfix\w*|\bpatch\w*|\bremediat\w*|\bresol(?:ve|ved|ution)\b|\bmitigat\w*|\bsecurity (?:update|release)s?\b",
            ),
        ),
        (
            "disclose",
            regex(
                r"(?i)\bdisclos\w*|\badvisor(?:y|ies)\b|\bpublish\w* (?:the |an? )?(?:details|advisory|information)|\bpublic\w*\b|\bembargo\w*",
            ),
        ),
    ]
});

/// Words just before a kind word that make it the clock's start, not the deadline's kind.
static CLOCK_START_RE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:after|once|following|of|from|since|until|upon|when|before)(?:\s+(?:the|a|an|its|our|your|a|initial))?\s*$",
    )
});

static RECEIPT_RE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:of|from|after|since|upon)\s+(?:the\s+|your\s+|a\s+|initial\s+)*(?:receipt|report|reporting|receiving|submission|notification|being reported|first contact)\b|\bafter (?:we|you) (?:receive|report)|\bof (?:it )?being reported",
    )
});

static ACK_START_RE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)\b(?:of|from|after|since|following)\s+(?:the\s+|our\s+)?acknowledg\w*"));

static FIX_START_RE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:after|once|following|of|from|when)\s+(?:the\s+|a\s+)?(?:fix|patch|release|update)\w*|\bafter\s+(?:it\s+is\s+|being\s+)?(?:fixed|patched|released)",
    )
});

static CLAUSE_RE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)\s*;\s*|,?\s+and\s+|,\s+then\s+|,\s+while\s+|,\s+but\s+|\s+\(|\)\s*"));

static LABEL_RE: LazyLock<Regex> = LazyLock::new(|| regex(r"^\s*([^:–—]{1,60}?)\s*(?::|\s[–—-]\s)\s*"));

static LINK_RE: LazyLock<Regex> = LazyLock::new(|| regex(r"\[([^\]]*)\]\([^)]*\)"));

static BULLET_RE: LazyLock<Regex> = LazyLock::new(|| regex(r"^(?:[-*+]|\d+[.)])\s+"));

static TZ_RE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b(?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific)/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?\b",
    )
});

fn regex(p: &str) -> Regex {
    Regex::new(p).unwrap_or_else(|_| unreachable_regex())
}

/// The patterns are constants checked by the tests; an invalid one matches nothing.
fn unreachable_regex() -> Regex {
    debug_assert!(false, "invalid built-in pattern");
    Regex::new(r"[^\s\S]").unwrap_or_else(|_| unreachable_regex())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> (Option<u32>, Option<Unit>) {
        let t = time_of(s).unwrap_or_else(|| panic!("no time in {s:?}"));
        (t.amount, t.unit)
    }

    #[test]
    fn durations() {
        assert_eq!(t("within 48 hours"), (Some(48), Some(Unit::Hours)));
        assert_eq!(t("within one week"), (Some(1), Some(Unit::Weeks)));
        assert_eq!(t("in 2-4 weeks"), (Some(4), Some(Unit::Weeks)));
        assert_eq!(t("48–72 hours"), (Some(72), Some(Unit::Hours)));
        assert_eq!(t("2 to 4 weeks"), (Some(4), Some(Unit::Weeks)));
        assert_eq!(t("within 2000 business days"), (Some(2000), Some(Unit::BusinessDays)));
        assert_eq!(t("five working days"), (Some(5), Some(Unit::BusinessDays)));
        assert_eq!(t("within a fortnight"), (Some(2), Some(Unit::Weeks)));
        assert_eq!(t("72h"), (Some(72), Some(Unit::Hours)));
        assert_eq!(t("twelve days"), (Some(12), Some(Unit::Days)));
        assert_eq!(t("an hour"), (Some(1), Some(Unit::Hours)));
        assert_eq!(t("3 months"), (Some(90), Some(Unit::Days)));
        assert_eq!(t("innerhalb von 5 Werktagen"), (Some(5), Some(Unit::BusinessDays)));
        assert_eq!(t("sous 7 jours"), (Some(7), Some(Unit::Days)));
        assert!(time_of("we have a team").is_none());
        assert!(time_of("version 2 has had support").is_none());
        // "an" + "d" is not "one day" (a regression: "Spanish and English" was read as 1 day).
        assert!(time_of("German and English").is_none());
        assert_eq!(t("5d"), (Some(5), Some(Unit::Days)));
    }

    #[test]
    fn promises_without_a_number() {
        for s in ["as soon as possible", "next regular release", "After patch", "after the patch is released", "ASAP"] {
            let got = time_of(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(got.amount, None, "{s}");
        }
        assert_eq!(time_of("with the next minor release").unwrap().words, "next minor release");
    }

    #[test]
    fn remark_says_a_range_is_read_as_its_upper_bound() {
        let d =
            Deadline { amount: Some(4), unit: Some(Unit::Weeks), from: Start::Triage, text: Some("2-4 weeks".into()) };
        assert!(remark(&d).unwrap().contains("upper bound"));
        let d = Deadline { text: Some("4 weeks".into()), ..d };
        assert_eq!(remark(&d), None);
    }

    #[test]
    fn severity_names_in_four_languages_and_combined() {
        assert_eq!(severities_in("Medium/Low"), vec!["medium", "low"]);
        assert_eq!(severities_in("P0 / P1"), vec!["critical"]);
        assert_eq!(severities_in("Élevée"), vec!["high"]);
        assert_eq!(severities_in("Kritisch"), vec!["critical"]);
        assert_eq!(severities_in("Baja"), vec!["low"]);
        assert_eq!(severities_in("Important"), vec!["high"]);
        assert_eq!(severities_in("Moderate"), vec!["medium"]);
        assert!(severities_in("Highlights").is_empty());
        assert_eq!(severities_in_prose("We fix critical or high issues quickly"), vec!["critical", "high"]);
        assert!(severities_in_prose("We take this critically and at a high level").is_empty());
    }

    #[test]
    fn headers_name_kinds() {
        assert_eq!(kind_of_header("Initial response"), Some("acknowledge"));
        assert_eq!(kind_of_header("Assessment"), Some("triage"));
        assert_eq!(kind_of_header("Remediation"), Some("fix"));
        assert_eq!(kind_of_header("Public disclosure"), Some("disclose"));
        assert_eq!(kind_of_header("Severity"), None);
    }

    #[test]
    fn kind_is_the_first_word_that_is_not_a_clock_start() {
        assert_eq!(kind_in("disclose 90 days after the patch"), Some("disclose"));
        assert_eq!(kind_in("After triage, we fix within 7 days"), Some("fix"));
        assert_eq!(kind_in("We will acknowledge receipt of your report within 48 hours"), Some("acknowledge"));
        assert_eq!(kind_in("within 30 days"), None);
    }

    #[test]
    fn clocks_start_where_the_words_say() {
        assert_eq!(start_of("fix", "fix within 30 days"), Start::Triage);
        assert_eq!(start_of("fix", "fix within 30 days of receipt"), Start::Receipt);
        assert_eq!(start_of("fix", "within 90 days of the report"), Start::Receipt);
        assert_eq!(start_of("disclose", "disclose 90 days after the patch"), Start::Fix);
        assert_eq!(start_of("disclose", "disclosed 90 days from the initial report"), Start::Receipt);
        assert_eq!(start_of("triage", "triage within 5 days of acknowledgement"), Start::Acknowledge);
        assert_eq!(start_of("acknowledge", "after the patch"), Start::Receipt);
    }

    #[test]
    fn labels_and_sentences() {
        let (sevs, body) = label_split("Critical vulnerabilities: patches released as soon as possible").unwrap();
        assert_eq!((sevs, body), (vec!["critical"], "patches released as soon as possible"));
        assert!(label_split("Note: we respond within 2 days").is_none());
        assert_eq!(
            sentences("We reply within 2 days. Fixes, e.g. patches, follow. End"),
            vec!["We reply within 2 days.", "Fixes, e.g. patches, follow.", "End"]
        );
    }

    #[test]
    fn one_sentence_two_deadlines() {
        let imp =
            import("We acknowledge reports within 48 hours and provide an initial assessment within 5 business days.");
        let p = &imp.policy;
        assert_eq!(p.severities["default"].acknowledge.as_ref().unwrap().amount, Some(48));
        let tri = p.severities["default"].triage.as_ref().unwrap();
        assert_eq!((tri.amount, tri.unit), (Some(5), Some(Unit::BusinessDays)));
        assert!(imp.not_understood.is_empty(), "{:?}", imp.not_understood);
        assert_eq!(imp.sources.len(), 2);
    }

    #[test]
    fn tables_with_severity_rows_and_combined_labels() {
        let md = "| Severity | Fix | Acknowledge |\n|---|---|---|\n| Critical | 48-72 hours | 24 hours |\n| Medium/Low | Next release | - |\n";
        let imp = import(md);
        let s = &imp.policy.severities;
        let fix = s["critical"].fix.as_ref().unwrap();
        assert_eq!((fix.amount, fix.unit, fix.text.as_deref()), (Some(72), Some(Unit::Hours), Some("48-72 hours")));
        assert_eq!(s["critical"].acknowledge.as_ref().unwrap().amount, Some(24));
        assert_eq!(s["low"].fix.as_ref().unwrap().text.as_deref(), Some("Next release"));
        assert_eq!(s["medium"].fix, s["low"].fix);
        assert!(s["medium"].acknowledge.is_none());
        assert_eq!(imp.sources[0].text, "| Critical | 48-72 hours | 24 hours |");
    }

    #[test]
    fn a_second_statement_for_the_same_deadline_is_shown_not_used() {
        let imp = import("High: fix within 30 days.\n\nHigh: fix within 60 days.\n");
        assert_eq!(imp.policy.severities["high"].fix.as_ref().unwrap().amount, Some(30));
        assert_eq!(imp.not_understood, vec!["High: fix within 60 days."]);
    }

    #[test]
    fn transposed_tables_name_kinds_in_rows() {
        let imp = import(
            "| Stage | Critical | Low |\n|---|---|---|\n| Fix | 2 days | 60 days |\n| Acknowledgement | 1 day | 1 day |\n",
        );
        let s = &imp.policy.severities;
        assert_eq!(s["critical"].fix.as_ref().unwrap().amount, Some(2));
        assert_eq!(s["low"].fix.as_ref().unwrap().amount, Some(60));
        assert_eq!(s["low"].acknowledge.as_ref().unwrap().amount, Some(1));
    }

    #[test]
    fn unclear_timing_is_listed_and_the_rest_ignored() {
        let imp = import("Thanks for helping.\n\nWe handle reports in a timely manner on a best-effort timeline.\n");
        assert_eq!(imp.not_understood, vec!["We handle reports in a timely manner on a best-effort timeline."]);
        assert!(imp.sources.is_empty());
    }

    #[test]
    fn imported_serialises_as_policy_json_with_two_more_keys() {
        let v = serde_json::to_value(import("We acknowledge within 2 days.")).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, vec!["not_understood", "severities", "sources", "time_zone", "weekend"]);
        assert_eq!(v["severities"]["default"]["acknowledge"]["amount"], 2);
    }
}
