//! Field extraction: from what reporters actually write to the report fields.
//!
//! Pure text in, [`Fields`] out. The text is first cleaned (quoted replies,
//! greetings, sign-offs, signatures, legal footers, forwarding headers go), then cut
//! into sections at headings in the forms reporters use (Markdown `#`, `**bold**`,
//! `Label:` lines, underlined headings, numbered sections, tracker templates), each
//! heading mapped to a field through a table of synonyms. Identifiers (CVE, CWE,
//! CVSS, URLs, severity, credit, disclosure dates) are then read from the sections
//! or the whole text. A field the text does not support stays empty.

use std::sync::LazyLock;

use regex::Regex;

use super::model::{Cvss, Fields, Reporter};

/// What extraction works from.
pub struct Input<'a> {
    /// The report's text (decrypted, HTML already turned into text).
    pub text: &'a str,
    pub subject: Option<&'a str>,
    /// When the report arrived, for relative dates ("90 days").
    pub received_at: Option<jiff::Timestamp>,
    /// Text attachments: (file name, content).
    pub text_attachments: &'a [(String, String)],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Title,
    Summary,
    Steps,
    Impact,
    Component,
    Versions,
    VulnType,
    Cwe,
    Cve,
    Severity,
    Cvss,
    Poc,
    Fix,
    Environment,
    References,
    Credit,
    Reporter,
    Disclosure,
}

/// Heading words (normalised: lower case, letters and spaces) and their field.
const SYNONYMS: &[(&str, Key)] = &[
    ("title", Key::Title),
    ("vulnerability title", Key::Title),
    ("report title", Key::Title),
    ("vulnerability name", Key::Title),
    ("summary", Key::Summary),
    ("description", Key::Summary),
    ("details", Key::Summary),
    ("overview", Key::Summary),
    ("vulnerability description", Key::Summary),
    ("description of the vulnerability", Key::Summary),
    ("vulnerability details", Key::Summary),
    ("issue", Key::Summary),
    ("issue description", Key::Summary),
    ("the issue", Key::Summary),
    ("problem", Key::Summary),
    ("bug description", Key::Summary),
    ("vulnerability", Key::Summary),
    ("beschreibung", Key::Summary),
    ("zusammenfassung", Key::Summary),
    ("résumé", Key::Summary),
    ("resume", Key::Summary),
    ("descripción", Key::Summary),
    ("descripcion", Key::Summary),
    ("steps to reproduce", Key::Steps),
    ("steps to reproduce the issue", Key::Steps),
    ("reproduction", Key::Steps),
    ("reproduction steps", Key::Steps),
    ("how to reproduce", Key::Steps),
    ("repro steps", Key::Steps),
    ("repro", Key::Steps),
    ("to reproduce", Key::Steps),
    ("steps", Key::Steps),
    ("steps to replicate", Key::Steps),
    ("reproducing", Key::Steps),
    ("schritte zur reproduktion", Key::Steps),
    ("reproduktion", Key::Steps),
    ("impact", Key::Impact),
    ("risk", Key::Impact),
    ("security impact", Key::Impact),
    ("business impact", Key::Impact),
    ("consequences", Key::Impact),
    ("auswirkung", Key::Impact),
    ("auswirkungen", Key::Impact),
    ("affected component", Key::Component),
    ("affected components", Key::Component),
    ("component", Key::Component),
    ("affected product", Key::Component),
    ("product", Key::Component),
    ("affected package", Key::Component),
    ("package", Key::Component),
    ("module", Key::Component),
    ("affected module", Key::Component),
    ("affected endpoint", Key::Component),
    ("endpoint", Key::Component),
    ("affected url", Key::Component),
    ("url", Key::Component),
    ("location", Key::Component),
    ("url location of vulnerability", Key::Component),
    ("vulnerable url", Key::Component),
    ("affected file", Key::Component),
    ("affected asset", Key::Component),
    ("asset", Key::Component),
    ("target", Key::Component),
    ("affected versions", Key::Versions),
    ("affected version", Key::Versions),
    ("affected version s", Key::Versions),
    ("versions affected", Key::Versions),
    ("version", Key::Versions),
    ("versions", Key::Versions),
    ("affected releases", Key::Versions),
    ("tested on", Key::Versions),
    ("tested version", Key::Versions),
    ("tested versions", Key::Versions),
    ("betroffene versionen", Key::Versions),
    ("vulnerability type", Key::VulnType),
    ("type", Key::VulnType),
    ("vulnerability class", Key::VulnType),
    ("bug type", Key::VulnType),
    ("class", Key::VulnType),
    ("category", Key::VulnType),
    ("weakness", Key::VulnType),
    ("type of vulnerability", Key::VulnType),
    ("cwe", Key::Cwe),
    ("cwe id", Key::Cwe),
    ("cve", Key::Cve),
    ("cve id", Key::Cve),
    ("severity", Key::Severity),
    ("criticality", Key::Severity),
    ("risk level", Key::Severity),
    ("severity rating", Key::Severity),
    ("cvss", Key::Cvss),
    ("cvss score", Key::Cvss),
    ("cvss vector", Key::Cvss),
    ("cvss v", Key::Cvss),
    ("cvss base score", Key::Cvss),
    ("proof of concept", Key::Poc),
    ("poc", Key::Poc),
    ("exploit", Key::Poc),
    ("exploit code", Key::Poc),
    ("payload", Key::Poc),
    ("proof", Key::Poc),
    ("proof of concept poc", Key::Poc),
    ("poc code", Key::Poc),
    ("suggested fix", Key::Fix),
    ("fix", Key::Fix),
    ("remediation", Key::Fix),
    ("mitigation", Key::Fix),
    ("mitigations", Key::Fix),
    ("recommendation", Key::Fix),
    ("recommendations", Key::Fix),
    ("recommended remediation", Key::Fix),
    ("recommended mitigation", Key::Fix),
    ("recommended mitigations", Key::Fix),
    ("fixes", Key::Fix),
    ("対策", Key::Fix),
    ("概要", Key::Summary),
    ("再現手順", Key::Steps),
    ("影響", Key::Impact),
    ("影響を受けるバージョン", Key::Versions),
    ("recommended fix", Key::Fix),
    ("suggested remediation", Key::Fix),
    ("suggested mitigation", Key::Fix),
    ("possible fix", Key::Fix),
    ("proposed fix", Key::Fix),
    ("solution", Key::Fix),
    ("patch", Key::Fix),
    ("fix suggestion", Key::Fix),
    ("workaround", Key::Fix),
    ("what is the vulnerability", Key::Summary),
    ("what is the issue", Key::Summary),
    ("what is the problem", Key::Summary),
    ("what happened", Key::Summary),
    ("how can it be reproduced", Key::Steps),
    ("how can this be reproduced", Key::Steps),
    ("how do i reproduce it", Key::Steps),
    ("how to reproduce it", Key::Steps),
    ("what is the impact", Key::Impact),
    ("what can an attacker do", Key::Impact),
    ("why does it matter", Key::Impact),
    ("which versions are affected", Key::Versions),
    ("what versions are affected", Key::Versions),
    ("how can it be fixed", Key::Fix),
    ("how can this be fixed", Key::Fix),
    ("how to fix it", Key::Fix),
    ("how should it be fixed", Key::Fix),
    ("how would you like to be credited", Key::Credit),
    ("who should be credited", Key::Credit),
    ("workarounds", Key::Fix),
    ("how to fix", Key::Fix),
    ("suggested fix mitigation", Key::Fix),
    ("remediation advice", Key::Fix),
    ("vulnerable component", Key::Component),
    ("affected software", Key::Component),
    ("affected feature", Key::Component),
    ("affected functionality", Key::Component),
    ("vulnerable versions", Key::Versions),
    ("affected products", Key::Component),
    ("environment", Key::Environment),
    ("test environment", Key::Environment),
    ("testing environment", Key::Environment),
    ("setup", Key::Environment),
    ("configuration", Key::Environment),
    ("platform", Key::Environment),
    ("system", Key::Environment),
    ("umgebung", Key::Environment),
    ("references", Key::References),
    ("reference", Key::References),
    ("links", Key::References),
    ("resources", Key::References),
    ("supporting material", Key::References),
    ("supporting material references", Key::References),
    ("see also", Key::References),
    ("credit", Key::Credit),
    ("credits", Key::Credit),
    ("acknowledgement", Key::Credit),
    ("acknowledgment", Key::Credit),
    ("acknowledgements", Key::Credit),
    ("attribution", Key::Credit),
    ("discovered by", Key::Credit),
    ("found by", Key::Credit),
    ("reporter", Key::Reporter),
    ("researcher", Key::Reporter),
    ("reported by", Key::Reporter),
    ("contact", Key::Reporter),
    ("disclosure", Key::Disclosure),
    ("disclosure timeline", Key::Disclosure),
    ("disclosure deadline", Key::Disclosure),
    ("disclosure date", Key::Disclosure),
    ("timeline", Key::Disclosure),
    ("embargo", Key::Disclosure),
    ("disclosure policy", Key::Disclosure),
];

