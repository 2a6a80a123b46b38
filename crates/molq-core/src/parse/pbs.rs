//! PBS Professional / OpenPBS and Torque: `qstat` (the default table, `-f`
//! text and PBS Pro's `-f -F json`), `tracejob` and `qsub` output.
//!
//! molq runs, with `TZ=UTC` so that times are UTC:
//!
//! ```text
//! qstat -f -F json -t <ids>       PBS Pro queue (subjobs listed with -t)
//! qstat -x -f -F json -t <ids>    PBS Pro history: finished jobs, Exit_status
//! qstat -f -t <ids>               Torque (completed jobs stay as C with exit_status)
//! tracejob -n <days> <id>         last resort, one section per job
//! qsub <script>                   "123.server", "123[].server" for an array
//! ```
//!
//! [`parse`] tells the formats apart by their first bytes: JSON starts with
//! `{`, `-f` text has `Job Id:` lines, tracejob sections start with `Job:`,
//! anything else is read as a table.
//!
//! Ids lose their server suffix: a job is `123`, an array `123[]` (the id qsub
//! printed, which molq stores), its subjob 4 is `123[4]`, observed as task `4`
//! of `123[]`.

pub use super::pbs_marks::{find_submissions, MARK_VARIABLE};

use super::array::{Arrays, Tasks};
use super::json::{Flex, InOrder};
use super::names::Names;
use super::{lines, signal_text, when, Snapshot};
use crate::error::{Error, Result};
use crate::model::{Observation, Timestamp};
use crate::state::JobState::{self, *};

/// Every job state letter of PBS Pro and Torque: (letter, meaning, molq state).
/// `None`: finished, and the outcome depends on the exit status.
pub const STATES: [(&str, &str, Option<JobState>); 13] = [
    (
        "B",
        "array job: at least one subjob has started",
        Some(Running),
    ),
    ("E", "exiting after having run", Some(Running)),
    ("F", "finished (PBS Pro job history)", None),
    ("H", "held", Some(Queued)),
    ("M", "moved to another server", Some(Queued)),
    ("Q", "queued", Some(Queued)),
    ("R", "running", Some(Running)),
    ("S", "suspended (keeps its resources)", Some(Running)),
    ("T", "in transit to a new location", Some(Queued)),
    (
        "U",
        "suspended while its workstation is busy (cycle harvesting)",
        Some(Running),
    ),
    (
        "W",
        "waiting for its start time (qsub -a) or for files to stage in",
        Some(Queued),
    ),
    ("X", "subjob finished (PBS Pro)", None),
    (
        "C",
        "completed (Torque; kept for keep_completed seconds)",
        None,
    ),
];

/// Negative exit statuses: PBS could not run the job to its end (PBS Pro and
/// Torque share -1 to -11). -29 is PBS Pro's walltime kill, -27 its mem kill.
pub const EXEC_CODES: [(i64, &str); 19] = [
    (-1, "job exec failed, before files, no retry"),
    (-2, "job exec failed, after files, no retry"),
    (-3, "job execution failed, do retry"),
    (-4, "job aborted on MoM initialization"),
    (-5, "job aborted on MoM init, checkpoint, no migrate"),
    (-6, "job aborted on MoM init, checkpoint, ok migrate"),
    (-7, "job restart failed"),
    (
        -8,
        "job exec failed: the initial checkpoint could not be read",
    ),
    (-9, "job exec failed: no such checkpoint"),
    (-10, "invalid uid/gid for the job"),
    (-11, "job was rerun"),
    (-12, "job was checkpointed and killed"),
    (-13, "job failed due to a bad password"),
    (-15, "job requeued for restart"),
    (-16, "a hook rejected the job"),
    (-19, "a hook deleted the job"),
    (-26, "job exceeded its vmem limit"),
    (-27, "job exceeded its mem limit"),
    (-28, "job exceeded its cput limit"),
];

