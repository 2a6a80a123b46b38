//! The local backend's status lines.
//!
//! The local backend (no batch system, or its own local scheduler) prints one
//! line per job it was asked about:
//!
//! ```text
//! <scheduler_job_id>|<status>|<exit_code>|<started_at>|<finished_at>[|<cause>]
//! ```
//!
//! `status` is `queued` (the job waits for slots or dependencies), `running`
//! (a process of the job is alive), `exited` (the wrapper wrote an exit
//! code), `cancelled` (molq asked it to stop, or it can never start, and it
//! is gone) or `vanished` (the process is gone without an exit code). Empty
//! fields mean "unknown"; times are float epoch seconds.
//!
//! The optional `cause` is everything after the fifth `|` (so free text may
//! hold `|`). What it may say depends on the status:
//!
//! - `queued`: why the job waits, as free text (`waiting for 4 CPUs; 2 free`,
//!   `waiting for job 17 to succeed`); empty means no reason given.
//! - `exited` with `time:<seconds>`: the scheduler stopped the job at its
//!   time limit (timed out); `memory:<limit_kib>:<peak_kib>`: it killed the
//!   job over its memory limit (out of memory). The exit code is kept.
//! - `cancelled` with `dependency:<text>`: the job can never start because of
//!   a dependency; the text says which (`dependency 17 ended FAILED: it can
//!   never start`).
//! - any status: `stdout` or `stderr`, the file that would not open (the job
//!   did not run at all).
//!
//! Any other cause makes the line unreadable: it is reported in `skipped`.
//!
//! The wrapper is a shell: it sees a job killed by signal N as status 128+N,
//! so a status of 129..=192 is read as that signal (the convention of every
//! POSIX shell), keeping both numbers.

use super::array::{Arrays, Tasks};
use super::shell_limits::{memory_limit_reason, time_limit_reason};
use super::{lines, opt_int, opt_time, signal_text, Snapshot};
use crate::error::{Error, Result};
use crate::model::Observation;
use crate::state::JobState;

/// Number of `|`-separated fields in a status line (a sixth, the cause, is optional).
pub const STATUS_FIELDS: usize = 5;

/// Reason recorded for a process that ended without writing its exit code.
pub const VANISHED_REASON: &str =
    "process ended without recording an exit code (no exit code file: killed, or its machine restarted)";

/// Parse status lines into a snapshot; bad lines go to `skipped`. A line of
/// `<array id>_<task>` is a task of an array of the local scheduler: kept
/// under its own id, and folded into the array's observation.
pub fn parse_status(data: &[u8]) -> Snapshot {
    let text = String::from_utf8_lossy(data);
    let mut snap = Snapshot::new();
    let mut arrays = Arrays::default();
    for line in lines(&text) {
        match parse_line(line) {
            Ok((id, obs)) => match id.split_once('_') {
                Some((array_id, task_id)) if !array_id.is_empty() && !task_id.is_empty() => {
                    let tasks = Tasks {
                        array_id,
                        first: task_id.parse().ok(),
                        count: 1,
                    };
                    arrays.feed(&mut snap, tasks, obs.view());
                    snap.insert_task(array_id, task_id, id.clone(), obs);
                }
                _ => {
                    snap.insert(id, obs);
                }
            },
            Err(reason) => snap.skip(line, reason),
        }
    }
    arrays.finish(&mut snap);
    snap
}