fn norm_heading(s: &str) -> String {
    let lower = s.to_lowercase();
    let mut out = String::new();
    let mut space = false;
    for c in lower.chars() {
        if c.is_alphabetic() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else {
            space = true;
        }
    }
    out
}

fn lookup(heading: &str) -> Option<Key> {
    lookup_norm(&norm_heading(heading))
}

static SYNONYM_MAP: LazyLock<std::collections::HashMap<&'static str, Key>> =
    LazyLock::new(|| SYNONYMS.iter().copied().collect());

fn lookup_norm(n: &str) -> Option<Key> {
    if n.is_empty() {
        return None;
    }
    if let Some(k) = SYNONYM_MAP.get(n) {
        return Some(*k);
    }
    // "Steps to Reproduce (detailed)", "Impact on users": a known heading and a tail.
    static FIRST_WORDS: LazyLock<std::collections::HashSet<&'static str>> =
        LazyLock::new(|| SYNONYMS.iter().filter_map(|(k, _)| k.split(' ').next()).collect());
    if n.len() > 64 || !n.split(' ').next().is_some_and(|w| FIRST_WORDS.contains(w)) {
        return None;
    }
    SYNONYMS
        .iter()
        .filter(|(k, _)| {
            k.len() >= 4 && n.len() <= k.len() + 24 && n.starts_with(k) && n.as_bytes().get(k.len()) == Some(&b' ')
        })
        .max_by_key(|(k, _)| k.len())
        .map(|(_, v)| *v)
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("a valid built-in pattern"));
    };
}

