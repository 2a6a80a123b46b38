//! Schema v2 (array tasks), its migration from v1, and active job listings.

use std::time::Duration;

use super::*;
use crate::model::ArrayTask;
use crate::parse::slurm::{parse_sacct, parse_squeue};
use crate::state::JobState::*;

const T: Duration = Duration::from_secs(10);

fn fixture(name: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/slurm");
    std::fs::read(format!("{dir}/{name}.stdout")).unwrap()
}

fn submitted(store: &mut JobStore, id: &str, sid: &str, at: f64) {
    let job = NewJob {
        job_id: id.into(),
        cluster_name: "c".into(),
        scheduler: "slurm".into(),
        attempt: 1,
        job_dir: format!("/jobs/{id}"),
        ..NewJob::default()
    };
    store.register_job(&job, &[], at).unwrap();
    store.mark_submitted(id, sid, at + 1.0).unwrap().unwrap();
}

fn tasks(store: &JobStore, id: &str) -> Vec<(String, JobState, Option<i64>)> {
    store
        .get_array_tasks(id)
        .unwrap()
        .into_iter()
        .map(|t| (t.task_id, t.state, t.exit_code))
        .collect()
}

fn cycle(store: &mut JobStore, queue: &[u8], acct: Option<&[u8]>, now: f64) -> Outcome {
    let q = parse_squeue(queue);
    let a = acct.map(parse_sacct);
    store
        .reconcile("c", &q, a.as_ref(), now, LostPolicy::default())
        .unwrap()
}

#[test]
fn a_v1_file_migrates_to_v2_and_keeps_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db").to_str().unwrap().to_owned();
    {
        // A store as the first release wrote it: the v1 DDL, version 1, one job.
        let c = Connection::open(&path).unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.execute_batch(
            "INSERT INTO jobs (job_id, cluster_name, scheduler, root_job_id, state, \
             scheduler_job_id, submitted_at) VALUES ('old', 'c', 'slurm', 'old', 'queued', '5', 7.0);
             INSERT INTO status_transitions (job_id, old_state, new_state, timestamp) \
             VALUES ('old', NULL, 'created', 6.0);",
        )
        .unwrap();
    }
    let mut s = JobStore::open(&path, T).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    let old = s.get_job("old").unwrap().unwrap();
    assert_eq!((old.state, old.submitted_at), (Queued, Some(7.0)));
    assert_eq!(s.get_transitions("old").unwrap().len(), 1);
    assert!(s.get_array_tasks("old").unwrap().is_empty());
    let flag: bool = s
        .conn
        .query_row("SELECT is_array FROM jobs WHERE job_id = 'old'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!flag, "existing jobs are not arrays");
    cycle(&mut s, b"5_1|RUNNING|u|p|1|2|None|n\n", None, 10.0);
    assert_eq!(tasks(&s, "old"), [("1".into(), Running, None)]);
    drop(s);
    let s = JobStore::open(&path, T).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(tasks(&s, "old").len(), 1, "reopening changes nothing");
}

