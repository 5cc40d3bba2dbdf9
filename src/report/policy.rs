//! The response policy: what the team promises, per severity, in the shape of
//! `shared/spec/policy-json.md`.
//!
//! This module only models and describes the promises; counting deadlines lives
//! with triage.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// IANA time zone business days are counted in.
    pub time_zone: String,
    pub weekend: Vec<String>,
    /// `default` plus any of critical, high, medium, low.
    pub severities: BTreeMap<String, Deadlines>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    #[serde(default)]
    pub acknowledge: Option<Deadline>,
    #[serde(default)]
    pub triage: Option<Deadline>,
    #[serde(default)]
    pub fix: Option<Deadline>,
    #[serde(default)]
    pub disclose: Option<Deadline>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// `None` for a promise without a number ("next release").
    pub amount: Option<u32>,
    pub unit: Option<Unit>,
    pub from: Start,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Hours,
    Days,
    BusinessDays,
    Weeks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    Receipt,
    Acknowledge,
    Triage,
    Fix,
}

/// The severities, most urgent first.
pub const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

impl Deadline {
    pub fn new(amount: u32, unit: Unit, from: Start) -> Self {
        Deadline { amount: Some(amount), unit: Some(unit), from, text: None }
    }

    pub fn words(text: &str, from: Start) -> Self {
        Deadline { amount: None, unit: None, from, text: Some(text.into()) }
    }

    /// "48 hours", "5 business days", or the promise's own words.
    pub fn describe(&self) -> String {
        match (self.amount, self.unit) {
            (Some(n), Some(u)) => {
                let unit = match (u, n) {
                    (Unit::Hours, 1) => "hour",
                    (Unit::Hours, _) => "hours",
                    (Unit::Days, 1) => "day",
                    (Unit::Days, _) => "days",
                    (Unit::BusinessDays, 1) => "business day",
                    (Unit::BusinessDays, _) => "business days",
                    (Unit::Weeks, 1) => "week",
                    (Unit::Weeks, _) => "weeks",
                };
                format!("{n} {unit}")
            }
            _ => self.text.clone().unwrap_or_else(|| "no fixed time".into()),
        }
    }
}

impl Start {
    pub fn describe(self) -> &'static str {
        match self {
            Start::Receipt => "of receipt",
            Start::Acknowledge => "of acknowledgement",
            Start::Triage => "of triage",
            Start::Fix => "after the fix",
        }
    }
}

impl Policy {
    /// A preset close to what most SECURITY.md files promise.
    pub fn preset() -> Self {
        let mut s = BTreeMap::new();
        s.insert(
            "default".to_string(),
            Deadlines {
                acknowledge: Some(Deadline::new(48, Unit::Hours, Start::Receipt)),
                triage: Some(Deadline::new(5, Unit::BusinessDays, Start::Receipt)),
                fix: None,
                disclose: Some(Deadline::new(90, Unit::Days, Start::Fix)),
            },
        );
        let fix = |d: Deadline| Deadlines { fix: Some(d), ..Deadlines::default() };
        s.insert("critical".into(), fix(Deadline::new(7, Unit::Days, Start::Triage)));
        s.insert("high".into(), fix(Deadline::new(30, Unit::Days, Start::Triage)));
        s.insert("medium".into(), fix(Deadline::new(90, Unit::Days, Start::Triage)));
        s.insert("low".into(), fix(Deadline::words("next regular release", Start::Triage)));
        Policy { time_zone: "UTC".into(), weekend: vec!["Sat".into(), "Sun".into()], severities: s }
    }

    /// The deadline of one kind for a severity: its own entry, else `default`.
    pub fn deadline(&self, severity: &str, kind: Kind) -> Option<&Deadline> {
        fn pick(d: &Deadlines, kind: Kind) -> Option<&Deadline> {
            match kind {
                Kind::Acknowledge => d.acknowledge.as_ref(),
                Kind::Triage => d.triage.as_ref(),
                Kind::Fix => d.fix.as_ref(),
                Kind::Disclose => d.disclose.as_ref(),
            }
        }
        self.severities
            .get(severity)
            .and_then(|d| pick(d, kind))
            .or_else(|| self.severities.get("default").and_then(|d| pick(d, kind)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Acknowledge,
    Triage,
    Fix,
    Disclose,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_overrides_default() {
        let p = Policy::preset();
        assert_eq!(p.deadline("critical", Kind::Fix).unwrap().describe(), "7 days");
        assert_eq!(p.deadline("critical", Kind::Acknowledge).unwrap().describe(), "48 hours");
        assert_eq!(p.deadline("low", Kind::Fix).unwrap().describe(), "next regular release");
    }

    #[test]
    fn json_shape_matches_the_contract() {
        let v = serde_json::to_value(Policy::preset()).unwrap();
        let ack = &v["severities"]["default"]["acknowledge"];
        assert_eq!(ack["amount"], 48);
        assert_eq!(ack["unit"], "hours");
        assert_eq!(ack["from"], "receipt");
        assert!(v["severities"]["critical"]["triage"].is_null());
        assert_eq!(v["severities"]["default"]["triage"]["unit"], "business_days");
    }
}
