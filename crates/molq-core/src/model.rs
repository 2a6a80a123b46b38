//! Plain data: what goes into the store, what comes out, what a scheduler said.

use std::borrow::Cow;
use std::sync::Arc;

use crate::state::JobState;

/// Seconds since the Unix epoch. The core never reads a clock: callers pass `now`.
pub type Timestamp = f64;

/// A job to register (state `created`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewJob {
    pub job_id: String,
    pub cluster_name: String,
    pub scheduler: String,
    /// The first attempt's id; empty means "this job is the root".
    pub root_job_id: String,
    pub attempt: i64,
    pub previous_attempt_job_id: Option<String>,
    pub retry_group_id: Option<String>,
    pub command_type: String,
    pub command_display: String,
    pub cwd: String,
    pub job_dir: String,
    /// Free-form string pairs, stored as a JSON object (order kept).
    pub metadata: Vec<(String, String)>,
    /// The submit request as JSON, replayed for retries.
    pub request_json: String,
    /// The retry policy as JSON (see [`crate::retry::RetryPolicy`]); `None`: never retried.
    pub retry_json: Option<String>,
    pub profile_name: Option<String>,
    /// A job array: its scheduler id names the whole array, so a line that
    /// names that id alone is not evidence about it (see [`crate::KnownJob`]).
    pub array: bool,
}

/// One dependency edge of a job being registered: it waits on `dependency_job_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub dependency_job_id: String,
    pub dependency_type: String,
    pub scheduler_dependency: String,
}

/// A stored dependency edge: `job_id` waits on `dependency_job_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyEdge {
    pub job_id: String,
    pub dependency_job_id: String,
    pub dependency_type: String,
    pub scheduler_dependency: String,
}

/// One state change of one job.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub job_id: String,
    /// `None` for the row written when the job is created.
    pub old_state: Option<JobState>,
    pub new_state: JobState,
    pub timestamp: Timestamp,
    pub reason: Option<String>,
}

/// What a scheduler said about one of its jobs (queue or accounting).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    pub state: Option<JobState>,
    /// The scheduler's own state word, kept for diagnostics (borrowed from the
    /// parser's table when it is a known word: no allocation per line).
    pub raw_state: Cow<'static, str>,
    pub exit_code: Option<i64>,
    pub exit_signal: Option<i64>,
    pub reason: Option<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub name: Option<String>,
    /// Shared: a queue listing repeats a few users and partitions on every line.
    pub user: Option<Arc<str>>,
    pub partition: Option<Arc<str>>,
    pub submit_time: Option<Timestamp>,
}

impl Observation {
    /// An observation of `state` with nothing else known.
    pub fn of(state: JobState) -> Self {
        Observation {
            state: Some(state),
            raw_state: Cow::Borrowed(state.as_str()),
            ..Observation::default()
        }
    }

    /// The observed state; a native state without mapping counts as queued
    /// (the job is known to the scheduler, so it is certainly not gone).
    pub fn job_state(&self) -> JobState {
        self.state.unwrap_or(JobState::Queued)
    }

    /// This observation, borrowed.
    pub fn view(&self) -> ObservationRef<'_> {
        ObservationRef {
            state: self.state,
            raw_state: &self.raw_state,
            exit_code: self.exit_code,
            exit_signal: self.exit_signal,
            reason: self.reason.as_deref(),
            started_at: self.started_at,
            finished_at: self.finished_at,
            name: self.name.as_deref(),
            user: self.user.as_deref(),
            partition: self.partition.as_deref(),
            submit_time: self.submit_time,
        }
    }
}

/// An [`Observation`] with its text borrowed: what a [`crate::Snapshot`]
/// hands out (it keeps the text of all its observations in one buffer), and
/// what a parser builds from the fields of a line without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ObservationRef<'a> {
    pub state: Option<JobState>,
    pub raw_state: &'a str,
    pub exit_code: Option<i64>,
    pub exit_signal: Option<i64>,
    pub reason: Option<&'a str>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub name: Option<&'a str>,
    pub user: Option<&'a str>,
    pub partition: Option<&'a str>,
    pub submit_time: Option<Timestamp>,
}

impl ObservationRef<'_> {
    /// As [`Observation::job_state`].
    pub fn job_state(&self) -> JobState {
        self.state.unwrap_or(JobState::Queued)
    }

    /// An owned copy (user and partition are copied, not shared).
    pub fn to_observation(&self) -> Observation {
        Observation {
            state: self.state,
            raw_state: Cow::Owned(self.raw_state.to_owned()),
            exit_code: self.exit_code,
            exit_signal: self.exit_signal,
            reason: self.reason.map(str::to_owned),
            started_at: self.started_at,
            finished_at: self.finished_at,
            name: self.name.map(str::to_owned),
            user: self.user.map(Arc::from),
            partition: self.partition.map(Arc::from),
            submit_time: self.submit_time,
        }
    }
}

impl PartialEq<Observation> for ObservationRef<'_> {
    fn eq(&self, other: &Observation) -> bool {
        *self == other.view()
    }
}

/// The last known state of one task of a job array.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayTask {
    /// The task's number within its array, as the scheduler prints it (`"3"`).
    pub task_id: String,
    pub state: JobState,
    pub exit_code: Option<i64>,
    pub exit_signal: Option<i64>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

impl ArrayTask {
    /// The task as an observation shows it (`None` for an unmapped native state).
    pub fn observed(task_id: &str, obs: ObservationRef<'_>) -> Option<ArrayTask> {
        let state = obs.state?;
        Some(ArrayTask {
            task_id: task_id.to_owned(),
            state,
            exit_code: obs.exit_code,
            exit_signal: obs.exit_signal,
            started_at: obs.started_at,
            finished_at: obs.finished_at,
        })
    }
}

/// Encode string pairs as a JSON object, keeping their order.
pub fn encode_metadata<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Serialising a &str cannot fail.
        out.push_str(&serde_json::to_string(k).unwrap_or_default());
        out.push(':');
        out.push_str(&serde_json::to_string(v).unwrap_or_default());
    }
    out.push('}');
    out
}

/// Decode a JSON object into string pairs in document order. Non-string values
/// are kept as their JSON text; anything that is not an object gives no pairs.
pub fn decode_metadata(json: &str) -> Vec<(String, String)> {
    use serde::de::{Deserializer, MapAccess, Visitor};

    struct Pairs;
    impl<'de> Visitor<'de> for Pairs {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                out.push((k, v));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    de.deserialize_map(Pairs).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trip_keeps_order() {
        let pairs = [("z", "1"), ("a", "quote\"d"), ("é", "")];
        let json = encode_metadata(pairs);
        let back = decode_metadata(&json);
        let want: Vec<_> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(back, want);
    }

    #[test]
    fn metadata_tolerates_junk() {
        assert!(decode_metadata("not json").is_empty());
        assert!(decode_metadata("[1,2]").is_empty());
        assert_eq!(
            decode_metadata(r#"{"n": 3}"#),
            vec![("n".into(), "3".into())]
        );
        assert_eq!(encode_metadata([]), "{}");
    }
}
