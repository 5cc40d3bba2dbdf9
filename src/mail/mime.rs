//! A message as a tree of parts, parsed by mail-parser within our own limits.
//!
//! mail-parser decodes transfer encodings and charsets; this module turns its flat
//! part list into a tree, refuses structures beyond [`Limits`] (depth, part count,
//! size) with a reason instead of working on them, and keeps each part's raw bytes
//! (multipart/signed is verified over them).

use std::collections::BTreeMap;

use mail_parser::{MessageParser, MimeHeaders, PartType};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_parts: usize,
    pub max_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 24, max_parts: 500, max_size: 80 * 1024 * 1024 }
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum MimeError {
    #[error("the message is not parseable MIME")]
    Unparseable,
    #[error("the MIME structure is nested more than {0} levels deep")]
    TooDeep(usize),
    #[error("the message has more than {0} MIME parts")]
    TooManyParts(usize),
    #[error("the message is larger than {0} bytes")]
    TooLarge(usize),
}

/// One MIME part.
#[derive(Debug, Clone, Default)]
pub struct Part {
    /// `type/subtype`, lower case.
    pub ctype: String,
    /// Content-Type parameters, names lower case.
    pub params: BTreeMap<String, String>,
    pub filename: Option<String>,
    /// `attachment` / `inline` when given.
    pub disposition: Option<String>,
    /// Decoded body (text as UTF-8).
    pub body: Vec<u8>,
    /// The part's raw bytes as they appear in the message, headers and body: kept
    /// only for the signed part of a multipart/signed (signatures cover them).
    pub raw: Vec<u8>,
    /// This part's own headers (name as written, value decoded where mail-parser can).
    pub headers: Vec<(String, String)>,
    pub children: Vec<Part>,
}

impl Part {
    pub fn is(&self, ctype: &str) -> bool {
        self.ctype == ctype
    }

    pub fn is_multipart(&self) -> bool {
        self.ctype.starts_with("multipart/")
    }

    pub fn text(&self) -> Option<String> {
        if self.ctype.starts_with("text/") { Some(String::from_utf8_lossy(&self.body).into_owned()) } else { None }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Depth-first walk over this part and all below it.
    pub fn walk(&self) -> Vec<&Part> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(p) = stack.pop() {
            out.push(p);
            for c in p.children.iter().rev() {
                stack.push(c);
            }
        }
        out
    }
}

/// The top-level headers a report needs, plus the part tree.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub subject: Option<String>,
    pub from_name: Option<String>,
    pub from_address: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub date: Option<jiff::Timestamp>,
    /// All top-level headers, raw (unfolded) values.
    pub headers: Vec<(String, String)>,
    pub root: Part,
}

