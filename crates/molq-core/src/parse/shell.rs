//! The local backend's status lines.
//!
//! The local backend (no batch system) prints one line per job it was asked about:
//!
//! ```text
//! <scheduler_job_id>|<status>|<exit_code>|<started_at>|<finished_at>
//! ```
//!
//! `status` is `running` (the process is alive), `exited` (the wrapper wrote an
//! exit code), `cancelled` (molq asked it to stop and it is gone) or `vanished`
//! (the process is gone without an exit code). Empty fields mean "unknown";
//! times are float epoch seconds.

use super::{lines, opt_int, opt_time, Snapshot};
use crate::error::{Error, Result};
use crate::model::Observation;
use crate::state::JobState;

/// Number of `|`-separated fields in a status line.
pub const STATUS_FIELDS: usize = 5;

/// Reason recorded for a process that ended without writing its exit code.
pub const VANISHED_REASON: &str =
    "process ended without recording an exit code (killed, or its machine restarted)";

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
    let [id, status, code, started, finished] = fields[..] else {
        return Err(format!(
            "expected {STATUS_FIELDS} '|'-separated fields, found {}",
            fields.len()
        ));
    };
    if id.is_empty() {
        return Err("empty job id".to_owned());
    }
    let exit_code = opt_int(code, "exit code")?;
    let started_at = opt_time(started, "start time")?;
    let finished_at = opt_time(finished, "finish time")?;
    let (state, reason) = match status {
        "running" => (JobState::Running, None),
        "vanished" => (JobState::Lost, Some(VANISHED_REASON.to_owned())),
        "cancelled" => (JobState::Cancelled, None),
        "exited" => match exit_code {
            Some(0) => (JobState::Succeeded, None),
            Some(n) => (
                JobState::Failed,
                Some(format!("process exited with code {n}")),
            ),
            None => return Err("status 'exited' without an exit code".to_owned()),
        },
        other => return Err(format!("unknown status {other:?}")),
    };
    let obs = Observation {
        state: Some(state),
        raw_state: status.to_owned().into(),
        exit_code: if state == JobState::Running {
            None
        } else {
            exit_code
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
