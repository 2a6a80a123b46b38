//! IBM Spectrum LSF: `bjobs -o` (delimited or `-json`), `bhist -l` and `bsub` output.
//!
//! molq runs, with `TZ=UTC` and `LSB_DISPLAY_YEAR=Y`:
//!
//! ```text
//! bjobs -o "<BJOBS_FORMAT>" -noheader <ids>     queue and recently finished jobs
//! bjobs -json -o "<BJOBS_FIELDS>" <ids>         the same as JSON
//! bhist -l <ids>                                 only jobs bjobs no longer knows
//! bsub < script                                  "Job <123> is submitted to queue <normal>."
//! ```
//!
//! [`parse`] tells them apart: JSON starts with `{`, bhist's long form with
//! `Job <`. The job name is the last field, so a `|` in a name survives.
//!
//! Job arrays: every element shares the array's job id; bjobs names element
//! 3 of array `name` as `name[3]` (and prints `123[3]` as the id when
//! `LSB_BJOBS_DISPLAY_ENH=Y`). An element is observed as `123[3]`, task `3` of
//! array `123`, the id bsub printed.
//!
//! bjobs prints times as `Jun 11 13:47`, with no year. The core reads no
//! clock, so the caller may start the data with a line `#now <epoch seconds>`
//! (molq does): a year-less time is then placed in the year that puts it
//! before that moment. Without it such a time is left out.

pub use super::lsf_marks::{find_submissions, BJOBS_MARKS_FORMAT, MARK};

use super::array::{Arrays, Tasks};
use super::json::Flex;
use super::names::Names;
use super::{lines, when, Snapshot};
use crate::error::{Error, Result};
use crate::model::{Observation, Timestamp};
use crate::state::JobState::{self, *};

/// The `bjobs -o` fields the parser reads, in order (job name last: it may hold the delimiter).
pub const BJOBS_FIELDS: &str =
    "jobid stat exit_code user queue submit_time start_time finish_time job_name";
/// The delimiter molq asks bjobs for.
pub const BJOBS_DELIMITER: &str = "|";
/// The whole `-o` argument: [`BJOBS_FIELDS`] and the delimiter.
pub const BJOBS_FORMAT: &str =
    "jobid stat exit_code user queue submit_time start_time finish_time job_name delimiter='|'";
const FIELD_COUNT: usize = 9;

/// Every LSF job status: (STAT, meaning, molq state).
pub const STATES: [(&str, &str, JobState); 11] = [
    ("PEND", "pending: waiting to be dispatched", Queued),
    (
        "PROV",
        "dispatched to a host that is being provisioned",
        Queued,
    ),
    (
        "PSUSP",
        "suspended by its owner or an administrator while pending",
        Queued,
    ),
    ("WAIT", "member of a chunk job, waiting to run", Queued),
    ("RUN", "running", Running),
    (
        "USUSP",
        "suspended by its owner or an administrator while running",
        Running,
    ),
    (
        "SSUSP",
        "suspended by LSF (host load, a preempting job, a run window)",
        Running,
    ),
    (
        "UNKWN",
        "mbatchd lost contact with the job's host; the job may still run",
        Running,
    ),
    ("DONE", "finished with exit code 0", Succeeded),
    (
        "EXIT",
        "finished with a non-zero exit code, or killed",
        Failed,
    ),
    (
        "ZOMBI",
        "killed while its host was unreachable (or requeued under a new id)",
        Failed,
    ),
];

/// Parse bjobs (`-o` delimited or `-json`) or `bhist -l` output.
pub fn parse(data: &[u8]) -> Result<Snapshot> {
    let text = String::from_utf8_lossy(data);
    let (now, text) = reference_time(&text);
    let start = text.trim_start();
    if start.starts_with('{') {
        return parse_json(start, now);
    }
    if start.starts_with("Job <") {
        return Ok(super::lsf_bhist::parse_bhist(text, now));
    }
    Ok(parse_rows(text, now))
}

/// The `#now <epoch>` line the caller may put first, and the text after it.
pub(crate) fn reference_time(text: &str) -> (Option<Timestamp>, &str) {
    let t = text.trim_start();
    if let Some(rest) = t.strip_prefix("#now ") {
        let (first, after) = rest.split_once('\n').unwrap_or((rest, ""));
        if let Ok(v) = first.trim().parse::<f64>() {
            if v.is_finite() {
                return (Some(v), after);
            }
        }
    }
    (None, text)
}

/// Jobs and array elements, folded into whole arrays at the end.
#[derive(Default)]
pub(crate) struct Collector {
    pub snap: Snapshot,
    arrays: Arrays,
    pub names: Names,
}

impl Collector {
    /// Record `obs` for the job printed as `jobid` with name `name`.
    pub fn place(&mut self, jobid: &str, obs: Observation, shown: impl FnOnce() -> String) {
        let parsed = element(jobid, obs.name.as_deref())
            .map(|(id, i)| (id.to_owned(), i.map(str::to_owned)));
        match parsed {
            Ok((id, None)) => {
                self.snap.insert(id, obs);
            }
            Ok((id, Some(index))) => {
                let tasks = Tasks {
                    array_id: &id,
                    first: index.parse().ok(),
                    count: 1,
                };
                self.arrays.feed(&mut self.snap, tasks, obs.view());
                self.snap
                    .insert_task(&id, &index, format!("{id}[{index}]"), obs);
            }
            Err(why) => self.snap.skip(&shown(), why),
        }
    }