/// What a line's cause field says, read in the light of its status.
enum Cause<'a> {
    None,
    /// The job never ran: the reason names the file that would not open.
    NotRun(&'static str),
    /// Why a queued job waits, or why a cancelled one can never start.
    Text(&'a str),
    /// Stopped at its time limit, in seconds.
    TimeLimit(u64),
    /// Killed over its memory limit (both in KiB).
    MemoryLimit {
        limit_kib: u64,
        peak_kib: u64,
    },
}

fn read_cause<'a>(status: &str, cause: &'a str) -> std::result::Result<Cause<'a>, String> {
    if cause.is_empty() {
        return Ok(Cause::None);
    }
    if status == "queued" {
        return Ok(Cause::Text(cause));
    }
    match cause {
        "stdout" => return Ok(Cause::NotRun(NO_STDOUT_REASON)),
        "stderr" => return Ok(Cause::NotRun(NO_STDERR_REASON)),
        _ => {}
    }
    let unknown = || format!("unknown cause {cause:?}");
    let (kind, detail) = cause.split_once(':').ok_or_else(unknown)?;
    match (status, kind) {
        ("cancelled", "dependency") => Ok(Cause::Text(detail.trim())),
        ("exited", "time") => Ok(Cause::TimeLimit(whole(detail, "time limit", "seconds")?)),
        ("exited", "memory") => {
            let (limit, peak) = detail.split_once(':').ok_or_else(|| {
                format!("memory cause {cause:?} is not memory:<limit_kib>:<peak_kib>")
            })?;
            Ok(Cause::MemoryLimit {
                limit_kib: whole(limit, "memory limit", "KiB")?,
                peak_kib: whole(peak, "memory peak", "KiB")?,
            })
        }
        _ => Err(unknown()),
    }
}

/// A whole, non-negative number of `unit`s, or why not.
fn whole(text: &str, what: &str, unit: &str) -> std::result::Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{what} {text:?} is not a whole number of {unit}"))
}

fn parse_line(line: &str) -> std::result::Result<(String, Observation), String> {
    // The cause comes last and may itself hold '|': at most one split past the fifth field.
    let fields: Vec<&str> = line.splitn(STATUS_FIELDS + 1, '|').collect();
    let [id, status, code, started, finished, ref rest @ ..] = fields[..] else {
        return Err(format!(
            "expected {STATUS_FIELDS} '|'-separated fields, found {}",
            fields.len()
        ));
    };
    let (id, status) = (id.trim(), status.trim());
    let cause = rest.first().map_or("", |c| c.trim());
    if id.is_empty() {
        return Err("empty job id".to_owned());
    }
    let exit_code = opt_int(code, "exit code")?;
    let started_at = opt_time(started, "start time")?;
    let finished_at = opt_time(finished, "finish time")?;
    let cause = read_cause(status, cause)?;
    let exit_code = if matches!(cause, Cause::NotRun(_)) {
        None
    } else {
        exit_code
    };
    let exit_signal = exit_code.and_then(signal_of);
    let text = |t: &str| (!t.is_empty()).then(|| t.to_owned());
    let (state, reason) = match (status, cause) {
        ("queued", Cause::Text(why)) => (JobState::Queued, text(why)),
        ("queued", _) => (JobState::Queued, None),
        ("running", _) => (JobState::Running, None),
        ("vanished", _) => (JobState::Lost, Some(VANISHED_REASON.to_owned())),
        ("cancelled", Cause::Text(why)) => (JobState::Cancelled, text(why)),
        ("cancelled", _) => (JobState::Cancelled, None),
        ("exited", Cause::NotRun(why)) => (JobState::Failed, Some(why.to_owned())),
        ("exited", Cause::TimeLimit(seconds)) => {
            (JobState::TimedOut, Some(time_limit_reason(seconds)))
        }
        (
            "exited",
            Cause::MemoryLimit {
                limit_kib,
                peak_kib,
            },
        ) => (
            JobState::OutOfMemory,
            Some(memory_limit_reason(limit_kib, peak_kib)),
        ),
        ("exited", _) => match (exit_code, exit_signal) {
            (Some(0), _) => (JobState::Succeeded, None),
            (Some(_), Some(sig)) => (JobState::Failed, Some(signal_text(sig))),
            (Some(n), None) => (
                JobState::Failed,
                Some(format!("process exited with code {n}")),
            ),
            (None, _) => return Err("status 'exited' without an exit code".to_owned()),
        },
        (other, _) => return Err(format!("unknown status {other:?}")),
    };
    let ended = state.is_terminal();
    let obs = Observation {
        state: Some(state),
        raw_state: status.to_owned().into(),
        exit_code: if ended { exit_code } else { None },
        exit_signal: if ended { exit_signal } else { None },
        reason,
        // A waiting job has not started, whatever the line says.
        started_at: if state == JobState::Queued {
            None
        } else {
            started_at
        },
        finished_at: if ended { finished_at } else { None },
        ..Observation::default()
    };
    Ok((id.to_owned(), obs))
}

