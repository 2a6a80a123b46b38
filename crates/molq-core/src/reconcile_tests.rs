use proptest::prelude::*;

use super::*;
use crate::model::Observation;
use crate::state::JobState::{self, *};

fn known(id: &str, state: JobState) -> KnownJob {
    KnownJob {
        job_id: format!("job-{id}"),
        scheduler_job_id: id.to_owned(),
        state,
        started_at: None,
        missing_since: None,
        missing_count: 0,
        attempt: 1,
        retry_json: None,
        array: false,
        open_tasks: Vec::new(),
        done_tasks: Vec::new(),
        array_size: None,
    }
}

fn snap(rows: &[(&str, Observation)]) -> Snapshot {
    Snapshot::from_observations(rows.iter().map(|(id, o)| (id.to_string(), o.clone())))
}

fn obs(state: JobState) -> Observation {
    Observation::of(state)
}

fn changes(plan: &Plan) -> Vec<&JobChange> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::Change(c) => Some(c),
            _ => None,
        })
        .collect()
}

const LOST: LostPolicy = LostPolicy {
    after_seconds: 60.0,
    after_polls: 3,
};

#[test]
fn running_sets_started_at_once() {
    let q = snap(&[(
        "1",
        Observation {
            started_at: Some(5.0),
            ..obs(Running)
        },
    )]);
    let p = plan(&[known("1", Submitted)], &q, None, 10.0, LOST);
    let c = changes(&p);
    assert_eq!(c[0].started_at, Some(5.0));
    assert_eq!(
        c[0].transitions[0].reason.as_deref(),
        Some("scheduler started the job")
    );
    // A requeued job that runs again keeps its first start.
    let mut k = known("1", Queued);
    k.started_at = Some(1.0);
    let p = plan(&[k], &snap(&[("1", obs(Running))]), None, 10.0, LOST);
    assert_eq!(changes(&p)[0].started_at, None);
}

#[test]
fn a_queued_transition_says_what_the_job_waits_for() {
    let waiting = Observation {
        reason: Some("waiting for 4 CPUs; 2 free".to_owned()),
        ..obs(Queued)
    };
    let p = plan(
        &[known("1", Submitted), known("2", Submitted)],
        &snap(&[("1", waiting), ("2", obs(Queued))]),
        None,
        10.0,
        LOST,
    );
    let reasons: Vec<_> = changes(&p)
        .iter()
        .map(|c| c.transitions[0].reason.clone())
        .collect();
    assert_eq!(reasons[0].as_deref(), Some("waiting for 4 CPUs; 2 free"));
    assert!(
        reasons[1].is_some(),
        "without the scheduler's word, the default"
    );
    assert_ne!(reasons[1], reasons[0]);
}

#[test]
fn fast_job_records_its_start() {
    let q = snap(&[(
        "1",
        Observation {
            started_at: Some(3.0),
            finished_at: Some(4.0),
            exit_code: Some(0),
            ..obs(Succeeded)
        },
    )]);
    let p = plan(&[known("1", Submitted)], &q, None, 10.0, LOST);
    let c = changes(&p)[0];
    let steps: Vec<_> = c
        .transitions
        .iter()
        .map(|t| (t.old_state.unwrap(), t.new_state, t.timestamp))
        .collect();
    assert_eq!(
        steps,
        [(Submitted, Running, 3.0), (Running, Succeeded, 4.0)]
    );
    assert_eq!(
        (c.started_at, c.finished_at, c.exit_code),
        (Some(3.0), Some(4.0), Some(0))
    );
    assert_eq!(
        c.transitions[1].reason.as_deref(),
        Some("job completed successfully")
    );
    assert_eq!(c.failure_reason, None);
}

#[test]
fn default_failure_reasons() {
    let cases = [
        (
            Observation {
                exit_code: Some(2),
                ..obs(Failed)
            },
            "job failed with exit code 2",
        ),
        (obs(Failed), "job failed"),
        (obs(Cancelled), "job was cancelled"),
        (obs(TimedOut), "job exceeded its time limit"),
        (obs(Lost), "job disappeared from scheduler"),
        (
            Observation {
                reason: Some("OOM".into()),
                ..obs(Failed)
            },
            "OOM",
        ),
    ];
    for (o, want) in cases {
        let p = plan(&[known("1", Running)], &snap(&[("1", o)]), None, 10.0, LOST);
        let c = changes(&p)[0];
        assert_eq!(c.failure_reason.as_deref(), Some(want));
        assert_eq!(c.transitions[0].reason.as_deref(), Some(want));
        assert_eq!(c.finished_at, Some(10.0));
    }
}

