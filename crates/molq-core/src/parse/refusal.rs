//! Why a submit command said no: worth trying again later, or not.

use super::cancel::only_mentions;
use super::SchedulerKind;

/// A refused submission, as its stderr tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitRefusal {
    /// The scheduler could not take jobs just then (controller down or busy,
    /// the queue full): the same submission may well pass later.
    Transient,
    /// The submission itself was refused (a bad option, partition, limit...).
    Refused,
}

impl SubmitRefusal {
    pub const fn as_str(self) -> &'static str {
        match self {
            SubmitRefusal::Transient => "transient",
            SubmitRefusal::Refused => "refused",
        }
    }
}

/// What sbatch prints (lowercased here) when slurmctld cannot take the job
/// now: `Batch job submission failed: Slurm temporarily unable to accept job,
/// sleeping and retrying` (MaxJobCount reached), `Socket timed out on
/// send/recv operation`, `Unable to contact slurm controller (connect
/// failure)`, and slurmdbd's `slurm_persist_conn_open` when accounting is down.
const SLURM_TRANSIENT: [&str; 4] = [
    "temporarily unable to accept job",
    "socket timed out",
    "unable to contact slurm controller",
    "slurm_persist_conn_open",
];

/// Classify the stderr of a submit command of `kind` that failed. Only Slurm's
/// words are known; any other refusal counts as final.
pub fn classify_submit_refusal(kind: SchedulerKind, stderr: &[u8]) -> SubmitRefusal {
    match kind {
        SchedulerKind::Slurm => {
            let text = String::from_utf8_lossy(stderr).to_lowercase();
            if SLURM_TRANSIENT.iter().any(|m| text.contains(m)) {
                SubmitRefusal::Transient
            } else {
                SubmitRefusal::Refused
            }
        }
        _ => SubmitRefusal::Refused,
    }
}

/// What PBS's qstat and qdel print on stderr for an id the server does not
/// know, or (qstat without -x) holds only in its history.
pub(crate) const PBS_UNKNOWN: [&str; 3] =
    ["Unknown Job Id", "Job has finished", "job has finished"];
/// What bjobs and bhist print on stderr for ids LSF does not know (rc 255).
const LSF_UNKNOWN: [&str; 4] = [
    "is not found",
    "No matching job found",
    "No unfinished job found",
    "No job found",
];

/// Whether a query of ids that failed (its exit code not 0) failed only over
/// ids the scheduler does not know, or no longer lists: then what it printed
/// on stdout is a complete answer for the others. Slurm: `squeue -j` of one
/// such id (`slurm_load_jobs error: Invalid job id specified`); PBS and LSF:
/// every line on stderr names such an id. Grid Engine (`qstat -j <ids>`, or
/// `'*'` with no job at all): `Following jobs do not exist:` then the ids.
pub fn only_unknown_ids(kind: SchedulerKind, stderr: &[u8]) -> bool {
    let text = String::from_utf8_lossy(stderr);
    match kind {
        SchedulerKind::Slurm => text.contains("Invalid job id specified"),
        SchedulerKind::Pbs => only_mentions(&text, &PBS_UNKNOWN),
        SchedulerKind::Lsf => only_mentions(&text, &LSF_UNKNOWN),
        SchedulerKind::Sge => sge_only_unknown(&text),
        _ => false,
    }
}

/// `Following jobs do not exist: ` and nothing after it but job ids (or the
/// `*` that was asked for), separated by commas and blanks.
fn sge_only_unknown(text: &str) -> bool {
    let Some(rest) = text
        .trim_start()
        .strip_prefix("Following jobs do not exist:")
    else {
        return false;
    };
    !rest.trim().is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == ',' || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::super::recorded;
    use super::*;

    #[test]
    fn recorded_refusals() {
        use SubmitRefusal::{Refused, Transient};
        for (kind, dir, name, want) in [
            (
                SchedulerKind::Slurm,
                "slurm",
                "sbatch_slurmctld_down",
                Transient,
            ),
            (
                SchedulerKind::Slurm,
                "slurm",
                "sbatch_bad_partition",
                Refused,
            ),
            (SchedulerKind::Slurm, "slurm", "sbatch_bad_option", Refused),
            (SchedulerKind::Pbs, "pbs", "qsub_bad_queue", Refused),
            (SchedulerKind::Lsf, "lsf", "bsub_bad_queue", Refused),
            (SchedulerKind::Sge, "sge", "qsub_name_with_space", Refused),
        ] {
            let got = classify_submit_refusal(kind, &recorded(dir, name).2);
            assert_eq!(got, want, "{dir}/{name}");
        }
    }

    #[test]
    fn slurm_words_in_any_case() {
        for text in [
            "sbatch: error: Batch job submission failed: Slurm temporarily unable to accept job, sleeping and retrying",
            "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation",
            "sbatch: error: slurm_persist_conn_open: failed to open persistent connection",
        ] {
            let got = classify_submit_refusal(SchedulerKind::Slurm, text.as_bytes());
            assert_eq!(got, SubmitRefusal::Transient, "{text}");
        }
        let pbs = classify_submit_refusal(SchedulerKind::Pbs, b"socket timed out");
        assert_eq!(pbs.as_str(), "refused");
    }

    #[test]
    fn unknown_ids() {
        for (kind, dir, name, want) in [
            (SchedulerKind::Slurm, "slurm", "squeue_unknown", true),
            (SchedulerKind::Slurm, "slurm", "squeue_purged", true),
            (
                SchedulerKind::Slurm,
                "slurm",
                "squeue_slurmctld_down",
                false,
            ),
            (SchedulerKind::Pbs, "pbs", "qstat_f_json_unknown", true),
            (SchedulerKind::Lsf, "lsf", "bjobs_o_unknown", true),
            (SchedulerKind::Lsf, "lsf", "bjobs_o_some_unknown", true),
            (SchedulerKind::Lsf, "lsf", "bhist_l_unknown", true),
            (SchedulerKind::Sge, "sge", "qstat_j_none", true),
            (SchedulerKind::Sge, "sge", "qstat_j_unknown", true),
        ] {
            let got = only_unknown_ids(kind, &recorded(dir, name).2);
            assert_eq!(got, want, "{dir}/{name}");
        }
        let mixed = b"qstat: Unknown Job Id 9.srv\nqstat: cannot connect to server srv\n";
        assert!(!only_unknown_ids(SchedulerKind::Pbs, mixed));
        assert!(!only_unknown_ids(SchedulerKind::Sge, b""));
        let down = b"error: commlib error: got select error (Connection refused)\n";
        assert!(!only_unknown_ids(SchedulerKind::Sge, down));
        let more = b"Following jobs do not exist: \n12\nerror: something else\n";
        assert!(!only_unknown_ids(SchedulerKind::Sge, more));
    }
}
