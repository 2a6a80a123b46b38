//! Job arrays as a whole: fold the lines of an array's tasks into one
//! observation keyed by the array's own id (the id the submit command returned).
//!
//! The folding knows nothing about a scheduler's id syntax: a parser tells it
//! which array a line belongs to, the first task number and how many tasks the
//! line stands for (a collapsed line like Slurm's `49_[2-5]` stands for four).

use std::sync::Arc;

use super::{IdMap, Snapshot};
use crate::model::{Observation, ObservationRef, Timestamp};
use crate::state::JobState;

/// One line's worth of tasks of one array.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tasks<'a> {
    /// The array's id (`49` for `49_1`).
    pub array_id: &'a str,
    /// The lowest task number on the line, if it could be read.
    pub first: Option<u64>,
    /// How many tasks the line stands for (at least 1).
    pub count: u64,
}

/// The tasks with the aggregate's outcome that come first by task number.
#[derive(Debug, Clone)]
struct First {
    task: Option<u64>,
    exit_code: Option<i64>,
    exit_signal: Option<i64>,
}

#[derive(Debug, Default)]
struct Tally {
    total: u64,
    /// Task counts by [`JobState::index`]; unmapped native states counted apart.
    by_state: [u64; JobState::ALL.len()],
    unknown: u64,
    first: [Option<First>; JobState::ALL.len()],
    queued_reason: Option<String>,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
    submit_time: Option<Timestamp>,
    name: Option<String>,
    user: Option<Arc<str>>,
    partition: Option<Arc<str>>,
}

/// The arrays seen while parsing one output, folded at [`Arrays::finish`].
#[derive(Debug, Default)]
pub(crate) struct Arrays {
    tally: IdMap<Tally>,
}

fn min_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

impl Arrays {
    pub fn is_empty(&self) -> bool {
        self.tally.is_empty()
    }

    /// Count a line of `tasks` observed as `obs` (`obs.state == None`: a native
    /// state without mapping, which keeps the aggregate from being decided).
    pub fn feed(&mut self, snap: &mut Snapshot, tasks: Tasks<'_>, obs: ObservationRef<'_>) {
        let t = match self.tally.get_mut(tasks.array_id) {
            Some(t) => t,
            None => {
                // The aggregate's entry, reserved at first sight so that it
                // sits where the array was first seen.
                snap.insert_ref(tasks.array_id, ObservationRef::default());
                snap.mark_array(tasks.array_id);
                self.tally
                    .entry(tasks.array_id.to_owned())
                    .or_insert(Tally {
                        name: obs.name.map(str::to_owned),
                        user: obs.user.map(Arc::from),
                        partition: obs.partition.map(Arc::from),
                        ..Tally::default()
                    })
            }
        };
        let count = tasks.count.max(1);
        t.total = t.total.saturating_add(count);
        t.submit_time = min_time(t.submit_time, obs.submit_time);
        let Some(state) = obs.state else {
            t.unknown = t.unknown.saturating_add(count);
            return;
        };
        let i = state.index();
        t.by_state[i] = t.by_state[i].saturating_add(count);
        t.started_at = min_time(t.started_at, obs.started_at);
        t.finished_at = max_time(t.finished_at, obs.finished_at);
        if state == JobState::Queued && t.queued_reason.is_none() {
            t.queued_reason = obs.reason.map(str::to_owned);
        }
        // Lowest task number wins; an unreadable one sorts last.
        let key = tasks.first.unwrap_or(u64::MAX);
        let better = t.first[i]
            .as_ref()
            .map_or(true, |f| key < f.task.unwrap_or(u64::MAX));
        if better {
            t.first[i] = Some(First {
                task: tasks.first,
                exit_code: obs.exit_code,
                exit_signal: obs.exit_signal,
            });
        }
    }

    /// Write every array's aggregate observation into its reserved entry.
    pub fn finish(self, snap: &mut Snapshot) {
        for (array_id, t) in self.tally {
            snap.insert(array_id, aggregate(t));
        }
    }
}

/// Outcomes of finished tasks, worst first: the array ends as the worst one.
const WORST_FIRST: [JobState; 6] = [
    JobState::Failed,
    JobState::OutOfMemory,
    JobState::TimedOut,
    JobState::Cancelled,
    JobState::Lost,
    JobState::Succeeded,
];

