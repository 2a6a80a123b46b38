//! Import of original-molq stores built here with the original's DDL (the
//! stores written by its real releases are tested from Python, in
//! tests/compat).

use std::time::Duration;

use super::*;

const T: Duration = Duration::from_millis(200);

/// The original's schema-8 tables (0.7-0.8), as it creates them.
const ORIGINAL_DDL: &str = "
CREATE TABLE molq_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE jobs (job_id TEXT PRIMARY KEY, cluster_name TEXT NOT NULL, scheduler TEXT NOT NULL,
  root_job_id TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 1, previous_attempt_job_id TEXT,
  retry_group_id TEXT, scheduler_job_id TEXT, state TEXT NOT NULL DEFAULT 'created',
  command_type TEXT NOT NULL, command_display TEXT NOT NULL, cwd TEXT NOT NULL,
  submitted_at REAL, started_at REAL, finished_at REAL, last_polled REAL, exit_code INTEGER,
  failure_reason TEXT, metadata TEXT DEFAULT '{}', request_json TEXT DEFAULT '{}',
  profile_name TEXT, cleaned_at REAL);
CREATE TABLE status_transitions (id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL REFERENCES jobs(job_id), old_state TEXT, new_state TEXT NOT NULL,
  timestamp REAL NOT NULL, reason TEXT);
CREATE TABLE job_dependencies (id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL REFERENCES jobs(job_id), dependency_job_id TEXT NOT NULL REFERENCES jobs(job_id),
  dependency_type TEXT NOT NULL, scheduler_dependency TEXT NOT NULL);
CREATE TABLE allocations (cluster_name TEXT NOT NULL, alloc_key TEXT NOT NULL, partition TEXT,
  account TEXT, qos TEXT, reservation TEXT, label TEXT, first_used REAL NOT NULL,
  last_used REAL NOT NULL, use_count INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (cluster_name, alloc_key));
INSERT INTO molq_meta VALUES ('schema_version', '8');
";

fn original(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("orig.db").to_str().unwrap().to_owned();
    let c = Connection::open(&path).unwrap();
    // The original never turns foreign keys on; its files can hold orphans.
    c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=OFF")
        .unwrap();
    c.execute_batch(ORIGINAL_DDL).unwrap();
    c.execute_batch(
        "
        INSERT INTO jobs (job_id, cluster_name, scheduler, root_job_id, attempt, retry_group_id,
          scheduler_job_id, state, command_type, command_display, cwd, submitted_at, finished_at,
          exit_code, metadata, request_json)
        VALUES
          ('a', 'dev', 'local', 'a', 1, 'a', '101', 'succeeded', 'argv', 'true', '/w', 10.0, 11.0, 0,
           '{\"molq.job_dir\": \"/w/.molq/jobs/a\", \"k\": \"v\"}', '{}'),
          ('b', 'dev', 'local', 'b', 1, 'b', '102', 'running', 'argv', 'sleep 9', '/w', 12.0, NULL, NULL,
           '{\"molq.job_dir\": \"/w/.molq/jobs/b\"}',
           '{\"retry\": {\"max_attempts\": 3, \"retry_on_states\": [\"failed\"]}}'),
          ('c', 'hpc', 'slurm', 'c', 1, 'c', '5001', 'weird', 'command', 'make', '/w', 13.0, NULL, NULL,
           NULL, NULL);
        INSERT INTO status_transitions (id, job_id, old_state, new_state, timestamp, reason) VALUES
          (7, 'a', NULL, 'created', 9.5, NULL), (8, 'a', 'created', 'succeeded', 11.0, 'done'),
          (9, 'b', NULL, 'created', 12.0, NULL), (10, 'gone', NULL, 'created', 1.0, NULL);
        INSERT INTO job_dependencies (id, job_id, dependency_job_id, dependency_type, scheduler_dependency)
          VALUES (3, 'b', 'a', 'afterok', 'afterok:101');
        INSERT INTO allocations VALUES ('hpc', 'gpu\x1fproj\x1f\x1f', 'gpu', 'proj', NULL, NULL, 'gpu (proj)', 1.0, 5.0, 4);
        ",
    )
    .unwrap();
    drop(c);
    path
}

fn ours(dir: &tempfile::TempDir) -> JobStore {
    JobStore::open(dir.path().join("jobs.db").to_str().unwrap(), T).unwrap()
}

#[test]
fn imports_every_row_with_its_ids_and_leaves_the_source_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let src = original(&dir);
    let before = std::fs::read(&src).unwrap();
    let mut store = ours(&dir);
    let r = store.import_original(&src, T, 100.0).unwrap();
    assert_eq!(std::fs::read(&src).unwrap(), before);
    assert_eq!(r.source_schema, 8);
    assert_eq!(
        (r.jobs, r.transitions, r.dependencies, r.allocations),
        (3, 3, 1, 1)
    );
    assert_eq!(r.orphans, 1);
    assert_eq!(r.active_jobs, ["b"]);
    assert_eq!(r.unknown_states, ["c"]);
    // what the refresh reads agrees: only b is active
    let cluster = store
        .get_job("b")
        .unwrap()
        .unwrap()
        .cluster_name()
        .to_owned();
    assert_eq!(store.count_active(&cluster).unwrap(), 1);

    let a = store.get_job("a").unwrap().unwrap();
    assert_eq!(a.state(), JobState::Succeeded);
    assert_eq!(a.exit_code(), Some(0));
    assert_eq!(a.job_dir(), "/w/.molq/jobs/a");
    let b = store.get_job("b").unwrap().unwrap();
    assert_eq!(b.state(), JobState::Running);
    let c = store.get_job("c").unwrap().unwrap();
    assert_eq!(c.state(), JobState::Lost);
    assert!(c.failure_reason().unwrap().contains("\"weird\""));

    let ids: Vec<i64> = store
        .conn
        .prepare("SELECT id FROM status_transitions ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(ids, [7, 8, 9]);
    let (retry, created): (Option<String>, f64) = store
        .conn
        .query_row(
            "SELECT retry_json, created_at FROM jobs WHERE job_id = 'b'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        crate::retry::RetryPolicy::from_json(&retry.unwrap())
            .unwrap()
            .max_attempts,
        3
    );
    assert_eq!(created, 12.0);
    let deps = store.get_dependencies("b").unwrap();
    assert_eq!(deps[0].scheduler_dependency, "afterok:101");
    let allocs = store.list_allocations("hpc", None).unwrap();
    assert_eq!(allocs.len(), 1);
    assert_eq!(allocs[0].partition.as_deref(), Some("gpu"));
    assert_eq!(allocs[0].qos, None);
    assert_eq!((allocs[0].last_used, allocs[0].use_count), (5.0, 4));
}

