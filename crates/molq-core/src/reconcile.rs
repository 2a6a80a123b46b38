//! The reconcile plan: what a scheduler snapshot means for the jobs we track.
//!
//! [`plan`] is pure: known jobs and evidence in, the changes out. The store
//! applies a plan in one transaction (`JobStore::reconcile`).

use std::collections::HashMap;

use crate::model::{ArrayTask, ObservationRef, Timestamp, Transition};
use crate::parse::Snapshot;
use crate::retry;
use crate::state::JobState;

/// What the store knows about one active job, as far as reconciling needs.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownJob {
    pub job_id: String,
    pub scheduler_job_id: String,
    pub state: JobState,
    pub started_at: Option<Timestamp>,
    pub missing_since: Option<Timestamp>,
    pub missing_count: i64,
    pub attempt: i64,
    pub retry_json: Option<String>,
    /// Known to be a job array (submitted as one, or seen as one). Only an
    /// observation folded from its tasks speaks for it: sacct prints a
    /// just-finished array for a few seconds as one plain line (its last task
    /// under the array's id), which would pass for the outcome of the whole.
    pub array: bool,
    /// Tasks of the array stored in a live state: accounting that does not
    /// show them finished is not yet the array's outcome (sacct records the
    /// tasks one by one, so it can list all but one as finished).
    pub open_tasks: Vec<String>,
    /// Task ids stored as finished (an array's tasks seen end in earlier cycles).
    pub done_tasks: Vec<String>,
    /// How many tasks the array was submitted with, when its spec could be
    /// read: the whole array ends only once that many have finished, since
    /// accounting lists an array's tasks one by one as they are recorded.
    pub array_size: Option<u64>,
}

/// When a job seen neither in the queue nor in accounting is declared lost:
/// after `after_polls` such polls spanning at least `after_seconds`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LostPolicy {
    pub after_seconds: f64,
    pub after_polls: i64,
}

impl Default for LostPolicy {
    fn default() -> Self {
        LostPolicy {
            after_seconds: 60.0,
            after_polls: 3,
        }
    }
}

/// A state change of one job, with the fields it sets.
#[derive(Debug, Clone, PartialEq)]
pub struct JobChange {
    pub job_id: String,
    /// The state the change expects (compare-and-set).
    pub from: JobState,
    pub to: JobState,
    /// Set only if the stored value is empty.
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub exit_code: Option<i64>,
    pub exit_signal: Option<i64>,
    pub failure_reason: Option<String>,
    /// One transition, or two when a fast job skipped `running` between polls.
    pub transitions: Vec<Transition>,
    /// Due time of the next attempt when the retry policy asks for one.
    pub retry_due_at: Option<Timestamp>,
}

/// What the plan does to one job.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The state changes (missing counters reset).
    Change(JobChange),
    /// Not seen anywhere: counted toward lost.
    Missing {
        job_id: String,
        missing_since: Timestamp,
        missing_count: i64,
    },
    /// Seen again after having been missing: the counters reset.
    Found { job_id: String },
}

/// Every action of one cycle, plus the ids that were seen nowhere.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Jobs seen in neither queue nor accounting (including those now lost).
    pub missing: Vec<String>,
    /// (job id, task) for every observed task of the array jobs planned for.
    pub tasks: Vec<(String, ArrayTask)>,
    /// Jobs not known to be arrays until this cycle's evidence showed them as one.
    pub new_arrays: Vec<String>,
}

impl Plan {
    /// Every transition, in order.
    pub fn transitions(&self) -> impl Iterator<Item = &Transition> {
        self.actions.iter().flat_map(|a| match a {
            Action::Change(c) => c.transitions.as_slice(),
            _ => &[],
        })
    }
}

