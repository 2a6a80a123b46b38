//! Scheduler output in, [`Snapshot`]s out.
//!
//! Every parser decodes bytes lossily and works line by line: a line it cannot
//! use lands in [`Snapshot::skipped`] with a reason and never costs the others.
//! Only input that is unusable as a whole (or an unknown kind) is an error.

mod array;
pub mod cancel;
mod ids;
mod json;
pub mod lsf;
mod lsf_bhist;
mod lsf_marks;
mod names;
pub mod pbs;
mod pbs_marks;
mod pbs_trace;
pub mod refusal;
pub mod sge;
mod sge_marks;
pub mod shell;
mod shell_limits;
pub mod slurm;
mod slurm_lists;
mod snapshot;
mod when;
mod xml;

use std::fmt;

use crate::error::{Error, Result};
use crate::model::Timestamp;
pub use cancel::{parse_cancel, CancelOutcome};
pub(crate) use ids::IdMap;
pub use refusal::{classify_submit_refusal, only_unknown_ids, SubmitRefusal};
pub use snapshot::{Skipped, Snapshot};

/// The output formats the core can read. New schedulers slot in here and in the
/// three dispatch functions below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchedulerKind {
    /// The local backend's status lines (see [`shell`]).
    Shell,
    /// squeue, sacct and sbatch output in the formats of [`slurm`].
    Slurm,
    /// Grid Engine's qstat -xml, qacct -j and qsub -terse output (see [`sge`]).
    Sge,
    /// PBS Pro / OpenPBS and Torque: qstat (table, -f, -F json), tracejob, qsub (see [`pbs`]).
    Pbs,
    /// IBM Spectrum LSF: bjobs (-o delimited, -json), bhist -l, bsub (see [`lsf`]).
    Lsf,
}

impl SchedulerKind {
    /// The kind named `name` (`"shell"`...).
    pub fn parse(name: &str) -> Result<SchedulerKind> {
        match name {
            "shell" => Ok(SchedulerKind::Shell),
            "slurm" => Ok(SchedulerKind::Slurm),
            "sge" => Ok(SchedulerKind::Sge),
            "pbs" => Ok(SchedulerKind::Pbs),
            "lsf" => Ok(SchedulerKind::Lsf),
            other => Err(Error::parse(
                other,
                format!(
                    "unknown scheduler output kind {other:?} (known: shell, slurm, sge, pbs, lsf)"
                ),
            )),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            SchedulerKind::Shell => "shell",
            SchedulerKind::Slurm => "slurm",
            SchedulerKind::Sge => "sge",
            SchedulerKind::Pbs => "pbs",
            SchedulerKind::Lsf => "lsf",
        }
    }
}

impl fmt::Display for SchedulerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parse a queue listing.
pub fn parse_queue(kind: SchedulerKind, data: &[u8]) -> Result<Snapshot> {
    match kind {
        SchedulerKind::Shell => Ok(shell::parse_status(data)),
        SchedulerKind::Slurm => Ok(slurm::parse_squeue(data)),
        SchedulerKind::Sge => sge::parse_qstat_xml(data),
        SchedulerKind::Pbs => pbs::parse(data),
        SchedulerKind::Lsf => lsf::parse(data),
    }
}

/// Parse accounting output (finished jobs with exit codes).
pub fn parse_accounting(kind: SchedulerKind, data: &[u8]) -> Result<Snapshot> {
    match kind {
        SchedulerKind::Shell => Err(Error::parse(
            kind.as_str(),
            "the shell backend has no accounting output (its status lines carry exit codes)",
        )),
        SchedulerKind::Slurm => Ok(slurm::parse_sacct(data)),
        SchedulerKind::Sge => Ok(sge::parse_qacct(data)),
        // the same formats: qstat -x for history, tracejob as a last resort
        SchedulerKind::Pbs => pbs::parse(data),
        // bjobs for recently finished jobs, bhist -l for older ones
        SchedulerKind::Lsf => lsf::parse(data),
    }
}

/// The scheduler's id for a job, from its submit command's stdout.
pub fn parse_submit_id(kind: SchedulerKind, data: &[u8]) -> Result<String> {
    match kind {
        SchedulerKind::Shell => shell::parse_submit_id(data),
        SchedulerKind::Slurm => slurm::parse_sbatch_id(data),
        SchedulerKind::Sge => sge::parse_qsub_id(data),
        SchedulerKind::Pbs => pbs::parse_qsub_id(data),
        SchedulerKind::Lsf => lsf::parse_bsub_id(data),
    }
}

/// "killed by signal 9 (SIGKILL)": a signal number with its Linux name when common.
pub(crate) fn signal_text(signal: i64) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        _ => return format!("killed by signal {signal}"),
    };
    format!("killed by signal {signal} ({name})")
}

/// Lines of lossily decoded text, without line ends, blank ones dropped.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
}

/// An empty field is `None`; otherwise a finite float or an error reason.
pub(crate) fn opt_time(field: &str, what: &str) -> std::result::Result<Option<Timestamp>, String> {
    let field = field.trim();
    if field.is_empty() {
        return Ok(None);
    }
    match field.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(format!("{what} {field:?} is not a number of seconds")),
    }
}

/// An empty field is `None`; otherwise an integer or an error reason.
pub(crate) fn opt_int(field: &str, what: &str) -> std::result::Result<Option<i64>, String> {
    let field = field.trim();
    if field.is_empty() {
        return Ok(None);
    }
    field
        .parse::<i64>()
        .map(Some)
        .map_err(|_| format!("{what} {field:?} is not an integer"))
}

/// The recorded (exit code, stdout, stderr) of fixture `name` in
/// `tests/fixtures/<dir>` (for the tests of the parsers of command answers).
#[cfg(test)]
pub(crate) fn recorded(dir: &str, name: &str) -> (i64, Vec<u8>, Vec<u8>) {
    let base = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let read = |ext: &str| {
        std::fs::read(base.join(format!("{name}.{ext}")))
            .unwrap_or_else(|e| panic!("{dir}/{name}.{ext}: {e}"))
    };
    let rc = String::from_utf8(read("rc")).unwrap_or_default();
    let rc = rc
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{dir}/{name}.rc: {rc:?}"));
    (rc, read("stdout"), read("stderr"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kind_is_named() {
        let err = SchedulerKind::parse("slurmish").unwrap_err().to_string();
        assert!(err.contains("slurmish"), "{err}");
    }

    #[test]
    fn shell_has_no_accounting() {
        assert!(matches!(
            parse_accounting(SchedulerKind::Shell, b""),
            Err(Error::Parse { .. })
        ));
    }
}