/// Reason recorded for a job whose output file would not open: it never ran.
pub const NO_STDOUT_REASON: &str =
    "the job did not run: its output file (output_file) could not be opened for writing";

/// Reason recorded for a job whose error file would not open: it never ran.
pub const NO_STDERR_REASON: &str =
    "the job did not run: its error file (error_file) could not be opened for writing";

/// The signal behind a shell status of 128+N (N in 1..=64).
fn signal_of(status: i64) -> Option<i64> {
    (129..=192).contains(&status).then_some(status - 128)
}

/// The job's id as the local backend printed it on submit (the launcher's
/// pid, or a local scheduler's job number): the first non-empty line, a
/// positive integer.
pub fn parse_submit_id(data: &[u8]) -> Result<String> {
    let text = String::from_utf8_lossy(data);
    let first = lines(&text).next().map(str::trim);
    match first {
        Some(pid) if pid.parse::<u64>().is_ok_and(|n| n > 0) => Ok(pid.to_owned()),
        _ => Err(Error::parse(
            "shell",
            format!(
                "expected the job's pid as the first line, got {:?}",
                shorten(&text)
            ),
        )),
    }
}

/// At most 200 characters of `text`, for error messages.
fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(200).collect();
    if out.len() < text.len() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Observation {
        let snap = parse_status(line.as_bytes());
        assert!(snap.skipped.is_empty(), "{:?}", snap.skipped);
        let first = snap.entries().next().unwrap().1.to_observation();
        first
    }

    #[test]
    fn array_task_lines_fold_into_their_array() {
        let snap = parse_status(
            b"17_1|exited|0|1|2\n17_2|running||1.5|\n17_3|queued||||waiting for 1 CPU; 0 free\n",
        );
        assert!(snap.skipped.is_empty(), "{:?}", snap.skipped);
        assert!(snap.is_array("17"));
        assert_eq!(snap.get("17").unwrap().state, Some(JobState::Running));
        let tasks: Vec<_> = snap
            .array_tasks("17")
            .map(|(task, obs)| (task.to_owned(), obs.state))
            .collect();
        assert_eq!(
            tasks,
            [
                ("1".to_owned(), Some(JobState::Succeeded)),
                ("2".to_owned(), Some(JobState::Running)),
                ("3".to_owned(), Some(JobState::Queued)),
            ]
        );
        let done = parse_status(b"4_0|exited|0|1|2\n4_5|exited|2|1|3\n");
        let whole = done.get("4").unwrap();
        assert_eq!(
            (whole.state, whole.exit_code),
            (Some(JobState::Failed), Some(2))
        );
    }

    #[test]
    fn status_table() {
        let cases: [(&str, JobState, Option<i64>, Option<&str>); 7] = [
            (
                "10|cancelled|143|100|200",
                JobState::Cancelled,
                Some(143),
                None,
            ),
            ("10|cancelled|||", JobState::Cancelled, None, None),
            ("10|running||100.5|", JobState::Running, None, None),
            ("10|exited|0|100|200", JobState::Succeeded, Some(0), None),
            (
                "10|exited|3|100|200",
                JobState::Failed,
                Some(3),
                Some("process exited with code 3"),
            ),
            (
                "10|exited|-1||",
                JobState::Failed,
                Some(-1),
                Some("process exited with code -1"),
            ),
            (
                "10|vanished|||",
                JobState::Lost,
                None,
                Some(VANISHED_REASON),
            ),
        ];
        for (line, state, code, reason) in cases {
            let obs = one(line);
            assert_eq!(obs.state, Some(state), "{line}");
            assert_eq!(obs.exit_code, code, "{line}");
            assert_eq!(obs.reason.as_deref(), reason, "{line}");
        }
        let obs = one(" 7 | exited | 0 | 1.5 | 2.5 \r\n");
        assert_eq!((obs.started_at, obs.finished_at), (Some(1.5), Some(2.5)));
    }

    #[test]
    fn a_status_of_128_plus_n_is_signal_n() {
        let obs = one("10|exited|137|100|200");
        assert_eq!(obs.state, Some(JobState::Failed));
        assert_eq!((obs.exit_code, obs.exit_signal), (Some(137), Some(9)));
        assert_eq!(obs.reason.as_deref(), Some("killed by signal 9 (SIGKILL)"));
        let cancelled = one("10|cancelled|143|100|200|");
        assert_eq!(cancelled.state, Some(JobState::Cancelled));
        assert_eq!(
            (cancelled.exit_code, cancelled.exit_signal),
            (Some(143), Some(15))
        );
        for plain in ["10|exited|128|1|2", "10|exited|193|1|2", "10|exited|1|1|2"] {
            let obs = one(plain);
            assert_eq!(obs.exit_signal, None, "{plain}");
            assert!(obs.reason.unwrap().starts_with("process exited"), "{plain}");
        }
        assert_eq!(one("10|running||1|").exit_signal, None);
    }

    #[test]
    fn a_job_that_could_not_open_its_output_did_not_run() {
        for (cause, reason) in [("stdout", NO_STDOUT_REASON), ("stderr", NO_STDERR_REASON)] {
            let obs = one(&format!("10|exited|1|100|200|{cause}"));
            assert_eq!(obs.state, Some(JobState::Failed));
            assert_eq!(obs.exit_code, None);
            assert_eq!(obs.reason.as_deref(), Some(reason));
        }
        let snap = parse_status(b"10|exited|1|100|200|disk\n11|exited|0|1|2|\n");
        assert_eq!(snap.skipped.len(), 1);
        assert!(snap.skipped[0].reason.contains("cause"));
        assert_eq!(snap.len(), 1);
    }

    #[test]
    fn a_queued_job_waits_with_its_reason() {
        let obs = one("17|queued||||waiting for 4 CPUs; 2 free");
        assert_eq!(obs.state, Some(JobState::Queued));
        assert_eq!(obs.reason.as_deref(), Some("waiting for 4 CPUs; 2 free"));
        let obs = one("17|queued||||waiting for job 17 to succeed | or fail");
        assert_eq!(
            obs.reason.as_deref(),
            Some("waiting for job 17 to succeed | or fail"),
            "a '|' in the reason stays in it"
        );
        for bare in ["17|queued||||", "17|queued|||", "17|queued||||  "] {
            let obs = one(bare);
            assert_eq!(
                (obs.state, obs.reason.as_deref()),
                (Some(JobState::Queued), None),
                "{bare:?}"
            );
        }
        let obs = one("17|queued|3|100|200|stdout");
        assert_eq!(
            (obs.exit_code, obs.started_at, obs.finished_at),
            (None, None, None),
            "a waiting job has neither started nor ended"
        );
        assert_eq!(
            obs.reason.as_deref(),
            Some("stdout"),
            "free text, not a cause"
        );
    }

    #[test]
    fn a_job_stopped_at_its_time_limit_timed_out() {
        let obs = one("8|exited|143|100|5500|time:5400");
        assert_eq!(obs.state, Some(JobState::TimedOut));
        assert_eq!((obs.exit_code, obs.exit_signal), (Some(143), Some(15)));
        assert_eq!(obs.finished_at, Some(5500.0));
        assert_eq!(
            obs.reason.as_deref(),
            Some("the job exceeded its time limit of 1:30:00 and was stopped")
        );
        let obs = one("8|exited|124|100|130|time:30");
        assert_eq!(
            (obs.exit_code, obs.exit_signal),
            (Some(124), None),
            "the exit code is kept as it is"
        );
        assert_eq!(
            obs.reason.as_deref(),
            Some("the job exceeded its time limit of 30 s and was stopped")
        );
        assert_eq!(one("8|exited||100|130|time:30").exit_code, None);
    }

    #[test]
    fn a_job_killed_over_its_memory_limit_ran_out_of_memory() {
        let obs = one("9|exited|137|100|200|memory:1048576:1258291");
        assert_eq!(obs.state, Some(JobState::OutOfMemory));
        assert_eq!((obs.exit_code, obs.exit_signal), (Some(137), Some(9)));
        assert_eq!(
            obs.reason.as_deref(),
            Some("the job used 1.2 GiB of memory, over its limit of 1.0 GiB, and was killed")
        );
    }

    #[test]
    fn a_job_cancelled_by_its_dependency_says_which() {
        let obs = one("5|cancelled||||dependency:dependency 17 ended FAILED: it can never start");
        assert_eq!(obs.state, Some(JobState::Cancelled));
        assert_eq!(
            obs.reason.as_deref(),
            Some("dependency 17 ended FAILED: it can never start")
        );
        let obs = one("5|cancelled||||dependency:17|18 ended: it can never start");
        assert_eq!(
            obs.reason.as_deref(),
            Some("17|18 ended: it can never start")
        );
        assert_eq!(one("5|cancelled||||dependency:").reason, None);
        assert_eq!(one("5|cancelled|143|1|2").reason, None, "a plain cancel");
    }

    #[test]
    fn a_cause_the_status_cannot_have_is_unknown() {
        let text = "1|running||1||time:30
                    2|exited|1|1|2|dependency:x
                    3|cancelled||||waiting for 2 CPUs
                    4|exited|137|1|2|memory:1024
                    5|exited|137|1|2|memory:1024:x
                    6|exited|143|1|2|time:1.5
                    7|exited|143|1|2|time:-3
                    8|exited|1|1|2|stdout|extra
                    9|vanished||||memory:1:2
                    10|exited|0|1|2|
";
        let snap = parse_status(text.as_bytes());
        let ids: Vec<_> = snap.entries().map(|(id, _)| id).collect();
        assert_eq!(ids, ["10"], "{:?}", snap.skipped);
        let reasons: Vec<_> = snap.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(reasons[0], "unknown cause \"time:30\"");
        assert_eq!(reasons[2], "unknown cause \"waiting for 2 CPUs\"");
        assert!(
            reasons[3].contains("memory:<limit_kib>:<peak_kib>"),
            "{}",
            reasons[3]
        );
        assert!(reasons[4].contains("whole number of KiB"), "{}", reasons[4]);
        assert!(
            reasons[5].contains("whole number of seconds"),
            "{}",
            reasons[5]
        );
        assert_eq!(reasons[7], "unknown cause \"stdout|extra\"");
    }

    #[test]
    fn bad_lines_are_skipped_not_fatal() {
        let text = "1|running|||\n\
                    2|running\n\
                    3|exited|x||\n\
                    4|sleeping|||\n\
                    5|exited|||\n\
                    6|running||nan|\n\
                    |running|||\n\
                    \n\
                    7|exited|1|1|2\n";
        let snap = parse_status(text.as_bytes());
        let ids: Vec<_> = snap.entries().map(|(id, _)| id).collect();
        assert_eq!(ids, ["1", "7"]);
        assert_eq!(snap.skipped.len(), 6);
        assert!(snap.skipped[0].reason.contains("fields"));
        assert!(snap.skipped[2].reason.contains("sleeping"));
        assert_eq!(snap.skipped[0].line, "2|running");
    }

    #[test]
    fn non_utf8_is_lossy() {
        let snap = parse_status(b"1|running|||\n\xff\xfe|running|||\n");
        assert_eq!(snap.len(), 2);
    }

    #[test]
    fn submit_id() {
        assert_eq!(parse_submit_id(b"\n  4242 \nnoise").unwrap(), "4242");
        assert_eq!(
            parse_submit_id(b"17\n").unwrap(),
            "17",
            "a local job number"
        );
        for bad in [&b""[..], b"0", b"-3", b"abc", b"12 34", b"\n\n"] {
            let err = parse_submit_id(bad).unwrap_err().to_string();
            assert!(err.contains("pid"), "{err}");
        }
    }
}
