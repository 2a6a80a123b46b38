//! What a cancel command's answer means: `scancel --verbose`, `qdel` (PBS and
//! Grid Engine) and `bkill`.
//!
//! Each scheduler says "that job had already ended" in words of its own, on
//! stdout or stderr, sometimes with a failing exit code and sometimes not:
//!
//! * Slurm (`scancel --verbose`): `Kill job error on job id N: Job/step already
//!   completing or completed` or `...: Invalid job id specified` (stderr, exit 0
//!   for a plain cancel); any other `error` is a refusal.
//! * PBS (`qdel`): silent on success; `qdel: Job has finished N` (exit 35),
//!   `qdel: Unknown Job Id N` (exit 153), `Request invalid for state of job`.
//! * LSF (`bkill`): `Job <N> is being terminated`; `Job <N>: Job has already
//!   finished`, `Job <N>: No matching job found`, `... is not found` (exit 255).
//! * Grid Engine (`qdel`): `... registered the job N for deletion`, `... has
//!   deleted job N`, `job N is already in deletion`; `denied: job "N" does not
//!   exist` (exit 1) for finished and unknown jobs alike.

use super::refusal::PBS_UNKNOWN;
use super::SchedulerKind;

/// What a cancel command said about the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The scheduler took the request: the job is being (or was) stopped.
    Cancelled,
    /// The job had already ended (or the scheduler no longer knows it).
    AlreadyEnded,
    /// The scheduler refused, or answered in words that mean neither.
    Refused {
        /// What it said (stderr, else stdout, trimmed), for the error message.
        message: String,
    },
}

/// What a PBS `qdel` prints on stderr for a job that is over (or unknown).
const PBS_ENDED: [&str; 4] = [
    PBS_UNKNOWN[0],
    PBS_UNKNOWN[1],
    PBS_UNKNOWN[2],
    "Request invalid for state of job",
];
const LSF_ENDED: [&str; 3] = ["already finished", "No matching job found", "is not found"];
const SGE_TAKEN: [&str; 3] = ["for deletion", "has deleted", "already in deletion"];
/// Lowercase: scancel's wording varies in case between versions.
const SLURM_ENDED: [&str; 3] = ["already complet", "invalid job id", "job has finished"];

/// Read the answer of the cancel command of `kind` (its exit code and both
/// outputs). The local backend's cancel is molq's own script: for it (and
/// any kind without a cancel command) only the exit code counts.
pub fn parse_cancel(
    kind: SchedulerKind,
    returncode: i64,
    stdout: &[u8],
    stderr: &[u8],
) -> CancelOutcome {
    let out = String::from_utf8_lossy(stdout);
    let err = String::from_utf8_lossy(stderr);
    let both = format!("{err}\n{out}");
    let has = |markers: &[&str]| markers.iter().any(|m| both.contains(m));
    let refused = || CancelOutcome::Refused {
        message: said(&out, &err),
    };
    match kind {
        SchedulerKind::Slurm => {
            // scancel's own messages start `scancel: `; anything else on its
            // stderr (an sshd banner, a greeting from the login shell) is not
            // its answer, whatever words it holds.
            let text = both
                .lines()
                .filter(|l| l.trim_start().starts_with("scancel:"))
                .collect::<Vec<_>>()
                .join("\n")
                .to_lowercase();
            if SLURM_ENDED.iter().any(|m| text.contains(m)) {
                CancelOutcome::AlreadyEnded
            } else if returncode != 0 || text.contains("error") {
                refused()
            } else {
                CancelOutcome::Cancelled
            }
        }
        SchedulerKind::Pbs => {
            if returncode == 0 {
                CancelOutcome::Cancelled
            } else if only_mentions(&err, &PBS_ENDED) {
                CancelOutcome::AlreadyEnded
            } else {
                refused()
            }
        }
        SchedulerKind::Lsf => {
            if has(&LSF_ENDED) {
                CancelOutcome::AlreadyEnded
            } else if returncode == 0 {
                CancelOutcome::Cancelled
            } else {
                refused()
            }
        }
        SchedulerKind::Sge => {
            if both.contains("does not exist") {
                CancelOutcome::AlreadyEnded
            } else if returncode == 0 && has(&SGE_TAKEN) {
                CancelOutcome::Cancelled
            } else {
                refused()
            }
        }
        SchedulerKind::Shell => {
            if returncode == 0 {
                CancelOutcome::Cancelled
            } else {
                refused()
            }
        }
    }
}

/// Whether every non-blank line of `stderr` holds one of `markers` (the
/// complaints about ids that are over, which a partial answer brings).
pub(crate) fn only_mentions(stderr: &str, markers: &[&str]) -> bool {
    stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .all(|l| markers.iter().any(|m| l.contains(m)))
}