/// PBS Pro's Exit_status when the walltime limit killed the job.
pub const EXIT_WALLTIME: i64 = -29;
/// PBS Pro's Exit_status when the job went over its `mem` limit and was killed.
pub const EXIT_MEM: i64 = -27;
/// PBS Pro's substate of a finished job that was deleted (qdel).
pub const SUBSTATE_TERMINATED: i64 = 91;

/// Parse any of the formats above (see the module docs for how they are told apart).
pub fn parse(data: &[u8]) -> Result<Snapshot> {
    let text = String::from_utf8_lossy(data);
    let start = text.trim_start();
    if start.starts_with('{') {
        return parse_json(start);
    }
    if text.lines().any(|l| l.starts_with("Job Id:")) {
        return Ok(parse_full_text(&text));
    }
    if start.starts_with("Job:") {
        return Ok(super::pbs_trace::parse_tracejob(&text));
    }
    Ok(parse_table(&text))
}

/// The attributes molq reads, whichever format they came from.
#[derive(Debug, Default, Clone)]
pub(crate) struct Attrs {
    pub name: Option<String>,
    pub owner: Option<String>,
    pub state: Option<String>,
    pub queue: Option<String>,
    pub submit: Option<Timestamp>,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub modified: Option<Timestamp>,
    pub exit: Option<String>,
    pub substate: Option<String>,
    pub comment: Option<String>,
}

/// How a PBS id reads once the server suffix is gone.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Job(String),
    /// `123[]`
    Array(String),
    /// (`123[]`, `4`)
    Task(String, String),
}

pub(crate) fn key(id: &str) -> std::result::Result<Key, String> {
    let id = id.trim();
    let head = id.split('.').next().unwrap_or("");
    let digits = head.find('[').map_or(head, |b| &head[..b]);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || head.ends_with('*') {
        return Err(format!("{id:?} is not a PBS job id (or it was cut short)"));
    }
    match &head[digits.len()..] {
        "" => Ok(Key::Job(digits.to_owned())),
        "[]" => Ok(Key::Array(format!("{digits}[]"))),
        index => match index.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Key::Task(format!("{digits}[]"), n.to_owned()))
            }
            _ => Err(format!("{id:?} is not a PBS job id")),
        },
    }
}

/// The outcome of a finished job (state F, X or C) from its exit status.
pub(crate) fn finished(
    exit: Option<i64>,
    substate: Option<i64>,
    ran: bool,
) -> (JobState, Option<i64>, Option<String>) {
    if substate == Some(SUBSTATE_TERMINATED) {
        return (Cancelled, None, Some("job was deleted (qdel)".to_owned()));
    }
    match exit {
        None if !ran => (
            Cancelled,
            None,
            Some("job left the queue before it started (deleted)".to_owned()),
        ),
        None => (
            Failed,
            None,
            Some("job ended without an exit status".to_owned()),
        ),
        Some(0) => (Succeeded, None, None),
        Some(EXIT_WALLTIME) => (
            TimedOut,
            None,
            Some("job exceeded its walltime limit".to_owned()),
        ),
        Some(code) if code < 0 => {
            let text = EXEC_CODES
                .iter()
                .find(|(c, _)| *c == code)
                .map_or("PBS could not run the job", |(_, t)| t);
            let state = if code == EXIT_MEM {
                OutOfMemory
            } else {
                Failed
            };
            (state, None, Some(format!("{text} (Exit_status {code})")))
        }
        // PBS adds 256 to the number of the signal that killed the job.
        Some(code) if code > 256 => (Failed, Some(code - 256), Some(signal_text(code - 256))),
        Some(_) => (Failed, None, None),
    }
}

fn int(text: Option<&str>, what: &str) -> std::result::Result<Option<i64>, String> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| format!("{what} {t:?} is not an integer")),
    }
}