re!(MD_HEADING, r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$");
re!(BOLD_LINE, r"^\s*(?:\*\*|__|\*|_)([^*_]{1,60}?)(?::)?(?:\*\*|__|\*|_)\s*(?::)?\s*(.*)$");
re!(BRACKET, r"^\s*[【\[]([^】\]]{1,60})[】\]]\s*:?\s*(.*)$");
re!(UNDERLINE, r"^\s*(?:-{3,}|={3,})\s*$");
re!(CVE, r"(?i)\bCVE-(\d{4})-(\d{4,7})\b");
re!(CWE, r"(?i)\bCWE[\s:_-]*(\d{1,4})\b");
re!(
    CVSS_VECTOR,
    r"(?i)\b(CVSS:(?:3\.[01]|4\.0)/[A-Za-z:/]+|AV:[NALP]/AC:[LH]/PR:[NLH]/UI:[NR]/S:[UC]/C:[NLH]/I:[NLH]/A:[NLH])"
);
re!(URL, r#"https?://[^\s<>"'`\]\[)(]+"#);
re!(SEVERITY_WORD, r"(?i)\b(critical|high|medium|moderate|low|none|informational)\b");
re!(
    SEVERITY_PHRASE,
    r"(?i)\b(critical|high|medium|moderate|low)[- ](?:severity|risk|impact)\b|\bseverity(?:\s+(?:is|of|as|rating))?\s*[:=]?\s*(?:of\s+)?\**(critical|high|medium|moderate|low)\b"
);
re!(ISO_DATE, r"\b(20\d\d)-(\d\d)-(\d\d)\b");
re!(DAYS, r"(?i)\b(\d{1,3})[- ]days?\b");
re!(HANDLE, r"(?:^|[\s(])(@[A-Za-z0-9_][A-Za-z0-9_.-]{1,38})");
re!(EMAIL, r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}");
re!(
    ON_WROTE,
    r"(?i)^\s*(?:on\s.{4,120}\swrote:|am\s.{4,120}\sschrieb.*:|le\s.{4,120}\sa\s+écrit\s*:|el\s.{4,120}\sescribió\s*:)\s*$"
);
re!(
    FWD_MARK,
    r"(?i)^\s*-{2,}\s*(?:forwarded message|original message|weitergeleitete nachricht|message transféré|mensaje reenviado)\s*-{2,}\s*$|^\s*begin forwarded message:\s*$"
);
re!(
    MONTH_DATE,
    r"(?i)\b(?:(\d{1,2})\s+(january|february|march|april|may|june|july|august|september|october|november|december)\s+(20\d\d)|(january|february|march|april|may|june|july|august|september|october|november|december)\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(20\d\d))\b"
);

const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "dear",
    "greetings",
    "good morning",
    "good afternoon",
    "good evening",
    "hallo",
    "guten tag",
    "liebe",
    "lieber",
    "sehr geehrte",
    "moin",
    "servus",
    "bonjour",
    "salut",
    "hola",
    "buenos días",
    "buenos dias",
    "estimado",
    "estimados",
    "ciao",
    "buongiorno",
    "olá",
    "ola",
    "hej",
    "hei",
    "goedendag",
    "こんにちは",
    "你好",
    "здравствуйте",
    "привет",
    "to whom it may concern",
    "security team",
];

const SIGNOFFS: &[&str] = &[
    "best regards",
    "kind regards",
    "regards",
    "best",
    "cheers",
    "thanks",
    "thank you",
    "thanks in advance",
    "many thanks",
    "sincerely",
    "yours sincerely",
    "yours truly",
    "warm regards",
    "all the best",
    "br",
    "mit freundlichen grüßen",
    "mit freundlichen grüssen",
    "viele grüße",
    "viele grüsse",
    "beste grüße",
    "grüße",
    "gruß",
    "lg",
    "vg",
    "cordialement",
    "bien cordialement",
    "merci",
    "bien à vous",
    "saludos",
    "atentamente",
    "un saludo",
    "gracias",
    "cordiali saluti",
    "saluti",
    "grazie",
    "met vriendelijke groet",
    "よろしくお願いします",
    "よろしくお願いいたします",
    "敬具",
    "с уважением",
    "спасибо",
    "thx",
    "ty",
];

const FOOTER_MARKERS: &[&str] = &[
    "confidentiality notice",
    "this email and any attachments",
    "this e-mail and any attachments",
    "this message and any attachments",
    "this email is confidential",
    "this e-mail is confidential",
    "the information contained in this",
    "disclaimer:",
    "diese e-mail enthält vertrauliche",
    "diese nachricht enthält vertrauliche",
    "ce message et toutes les pièces jointes",
    "sent from my iphone",
    "sent from my android",
    "get outlook for",
];

fn starts_with_any(line: &str, words: &[&str]) -> bool {
    let l = line.trim().to_lowercase();
    words.iter().any(|w| {
        l == *w
            || l.strip_prefix(w)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([',', '!', ' ', '.', ':', '、', '，']))
    })
}

fn is_signoff(line: &str) -> bool {
    let l = line.trim().trim_end_matches([',', '!', '.', '-']).trim().to_lowercase();
    !l.is_empty() && SIGNOFFS.contains(&l.as_str())
}

/// Remove what is not the report: quoted replies and everything after an
/// "On … wrote:" line, signature blocks, legal footers, forwarding headers,
/// greetings and sign-offs. Returns the text and the sign-off name, if any.
/// What `clean` keeps apart from the report text.
pub struct Cleaned {
    pub body: String,
    /// The name under a sign-off ("Best regards,\nAda").
    pub signoff_name: Option<String>,
    /// The e-mail signature block (after "-- ").
    pub signature: Option<String>,
}

fn name_like(s: &str) -> bool {
    let t = s.trim().trim_end_matches([',', '.']);
    let words: Vec<&str> = t.split_whitespace().collect();
    !words.is_empty()
        && words.len() <= 4
        && t.chars().count() <= 40
        && !t.contains('@')
        && !t.contains("://")
        && words.iter().all(|w| w.chars().all(|c| c.is_alphabetic() || matches!(c, '.' | '-' | '\'')))
}

pub fn clean(text: &str) -> Cleaned {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut signature: Option<String> = None;
    let mut lines: Vec<&str> = Vec::new();
    let mut in_fwd_header = false;
    let mut in_code = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_code = !in_code;
        }
        if !in_code {
            if t.ends_with(':') && ON_WROTE.is_match(line) {
                break;
            }
            if line == "-- " || t == "--" || t == "__" || t.starts_with("________________") {
                let rest: Vec<&str> = text
                    .lines()
                    .skip_while(|l| *l != line)
                    .skip(1)
                    .take_while(|l| !l.trim_start().starts_with('>') && !ON_WROTE.is_match(l))
                    .take(8)
                    .collect();
                signature = Some(rest.join("\n"));
                break;
            }
            let lower = t.to_lowercase();
            if FOOTER_MARKERS.iter().any(|m| lower.starts_with(m)) {
                break;
            }
            if (t.starts_with('-') || t.to_ascii_lowercase().starts_with("begin")) && FWD_MARK.is_match(line) {
                in_fwd_header = true;
                continue;
            }
            if in_fwd_header {
                if t.is_empty() {
                    in_fwd_header = false;
                }
                continue;
            }
            if t.starts_with('>') {
                continue;
            }
        }
        lines.push(line);
    }
    // Greetings at the top.
    while let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) {
        let l = lines[first];
        if l.trim().chars().count() <= 60 && starts_with_any(l, GREETINGS) {
            lines.drain(..=first);
        } else {
            break;
        }
    }
    // A sign-off near the end, and the name lines after it.
    let mut signoff_name = None;
    if let Some(pos) = lines.iter().rposition(|l| is_signoff(l)) {
        let tail: Vec<&str> = lines[pos + 1..].iter().copied().filter(|l| !l.trim().is_empty()).collect();
        if tail.len() <= 4 {
            if let Some(name) = tail.first().filter(|n| name_like(n)) {
                signoff_name = Some(name.trim().trim_end_matches(',').to_string());
            }
            // The lines under the name (title, company, links) are a signature too.
            if tail.len() > 1 && signature.is_none() {
                signature = Some(tail[1..].join("\n"));
            }
            lines.truncate(pos);
        }
    }
    // No sign-off phrase, but the last line is a bare name after a blank line: "Bob".
    if signoff_name.is_none() {
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        let n = lines.len();
        if n >= 2
            && lines[n - 2].trim().is_empty()
            && name_like(lines[n - 1])
            && lines[n - 1].split_whitespace().count() <= 3
        {
            signoff_name = Some(lines[n - 1].trim().trim_end_matches(',').to_string());
            lines.truncate(n - 1);
        }
    }
    let mut out = lines.join("\n");
    while out.ends_with('\n') {
        out.pop();
    }
    Cleaned { body: out.trim_matches('\n').to_string(), signoff_name, signature }
}