#[test]
fn accounting_settles_terminal_queue_entries() {
    let q = snap(&[("1", obs(Failed)), ("2", obs(Running))]);
    let a = snap(&[
        (
            "1",
            Observation {
                exit_code: Some(9),
                ..obs(Failed)
            },
        ),
        ("2", obs(Succeeded)),
        ("3", obs(Cancelled)),
    ]);
    let jobs = [known("1", Running), known("2", Queued), known("3", Running)];
    let p = plan(&jobs, &q, Some(&a), 10.0, LOST);
    let c = changes(&p);
    assert_eq!(c[0].exit_code, Some(9), "accounting carries the exit code");
    assert_eq!(c[1].to, Running, "a live queue entry wins over accounting");
    assert_eq!(
        c[2].to, Cancelled,
        "absent from the queue: accounting decides"
    );
    assert!(p.missing.is_empty());
}

#[test]
fn no_evidence_without_accounting_changes_nothing() {
    let p = plan(&[known("1", Running)], &Snapshot::new(), None, 10.0, LOST);
    assert_eq!(p, Plan::default());
}

#[test]
fn missing_becomes_lost_after_polls_and_seconds() {
    let empty = Snapshot::new();
    let mut job = known("1", Running);
    let mut now = 0.0;
    let mut lost_at = None;
    for poll in 1..=10 {
        let p = plan(std::slice::from_ref(&job), &empty, Some(&empty), now, LOST);
        assert_eq!(p.missing, ["job-1"]);
        match &p.actions[0] {
            Action::Missing {
                missing_since,
                missing_count,
                ..
            } => {
                job.missing_since = Some(*missing_since);
                job.missing_count = *missing_count;
            }
            Action::Change(c) => {
                assert_eq!(c.to, Lost);
                let reason = c.failure_reason.as_deref().unwrap();
                assert!(reason.contains("for 5 polls over 60 s"), "{reason}");
                lost_at = Some(poll);
                break;
            }
            other => panic!("{other:?}"),
        }
        now += 15.0;
    }
    // Polls at 0, 15, 30, 45, 60: three polls are not enough until 60 s passed.
    assert_eq!(lost_at, Some(5));
}

#[test]
fn evidence_resets_missing_counters() {
    let mut job = known("1", Running);
    job.missing_count = 2;
    job.missing_since = Some(1.0);
    let p = plan(&[job], &snap(&[("1", obs(Running))]), None, 10.0, LOST);
    assert_eq!(
        p.actions,
        [Action::Found {
            job_id: "job-1".into()
        }]
    );
}

#[test]
fn unmapped_native_state_is_evidence_without_change() {
    let mut job = known("1", Running);
    job.missing_count = 1;
    let o = Observation {
        state: None,
        raw_state: "XX".into(),
        ..Observation::default()
    };
    let p = plan(
        &[job],
        &snap(&[("1", o)]),
        Some(&Snapshot::new()),
        10.0,
        LOST,
    );
    assert_eq!(
        p.actions,
        [Action::Found {
            job_id: "job-1".into()
        }]
    );
}

#[test]
fn retry_is_scheduled_from_policy() {
    let mut job = known("1", Running);
    job.retry_json = Some(
        r#"{"max_attempts": 2, "retry_on_states": ["failed"],
            "backoff": {"mode": "fixed", "initial_seconds": 30, "maximum_seconds": 60}}"#
            .into(),
    );
    let mut broken = known("2", Running);
    broken.retry_json = Some("{not json".into());
    let q = snap(&[("1", obs(Failed)), ("2", obs(Failed))]);
    let p = plan(&[job, broken], &q, None, 100.0, LOST);
    let c = changes(&p);
    assert_eq!(c[0].retry_due_at, Some(130.0));
    assert_eq!(
        c[1].retry_due_at, None,
        "a malformed policy means no retry, no error"
    );
}

fn any_state() -> impl Strategy<Value = JobState> {
    prop::sample::select(JobState::ALL.to_vec())
}

fn any_obs() -> impl Strategy<Value = Observation> {
    (
        prop::option::of(any_state()),
        prop::option::of(-3i64..300),
        prop::option::of(0.0f64..1e6),
        prop::option::of(0.0f64..1e6),
    )
        .prop_map(|(state, exit_code, started_at, finished_at)| Observation {
            state,
            exit_code,
            started_at,
            finished_at,
            ..Observation::default()
        })
}