/// The observation of one job's attributes; `Err` when the line is unusable.
/// `full`: the format lists every attribute, so a missing exit status means there was none.
pub(crate) fn observe(
    a: &Attrs,
    names: &mut Names,
    full: bool,
) -> std::result::Result<(Observation, Option<String>), String> {
    let letter = a.state.as_deref().unwrap_or("").trim();
    let mut obs = Observation {
        raw_state: STATES
            .iter()
            .find(|(l, _, _)| *l == letter)
            .map_or_else(|| letter.to_owned().into(), |(l, _, _)| (*l).into()),
        name: a.name.clone(),
        user: a
            .owner
            .as_deref()
            .and_then(|o| names.get(o.split('@').next().unwrap_or(o))),
        partition: a.queue.as_deref().and_then(|q| names.get(q)),
        submit_time: a.submit,
        ..Observation::default()
    };
    let Some(&(_, _, mapped)) = STATES.iter().find(|(l, _, _)| *l == letter) else {
        let why = format!("unknown PBS job state {letter:?} (the job's state is left as it was)");
        return Ok((obs, Some(why)));
    };
    let exit = int(a.exit.as_deref(), "Exit_status")?;
    let substate = int(a.substate.as_deref(), "substate")?;
    match mapped {
        Some(state) => {
            obs.state = Some(state);
            if state == Running {
                obs.started_at = a.start;
            } else if state == Queued {
                obs.reason = match letter {
                    "H" => Some("job is held".to_owned()),
                    "M" => Some("job was moved to another server".to_owned()),
                    _ => a.comment.clone().filter(|c| !c.is_empty()),
                };
            }
        }
        None if !full => {} // a table row: finished, with no exit status to say how
        None => {
            let (state, signal, reason) =
                finished(exit, substate, a.start.is_some() || exit.is_some());
            obs.state = Some(state);
            obs.exit_code = exit;
            obs.exit_signal = signal;
            obs.reason = reason;
            obs.started_at = a.start;
            obs.finished_at = a.end.or(a.modified);
        }
    }
    Ok((obs, None))
}

/// Collects jobs, subjobs and array parents, then folds the arrays.
#[derive(Default)]
pub(crate) struct Collector {
    pub snap: Snapshot,
    arrays: Arrays,
    parents: Vec<(String, Observation)>,
    pub names: Names,
}

impl Collector {
    pub fn add(&mut self, id: &str, attrs: &Attrs, full: bool, shown: impl FnOnce() -> String) {
        let key = match key(id) {
            Ok(k) => k,
            Err(why) => return self.snap.skip(&shown(), why),
        };
        let obs = match observe(attrs, &mut self.names, full) {
            Ok((obs, None)) => obs,
            Ok((obs, Some(why))) => {
                self.snap.skip(&shown(), why);
                obs
            }
            Err(why) => return self.snap.skip(&shown(), why),
        };
        self.place(key, obs);
    }

    /// Record `obs` under its job, array parent or subjob.
    pub fn place(&mut self, key: Key, obs: Observation) {
        match key {
            Key::Job(id) => {
                self.snap.insert(id, obs);
            }
            Key::Array(id) => self.parents.push((id, obs)),
            Key::Task(array, task) => {
                let first = task.parse().ok();
                self.arrays.feed(
                    &mut self.snap,
                    Tasks {
                        array_id: &array,
                        first,
                        count: 1,
                    },
                    obs.view(),
                );
                let k = format!("{}[{task}]", &array[..array.len() - 2]);
                self.snap.insert_task(&array, &task, k, obs);
            }
        }
    }

    pub fn finish(mut self) -> Snapshot {
        // A parent speaks for its array only when none of its subjobs was listed.
        for (id, obs) in std::mem::take(&mut self.parents) {
            if !self.snap.contains(&id) {
                let obs = parent_outcome(obs);
                self.snap.insert(id, obs);
            }
        }
        self.arrays.finish(&mut self.snap);
        self.snap
    }
}