    pub fn finish(mut self) -> Snapshot {
        self.arrays.finish(&mut self.snap);
        self.snap
    }
}

/// (job id, array index) from `123` + `name[4]`, or `123[4]`.
pub(crate) fn element<'a>(
    jobid: &'a str,
    name: Option<&'a str>,
) -> std::result::Result<(&'a str, Option<&'a str>), String> {
    let jobid = jobid.trim();
    let (id, mut index) = match jobid.split_once('[') {
        Some((id, rest)) => (id, Some(rest.strip_suffix(']').unwrap_or(""))),
        None => (jobid, None),
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{jobid:?} is not an LSF job id"));
    }
    if index.is_none() {
        index = name
            .and_then(|n| n.strip_suffix(']'))
            .and_then(|n| n.rsplit_once('['))
            .map(|(_, i)| i)
            .filter(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()));
    }
    match index {
        Some(i) if i.is_empty() || !i.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("{jobid:?} has no readable array index"))
        }
        other => Ok((id, other)),
    }
}

/// One bjobs row as named fields (`-` and empty mean "none").
#[derive(Default)]
struct Row<'a> {
    stat: &'a str,
    exit_code: &'a str,
    user: &'a str,
    queue: &'a str,
    submit: &'a str,
    start: &'a str,
    finish: &'a str,
    name: &'a str,
}

fn present(v: &str) -> Option<&str> {
    let v = v.trim();
    (!v.is_empty() && v != "-").then_some(v)
}

/// An LSF time: with a year it reads; without one (bjobs' default) only near `now`.
fn lsf_time(v: &str, now: Option<Timestamp>) -> Option<Timestamp> {
    present(v).and_then(|t| when::month_day_near(t, now))
}

/// The observation for a row, and why it was reported if its status is unknown.
fn observe(
    r: &Row<'_>,
    names: &mut Names,
    now: Option<Timestamp>,
) -> std::result::Result<(Observation, Option<String>), String> {
    let stat = r.stat.trim();
    let exit = match present(r.exit_code) {
        None => None,
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| format!("exit code {t:?} is not an integer"))?,
        ),
    };
    let known = STATES.iter().find(|(s, _, _)| *s == stat);
    let mut obs = Observation {
        raw_state: known.map_or_else(|| stat.to_owned().into(), |(s, _, _)| (*s).into()),
        name: present(r.name).map(str::to_owned),
        user: names.get(r.user),
        partition: names.get(r.queue),
        submit_time: lsf_time(r.submit, now),
        ..Observation::default()
    };
    let Some(&(_, _, state)) = known else {
        return Ok((
            obs,
            Some(format!(
                "unknown LSF job status {stat:?} (the job's state is left as it was)"
            )),
        ));
    };
    obs.state = Some(state);
    if state != Queued {
        obs.started_at = lsf_time(r.start, now);
    }
    match stat {
        "DONE" => {
            obs.exit_code = Some(exit.unwrap_or(0));
            obs.finished_at = lsf_time(r.finish, now);
        }
        "EXIT" => {
            obs.exit_code = exit;
            obs.finished_at = lsf_time(r.finish, now);
        }
        "ZOMBI" => {
            obs.reason = Some("killed while its host was unreachable (LSF ZOMBI)".to_owned())
        }
        "UNKWN" => obs.reason = Some("LSF lost contact with the job's host (UNKWN)".to_owned()),
        "PSUSP" => obs.reason = Some("suspended while pending (bresume releases it)".to_owned()),
        _ => {}
    }
    Ok((obs, None))
}

fn add(
    c: &mut Collector,
    jobid: &str,
    row: &Row<'_>,
    now: Option<Timestamp>,
    shown: impl Fn() -> String,
) {
    match observe(row, &mut c.names, now) {
        Ok((obs, why)) => {
            if let Some(why) = why {
                c.snap.skip(&shown(), why);
            }
            c.place(jobid, obs, shown);
        }
        Err(why) => c.snap.skip(&shown(), why),
    }
}