/// Plan one reconcile cycle.
///
/// `accounting: None` means no accounting evidence could be had: jobs absent
/// from the queue are then left untouched (a failed or partial poll never
/// changes a state). Terminal jobs and jobs without a scheduler id are ignored.
pub fn plan(
    known: &[KnownJob],
    queue: &Snapshot,
    accounting: Option<&Snapshot>,
    now: Timestamp,
    lost: LostPolicy,
) -> Plan {
    let mut out = Plan::default();
    for job in known {
        if job.state.is_terminal() || job.scheduler_job_id.is_empty() {
            continue;
        }
        array_tasks(job, queue, accounting, &mut out.tasks);
        let id = job.scheduler_job_id.as_str();
        if !job.array && (queue.is_array(id) || accounting.is_some_and(|a| a.is_array(id))) {
            out.new_arrays.push(job.job_id.clone());
        }
        let seen = evidence(job, queue, accounting);
        if seen.is_some_and(|obs| !settled(job, obs, &out.tasks)) {
            continue; // seen, so not missing; judged once its tasks are in
        }
        match seen {
            Some(obs) => {
                if let Some(change) = change_for(job, obs, now) {
                    out.actions.push(Action::Change(change));
                } else if job.missing_count > 0 || job.missing_since.is_some() {
                    out.actions.push(Action::Found {
                        job_id: job.job_id.clone(),
                    });
                }
            }
            None if accounting.is_none() => {}
            None => {
                out.missing.push(job.job_id.clone());
                out.actions.push(missing_action(job, now, lost));
            }
        }
    }
    out
}

/// The tasks of `job` if it is an array, each on the same evidence rule as a
/// job: the queue's word unless it is terminal or absent and accounting knows more.
fn array_tasks(
    job: &KnownJob,
    queue: &Snapshot,
    accounting: Option<&Snapshot>,
    out: &mut Vec<(String, ArrayTask)>,
) {
    let id = job.scheduler_job_id.as_str();
    let in_accounting = accounting.is_some_and(|a| a.has_tasks(id));
    if !queue.has_tasks(id) && !in_accounting {
        return;
    }
    let mut chosen: Vec<(&str, ObservationRef<'_>)> = queue.array_tasks(id).collect();
    if let (true, Some(acct)) = (in_accounting, accounting) {
        let at: HashMap<&str, usize> = chosen
            .iter()
            .enumerate()
            .map(|(i, (t, _))| (*t, i))
            .collect();
        for (task, obs) in acct.array_tasks(id) {
            match at.get(task) {
                Some(&i) if chosen[i].1.job_state().is_terminal() => chosen[i].1 = obs,
                Some(_) => {}
                None => chosen.push((task, obs)),
            }
        }
    }
    out.extend(
        chosen
            .into_iter()
            .filter_map(|(task, obs)| ArrayTask::observed(task, obs))
            .map(|t| (job.job_id.clone(), t)),
    );
}

/// Whether `obs` may move `job`: an array's finished aggregate counts only once
/// every task stored live was just seen finished, and as many tasks as the
/// array was submitted with are known to have finished.
fn settled(job: &KnownJob, obs: ObservationRef<'_>, tasks: &[(String, ArrayTask)]) -> bool {
    if !obs.job_state().is_terminal() || !job.array {
        return true;
    }
    let finished_now = || {
        tasks
            .iter()
            .rev()
            .take_while(|(id, _)| *id == job.job_id)
            .filter(|(_, t)| t.state.is_terminal())
            .map(|(_, t)| t.task_id.as_str())
    };
    let open_all_finished = job
        .open_tasks
        .iter()
        .all(|open| finished_now().any(|t| t == open));
    let enough = match job.array_size {
        None => true,
        Some(size) => {
            let mut done: std::collections::HashSet<&str> =
                job.done_tasks.iter().map(String::as_str).collect();
            done.extend(finished_now());
            done.len() as u64 >= size
        }
    };
    open_all_finished && enough
}

/// The queue's word, unless it is terminal or absent and accounting knows more.
fn evidence<'a>(
    job: &KnownJob,
    queue: &'a Snapshot,
    accounting: Option<&'a Snapshot>,
) -> Option<ObservationRef<'a>> {
    let id = job.scheduler_job_id.as_str();
    let usable = |snap: &'a Snapshot| snap.get(id).filter(|_| !job.array || snap.is_array(id));
    let queued = usable(queue);
    let settled = queued.is_some_and(|o| !o.job_state().is_terminal() || o.state.is_none());
    if settled {
        return queued;
    }
    accounting.and_then(usable).or(queued)
}

