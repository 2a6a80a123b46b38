//! [`JobRecord`]: one stored job, packed for large listings.
//!
//! A listing of 100,000 jobs must cross into Python in well under 150 ms, so a
//! record keeps its fifteen text fields in one allocation (with end offsets)
//! instead of fifteen `String`s, and `metadata` stays JSON text until asked for.
//! [`JobFields`] is the plain, spelled-out form for building and taking apart.

use std::fmt;

use crate::model::{decode_metadata, Timestamp};
use crate::state::JobState;

/// Every field of a job record, spelled out (build a [`JobRecord`] from it).
#[derive(Debug, Clone, PartialEq)]
pub struct JobFields {
    pub job_id: String,
    pub cluster_name: String,
    pub scheduler: String,
    pub state: JobState,
    pub scheduler_job_id: Option<String>,
    pub submitted_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub exit_code: Option<i64>,
    pub exit_signal: Option<i64>,
    pub failure_reason: Option<String>,
    pub cwd: String,
    pub command_type: String,
    pub command_display: String,
    /// The metadata object as JSON text.
    pub metadata_json: String,
    pub root_job_id: String,
    pub attempt: i64,
    pub previous_attempt_job_id: Option<String>,
    pub retry_group_id: Option<String>,
    pub profile_name: Option<String>,
    pub cleaned_at: Option<Timestamp>,
    pub job_dir: String,
    pub retry_due_at: Option<Timestamp>,
    pub retry_state: Option<String>,
}

impl JobFields {
    /// A job with the given identity and every other field at its default.
    pub fn new(job_id: &str, cluster_name: &str, scheduler: &str, state: JobState) -> Self {
        JobFields {
            job_id: job_id.to_owned(),
            cluster_name: cluster_name.to_owned(),
            scheduler: scheduler.to_owned(),
            state,
            scheduler_job_id: None,
            submitted_at: None,
            started_at: None,
            finished_at: None,
            exit_code: None,
            exit_signal: None,
            failure_reason: None,
            cwd: String::new(),
            command_type: String::new(),
            command_display: String::new(),
            metadata_json: "{}".to_owned(),
            root_job_id: String::new(),
            attempt: 1,
            previous_attempt_job_id: None,
            retry_group_id: None,
            profile_name: None,
            cleaned_at: None,
            job_dir: String::new(),
            retry_due_at: None,
            retry_state: None,
        }
    }
}

/// The names of [`Text`]'s fields, in its order (they are also names in
/// [`JobRecord::FIELDS`]).
pub(crate) const TEXT_NAMES: [&str; TEXTS] = [
    "job_id",
    "cluster_name",
    "scheduler",
    "scheduler_job_id",
    "failure_reason",
    "cwd",
    "command_type",
    "command_display",
    "metadata",
    "root_job_id",
    "previous_attempt_job_id",
    "retry_group_id",
    "profile_name",
    "job_dir",
    "retry_state",
];

/// The text fields of a record, in packing order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Text {
    JobId,
    ClusterName,
    Scheduler,
    SchedulerJobId,
    FailureReason,
    Cwd,
    CommandType,
    CommandDisplay,
    Metadata,
    RootJobId,
    PreviousAttemptJobId,
    RetryGroupId,
    ProfileName,
    JobDir,
    RetryState,
}

const TEXTS: usize = 15;

/// An immutable snapshot of one stored job.
#[derive(Clone, PartialEq)]
pub struct JobRecord {
    text: Box<str>,
    ends: [u32; TEXTS],
    /// Bit `i` set: text field `i` is `None`.
    none: u16,
    pub(crate) state: JobState,
    pub(crate) attempt: i64,
    pub(crate) exit_code: Option<i64>,
    pub(crate) exit_signal: Option<i64>,
    pub(crate) submitted_at: Option<Timestamp>,
    pub(crate) started_at: Option<Timestamp>,
    pub(crate) finished_at: Option<Timestamp>,
    pub(crate) cleaned_at: Option<Timestamp>,
    pub(crate) retry_due_at: Option<Timestamp>,
}

