//! Scheduler output in, [`Snapshot`]s out.
//!
//! Every parser decodes bytes lossily and works line by line: a line it cannot
//! use lands in [`Snapshot::skipped`] with a reason and never costs the others.
//! Only input that is unusable as a whole (or an unknown kind) is an error.

mod array;
mod ids;
mod json;
pub mod lsf;
mod lsf_bhist;
mod names;
pub mod pbs;
mod pbs_trace;
pub mod sge;
pub mod shell;
pub mod slurm;
mod when;
mod xml;

use std::fmt;

use crate::error::{Error, Result};
use crate::model::{Observation, Timestamp};
use crate::state::JobState;
use ids::IdIndex;
pub(crate) use ids::IdMap;

/// The output formats the core can read. New schedulers slot in here and in the
/// three dispatch functions below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchedulerKind {
    /// The local backend's status lines (see [`shell`]).
    Shell,
    /// squeue, sacct and sbatch output in the formats of [`slurm`].
    Slurm,
    /// Grid Engine's qstat -xml, qacct -j and qsub -terse output (see [`sge`]).
    Sge,
    /// PBS Pro / OpenPBS and Torque: qstat (table, -f, -F json), tracejob, qsub (see [`pbs`]).
    Pbs,
    /// IBM Spectrum LSF: bjobs (-o delimited, -json), bhist -l, bsub (see [`lsf`]).
    Lsf,
}

