//! The deadlines of reports under the team's policy: shared by list, show, due,
//! stats and ack.

use jiff::Timestamp;

use crate::config::Config;
use crate::error::user_err;
use crate::report::deadline::{self, Calendar, Due, Milestones};
use crate::report::model::Report;
use crate::report::policy::Policy;
use crate::report::state::State;
use crate::store::triage::TriageRow;

pub struct Tracker {
    pub policy: Policy,
    pub cal: Calendar,
    pub now: Timestamp,
}

impl Tracker {
    pub fn new(cfg: &Config, now: Timestamp) -> anyhow::Result<Tracker> {
        let policy = cfg.policy();
        let cal = Calendar::of(&policy).map_err(|e| user_err(format!("{e} (fix [policy] in the config)")))?;
        Ok(Tracker { policy, cal, now })
    }

    /// Every deadline of one report.
    pub fn deadlines(&self, received: Option<&str>, claimed: Option<&str>, row: &TriageRow) -> Vec<Due> {
        let state: State = row.state.parse().unwrap_or(State::New);
        let m = Milestones::of(received, row.acknowledged_at.as_deref(), &row.triage);
        let sev = deadline::applicable_severity(row.severity.as_deref(), claimed);
        deadline::deadlines(&self.policy, &self.cal, sev, state, &m, self.now)
    }

    /// Fill a report record's `deadlines` (and the detailed extension).
    pub fn fill(&self, r: &mut Report) {
        let row = TriageRow {
            state: r.state.clone(),
            severity: r.severity.clone(),
            acknowledged_at: r.acknowledged_at.clone(),
            triage: r.triage.clone(),
        };
        let d = self.deadlines(r.received_at.as_deref(), r.fields.severity.as_deref(), &row);
        for x in &d {
            let slot = match x.kind {
                "acknowledge" => &mut r.deadlines.acknowledge,
                "triage" => &mut r.deadlines.triage,
                "fix" => &mut r.deadlines.fix,
                _ => &mut r.deadlines.disclose,
            };
            *slot = x.due.clone();
        }
        r.deadline_status = d;
    }
}
