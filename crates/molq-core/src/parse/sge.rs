//! Grid Engine (Son of Grid Engine 8.1, Open Grid Scheduler): `qstat -xml`,
//! `qacct -j` and `qsub -terse` output.
//!
//! molq runs, with `TZ=UTC` so that times are UTC:
//!
//! ```text
//! qstat -xml -u <user>              the queue (pending, running, suspended jobs)
//! qacct -o <user> -b <start> -j     finished jobs since <start>, one block each
//! qsub -terse ...                   "123", or "123.1-4:1" for an array
//! ```
//!
//! Job arrays: qstat lists a started task on its own (`<tasks>3</tasks>`) and
//! pending tasks collapsed (`<tasks>2-4:1</tasks>`); qacct has one block per
//! task (`taskid 3`). A task is observed as `<job>.<task>` (`123.3`), and the
//! array as a whole under the job number, the id qsub printed.

use std::borrow::Cow;
use std::collections::HashMap;

pub use super::sge_marks::{find_submissions, MARK_VARIABLE};

use super::array::{task_range, Arrays, Tasks};
use super::names::Names;
use super::xml::{self, Event};
use super::{lines, signal_text, when, Snapshot};
use crate::error::{Error, Result};
use crate::model::Observation;
use crate::state::JobState::{self, *};

/// Every state letter `qstat` prints, with its meaning (sge_status(5)).
/// A state code combines letters; [`job_state`] reads the combination.
pub const STATE_LETTERS: [(char, &str); 12] = [
    ('d', "deletion requested"),
    (
        'E',
        "error: will not run until the error is cleared (qmod -cj)",
    ),
    ('h', "hold"),
    ('q', "queued"),
    ('w', "waiting"),
    ('r', "running"),
    ('R', "restarted"),
    ('s', "suspended (by the user or an administrator)"),
    ('S', "suspended by a subordinate queue"),
    ('T', "suspended by a suspend threshold"),
    ('t', "transferring to its execution host"),
    ('z', "zombie: finished; the outcome is in qacct"),
];

/// Reason attached to a job in an error state (`Eqw`).
pub const ERROR_STATE_REASON: &str =
    "job is in Grid Engine's error state: it will not run until the error is cleared (see qstat -j <id>, qmod -cj <id>)";

/// molq's state for a qstat state code such as `qw`, `hqw`, `Rr`, `dr`, `Eqw`.
///
/// * any `E`: queued (an error state keeps the job in the queue, not running);
/// * `r`, `t`, or a suspension (`s`, `S`, `T`): running (suspended jobs hold
///   their resources, as Slurm's SUSPENDED);
/// * `d` without any of those: cancelled (a pending job being deleted);
/// * `q`, `w`, `h` (with or without `R`): queued;
/// * `z` alone: `Some(None)`, finished with an outcome only qacct knows.
///
/// `None`: the code holds a letter Grid Engine does not document.
pub fn job_state(code: &str) -> Option<Option<JobState>> {
    if code.is_empty()
        || !code
            .chars()
            .all(|c| STATE_LETTERS.iter().any(|(l, _)| *l == c))
    {
        return None;
    }
    let has = |set: &str| code.chars().any(|c| set.contains(c));
    Some(if has("E") {
        Some(Queued)
    } else if has("rtsST") {
        Some(Running)
    } else if has("d") {
        Some(Cancelled)
    } else if has("qwh") {
        Some(Queued)
    } else if code.contains('z') {
        None
    } else {
        // 'R' alone: restarted and waiting to run again.
        Some(Queued)
    })
}

/// The children of one `<job_list>` molq reads.
#[derive(Default)]
struct JobList<'a> {
    number: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    owner: Option<Cow<'a, str>>,
    state: Option<Cow<'a, str>>,
    start: Option<Cow<'a, str>>,
    submit: Option<Cow<'a, str>>,
    queue: Option<Cow<'a, str>>,
    tasks: Option<Cow<'a, str>>,
}

impl<'a> JobList<'a> {
    fn slot(&mut self, element: &str) -> Option<&mut Option<Cow<'a, str>>> {
        Some(match element {
            "JB_job_number" => &mut self.number,
            "JB_name" => &mut self.name,
            "JB_owner" => &mut self.owner,
            "state" => &mut self.state,
            "JAT_start_time" => &mut self.start,
            "JB_submission_time" => &mut self.submit,
            "queue_name" => &mut self.queue,
            "tasks" => &mut self.tasks,
            _ => return None,
        })
    }

    /// A one-line description for `skipped`.
    fn described(&self) -> String {
        let mut d = String::from("<job_list>");
        for (k, v) in [
            ("JB_job_number", &self.number),
            ("state", &self.state),
            ("tasks", &self.tasks),
            ("JB_name", &self.name),
        ] {
            if let Some(v) = v {
                d.push_str(&format!(" {k}={}", v.trim()));
            }
        }
        d
    }
}

