//! The deadlines of reports under the team's policy: shared by list, show, due,
//! stats and ack.

use std::ops::RangeInclusive;

use jiff::Timestamp;

use crate::config::Config;
use crate::error::user_err;
use crate::output::{Output, Piece};
use crate::report::deadline::{self, Calendar, Due, Milestones, Schedule};
use crate::report::model::Report;
use crate::report::policy::Policy;
use crate::report::state::State;
use crate::store::Store;
use crate::store::triage::ListRow;

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
    pub fn of_row(&self, r: &ListRow<'_>) -> Vec<Due> {
        self.each_of_row(r).collect()
    }

    /// The deadlines of a listing row one by one, without collecting them.
    pub fn each_of_row<'a>(&'a self, r: &'a ListRow<'_>) -> impl Iterator<Item = Due> + 'a {
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

/// Work through the listing in parts, a thread a part (as many as there are cores,
/// at most 4, and one part for fewer than 8,000 reports), each part on its own
/// connection: reading and decrypting 50,000 rows is most of what `list` and `due`
/// do. The results come back in storage order; the first part runs on `store`.
/// Each connection reads its own snapshot: a report written while they read is in
/// the listing or not, and a rewritten one keeps its place (the store updates listing
/// rows in place), so nothing shows twice.
pub fn over_listing<T: Send>(
    store: &Store,
    work: impl Fn(&Store, RangeInclusive<i64>) -> anyhow::Result<T> + Sync,
) -> anyhow::Result<Vec<T>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    over_listing_in(store, cores, 4_000, work)
}

/// [`over_listing`] with at most `threads` parts of at least `min` rows.
pub fn over_listing_in<T: Send>(
    store: &Store,
    threads: usize,
    min: i64,
    work: impl Fn(&Store, RangeInclusive<i64>) -> anyhow::Result<T> + Sync,
) -> anyhow::Result<Vec<T>> {
    let parts = if threads > 1 { store.listing_parts(threads, min)? } else { vec![i64::MIN..=i64::MAX] };
    let Some((first, rest)) = parts.split_first() else { return Ok(Vec::new()) };
    std::thread::scope(|s| {
        let work = &work;
        let others: Vec<_> = rest
            .iter()
            .map(|part| {
                let (part, open) = (part.clone(), store.reopener());
                s.spawn(move || -> anyhow::Result<T> { work(&open()?, part) })
            })
            .collect();
        let mut out = vec![work(store, first.clone())?];
        for h in others {
            out.push(h.join().map_err(|_| anyhow::anyhow!("reading the listing failed on a worker thread"))??);
        }
        Ok(out)
    })
}

/// One line of a table written while reading a part of the listing.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    /// The sort key (see [`sort_key`]).
    pub key: u64,
    pub overdue: bool,
    /// Where the line is: in its part's buffer until merged (`buf` 0), then in the
    /// buffer of its part.
    pub text: Piece,
}

/// The lines one part of the listing wrote.
#[derive(Debug, Default)]
pub struct Lines {
    pub buf: String,
    pub lines: Vec<Line>,
}

impl Lines {
    /// Record the line written to `buf` since `start`.
    pub fn push(&mut self, key: u64, overdue: bool, start: usize) {
        self.lines.push(Line { key, overdue, text: Piece::since(0, &self.buf, start) });
    }

    /// Sorted by key, ties in storage order: done in the part's own thread.
    pub fn sorted(mut self) -> Lines {
        self.lines.sort_by_key(|l| l.key);
        self
    }
}

/// The parts' buffers, and all their lines sorted by key with ties in storage order.
pub fn merge_lines(parts: Vec<Lines>) -> (Vec<String>, Vec<Line>) {
    let mut bufs = Vec::with_capacity(parts.len() + 1);
    let mut sorted = Vec::with_capacity(parts.len());
    for (i, mut part) in parts.into_iter().enumerate() {
        // Each part sorts itself in its own thread; one that did not is sorted here.
        if !part.lines.is_sorted_by_key(|l| l.key) {
            part.lines.sort_by_key(|l| l.key);
        }
        sorted.push(part.lines.into_iter().map(|l| Line { text: Piece { buf: i, ..l.text }, ..l }).collect());
        bufs.push(part.buf);
    }
    (bufs, merge_parts(sorted, |l: &Line| l.key))
}