struct Section {
    key: Option<Key>,
    heading: String,
    body: String,
}

/// Heading detection for one line: Some((heading text, inline value)).
fn heading(line: &str, prev: Option<&str>, next: Option<&str>, in_code: bool) -> Option<(String, String)> {
    if in_code {
        return None;
    }
    let first = line.trim_start().chars().next().unwrap_or(' ');
    // 【概要 / Summary】, [Impact]
    if (first == '【' || first == '[')
        && let Some(c) = BRACKET.captures(line)
    {
        let inner = c[1].trim();
        for cand in std::iter::once(inner).chain(inner.split(['/', '|', '・'])) {
            if lookup(cand.trim()).is_some() {
                return Some((cand.trim().to_string(), c[2].trim().to_string()));
            }
        }
    }
    // A bare line that is exactly a field name, after a blank line: "Impact".
    let bare = line.trim().trim_end_matches(':').trim();
    if !bare.is_empty()
        && bare.chars().all(|c| c.is_alphabetic() || c.is_whitespace() || "-/'()&?".contains(c))
        && bare.split_whitespace().count() <= 6
        && prev.is_none_or(|p| p.trim().is_empty())
        && next.is_some()
        && SYNONYM_MAP.contains_key(norm_heading(bare).as_str())
        && !bare.ends_with(['.', ',', ';'])
    {
        return Some((bare.to_string(), String::new()));
    }
    if first == '#'
        && let Some(c) = MD_HEADING.captures(line)
    {
        let h = c[1].trim().trim_end_matches(':').trim_matches('*').trim().to_string();
        return Some((h, String::new()));
    }
    if (first == '*' || first == '_')
        && let Some(c) = BOLD_LINE.captures(line)
    {
        let h = c[1].trim().trim_end_matches(':').to_string();
        let rest = c[2].trim().to_string();
        if lookup(&h).is_some() || rest.is_empty() {
            return Some((h, rest));
        }
    }
    if let Some(n) = next
        && UNDERLINE.is_match(n)
        && !line.trim().is_empty()
        && line.trim().chars().count() <= 60
    {
        return Some((line.trim().trim_end_matches(':').to_string(), String::new()));
    }
    // "1. Summary", "2) Impact", "IV. Remediation" (by hand: this runs on every step line).
    if first.is_ascii_digit() || "IVX".contains(first) {
        let t = line.trim_start();
        let num_len = t.chars().take_while(|c| c.is_ascii_digit() || "IVX".contains(*c)).count();
        let rest = &t[num_len..];
        if (1..=4).contains(&num_len) && rest.starts_with(['.', ')']) {
            let h = rest[1..].trim().trim_end_matches(':').trim();
            if !h.is_empty() && h.len() <= 60 && lookup(h).is_some() {
                return Some((h.to_string(), String::new()));
            }
        }
    }
    // "Label: value", parsed by hand (this runs on every line with a colon).
    if let Some((label, value)) = line.split_once(':') {
        let h = label.trim();
        let ok = !h.is_empty()
            && h.len() <= 46
            && h.chars().next().is_some_and(char::is_alphabetic)
            && h.chars().all(|c| c.is_alphanumeric() || " /()-'".contains(c))
            && !line.trim_start().starts_with(['-', '*', '+'])
            && !value.starts_with("//");
        if ok && lookup(h).is_some() {
            return Some((h.to_string(), value.trim().to_string()));
        }
    }
    None
}

fn sections(text: &str) -> Vec<Section> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = vec![Section { key: None, heading: String::new(), body: String::new() }];
    let mut in_code = false;
    let mut skip_next = false;
    for (i, line) in lines.iter().enumerate() {
        if skip_next {
            skip_next = false;
            continue;
        }
        let t = line.trim();
        let fence = t.starts_with("```") || t.starts_with("~~~");
        let prev = if i == 0 { None } else { lines.get(i - 1).copied() };
        if let Some((h, inline)) = heading(line, prev, lines.get(i + 1).copied(), in_code || fence) {
            if lines.get(i + 1).is_some_and(|n| UNDERLINE.is_match(n)) && !MD_HEADING.is_match(line) {
                skip_next = true;
            }
            out.push(Section { key: lookup(&h), heading: h, body: inline });
            continue;
        }
        if fence {
            in_code = !in_code;
        }
        let s = out.last_mut().expect("at least one section");
        if !s.body.is_empty() || !t.is_empty() {
            if !s.body.is_empty() {
                s.body.push('\n');
            }
            s.body.push_str(line);
        }
    }
    for s in &mut out {
        s.body = s.body.trim_end().trim_start_matches('\n').to_string();
        s.body = dedent(&s.body);
    }
    out
}

fn dedent(s: &str) -> String {
    s.trim_matches('\n').to_string()
}

