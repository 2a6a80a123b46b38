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
    /// Ended because it used more memory than it was allowed (a failure).
    OutOfMemory,
    Lost,
}

impl JobState {
    /// Every state, in lifecycle order (also the order of [`JobState::index`]).
    pub const ALL: [JobState; 10] = [
        JobState::Created,
        JobState::Submitted,
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
        JobState::TimedOut,
        JobState::OutOfMemory,
        JobState::Lost,
    ];

    /// The terminal states, as SQL literals for `state IN (...)` clauses.
    pub(crate) const TERMINAL_SQL: &'static str =
        "('succeeded','failed','cancelled','timed_out','out_of_memory','lost')";

    /// The states that mean the job ended badly (it did not succeed and was
    /// not cancelled), as SQL literals for `state IN (...)` clauses.
    pub(crate) const FAILURE_SQL: &'static str = "('failed','timed_out','out_of_memory','lost')";

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
            JobState::OutOfMemory => "out_of_memory",
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

    /// Succeeded, cancelled and the failures are final.
    pub const fn is_terminal(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Cancelled) || self.is_failure()
    }

    /// Whether the job ended badly: failed, timed out, out of memory or lost
    /// (a cancel was asked for, so it is not one).
    pub const fn is_failure(self) -> bool {
        matches!(
            self,
            JobState::Failed | JobState::TimedOut | JobState::OutOfMemory | JobState::Lost
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
        assert_eq!(OutOfMemory.as_str(), "out_of_memory");
        assert_eq!(JobState::parse("RUNNING"), None);
        assert!("bogus".parse::<JobState>().is_err());
    }

    #[test]
    fn terminal_states() {
        let terminal: Vec<_> = JobState::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            [Succeeded, Failed, Cancelled, TimedOut, OutOfMemory, Lost]
        );
        let failures: Vec<_> = JobState::ALL
            .into_iter()
            .filter(|s| s.is_failure())
            .collect();
        assert_eq!(failures, [Failed, TimedOut, OutOfMemory, Lost]);
    }

    /// `('a','b')`: the names of the states `keep` selects, as the SQL constants spell them.
    fn sql_list(keep: fn(JobState) -> bool) -> String {
        let names: Vec<_> = JobState::ALL
            .into_iter()
            .filter(|&s| keep(s))
            .map(|s| format!("'{s}'"))
            .collect();
        format!("({})", names.join(","))
    }

    #[test]
    fn sql_lists_follow_the_rules() {
        assert_eq!(JobState::TERMINAL_SQL, sql_list(JobState::is_terminal));
        assert_eq!(JobState::FAILURE_SQL, sql_list(JobState::is_failure));
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
            (Running, OutOfMemory, true),
            (OutOfMemory, Running, false),
            (OutOfMemory, Failed, false),
        ];
        for (from, to, ok) in cases {
            assert_eq!(from.can_transition_to(to), ok, "{from} -> {to}");
        }
    }
}
