//! Job-state core of molq: parse scheduler output, plan what it means for the
//! jobs you track, and keep their states in a SQLite job store.
//!
//! The core does no process or network I/O and never reads a clock: the caller
//! runs the scheduler's commands, hands over their bytes, and passes `now`.
//!
//! ```
//! use molq_core::{parse_queue, JobStore, LostPolicy, NewJob, SchedulerKind};
//!
//! # fn main() -> Result<(), molq_core::Error> {
//! let mut store = JobStore::open_in_memory()?;
//! let job = NewJob {
//!     job_id: "job-1".into(),
//!     cluster_name: "laptop".into(),
//!     scheduler: "local".into(),
//!     attempt: 1,
//!     ..NewJob::default()
//! };
//! store.register_job(&job, &[], 100.0)?;
//! store.mark_submitted("job-1", "4242", 101.0)?;
//!
//! // The local backend's status line for pid 4242: it exited with code 0.
//! let snapshot = parse_queue(SchedulerKind::Shell, b"4242|exited|0|101.5|130.0\n")?;
//! let outcome = store.reconcile("laptop", &snapshot, None, 131.0, LostPolicy::default())?;
//! let states: Vec<_> = outcome.transitions.iter().map(|t| t.new_state.as_str()).collect();
//! assert_eq!(states, ["running", "succeeded"]);
//! assert_eq!(store.get_job("job-1")?.unwrap().exit_code(), Some(0));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod array_spec;
mod error;
mod model;
pub mod parse;
pub mod reconcile;
mod record;
pub mod retry;
mod state;
mod store;

pub use error::{Error, Result};
pub use model::{
    decode_metadata, encode_metadata, ArrayTask, Dependency, DependencyEdge, NewJob, Observation,
    ObservationRef, Timestamp, Transition,
};
pub use parse::{
    classify_submit_refusal, parse_accounting, parse_cancel, parse_queue, parse_submit_id,
    CancelOutcome, SchedulerKind, Skipped, Snapshot, SubmitRefusal,
};
pub use reconcile::{KnownJob, LostPolicy, Plan};
pub use record::{JobFields, JobRecord};
pub use retry::RetryPolicy;
pub use state::JobState;
pub use store::{
    classify_file, ActiveJob, ActiveSet, Allocation, CleanupCutoffs, FieldKind, FieldValue,
    FlightCaps, ImportReport, JobStore, Outcome, PollStatus, StoreFile, Unrecorded, MEMORY,
    MIGRATIONS, ORIGINAL_SCHEMAS, SCHEMA_VERSION, UPDATABLE_FIELDS,
};
