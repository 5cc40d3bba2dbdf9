//! Making untrusted text safe for a terminal.
//!
//! Everything that came from outside (mail subjects, names, file names, user IDs,
//! bodies) is printed through [`Untrusted`], which removes what a terminal would
//! interpret: C0 and C1 controls (ESC, so no CSI/OSC sequences such as OSC 52),
//! DEL, and the Unicode bidi controls that reorder what a person sees.

use std::fmt;

/// Untrusted text, displayed sanitised. Multi-line text keeps its newlines and tabs.
pub struct Untrusted<'a>(pub &'a str);

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&sanitize(self.0, true))
    }
}

/// Untrusted text on one line: newlines become visible `⏎` as well.
pub struct UntrustedLine<'a>(pub &'a str);

impl fmt::Display for UntrustedLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&sanitize(self.0, false))
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200E}' | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}')
}

/// Replace every character a terminal would act on with a visible stand-in.
pub fn sanitize(s: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\t' if keep_newlines => out.push('\t'),
            '\r' if keep_newlines => {}
            '\n' | '\r' => out.push('⏎'),
            '\t' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                // Control Pictures block: U+2400 + code, DEL -> U+2421.
                let pic = if c == '\u{7f}' { 0x2421 } else { 0x2400 + c as u32 };
                out.push(char::from_u32(pic).unwrap_or('\u{FFFD}'));
            }
            '\u{80}'..='\u{9f}' => out.push('\u{FFFD}'),
            c if is_bidi_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `n` characters, an ellipsis marking a cut (for table columns).
pub fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// A file name that is safe to create inside a chosen directory: no path
/// separators or `..`, no controls or NUL, no leading dot, at most 100 characters.
pub fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out: String = sanitize(base, false)
        .chars()
        .map(|c| {
            if c.is_control()
                || matches!(c, '\u{fffd}' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
                || ('\u{2400}'..='\u{2421}').contains(&c)
            {
                '_'
            } else {
                c
            }
        })
        .collect();
    out = out.trim_start_matches(['.', ' ']).trim_end_matches([' ', '.']).to_string();
    if out.chars().count() > 100 {
        let ext: String =
            out.rsplit_once('.').map(|(_, e)| e).filter(|e| e.len() <= 10).map(|e| format!(".{e}")).unwrap_or_default();
        out = out.chars().take(100 - ext.chars().count()).collect::<String>() + &ext;
    }
    if out.is_empty() || out == "." || out == ".." { "attachment".to_string() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_neutralised() {
        let s = sanitize("a\x1b]52;c;ZXZpbA==\x07b\u{9b}31mc\u{202e}d", false);
        assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
        assert!(!s.contains('\u{202e}'));
        assert!(s.starts_with('a') && s.ends_with('d'));
    }

    #[test]
    fn file_names_stay_inside() {
        assert_eq!(safe_file_name("../../x"), "x");
        assert_eq!(safe_file_name("/etc/passwd"), "passwd");
        assert_eq!(safe_file_name("..\\x"), "x");
        assert_eq!(safe_file_name("a\0b.txt"), "a_b.txt");
        assert_eq!(safe_file_name(".."), "attachment");
        assert_eq!(safe_file_name(".bashrc"), "bashrc");
        let long = format!("{}.py", "a".repeat(300));
        let s = safe_file_name(&long);
        assert_eq!(s.chars().count(), 100);
        assert!(s.ends_with(".py"));
        assert!(!safe_file_name("x\u{202e}txt.exe").contains('\u{202e}'));
    }

    #[test]
    fn newlines_kept_only_when_asked() {
        assert_eq!(sanitize("a\r\nb", true), "a\nb");
        assert_eq!(sanitize("a\nb", false), "a⏎b");
    }
}