fn any_world() -> impl Strategy<Value = (Vec<KnownJob>, Snapshot, Option<Snapshot>)> {
    let jobs = prop::collection::vec(
        (
            0u8..20,
            any_state(),
            prop::option::of(0.0f64..10.0),
            0i64..5,
        ),
        0..20,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (sid, state, started, missing))| KnownJob {
                job_id: format!("job-{i}"),
                started_at: started,
                missing_count: missing,
                missing_since: (missing > 0).then_some(0.0),
                ..known(&sid.to_string(), state)
            })
            .collect::<Vec<_>>()
    });
    let snapshot = || {
        prop::collection::vec((0u8..20, any_obs()), 0..20).prop_map(|v| {
            Snapshot::from_observations(v.into_iter().map(|(id, o)| (id.to_string(), o)))
        })
    };
    (jobs, snapshot(), prop::option::of(snapshot()))
}

/// Apply a plan's changes to the known jobs, as the store would.
fn apply(jobs: &mut [KnownJob], plan: &Plan) {
    for action in &plan.actions {
        for job in jobs.iter_mut() {
            match action {
                Action::Change(c) if c.job_id == job.job_id && c.from == job.state => {
                    job.state = c.to;
                    job.started_at = job.started_at.or(c.started_at);
                    job.missing_count = 0;
                    job.missing_since = None;
                }
                Action::Missing {
                    job_id,
                    missing_since,
                    missing_count,
                } if *job_id == job.job_id => {
                    job.missing_count = *missing_count;
                    job.missing_since = Some(*missing_since);
                }
                Action::Found { job_id } if *job_id == job.job_id => {
                    job.missing_count = 0;
                    job.missing_since = None;
                }
                _ => {}
            }
        }
    }
}

proptest! {
    #[test]
    fn plan_obeys_the_lifecycle((jobs, queue, acct) in any_world(), now in 0.0f64..1e6) {
        let p = plan(&jobs, &queue, acct.as_ref(), now, LOST);
        for c in changes(&p) {
            let job = jobs.iter().find(|j| j.job_id == c.job_id).unwrap();
            prop_assert!(!job.state.is_terminal(), "terminal states are sticky");
            prop_assert_eq!(c.from, job.state);
            prop_assert!(!c.transitions.is_empty() && c.transitions.len() <= 2);
            let mut at = job.state;
            for t in &c.transitions {
                prop_assert_eq!(t.old_state, Some(at));
                prop_assert!(at.can_transition_to(t.new_state), "{} -> {}", at, t.new_state);
                at = t.new_state;
            }
            prop_assert_eq!(at, c.to);
        }
    }

    #[test]
    fn same_snapshot_twice_changes_nothing((mut jobs, queue, acct) in any_world()) {
        // Evidence only (no missing jobs): a second identical poll is a no-op.
        let lenient = LostPolicy { after_seconds: f64::INFINITY, after_polls: i64::MAX };
        let first = plan(&jobs, &queue, acct.as_ref(), 50.0, lenient);
        apply(&mut jobs, &first);
        let second = plan(&jobs, &queue, acct.as_ref(), 60.0, lenient);
        prop_assert_eq!(second.transitions().count(), 0);
    }

    #[test]
    fn no_evidence_no_accounting_no_change((jobs, _queue, _acct) in any_world()) {
        let p = plan(&jobs, &Snapshot::new(), None, 1e9, LostPolicy { after_seconds: 0.0, after_polls: 0 });
        prop_assert_eq!(p, Plan::default());
    }
}

#[test]
fn finish_is_never_before_start() {
    let q = snap(&[(
        "1",
        Observation {
            started_at: Some(5.0),
            finished_at: Some(4.9),
            ..obs(Succeeded)
        },
    )]);
    let p = plan(&[known("1", Running)], &q, None, 10.0, LOST);
    assert_eq!(changes(&p)[0].finished_at, Some(5.0));
    let mut k = known("1", Running);
    k.started_at = Some(20.0);
    let p = plan(&[k], &snap(&[("1", obs(Failed))]), None, 10.0, LOST);
    assert_eq!(
        changes(&p)[0].finished_at,
        Some(20.0),
        "skewed clocks: clamp to the start"
    );
}