fn aggregate(t: Tally) -> Observation {
    let n = |s: JobState| t.by_state[s.index()];
    let live = n(JobState::Running) + n(JobState::Queued) + n(JobState::Submitted);
    let state = if n(JobState::Running) > 0 {
        Some(JobState::Running)
    } else if live > 0 {
        Some(JobState::Queued)
    } else if t.unknown > 0 {
        None
    } else {
        WORST_FIRST.into_iter().find(|&s| n(s) > 0)
    };
    let mut obs = Observation {
        state,
        raw_state: raw_summary(&t).into(),
        submit_time: t.submit_time,
        started_at: t.started_at,
        name: t.name.clone(),
        user: t.user.clone(),
        partition: t.partition.clone(),
        ..Observation::default()
    };
    match state {
        Some(JobState::Queued) => obs.reason.clone_from(&t.queued_reason),
        Some(s) if s.is_terminal() => {
            let first = t.first[s.index()].clone();
            obs.finished_at = t.finished_at;
            obs.exit_code = first.as_ref().and_then(|f| f.exit_code);
            obs.exit_signal = first.as_ref().and_then(|f| f.exit_signal);
            if s != JobState::Succeeded {
                obs.reason = Some(outcome_reason(&t, s, first.as_ref()));
            }
        }
        _ => {}
    }
    obs
}

/// "3 of 4 array tasks failed, 1 cancelled (first: task 1, exit 5)".
fn outcome_reason(t: &Tally, worst: JobState, first: Option<&First>) -> String {
    let word = |s: JobState| match s {
        JobState::Failed => "failed",
        JobState::TimedOut => "timed out",
        JobState::OutOfMemory => "ran out of memory",
        JobState::Cancelled => "cancelled",
        _ => "lost",
    };
    let mut text = format!(
        "{} of {} array tasks {}",
        t.by_state[worst.index()],
        t.total,
        word(worst)
    );
    let unsuccessful = &WORST_FIRST[..WORST_FIRST.len() - 1];
    for s in unsuccessful.iter().filter(|&&s| s != worst) {
        let k = t.by_state[s.index()];
        if k > 0 {
            text.push_str(&format!(", {k} {}", word(*s)));
        }
    }
    if let Some(task) = first.and_then(|f| f.task) {
        text.push_str(&format!(" (first: task {task}"));
        let f = first.expect("task comes from first");
        match (worst, f.exit_signal, f.exit_code) {
            (JobState::Failed, Some(sig), _) if sig != 0 => {
                text.push_str(&format!(", {}", super::signal_text(sig)));
            }
            (JobState::Failed, _, Some(code)) => text.push_str(&format!(", exit {code}")),
            _ => {}
        }
        text.push(')');
    }
    text
}

/// "array: 1 running, 4 queued" (molq states, for diagnostics).
fn raw_summary(t: &Tally) -> String {
    let mut text = String::from("array:");
    let mut sep = " ";
    for s in JobState::ALL {
        let k = t.by_state[s.index()];
        if k > 0 {
            text.push_str(&format!("{sep}{k} {s}"));
            sep = ", ";
        }
    }
    if t.unknown > 0 {
        text.push_str(&format!("{sep}{} in unknown states", t.unknown));
    }
    text
}

