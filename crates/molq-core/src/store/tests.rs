use std::time::Duration;

use super::*;
use crate::model::Observation;
use crate::record::JobRecord;
use crate::state::JobState::*;

pub(super) const T: Duration = Duration::from_secs(10);

pub(super) fn tmp() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db").to_str().unwrap().to_owned();
    (dir, path)
}

pub(super) fn job(id: &str, cluster: &str) -> NewJob {
    NewJob {
        job_id: id.into(),
        cluster_name: cluster.into(),
        scheduler: "local".into(),
        attempt: 1,
        command_type: "argv".into(),
        command_display: "echo hi".into(),
        metadata: vec![("k".into(), "v".into())],
        request_json: "{}".into(),
        ..NewJob::default()
    }
}

/// Register and submit `id` with scheduler id `sid` at time `at`.
fn submitted(store: &mut JobStore, id: &str, cluster: &str, sid: &str, at: f64) {
    store.register_job(&job(id, cluster), &[], at).unwrap();
    store.mark_submitted(id, sid, at).unwrap().unwrap();
}

fn snap(rows: &[(&str, JobState)]) -> Snapshot {
    Snapshot::from_observations(
        rows.iter()
            .map(|(id, s)| (id.to_string(), Observation::of(*s))),
    )
}

fn state(store: &JobStore, id: &str) -> JobState {
    store.get_job(id).unwrap().unwrap().state
}

#[test]
fn register_is_atomic_and_rejects_duplicates() {
    let mut s = JobStore::open_in_memory().unwrap();
    let deps = [Dependency {
        dependency_job_id: "up".into(),
        dependency_type: "after_success".into(),
        scheduler_dependency: "afterok:1".into(),
    }];
    s.register_job(&job("a", "c"), &deps, 5.0).unwrap();
    let err = s.register_job(&job("a", "c"), &deps, 6.0).unwrap_err();
    assert!(
        matches!(err, Error::DuplicateJob(ref id) if id == "a"),
        "{err:?}"
    );
    assert_eq!(s.get_transitions("a").unwrap().len(), 1);
    assert_eq!(s.get_dependencies("a").unwrap().len(), 1);
    let r = s.get_job("a").unwrap().unwrap();
    assert_eq!(
        (r.state, r.submitted_at, r.root_job_id()),
        (Created, Some(5.0), "a")
    );
    assert_eq!(r.metadata_pairs(), [("k".to_owned(), "v".to_owned())]);
    let t = &s.get_transitions("a").unwrap()[0];
    assert_eq!(
        (t.old_state, t.new_state, t.reason.as_deref()),
        (None, Created, Some("job created"))
    );
    let e = &s.get_dependents("up").unwrap()[0];
    assert_eq!(
        (e.job_id.as_str(), e.scheduler_dependency.as_str()),
        ("a", "afterok:1")
    );
}

#[test]
fn single_job_writes_are_compare_and_set() {
    let (_d, path) = tmp();
    let mut a = JobStore::open(&path, T).unwrap();
    let mut b = JobStore::open(&path, T).unwrap();
    a.register_job(&job("j", "c"), &[], 1.0).unwrap();
    let t = a.mark_submitted("j", "42", 2.0).unwrap().unwrap();
    assert_eq!((t.old_state, t.new_state), (Some(Created), Submitted));
    assert_eq!(b.mark_submitted("j", "43", 3.0).unwrap(), None, "lost CAS");
    assert_eq!(
        b.get_job("j").unwrap().unwrap().scheduler_job_id(),
        Some("42")
    );
    let t = b.cancel("j", "user asked", 4.0).unwrap().unwrap();
    assert_eq!(
        (t.new_state, t.reason.as_deref()),
        (Cancelled, Some("user asked"))
    );
    assert_eq!(a.cancel("j", "again", 5.0).unwrap(), None);
    assert_eq!(a.mark_failed("j", "boom", 5.0).unwrap(), None);
    let r = a.get_job("j").unwrap().unwrap();
    assert_eq!(
        (r.state, r.finished_at, r.failure_reason()),
        (Cancelled, Some(4.0), Some("user asked"))
    );
    assert_eq!(
        a.get_transitions("j").unwrap().len(),
        3,
        "losers wrote no transition"
    );
    assert!(matches!(
        a.mark_submitted("nope", "1", 0.0),
        Err(Error::JobNotFound(_))
    ));
    assert!(matches!(
        a.cancel("nope", "x", 0.0),
        Err(Error::JobNotFound(_))
    ));

    a.register_job(&job("f", "c"), &[], 1.0).unwrap();
    let t = a
        .mark_failed("f", "submission failed: no sbatch", 2.0)
        .unwrap()
        .unwrap();
    assert_eq!(
        (t.new_state, t.reason.as_deref()),
        (Failed, Some("submission failed: no sbatch"))
    );
}