#[test]
fn every_migration_applies_in_order_on_an_empty_file() {
    let c = Connection::open_in_memory().unwrap();
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        c.execute_batch(sql)
            .unwrap_or_else(|e| panic!("migration {i}: {e}"));
    }
    let n: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'array_tasks'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn reconcile_tracks_each_task_and_the_whole_array() {
    let mut s = JobStore::open_in_memory().unwrap();
    submitted(&mut s, "arr", "20", 100.0);
    submitted(&mut s, "mix", "34", 100.0);
    let out = cycle(&mut s, &fixture("squeue_array_partial"), None, 1795558940.0);
    assert_eq!(out.transitions.len(), 1);
    assert_eq!(s.get_job("arr").unwrap().unwrap().state, Running);
    let running = s.get_array_tasks("arr").unwrap();
    assert_eq!(
        running,
        [ArrayTask {
            task_id: "1".into(),
            state: Running,
            exit_code: None,
            exit_signal: None,
            started_at: Some(1795558931.0),
            finished_at: None,
        }]
    );
    // The queue is empty now; accounting has the outcome of both arrays.
    let mut acct = fixture("sacct_array_cancelled");
    acct.extend(fixture("sacct_array"));
    cycle(&mut s, b"", Some(&acct), 1795559000.0);
    let arr = s.get_job("arr").unwrap().unwrap();
    assert_eq!(arr.state, Cancelled);
    assert_eq!(
        arr.failure_reason(),
        Some("5 of 5 array tasks cancelled (first: task 1)")
    );
    assert_eq!(tasks(&s, "arr"), [("1".into(), Cancelled, Some(0))]);
    let mix = s.get_job("mix").unwrap().unwrap();
    assert_eq!((mix.state, mix.exit_code), (Failed, Some(5)));
    assert_eq!(
        mix.failure_reason(),
        Some("2 of 4 array tasks failed (first: task 1, exit 5)")
    );
    assert_eq!(
        tasks(&s, "mix"),
        [
            ("1".into(), Failed, Some(5)),
            ("2".into(), Succeeded, Some(0)),
            ("3".into(), Failed, Some(5)),
            ("4".into(), Succeeded, Some(0)),
        ]
    );
    let history: Vec<_> = s
        .get_transitions("mix")
        .unwrap()
        .into_iter()
        .map(|t| t.new_state)
        .collect();
    assert_eq!(history, [Created, Submitted, Running, Failed]);
    assert_eq!(s.delete_records(&["mix".into()]).unwrap(), 1);
    assert!(s.get_array_tasks("mix").unwrap().is_empty());
    let left: i64 = s
        .conn
        .query_row("SELECT COUNT(*) FROM array_tasks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 1, "only arr's task is left");
}

#[test]
fn tasks_sort_by_number_and_a_finished_task_keeps_its_outcome() {
    let mut s = JobStore::open_in_memory().unwrap();
    submitted(&mut s, "a", "7", 1.0);
    let queue = b"7_10|RUNNING|u|p|1|5|None|n\n7_9|RUNNING|u|p|1|5|None|n\n\
                  7_2|RUNNING|u|p|1|5|None|n\n7_[11-12]|PENDING|u|p|1|N/A|Priority|n\n";
    let acct = b"7_1|8|FAILED|1:0|3|4|None\n";
    cycle(&mut s, queue, Some(acct), 10.0);
    assert_eq!(s.get_job("a").unwrap().unwrap().state, Running);
    let ids: Vec<_> = tasks(&s, "a").into_iter().map(|t| t.0).collect();
    assert_eq!(ids, ["1", "2", "9", "10"]);
    // Task 1 shows up running again (say, requeued): its record stays failed.
    cycle(&mut s, b"7_1|RUNNING|u|p|1|9|None|n\n", None, 11.0);
    assert_eq!(tasks(&s, "a")[0], ("1".into(), Failed, Some(1)));
    // The queue's live word beats accounting's lagging one; a finished word loses to it.
    let queue = b"7_2|COMPLETING|u|p|1|5|None|n\n7_9|CD|u|p|1|5|None|n\n";
    let acct = b"7_2|2|PENDING|0:0|Unknown|Unknown|None\n7_9|9|COMPLETED|0:0|5|6|None\n";
    cycle(&mut s, queue, Some(acct), 12.0);
    let t = s.get_array_tasks("a").unwrap();
    assert_eq!(
        (t[1].state, t[2].state, t[2].exit_code),
        (Running, Succeeded, Some(0))
    );
    assert_eq!(t[2].finished_at, Some(6.0));
}

#[test]
fn active_jobs_carry_their_submit_time() {
    let mut s = JobStore::open_in_memory().unwrap();
    submitted(&mut s, "a", "1", 50.0);
    submitted(&mut s, "b", "2", 40.0);
    s.conn
        .execute("UPDATE jobs SET submitted_at = NULL WHERE job_id = 'b'", [])
        .unwrap();
    let active = s.active_jobs("c").unwrap();
    assert_eq!(
        active,
        [
            ActiveJob {
                job_id: "b".into(),
                scheduler_job_id: "2".into(),
                job_dir: "/jobs/b".into(),
                submitted_at: 0.0,
            },
            ActiveJob {
                job_id: "a".into(),
                scheduler_job_id: "1".into(),
                job_dir: "/jobs/a".into(),
                submitted_at: 51.0,
            },
        ]
    );
}

#[test]
fn an_array_is_judged_only_by_its_tasks() {
    let mut s = JobStore::open_in_memory().unwrap();
    let job = NewJob {
        job_id: "arr".into(),
        cluster_name: "c".into(),
        scheduler: "slurm".into(),
        attempt: 1,
        array: true,
        ..NewJob::default()
    };
    s.register_job(&job, &[], 1.0).unwrap();
    s.mark_submitted("arr", "146", 2.0).unwrap();
    // Just after the array ended, sacct shows its last task under the array's id alone.
    let lagging = b"146|146|COMPLETED|0:0|10|11|None\n";
    let out = cycle(&mut s, b"", Some(lagging), 20.0);
    assert!(out.transitions.is_empty());
    assert_eq!(out.missing, ["arr"], "no evidence yet: counted, not judged");
    let settled = b"146_1|147|FAILED|1:0|10|11|None\n146_2|146|COMPLETED|0:0|10|11|None\n";
    cycle(&mut s, b"", Some(settled), 21.0);
    let arr = s.get_job("arr").unwrap().unwrap();
    assert_eq!((arr.state, arr.exit_code), (Failed, Some(1)));

    // A job submitted without the flag learns it from the first folded observation.
    submitted(&mut s, "plain", "150", 30.0);
    cycle(
        &mut s,
        b"150_[1-3]|PENDING|u|p|1|N/A|Priority|n\n",
        None,
        40.0,
    );
    let flag: bool = s
        .conn
        .query_row(
            "SELECT is_array FROM jobs WHERE job_id = 'plain'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(flag);
    let out = cycle(
        &mut s,
        b"",
        Some(b"150|150|COMPLETED|0:0|41|42|None\n"),
        43.0,
    );
    assert!(out.transitions.is_empty());
    assert_eq!(s.get_job("plain").unwrap().unwrap().state, Queued);
}

#[test]
fn an_array_waits_for_every_task_it_saw_running() {
    let mut s = JobStore::open_in_memory().unwrap();
    submitted(&mut s, "arr", "60", 1.0);
    cycle(
        &mut s,
        b"60_1|RUNNING|u|p|1|5|None|n\n60_2|RUNNING|u|p|1|5|None|n\n",
        None,
        10.0,
    );
    // sacct has recorded task 1 only: the array is not over for that.
    let partial = b"60_1|61|COMPLETED|0:0|5|6|None\n";
    let out = cycle(&mut s, b"", Some(partial), 11.0);
    assert!(out.transitions.is_empty(), "{out:?}");
    assert_eq!(s.get_job("arr").unwrap().unwrap().state, Running);
    let full = b"60_1|61|COMPLETED|0:0|5|6|None\n60_2|60|FAILED|2:0|5|7|None\n";
    cycle(&mut s, b"", Some(full), 12.0);
    let arr = s.get_job("arr").unwrap().unwrap();
    assert_eq!(
        (arr.state, arr.exit_code, arr.finished_at),
        (Failed, Some(2), Some(7.0))
    );
    assert_eq!(tasks(&s, "arr")[1], ("2".into(), Failed, Some(2)));
}

#[test]
fn an_array_ends_only_once_as_many_tasks_as_submitted_have_finished() {
    // Accounting records an array's tasks one by one: tasks that ran and ended
    // between two polls may be missing from the first answer.
    let mut s = JobStore::open_in_memory().unwrap();
    let job = NewJob {
        job_id: "arr".into(),
        cluster_name: "c".into(),
        scheduler: "slurm".into(),
        attempt: 1,
        array: true,
        request_json: r#"{"scheduling":{"array_spec":"1-4"}}"#.into(),
        ..NewJob::default()
    };
    s.register_job(&job, &[], 1.0).unwrap();
    s.mark_submitted("arr", "7", 2.0).unwrap().unwrap();
    let partial = b"7_2|8|COMPLETED|0:0|10|11|None\n7_4|7|COMPLETED|0:0|10|11|None\n";
    let out = cycle(&mut s, b"", Some(partial), 20.0);
    assert!(
        out.transitions.is_empty(),
        "two of four tasks is not the whole array"
    );
    assert_eq!(s.get_job("arr").unwrap().unwrap().state, Submitted);
    let all = b"7_1|9|FAILED|1:0|10|11|None\n7_3|10|FAILED|1:0|10|11|None\n";
    cycle(&mut s, b"", Some(all), 21.0);
    let record = s.get_job("arr").unwrap().unwrap();
    assert_eq!((record.state, record.exit_code), (Failed, Some(1)));
    assert_eq!(tasks(&s, "arr").len(), 4);
}

#[test]
fn a_half_written_accounting_record_moves_no_job() {
    // Right after slurmdbd restarts, sacct can show a finished job as FAILED
    // with ExitCode 0:0 and no end time; the complete record follows.
    let mut s = JobStore::open_in_memory().unwrap();
    submitted(&mut s, "j", "11817", 1.0);
    let half = b"11817|11817|FAILED|0:0|1795563288|Unknown|None\n";
    let out = cycle(&mut s, b"", Some(half), 10.0);
    assert!(out.transitions.is_empty(), "{out:?}");
    let whole = b"11817|11817|FAILED|5:0|1795563288|1795563289|None\n";
    cycle(&mut s, b"", Some(whole), 11.0);
    let record = s.get_job("j").unwrap().unwrap();
    assert_eq!((record.state, record.exit_code), (Failed, Some(5)));
}

#[test]
fn cancelling_an_array_ends_its_open_tasks() {
    let mut s = JobStore::open_in_memory().unwrap();
    submitted(&mut s, "arr", "7", 1.0);
    cycle(
        &mut s,
        b"7_0|RUNNING|u|p|1|2|None|n\n7_1|RUNNING|u|p|1|2|None|n\n",
        None,
        10.0,
    );
    s.cancel("arr", "cancelled by user", 20.0).unwrap().unwrap();
    let states: Vec<_> = tasks(&s, "arr").into_iter().map(|t| (t.0, t.1)).collect();
    assert_eq!(states, [("0".into(), Cancelled), ("1".into(), Cancelled)]);
}