/// Packs text fields one after another (used by the row reader too).
pub(crate) struct Packer {
    text: String,
    ends: [u32; TEXTS],
    none: u16,
    next: usize,
}

impl Packer {
    /// A packer for fields of `len` bytes in all (a record is then one
    /// allocation of exactly its size).
    pub(crate) fn with_capacity(len: usize) -> Self {
        Packer {
            text: String::with_capacity(len),
            ends: [0; TEXTS],
            none: 0,
            next: 0,
        }
    }

    /// Append the next text field (in [`Text`] order).
    pub(crate) fn push(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.text.push_str(v),
            None => self.none |= 1 << self.next,
        }
        // Records are far below 4 GiB; saturate rather than wrap if one is not.
        self.ends[self.next] = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.next += 1;
    }

    pub(crate) fn finish(self, state: JobState, attempt: i64) -> JobRecord {
        debug_assert_eq!(self.next, TEXTS);
        JobRecord {
            text: self.text.into_boxed_str(),
            ends: self.ends,
            none: self.none,
            state,
            attempt,
            exit_code: None,
            exit_signal: None,
            submitted_at: None,
            started_at: None,
            finished_at: None,
            cleaned_at: None,
            retry_due_at: None,
        }
    }
}

macro_rules! text_getters {
    ($($(#[$doc:meta])* $name:ident: $field:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> &str {
            self.text_at(Text::$field)
        }
    )*};
}

macro_rules! opt_text_getters {
    ($($name:ident: $field:ident;)*) => {$(
        pub fn $name(&self) -> Option<&str> {
            self.opt_text_at(Text::$field)
        }
    )*};
}

impl JobRecord {
    /// A record's fields: the one list of a job's columns. The store reads
    /// them in this order, and the Python class takes them in this order.
    pub const FIELDS: [&'static str; 24] = [
        "job_id",
        "cluster_name",
        "scheduler",
        "state",
        "scheduler_job_id",
        "submitted_at",
        "started_at",
        "finished_at",
        "exit_code",
        "failure_reason",
        "cwd",
        "command_type",
        "command_display",
        "metadata",
        "root_job_id",
        "attempt",
        "previous_attempt_job_id",
        "retry_group_id",
        "profile_name",
        "cleaned_at",
        "job_dir",
        "exit_signal",
        "retry_due_at",
        "retry_state",
    ];