fn put(slot: &mut Option<String>, value: &str) {
    let v = value.trim();
    if v.is_empty() {
        return;
    }
    match slot {
        Some(existing) => {
            existing.push_str("\n\n");
            existing.push_str(v);
        }
        None => *slot = Some(v.to_string()),
    }
}

/// Text outside fenced code blocks.
fn outside_code(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

pub fn clean_subject(s: &str) -> String {
    static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^\s*(?:(?:re|fwd?|aw|wg|tr|rv|sv|vs)\s*:\s*|\[[^\]]{1,30}\]\s*|(?:security|vulnerability)\s+report\s*:\s*)+")
            .expect("a valid built-in pattern")
    });
    PREFIX.replace(s, "").trim().to_string()
}

fn parse_cvss(text: &str) -> Option<Cvss> {
    for m in CVSS_VECTOR.find_iter(text) {
        let mut v = m.as_str().trim_end_matches('/').to_string();
        if !v.to_ascii_uppercase().starts_with("CVSS:") {
            v = format!("CVSS:3.1/{v}");
        }
        let upper = v.to_ascii_uppercase();
        let v = format!("CVSS:{}", &upper[5..]);
        if let Ok(parsed) = v.parse::<cvss::Cvss>() {
            let version = v[5..8].to_string();
            let score = (parsed.score() * 10.0).round() / 10.0;
            return Some(Cvss { version, vector: v, score });
        }
    }
    None
}

fn severity_word(s: &str) -> Option<String> {
    SEVERITY_WORD.captures(s).map(|c| normalise_severity(&c[1]))
}

fn normalise_severity(w: &str) -> String {
    match w.to_lowercase().as_str() {
        "moderate" => "medium".into(),
        "informational" => "none".into(),
        other => other.to_string(),
    }
}

fn add_days(t: jiff::Timestamp, days: i64) -> Option<String> {
    let d = t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    d.checked_add(jiff::Span::new().days(days)).ok().map(|d| d.to_string())
}

fn month_number(m: &str) -> u32 {
    let months = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    months.iter().position(|x| *x == m.to_lowercase()).map(|i| i as u32 + 1).unwrap_or(1)
}

fn disclosure(text: &str, section: Option<&str>, received: Option<jiff::Timestamp>) -> Option<String> {
    // Look in a disclosure section, else in sentences that speak of disclosing.
    let mut candidates: Vec<String> = Vec::new();
    if let Some(s) = section {
        candidates.push(s.to_string());
    }
    let lower = text.to_lowercase();
    let speaks_of_it =
        ["disclos", "publish", "go public", "embargo", "veröffentlich", "divulg"].iter().any(|w| lower.contains(w));
    for sentence in text.split(['.', '\n']).filter(|_| speaks_of_it) {
        let l = sentence.to_lowercase();
        if ["disclos", "publish", "go public", "embargo", "public disclosure", "veröffentlich", "divulg"]
            .iter()
            .any(|w| l.contains(w))
        {
            candidates.push(sentence.to_string());
        }
    }
    for c in &candidates {
        if let Some(m) = ISO_DATE.captures(c) {
            return Some(format!("{}-{}-{}", &m[1], &m[2], &m[3]));
        }
        if let Some(m) = MONTH_DATE.captures(c) {
            let (day, month, year) = match (m.get(1), m.get(4)) {
                (Some(d), _) => (d.as_str(), &m[2], &m[3]),
                (None, Some(mo)) => (&m[5], mo.as_str(), &m[6]),
                _ => continue,
            };
            let day: u32 = day.parse().unwrap_or(1);
            return Some(format!("{year}-{:02}-{day:02}", month_number(month)));
        }
    }
    for c in &candidates {
        if let (Some(m), Some(t)) = (DAYS.captures(c), received) {
            let n: i64 = m[1].parse().ok()?;
            if (1..=365).contains(&n) {
                return add_days(t, n);
            }
        }
    }
    None
}

const ANON: &[&str] = &[
    "keep me anonymous",
    "stay anonymous",
    "remain anonymous",
    "be anonymous",
    "prefer anonymity",
    "anonymously",
    "credit: anonymous",
    "credit anonymous",
    "don't credit",
    "do not credit",
    "no credit",
    "not be credited",
    "not to be credited",
    "not be named",
    "not to be named",
    "without credit",
    "don't need credit",
    "do not need credit",
    "don't mention my name",
    "do not mention my name",
    "leave my name out",
    "anonym bleiben",
    "anonyme",
    "anónimo",
];

fn credit(text: &str, credit_section: Option<&str>, fields: &mut Reporter) {
    let lower_all = text.to_lowercase();
    let scope = credit_section.map(|s| s.to_lowercase());
    let anon_in = |s: &str| ANON.iter().any(|a| s.contains(a));
    let context = |l: &str| {
        [
            "credit",
            "name",
            "mention",
            "acknowledg",
            "attribut",
            "hall of fame",
            "prefer",
            "please",
            "i'd",
            "i would",
            "i want",
        ]
        .iter()
        .any(|w| l.contains(w))
    };
    if scope.as_deref().is_some_and(|s| anon_in(s) || s.trim() == "anonymous" || s.trim() == "none")
        || (anon_in(&lower_all) && lower_all.lines().any(|l| anon_in(l) && context(l)))
    {
        fields.credit = Some("anonymous".into());
        return;
    }
    static CREDIT_AS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)(?:credit(?:ed)?\s+(?:me\s+|this\s+|it\s+)?(?:as|to)|acknowledge\s+me\s+as|attribute\s+(?:it|this)\s+to|credit\s*:)\s*[:\-]?\s*([^\n.;]+)")
            .expect("a valid built-in pattern")
    });
    let source = credit_section.map(str::to_string).or_else(|| CREDIT_AS.captures(text).map(|c| c[1].to_string()));
    let wants_credit = credit_section.is_some()
        || CREDIT_AS.is_match(text)
        || lower_all.contains("please credit")
        || lower_all.contains("happy to be credited")
        || lower_all.contains("would like to be credited");
    if !wants_credit {
        return;
    }
    fields.credit = Some("public".into());
    if let Some(src) = source {
        let src = src.trim().trim_matches(['"', '*', '`']).trim();
        if let Some(c) = HANDLE.captures(&format!(" {src}")) {
            fields.handle.get_or_insert_with(|| c[1].to_string());
        }
        if let Some(e) = EMAIL.find(src) {
            fields.contact.get_or_insert_with(|| e.as_str().to_string());
        }
        // The name: what is left before a handle, an email or a parenthesis.
        let name: String =
            src.split(['(', '<', '@', ',']).next().unwrap_or("").trim().trim_end_matches(" at").trim().to_string();
        if !name.is_empty() && name.split_whitespace().count() <= 5 && !name.to_lowercase().starts_with("http") {
            fields.name.get_or_insert(name);
        }
    }
}

