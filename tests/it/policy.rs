//! `vulnmail policy import` and `policy show`: golden SECURITY.md files, and the
//! policy written into (and read back from) the configuration.

use std::path::PathBuf;

use crate::common::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policies")
}

/// A hand-written configuration with comments where `--write` must leave them.
const CONFIG: &str = "# Our vulnmail setup (hand-written)\n[team]\nname = \"Example\" # shown in replies\naddresses = [\"security@example.org\"]\n\n# Publishing\n[publish]\nkeys_dir = \"keys\"\n";

#[test]
fn import_reads_each_golden_security_md_as_expected() {
    let env = Env::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    for md in names {
        let want: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(md.with_extension("json")).unwrap()).unwrap();
        let o = env.vm().args(["policy", "import", "--json"]).arg(&md).output().unwrap();
        let got = json(ok(&o));
        for key in ["time_zone", "weekend", "severities", "not_understood"] {
            assert_eq!(got[key], want[key], "{}: {key}", md.display());
        }
        // Every value names the words it came from, and only values do.
        let sources = got["sources"].as_array().unwrap();
        let mut values = 0;
        for (sev, d) in got["severities"].as_object().unwrap() {
            for (kind, v) in d.as_object().unwrap() {
                if v.is_null() {
                    continue;
                }
                values += 1;
                let src = sources.iter().find(|s| s["severity"] == *sev && s["kind"] == *kind);
                let src = src.unwrap_or_else(|| panic!("{}: no source for {sev}/{kind}", md.display()));
                let text = v["text"].as_str().unwrap();
                assert!(src["text"].as_str().unwrap().contains(text), "{}: {src} vs {text}", md.display());
            }
        }
        assert_eq!(sources.len(), values, "{}", md.display());
    }
}

#[test]
fn import_text_shows_values_their_words_and_what_was_not_understood() {
    let env = Env::new();
    let o = env.vm().args(["policy", "import"]).arg(fixtures().join("07-promises.md")).output().unwrap();
    let text = stdout(ok(&o));
    assert!(text.contains("\"as soon as possible\" (no fixed time)"), "{text}");
    assert!(
        text.contains("from: When you report a vulnerability, we will get back to you as soon as possible."),
        "{text}"
    );
    let nu = text.split("Not understood").nth(1).unwrap_or_else(|| panic!("{text}"));
    assert!(nu.contains("Incorporated into the regular release cycle"), "{text}");
    assert!(text.contains("Nothing stored"), "{text}");
    let o = env.vm().args(["policy", "import"]).arg(fixtures().join("06-ranges-business-days.md")).output().unwrap();
    assert!(stdout(ok(&o)).contains("upper bound of the range \"2-4 weeks\""));
}

#[test]
fn write_stores_the_policy_keeps_comments_and_show_returns_it() {
    let env = Env::new();
    std::fs::create_dir_all(env.config_file().parent().unwrap()).unwrap();
    std::fs::write(env.config_file(), CONFIG).unwrap();

    let o = env.vm().args(["policy", "show", "--json"]).output().unwrap();
    let preset = json(ok(&o));
    assert_eq!(preset["source"], "preset");
    assert_eq!(preset["severities"]["critical"]["fix"]["amount"], 7);
    assert_eq!(preset["sources"], serde_json::json!([]));
    assert_eq!(preset["not_understood"], serde_json::json!([]));

    let md = fixtures().join("01-table-classic.md");
    let o = env.vm().args(["policy", "import", "--write", "--batch", "--json"]).arg(&md).output().unwrap();
    let imported = json(ok(&o));
    let cfg = std::fs::read_to_string(env.config_file()).unwrap();
    assert!(cfg.starts_with(CONFIG.trim_end()), "the hand-written part changed:\n{cfg}");
    assert!(cfg.contains("[policy]") && cfg.contains("# shown in replies"), "{cfg}");
    assert_eq!(mode(&env.config_file()), 0o600);

    let o = env.vm().args(["policy", "show", "--json"]).output().unwrap();
    let shown = json(ok(&o));
    assert_eq!(shown["source"], "config");
    assert_eq!(shown["severities"], imported["severities"]);
    assert_eq!(shown["severities"]["critical"]["triage"]["text"], "48-72 hours");
    assert_eq!(shown["time_zone"], "UTC");
    let o = env.vm().args(["policy", "show"]).output().unwrap();
    let text = stdout(ok(&o));
    assert!(text.contains("Response policy from") && text.contains("72 hours of receipt"), "{text}");

    // Importing another file replaces the policy; still one [policy], comments still there.
    let o = env
        .vm()
        .args(["policy", "import", "--write", "--batch"])
        .arg(fixtures().join("04-bullets.md"))
        .output()
        .unwrap();
    ok(&o);
    let cfg = std::fs::read_to_string(env.config_file()).unwrap();
    assert_eq!(cfg.matches("[policy]").count(), 1, "{cfg}");
    assert!(cfg.contains("# Publishing\n[publish]") && cfg.contains("# shown in replies"), "{cfg}");
    let shown = json(ok(&env.vm().args(["policy", "show", "--json"]).output().unwrap()));
    assert_eq!(shown["severities"]["medium"]["fix"]["text"], "a fortnight");
    assert!(shown["severities"]["critical"]["acknowledge"].is_null());
}

#[test]
fn write_without_batch_and_without_a_terminal_refuses() {
    let env = Env::new();
    std::fs::create_dir_all(env.config_file().parent().unwrap()).unwrap();
    std::fs::write(env.config_file(), CONFIG).unwrap();
    let o =
        env.vm().args(["policy", "import", "--write"]).arg(fixtures().join("01-table-classic.md")).output().unwrap();
    one_line_error(&o, 2, "--batch");
    assert_eq!(std::fs::read_to_string(env.config_file()).unwrap(), CONFIG);
}

#[test]
fn write_without_a_configuration_says_to_run_init() {
    let env = Env::new();
    let o =
        env.vm().args(["policy", "import", "--write", "--batch"]).arg(fixtures().join("03-prose.md")).output().unwrap();
    one_line_error(&o, 2, "vulnmail init");
    assert!(!env.config_file().exists());
}
