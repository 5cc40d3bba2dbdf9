//! `vulnmail stats`

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::Ctx;
use super::tracking::Tracker;
use crate::cli::StatsArgs;
use crate::output::Output;
use crate::report::deadline::Status;

/// Median and 90th percentile of a set of durations, in hours.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Times {
    pub count: usize,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

impl Times {
    fn of(mut hours: Vec<f64>) -> Times {
        hours.sort_by(f64::total_cmp);
        let n = hours.len();
        if n == 0 {
            return Times::default();
        }
        let median = if n % 2 == 1 { hours[n / 2] } else { (hours[n / 2 - 1] + hours[n / 2]) / 2.0 };
        // Nearest rank: the smallest value with at least 90% of the values at or below it.
        let p90 = hours[(0.9 * n as f64).ceil() as usize - 1];
        let r = |x: f64| (x * 10.0).round() / 10.0;
        Times { count: n, median_hours: Some(r(median)), p90_hours: Some(r(p90)) }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Kept {
    pub met: usize,
    /// Done late, or still open past due.
    pub missed: usize,
    /// met / (met + missed); null when none has come due.
    pub share: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Group {
    pub reports: usize,
    pub first_response: Times,
    pub triage: Times,
    pub fix: Times,
    pub deadlines: BTreeMap<&'static str, Kept>,
    pub deadlines_met: Kept,
}

#[derive(Default)]
struct Acc {
    reports: usize,
    first: Vec<f64>,
    triage: Vec<f64>,
    fix: Vec<f64>,
    kept: BTreeMap<&'static str, (usize, usize)>,
}

fn share(met: usize, missed: usize) -> Kept {
    let n = met + missed;
    Kept { met, missed, share: (n > 0).then(|| ((met as f64 / n as f64) * 1000.0).round() / 1000.0) }
}

impl Acc {
    fn finish(self) -> Group {
        let (mut m, mut x) = (0, 0);
        let deadlines = self
            .kept
            .into_iter()
            .map(|(k, (met, missed))| {
                m += met;
                x += missed;
                (k, share(met, missed))
            })
            .collect();
        Group {
            reports: self.reports,
            first_response: Times::of(self.first),
            triage: Times::of(self.triage),
            fix: Times::of(self.fix),
            deadlines,
            deadlines_met: share(m, x),
        }
    }
}

fn hours(from: Option<jiff::Timestamp>, to: Option<jiff::Timestamp>) -> Option<f64> {
    let s = to?.as_second() - from?.as_second();
    (s >= 0).then_some(s as f64 / 3600.0)
}

pub fn run(ctx: &Ctx, a: StatsArgs) -> anyhow::Result<Output> {
    let cfg = ctx.config()?;
    let now = ctx.clock.now();
    let tracker = Tracker::new(&cfg, now)?;
    let since = a.since.as_deref().map(|s| crate::clock::parse_since(s, now)).transpose()?;
    let store = ctx.open_store(&cfg)?;
    let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
    store.each_listing(|r| {
        let m = &r.milestones;
        if since.is_some_and(|s| m.received.is_none_or(|t| t < s)) {
            return;
        }
        let deadlines = tracker.of_row(r);
        let sev = r.shown_severity().0.unwrap_or("unset");
        for key in ["all", sev] {
            let g = groups.entry(key.to_string()).or_default();
            g.reports += 1;
            g.first.extend(hours(m.received, m.acknowledged));
            g.triage.extend(hours(m.received, m.triaged));
            g.fix.extend(hours(m.received, m.fixed));
            for d in &deadlines {
                let slot = g.kept.entry(d.kind).or_default();
                match d.status {
                    Status::Met if d.due_ts.is_some() => slot.0 += 1,
                    Status::Missed | Status::Overdue => slot.1 += 1,
                    _ => {}
                }
            }
        }
    })?;
    let groups: BTreeMap<String, Group> = groups.into_iter().map(|(k, v)| (k, v.finish())).collect();

    let mut text = String::new();
    if let Some(s) = since {
        text.push_str(&format!("reports received since {}\n", crate::clock::rfc3339(s)));
    }
    let order = ["all", "critical", "high", "medium", "low", "none", "unset"];
    let t = |x: &Times| match (x.median_hours, x.p90_hours) {
        (Some(m), Some(p)) => format!("{:>8} {:>8}", human(m), human(p)),
        _ => format!("{:>8} {:>8}", "-", "-"),
    };
    text.push_str(&format!(
        "{:<9} {:>7}  {:>17}  {:>17}  {:>17}  {:>13}\n{:<9} {:>7}  {:>17}  {:>17}  {:>17}\n",
        "SEVERITY",
        "REPORTS",
        "FIRST RESPONSE",
        "TRIAGE",
        "FIX",
        "DEADLINES MET",
        "",
        "",
        "median p90",
        "median p90",
        "median p90"
    ));
    for k in order {
        let Some(g) = groups.get(k) else { continue };
        let met = match g.deadlines_met.share {
            Some(s) => {
                format!("{:.0}% ({}/{})", s * 100.0, g.deadlines_met.met, g.deadlines_met.met + g.deadlines_met.missed)
            }
            None => "-".into(),
        };
        text.push_str(&format!(
            "{:<9} {:>7}  {}  {}  {}  {:>13}\n",
            k,
            g.reports,
            t(&g.first_response),
            t(&g.triage),
            t(&g.fix),
            met
        ));
    }
    let json = json!({ "since": since.map(crate::clock::rfc3339), "severities": groups });
    Ok(Output::new(text, json))
}

/// 5.5 hours as "5.5h", 50 hours as "2.1d".
fn human(h: f64) -> String {
    if h >= 48.0 { format!("{:.1}d", h / 24.0) } else { format!("{h:.1}h") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let t = Times::of(vec![1.0, 2.0, 3.0, 4.0, 100.0]);
        assert_eq!((t.median_hours, t.p90_hours), (Some(3.0), Some(100.0)));
        let t = Times::of((1..=10).map(f64::from).collect());
        assert_eq!((t.median_hours, t.p90_hours), (Some(5.5), Some(9.0)));
        assert_eq!(Times::of(vec![]).count, 0);
    }
}