/// Extract every field the text supports.
pub fn extract(input: &Input<'_>) -> Fields {
    let Cleaned { body, signoff_name, signature } = clean(input.text);
    let secs = sections(&body);
    if std::env::var_os("VULNMAIL_DEBUG_SECTIONS").is_some() {
        for s in &secs {
            eprintln!("SECTION {:?} {:?} {:?}", s.key, s.heading, s.body);
        }
    }
    let mut f = Fields::default();
    let mut severity_section: Option<String> = None;
    let mut cvss_section: Option<String> = None;
    let mut credit_section: Option<String> = None;
    let mut reporter_section: Option<String> = None;
    let mut disclosure_section: Option<String> = None;
    let mut references_section: Option<String> = None;
    let mut any_known = false;
    for s in &secs {
        let Some(k) = s.key else { continue };
        any_known = true;
        match k {
            Key::Title => {
                if f.title.is_none() {
                    f.title = s.body.lines().next().map(|l| l.trim().to_string()).filter(|l| !l.is_empty());
                }
            }
            Key::Summary => put(&mut f.summary, &s.body),
            Key::Steps => put(&mut f.steps_to_reproduce, &s.body),
            Key::Impact => put(&mut f.impact, &s.body),
            Key::Component => put(&mut f.affected_component, &s.body),
            Key::Versions => put(&mut f.affected_versions, &s.body),
            Key::VulnType => put(&mut f.vulnerability_type, &s.body),
            Key::Poc => put(&mut f.proof_of_concept, &s.body),
            Key::Fix => put(&mut f.suggested_fix, &s.body),
            Key::Environment => put(&mut f.environment, &s.body),
            Key::Severity => severity_section = Some(s.body.clone()),
            Key::Cvss => cvss_section = Some(s.body.clone()),
            Key::Credit => credit_section = Some(s.body.clone()),
            Key::Reporter => reporter_section = Some(s.body.clone()),
            Key::Disclosure => disclosure_section = Some(s.body.clone()),
            Key::References => references_section = Some(s.body.clone()),
            Key::Cwe | Key::Cve => {}
        }
    }
    // Text before the first known heading, or unknown sections, describe the issue
    // when no section did.
    if f.summary.is_none() {
        let lead: Vec<String> = secs
            .iter()
            .take_while(|s| s.key.is_none())
            .map(|s| if s.heading.is_empty() { s.body.clone() } else { format!("{}\n{}", s.heading, s.body) })
            .filter(|b| !b.trim().is_empty())
            .collect();
        let lead = lead.join("\n\n");
        if !lead.trim().is_empty() {
            f.summary = Some(lead.trim().to_string());
        } else if !any_known && !body.trim().is_empty() {
            f.summary = Some(body.trim().to_string());
        }
    }
    // Title: an explicit one, the first heading that is no field name, or the subject.
    if f.title.is_none() {
        f.title = secs
            .iter()
            .find(|s| s.key.is_none() && !s.heading.is_empty() && s.heading.chars().count() > 8)
            .map(|s| s.heading.clone())
            .or_else(|| input.subject.map(clean_subject).filter(|s| !s.is_empty()));
    }
    // One-line fields: the first line, without a trailing "(CWE-79)" or "- CWE-918".
    for v in [&mut f.affected_component, &mut f.vulnerability_type].into_iter().flatten() {
        *v = one_line(v);
    }
    if let Some(v) = &mut f.affected_versions {
        *v = v.trim().to_string();
    }
    // Vulnerability type and component, when no section names them: from the
    // title ("Stored XSS in the comment preview") or the summary.
    if f.vulnerability_type.as_deref().is_none_or(str::is_empty) {
        let title = f.title.clone().unwrap_or_default();
        f.vulnerability_type = find_type(&title).or_else(|| f.summary.as_deref().and_then(find_type));
    }
    if f.affected_component.as_deref().is_none_or(str::is_empty) {
        f.affected_component = f
            .title
            .clone()
            .or_else(|| input.subject.map(clean_subject))
            .and_then(|t| component_from_title(&t, f.vulnerability_type.as_deref()));
    }

    let plain = outside_code(&body);
    let everything = format!("{}\n{}", input.subject.unwrap_or(""), plain);
    // Identifiers.
    let mut seen = std::collections::BTreeSet::new();
    for m in CVE.find_iter(&everything) {
        let id = m.as_str().to_ascii_uppercase();
        if seen.insert(id.clone()) {
            f.cve.push(id);
        }
    }
    for m in CWE.find_iter(&everything) {
        let digits: String =
            m.as_str().chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect();
        let id = format!("CWE-{}", digits.trim_start_matches('0'));
        if seen.insert(id.clone()) {
            f.cwe.push(id);
        }
    }
    f.cvss = cvss_section.as_deref().and_then(parse_cvss).or_else(|| parse_cvss(&body));
    for m in URL.find_iter(references_section.as_deref().map(|r| format!("{r}\n{plain}")).as_deref().unwrap_or(&plain))
    {
        let u = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?', '*', '_', '>']).to_string();
        if !f.references.contains(&u) {
            f.references.push(u);
        }
    }
    f.severity = severity_section.as_deref().and_then(severity_word).or_else(|| {
        SEVERITY_PHRASE.captures(&plain).and_then(|c| c.get(1).or(c.get(2)).map(|m| normalise_severity(m.as_str())))
    });
    f.disclosure_deadline = disclosure(&plain, disclosure_section.as_deref(), input.received_at);

    // The reporter: who they say they are, and how they want to be credited.
    credit(&plain, credit_section.as_deref(), &mut f.reporter);
    if let Some(r) = &reporter_section {
        if let Some(e) = EMAIL.find(r) {
            f.reporter.contact.get_or_insert_with(|| e.as_str().to_string());
        }
        if let Some(c) = HANDLE.captures(&format!(" {r}")) {
            f.reporter.handle.get_or_insert_with(|| c[1].to_string());
        }
        let name = r.split(['(', '<', ',', '\n']).next().unwrap_or("").trim();
        if !name.is_empty() && !name.contains('@') && name.split_whitespace().count() <= 5 {
            f.reporter.name.get_or_insert_with(|| name.to_string());
        }
    }
    // "You can reach me at …", "please answer to my new address …".
    if f.reporter.contact.is_none() {
        static REACH: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?i)(?:reach me|contact me|reply to|answer to|write to|email me|e-mail me|my (?:new |other |private )?(?:address|e-?mail|website|homepage|blog))\b[^\n]{0,40}?([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|https?://[^\s<>)]+)")
                .expect("a valid built-in pattern")
        });
        f.reporter.contact = REACH.captures(&plain).map(|c| c[1].trim_end_matches(['.', ',', ')']).to_string());
    }
    // The signature block: a fuller name, and a contact (e-mail or web page).
    let mut sig_name = None;
    if let Some(sig) = &signature {
        let first = sig.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
        if name_like(first) {
            sig_name = Some(first.trim_end_matches(',').to_string());
        }
        if f.reporter.contact.is_none() {
            f.reporter.contact = EMAIL
                .find(sig)
                .map(|m| m.as_str().to_string())
                .or_else(|| URL.find(sig).map(|m| m.as_str().trim_end_matches(['.', ',', ')']).to_string()));
        }
        if f.reporter.handle.is_none() {
            f.reporter.handle = HANDLE.captures(&format!(" {sig}")).map(|c| c[1].to_string());
        }
    }
    if f.reporter.name.is_none() && f.reporter.credit.as_deref() != Some("anonymous") {
        // Prefer the signature's full name when it extends the sign-off's first name.
        f.reporter.name = match (signoff_name, sig_name) {
            (Some(short), Some(full)) if full.to_lowercase().starts_with(&short.to_lowercase()) => Some(full),
            (Some(short), _) => Some(short),
            (None, full) => full,
        };
    }

    // A text attachment named like a proof of concept, when the body has none.
    if f.proof_of_concept.is_none()
        && let Some((_, text)) = input.text_attachments.iter().find(|(name, _)| looks_like_poc(name))
    {
        f.proof_of_concept = Some(text.trim_end().to_string());
    }
    f
}

