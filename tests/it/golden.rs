//! The extractor against the golden corpus in tests/fixtures/reports/.
//!
//! Each `NNN.eml` is processed with the test team key (the verifier knows Ada's and
//! Bob's certificates, as if from earlier reports; the received time is the
//! message's Date header), and compared with `NNN.json`.
//!
//! Matching: text fields match when their word-level F1 against the expected text
//! is at least 0.8 (case and punctuation ignored); identifiers (CWE, CVE, URLs,
//! severity, versions' exact text is a text field) match exactly; CVSS by version,
//! vector and score. Per field: a wrong value counts as a false positive and a
//! false negative, a value where none is expected as a false positive.
//!
//! Thresholds: overall (micro-averaged) precision and recall at least 0.90; every
//! single field at least 0.60 in both where it occurs at least 3 times.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

const OVERALL: f64 = 0.90;
const PER_FIELD: f64 = 0.60;

fn words(s: &str) -> Vec<String> {
    s.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

fn f1(a: &str, b: &str) -> f64 {
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() && wb.is_empty() {
        return 1.0;
    }
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for w in &wa {
        *counts.entry(w).or_default() += 1;
    }
    let mut common = 0i64;
    for w in &wb {
        if let Some(c) = counts.get_mut(w.as_str())
            && *c > 0
        {
            *c -= 1;
            common += 1;
        }
    }
    if common == 0 {
        return 0.0;
    }
    let p = common as f64 / wb.len() as f64;
    let r = common as f64 / wa.len() as f64;
    2.0 * p * r / (p + r)
}

#[derive(Default, Clone, Copy)]
struct Count {
    tp: u32,
    fp: u32,
    fn_: u32,
}

impl Count {
    fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 { 1.0 } else { self.tp as f64 / (self.tp + self.fp) as f64 }
    }
    fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 { 1.0 } else { self.tp as f64 / (self.tp + self.fn_) as f64 }
    }
}

fn scalar(c: &mut Count, want: &Value, got: &Value, same: impl Fn(&Value, &Value) -> bool) -> bool {
    match (want.is_null(), got.is_null()) {
        (true, true) => true,
        (true, false) => {
            c.fp += 1;
            false
        }
        (false, true) => {
            c.fn_ += 1;
            false
        }
        (false, false) => {
            if same(want, got) {
                c.tp += 1;
                true
            } else {
                c.fp += 1;
                c.fn_ += 1;
                false
            }
        }
    }
}

fn text_same(a: &Value, b: &Value) -> bool {
    f1(a.as_str().unwrap_or(""), b.as_str().unwrap_or("")) >= 0.8
}

fn exact(a: &Value, b: &Value) -> bool {
    a == b
}

fn list(c: &mut Count, want: &Value, got: &Value, norm: impl Fn(&str) -> String) -> bool {
    let w: BTreeSet<String> = want.as_array().into_iter().flatten().filter_map(|v| v.as_str()).map(&norm).collect();
    let g: BTreeSet<String> = got.as_array().into_iter().flatten().filter_map(|v| v.as_str()).map(&norm).collect();
    c.tp += w.intersection(&g).count() as u32;
    c.fp += g.difference(&w).count() as u32;
    c.fn_ += w.difference(&g).count() as u32;
    w == g
}

