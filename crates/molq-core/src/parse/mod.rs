//! Scheduler output in, [`Snapshot`]s out.
//!
//! Every parser decodes bytes lossily and works line by line: a line it cannot
//! use lands in [`Snapshot::skipped`] with a reason and never costs the others.
//! Only input that is unusable as a whole (or an unknown kind) is an error.

pub mod shell;

use std::collections::HashMap;
use std::fmt;

use crate::error::{Error, Result};
use crate::model::{Observation, Timestamp};
use crate::state::JobState;

/// The output formats the core can read. New schedulers slot in here and in the
/// three dispatch functions below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchedulerKind {
    /// The local backend's status lines (see [`shell`]).
    Shell,
}

impl SchedulerKind {
    /// The kind named `name` (`"shell"`...).
    pub fn parse(name: &str) -> Result<SchedulerKind> {
        match name {
            "shell" => Ok(SchedulerKind::Shell),
            other => Err(Error::parse(
                other,
                format!("unknown scheduler output kind {other:?} (known: shell)"),
            )),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            SchedulerKind::Shell => "shell",
        }
    }
}

impl fmt::Display for SchedulerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parse a queue listing.
pub fn parse_queue(kind: SchedulerKind, data: &[u8]) -> Result<Snapshot> {
    match kind {
        SchedulerKind::Shell => Ok(shell::parse_status(data)),
    }
}

/// Parse accounting output (finished jobs with exit codes).
pub fn parse_accounting(kind: SchedulerKind, _data: &[u8]) -> Result<Snapshot> {
    match kind {
        SchedulerKind::Shell => Err(Error::parse(
            kind.as_str(),
            "the shell backend has no accounting output (its status lines carry exit codes)",
        )),
    }
}

/// The scheduler's id for a job, from its submit command's stdout.
pub fn parse_submit_id(kind: SchedulerKind, data: &[u8]) -> Result<String> {
    match kind {
        SchedulerKind::Shell => shell::parse_submit_id(data),
    }
}

/// A line a parser could not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: String,
    pub reason: String,
}

/// Parsed scheduler evidence: one [`Observation`] per scheduler job id, in the
/// order first seen, plus the lines that were skipped.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    entries: Vec<(String, Observation)>,
    index: HashMap<String, usize>,
    /// Lines the parser could not use.
    pub skipped: Vec<Skipped>,
}

impl Snapshot {
    pub fn new() -> Self {
        Snapshot::default()
    }

    /// A snapshot of the given observations (a later duplicate id replaces an earlier one).
    pub fn from_observations(rows: impl IntoIterator<Item = (String, Observation)>) -> Self {
        let mut snap = Snapshot::new();
        for (id, obs) in rows {
            snap.insert(id, obs);
        }
        snap
    }

    /// Add or replace the observation for `scheduler_job_id`.
    pub fn insert(&mut self, scheduler_job_id: String, obs: Observation) {
        match self.index.get(&scheduler_job_id) {
            Some(&i) => self.entries[i].1 = obs,
            None => {
                self.index
                    .insert(scheduler_job_id.clone(), self.entries.len());
                self.entries.push((scheduler_job_id, obs));
            }
        }
    }

    pub fn get(&self, scheduler_job_id: &str) -> Option<&Observation> {
        self.index
            .get(scheduler_job_id)
            .map(|&i| &self.entries[i].1)
    }

    pub fn contains(&self, scheduler_job_id: &str) -> bool {
        self.index.contains_key(scheduler_job_id)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The given ids that have no observation here, in the given order.
    pub fn missing<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        ids.into_iter().filter(|id| !self.contains(id)).collect()
    }

    /// scheduler id -> observed state, in snapshot order.
    pub fn states(&self) -> impl Iterator<Item = (&str, JobState)> {
        self.entries
            .iter()
            .map(|(id, o)| (id.as_str(), o.job_state()))
    }

    /// Every (scheduler id, observation), in snapshot order.
    pub fn entries(&self) -> &[(String, Observation)] {
        &self.entries
    }

    /// Both sets of observations (`other` wins on clashes) and both skip lists.
    pub fn merged(&self, other: &Snapshot) -> Snapshot {
        let mut out = self.clone();
        for (id, obs) in &other.entries {
            out.insert(id.clone(), obs.clone());
        }
        out.skipped.extend(other.skipped.iter().cloned());
        out
    }

    pub(crate) fn skip(&mut self, line: &str, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            line: line.to_owned(),
            reason: reason.into(),
        });
    }
}

/// Lines of lossily decoded text, without line ends, blank ones dropped.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
}

/// An empty field is `None`; otherwise a finite float or an error reason.
pub(crate) fn opt_time(field: &str, what: &str) -> std::result::Result<Option<Timestamp>, String> {
    let field = field.trim();
    if field.is_empty() {
        return Ok(None);
    }
    match field.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(format!("{what} {field:?} is not a number of seconds")),
    }
}

/// An empty field is `None`; otherwise an integer or an error reason.
pub(crate) fn opt_int(field: &str, what: &str) -> std::result::Result<Option<i64>, String> {
    let field = field.trim();
    if field.is_empty() {
        return Ok(None);
    }
    field
        .parse::<i64>()
        .map(Some)
        .map_err(|_| format!("{what} {field:?} is not an integer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kind_is_named() {
        let err = SchedulerKind::parse("slurmish").unwrap_err().to_string();
        assert!(err.contains("slurmish"), "{err}");
    }

    #[test]
    fn accounting_is_not_there_yet() {
        assert!(matches!(
            parse_accounting(SchedulerKind::Shell, b""),
            Err(Error::Parse { .. })
        ));
    }

    #[test]
    fn snapshot_insert_merge_missing() {
        let a = Snapshot::from_observations([
            ("1".to_string(), Observation::of(JobState::Running)),
            ("2".to_string(), Observation::of(JobState::Queued)),
        ]);
        let b = Snapshot::from_observations([
            ("2".to_string(), Observation::of(JobState::Failed)),
            ("3".to_string(), Observation::of(JobState::Succeeded)),
        ]);
        let m = a.merged(&b);
        assert_eq!(m.len(), 3);
        assert_eq!(m.get("2").and_then(|o| o.state), Some(JobState::Failed));
        let ids: Vec<_> = m.states().map(|(id, _)| id.to_owned()).collect();
        assert_eq!(ids, ["1", "2", "3"]);
        assert_eq!(m.missing(["4", "1", "5"]), ["4", "5"]);
        assert_eq!(a.len(), 2, "merging leaves the inputs alone");
    }
}