fn one_line(v: &str) -> String {
    static TRAIL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\s*(?:[(\[,;–-]\s*)?(?:CWE|CAPEC)[\s:-]*\d+.*$").expect("a valid built-in pattern")
    });
    let first = v.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let cut = TRAIL.replace(first, "").to_string();
    let cut = cut.trim().trim_end_matches([',', ';', '-', '–', '(']).trim();
    // "CWE-502 (Deserialization of Untrusted Data)": the words in the parenthesis.
    if cut.is_empty()
        && let Some(inner) = first.split_once('(').and_then(|(_, r)| r.split_once(')')).map(|(i, _)| i.trim())
    {
        return inner.to_string();
    }
    cut.to_string()
}

/// Vulnerability classes as reporters name them, most specific first.
const TYPES: &[&str] = &[
    "server-side request forgery",
    "cross-site request forgery",
    "cross-site scripting",
    "sql injection",
    "nosql injection",
    "ldap injection",
    "xpath injection",
    "command injection",
    "os command injection",
    "code injection",
    "template injection",
    "server-side template injection",
    "header injection",
    "crlf injection",
    "log injection",
    "prototype pollution",
    "path traversal",
    "directory traversal",
    "local file inclusion",
    "remote file inclusion",
    "remote code execution",
    "arbitrary code execution",
    "arbitrary file read",
    "arbitrary file write",
    "arbitrary file upload",
    "unrestricted file upload",
    "open redirect",
    "xml external entity",
    "insecure deserialization",
    "deserialization of untrusted data",
    "deserialization",
    "privilege escalation",
    "authentication bypass",
    "authorization bypass",
    "access control bypass",
    "broken access control",
    "missing authorization",
    "insecure direct object reference",
    "session fixation",
    "session hijacking",
    "account takeover",
    "request smuggling",
    "cache poisoning",
    "clickjacking",
    "denial of service",
    "regular expression denial of service",
    "information disclosure",
    "information leak",
    "sensitive data exposure",
    "timing attack",
    "timing side channel",
    "side channel",
    "race condition",
    "symlink race",
    "toctou",
    "use-after-free",
    "use after free",
    "double free",
    "heap buffer overflow",
    "heap overflow",
    "stack buffer overflow",
    "stack overflow",
    "buffer overflow",
    "out-of-bounds read",
    "out-of-bounds write",
    "integer overflow",
    "integer underflow",
    "null pointer dereference",
    "format string",
    "memory leak",
    "type confusion",
    "algorithm confusion",
    "signature bypass",
    "improper certificate validation",
    "certificate validation bypass",
    "sandbox escape",
    "container escape",
    "mass assignment",
    "csv injection",
    "host header injection",
    "ssrf",
    "csrf",
    "xss",
    "sqli",
    "rce",
    "idor",
    "xxe",
    "ssti",
    "lfi",
    "rfi",
    "redos",
    "dos",
    "lpe",
];

/// The longest vulnerability class named in `text`, with its modifiers, as written.
fn find_type(text: &str) -> Option<String> {
    static MODS: &str = r"(?:(?:stored|reflected|persistent|dom[- ]based|blind|client[- ]side|server[- ]side|authenticated|unauthenticated|pre-auth|post-auth|remote|local|jwt|second[- ]order|time-based|boolean-based|error-based|union-based)\s+)*";
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        let alts: Vec<String> =
            TYPES.iter().map(|t| regex::escape(t).replace(r"\-", "[- ]").replace(' ', r"[- ]")).collect();
        Regex::new(&format!(r"(?i)\b({MODS}(?:{}))\b(?:\s*\([A-Za-z ]{{2,40}}\))?", alts.join("|")))
            .expect("a valid built-in pattern")
    });
    RE.find_iter(text).max_by_key(|m| m.as_str().len()).map(|m| m.as_str().trim().to_string())
}

