//! molq's own job lifecycle. The transition rules live here and nowhere else.

use std::fmt;

/// A job's state in molq's lifecycle (not the scheduler's native code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    Created,
    Submitted,
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
    Lost,
}

impl JobState {
    /// Every state, in lifecycle order (also the order of [`JobState::index`]).
    pub const ALL: [JobState; 9] = [
        JobState::Created,
        JobState::Submitted,
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
        JobState::TimedOut,
        JobState::Lost,
    ];

    /// The terminal states, as SQL literals for `state IN (...)` clauses.
    pub(crate) const TERMINAL_SQL: &'static str =
        "('succeeded','failed','cancelled','timed_out','lost')";

    /// The snake_case name stored in the database and shown to users.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobState::Created => "created",
            JobState::Submitted => "submitted",
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::TimedOut => "timed_out",
            JobState::Lost => "lost",
        }
    }

    /// The state with this snake_case name.
    pub fn parse(name: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Position in [`JobState::ALL`] (handy for lookup tables).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Succeeded, failed, cancelled, timed out and lost are final.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Succeeded
                | JobState::Failed
                | JobState::Cancelled
                | JobState::TimedOut
                | JobState::Lost
        )
    }

    /// Whether the lifecycle allows moving from `self` to `next`.
    ///
    /// Terminal states are sticky; nothing returns to `Created`; `Submitted` is
    /// reached only from `Created`; otherwise any non-terminal state may move to
    /// any other state (`Running -> Queued` is a requeue).
    pub const fn can_transition_to(self, next: JobState) -> bool {
        if self.is_terminal() || self as usize == next as usize {
            return false;
        }
        match next {
            JobState::Created => false,
            JobState::Submitted => matches!(self, JobState::Created),
            _ => true,
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for JobState {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::parse(s).ok_or_else(|| crate::Error::UnknownState(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::JobState::{self, *};

    #[test]
    fn names_round_trip() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
            assert_eq!(JobState::ALL[s.index()], s);
        }
        assert_eq!(TimedOut.as_str(), "timed_out");
        assert_eq!(JobState::parse("RUNNING"), None);
        assert!("bogus".parse::<JobState>().is_err());
    }

    #[test]
    fn terminal_states() {
        let terminal: Vec<_> = JobState::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(terminal, [Succeeded, Failed, Cancelled, TimedOut, Lost]);
    }

    #[test]
    fn terminal_is_sticky() {
        for from in JobState::ALL.into_iter().filter(|s| s.is_terminal()) {
            for to in JobState::ALL {
                assert!(!from.can_transition_to(to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn transition_table() {
        let cases = [
            (Created, Submitted, true),
            (Created, Running, true),
            (Created, Failed, true),
            (Submitted, Queued, true),
            (Submitted, Submitted, false),
            (Queued, Submitted, false),
            (Running, Submitted, false),
            (Running, Created, false),
            (Running, Queued, true),
            (Queued, Running, true),
            (Running, Succeeded, true),
            (Running, Lost, true),
            (Running, Running, false),
            (Succeeded, Failed, false),
            (Lost, Running, false),
        ];
        for (from, to, ok) in cases {
            assert_eq!(from.can_transition_to(to), ok, "{from} -> {to}");
        }
    }
}
