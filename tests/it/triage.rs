//! Triage, deadlines, `due`, `stats` and the `list` filters, on the injected clock.

use crate::common::*;

fn report(env: &Env, n: u32, date: &str, subject: &str, body: &str) {
    let p = env.path(&format!("r{n}.eml"));
    let text = format!(
        "From: Ada <ada@example.net>\nTo: security@example.org\nSubject: {subject}\nMessage-ID: <t{n}@example.net>\nDate: {date}\n\n{body}\n"
    );
    std::fs::write(&p, text.replace('\n', "\r\n")).unwrap();
    env.vmp().arg("import").arg(&p).assert().success();
}

fn policy(env: &Env, toml: &str) {
    let mut c = std::fs::read_to_string(env.config_file()).unwrap();
    c.push_str(toml);
    std::fs::write(env.config_file(), c).unwrap();
}

fn at(env: &Env, time: &str, args: &[&str]) -> std::process::Output {
    env.vmp().args(["--time", time]).args(args).output().unwrap()
}

const BERLIN_BUSINESS: &str = r#"
[policy]
time_zone = "Europe/Berlin"
weekend = ["Sat", "Sun"]
[policy.severities.default.acknowledge]
amount = 1
unit = "business_days"
from = "receipt"
[policy.severities.critical.fix]
amount = 3
unit = "days"
from = "triage"
"#;

