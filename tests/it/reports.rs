//! Reports from stored messages: conversations, messages that are not reports,
//! reprocessing, and the JSON contract through the CLI.

use crate::common::*;

fn write(env: &Env, name: &str, text: &str) -> std::path::PathBuf {
    let p = env.path(name);
    std::fs::write(&p, text.replace('\n', "\r\n")).unwrap();
    p
}

const REPORT: &str = "From: Ada <ada@example.net>\nTo: security@example.org\nSubject: SQL injection in /api/search\nMessage-ID: <r1@example.net>\nDate: Tue, 01 Dec 2026 09:00:00 +0000\n\nSummary: SQL injection in the search endpoint.\nSeverity: high\n";

#[test]
fn a_follow_up_joins_the_conversation_instead_of_opening_a_report() {
    let env = Env::new();
    env.init();
    let first = write(&env, "r1.eml", REPORT);
    env.vmp().arg("import").arg(&first).assert().success();
    let reply = write(
        &env,
        "r2.eml",
        "From: Ada <ada@example.net>\nTo: security@example.org\nSubject: Re: SQL injection in /api/search\nMessage-ID: <r2@example.net>\nIn-Reply-To: <r1@example.net>\nReferences: <r1@example.net>\nDate: Tue, 01 Dec 2026 10:00:00 +0000\n\nOne more detail: the `order` parameter is injectable too.\n",
    );
    let by_id = write(
        &env,
        "r3.eml",
        "From: Ada <ada@example.net>\nTo: security@example.org\nSubject: about [VR-2026-0001]\nMessage-ID: <r3@example.net>\nDate: Tue, 01 Dec 2026 11:00:00 +0000\n\nAny news?\n",
    );
    let o = env.vmp().args(["import", "--json"]).arg(&reply).arg(&by_id).output().unwrap();
    let v = json(ok(&o));
    assert_eq!(v["processed"]["reports"], 0, "{v}");
    let list = json(&env.vmp().args(["list", "--json"]).output().unwrap());
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let show = json(&env.vmp().args(["show", "VR-2026-0001", "--json"]).output().unwrap());
    let thread = show["thread"].as_array().unwrap();
    assert_eq!(thread.len(), 2, "{show}");
    assert!(thread[0]["text"].as_str().unwrap().contains("`order` parameter"));
    let text = stdout(&env.vmp().args(["show", "VR-2026-0001"]).output().unwrap());
    assert!(text.contains("Conversation") && text.contains("Any news?"), "{text}");
}

#[test]
fn bounces_and_automatic_replies_are_kept_but_not_reports() {
    let env = Env::new();
    env.init();
    let bounce = write(
        &env,
        "b.eml",
        "From: MAILER-DAEMON@example.org\nTo: security@example.org\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <b1@example.org>\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\nContent-Type: text/plain\n\nThe mail could not be delivered.\n--x--\n",
    );
    let ooo = write(
        &env,
        "o.eml",
        "From: Someone <someone@example.com>\nTo: security@example.org\nSubject: Out of office\nAuto-Submitted: auto-replied\nMessage-ID: <o1@example.com>\n\nI am away until Monday.\n",
    );
    let real = write(&env, "r.eml", REPORT);
    let o = env.vmp().args(["import", "--json"]).arg(&bounce).arg(&ooo).arg(&real).output().unwrap();
    let v = json(ok(&o));
    assert_eq!((v["processed"]["reports"].as_u64(), v["processed"]["not_reports"].as_u64()), (Some(1), Some(2)), "{v}");
    let list = json(&env.vmp().args(["list", "--json"]).output().unwrap());
    assert_eq!(list.as_array().unwrap().len(), 1);
    let all = json(&env.vmp().args(["list", "--all", "--json"]).output().unwrap());
    let kinds: Vec<&str> = all.as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "not-a-report").count(), 2, "{kinds:?}");
    let msgs = json(&env.vmp().args(["messages", "--json"]).output().unwrap());
    assert_eq!(msgs.as_array().unwrap().len(), 3, "every message is kept");
}

#[test]
fn reprocess_rebuilds_from_the_raw_message_and_keeps_the_id() {
    let env = Env::new();
    env.init();
    let first = write(&env, "r1.eml", REPORT);
    env.vmp().arg("import").arg(&first).assert().success();
    let before = json(&env.vmp().args(["show", "VR-2026-0001", "--json"]).output().unwrap());
    let o = env.vmp().args(["reprocess", "--all", "--json"]).output().unwrap();
    assert_eq!(json(ok(&o))["reports"], 1);
    env.vmp().args(["reprocess", "VR-2026-0001"]).assert().success();
    let after = json(&env.vmp().args(["show", "VR-2026-0001", "--json"]).output().unwrap());
    assert_eq!(before["fields"], after["fields"]);
    assert_eq!(after["id"], "VR-2026-0001");
    let list = json(&env.vmp().args(["list", "--json"]).output().unwrap());
    assert_eq!(list.as_array().unwrap().len(), 1, "no duplicate report");
    let o = env.vmp().args(["show", "VR-2099-0001"]).output().unwrap();
    one_line_error(&o, 2, "no report VR-2099-0001");
}

#[test]
fn a_message_that_waits_for_a_locked_key_is_processed_later() {
    let env = Env::new();
    env.init();
    let first = write(&env, "r1.eml", REPORT);
    // The store key is cached, but the team key cannot be unlocked: stored, not processed.
    env.vmp().args(["import", "--no-process"]).arg(&first).assert().success();
    let o = env.vmp().args(["list", "--json"]).output().unwrap();
    assert_eq!(json(ok(&o)).as_array().unwrap().len(), 0);
    let o = env.vm().args(["reprocess", "--all"]).output().unwrap();
    assert!(stderr(&o).contains("not processed"), "{}", stderr(&o));
    env.vmp().args(["reprocess", "--all"]).assert().success();
    let o = env.vmp().args(["list", "--json"]).output().unwrap();
    assert_eq!(json(ok(&o))[0]["fields"]["severity"], "high");
}

#[test]
fn the_report_json_has_every_contract_field() {
    let env = Env::new();
    env.init();
    let first = write(&env, "r1.eml", REPORT);
    env.vmp().arg("import").arg(&first).assert().success();
    let v = json(&env.vmp().args(["show", "VR-2026-0001", "--json"]).output().unwrap());
    for k in [
        "id",
        "message_id",
        "received_at",
        "from",
        "subject",
        "encryption",
        "signature",
        "fields",
        "attachments",
        "state",
        "severity",
        "deadlines",
        "acknowledged_at",
    ] {
        assert!(v.get(k).is_some(), "{k} missing: {v}");
    }
    assert_eq!(v["message_id"], "<r1@example.net>");
    assert_eq!(v["received_at"], "2026-12-01T09:00:00Z");
    assert_eq!(v["from"]["address"], "ada@example.net");
    assert_eq!(v["encryption"]["status"], "plaintext");
    assert_eq!(v["signature"]["status"], "unsigned");
    assert_eq!(v["state"], "new");
    assert_eq!(v["fields"]["severity"], "high");
}
