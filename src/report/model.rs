//! The report record of `shared/spec/report-json.md`. Every field is always
//! present; unknown values are `null` (or `[]`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub id: String,
    pub message_id: Option<String>,
    /// RFC 3339, UTC.
    pub received_at: Option<String>,
    pub from: Party,
    pub subject: Option<String>,
    pub encryption: Encryption,
    pub signature: Signature,
    pub fields: Fields,
    pub attachments: Vec<Attachment>,
    pub state: String,
    pub severity: Option<String>,
    pub deadlines: Deadlines,
    pub acknowledged_at: Option<String>,
    /// Extension: report | follow-up | not-a-report.
    pub kind: String,
    /// Extension: why this is not a report, or other processing notes.
    pub notes: Vec<String>,
    /// Extension: the team's triage data beyond state and severity.
    #[serde(default)]
    pub triage: Triage,
    /// Extension: each deadline with its status (pending, overdue, met, missed, …);
    /// computed when the report is read, never stored.
    #[serde(default, skip_deserializing)]
    pub deadline_status: Vec<super::deadline::Due>,
}

/// What the team decided about a report (kept apart from what was extracted).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Triage {
    /// Who on the team owns the report.
    pub assignee: Option<String>,
    /// The team's CVSS vector and score (the reporter's claim stays in `fields.cvss`).
    pub cvss: Option<Cvss>,
    /// CVE ids the team assigned or requested.
    pub cve: Vec<String>,
    /// For state `duplicate`: the report this one duplicates.
    pub duplicate_of: Option<String>,
    /// RFC 3339 times the report entered these states (first time), used by deadlines.
    pub triaged_at: Option<String>,
    pub fixed_at: Option<String>,
    pub disclosed_at: Option<String>,
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// decrypted | plaintext | failed
    pub status: String,
    /// pgp-mime | inline | attachment | none
    pub format: String,
    pub error: Option<String>,
    /// Extension: the encrypted part is the whole message (nothing outside it),
    /// which binds the sender to the ciphertext together with a signature.
    #[serde(default)]
    pub root: bool,
}

impl Default for Encryption {
    fn default() -> Self {
        Encryption { status: "plaintext".into(), format: "none".into(), error: None, root: false }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// good | bad | unknown-key | unsigned
    pub status: String,
    /// Upper-case hex fingerprint.
    pub signer: Option<String>,
    pub signer_matches_from: Option<bool>,
    /// Extension: the signature covers only part of what is shown.
    #[serde(default)]
    pub partial: bool,
}

impl Default for Signature {
    fn default() -> Self {
        Signature { status: "unsigned".into(), signer: None, signer_matches_from: None, partial: false }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fields {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub steps_to_reproduce: Option<String>,
    pub impact: Option<String>,
    pub affected_component: Option<String>,
    pub affected_versions: Option<String>,
    pub vulnerability_type: Option<String>,
    pub cwe: Vec<String>,
    pub cve: Vec<String>,
    /// critical | high | medium | low | none
    pub severity: Option<String>,
    pub cvss: Option<Cvss>,
    pub proof_of_concept: Option<String>,
    pub suggested_fix: Option<String>,
    pub environment: Option<String>,
    pub references: Vec<String>,
    pub reporter: Reporter,
    /// YYYY-MM-DD
    pub disclosure_deadline: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    pub version: String,
    pub vector: String,
    pub score: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    pub name: Option<String>,
    pub handle: Option<String>,
    pub contact: Option<String>,
    /// public | anonymous
    pub credit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub encrypted: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    pub acknowledge: Option<String>,
    pub triage: Option<String>,
    pub fix: Option<String>,
    pub disclose: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contract_field_is_always_present() {
        let v = serde_json::to_value(Report::default()).unwrap();
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
            assert!(v.get(k).is_some(), "{k}");
        }
        for k in [
            "title",
            "summary",
            "steps_to_reproduce",
            "impact",
            "affected_component",
            "affected_versions",
            "vulnerability_type",
            "cwe",
            "cve",
            "severity",
            "cvss",
            "proof_of_concept",
            "suggested_fix",
            "environment",
            "references",
            "reporter",
            "disclosure_deadline",
        ] {
            assert!(v["fields"].get(k).is_some(), "fields.{k}");
        }
        assert!(v["fields"]["reporter"].get("credit").is_some());
        assert!(v["signature"].get("signer_matches_from").is_some());
    }
}
