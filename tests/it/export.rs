//! `vulnmail export`: a report made from a message, exported in every format,
//! each machine format checked against its official schema, and the reporter's
//! credit wish kept.

use crate::common::*;

const OSV_SCHEMA: &str = include_str!("../fixtures/schemas/osv-schema.json");
const CVE_SCHEMA: &str = include_str!("../fixtures/schemas/CVE_Record_Format_5.1.1_bundled.json");
const GHSA_SCHEMA: &str = include_str!("../fixtures/schemas/ghsa-create-repository-advisory.schema.json");

fn validate(schema: &str, doc: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value = serde_json::from_str(schema).unwrap();
    let v = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
    v.iter_errors(doc).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

fn import(env: &Env, name: &str, text: &str) {
    let p = env.path(name);
    std::fs::write(&p, text.replace('\n', "\r\n")).unwrap();
    env.vmp().arg("import").arg(&p).assert().success();
}

fn configure_advisory(env: &Env) {
    let mut cfg = std::fs::read_to_string(env.config_file()).unwrap();
    cfg.push_str(
        "\n[advisory]\nvendor = \"Example Org\"\nproduct = \"widget\"\necosystem = \"crates.io\"\npackage = \"widget\"\nrepository = \"https://github.com/example/widget\"\ncna_org_id = \"8254265b-2729-46b6-b9e3-3dfca2d5bfca\"\ncna_short_name = \"example\"\n",
    );
    std::fs::write(env.config_file(), cfg).unwrap();
}

const ANONYMOUS: &str = "From: Grace Hopper <grace@example.net>\nTo: security@example.org\nSubject: SQL injection in /api/search\nMessage-ID: <g1@example.net>\nDate: Tue, 01 Dec 2026 09:00:00 +0000\n\nSummary: SQL injection in the search endpoint, found by Grace Hopper.\nImpact: Reading every user's data.\nAffected versions: < 2.4.0\nCWE: CWE-89\nCVE: CVE-2026-40001\nCVSS: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\nProof of concept: curl 'https://example.org/api/search?q=1%27%20OR%201=1'\nCredit: anonymous\n";

const PUBLIC: &str = "From: Ada Lovelace <ada@example.net>\nTo: security@example.org\nSubject: XSS in the admin panel\nMessage-ID: <a1@example.net>\nDate: Tue, 01 Dec 2026 10:00:00 +0000\n\nSummary: Stored XSS in the admin panel.\nAffected versions: <= 1.9.3\nCVSS: CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:L/SI:L/SA:N\nCVE: CVE-2026-40002\nCredit: please credit me publicly as Ada Lovelace\n";

#[test]
fn every_format_exports_and_validates_and_an_anonymous_reporter_stays_unnamed() {
    let env = Env::new();
    env.init();
    configure_advisory(&env);
    import(&env, "g.eml", ANONYMOUS);
    import(&env, "a.eml", PUBLIC);
    let show = json(ok(&env.vmp().args(["show", "VR-2026-0001", "--json"]).output().unwrap()));
    assert_eq!(show["fields"]["reporter"]["credit"], "anonymous", "{show}");
    for id in ["VR-2026-0001", "VR-2026-0002"] {
        for (format, schema) in [
            ("osv", Some(OSV_SCHEMA)),
            ("cve5", Some(CVE_SCHEMA)),
            ("ghsa", Some(GHSA_SCHEMA)),
            ("json", None),
            ("markdown", None),
        ] {
            let o = env.vmp().args(["export", id, "--format", format]).output().unwrap();
            let text = stdout(ok(&o));
            if let Some(schema) = schema {
                let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
                let errors = validate(schema, &doc);
                assert!(errors.is_empty(), "{id} {format}: {errors:#?}\n{text}");
            }
            if id == "VR-2026-0001" {
                for secret in ["Grace", "Hopper", "grace@example.net", "g1@example.net"] {
                    assert!(!text.contains(secret), "{format} names the anonymous reporter ({secret}):\n{text}");
                }
            }
        }
    }
    let osv = json(&env.vmp().args(["export", "VR-2026-0001", "--format", "osv"]).output().unwrap());
    assert_eq!(osv["id"], "CVE-2026-40001");
    assert_eq!(osv["affected"][0]["package"], serde_json::json!({ "ecosystem": "crates.io", "name": "widget" }));
    assert!(osv["details"].as_str().unwrap().contains("found by [redacted]"), "{osv}");
    let cve = json(&env.vmp().args(["export", "VR-2026-0001", "--format", "cve5"]).output().unwrap());
    assert_eq!(cve["containers"]["cna"]["metrics"][0]["cvssV3_1"]["baseScore"], 9.8, "{cve}");
    assert_eq!(cve["containers"]["cna"]["problemTypes"][0]["descriptions"][0]["cweId"], "CWE-89");
    let md = stdout(&env.vmp().args(["export", "VR-2026-0002", "--format", "markdown"]).output().unwrap());
    assert!(md.contains("Ada Lovelace"), "a public reporter is credited:\n{md}");
}

#[test]
fn output_files_are_never_overwritten_without_force() {
    let env = Env::new();
    env.init();
    import(&env, "a.eml", PUBLIC);
    let out = env.path("advisory.md");
    env.vmp().args(["export", "VR-2026-0001", "--format", "markdown", "--output"]).arg(&out).assert().success();
    let first = std::fs::read_to_string(&out).unwrap();
    assert!(first.starts_with("# "), "{first}");
    let o = env.vmp().args(["export", "VR-2026-0001", "--format", "ghsa", "--output"]).arg(&out).output().unwrap();
    one_line_error(&o, 2, "--force");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
    env.vmp().args(["export", "VR-2026-0001", "--format", "ghsa", "--force", "--output"]).arg(&out).assert().success();
    let ghsa: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(validate(GHSA_SCHEMA, &ghsa).is_empty(), "{ghsa}");
}

#[test]
fn user_mistakes_say_what_to_do() {
    let env = Env::new();
    env.init();
    import(
        &env,
        "r.eml",
        "From: Bob <bob@example.net>\nTo: security@example.org\nSubject: crash\nMessage-ID: <b1@example.net>\nDate: Tue, 01 Dec 2026 09:00:00 +0000\n\nSummary: it crashes.\n",
    );
    let o = env.vmp().args(["export", "VR-2026-0009", "--format", "osv"]).output().unwrap();
    one_line_error(&o, 2, "no report VR-2026-0009");
    let o = env.vmp().args(["export", "VR-2026-0001", "--format", "cve5"]).output().unwrap();
    one_line_error(&o, 2, "vulnmail triage VR-2026-0001 --cve");
    let o = env.vmp().args(["export", "VR-2026-0001", "--format", "pdf"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_team_triage_data_drives_the_export() {
    let env = Env::new();
    env.init();
    configure_advisory(&env);
    // No CVE in the report: a CVE record needs one from triage.
    import(
        &env,
        "p.eml",
        "From: Ada Lovelace <ada@example.net>\nTo: security@example.org\nSubject: Path traversal in downloads\nMessage-ID: <p1@example.net>\nDate: Tue, 01 Dec 2026 10:00:00 +0000\n\nSummary: ../ in the file parameter reads any file.\nAffected versions: < 3.1.0\nSeverity: low\nCredit: please credit me publicly as Ada Lovelace\n",
    );
    one_line_error(&env.vmp().args(["export", "VR-2026-0001", "--format", "cve5"]).output().unwrap(), 2, "--cve");
    for args in [
        &["triage", "VR-2026-0001", "--state", "triaged", "--cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"][..],
        &["triage", "VR-2026-0001", "--cve", "CVE-2026-50001", "--state", "fixed"][..],
    ] {
        ok(&env.vmp().args(["--time", "2026-12-02T10:00:00Z"]).args(args).output().unwrap());
    }
    let cve = json(ok(&env.vmp().args(["export", "VR-2026-0001", "--format", "cve5"]).output().unwrap()));
    assert!(validate(CVE_SCHEMA, &cve).is_empty(), "{cve}");
    assert_eq!(cve["cveMetadata"]["cveId"], "CVE-2026-50001");
    assert_eq!(cve["containers"]["cna"]["metrics"][0]["cvssV3_1"]["baseScore"], 7.5, "the team's vector: {cve}");
    let ghsa = json(&env.vmp().args(["export", "VR-2026-0001", "--format", "ghsa"]).output().unwrap());
    assert!(validate(GHSA_SCHEMA, &ghsa).is_empty(), "{ghsa}");
    assert_eq!(ghsa["cve_id"], "CVE-2026-50001");
    let osv = json(&env.vmp().args(["export", "VR-2026-0001", "--format", "osv"]).output().unwrap());
    assert_eq!(osv["id"], "CVE-2026-50001");
    assert!(validate(OSV_SCHEMA, &osv).is_empty(), "{osv}");
}