#[test]
fn golden_corpus_precision_and_recall() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports");
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
    let read = |n: &str| vulnmail::openpgp::keys::parse_certs(&std::fs::read(keys.join(n)).unwrap()).unwrap().remove(0);
    let team = vec![read("team.sec.asc")];
    let known = vec![read("ada.pub.asc"), read("bob.pub.asc")];
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    names.sort();

    let mut counts: BTreeMap<String, Count> = BTreeMap::new();
    let mut misses: Vec<String> = Vec::new();
    for name in &names {
        let raw = std::fs::read(dir.join(name)).unwrap();
        let want: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(name.replace(".eml", ".json"))).unwrap()).unwrap();
        let date = vulnmail::mail::mime::parse(&raw, &Default::default()).ok().and_then(|m| m.date);
        let out = vulnmail::process::process(
            &raw,
            &vulnmail::process::Keys { team: &team, known: &known },
            date,
            &Default::default(),
        );
        let got = serde_json::to_value(&out.report).unwrap();
        if std::env::var("VULNMAIL_GOLDEN_DUMP").is_ok_and(|d| name.starts_with(&d)) {
            for (k, w) in want["fields"].as_object().unwrap() {
                let g = &got["fields"][k];
                if w != g {
                    eprintln!("{name} {k}:\n  want {w}\n  got  {g}");
                }
            }
        }
        let mut check = |field: &str, ok: bool| {
            if !ok {
                misses.push(format!("{name}: {field}"));
            }
        };
        // Envelope.
        for (field, w, g) in [
            ("subject", &want["subject"], &got["subject"]),
            ("from.address", &want["from"]["address"], &got["from"]["address"]),
            ("encryption.status", &want["encryption"]["status"], &got["encryption"]["status"]),
            ("encryption.format", &want["encryption"]["format"], &got["encryption"]["format"]),
            ("signature.status", &want["signature"]["status"], &got["signature"]["status"]),
            (
                "signature.signer_matches_from",
                &want["signature"]["signer_matches_from"],
                &got["signature"]["signer_matches_from"],
            ),
        ] {
            let c = counts.entry(field.to_string()).or_default();
            let ok = scalar(c, w, g, if field == "subject" { text_same } else { exact });
            check(field, ok);
        }
        let wf = &want["fields"];
        let gf = &got["fields"];
        for field in [
            "title",
            "summary",
            "steps_to_reproduce",
            "impact",
            "affected_component",
            "affected_versions",
            "vulnerability_type",
            "proof_of_concept",
            "suggested_fix",
            "environment",
        ] {
            let c = counts.entry(field.to_string()).or_default();
            let ok = scalar(c, &wf[field], &gf[field], text_same);
            check(field, ok);
        }
        for field in ["severity", "disclosure_deadline"] {
            let c = counts.entry(field.to_string()).or_default();
            let ok = scalar(c, &wf[field], &gf[field], |a, b| {
                a.as_str().map(str::to_lowercase) == b.as_str().map(str::to_lowercase)
            });
            check(field, ok);
        }
        {
            let c = counts.entry("cvss".into()).or_default();
            let ok = scalar(c, &wf["cvss"], &gf["cvss"], |a, b| {
                a["version"] == b["version"]
                    && a["vector"].as_str().map(str::to_uppercase) == b["vector"].as_str().map(str::to_uppercase)
                    && (a["score"].as_f64().unwrap_or(-1.0) - b["score"].as_f64().unwrap_or(-2.0)).abs() < 0.05
            });
            check("cvss", ok);
        }
        for field in ["cwe", "cve"] {
            let c = counts.entry(field.to_string()).or_default();
            let ok = list(c, &wf[field], &gf[field], |s| s.to_uppercase());
            check(field, ok);
        }
        {
            let c = counts.entry("references".into()).or_default();
            let ok = list(c, &wf["references"], &gf["references"], |s| s.trim_end_matches('/').to_string());
            check("references", ok);
        }
        for part in ["name", "handle", "contact", "credit"] {
            let field = format!("reporter.{part}");
            let c = counts.entry(field.clone()).or_default();
            let ok = scalar(c, &wf["reporter"][part], &gf["reporter"][part], |a, b| {
                if part == "name" {
                    return text_same(a, b);
                }
                a.as_str().map(|s| s.to_lowercase().trim().to_string())
                    == b.as_str().map(|s| s.to_lowercase().trim().to_string())
            });
            check(&field, ok);
        }
        {
            let c = counts.entry("attachments".into()).or_default();
            let key = |v: &Value| format!("{}|{}", v["filename"].as_str().unwrap_or(""), v["encrypted"]);
            let w: Vec<String> = want["attachments"].as_array().into_iter().flatten().map(key).collect();
            let g: Vec<String> = got["attachments"].as_array().into_iter().flatten().map(key).collect();
            let ok = list(c, &Value::from(w), &Value::from(g), |s| s.to_string());
            check("attachments", ok);
        }
    }
    let mut total = Count::default();
    let mut table = String::from("\nfield                           P      R     (tp/fp/fn)\n");
    let mut weak = Vec::new();
    for (field, c) in &counts {
        total.tp += c.tp;
        total.fp += c.fp;
        total.fn_ += c.fn_;
        table.push_str(&format!(
            "{field:<30} {:>5.2}  {:>5.2}   ({}/{}/{})\n",
            c.precision(),
            c.recall(),
            c.tp,
            c.fp,
            c.fn_
        ));
        if c.tp + c.fn_ >= 3 && (c.precision() < PER_FIELD || c.recall() < PER_FIELD) {
            weak.push(field.clone());
        }
    }
    table.push_str(&format!("{:<30} {:>5.2}  {:>5.2}\n", "OVERALL", total.precision(), total.recall()));
    eprintln!("{table}");
    eprintln!("misses:\n  {}", misses.join("\n  "));
    assert!(names.len() >= 60, "the corpus should hold at least 60 reports, has {}", names.len());
    assert!(
        total.precision() >= OVERALL && total.recall() >= OVERALL,
        "overall precision/recall below {OVERALL}:{table}"
    );
    assert!(weak.is_empty(), "fields below {PER_FIELD}: {weak:?}{table}");
}