#[test]
fn a_second_import_skips_what_is_already_there() {
    let dir = tempfile::tempdir().unwrap();
    let src = original(&dir);
    let mut store = ours(&dir);
    store.import_original(&src, T, 100.0).unwrap();
    let again = store.import_original(&src, T, 100.0).unwrap();
    assert_eq!(
        (
            again.jobs,
            again.transitions,
            again.dependencies,
            again.allocations
        ),
        (0, 0, 0, 0)
    );
    assert_eq!((again.duplicate_jobs, again.duplicate_allocations), (3, 1));
    assert_eq!(store.get_transitions("a").unwrap().len(), 2);
}

#[test]
fn transition_ids_taken_here_get_fresh_ones() {
    let dir = tempfile::tempdir().unwrap();
    let src = original(&dir);
    let mut store = ours(&dir);
    for i in 0..9 {
        let job = crate::model::NewJob {
            job_id: format!("own-{i}"),
            cluster_name: "dev".into(),
            scheduler: "local".into(),
            attempt: 1,
            ..Default::default()
        };
        store.register_job(&job, &[], 1.0).unwrap();
    }
    let r = store.import_original(&src, T, 100.0).unwrap();
    assert_eq!(r.transitions, 3);
    assert_eq!(store.get_transitions("a").unwrap().len(), 2);
    assert_eq!(store.get_transitions("own-8").unwrap().len(), 1);
}

#[test]
fn refuses_what_is_not_an_original_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = ours(&dir);
    let own = dir.path().join("jobs.db").to_str().unwrap().to_owned();
    let err = store.import_original(&own, T, 1.0).unwrap_err();
    assert!(matches!(err, Error::NotAStore { .. }), "{err}");
    assert!(err.to_string().contains("store of this molq"), "{err}");

    let text = dir.path().join("notes.db");
    std::fs::write(
        &text,
        "hello, this is not sqlite at all, just some text ........",
    )
    .unwrap();
    let err = store
        .import_original(text.to_str().unwrap(), T, 1.0)
        .unwrap_err();
    assert!(matches!(err, Error::NotAStore { .. }), "{err}");

    let missing = dir.path().join("nope.db");
    let err = store
        .import_original(missing.to_str().unwrap(), T, 1.0)
        .unwrap_err();
    assert!(matches!(err, Error::Unusable { .. }), "{err}");
    assert!(!missing.exists());
}

#[test]
fn refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let src = original(&dir);
    Connection::open(&src)
        .unwrap()
        .execute(
            "UPDATE molq_meta SET value = '10' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    let mut store = ours(&dir);
    let err = store.import_original(&src, T, 1.0).unwrap_err();
    assert!(
        matches!(err, Error::SchemaTooNew { found: 10, .. }),
        "{err}"
    );
    assert_eq!(store.count_active("dev").unwrap(), 0);
}

#[test]
fn a_locked_source_is_reported_as_locked() {
    let dir = tempfile::tempdir().unwrap();
    let src = original(&dir);
    let holder = Connection::open(&src).unwrap();
    holder
        .execute_batch("PRAGMA journal_mode=DELETE; BEGIN EXCLUSIVE;")
        .unwrap();
    let mut store = ours(&dir);
    let err = store.import_original(&src, T, 1.0).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    holder.execute_batch("COMMIT").unwrap();
    assert_eq!(store.import_original(&src, T, 1.0).unwrap().jobs, 3);
}

#[test]
fn older_schemas_without_later_columns_read_with_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db").to_str().unwrap().to_owned();
    let c = Connection::open(&path).unwrap();
    c.execute_batch(
        "CREATE TABLE molq_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         INSERT INTO molq_meta VALUES ('schema_version', '2');
         CREATE TABLE jobs (job_id TEXT PRIMARY KEY, cluster_name TEXT NOT NULL, scheduler TEXT NOT NULL,
           scheduler_job_id TEXT, state TEXT NOT NULL, command_type TEXT NOT NULL,
           command_display TEXT NOT NULL, cwd TEXT NOT NULL, submitted_at REAL, exit_code INTEGER);
         INSERT INTO jobs VALUES ('x', 'dev', 'local', '9', 'failed', 'argv', 'false', '/', 3.0, 1);",
    )
    .unwrap();
    drop(c);
    let mut store = ours(&dir);
    let r = store.import_original(&path, T, 50.0).unwrap();
    assert_eq!((r.source_schema, r.jobs, r.transitions), (2, 1, 0));
    let x = store.get_job("x").unwrap().unwrap();
    assert_eq!((x.root_job_id(), x.attempt()), ("x", 1));
    assert_eq!(x.exit_code(), Some(1));
}