/// A finished array parent's Exit_status is a summary (PBS Pro): 0 every
/// subjob succeeded, 1 some failed, 2 some were deleted or aborted.
fn parent_outcome(mut obs: Observation) -> Observation {
    if obs.state.is_some_and(JobState::is_terminal) {
        match obs.exit_code {
            Some(1) => obs.reason = Some("at least one subjob failed".to_owned()),
            Some(2) => {
                obs.state = Some(Cancelled);
                obs.reason = Some("at least one subjob was deleted or aborted".to_owned());
            }
            _ => {}
        }
    }
    obs
}

#[derive(serde::Deserialize, Default)]
struct JsonJob {
    #[serde(rename = "Job_Name")]
    name: Option<Flex>,
    #[serde(rename = "Job_Owner")]
    owner: Option<Flex>,
    job_state: Option<Flex>,
    queue: Option<Flex>,
    ctime: Option<Flex>,
    stime: Option<Flex>,
    obittime: Option<Flex>,
    mtime: Option<Flex>,
    #[serde(rename = "Exit_status")]
    exit: Option<Flex>,
    substate: Option<Flex>,
    comment: Option<Flex>,
}

#[derive(serde::Deserialize)]
struct JsonTop {
    #[serde(rename = "Jobs", default)]
    jobs: InOrder<JsonJob>,
}

/// One or more `qstat -F json` documents back to back (molq joins the output
/// of its chunked commands and parses it once).
fn parse_json(text: &str) -> Result<Snapshot> {
    let mut docs = Vec::new();
    for doc in serde_json::Deserializer::from_str(text).into_iter::<JsonTop>() {
        docs.push(doc.map_err(|e| Error::parse("pbs", format!("qstat -F json: {e}")))?);
    }
    let total = docs.iter().map(|d| d.jobs.0.len()).sum();
    let mut c = Collector {
        snap: Snapshot::with_capacity(total),
        ..Collector::default()
    };
    let s = |v: &Option<Flex>| v.as_ref().map(|f| f.as_str().to_owned());
    let t = |v: &Option<Flex>| {
        v.as_ref()
            .and_then(|f| when::epoch_or_month_day(f.as_str()))
    };
    for (id, j) in docs.iter().flat_map(|d| d.jobs.0.iter()) {
        let attrs = Attrs {
            name: s(&j.name),
            owner: s(&j.owner),
            state: s(&j.job_state),
            queue: s(&j.queue),
            submit: t(&j.ctime),
            start: t(&j.stime),
            end: t(&j.obittime),
            modified: t(&j.mtime),
            exit: s(&j.exit),
            substate: s(&j.substate),
            comment: s(&j.comment),
        };
        c.add(id, &attrs, true, || {
            format!("\"{id}\": {{job_state: {:?}}}", attrs.state)
        });
    }
    Ok(c.finish())
}