/// Parse `qstat -xml` output (any of `-u`, `-s`; not `-j`).
pub fn parse_qstat_xml(data: &[u8]) -> Result<Snapshot> {
    let text = String::from_utf8_lossy(data);
    let mut snap = Snapshot::new();
    if text.trim().is_empty() {
        return Ok(snap);
    }
    let mut arrays = Arrays::default();
    let mut names = Names::default();
    let mut job: Option<JobList<'_>> = None;
    let mut field: Option<&str> = None;
    xml::each_event(&text, |ev| match ev {
        Event::Start {
            name: "job_list", ..
        } => job = Some(JobList::default()),
        Event::Start { name, .. } if job.is_some() => field = Some(name),
        Event::Text(t) => {
            if let (Some(j), Some(name)) = (job.as_mut(), field) {
                if let Some(slot) = j.slot(name) {
                    *slot = Some(t);
                }
            }
        }
        Event::End { name: "job_list" } => {
            if let Some(j) = job.take() {
                qstat_job(&mut snap, &mut arrays, &mut names, &j);
            }
            field = None;
        }
        Event::End { .. } => field = None,
        Event::Start { .. } => {}
    })
    .map_err(|e| Error::parse("sge", format!("qstat -xml: {e}")))?;
    arrays.finish(&mut snap);
    Ok(snap)
}

fn qstat_job(snap: &mut Snapshot, arrays: &mut Arrays, names: &mut Names, j: &JobList<'_>) {
    let get = |v: &Option<Cow<'_, str>>| -> Option<String> {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let Some(id) = get(&j.number).filter(|v| v.bytes().all(|b| b.is_ascii_digit())) else {
        snap.skip(&j.described(), "no numeric JB_job_number");
        return;
    };
    let code = get(&j.state).unwrap_or_default();
    let mut obs = Observation {
        raw_state: code.clone().into(),
        // SGE 8.1 escapes '<' in names as "%lt;" (not "&lt;"): undo that too
        name: get(&j.name).map(|n| {
            if n.contains("%lt;") {
                n.replace("%lt;", "<")
            } else {
                n
            }
        }),
        user: get(&j.owner).and_then(|u| names.get(&u)),
        // "all.q@localhost": the cluster queue is the partition
        partition: get(&j.queue).and_then(|q| names.get(q.split('@').next().unwrap_or(&q))),
        submit_time: get(&j.submit).and_then(|t| when::iso(&t)),
        ..Observation::default()
    };
    match job_state(&code) {
        Some(state) => obs.state = state,
        None => snap.skip(
            &j.described(),
            format!("unknown Grid Engine state {code:?} (the job's state is left as it was)"),
        ),
    }
    if matches!(obs.state, Some(Running)) {
        obs.started_at = get(&j.start).and_then(|t| when::iso(&t));
    }
    if code.contains('E') {
        obs.reason = Some(ERROR_STATE_REASON.to_owned());
    } else if obs.state == Some(Queued) && code.contains('h') {
        obs.reason = Some("job is held (qrls releases it)".to_owned());
    } else if obs.state == Some(Cancelled) {
        obs.reason = Some("job deleted before it started (qdel)".to_owned());
    }
    match get(&j.tasks) {
        None => {
            snap.insert(id, obs);
        }
        Some(task) if task.bytes().all(|b| b.is_ascii_digit()) => {
            let first = task.parse().ok();
            arrays.feed(
                snap,
                Tasks {
                    array_id: &id,
                    first,
                    count: 1,
                },
                obs.view(),
            );
            snap.insert_task(&id, &task, format!("{id}.{task}"), obs);
        }
        Some(range) => {
            let (first, count) = match task_range(&range) {
                Some((f, c)) => (Some(f), c),
                None => (None, 1),
            };
            arrays.feed(
                snap,
                Tasks {
                    array_id: &id,
                    first,
                    count,
                },
                obs.view(),
            );
            // Kept as printed, so a queue listing shows what qstat showed.
            snap.insert(format!("{id}.{range}"), obs);
        }
    }
}

/// Parse `qacct -j` output: blocks of `key value` lines after a line of `=`.
/// Blocks without a `jobnumber` (qacct's "Total System Usage" summary) are
/// not jobs and are passed over. A job listed twice (rescheduled) counts once,
/// as its last block says.
pub fn parse_qacct(data: &[u8]) -> Snapshot {
    let text = String::from_utf8_lossy(data);
    let mut snap = Snapshot::new();
    let mut rows: Vec<(String, Option<String>, Observation)> = Vec::new();
    let mut seen: HashMap<(String, Option<String>), usize> = HashMap::new();
    let mut block: Vec<(&str, &str)> = Vec::new();
    let mut names = Names::default();
    let mut flush = |block: &mut Vec<(&str, &str)>, snap: &mut Snapshot| {
        if !block.is_empty() {
            match qacct_block(block, &mut names) {
                Ok(Some((id, task, obs))) => {
                    let key = (id.clone(), task.clone());
                    match seen.get(&key) {
                        Some(&i) => rows[i] = (id, task, obs),
                        None => {
                            seen.insert(key, rows.len());
                            rows.push((id, task, obs));
                        }
                    }
                }
                Ok(None) => {}
                Err(reason) => {
                    let shown: Vec<String> = block
                        .iter()
                        .take(12)
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect();
                    snap.skip(&shown.join("; "), reason);
                }
            }
            block.clear();
        }
    };
    for line in lines(&text) {
        let t = line.trim();
        if t.len() >= 10 && t.bytes().all(|b| b == b'=') {
            flush(&mut block, &mut snap);
            continue;
        }
        let (key, value) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        block.push((key, value.trim()));
    }
    flush(&mut block, &mut snap);
    let mut arrays = Arrays::default();
    for (id, task, obs) in rows {
        match task {
            None => {
                snap.insert(id, obs);
            }
            Some(task) => {
                let first = task.parse().ok();
                arrays.feed(
                    &mut snap,
                    Tasks {
                        array_id: &id,
                        first,
                        count: 1,
                    },
                    obs.view(),
                );
                snap.insert_task(&id, &task, format!("{id}.{task}"), obs);
            }
        }
    }
    arrays.finish(&mut snap);
    snap
}

