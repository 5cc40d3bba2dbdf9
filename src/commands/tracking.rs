//! The deadlines of reports under the team's policy: shared by list, show, due,
//! stats and ack.

use jiff::Timestamp;

use crate::config::Config;
use crate::error::user_err;
use crate::report::deadline::{self, Calendar, Due, Milestones, Schedule};
use crate::report::model::Report;
use crate::report::policy::Policy;
use crate::report::state::State;
use crate::store::triage::ListRowRef;

pub struct Tracker {
    pub policy: Policy,
    pub schedule: Schedule,
    pub cal: Calendar,
    pub now: Timestamp,
}

impl Tracker {
    pub fn new(cfg: &Config, now: Timestamp) -> anyhow::Result<Tracker> {
        let policy = cfg.policy();
        let cal = Calendar::of(&policy).map_err(|e| user_err(format!("{e} (fix [policy] in the config)")))?;
        Ok(Tracker { schedule: Schedule::of(&policy), policy, cal, now })
    }

    /// Every deadline of one report.
    pub fn deadlines(&self, state: State, team: Option<&str>, claimed: Option<&str>, m: &Milestones) -> Vec<Due> {
        let sev = deadline::applicable_severity(team, claimed);
        deadline::deadlines(&self.schedule, &self.cal, sev, state, m, self.now)
    }

    /// The deadlines of a listing row.
    pub fn of_row(&self, r: &ListRowRef<'_>) -> Vec<Due> {
        self.each_of_row(r).collect()
    }

    /// The deadlines of a listing row one by one, without collecting them.
    pub fn each_of_row<'a>(&'a self, r: &'a ListRowRef<'_>) -> impl Iterator<Item = Due> + 'a {
        let sev = deadline::applicable_severity(r.severity, r.claimed);
        deadline::each(&self.schedule, &self.cal, sev, r.state, &r.milestones, self.now)
    }

    /// Fill a report record's `deadlines` (and the detailed extension).
    pub fn fill(&self, r: &mut Report) {
        let m = Milestones::of(r.received_at.as_deref(), r.acknowledged_at.as_deref(), &r.triage);
        let state = r.state.parse().unwrap_or(State::New);
        let d = self.deadlines(state, r.severity.as_deref(), r.fields.severity.as_deref(), &m);
        for x in &d {
            let slot = match x.kind {
                "acknowledge" => &mut r.deadlines.acknowledge,
                "triage" => &mut r.deadlines.triage,
                "fix" => &mut r.deadlines.fix,
                _ => &mut r.deadlines.disclose,
            };
            *slot = x.due();
        }
        r.deadline_status = d;
    }
}