/// A table as output: `head`, the merged lines in order, `foot`.
pub fn table(mut bufs: Vec<String>, lines: &[Line], head: String, foot: String) -> Output {
    let mut order = Vec::with_capacity(lines.len() + 2);
    order.push(Piece::since(bufs.len(), &head, 0));
    order.extend(lines.iter().map(|l| l.text));
    order.push(Piece::since(bufs.len() + 1, &foot, 0));
    bufs.extend([head, foot]);
    Output::pieces(bufs, order)
}

/// A sort key in one number: `group` (0–15) first, then `flag`, then `secs`.
pub fn sort_key(group: usize, flag: bool, secs: i64) -> u64 {
    const HALF: i64 = 1 << 58;
    let secs = (secs.clamp(-HALF, HALF - 1) + HALF) as u64;
    ((group.min(15) as u64) << 60) | (u64::from(flag) << 59) | secs
}

/// Merge parts, each sorted by `key` with ties in storage order, into one list
/// sorted by `key` with ties in storage order (the parts are in storage order).
pub fn merge_parts<T>(parts: Vec<Vec<T>>, key: impl Fn(&T) -> u64) -> Vec<T> {
    let total = parts.iter().map(Vec::len).sum();
    let mut heads: Vec<std::iter::Peekable<std::vec::IntoIter<T>>> =
        parts.into_iter().map(|p| p.into_iter().peekable()).collect();
    let mut out = Vec::with_capacity(total);
    loop {
        // The first part holding the smallest key: earlier parts win ties.
        let mut best: Option<(usize, u64)> = None;
        for (i, h) in heads.iter_mut().enumerate() {
            if let Some(k) = h.peek().map(&key)
                && best.is_none_or(|(_, b)| k < b)
            {
                best = Some((i, k));
            }
        }
        let Some((i, _)) = best else { break };
        out.extend(heads[i].next());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_order_like_their_parts() {
        let keys = [
            (0, false, -5),
            (0, false, 7),
            (0, true, i64::MIN),
            (0, true, i64::MAX),
            (1, false, i64::MIN),
            (9, true, 0),
        ];
        for w in keys.windows(2) {
            assert!(sort_key(w[0].0, w[0].1, w[0].2) < sort_key(w[1].0, w[1].1, w[1].2), "{w:?}");
        }
    }

    /// Read in parts on several threads, the listing is every row once, in storage
    /// order; merged, the parts sort as one list would.
    #[test]
    fn the_listing_read_in_parts_is_the_listing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db"), &[3u8; 32]).unwrap();
        store.insert_test_listing(1_000);
        let all: Vec<(String, Option<String>)> = {
            let mut v = Vec::new();
            store.each_listing(|r| v.push((r.report_id.to_string(), r.title.map(str::to_string)))).unwrap();
            v
        };
        assert_eq!(all.len(), 1_000);
        for threads in [1, 2, 3, 4, 7] {
            let parts = over_listing_in(&store, threads, 100, |st, part| {
                let mut v = Vec::new();
                st.each_listing_in(part, |r| v.push((r.report_id.to_string(), r.title.map(str::to_string)))).unwrap();
                Ok(v)
            })
            .unwrap();
            assert_eq!(parts.len(), threads.min(10), "{threads} threads");
            assert!(parts.iter().all(|p| !p.is_empty()));
            assert_eq!(parts.concat(), all, "{threads} threads");
            // Sorted by a key with many ties, merged parts equal one stable sort.
            let key = |x: &(String, Option<String>)| x.1.as_deref().map_or(0, |t| t.len() as u64 % 7);
            let mut one = all.clone();
            one.sort_by_key(key);
            let sorted = parts
                .into_iter()
                .map(|mut p| {
                    p.sort_by_key(key);
                    p
                })
                .collect();
            assert_eq!(merge_parts(sorted, key), one);
        }
        // Few rows: one part.
        assert_eq!(store.listing_parts(4, 4_000).unwrap().len(), 1);
    }

    #[test]
    fn merged_parts_are_sorted_and_stable() {
        let parts =
            vec![vec![(1, "a"), (3, "b"), (3, "c")], vec![(0, "d"), (3, "e")], vec![], vec![(1, "f"), (9, "g")]];
        let merged: Vec<&str> = merge_parts(parts, |x| x.0).into_iter().map(|x| x.1).collect();
        assert_eq!(merged, ["d", "a", "f", "b", "c", "e", "g"]);
    }
}
