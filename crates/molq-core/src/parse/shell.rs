//! The local backend's status lines.
//!
//! The local backend (no batch system) prints one line per job it was asked about:
//!
//! ```text
//! <scheduler_job_id>|<status>|<exit_code>|<started_at>|<finished_at>[|<cause>]
//! ```
//!
//! `status` is `running` (a process of the job is alive), `exited` (the wrapper
//! wrote an exit code), `cancelled` (molq asked it to stop and it is gone) or
//! `vanished` (the process is gone without an exit code). Empty fields mean
//! "unknown"; times are float epoch seconds. The optional `cause` says why a job
//! did not run at all: `stdout` or `stderr`, the file that would not open.
//!
//! The wrapper is a shell: it sees a job killed by signal N as status 128+N,
//! so a status of 129..=192 is read as that signal (the convention of every
//! POSIX shell), keeping both numbers.

use super::{lines, opt_int, opt_time, signal_text, Snapshot};
use crate::error::{Error, Result};
use crate::model::Observation;
use crate::state::JobState;

/// Number of `|`-separated fields in a status line (a sixth, the cause, is optional).
pub const STATUS_FIELDS: usize = 5;

/// Reason recorded for a process that ended without writing its exit code.
pub const VANISHED_REASON: &str =
    "process ended without recording an exit code (no exit code file: killed, or its machine restarted)";

/// Parse status lines into a snapshot; bad lines go to `skipped`.
pub fn parse_status(data: &[u8]) -> Snapshot {
    let text = String::from_utf8_lossy(data);
    let mut snap = Snapshot::new();
    for line in lines(&text) {
        match parse_line(line) {
            Ok((id, obs)) => {
                snap.insert(id, obs);
            }
            Err(reason) => snap.skip(line, reason),
        }
    }
    snap
}

fn parse_line(line: &str) -> std::result::Result<(String, Observation), String> {
    let fields: Vec<&str> = line.split('|').map(str::trim).collect();
    let (id, status, code, started, finished, cause) = match fields[..] {
        [id, status, code, started, finished] => (id, status, code, started, finished, ""),
        [id, status, code, started, finished, cause] => {
            (id, status, code, started, finished, cause)
        }
        _ => {
            return Err(format!(
                "expected {STATUS_FIELDS} '|'-separated fields, found {}",
                fields.len()
            ))
        }
    };
    if id.is_empty() {
        return Err("empty job id".to_owned());
    }
    let exit_code = opt_int(code, "exit code")?;
    let started_at = opt_time(started, "start time")?;
    let finished_at = opt_time(finished, "finish time")?;
    let not_run = match cause {
        "" => None,
        "stdout" => Some(NO_STDOUT_REASON),
        "stderr" => Some(NO_STDERR_REASON),
        other => return Err(format!("unknown cause {other:?}")),
    };
    let exit_code = if not_run.is_some() { None } else { exit_code };
    let exit_signal = exit_code.and_then(signal_of);
    let (state, reason) = match (status, not_run) {
        ("running", _) => (JobState::Running, None),
        ("vanished", _) => (JobState::Lost, Some(VANISHED_REASON.to_owned())),
        ("cancelled", _) => (JobState::Cancelled, None),
        ("exited", Some(why)) => (JobState::Failed, Some(why.to_owned())),
        ("exited", None) => match (exit_code, exit_signal) {
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
    let obs = Observation {
        state: Some(state),
        raw_state: status.to_owned().into(),
        exit_code: if state == JobState::Running {
            None
        } else {
            exit_code
        },
        exit_signal: if state == JobState::Running {
            None
        } else {
            exit_signal
        },
        reason,
        started_at,
        finished_at: if state.is_terminal() {
            finished_at
        } else {
            None
        },
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

/// The launcher's pid: the first non-empty line, a positive integer.
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
        for bad in [&b""[..], b"0", b"-3", b"abc", b"12 34", b"\n\n"] {
            let err = parse_submit_id(bad).unwrap_err().to_string();
            assert!(err.contains("pid"), "{err}");
        }
    }
}