impl Mail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn ids(v: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    match v {
        mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
        mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Parse `raw` into a [`Mail`], within `limits`.
pub fn parse(raw: &[u8], limits: &Limits) -> Result<Mail, MimeError> {
    if raw.len() > limits.max_size {
        return Err(MimeError::TooLarge(limits.max_size));
    }
    precheck_depth(raw, limits)?;
    let mut msg = MessageParser::new().parse(raw).ok_or(MimeError::Unparseable)?;
    if msg.parts.len() > limits.max_parts {
        return Err(MimeError::TooManyParts(limits.max_parts));
    }
    let from = msg.from().and_then(|a| a.first());
    let mut mail = Mail {
        subject: msg.subject().map(str::to_string),
        from_name: from.and_then(|a| a.name()).map(str::to_string),
        from_address: from.and_then(|a| a.address()).map(|s| s.to_ascii_lowercase()),
        message_id: msg.message_id().map(|s| format!("<{s}>")),
        in_reply_to: ids(msg.in_reply_to()).into_iter().map(|s| format!("<{s}>")).collect(),
        references: ids(msg.references()).into_iter().map(|s| format!("<{s}>")).collect(),
        date: msg.date().and_then(|d| d.to_rfc3339().parse().ok()),
        headers: msg.headers_raw().map(|(n, v)| (n.to_string(), unfold(v))).collect(),
        root: Part::default(),
    };
    mail.root = build(&mut msg, 0, raw, limits)?;
    Ok(mail)
}

fn unfold(v: &str) -> String {
    v.replace("\r\n", "").replace('\n', "").trim().to_string()
}

/// A cheap look at boundary nesting before mail-parser sees the message, so a
/// thousand-deep multipart is refused without being parsed.
fn precheck_depth(raw: &[u8], limits: &Limits) -> Result<(), MimeError> {
    // Bytes, not text: hostile input need not be UTF-8, and no slice may split a char.
    let lower = raw[..raw.len().min(8 * 1024 * 1024)].to_ascii_lowercase();
    let needle = b"content-type:";
    let mut depth = 0usize;
    let mut start = 0;
    while let Some(i) = find(&lower[start..], needle) {
        let at = start + i;
        let window = &lower[at..(at + 400).min(lower.len())];
        let end = find(window, b"\n\n").or_else(|| find(window, b"\r\n\r\n")).unwrap_or(window.len());
        if find(&window[..end], b"multipart/").is_some() {
            depth += 1;
            if depth > limits.max_depth * 4 {
                return Err(MimeError::TooDeep(limits.max_depth));
            }
        }
        start = at + needle.len();
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn build(msg: &mut mail_parser::Message<'_>, root_id: usize, raw: &[u8], limits: &Limits) -> Result<Part, MimeError> {
    // Iterative: (part id, depth, path of child indexes to place it at, keep raw bytes).
    let mut root = Part::default();
    let mut stack: Vec<(usize, usize, Vec<usize>, bool)> = vec![(root_id, 0, Vec::new(), false)];
    let mut count = 0usize;
    while let Some((id, depth, path, keep_raw)) = stack.pop() {
        if depth > limits.max_depth {
            return Err(MimeError::TooDeep(limits.max_depth));
        }
        count += 1;
        if count > limits.max_parts {
            return Err(MimeError::TooManyParts(limits.max_parts));
        }
        let Some(mp) = msg.parts.get_mut(id) else { continue };
        let mut part = convert(mp, raw, keep_raw);
        let signed = part.ctype == "multipart/signed";
        let children: Vec<usize> = match &mp.body {
            PartType::Multipart(ids) => ids.iter().map(|&i| i as usize).collect(),
            _ => Vec::new(),
        };
        // Nested message/rfc822: keep its raw bytes as the body, do not descend.
        if let PartType::Message(m) = &mp.body {
            part.body = m.raw_message().to_vec();
        }
        let n = children.len();
        part.children = vec![Part::default(); n];
        let slot = locate(&mut root, &path);
        *slot = part;
        for (i, c) in children.into_iter().enumerate().rev() {
            let mut p = path.clone();
            p.push(i);
            stack.push((c, depth + 1, p, signed && i == 0));
        }
    }
    Ok(root)
}

fn locate<'a>(root: &'a mut Part, path: &[usize]) -> &'a mut Part {
    let mut p = root;
    for &i in path {
        p = &mut p.children[i];
    }
    p
}

fn convert(mp: &mut mail_parser::MessagePart<'_>, raw: &[u8], keep_raw: bool) -> Part {
    let (ctype, params) = match mp.content_type() {
        Some(ct) => {
            let t = match ct.subtype() {
                Some(s) => format!("{}/{}", ct.ctype(), s),
                None => ct.ctype().to_string(),
            }
            .to_ascii_lowercase();
            let params = ct
                .attributes()
                .map(|a| a.iter().map(|at| (at.name.to_ascii_lowercase(), at.value.to_string())).collect())
                .unwrap_or_default();
            (t, params)
        }
        None => ("text/plain".to_string(), BTreeMap::new()),
    };
    // Decoded bodies are moved out of mail-parser's tree, not copied: attachments can be large.
    let body = match &mut mp.body {
        PartType::Text(t) | PartType::Html(t) => std::mem::take(t).into_owned().into_bytes(),
        PartType::Binary(b) | PartType::InlineBinary(b) => std::mem::take(b).into_owned(),
        PartType::Message(_) | PartType::Multipart(_) => Vec::new(),
    };
    let start = (mp.raw_header_offset() as usize).min(raw.len());
    let end = (mp.raw_end_offset() as usize).clamp(start, raw.len());
    let headers = mp
        .headers()
        .iter()
        .map(|h| {
            let v = match &h.value {
                mail_parser::HeaderValue::Text(t) => t.to_string(),
                _ => {
                    let s = (h.offset_start as usize).min(raw.len());
                    let e = (h.offset_end as usize).clamp(s, raw.len());
                    unfold(&String::from_utf8_lossy(&raw[s..e]))
                }
            };
            (h.name.as_str().to_string(), v)
        })
        .collect();
    Part {
        ctype,
        params,
        filename: mp.attachment_name().map(str::to_string),
        disposition: mp.content_disposition().map(|d| d.ctype().to_ascii_lowercase()),
        body,
        raw: if keep_raw { raw[start..end].to_vec() } else { Vec::new() },
        headers,
        children: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_and_raw_bytes() {
        let raw = b"From: Ada <ADA@example.net>\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nMessage-ID: <m1@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: text/x-python; name=poc.py\r\nContent-Disposition: attachment; filename=poc.py\r\n\r\nprint(1)\r\n--b--\r\n";
        let m = parse(raw, &Limits::default()).unwrap();
        assert_eq!(m.subject.as_deref(), Some("café"));
        assert_eq!(m.from_address.as_deref(), Some("ada@example.net"));
        assert_eq!(m.message_id.as_deref(), Some("<m1@x>"));
        assert_eq!(m.root.ctype, "multipart/mixed");
        assert_eq!(m.root.children.len(), 2);
        assert_eq!(m.root.children[0].text().unwrap().trim(), "hello");
        assert_eq!(m.root.children[1].filename.as_deref(), Some("poc.py"));
        assert!(m.root.children[0].raw.is_empty(), "raw bytes only for signed parts");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut raw = String::from("Content-Type: multipart/mixed; boundary=b0\r\n\r\n");
        for i in 0..1000 {
            raw.push_str(&format!("--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n", i + 1));
        }
        let e = parse(raw.as_bytes(), &Limits::default()).unwrap_err();
        assert!(matches!(e, MimeError::TooDeep(_)), "{e:?}");
    }
}
