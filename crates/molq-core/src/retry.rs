//! Retry decisions: pure functions of a stored policy, an attempt and an outcome.
//!
//! The policy is the JSON stored in `jobs.retry_json`:
//!
//! ```json
//! {"max_attempts": 3, "retry_on_states": ["failed", "timed_out", "out_of_memory"],
//!  "retry_on_exit_codes": null,
//!  "backoff": {"mode": "exponential", "initial_seconds": 5, "maximum_seconds": 300, "factor": 2}}
//! ```
//!
//! Missing keys take the defaults of `molq.models.RetryPolicy`.

use serde::Deserialize;

use crate::model::Timestamp;
use crate::state::JobState;

/// How long to wait before the next attempt.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Backoff {
    pub mode: BackoffMode,
    pub initial_seconds: f64,
    pub maximum_seconds: f64,
    pub factor: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackoffMode {
    Fixed,
    Exponential,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            mode: BackoffMode::Exponential,
            initial_seconds: 5.0,
            maximum_seconds: 300.0,
            factor: 2.0,
        }
    }
}

impl Backoff {
    /// Delay before attempt `attempt + 1`, never negative, never above the maximum.
    pub fn delay(&self, attempt: i64) -> f64 {
        let raw = match self.mode {
            BackoffMode::Fixed => self.initial_seconds,
            BackoffMode::Exponential => {
                let exp = attempt.saturating_sub(1).clamp(0, i64::from(i32::MAX)) as i32;
                self.initial_seconds * self.factor.powi(exp)
            }
        };
        let capped = raw.min(self.maximum_seconds);
        // NaN from a strange policy means "no wait" rather than "never".
        if capped.is_nan() {
            0.0
        } else {
            capped.max(0.0)
        }
    }
}

/// When and how often a job is retried. `max_attempts` counts the first attempt.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    pub max_attempts: i64,
    pub retry_on_states: Vec<String>,
    pub retry_on_exit_codes: Option<Vec<i64>>,
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 1,
            retry_on_states: vec!["failed".into(), "timed_out".into(), "out_of_memory".into()],
            retry_on_exit_codes: None,
            backoff: Backoff::default(),
        }
    }
}

impl RetryPolicy {
    /// The policy in `json`, or `None` if it cannot be read.
    pub fn from_json(json: &str) -> Option<RetryPolicy> {
        serde_json::from_str(json).ok()
    }

    /// Whether attempt `attempt`, ending in `state` with `exit_code`, gets another try.
    pub fn should_retry(&self, attempt: i64, state: JobState, exit_code: Option<i64>) -> bool {
        attempt < self.max_attempts
            && self.retry_on_states.iter().any(|s| s == state.as_str())
            && match &self.retry_on_exit_codes {
                None => true,
                Some(codes) => exit_code.is_some_and(|c| codes.contains(&c)),
            }
    }
}

/// The due time of the next attempt, or `None` for no retry. A policy that
/// cannot be read means no retry: it must never abort a reconcile cycle.
pub fn retry_due_at(
    retry_json: Option<&str>,
    attempt: i64,
    state: JobState,
    exit_code: Option<i64>,
    now: Timestamp,
) -> Option<Timestamp> {
    let policy = RetryPolicy::from_json(retry_json?)?;
    policy
        .should_retry(attempt, state, exit_code)
        .then(|| now + policy.backoff.delay(attempt))
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = r#"{"max_attempts": 3, "retry_on_states": ["failed"],
        "retry_on_exit_codes": null,
        "backoff": {"mode": "exponential", "initial_seconds": 5, "maximum_seconds": 12, "factor": 2}}"#;

    #[test]
    fn exponential_backoff_is_capped() {
        assert_eq!(
            retry_due_at(Some(P), 1, JobState::Failed, Some(1), 100.0),
            Some(105.0)
        );
        assert_eq!(
            retry_due_at(Some(P), 2, JobState::Failed, Some(1), 100.0),
            Some(110.0)
        );
        let p = RetryPolicy::from_json(P).unwrap();
        assert_eq!(p.backoff.delay(3), 12.0);
        assert_eq!(p.backoff.delay(i64::MAX), 12.0);
    }

    #[test]
    fn limits_states_and_codes() {
        assert_eq!(
            retry_due_at(Some(P), 3, JobState::Failed, Some(1), 0.0),
            None
        );
        assert_eq!(retry_due_at(Some(P), 1, JobState::Lost, None, 0.0), None);
        assert_eq!(retry_due_at(None, 1, JobState::Failed, Some(1), 0.0), None);
        let codes = r#"{"max_attempts": 2, "retry_on_exit_codes": [3, 4],
            "backoff": {"mode": "fixed", "initial_seconds": 30, "maximum_seconds": 10}}"#;
        assert_eq!(
            retry_due_at(Some(codes), 1, JobState::Failed, Some(4), 0.0),
            Some(10.0)
        );
        assert_eq!(
            retry_due_at(Some(codes), 1, JobState::Failed, Some(1), 0.0),
            None
        );
        assert_eq!(
            retry_due_at(Some(codes), 1, JobState::Failed, None, 0.0),
            None
        );
        assert_eq!(
            retry_due_at(Some(codes), 1, JobState::TimedOut, None, 0.0),
            None
        );
    }

    #[test]
    fn malformed_policy_means_no_retry() {
        for bad in [
            "",
            "{",
            "[]",
            r#"{"max_attempts": "three"}"#,
            r#"{"backoff": {"mode": "linear"}}"#,
        ] {
            assert_eq!(
                retry_due_at(Some(bad), 1, JobState::Failed, Some(1), 0.0),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn defaults_match_the_python_policy() {
        let p = RetryPolicy::from_json("{}").unwrap();
        assert_eq!(p, RetryPolicy::default());
        assert!(
            !p.should_retry(1, JobState::Failed, None),
            "max_attempts 1: no retry"
        );
        let twice = RetryPolicy::from_json(r#"{"max_attempts": 2}"#).unwrap();
        for (state, retried) in [
            (JobState::Failed, true),
            (JobState::TimedOut, true),
            (JobState::OutOfMemory, true),
            (JobState::Lost, false),
            (JobState::Cancelled, false),
        ] {
            assert_eq!(twice.should_retry(1, state, Some(1)), retried, "{state}");
        }
    }
}