fn change_for(job: &KnownJob, obs: ObservationRef<'_>, now: Timestamp) -> Option<JobChange> {
    // A native state without a mapping proves the job exists, nothing more.
    let to = obs.state?;
    if to == job.state || !job.state.can_transition_to(to) {
        return None;
    }
    let mut change = JobChange {
        job_id: job.job_id.clone(),
        from: job.state,
        to,
        started_at: None,
        finished_at: None,
        exit_code: None,
        exit_signal: None,
        failure_reason: None,
        transitions: Vec::with_capacity(2),
        retry_due_at: None,
    };
    let never_ran = matches!(
        job.state,
        JobState::Created | JobState::Submitted | JobState::Queued
    );
    if to == JobState::Running {
        if job.started_at.is_none() {
            change.started_at = Some(obs.started_at.unwrap_or(now));
        }
        change.transitions.push(transition(
            job,
            job.state,
            to,
            change.started_at.unwrap_or(now),
            "scheduler started the job",
        ));
        return Some(change);
    }
    if !to.is_terminal() {
        // what the job waits for, when the scheduler says ("waiting for 4 CPUs; 2 free")
        let why = obs.reason.unwrap_or_else(|| reason_for(to));
        change
            .transitions
            .push(transition(job, job.state, to, now, why));
        return Some(change);
    }
    let mut from = job.state;
    if job.started_at.is_none() {
        change.started_at = obs.started_at;
    }
    if let (true, Some(started)) = (never_ran, obs.started_at) {
        // A job that started and ended between two polls still records its start.
        change.transitions.push(transition(
            job,
            from,
            JobState::Running,
            started,
            "scheduler started the job",
        ));
        from = JobState::Running;
    }
    // Clocks are not monotonic (and a scheduler's is not ours): never record
    // a finish before the start.
    let started = job.started_at.or(obs.started_at);
    let finished = match (obs.finished_at.unwrap_or(now), started) {
        (f, Some(s)) if s > f => s,
        (f, _) => f,
    };
    let reason = obs
        .reason
        .map(str::to_owned)
        .or_else(|| default_failure(to, obs.exit_code));
    change.finished_at = Some(finished);
    change.exit_code = obs.exit_code;
    change.exit_signal = obs.exit_signal;
    change.failure_reason = reason.clone();
    let text = reason.unwrap_or_else(|| reason_for(to).to_owned());
    change
        .transitions
        .push(transition(job, from, to, finished, &text));
    change.retry_due_at = retry::retry_due_at(
        job.retry_json.as_deref(),
        job.attempt,
        to,
        obs.exit_code,
        now,
    );
    Some(change)
}

fn missing_action(job: &KnownJob, now: Timestamp, lost: LostPolicy) -> Action {
    let count = job.missing_count.saturating_add(1);
    let since = job.missing_since.unwrap_or(now);
    let span = now - since;
    if count < lost.after_polls || span < lost.after_seconds {
        return Action::Missing {
            job_id: job.job_id.clone(),
            missing_since: since,
            missing_count: count,
        };
    }
    let reason = format!(
        "job disappeared from scheduler: not in queue or accounting for {count} polls over {span:.0} s"
    );
    Action::Change(JobChange {
        job_id: job.job_id.clone(),
        from: job.state,
        to: JobState::Lost,
        started_at: None,
        finished_at: Some(now),
        exit_code: None,
        exit_signal: None,
        failure_reason: Some(reason.clone()),
        transitions: vec![transition(job, job.state, JobState::Lost, now, &reason)],
        retry_due_at: retry::retry_due_at(
            job.retry_json.as_deref(),
            job.attempt,
            JobState::Lost,
            None,
            now,
        ),
    })
}

fn transition(
    job: &KnownJob,
    from: JobState,
    to: JobState,
    at: Timestamp,
    reason: &str,
) -> Transition {
    Transition {
        job_id: job.job_id.clone(),
        old_state: Some(from),
        new_state: to,
        timestamp: at,
        reason: Some(reason.to_owned()),
    }
}

/// The failure reason recorded when the scheduler gave none.
fn default_failure(state: JobState, exit_code: Option<i64>) -> Option<String> {
    match (state, exit_code) {
        (JobState::Failed, Some(code)) => Some(format!("job failed with exit code {code}")),
        (JobState::Failed, None) => Some("job failed".to_owned()),
        (JobState::Cancelled, _) => Some("job was cancelled".to_owned()),
        (JobState::TimedOut, _) => Some("job exceeded its time limit".to_owned()),
        (JobState::OutOfMemory, _) => Some("job exceeded its memory limit".to_owned()),
        (JobState::Lost, _) => Some("job disappeared from scheduler".to_owned()),
        _ => None,
    }
}

/// The transition reason of a state with no failure reason.
fn reason_for(state: JobState) -> &'static str {
    match state {
        JobState::Running => "scheduler started the job",
        JobState::Succeeded => "job completed successfully",
        JobState::Queued => "job is queued",
        JobState::Submitted => "job was submitted",
        _ => "state changed",
    }
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