/// `bjobs -noheader -o "<BJOBS_FORMAT>"`: one `|`-separated row per job or element.
fn parse_rows(text: &str, now: Option<Timestamp>) -> Snapshot {
    let mut c = Collector::default();
    for line in lines(text) {
        let t = line.trim();
        // What bjobs says when nothing matches (on stdout in some versions).
        if t.starts_with("No ") && t.ends_with("found") || t.ends_with("is not found") {
            continue;
        }
        let f: Vec<&str> = line.splitn(FIELD_COUNT, '|').collect();
        let [jobid, stat, exit_code, user, queue, submit, start, finish, name] = f[..] else {
            c.snap.skip(
                line,
                format!("expected {FIELD_COUNT} '|'-separated fields ({BJOBS_FIELDS})"),
            );
            continue;
        };
        let row = Row {
            stat,
            exit_code,
            user,
            queue,
            submit,
            start,
            finish,
            name,
        };
        add(&mut c, jobid, &row, now, || line.to_owned());
    }
    c.finish()
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
struct JsonRecord {
    jobid: Option<Flex>,
    stat: Option<Flex>,
    exit_code: Option<Flex>,
    user: Option<Flex>,
    queue: Option<Flex>,
    submit_time: Option<Flex>,
    start_time: Option<Flex>,
    finish_time: Option<Flex>,
    job_name: Option<Flex>,
    error: Option<Flex>,
}

#[derive(serde::Deserialize)]
struct JsonTop {
    #[serde(rename = "RECORDS", default)]
    records: Vec<JsonRecord>,
}

/// `bjobs -json -o "<BJOBS_FIELDS>"`: `{"COMMAND":"bjobs","JOBS":n,"RECORDS":[{...}]}`.
/// One or more documents back to back (the outputs of chunked commands, joined).
fn parse_json(text: &str, now: Option<Timestamp>) -> Result<Snapshot> {
    let mut records = Vec::new();
    for doc in serde_json::Deserializer::from_str(text).into_iter::<JsonTop>() {
        records.extend(
            doc.map_err(|e| Error::parse("lsf", format!("bjobs -json: {e}")))?
                .records,
        );
    }
    let top = JsonTop { records };
    let mut c = Collector::default();
    fn s(v: &Option<Flex>) -> &str {
        v.as_ref().map_or("", Flex::as_str)
    }
    for r in &top.records {
        let jobid = s(&r.jobid);
        let shown = || format!("{{\"JOBID\":{jobid:?},\"STAT\":{:?}}}", s(&r.stat));
        if let Some(err) = r.error.as_ref().map(Flex::as_str) {
            // "Job <999> is not found": no evidence either way, as if not listed
            if !err.ends_with("is not found") {
                c.snap.skip(
                    &format!("{{\"JOBID\":{jobid:?},\"ERROR\":{err:?}}}"),
                    "bjobs reported an error for this job",
                );
            }
            continue;
        }
        let row = Row {
            stat: s(&r.stat),
            exit_code: s(&r.exit_code),
            user: s(&r.user),
            queue: s(&r.queue),
            submit: s(&r.submit_time),
            start: s(&r.start_time),
            finish: s(&r.finish_time),
            name: s(&r.job_name),
        };
        add(&mut c, jobid, &row, now, shown);
    }
    Ok(c.finish())
}

/// The job id from bsub: `Job <123> is submitted to queue <normal>.`
pub fn parse_bsub_id(data: &[u8]) -> Result<String> {
    let text = String::from_utf8_lossy(data);
    for line in lines(&text) {
        if let Some(rest) = line.trim().strip_prefix("Job <") {
            if let Some((id, tail)) = rest.split_once('>') {
                if !id.is_empty()
                    && id.bytes().all(|b| b.is_ascii_digit())
                    && tail.contains("submitted")
                {
                    return Ok(id.to_owned());
                }
            }
        }
    }
    let shown: String = text.chars().take(200).collect();
    Err(Error::parse(
        "lsf",
        format!("expected \"Job <123> is submitted to queue <name>.\" from bsub, got {shown:?}"),
    ))
}

/// Why an LSF job ended, from the `TERM_*` reason bhist and bjobs -l print.
pub fn term_outcome(term: &str) -> (JobState, &'static str) {
    match term {
        "TERM_OWNER" | "TERM_FORCE_OWNER" => (Cancelled, "killed by its owner (bkill)"),
        "TERM_ADMIN" | "TERM_FORCE_ADMIN" => (Cancelled, "killed by an administrator"),
        "TERM_RUNLIMIT" => (TimedOut, "killed after reaching its run time limit"),
        "TERM_DEADLINE" => (TimedOut, "killed after its termination deadline"),
        "TERM_CPULIMIT" => (TimedOut, "killed after reaching its CPU time limit"),
        "TERM_MEMLIMIT" => (OutOfMemory, "killed after reaching its memory limit"),
        "TERM_SWAP" => (Failed, "killed after reaching its swap limit"),
        "TERM_PROCESSLIMIT" => (Failed, "killed after reaching its process limit"),
        "TERM_THREADLIMIT" => (Failed, "killed after reaching its thread limit"),
        "TERM_PREEMPT" => (Failed, "killed to make room for a preempting job"),
        "TERM_LOAD" => (Failed, "killed because of its host's load"),
        "TERM_WINDOW" => (Failed, "killed when its queue's run window closed"),
        "TERM_CWD_NOTEXIST" => (Failed, "its working directory does not exist"),
        "TERM_EXTERNAL_SIGNAL" => (Failed, "killed by a signal from outside LSF"),
        "TERM_ZOMBIE" => (Failed, "killed while its host was unreachable"),
        _ => (Failed, "ended by LSF"),
    }
}

#[cfg(test)]
#[path = "lsf_tests.rs"]
mod tests;