/// First task number and task count of a collapsed task list such as
/// `2-5`, `3-10%2` (at most 2 at once), `1,3,5-7` or `1-9:2` (every second).
/// `None` if it cannot be read.
pub(crate) fn task_range(list: &str) -> Option<(u64, u64)> {
    let list = list.split('%').next().unwrap_or(list);
    let mut first = u64::MAX;
    let mut count: u64 = 0;
    for part in list.split(',') {
        let (range, step) = match part.split_once(':') {
            Some((r, s)) => (r, s.parse::<u64>().ok().filter(|&s| s > 0)?),
            None => (part, 1),
        };
        let (lo, hi) = match range.split_once('-') {
            Some((lo, hi)) => (lo.parse::<u64>().ok()?, hi.parse::<u64>().ok()?),
            None => {
                let v = range.parse::<u64>().ok()?;
                (v, v)
            }
        };
        if hi < lo {
            return None;
        }
        first = first.min(lo);
        count = count.saturating_add(((hi - lo) / step).saturating_add(1));
    }
    Some((first, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ranges() {
        assert_eq!(task_range("2-5"), Some((2, 4)));
        assert_eq!(task_range("3-10%2"), Some((3, 8)));
        assert_eq!(task_range("7,1,3-4"), Some((1, 4)));
        assert_eq!(task_range("1-9:2"), Some((1, 5)));
        assert_eq!(task_range("4"), Some((4, 1)));
        for bad in ["", "5-2", "a-b", "1-", "1-4:0", "1,,2"] {
            assert_eq!(task_range(bad), None, "{bad}");
        }
        assert_eq!(
            task_range(&format!("0-{}", u64::MAX)),
            Some((0, u64::MAX)),
            "saturates"
        );
    }

    fn task(state: JobState, code: Option<i64>, sig: Option<i64>) -> Observation {
        Observation {
            exit_code: code,
            exit_signal: sig,
            ..Observation::of(state)
        }
    }

    fn fold(lines: &[(Option<u64>, u64, Observation)]) -> Observation {
        let mut snap = Snapshot::new();
        let mut arrays = Arrays::default();
        for (first, count, obs) in lines {
            let tasks = Tasks {
                array_id: "7",
                first: *first,
                count: *count,
            };
            arrays.feed(&mut snap, tasks, obs.view());
        }
        arrays.finish(&mut snap);
        snap.get("7").unwrap().to_observation()
    }

    #[test]
    fn live_tasks_decide_first() {
        use JobState::*;
        let a = fold(&[
            (Some(1), 1, task(Failed, Some(1), Some(0))),
            (Some(2), 1, task(Running, None, None)),
            (Some(3), 3, task(Queued, None, None)),
        ]);
        assert_eq!(a.state, Some(Running));
        assert_eq!(a.exit_code, None);
        assert_eq!(a.raw_state, "array: 3 queued, 1 running, 1 failed");
        let a = fold(&[
            (Some(1), 1, task(Succeeded, Some(0), Some(0))),
            (Some(2), 4, task(Queued, None, None)),
        ]);
        assert_eq!(a.state, Some(Queued));
        let mut odd = task(Queued, None, None);
        odd.state = None;
        let a = fold(&[
            (Some(1), 1, task(Succeeded, Some(0), Some(0))),
            (Some(2), 1, odd),
        ]);
        assert_eq!(
            a.state, None,
            "an unmapped task state leaves the array undecided"
        );
    }

    #[test]
    fn finished_arrays_take_the_worst_outcome() {
        use JobState::*;
        let a = fold(&[
            (Some(2), 1, task(Succeeded, Some(0), Some(0))),
            (Some(3), 1, task(Failed, Some(5), Some(0))),
            (Some(1), 1, task(Failed, Some(7), Some(0))),
            (Some(4), 1, task(Cancelled, Some(0), Some(0))),
        ]);
        assert_eq!(a.state, Some(Failed));
        assert_eq!(a.exit_code, Some(7));
        assert_eq!(
            a.reason.as_deref(),
            Some("2 of 4 array tasks failed, 1 cancelled (first: task 1, exit 7)")
        );
        let a = fold(&[
            (Some(1), 1, task(TimedOut, Some(0), Some(0))),
            (Some(2), 1, task(Failed, Some(0), Some(9))),
        ]);
        assert_eq!(
            a.reason.as_deref(),
            Some("1 of 2 array tasks failed, 1 timed out (first: task 2, killed by signal 9 (SIGKILL))")
        );
        let a = fold(&[
            (Some(1), 1, task(TimedOut, Some(0), Some(0))),
            (Some(2), 4, task(Cancelled, Some(0), Some(0))),
        ]);
        assert_eq!(a.state, Some(TimedOut));
        assert_eq!(
            a.reason.as_deref(),
            Some("1 of 5 array tasks timed out, 4 cancelled (first: task 1)")
        );
        let a = fold(&[
            (Some(1), 1, task(TimedOut, Some(0), Some(0))),
            (Some(2), 1, task(OutOfMemory, Some(137), Some(9))),
            (Some(3), 1, task(Succeeded, Some(0), Some(0))),
        ]);
        assert_eq!(a.state, Some(OutOfMemory), "worse than a timeout");
        assert_eq!(
            a.reason.as_deref(),
            Some("1 of 3 array tasks ran out of memory, 1 timed out (first: task 2)")
        );
        let a = fold(&[
            (Some(1), 1, task(OutOfMemory, Some(137), Some(9))),
            (Some(2), 1, task(Failed, Some(3), Some(0))),
        ]);
        assert_eq!(
            a.reason.as_deref(),
            Some("1 of 2 array tasks failed, 1 ran out of memory (first: task 2, exit 3)")
        );
        let a = fold(&[
            (Some(1), 1, task(Succeeded, Some(0), Some(0))),
            (Some(2), 1, task(Succeeded, Some(0), Some(0))),
        ]);
        assert_eq!(
            (a.state, a.exit_code, a.reason),
            (Some(Succeeded), Some(0), None)
        );
    }
}