    fn text_at(&self, field: Text) -> &str {
        let i = field as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..self.ends[i] as usize).unwrap_or("")
    }

    fn opt_text_at(&self, field: Text) -> Option<&str> {
        (self.none & (1 << field as usize) == 0).then(|| self.text_at(field))
    }

    text_getters! {
        job_id: JobId;
        cluster_name: ClusterName;
        scheduler: Scheduler;
        cwd: Cwd;
        command_type: CommandType;
        command_display: CommandDisplay;
        /// The metadata object as stored JSON text.
        metadata_json: Metadata;
        root_job_id: RootJobId;
        job_dir: JobDir;
    }

    opt_text_getters! {
        scheduler_job_id: SchedulerJobId;
        failure_reason: FailureReason;
        previous_attempt_job_id: PreviousAttemptJobId;
        retry_group_id: RetryGroupId;
        profile_name: ProfileName;
        retry_state: RetryState;
    }

    pub fn state(&self) -> JobState {
        self.state
    }
    pub fn attempt(&self) -> i64 {
        self.attempt
    }
    pub fn exit_code(&self) -> Option<i64> {
        self.exit_code
    }
    pub fn exit_signal(&self) -> Option<i64> {
        self.exit_signal
    }
    pub fn submitted_at(&self) -> Option<Timestamp> {
        self.submitted_at
    }
    pub fn started_at(&self) -> Option<Timestamp> {
        self.started_at
    }
    pub fn finished_at(&self) -> Option<Timestamp> {
        self.finished_at
    }
    pub fn cleaned_at(&self) -> Option<Timestamp> {
        self.cleaned_at
    }
    pub fn retry_due_at(&self) -> Option<Timestamp> {
        self.retry_due_at
    }

    /// Whether the job is done for good: terminal, with no retry about to
    /// replace it (a retry scheduled or being submitted). Waits end, and
    /// progress views stop, on this.
    pub fn settled(&self) -> bool {
        self.state.is_terminal() && !matches!(self.retry_state(), Some("scheduled" | "claimed"))
    }

    /// The metadata pairs, decoded on demand (unreadable JSON gives none).
    pub fn metadata_pairs(&self) -> Vec<(String, String)> {
        decode_metadata(self.metadata_json())
    }

    /// Every field, spelled out.
    pub fn to_fields(&self) -> JobFields {
        let own = |s: Option<&str>| s.map(str::to_owned);
        JobFields {
            job_id: self.job_id().to_owned(),
            cluster_name: self.cluster_name().to_owned(),
            scheduler: self.scheduler().to_owned(),
            state: self.state,
            scheduler_job_id: own(self.scheduler_job_id()),
            submitted_at: self.submitted_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            exit_code: self.exit_code,
            exit_signal: self.exit_signal,
            failure_reason: own(self.failure_reason()),
            cwd: self.cwd().to_owned(),
            command_type: self.command_type().to_owned(),
            command_display: self.command_display().to_owned(),
            metadata_json: self.metadata_json().to_owned(),
            root_job_id: self.root_job_id().to_owned(),
            attempt: self.attempt,
            previous_attempt_job_id: own(self.previous_attempt_job_id()),
            retry_group_id: own(self.retry_group_id()),
            profile_name: own(self.profile_name()),
            cleaned_at: self.cleaned_at,
            job_dir: self.job_dir().to_owned(),
            retry_due_at: self.retry_due_at,
            retry_state: own(self.retry_state()),
        }
    }
}

impl From<&JobFields> for JobRecord {
    fn from(f: &JobFields) -> Self {
        let mut p = Packer::with_capacity(192);
        p.push(Some(&f.job_id));
        p.push(Some(&f.cluster_name));
        p.push(Some(&f.scheduler));
        p.push(f.scheduler_job_id.as_deref());
        p.push(f.failure_reason.as_deref());
        p.push(Some(&f.cwd));
        p.push(Some(&f.command_type));
        p.push(Some(&f.command_display));
        p.push(Some(&f.metadata_json));
        p.push(Some(&f.root_job_id));
        p.push(f.previous_attempt_job_id.as_deref());
        p.push(f.retry_group_id.as_deref());
        p.push(f.profile_name.as_deref());
        p.push(Some(&f.job_dir));
        p.push(f.retry_state.as_deref());
        let mut r = p.finish(f.state, f.attempt);
        r.exit_code = f.exit_code;
        r.exit_signal = f.exit_signal;
        r.submitted_at = f.submitted_at;
        r.started_at = f.started_at;
        r.finished_at = f.finished_at;
        r.cleaned_at = f.cleaned_at;
        r.retry_due_at = f.retry_due_at;
        r
    }
}

impl From<JobFields> for JobRecord {
    fn from(f: JobFields) -> Self {
        JobRecord::from(&f)
    }
}

impl fmt::Debug for JobRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_fields().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips() {
        let mut f = JobFields::new("j", "c", "slurm", JobState::Running);
        f.scheduler_job_id = Some("12".into());
        f.failure_reason = Some(String::new());
        f.cwd = "/wörk".into();
        f.retry_state = Some("scheduled".into());
        f.exit_code = Some(-1);
        f.started_at = Some(1.5);
        let r = JobRecord::from(&f);
        assert_eq!(r.to_fields(), f);
        assert_eq!(r.failure_reason(), Some(""), "empty is not None");
        assert_eq!(r.profile_name(), None);
        assert_eq!(r.cwd(), "/wörk");
        assert_eq!(r, JobRecord::from(f.clone()));
        f.cwd.push('x');
        assert_ne!(r, JobRecord::from(f));
    }
}