type AcctRow = (String, Option<String>, Observation);

fn qacct_block(
    block: &[(&str, &str)],
    names: &mut Names,
) -> std::result::Result<Option<AcctRow>, String> {
    let get = |k: &str| {
        block
            .iter()
            .rev()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| *v)
    };
    let Some(id) = get("jobnumber") else {
        return Ok(None);
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("jobnumber {id:?} is not a number"));
    }
    let task = match get("taskid") {
        None | Some("undefined") | Some("") => None,
        Some(t) if t.bytes().all(|b| b.is_ascii_digit()) => Some(t.to_owned()),
        Some(t) => return Err(format!("taskid {t:?} is not a number")),
    };
    // "100 : assumedly after job"; "0"
    let failed_text = get("failed").ok_or("no 'failed' line")?;
    let (failed_code, failed_why) = match failed_text.split_once(':') {
        Some((c, why)) => (c.trim(), why.trim()),
        None => (failed_text.trim(), ""),
    };
    let failed: i64 = failed_code
        .parse()
        .map_err(|_| format!("failed {failed_text:?} does not start with a number"))?;
    // "137                  (Killed)"
    let exit_text = get("exit_status").ok_or("no 'exit_status' line")?;
    let exit: i64 = exit_text
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| format!("exit_status {exit_text:?} is not a number"))?;
    let (state, signal, reason) = match (failed, exit) {
        (0, 0) => (Succeeded, None, None),
        (0, _) => (Failed, None, None),
        // 100 "assumedly after job": the job's shell ended by a signal (exit 128+N)
        (100, code) if code > 128 && code < 128 + 65 => {
            let sig = code - 128;
            (Failed, Some(sig), Some(signal_text(sig)))
        }
        (37, _) => (
            TimedOut,
            None,
            Some(format!(
                "Grid Engine: {}",
                non_empty(failed_why, "limit enforced by qmaster")
            )),
        ),
        (n, _) => (
            Failed,
            None,
            Some(format!(
                "Grid Engine failure {n}: {}",
                non_empty(failed_why, "no description")
            )),
        ),
    };
    let time = |k: &str| get(k).and_then(when::month_day);
    let obs = Observation {
        state: Some(state),
        raw_state: format!("failed {failed_text}, exit_status {exit}").into(),
        exit_code: Some(exit),
        exit_signal: signal,
        reason,
        started_at: time("start_time"),
        finished_at: time("end_time"),
        submit_time: time("qsub_time"),
        name: get("jobname").filter(|v| !v.is_empty()).map(str::to_owned),
        user: get("owner").and_then(|v| names.get(v)),
        partition: get("qname").and_then(|v| names.get(v)),
    };
    Ok(Some((id.to_owned(), task, obs)))
}

fn non_empty<'a>(text: &'a str, otherwise: &'a str) -> &'a str {
    if text.is_empty() {
        otherwise
    } else {
        text
    }
}

/// The job number from `qsub -terse` (`123`, `123.1-4:1`) or plain `qsub`
/// (`Your job 123 ("name") has been submitted`, `Your job-array 123.1-4:1 ...`).
pub fn parse_qsub_id(data: &[u8]) -> Result<String> {
    let text = String::from_utf8_lossy(data);
    for line in lines(&text) {
        let line = line.trim();
        let word = match line
            .strip_prefix("Your job-array ")
            .or_else(|| line.strip_prefix("Your job "))
        {
            Some(rest) => rest.split_whitespace().next().unwrap_or(""),
            None => line,
        };
        let number = word.split('.').next().unwrap_or("");
        let tail = &word[number.len()..];
        let tail_ok = tail.is_empty()
            || tail[1..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b"-:,".contains(&b));
        if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) && tail_ok {
            return Ok(number.to_owned());
        }
    }
    let shown: String = text.chars().take(200).collect();
    Err(Error::parse(
        "sge",
        format!(
            "expected the job number from qsub -terse (\"123\" or \"123.1-4:1\"), got {shown:?}"
        ),
    ))
}

#[cfg(test)]
#[path = "sge_tests.rs"]
mod tests;