impl SchedulerKind {
    /// The kind named `name` (`"shell"`...).
    pub fn parse(name: &str) -> Result<SchedulerKind> {
        match name {
            "shell" => Ok(SchedulerKind::Shell),
            "slurm" => Ok(SchedulerKind::Slurm),
            "sge" => Ok(SchedulerKind::Sge),
            "pbs" => Ok(SchedulerKind::Pbs),
            "lsf" => Ok(SchedulerKind::Lsf),
            other => Err(Error::parse(
                other,
                format!(
                    "unknown scheduler output kind {other:?} (known: shell, slurm, sge, pbs, lsf)"
                ),
            )),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            SchedulerKind::Shell => "shell",
            SchedulerKind::Slurm => "slurm",
            SchedulerKind::Sge => "sge",
            SchedulerKind::Pbs => "pbs",
            SchedulerKind::Lsf => "lsf",
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
        SchedulerKind::Slurm => Ok(slurm::parse_squeue(data)),
        SchedulerKind::Sge => sge::parse_qstat_xml(data),
        SchedulerKind::Pbs => pbs::parse(data),
        SchedulerKind::Lsf => lsf::parse(data),
    }
}

/// Parse accounting output (finished jobs with exit codes).
pub fn parse_accounting(kind: SchedulerKind, data: &[u8]) -> Result<Snapshot> {
    match kind {
        SchedulerKind::Shell => Err(Error::parse(
            kind.as_str(),
            "the shell backend has no accounting output (its status lines carry exit codes)",
        )),
        SchedulerKind::Slurm => Ok(slurm::parse_sacct(data)),
        SchedulerKind::Sge => Ok(sge::parse_qacct(data)),
        // the same formats: qstat -x for history, tracejob as a last resort
        SchedulerKind::Pbs => pbs::parse(data),
        // bjobs for recently finished jobs, bhist -l for older ones
        SchedulerKind::Lsf => lsf::parse(data),
    }
}

/// The scheduler's id for a job, from its submit command's stdout.
pub fn parse_submit_id(kind: SchedulerKind, data: &[u8]) -> Result<String> {
    match kind {
        SchedulerKind::Shell => shell::parse_submit_id(data),
        SchedulerKind::Slurm => slurm::parse_sbatch_id(data),
        SchedulerKind::Sge => sge::parse_qsub_id(data),
        SchedulerKind::Pbs => pbs::parse_qsub_id(data),
        SchedulerKind::Lsf => lsf::parse_bsub_id(data),
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
///
/// A job array is observed twice over: each task under its own id (`49_1`),
/// and the array as a whole under the array's id (`49`), which is the id the
/// submit command returned and so the one the store tracks.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    entries: Vec<(String, Observation)>,
    index: IdIndex,
    /// array id -> (task id, entry index) of its tasks, in the order seen.
    tasks: IdMap<Vec<(String, usize)>>,
    /// Ids whose observation is a whole array, folded from its tasks' lines.
    arrays: IdMap<()>,
    /// Lines the parser could not use.
    pub skipped: Vec<Skipped>,
    /// Entries from this position on are not indexed yet (see [`Snapshot::defer_index`]).
    unindexed: Option<usize>,
}

impl Snapshot {
    pub fn new() -> Self {
        Snapshot::default()
    }

    /// An empty snapshot with room for `n` observations.
    pub fn with_capacity(n: usize) -> Self {
        Snapshot {
            entries: Vec::with_capacity(n),
            index: IdIndex::with_capacity(n),
            ..Snapshot::default()
        }
    }

    /// A snapshot of the given observations (a later duplicate id replaces an earlier one).
    pub fn from_observations(rows: impl IntoIterator<Item = (String, Observation)>) -> Self {
        let mut snap = Snapshot::new();
        for (id, obs) in rows {
            snap.insert(id, obs);
        }
        snap
    }

    /// Add or replace the observation for `scheduler_job_id`; returns its position.
    pub fn insert(&mut self, scheduler_job_id: String, obs: Observation) -> usize {
        let entries = &self.entries;
        let next = entries.len();
        if self.unindexed.is_some() {
            self.entries.push((scheduler_job_id, obs));
            return next;
        }
        let i = self
            .index
            .insert(&scheduler_job_id, next, |i| entries[i].0.as_str());
        if i == next {
            self.entries.push((scheduler_job_id, obs));
        } else {
            self.entries[i].1 = obs;
        }
        i
    }

    /// Add or replace the observation of task `task_id` of array `array_id`,
    /// stored under the scheduler's own id for the task (`key`, e.g. `49_1`).
    pub fn insert_task(&mut self, array_id: &str, task_id: &str, key: String, obs: Observation) {
        let before = self.entries.len();
        let i = self.insert(key, obs);
        if i == before {
            self.tasks
                .entry(array_id.to_owned())
                .or_default()
                .push((task_id.to_owned(), i));
        }
    }

    /// Replace the observation of `scheduler_job_id`, added earlier.
    pub(crate) fn replace(&mut self, scheduler_job_id: &str, obs: Observation) {
        match self.position(scheduler_job_id) {
            Some(i) => self.entries[i].1 = obs,
            None => {
                self.insert(scheduler_job_id.to_owned(), obs);
            }
        }
    }

    /// The tasks observed of array `array_id`, as (task id, observation), in the order seen.
    pub fn array_tasks<'a>(
        &'a self,
        array_id: &str,
    ) -> impl Iterator<Item = (&'a str, &'a Observation)> + 'a {
        self.tasks
            .get(array_id)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|(task, i)| (task.as_str(), &self.entries[*i].1))
    }

    /// Whether any task of array `array_id` was observed.
    pub fn has_tasks(&self, array_id: &str) -> bool {
        self.tasks.contains_key(array_id)
    }

    /// Whether the observation of `id` is a job array's, folded from lines of
    /// its tasks (and not a line that names `id` alone).
    pub fn is_array(&self, id: &str) -> bool {
        self.arrays.contains_key(id)
    }

    /// Record that the observation of `array_id` stands for a whole array.
    pub fn mark_array(&mut self, array_id: &str) {
        if !self.arrays.contains_key(array_id) {
            self.arrays.insert(array_id.to_owned(), ());
        }
    }

    /// From here on, [`Snapshot::insert`] (and so `insert_task`) appends
    /// without looking for the id, until [`Snapshot::index_deferred`]; in
    /// between, nothing may be looked up (and positions returned are final
    /// only if every id was new). A parser that looks nothing up while it
    /// reads uses this to index its ids in one go, which for a large output is
    /// much faster.
    pub(crate) fn defer_index(&mut self) {
        if self.unindexed.is_none() {
            self.unindexed = Some(self.entries.len());
        }
    }

    /// Index the entries added since [`Snapshot::defer_index`], and make the
    /// snapshot what inserting them one by one would have made: an id that
    /// came again keeps its first position and takes its last observation.
    pub(crate) fn index_deferred(&mut self) {
        let Some(from) = self.unindexed.take() else {
            return;
        };
        let entries = &self.entries;
        let mut repeated = self
            .index
            .insert_new(from, entries.len(), |i| entries[i].0.as_str());
        if repeated.is_empty() {
            return;
        }
        // In line order, so the last observation of an id is the one kept.
        repeated.sort_unstable();
        for &(again, first) in &repeated {
            let obs = std::mem::take(&mut self.entries[again].1);
            self.entries[first].1 = obs;
        }
        // New positions of the deferred entries; GONE for the repeats.
        const GONE: u32 = u32::MAX;
        let mut to = vec![0u32; self.entries.len() - from];
        let mut repeats = repeated.iter().map(|&(again, _)| again).peekable();
        let mut next = from;
        for (p, slot) in (from..).zip(to.iter_mut()) {
            if repeats.next_if_eq(&p).is_some() {
                *slot = GONE;
            } else {
                // Below the length of the entries, which are indexed by u32.
                *slot = next as u32;
                next += 1;
            }
        }
        let mut at = to.iter();
        let mut kept = 0;
        self.entries.retain(|_| {
            kept += 1;
            kept <= from || at.next() != Some(&GONE)
        });
        self.index.renumber(from, &to);
        let moved = |p: usize| if p < from { p } else { to[p - from] as usize };
        for tasks in self.tasks.values_mut() {
            // A task seen again was listed on first sight only.
            tasks.retain(|&(_, p)| p < from || to[p - from] != GONE);
            for task in tasks.iter_mut() {
                task.1 = moved(task.1);
            }
        }
    }

    fn position(&self, scheduler_job_id: &str) -> Option<usize> {
        debug_assert!(self.unindexed.is_none(), "looked up before index_deferred");
        let entries = &self.entries;
        self.index.get(scheduler_job_id, |i| entries[i].0.as_str())
    }

    pub fn get(&self, scheduler_job_id: &str) -> Option<&Observation> {
        self.position(scheduler_job_id).map(|i| &self.entries[i].1)
    }

    pub fn contains(&self, scheduler_job_id: &str) -> bool {
        self.position(scheduler_job_id).is_some()
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

    /// The given ids that accounting should be asked about, in the given order:
    /// those with no observation, and those seen finished without an exit code
    /// (a queue listing shows a finished job at most briefly, and never its exit code).
    pub fn needs_accounting<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        ids.into_iter()
            .filter(|id| match self.get(id) {
                None => true,
                Some(o) => o.state.is_some_and(JobState::is_terminal) && o.exit_code.is_none(),
            })
            .collect()
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
        for (array, tasks) in &other.tasks {
            let mut mine = out.tasks.remove(array).unwrap_or_default();
            let seen: std::collections::HashSet<String> =
                mine.iter().map(|(t, _)| t.clone()).collect();
            for (task, i) in tasks {
                if let (false, Some(at)) = (seen.contains(task), out.position(&other.entries[*i].0))
                {
                    mine.push((task.clone(), at));
                }
            }
            out.tasks.insert(array.clone(), mine);
        }
        for array in other.arrays.keys() {
            out.mark_array(array);
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

/// "killed by signal 9 (SIGKILL)": a signal number with its Linux name when common.
pub(crate) fn signal_text(signal: i64) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        _ => return format!("killed by signal {signal}"),
    };
    format!("killed by signal {signal} ({name})")
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
    fn shell_has_no_accounting() {
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

    #[test]
    fn array_tasks_survive_merging() {
        let mut a = Snapshot::new();
        a.insert("9".into(), Observation::of(JobState::Running));
        a.insert_task("9", "1", "9_1".into(), Observation::of(JobState::Running));
        let mut b = Snapshot::new();
        b.insert_task("9", "1", "9_1".into(), Observation::of(JobState::Failed));
        b.insert_task("9", "2", "9_2".into(), Observation::of(JobState::Queued));
        b.insert_task("4", "0", "4_0".into(), Observation::of(JobState::Queued));
        let m = a.merged(&b);
        let tasks: Vec<_> = m.array_tasks("9").map(|(t, o)| (t, o.state)).collect();
        assert_eq!(
            tasks,
            [("1", Some(JobState::Failed)), ("2", Some(JobState::Queued))]
        );
        assert!(m.has_tasks("4") && !m.has_tasks("9_1"));
        let mut c = Snapshot::new();
        c.mark_array("12");
        assert!(m.merged(&c).is_array("12") && c.merged(&m).is_array("12"));
        assert!(!m.is_array("9"), "tasks alone do not make an aggregate");
        assert_eq!(m.array_tasks("nope").count(), 0);
        assert_eq!(m.get("9_2").and_then(|o| o.state), Some(JobState::Queued));
    }
}
