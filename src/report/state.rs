//! The triage states a report moves through, and which moves are allowed.
//!
//! Modelled on GitHub security advisories, HackerOne and RTIR: a report is
//! received (`new`), answered (`acknowledged`), possibly sent back for more
//! information (`needs-info`), confirmed (`triaged`), worked on (`fixing`),
//! `fixed`, and finally `disclosed`; or it is closed with a reason
//! (`duplicate` of another report, `invalid`, `informative`, `out-of-scope`,
//! `wont-fix`). A closed report can be reopened into triage.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    New,
    Acknowledged,
    NeedsInfo,
    Triaged,
    Fixing,
    Fixed,
    Disclosed,
    Duplicate,
    Invalid,
    Informative,
    OutOfScope,
    WontFix,
}

use State::*;

/// Every state, in the order of the process.
pub const ALL: [State; 12] = [
    New,
    Acknowledged,
    NeedsInfo,
    Triaged,
    Fixing,
    Fixed,
    Disclosed,
    Duplicate,
    Invalid,
    Informative,
    OutOfScope,
    WontFix,
];

const CLOSED: [State; 5] = [Duplicate, Invalid, Informative, OutOfScope, WontFix];

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            New => "new",
            Acknowledged => "acknowledged",
            NeedsInfo => "needs-info",
            Triaged => "triaged",
            Fixing => "fixing",
            Fixed => "fixed",
            Disclosed => "disclosed",
            Duplicate => "duplicate",
            Invalid => "invalid",
            Informative => "informative",
            OutOfScope => "out-of-scope",
            WontFix => "wont-fix",
        }
    }

    /// Closed with a reason: no deadline runs any more.
    pub fn is_closed(self) -> bool {
        CLOSED.contains(&self)
    }

    /// No further deadline applies (closed, or the whole process is done).
    pub fn is_finished(self) -> bool {
        self.is_closed() || self == Disclosed
    }

    /// The report has had its first response.
    pub fn is_acknowledged(self) -> bool {
        self != New
    }

    /// The team has confirmed the report (or got past that point).
    pub fn is_triaged(self) -> bool {
        matches!(self, Triaged | Fixing | Fixed | Disclosed)
    }

    pub fn is_fixed(self) -> bool {
        matches!(self, Fixed | Disclosed)
    }

    /// The states a report in this state may move to.
    pub fn next(self) -> Vec<State> {
        let mut v: Vec<State> = match self {
            New => vec![Acknowledged, NeedsInfo, Triaged],
            Acknowledged => vec![NeedsInfo, Triaged],
            NeedsInfo => vec![Acknowledged, Triaged],
            Triaged => vec![NeedsInfo, Fixing, Fixed],
            Fixing => vec![Triaged, NeedsInfo, Fixed],
            // A fix that turns out incomplete goes back to work.
            Fixed => vec![Fixing, Disclosed],
            Disclosed => vec![],
            // Reopening: back into the process.
            Duplicate | Invalid | Informative | OutOfScope | WontFix => vec![Acknowledged, Triaged],
        };
        match self {
            New | Acknowledged | NeedsInfo | Triaged => v.extend(CLOSED),
            Fixing => v.push(WontFix),
            _ => {}
        }
        v
    }

    pub fn may_become(self, to: State) -> bool {
        self.next().contains(&to)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown state {0:?}; the states are: {list}", list = names(&ALL))]
pub struct UnknownState(pub String);

impl FromStr for State {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The stored names, without allocating: read for every report listed.
        if let Some(st) = ALL.into_iter().find(|st| st.as_str() == s) {
            return Ok(st);
        }
        let k = s.trim().to_ascii_lowercase().replace('_', "-");
        let k = match k.as_str() {
            "confirmed" => "triaged",
            "wontfix" => "wont-fix",
            "needinfo" | "needs-information" => "needs-info",
            "out-of-scope" | "outofscope" | "oos" => "out-of-scope",
            "not-applicable" | "na" => "out-of-scope",
            other => other,
        }
        .to_string();
        ALL.into_iter().find(|st| st.as_str() == k).ok_or_else(|| UnknownState(s.to_string()))
    }
}

/// "a, b or c", for error messages.
pub fn names(states: &[State]) -> String {
    let v: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    match v.len() {
        0 => "none".into(),
        1 => v[0].into(),
        n => format!("{} or {}", v[..n - 1].join(", "), v[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in ALL {
            assert_eq!(s.as_str().parse::<State>().unwrap(), s);
        }
        assert_eq!("Confirmed".parse::<State>().unwrap(), Triaged);
        assert!("done".parse::<State>().unwrap_err().to_string().contains("needs-info"));
    }

    /// The whole table, written out: each row is a state and the states it may
    /// become (C = every closing state).
    #[test]
    fn every_transition_is_allowed_or_refused_as_specified() {
        let table: [(&str, &str); 12] = [
            ("new", "acknowledged needs-info triaged C"),
            ("acknowledged", "needs-info triaged C"),
            ("needs-info", "acknowledged triaged C"),
            ("triaged", "needs-info fixing fixed C"),
            ("fixing", "triaged needs-info fixed wont-fix"),
            ("fixed", "fixing disclosed"),
            ("disclosed", ""),
            ("duplicate", "acknowledged triaged"),
            ("invalid", "acknowledged triaged"),
            ("informative", "acknowledged triaged"),
            ("out-of-scope", "acknowledged triaged"),
            ("wont-fix", "acknowledged triaged"),
        ];
        for (from, to) in table {
            let from: State = from.parse().unwrap();
            let allowed: Vec<State> = to
                .split_whitespace()
                .flat_map(|w| if w == "C" { CLOSED.to_vec() } else { vec![w.parse().unwrap()] })
                .collect();
            for to in ALL {
                assert_eq!(from.may_become(to), allowed.contains(&to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn the_process_is_reachable_and_closed_states_reopen() {
        assert!(New.may_become(Acknowledged));
        assert!(Fixed.may_become(Disclosed));
        assert!(!New.may_become(Disclosed));
        assert!(!Disclosed.may_become(New));
        assert!(WontFix.may_become(Triaged));
        assert!(!Fixed.may_become(Duplicate));
        for s in ALL {
            assert!(!s.may_become(s), "{s} to itself");
        }
    }
}