/// What a command said: its stderr, else its stdout, trimmed; "(no output)".
pub(crate) fn said(stdout: &str, stderr: &str) -> String {
    [stderr.trim(), stdout.trim()]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or("(no output)")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::super::recorded;
    use super::*;

    fn outcome_of(kind: SchedulerKind, dir: &str, name: &str) -> CancelOutcome {
        let (rc, out, err) = recorded(dir, name);
        parse_cancel(kind, rc, &out, &err)
    }

    use CancelOutcome::{AlreadyEnded, Cancelled};

    #[test]
    fn recorded_answers() {
        for (kind, dir, name, want) in [
            (SchedulerKind::Slurm, "slurm", "scancel_jobs", Cancelled),
            (
                SchedulerKind::Slurm,
                "slurm",
                "scancel_verbose_running",
                Cancelled,
            ),
            (
                SchedulerKind::Slurm,
                "slurm",
                "scancel_verbose_finished",
                AlreadyEnded,
            ),
            (
                SchedulerKind::Slurm,
                "slurm",
                "scancel_verbose_unknown",
                AlreadyEnded,
            ),
            (SchedulerKind::Pbs, "pbs", "qdel_running", Cancelled),
            (SchedulerKind::Pbs, "pbs", "qdel_finished", AlreadyEnded),
            (SchedulerKind::Pbs, "pbs", "qdel_unknown", AlreadyEnded),
            (SchedulerKind::Lsf, "lsf", "bkill_running", Cancelled),
            (SchedulerKind::Lsf, "lsf", "bkill_finished", AlreadyEnded),
            (SchedulerKind::Lsf, "lsf", "bkill_unknown", AlreadyEnded),
            (SchedulerKind::Sge, "sge", "qdel_running", Cancelled),
            (SchedulerKind::Sge, "sge", "qdel_pending", Cancelled),
            (SchedulerKind::Sge, "sge", "qdel_in_deletion", Cancelled),
            (SchedulerKind::Sge, "sge", "qdel_finished", AlreadyEnded),
            (SchedulerKind::Sge, "sge", "qdel_unknown", AlreadyEnded),
        ] {
            assert_eq!(outcome_of(kind, dir, name), want, "{dir}/{name}");
        }
    }

    #[test]
    fn slurm_reads_only_its_own_lines() {
        // A login banner or shell greeting on stderr, with "error" in it.
        let banner = b"Authorized use only: errors are logged\nWelcome to hpc!\n";
        let mut answer = banner.to_vec();
        answer.extend_from_slice(b"scancel: Terminating job 3\n");
        assert_eq!(
            parse_cancel(SchedulerKind::Slurm, 0, b"", &answer),
            Cancelled
        );
        let mut ended = banner.to_vec();
        ended.extend_from_slice(
            b"scancel: error: Kill job error on job id 4: Job/step already completing or completed\n",
        );
        assert_eq!(
            parse_cancel(SchedulerKind::Slurm, 0, b"", &ended),
            AlreadyEnded
        );
        // a failing exit is a refusal whatever was printed
        assert!(matches!(
            parse_cancel(SchedulerKind::Slurm, 1, b"", banner),
            CancelOutcome::Refused { .. }
        ));
    }

    #[test]
    fn slurm_refusals_carry_the_message() {
        let refused = parse_cancel(
            SchedulerKind::Slurm,
            1,
            b"",
            b"scancel: error: Kill job error on job id 7: Access/permission denied\n",
        );
        assert_eq!(
            refused,
            CancelOutcome::Refused {
                message: "scancel: error: Kill job error on job id 7: Access/permission denied"
                    .into()
            }
        );
        // an error with exit code 0 is still one
        let quiet = parse_cancel(
            SchedulerKind::Slurm,
            0,
            b"",
            b"scancel: error: socket timed out",
        );
        assert!(matches!(quiet, CancelOutcome::Refused { .. }), "{quiet:?}");
        // the wording of older versions, in any case
        let old = parse_cancel(SchedulerKind::Slurm, 1, b"", b"scancel: Job has finished");
        assert_eq!(old, AlreadyEnded);
    }

    #[test]
    fn other_refusals() {
        let pbs = parse_cancel(
            SchedulerKind::Pbs,
            159,
            b"",
            b"qdel: Unauthorized Request  12.srv\n",
        );
        assert_eq!(
            pbs,
            CancelOutcome::Refused {
                message: "qdel: Unauthorized Request  12.srv".into()
            }
        );
        // one id over, another refused: not "ended"
        let mixed = b"qdel: Unknown Job Id 9.srv\nqdel: Unauthorized Request  12.srv\n";
        assert!(matches!(
            parse_cancel(SchedulerKind::Pbs, 159, b"", mixed),
            CancelOutcome::Refused { .. }
        ));
        let lsf = parse_cancel(SchedulerKind::Lsf, 255, b"", b"User permission denied\n");
        assert!(matches!(lsf, CancelOutcome::Refused { .. }));
        // Grid Engine: exit 0 without its words of acceptance is no cancel
        let sge = parse_cancel(SchedulerKind::Sge, 0, b"something else\n", b"");
        assert_eq!(
            sge,
            CancelOutcome::Refused {
                message: "something else".into()
            }
        );
        let silent = parse_cancel(SchedulerKind::Sge, 1, b"", b"");
        assert_eq!(
            silent,
            CancelOutcome::Refused {
                message: "(no output)".into()
            }
        );
        assert_eq!(parse_cancel(SchedulerKind::Shell, 0, b"", b""), Cancelled);
    }
}
