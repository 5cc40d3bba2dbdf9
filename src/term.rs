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
        if let Some(c) = safe_char(c, keep_newlines) {
            out.push(c);
        }
    }
    out
}

/// What one character of untrusted text is shown as (None: dropped).
fn safe_char(c: char, keep_newlines: bool) -> Option<char> {
    Some(match c {
        '\n' if keep_newlines => '\n',
        '\t' if keep_newlines => '\t',
        '\r' if keep_newlines => return None,
        '\n' | '\r' => '⏎',
        '\t' => ' ',
        // Control Pictures block: U+2400 + code, DEL -> U+2421.
        c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
        '\u{7f}' => '\u{2421}',
        '\u{80}'..='\u{9f}' => '\u{FFFD}',
        c if is_bidi_control(c) => '\u{FFFD}',
        c => c,
    })
}

/// Append untrusted text as one table cell: sanitised like [`UntrustedLine`], cut to
/// `width` terminal columns (an ellipsis marks the cut; wide characters count two,
/// combining marks none) and, with `pad`, padded with spaces to exactly `width`.
/// Writes straight into `out`: tables of many thousand rows allocate nothing per cell.
/// Returns the columns written.
pub fn push_cell(out: &mut String, s: &str, width: usize, pad: bool) -> usize {
    use unicode_width::UnicodeWidthChar;
    let used = if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        // Printable ASCII (the common case): one column a byte, nothing to replace.
        if s.len() <= width {
            out.push_str(s);
            s.len()
        } else {
            let keep = width.saturating_sub(1);
            out.push_str(&s[..keep]);
            if width > 0 {
                out.push('…');
            }
            width
        }
    } else {
        let start = out.len();
        let mut used = 0;
        // Where the text was when it last had room for the ellipsis.
        let mut fits_ellipsis = (start, 0);
        let mut cut = false;
        for c in s.chars().filter_map(|c| safe_char(c, false)) {
            let w = c.width().unwrap_or(0);
            if used + w > width {
                cut = true;
                break;
            }
            out.push(c);
            used += w;
            if used < width {
                fits_ellipsis = (out.len(), used);
            }
        }
        if cut {
            out.truncate(fits_ellipsis.0);
            used = fits_ellipsis.1;
            if used < width {
                out.push('…');
                used += 1;
            }
        }
        used
    };
    if pad {
        for _ in used..width {
            out.push(' ');
        }
        return width;
    }
    used
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

    fn cell(s: &str, w: usize) -> String {
        let mut out = String::new();
        push_cell(&mut out, s, w, true);
        out
    }

    #[test]
    fn cells_are_cut_to_terminal_columns() {
        use unicode_width::UnicodeWidthStr;
        assert_eq!(cell("abc", 5), "abc  ");
        assert_eq!(cell("abcdef", 5), "abcd…");
        assert_eq!(cell("abcde", 5), "abcde");
        assert_eq!(cell("", 3), "   ");
        assert_eq!(cell("abc", 0), "");
        // Wide characters take two columns; the cell never grows past its width.
        for w in 1..12 {
            for s in ["漏洞报告漏洞报告", "a漏b洞c", "e\u{301}e\u{301}e\u{301}", "x\x1b[31my\u{202e}z\n", "ab漏"]
            {
                let c = cell(s, w);
                assert_eq!(c.width(), w, "{s:?} in {w} columns: {c:?}");
                assert!(!c.chars().any(|c| c.is_control() || is_bidi_control(c)), "{c:?}");
            }
        }
        assert_eq!(cell("漏洞报告", 5), "漏洞…");
        assert_eq!(cell("漏洞报告", 4), "漏… ");
        assert_eq!(cell("a\x1b[2Jb", 20).trim_end(), "a␛[2Jb");
        let mut unpadded = String::new();
        push_cell(&mut unpadded, "ab", 5, false);
        assert_eq!(unpadded, "ab");
    }

    #[test]
    fn newlines_kept_only_when_asked() {
        assert_eq!(sanitize("a\r\nb", true), "a\nb");
        assert_eq!(sanitize("a\nb", false), "a⏎b");
    }
}
