use std::time::Instant;
fn main() {
    let mut texts = Vec::new();
    for i in 0..2000 {
        let mut s = format!(
            "Hi team,\r\n\r\n## Summary\r\nStored XSS number {i} in the comment form.\r\n\r\n## Steps to reproduce\r\n"
        );
        for step in 0..30 {
            s.push_str(&format!("{step}. Send request {i}/{step} to https://example.org/admin?q={step}\r\n"));
        }
        s.push_str("\r\n## Impact\r\nSession theft.\r\n\r\nCVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N, CWE-79\r\n\r\nBest regards,\r\nAda\r\n");
        texts.push(s);
    }
    let t = Instant::now();
    for s in &texts {
        let f = vulnmail::report::extract::extract(&vulnmail::report::extract::Input {
            text: s,
            subject: Some("Security report 1"),
            received_at: None,
            text_attachments: &[],
        });
        assert!(f.summary.is_some());
    }
    println!("extract: {:.3} ms/msg", t.elapsed().as_secs_f64() * 1000.0 / 2000.0);
    let msgs: Vec<Vec<u8>> = texts
        .iter()
        .map(|s| format!("From: a@b.org\r\nSubject: x\r\nContent-Type: text/plain\r\n\r\n{s}").into_bytes())
        .collect();
    let t = Instant::now();
    for m in &msgs {
        let _ = vulnmail::mail::mime::parse(m, &Default::default()).unwrap();
    }
    println!("mime: {:.3} ms/msg", t.elapsed().as_secs_f64() * 1000.0 / 2000.0);
}