#[test]
fn a_report_received_on_friday_night_is_due_on_monday_night_in_due_and_list() {
    let env = Env::new();
    env.init();
    policy(&env, BERLIN_BUSINESS);
    // Friday 2026-11-27 23:30 in Berlin (22:30 UTC): one business day is Monday 23:30.
    report(&env, 1, "Fri, 27 Nov 2026 23:30:00 +0100", "XSS in the admin panel", "Summary: stored XSS.");
    let o = at(&env, "2026-11-30T12:00:00Z", &["due", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["overdue"], 0);
    assert_eq!(v["items"][0]["id"], "VR-2026-0001", "{v}");
    assert_eq!(v["items"][0]["kind"], "acknowledge");
    assert_eq!(v["items"][0]["due"], "2026-11-30T22:30:00Z");
    assert_eq!(v["items"][0]["status"], "pending");
    let list = json(&at(&env, "2026-11-30T12:00:00Z", &["list", "--json"]));
    assert_eq!(list[0]["deadlines"]["acknowledge"], "2026-11-30T22:30:00Z", "{list}");
    let text = stdout(&at(&env, "2026-11-30T12:00:00Z", &["list"]));
    assert!(text.contains("ack in 10h 30m"), "{text}");

    // Monday 23:31 Berlin: overdue; `due` exits 1 and `list --overdue` agrees.
    let o = at(&env, "2026-11-30T22:31:00Z", &["due", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((v["overdue"].as_u64(), v["items"][0]["status"].as_str()), (Some(1), Some("overdue")), "{v}");
    let list = json(&at(&env, "2026-11-30T22:31:00Z", &["list", "--overdue", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["deadline_status"][0]["status"], "overdue");
    let text = stdout(&at(&env, "2026-11-30T22:31:00Z", &["list", "--overdue"]));
    assert!(text.contains("1 overdue") && text.contains("!ack 1m overdue"), "{text}");

    // Acknowledged (late): nothing is overdue any more, and the miss is counted.
    ok(&at(&env, "2026-11-30T23:00:00Z", &["triage", "VR-2026-0001", "--state", "acknowledged"]));
    let o = at(&env, "2026-12-01T08:00:00Z", &["due", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let s = json(&at(&env, "2026-12-01T08:00:00Z", &["stats", "--json"]));
    assert_eq!(s["severities"]["all"]["deadlines"]["acknowledge"]["missed"], 1, "{s}");
    assert_eq!(s["severities"]["all"]["first_response"]["median_hours"], 72.5);
}

#[test]
fn days_keep_the_local_time_across_the_dst_change() {
    let env = Env::new();
    env.init();
    policy(
        &env,
        "[policy]\ntime_zone = \"Europe/Berlin\"\nweekend = [\"Sat\", \"Sun\"]\n\
         [policy.severities.default.acknowledge]\namount = 2\nunit = \"days\"\nfrom = \"receipt\"\n\
         [policy.severities.default.triage]\namount = 48\nunit = \"hours\"\nfrom = \"receipt\"\n",
    );
    // Saturday 12:00 CEST; clocks go back on Sunday 25 October 2026.
    report(&env, 1, "Sat, 24 Oct 2026 12:00:00 +0200", "Path traversal", "Summary: ../ in the download URL.");
    let v = json(&at(&env, "2026-10-24T12:00:00Z", &["show", "VR-2026-0001", "--json"]));
    assert_eq!(v["deadlines"]["acknowledge"], "2026-10-26T11:00:00Z", "12:00 CET, two calendar days: {v}");
    assert_eq!(v["deadlines"]["triage"], "2026-10-26T10:00:00Z", "48 elapsed hours");
}

#[test]
fn states_move_as_specified_and_every_change_is_in_the_history() {
    let env = Env::new();
    env.init();
    report(
        &env,
        1,
        "Mon, 02 Nov 2026 09:00:00 +0000",
        "RCE via upload",
        "Summary: remote code execution.\nSeverity: low",
    );
    report(&env, 2, "Mon, 02 Nov 2026 10:00:00 +0000", "RCE via upload again", "Summary: same.");
    let t = "2026-11-02T12:00:00Z";
    // Illegal: straight to disclosed, naming the allowed moves.
    let o = at(&env, t, &["triage", "VR-2026-0001", "--state", "disclosed"]);
    one_line_error(
        &o,
        2,
        "cannot move from new to disclosed; from new it can move to acknowledged, needs-info, triaged, duplicate",
    );
    let o = at(&env, t, &["triage", "VR-2026-0001", "--state", "done"]);
    one_line_error(&o, 2, "unknown state");

    ok(&at(&env, t, &["triage", "VR-2026-0001", "--state", "acknowledged", "--actor", "alice"]));
    let v = json(&at(
        &env,
        "2026-11-03T09:00:00Z",
        &[
            "triage",
            "--json",
            "VR-2026-0001",
            "--state",
            "triaged",
            "--cvss",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "--assign",
            "bob",
            "--cve",
            "cve-2026-12345",
            "--note",
            "confirmed on 2.3.1",
            "--actor",
            "alice",
        ],
    ));
    assert_eq!(v["severity"], "critical", "the CVSS score sets the severity: {v}");
    let show = json(&at(&env, "2026-11-03T09:00:00Z", &["show", "VR-2026-0001", "--json"]));
    assert_eq!(show["severity"], "critical");
    assert_eq!(show["fields"]["severity"], "low", "the reporter's claim is kept apart");
    assert_eq!(show["triage"]["cvss"]["score"], 9.8);
    assert_eq!(show["triage"]["cve"][0], "CVE-2026-12345");
    assert_eq!(show["triage"]["assignee"], "bob");
    assert_eq!(show["triage"]["triaged_at"], "2026-11-03T09:00:00Z");
    // The preset: critical fixes within 7 days of triage.
    assert_eq!(show["deadlines"]["fix"], "2026-11-10T09:00:00Z", "{show}");
    // An explicit severity wins over the vector.
    let v = json(&at(
        &env,
        "2026-11-03T10:00:00Z",
        &[
            "triage",
            "--json",
            "VR-2026-0001",
            "--cvss",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
            "--severity",
            "high",
        ],
    ));
    assert_eq!(v["severity"], "high");

    for (to, code) in [("fixing", 0), ("new", 2), ("fixed", 0), ("duplicate", 2), ("disclosed", 0), ("fixing", 2)] {
        let o = at(&env, "2026-11-04T09:00:00Z", &["triage", "VR-2026-0001", "--state", to]);
        assert_eq!(o.status.code(), Some(code), "to {to}: {}", stderr(&o));
    }
    // Duplicates name the original; a closed report can be reopened.
    one_line_error(&at(&env, t, &["triage", "VR-2026-0002", "--state", "duplicate"]), 2, "--duplicate-of");
    one_line_error(&at(&env, t, &["triage", "VR-2026-0002", "--duplicate-of", "VR-2026-0002"]), 2, "itself");
    one_line_error(
        &at(&env, t, &["triage", "VR-2026-0002", "--duplicate-of", "VR-2026-0099"]),
        2,
        "no report VR-2026-0099",
    );
    ok(&at(&env, t, &["triage", "VR-2026-0002", "--duplicate-of", "VR-2026-0001"]));
    let d = json(&at(&env, t, &["due", "--json"]));
    assert!(d["items"].as_array().unwrap().is_empty(), "closed and disclosed reports have nothing due: {d}");
    ok(&at(&env, t, &["triage", "VR-2026-0002", "--state", "triaged"]));
    let show = json(&at(&env, t, &["show", "VR-2026-0002", "--json"]));
    assert_eq!((show["state"].as_str(), show["triage"]["duplicate_of"].as_str()), (Some("triaged"), None));

    let log = json(&at(&env, t, &["log", "VR-2026-0001", "--json"]));
    let fields: Vec<&str> = log["events"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "received", "state", "state", "severity", "cvss", "assignee", "cve", "note", "severity", "cvss", "state",
            "state", "state"
        ],
        "{log}"
    );
    assert_eq!(log["events"][1]["actor"], "alice");
    assert_eq!(log["events"][1]["old"], "new");
    assert_eq!(log["events"][1]["new"], "acknowledged");
    let text = stdout(&at(&env, t, &["log", "VR-2026-0001"]));
    assert!(text.contains("state acknowledged -> triaged") && text.contains("note: confirmed on 2.3.1"), "{text}");
    let text = stdout(&at(&env, t, &["show", "VR-2026-0001"]));
    assert!(text.contains("History") && text.contains("Deadlines") && text.contains("Assignee:   bob"), "{text}");
    one_line_error(&at(&env, t, &["triage", "VR-2026-0001"]), 2, "nothing to change");
}

#[test]
fn list_filters_by_state_severity_time_and_text() {
    let env = Env::new();
    env.init();
    report(
        &env,
        1,
        "Mon, 02 Nov 2026 09:00:00 +0000",
        "SQL injection in search",
        "Summary: the q parameter.\nSeverity: high",
    );
    report(&env, 2, "Tue, 10 Nov 2026 09:00:00 +0000", "Open redirect", "Summary: the next= parameter of /login.");
    report(&env, 3, "Wed, 18 Nov 2026 09:00:00 +0000", "Weak TLS ciphers", "Summary: RC4 offered.\nSeverity: low");
    let t = "2026-11-20T00:00:00Z";
    ok(&at(&env, t, &["triage", "VR-2026-0003", "--state", "informative"]));
    let ids = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["list", "--json"];
        a.extend_from_slice(args);
        json(&at(&env, t, &a)).as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(&["--state", "open", "--sort", "received"]), ["VR-2026-0002", "VR-2026-0001"]);
    assert_eq!(ids(&["--state", "closed"]), ["VR-2026-0003"]);
    assert_eq!(ids(&["--severity", "high"]), ["VR-2026-0001"]);
    assert_eq!(ids(&["--severity", "unset"]), ["VR-2026-0002"]);
    assert_eq!(ids(&["--since", "2026-11-10"]).len(), 2);
    assert_eq!(ids(&["--since", "5d"]), ["VR-2026-0003"]);
    assert_eq!(ids(&["--search", "NEXT= PARAMETER"]), ["VR-2026-0002"]);
    // Both open reports are overdue for acknowledgement (48 hours): oldest deadline first.
    assert_eq!(ids(&["--overdue"]), ["VR-2026-0001", "VR-2026-0002"]);
    one_line_error(&at(&env, t, &["list", "--state", "sleeping"]), 2, "unknown state");
    let text = stdout(&at(&env, t, &["list"]));
    assert!(text.contains("high?"), "a claimed severity is marked as the reporter's: {text}");
}

/// A listing big enough to be read in parts (on a machine with more than one core):
/// every report once, `list` in the order of `list --json`, `due` as `due --json`.
#[test]
fn a_large_listing_is_complete_and_in_order() {
    let env = Env::new();
    env.init();
    let n = 9_000;
    let mut mbox = String::new();
    for i in 0..n {
        // Received times spread over 90 days; a few share a second (ties).
        let day = 1 + (i * 89 / n);
        let sev = ["", "Severity: high\n", "Severity: low\n", ""][i % 4];
        mbox.push_str(&format!(
            "From r{i}@example.net Sun Sep  6 10:00:00 2026\nFrom: <r{}@example.net>\nTo: security@example.org\n\
             Subject: report {i}\nMessage-ID: <big{i}@example.net>\nDate: {}\n\nSummary: issue {i}.\n{sev}\n",
            i % 50,
            jiff::Timestamp::from_second(1_788_000_000 + (day as i64) * 86_400 + (i as i64 % 500) * 60)
                .unwrap()
                .strftime("%a, %d %b %Y %H:%M:%S +0000"),
        ));
    }
    let p = env.path("big.mbox");
    std::fs::write(&p, mbox).unwrap();
    ok(&env.vmp().arg("import").arg(&p).output().unwrap());
    let t = "2026-12-01T12:00:00Z";
    for (id, state) in [("VR-2026-0007", "acknowledged"), ("VR-2026-4500", "invalid"), ("VR-2026-8999", "triaged")] {
        ok(&at(&env, t, &["triage", id, "--state", state]));
    }

    let records = json(&at(&env, t, &["list", "--json"]));
    let json_ids: Vec<&str> = records.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(json_ids.len(), n);
    let text = stdout(&at(&env, t, &["list"]));
    let lines: Vec<&str> = text.lines().collect();
    let text_ids: Vec<&str> = lines[1..lines.len() - 1].iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(text_ids, json_ids, "list and list --json list the same reports in the same order");
    let unique: std::collections::HashSet<&str> = text_ids.iter().copied().collect();
    assert_eq!(unique.len(), n);
    // Sorted by the next deadline: overdue and soonest first.
    let next: Vec<Option<&str>> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["deadline_status"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| matches!(d["status"].as_str(), Some("pending" | "overdue")))
                .filter_map(|d| d["due"].as_str())
                .min()
        })
        .collect();
    let open_end = next.iter().position(Option::is_none).unwrap_or(n);
    assert!(next[..open_end].windows(2).all(|w| w[0] <= w[1]), "by next deadline");
    assert!(next[open_end..].iter().all(Option::is_none));
    let overdue = json(&at(&env, t, &["list", "--overdue", "--json"])).as_array().unwrap().len();
    assert!(lines.last().unwrap().starts_with(&format!("{n} reports, {overdue} overdue")), "{}", lines.last().unwrap());

    let received = json(&at(&env, t, &["list", "--json", "--sort", "received"]));
    let times: Vec<&str> = received.as_array().unwrap().iter().map(|r| r["received_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let due = json(&at(&env, t, &["due", "--json"]));
    let items = due["items"].as_array().unwrap();
    let due_text = stdout(&at(&env, t, &["due"]));
    let due_lines: Vec<&str> = due_text.lines().collect();
    assert_eq!(due_lines.len(), items.len() + 2);
    for (line, item) in due_lines[1..].iter().zip(items) {
        assert!(line.starts_with(item["id"].as_str().unwrap()), "{line} / {item}");
    }
    assert!(
        items.windows(2).all(|w| (w[0]["status"] != "overdue", w[0]["due"].as_str())
            <= (w[1]["status"] != "overdue", w[1]["due"].as_str()))
    );
    assert!(
        due_lines.last().unwrap().starts_with(&format!("{} overdue", due["overdue"])),
        "{}",
        due_lines.last().unwrap()
    );
}