#[test]
fn reconcile_applies_a_cycle() {
    let mut s = JobStore::open_in_memory().unwrap();
    submitted(&mut s, "a", "c", "1", 1.0);
    submitted(&mut s, "b", "c", "2", 2.0);
    submitted(&mut s, "x", "other", "1", 3.0);
    let q = crate::parse::shell::parse_status(b"1|running||10|\n2|exited|3|11|12\n");
    let out = s
        .reconcile("c", &q, None, 20.0, LostPolicy::default())
        .unwrap();
    let steps: Vec<_> = out
        .transitions
        .iter()
        .map(|t| (t.job_id.as_str(), t.new_state))
        .collect();
    assert_eq!(steps, [("a", Running), ("b", Running), ("b", Failed)]);
    let b = s.get_job("b").unwrap().unwrap();
    assert_eq!(
        (b.started_at, b.finished_at, b.exit_code),
        (Some(11.0), Some(12.0), Some(3))
    );
    assert_eq!(b.failure_reason(), Some("process exited with code 3"));
    assert_eq!(
        state(&s, "x"),
        Submitted,
        "another cluster's job with the same scheduler id"
    );
    let polled: Option<f64> = s
        .conn
        .query_row("SELECT last_polled FROM jobs WHERE job_id='a'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(polled, Some(20.0));
    // The same evidence again changes nothing.
    let again = s
        .reconcile("c", &q, None, 21.0, LostPolicy::default())
        .unwrap();
    assert!(again.transitions.is_empty());
    assert_eq!(s.get_transitions("b").unwrap().len(), 4);
}

#[test]
fn missing_jobs_are_counted_then_lost() {
    let mut s = JobStore::open_in_memory().unwrap();
    submitted(&mut s, "a", "c", "1", 1.0);
    let empty = Snapshot::new();
    let policy = LostPolicy {
        after_seconds: 10.0,
        after_polls: 2,
    };
    let out = s.reconcile("c", &empty, None, 5.0, policy).unwrap();
    assert!(out.missing.is_empty(), "no accounting: nothing counted");
    let out = s.reconcile("c", &empty, Some(&empty), 5.0, policy).unwrap();
    assert_eq!(out.missing, ["a"]);
    let out = s
        .reconcile("c", &empty, Some(&empty), 10.0, policy)
        .unwrap();
    assert!(out.transitions.is_empty(), "two polls but only 5 s");
    let out = s
        .reconcile("c", &empty, Some(&empty), 15.0, policy)
        .unwrap();
    assert_eq!(out.transitions[0].new_state, Lost);
    assert!(out.transitions[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("3 polls over 10 s"));
    assert_eq!(state(&s, "a"), Lost);
}

#[test]
fn evidence_resets_missing_counts_in_the_store() {
    let mut s = JobStore::open_in_memory().unwrap();
    submitted(&mut s, "a", "c", "1", 1.0);
    let empty = Snapshot::new();
    let policy = LostPolicy {
        after_seconds: 0.0,
        after_polls: 2,
    };
    s.reconcile("c", &empty, Some(&empty), 5.0, policy).unwrap();
    s.reconcile("c", &snap(&[("1", Queued)]), None, 6.0, policy)
        .unwrap();
    let out = s.reconcile("c", &empty, Some(&empty), 7.0, policy).unwrap();
    assert!(out.transitions.is_empty(), "the count started over");
    assert_eq!(state(&s, "a"), Queued);
}

#[test]
fn retries_are_scheduled_claimed_once_and_finished() {
    let (_d, path) = tmp();
    let mut a = JobStore::open(&path, T).unwrap();
    let mut b = JobStore::open(&path, T).unwrap();
    let mut j = job("r", "c");
    j.retry_json =
        Some(r#"{"max_attempts": 2, "backoff": {"mode": "fixed", "initial_seconds": 30}}"#.into());
    a.register_job(&j, &[], 1.0).unwrap();
    a.mark_submitted("r", "9", 1.0).unwrap();
    let out = a
        .reconcile(
            "c",
            &snap(&[("9", Failed)]),
            None,
            100.0,
            LostPolicy::default(),
        )
        .unwrap();
    assert_eq!(out.retries_scheduled, ["r"]);
    let r = a.get_job("r").unwrap().unwrap();
    assert_eq!(
        (r.retry_state(), r.retry_due_at),
        (Some("scheduled"), Some(130.0))
    );
    assert!(
        a.claim_due_retries("c", 129.0, "a", &[])
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    assert!(
        a.claim_due_retries("other", 500.0, "a", &[])
            .unwrap()
            .is_empty(),
        "scoped by cluster"
    );
    assert_eq!(b.claim_due_retries("c", 130.0, "b", &[]).unwrap(), ["r"]);
    assert!(
        a.claim_due_retries("c", 131.0, "a", &[])
            .unwrap()
            .is_empty(),
        "claimed once"
    );
    assert!(a.finish_retry("r").unwrap());
    assert!(!a.finish_retry("r").unwrap());
    assert_eq!(a.get_job("r").unwrap().unwrap().retry_state(), Some("done"));
    assert!(matches!(a.finish_retry("nope"), Err(Error::JobNotFound(_))));
}

#[test]
fn cancelling_a_finished_job_drops_its_scheduled_retry() {
    let mut s = JobStore::open_in_memory().unwrap();
    let mut j = job("r", "c");
    j.retry_json = Some(r#"{"max_attempts": 3}"#.into());
    s.register_job(&j, &[], 1.0).unwrap();
    s.mark_submitted("r", "9", 1.0).unwrap();
    s.reconcile(
        "c",
        &snap(&[("9", Failed)]),
        None,
        2.0,
        LostPolicy::default(),
    )
    .unwrap();
    assert_eq!(s.cancel("r", "stop", 3.0).unwrap(), None);
    let r = s.get_job("r").unwrap().unwrap();
    assert_eq!((r.state, r.retry_state()), (Failed, Some("cancelled")));
    assert!(s.claim_due_retries("c", 1e9, "a", &[]).unwrap().is_empty());
}

#[test]
fn listing_is_scoped_ordered_and_limited() {
    let mut s = JobStore::open_in_memory().unwrap();
    for (i, cluster) in ["a", "b", "a", "a"].iter().enumerate() {
        submitted(&mut s, &format!("j{i}"), cluster, &i.to_string(), i as f64);
    }
    s.mark_failed("j2", "x", 9.0).unwrap();
    let ids = |v: Vec<JobRecord>| {
        v.into_iter()
            .map(|r| r.job_id().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(s.list_jobs(Some("a"), false, None).unwrap()),
        ["j3", "j0"]
    );
    assert_eq!(
        ids(s.list_jobs(Some("a"), true, None).unwrap()),
        ["j3", "j2", "j0"]
    );
    assert_eq!(ids(s.list_jobs(Some("a"), true, Some(1)).unwrap()), ["j3"]);
    assert_eq!(
        ids(s.list_jobs(None, true, None).unwrap()),
        ["j3", "j2", "j1", "j0"]
    );
    assert_eq!(
        ids(s.list_jobs(None, false, Some(2)).unwrap()),
        ["j3", "j1"]
    );
    assert_eq!(s.count_active("a").unwrap(), 2);
    let active: Vec<_> = s
        .active_jobs("a")
        .unwrap()
        .into_iter()
        .map(|j| (j.job_id, j.scheduler_job_id, j.job_dir))
        .collect();
    assert_eq!(
        active,
        [
            ("j0".into(), "0".into(), "".into()),
            ("j3".into(), "3".into(), "".into())
        ]
    );
    let got = ids(s
        .get_jobs(&["j3".into(), "zz".into(), "j0".into(), "j3".into()])
        .unwrap());
    assert_eq!(got, ["j3", "j0"]);
}

#[test]
fn retry_family_and_latest_attempt() {
    let mut s = JobStore::open_in_memory().unwrap();
    s.register_job(&job("a1", "c"), &[], 1.0).unwrap();
    for (id, prev, n) in [("a2", "a1", 2), ("a3", "a2", 3)] {
        let mut j = job(id, "c");
        j.root_job_id = "a1".into();
        j.attempt = n;
        j.previous_attempt_job_id = Some(prev.into());
        s.register_job(&j, &[], n as f64).unwrap();
    }
    assert_eq!(s.get_latest_attempt("a1").unwrap().unwrap().job_id(), "a3");
    assert_eq!(s.get_latest_attempt("a2").unwrap().unwrap().job_id(), "a3");
    assert_eq!(s.get_latest_attempt("nope").unwrap(), None);
    let fam: Vec<_> = s
        .get_retry_family("a3")
        .unwrap()
        .into_iter()
        .map(|r| r.attempt)
        .collect();
    assert_eq!(fam, [1, 2, 3]);
}

#[test]
fn cleanup_candidates_apply_both_cutoffs() {
    let mut s = JobStore::open_in_memory().unwrap();
    for (id, end) in [
        ("ok", Succeeded),
        ("bad", Failed),
        ("gone", Cancelled),
        ("oom", OutOfMemory),
        ("live", Running),
    ] {
        submitted(&mut s, id, "c", id, 1.0);
        s.reconcile("c", &snap(&[(id, end)]), None, 10.0, LostPolicy::default())
            .unwrap();
    }
    submitted(&mut s, "late", "c", "late", 1.0);
    s.reconcile(
        "c",
        &snap(&[("late", Succeeded)]),
        None,
        50.0,
        LostPolicy::default(),
    )
    .unwrap();
    submitted(&mut s, "elsewhere", "d", "e", 1.0);
    s.reconcile(
        "d",
        &snap(&[("e", Succeeded)]),
        None,
        10.0,
        LostPolicy::default(),
    )
    .unwrap();
    let ids = |v: &[JobRecord]| v.iter().map(|r| r.job_id().to_owned()).collect::<Vec<_>>();
    let cut = |keep| CleanupCutoffs {
        job_dir_cutoff: 20.0,
        record_cutoff: 100.0,
        keep_failed_job_dirs: keep,
    };
    let (dirs, records) = s.cleanup_candidates("c", cut(true)).unwrap();
    assert_eq!(ids(&dirs), ["ok", "gone"], "failures keep their dirs");
    assert_eq!(ids(&records), ["ok", "bad", "gone", "oom", "late"]);
    let (dirs, _) = s.cleanup_candidates("c", cut(false)).unwrap();
    assert_eq!(ids(&dirs), ["ok", "bad", "gone", "oom"]);
    assert_eq!(
        s.mark_cleaned(&["ok".into(), "bad".into()], 60.0).unwrap(),
        2
    );
    let (dirs, _) = s.cleanup_candidates("c", cut(false)).unwrap();
    assert_eq!(ids(&dirs), ["gone", "oom"]);
    assert_eq!(s.get_job("ok").unwrap().unwrap().cleaned_at, Some(60.0));
}

#[test]
fn chunked_deletes_remove_edges_and_history() {
    let mut s = JobStore::open_in_memory().unwrap();
    let n = 2_100;
    let ids: Vec<String> = (0..n).map(|i| format!("j{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let deps: Vec<_> = (i > 0)
            .then(|| Dependency {
                dependency_job_id: ids[i - 1].clone(),
                dependency_type: "after".into(),
                scheduler_dependency: String::new(),
            })
            .into_iter()
            .collect();
        s.register_job(&job(id, "c"), &deps, i as f64).unwrap();
    }
    s.register_job(
        &job("keep", "c"),
        &[Dependency {
            dependency_job_id: ids[0].clone(),
            dependency_type: "after".into(),
            scheduler_dependency: String::new(),
        }],
        0.0,
    )
    .unwrap();
    assert_eq!(s.get_jobs(&ids).unwrap().len(), n);
    assert_eq!(s.delete_records(&ids).unwrap(), n);
    let count = |sql: &str| -> i64 { s.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM jobs"), 1);
    assert_eq!(count("SELECT COUNT(*) FROM status_transitions"), 1);
    assert_eq!(
        count("SELECT COUNT(*) FROM job_dependencies"),
        0,
        "edges at either end go"
    );
}

#[test]
fn unknown_state_names_read_as_lost() {
    let mut s = JobStore::open_in_memory().unwrap();
    s.register_job(&job("a", "c"), &[], 1.0).unwrap();
    s.conn
        .execute("UPDATE jobs SET state = 'hibernating'", [])
        .unwrap();
    assert_eq!(state(&s, "a"), Lost);
}

#[test]
fn history_keeps_recorded_order_when_the_start_precedes_the_submit_record() {
    let mut s = JobStore::open_in_memory().unwrap();
    s.register_job(&job("a", "c"), &[], 10.0).unwrap();
    s.mark_submitted("a", "1", 12.0).unwrap();
    // The launcher returned after the process had started (at 11).
    let q = crate::parse::shell::parse_status(b"1|exited|0|11|11.5\n");
    s.reconcile("c", &q, None, 13.0, LostPolicy::default())
        .unwrap();
    let chain: Vec<_> = s
        .get_transitions("a")
        .unwrap()
        .iter()
        .map(|t| (t.new_state, t.timestamp))
        .collect();
    assert_eq!(
        chain,
        [
            (Created, 10.0),
            (Submitted, 12.0),
            (Running, 11.0),
            (Succeeded, 11.5)
        ]
    );
}

#[test]
fn refresh_reads_walk_only_the_active_jobs() {
    // The partial index's WHERE must be the very text the queries use.
    assert!(super::MIGRATIONS[6].contains(&format!("WHERE {}", super::rows::ACTIVE)));
    // Migration 7 set the flag from the terminal states of its day; a state
    // added since (out_of_memory) cannot be in a store it upgrades, and its
    // rows get the flag from JobState::is_terminal when they are written.
    let added_since = [OutOfMemory];
    let backfilled = JobState::ALL
        .into_iter()
        .filter(|s| s.is_terminal() && !added_since.contains(s))
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",");
    assert!(super::MIGRATIONS[6].contains(&format!("WHERE state IN ({backfilled})")));
    let s = JobStore::open_in_memory().unwrap();
    let plan_of = |sql: &str| -> String {
        let mut stmt = s
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let rows = stmt
            .query_map(["c"], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        rows.join("; ")
    };
    for sql in [
        super::rows::known_jobs_sql(),
        format!(
            "SELECT job_id FROM jobs WHERE cluster_name = ?1 AND {} \
             AND scheduler_job_id IS NOT NULL AND scheduler_job_id != '' ORDER BY submitted_at, rowid",
            super::rows::ACTIVE
        ),
        format!("SELECT COUNT(*) FROM jobs WHERE cluster_name = ?1 AND {}", super::rows::ACTIVE),
    ] {
        let plan = plan_of(&sql);
        assert!(plan.contains("idx_jobs_active"), "{plan}");
    }
}

#[test]
fn an_active_set_stays_current_until_a_job_row_is_written() {
    let (_dir, path) = tmp();
    let mut a = JobStore::open(&path, T).unwrap();
    let mut b = JobStore::open(&path, T).unwrap();
    submitted(&mut a, "j1", "c", "1", 1.0);
    submitted(&mut a, "j2", "c", "2", 2.0);
    let set = a.active_set("c").unwrap();
    assert_eq!(set.jobs.len(), 2);
    assert!(a.is_current(&set).unwrap());
    // The poll lease and a cycle that changes nothing write no job row.
    assert!(a.begin_poll("c", "me", 10.0, 5.0, 60.0, false).unwrap());
    a.end_poll("c", "me", None).unwrap();
    let queued = snap(&[("1", Submitted), ("2", Submitted)]);
    let out = a
        .reconcile_active(&set, &queued, None, 11.0, LostPolicy::default())
        .unwrap();
    assert!(out.transitions.is_empty());
    assert!(a.is_current(&set).unwrap());
    // Another connection's write makes it stale, and so does this one's.
    b.cancel("j2", "by b", 12.0).unwrap();
    assert!(!a.is_current(&set).unwrap());
    let set = a.active_set("c").unwrap();
    assert!(a.is_current(&set).unwrap());
    a.register_job(&job("j3", "c"), &[], 13.0).unwrap();
    assert!(!a.is_current(&set).unwrap());
    assert!(!a.is_current(&ActiveSet::of_jobs("c", Vec::new())).unwrap());
}

#[test]
fn a_stale_active_set_is_planned_from_the_rows_as_they_are_now() {
    let (_dir, path) = tmp();
    let mut a = JobStore::open(&path, T).unwrap();
    let mut b = JobStore::open(&path, T).unwrap();
    submitted(&mut a, "j1", "c", "1", 1.0);
    submitted(&mut a, "j2", "c", "2", 2.0);
    let set = a.active_set("c").unwrap();
    // Between the poll and the reconcile, another process cancels j1.
    b.cancel("j1", "by b", 3.0).unwrap();
    let running = snap(&[("1", Running), ("2", Running)]);
    let out = a
        .reconcile_active(&set, &running, None, 4.0, LostPolicy::default())
        .unwrap();
    let moved: Vec<_> = out.transitions.iter().map(|t| t.job_id.as_str()).collect();
    assert_eq!(moved, ["j2"]);
    assert_eq!(state(&a, "j1"), Cancelled);
    assert_eq!(state(&a, "j2"), Running);
}

#[test]
fn the_terminal_flag_follows_every_writer() {
    let mut s = JobStore::open_in_memory().unwrap();
    for (id, sid) in [
        ("runs", "1"),
        ("ends", "2"),
        ("cancelled", "3"),
        ("oom", "6"),
    ] {
        submitted(&mut s, id, "c", sid, 1.0);
    }
    s.register_job(&job("refused", "c"), &[], 1.0).unwrap();
    s.mark_failed("refused", "sbatch refused it", 2.0).unwrap();
    s.cancel("cancelled", "asked to", 2.0).unwrap();
    let q = crate::parse::shell::parse_status(b"1|running||10|\n2|exited|0|11|12\n");
    s.reconcile("c", &q, None, 20.0, LostPolicy::default())
        .unwrap();
    // A state newer than migration 7's backfill list gets its flag from the code.
    s.reconcile(
        "c",
        &snap(&[("6", OutOfMemory)]),
        None,
        21.0,
        LostPolicy::default(),
    )
    .unwrap();
    assert_eq!(state(&s, "oom"), OutOfMemory);
    // The original molq's API: any state, with or without a compare.
    submitted(&mut s, "set", "c", "4", 1.0);
    submitted(&mut s, "swapped", "c", "5", 1.0);
    s.update_fields("set", &[("state".into(), FieldValue::State(OutOfMemory))])
        .unwrap();
    assert!(s
        .compare_and_update("swapped", Submitted, Succeeded, &[])
        .unwrap());
    let out_of_step: i64 = s
        .conn
        .query_row(
            &format!(
                "SELECT COUNT(*) FROM jobs WHERE is_terminal != (state IN {})",
                JobState::TERMINAL_SQL
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(out_of_step, 0);
    assert_eq!(s.count_active("c").unwrap(), 1);
    let active: Vec<_> = s
        .list_jobs(Some("c"), false, None)
        .unwrap()
        .into_iter()
        .map(|r| r.job_id().to_owned())
        .collect();
    assert_eq!(active, ["runs"]);
}

#[test]
fn a_passing_failure_schedules_the_next_attempt_with_the_failure() {
    let mut s = JobStore::open_in_memory().unwrap();
    let policy = r#"{"max_attempts": 2, "retry_on_exit_codes": [3],
        "backoff": {"mode": "fixed", "initial_seconds": 30}}"#;
    for (id, attempt, retry_json) in [
        ("left", 1, Some(policy)),
        ("last", 2, Some(policy)),
        ("none", 1, None),
    ] {
        let mut j = job(id, "c");
        j.attempt = attempt;
        j.retry_json = retry_json.map(str::to_owned);
        s.register_job(&j, &[], 1.0).unwrap();
        s.mark_failed_retrying(id, "the submitter stopped", 100.0)
            .unwrap()
            .unwrap();
    }
    let left = s.get_job("left").unwrap().unwrap();
    // an attempt was left: given, though the policy retries only exit code 3
    assert_eq!(
        (left.state, left.retry_state(), left.retry_due_at),
        (Failed, Some("scheduled"), Some(130.0))
    );
    for id in ["last", "none"] {
        let r = s.get_job(id).unwrap().unwrap();
        assert_eq!((r.state, r.retry_state()), (Failed, None), "{id}");
    }
    // a finished job is left as it is
    assert_eq!(
        s.mark_failed_retrying("left", "again", 200.0).unwrap(),
        None
    );
}

#[test]
fn a_whole_listing_is_ordered_as_a_limited_one_whichever_way_it_is_read() {
    let mut s = JobStore::open_in_memory().unwrap();
    // "big" holds most rows (read in table order), "small" few (by index);
    // equal submit times and never-submitted jobs included.
    for i in 0..30 {
        let (cluster, id) = if i % 10 == 3 {
            ("small", format!("s{i}"))
        } else {
            ("big", format!("b{i}"))
        };
        let at = f64::from(i / 4);
        s.register_job(&job(&id, cluster), &[], at).unwrap();
        if i % 7 != 0 {
            s.mark_submitted(&id, &i.to_string(), at).unwrap();
        }
    }
    s.cancel("b1", "one ended", 9.0).unwrap();
    for cluster in [Some("big"), Some("small"), None] {
        for all in [true, false] {
            let whole = s.list_jobs(cluster, all, None).unwrap();
            let limited = s.list_jobs(cluster, all, Some(1000)).unwrap();
            assert_eq!(whole, limited, "{cluster:?} {all}");
        }
    }
    assert!(s.holds_most_rows(Some("big"), true).unwrap());
    assert!(s.holds_most_rows(Some("big"), false).unwrap());
    assert!(!s.holds_most_rows(Some("small"), true).unwrap());
}