/// `qstat -f`: a `Job Id:` line, then `    name = value` lines; a long value
/// continues on lines starting with a tab (PBS Pro) or other indentation (Torque).
fn parse_full_text(text: &str) -> Snapshot {
    let mut c = Collector::default();
    let mut job: Option<(&str, Vec<(&str, String)>)> = None;
    let flush = |job: &mut Option<(&str, Vec<(&str, String)>)>, c: &mut Collector| {
        if let Some((id, pairs)) = job.take() {
            let attrs = full_text_attrs(&pairs);
            c.add(id, &attrs, true, || {
                format!(
                    "Job Id: {id} (job_state = {})",
                    attrs.state.as_deref().unwrap_or("")
                )
            });
        }
    };
    for line in text.lines().map(|l| l.trim_end_matches('\r')) {
        if let Some(id) = line.strip_prefix("Job Id:") {
            flush(&mut job, &mut c);
            job = Some((id.trim(), Vec::new()));
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let Some((_, pairs)) = job.as_mut() else {
            c.snap.skip(line, "outside any 'Job Id:' block");
            continue;
        };
        let attribute = line
            .strip_prefix("    ")
            .filter(|rest| !rest.starts_with(char::is_whitespace))
            .and_then(|rest| {
                rest.split_once(" = ")
                    .or_else(|| rest.strip_suffix(" =").map(|k| (k, "")))
            })
            .filter(|(k, _)| {
                k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
            });
        match (attribute, pairs.last_mut()) {
            (Some((k, v)), _) => pairs.push((k, v.to_owned())),
            (None, Some((_, value))) if line.starts_with(char::is_whitespace) => {
                let more = line.strip_prefix('\t').unwrap_or_else(|| line.trim_start());
                value.push_str(more);
            }
            _ => c
                .snap
                .skip(line, "neither 'name = value' nor a continuation line"),
        }
    }
    flush(&mut job, &mut c);
    c.finish()
}

fn full_text_attrs(pairs: &[(&str, String)]) -> Attrs {
    let get = |k: &str| {
        pairs
            .iter()
            .rev()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.trim().to_owned())
    };
    let time = |k: &str| get(k).and_then(|v| when::epoch_or_month_day(&v));
    Attrs {
        name: get("Job_Name"),
        owner: get("Job_Owner"),
        state: get("job_state"),
        queue: get("queue"),
        submit: time("ctime").or_else(|| time("qtime")),
        // PBS Pro: stime, obittime; Torque: start_time, comp_time
        start: time("stime").or_else(|| time("start_time")),
        end: time("obittime").or_else(|| time("comp_time")),
        modified: time("mtime"),
        exit: get("Exit_status").or_else(|| get("exit_status")),
        substate: get("substate"),
        comment: get("comment"),
    }
}

/// The default `qstat` table (`Job id  Name  User  Time Use S Queue`) and the
/// `-a`/`-u` alternate one (`Job ID  Username Queue Jobname SessID NDS TSK
/// Memory Time S Time`). Names may be cut short; finished jobs carry no exit status.
fn parse_table(text: &str) -> Snapshot {
    let mut c = Collector::default();
    let mut alternate = false;
    for line in lines(text) {
        let t = line.trim();
        if t.starts_with("Job id") || t.starts_with("Job ID") {
            alternate = t.contains("Username");
            continue;
        }
        if t.starts_with('-') || t.starts_with("Req'd") || t.ends_with(':') && !t.contains(' ') {
            continue; // rules, the second header line, "server:" above an -a table
        }
        let f: Vec<&str> = t.split_whitespace().collect();
        let n = f.len();
        let (min, name, user, state, queue) = if alternate {
            (
                11,
                f.get(3..n.saturating_sub(7)),
                f.get(1),
                f.get(n.wrapping_sub(2)),
                f.get(2),
            )
        } else {
            (
                6,
                f.get(1..n.saturating_sub(4)),
                f.get(n.wrapping_sub(4)),
                f.get(n.wrapping_sub(2)),
                f.last(),
            )
        };
        if n < min {
            c.snap
                .skip(line, format!("expected at least {min} columns, found {n}"));
            continue;
        }
        let attrs = Attrs {
            name: name.map(|w| w.join(" ")),
            owner: user.map(|u| (*u).to_owned()),
            state: state.map(|s| (*s).to_owned()),
            queue: queue.map(|q| (*q).to_owned()),
            ..Attrs::default()
        };
        c.add(f[0], &attrs, false, || line.to_owned());
    }
    c.finish()
}

/// The id from qsub: `123.server` -> `123`, `123[].server` -> `123[]`.
pub fn parse_qsub_id(data: &[u8]) -> Result<String> {
    let text = String::from_utf8_lossy(data);
    if let Some(first) = lines(&text).next() {
        match key(first) {
            Ok(Key::Job(id) | Key::Array(id)) => return Ok(id),
            Ok(Key::Task(..)) | Err(_) => {}
        }
    }
    let shown: String = text.chars().take(200).collect();
    Err(Error::parse(
        "pbs",
        format!(
            "expected the job id from qsub (\"123.server\" or \"123[].server\"), got {shown:?}"
        ),
    ))
}

#[cfg(test)]
#[path = "pbs_tests.rs"]
mod tests;