/// "Stored XSS in the Brightwiki comment preview" -> "Brightwiki comment preview";
/// "Brightwiki Lua sandbox escape via chunks" -> "Brightwiki Lua".
fn component_from_title(title: &str, vtype: Option<&str>) -> Option<String> {
    static IN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(?:in|on|of|affecting|within)\s+(?:the\s+)?(.+?)(?:\s+(?:via|through|allows?|leads?|leading|when|because|with|using|by|lets?|enables?|due|allowing|can|could)\b.*|[,:;(].*)?$")
            .expect("a valid built-in pattern")
    });
    let t = title.trim();
    if let Some(c) = IN.captures(t) {
        let comp = c[1].trim().trim_end_matches(['.', '!']).to_string();
        if !comp.is_empty() && comp.split_whitespace().count() <= 8 {
            return Some(comp);
        }
    }
    if let Some(v) = vtype {
        // ASCII lower-casing keeps byte offsets, so `pos` indexes `t` too.
        let lower = t.to_ascii_lowercase();
        if let Some(pos) = lower.find(&v.to_ascii_lowercase()) {
            let before = t[..pos].trim().trim_end_matches([':', '-', '–']).trim();
            if !before.is_empty() && before.split_whitespace().count() <= 6 {
                return Some(before.to_string());
            }
        }
    }
    None
}

/// poc.py, exploit.sh, payload.html, PoC-1.txt…
pub fn looks_like_poc(name: &str) -> bool {
    let n = name.to_lowercase();
    ["poc", "exploit", "payload", "proof", "repro"].iter().any(|w| n.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Fields {
        extract(&Input {
            text,
            subject: Some("Re: [SECURITY] Stored XSS in comments"),
            received_at: None,
            text_attachments: &[],
        })
    }

    #[test]
    fn markdown_sections() {
        let f = run(
            "Hi team,\n\n## Summary\nStored XSS in the comment form.\n\n## Steps to reproduce\n1. Log in\n2. Post `<script>alert(1)</script>`\n\n## Impact\nSession theft.\n\n**Affected versions:** <= 2.3.1\n\nCVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N (cwe 79)\n\nBest regards,\nAda Lovelace\n",
        );
        assert_eq!(f.summary.as_deref(), Some("Stored XSS in the comment form."));
        assert_eq!(f.steps_to_reproduce.as_deref(), Some("1. Log in\n2. Post `<script>alert(1)</script>`"));
        assert_eq!(f.impact.as_deref(), Some("Session theft."));
        assert_eq!(f.affected_versions.as_deref(), Some("<= 2.3.1"));
        assert_eq!(f.cwe, vec!["CWE-79"]);
        let cvss = f.cvss.unwrap();
        assert_eq!((cvss.version.as_str(), cvss.score), ("3.1", 6.1));
        assert_eq!(f.title.as_deref(), Some("Stored XSS in comments"));
        assert_eq!(f.reporter.name.as_deref(), Some("Ada Lovelace"));
    }

    #[test]
    fn label_lines_and_quotes_and_footers() {
        let f = run(
            "Description: SQL injection in /api/search\nSeverity: High\nRepro steps:\ncurl 'https://example.org/api/search?q=1%27--'\n\nPlease credit me as @ada_sec.\n\nOn Mon, 1 Dec 2026 at 10:00, Someone <x@y.z> wrote:\n> old text with CVE-2020-0001\n",
        );
        assert_eq!(f.summary.as_deref(), Some("SQL injection in /api/search"));
        assert_eq!(f.severity.as_deref(), Some("high"));
        assert!(f.steps_to_reproduce.unwrap().starts_with("curl"));
        assert!(f.cve.is_empty(), "quoted text is not the report");
        assert_eq!(f.reporter.credit.as_deref(), Some("public"));
        assert_eq!(f.reporter.handle.as_deref(), Some("@ada_sec"));
    }

    #[test]
    fn one_paragraph_and_anonymous_and_relative_deadline() {
        let f = extract(&Input {
            text: "Hello,\nthe export endpoint lets any user download other users' invoices (IDOR). I'd prefer to stay anonymous. I will disclose publicly in 90 days.\nThanks",
            subject: Some("IDOR in invoices"),
            received_at: Some("2026-11-20T09:00:00Z".parse().unwrap()),
            text_attachments: &[],
        });
        assert!(f.summary.unwrap().starts_with("the export endpoint"));
        assert_eq!(f.reporter.credit.as_deref(), Some("anonymous"));
        assert_eq!(f.disclosure_deadline.as_deref(), Some("2027-02-18"));
        assert_eq!(f.title.as_deref(), Some("IDOR in invoices"));
    }

    #[test]
    fn an_invalid_cvss_vector_is_not_accepted() {
        let f = run("CVSS: CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        assert!(f.cvss.is_none());
        let f = run("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
        assert_eq!(f.cvss.unwrap().version, "4.0");
    }

    #[test]
    fn underlined_and_numbered_headings() {
        let f = run(
            "1. Summary\nPath traversal in the file viewer.\n\n2. Impact\nRead any file.\n\nSuggested fix\n-------------\nCanonicalise the path.\n",
        );
        assert_eq!(f.summary.as_deref(), Some("Path traversal in the file viewer."));
        assert_eq!(f.impact.as_deref(), Some("Read any file."));
        assert_eq!(f.suggested_fix.as_deref(), Some("Canonicalise the path."));
    }

    #[test]
    fn poc_from_an_attachment() {
        let atts = vec![("poc.py".to_string(), "import requests\n".to_string())];
        let f = extract(&Input { text: "See attached.", subject: None, received_at: None, text_attachments: &atts });
        assert_eq!(f.proof_of_concept.as_deref(), Some("import requests"));
    }
}
