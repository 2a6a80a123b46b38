//! The store file itself: opening, refusing what is not a store, migrating
//! older schemas, keeping the files private.

use super::tests::{job, tmp, T};
use super::*;

#[test]
fn fresh_file_gets_the_schema_and_reopens() {
    let (_d, path) = tmp();
    let s = JobStore::open(&path, T).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    let mode: String = s
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = s
        .conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    drop(s);
    let s = JobStore::open(&path, T).unwrap();
    assert_eq!(s.path(), path);
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn newer_schema_is_refused() {
    let (_d, path) = tmp();
    let c = Connection::open(&path).unwrap();
    c.pragma_update(None, "user_version", SCHEMA_VERSION + 5)
        .unwrap();
    drop(c);
    let err = JobStore::open(&path, T).unwrap_err();
    assert!(matches!(err, Error::SchemaTooNew { .. }));
    let msg = err.to_string();
    assert!(msg.contains(&path) && msg.contains("upgrade molq"), "{msg}");
    assert!(
        msg.contains(&format!("schema version {}", SCHEMA_VERSION + 5)),
        "{msg}"
    );
}

#[test]
fn garbage_file_is_named() {
    let (_d, path) = tmp();
    std::fs::write(&path, vec![0x5a_u8; 4096]).unwrap();
    let err = JobStore::open(&path, T).unwrap_err();
    assert!(matches!(err, Error::NotAStore { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&path) && msg.contains("not a SQLite database"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        vec![0x5a_u8; 4096],
        "left untouched"
    );
}

#[test]
fn foreign_tables_are_refused_and_kept() {
    let (_d, path) = tmp();
    let c = Connection::open(&path).unwrap();
    c.execute_batch("CREATE TABLE jobs (id INTEGER); INSERT INTO jobs VALUES (7);")
        .unwrap();
    drop(c);
    let err = JobStore::open(&path, T).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&path) && msg.contains("jobs") && msg.contains("not a molq job store"),
        "{msg}"
    );
    let c = Connection::open(&path).unwrap();
    let n: i64 = c
        .query_row("SELECT id FROM jobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 7);
}

#[test]
fn missing_directory_is_named() {
    let (_d, base) = tmp();
    let path = format!("{base}.d/nested/jobs.db");
    let err = JobStore::open(&path, T).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&path) && msg.contains("does not exist"),
        "{msg}"
    );
}

#[test]
fn concurrent_opens_of_a_new_file() {
    let (_d, path) = tmp();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut s = JobStore::open(&path, T)?;
                s.register_job(&job(&format!("j{i}"), "c"), &[], i as f64)?;
                s.schema_version()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), SCHEMA_VERSION);
    }
    let s = JobStore::open(&path, T).unwrap();
    assert_eq!(s.count_active("c").unwrap(), 8);
}

/// The bytes of a foreign file before and after molq refused it are the same:
/// no WAL switch (header bytes 18-19), no migration, nothing.
#[test]
fn a_refused_file_keeps_every_byte() {
    let cases: [(&str, i64); 3] = [
        (
            "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('x');",
            0,
        ),
        ("CREATE TABLE molq_meta (key TEXT, value TEXT);", 0),
        ("CREATE TABLE other (t TEXT);", 3),
    ];
    for (sql, version) in cases {
        let (_d, path) = tmp();
        let c = Connection::open(&path).unwrap();
        c.execute_batch(sql).unwrap();
        c.pragma_update(None, "user_version", version).unwrap();
        drop(c);
        let before = std::fs::read(&path).unwrap();
        let err = JobStore::open(&path, T).unwrap_err();
        assert!(matches!(err, Error::NotAStore { .. }), "{sql}: {err:?}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "{sql}: file changed");
        assert!(!std::path::Path::new(&format!("{path}-wal")).exists());
    }
}

#[test]
fn classify_file_tells_stores_apart_without_writing() {
    use crate::store::StoreFile;
    let (_d, path) = tmp();
    drop(JobStore::open(&path, T).unwrap());
    assert_eq!(
        classify_file(&path).unwrap(),
        StoreFile::Molq {
            version: SCHEMA_VERSION
        }
    );
    let (_d2, other) = tmp();
    let c = Connection::open(&other).unwrap();
    c.execute_batch("CREATE TABLE molq_meta (key TEXT); CREATE TABLE jobs (job_id TEXT); CREATE TABLE status_transitions (id INTEGER);")
        .unwrap();
    drop(c);
    let before = std::fs::read(&other).unwrap();
    assert_eq!(classify_file(&other).unwrap(), StoreFile::OriginalMolq);
    assert_eq!(std::fs::read(&other).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn store_files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let (_d, path) = tmp();
    let mut s = JobStore::open(&path, T).unwrap();
    s.register_job(&job("a", "c"), &[], 1.0).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let mode = std::fs::metadata(format!("{path}{suffix}"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{suffix}");
    }
}

#[test]
fn a_store_of_schema_3_is_migrated_and_keeps_its_claims() {
    let (_d, path) = tmp();
    let c = Connection::open(&path).unwrap();
    for (i, sql) in MIGRATIONS.iter().take(3).enumerate() {
        c.execute_batch(sql).unwrap();
        c.pragma_update(None, "user_version", i as i64 + 1).unwrap();
    }
    c.execute_batch(
        "INSERT INTO jobs (job_id, cluster_name, scheduler, root_job_id, state, retry_state, retry_due_at) \
         VALUES ('old', 'c', 'local', 'old', 'failed', 'claimed', 5.0)",
    )
    .unwrap();
    drop(c);
    let mut s = JobStore::open(&path, T).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    // A claim made before claims named their holder is taken back.
    assert_eq!(s.claim_due_retries("c", 10.0, "me", &[]).unwrap(), ["old"]);
}

#[test]
fn a_store_of_schema_6_gets_the_terminal_flag_of_its_rows() {
    let (_d, path) = tmp();
    let c = Connection::open(&path).unwrap();
    for (i, sql) in MIGRATIONS.iter().take(6).enumerate() {
        c.execute_batch(sql).unwrap();
        c.pragma_update(None, "user_version", i as i64 + 1).unwrap();
    }
    c.execute_batch(
        "INSERT INTO jobs (job_id, cluster_name, scheduler, root_job_id, state, scheduler_job_id) \
         VALUES ('done', 'c', 'slurm', 'done', 'failed', '7'), \
                ('live', 'c', 'slurm', 'live', 'running', '8')",
    )
    .unwrap();
    drop(c);
    let s = JobStore::open(&path, T).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(s.count_active("c").unwrap(), 1);
    assert_eq!(s.active_set("c").unwrap().jobs.len(), 1);
}

#[test]
fn a_store_of_schema_7_learns_the_partitions_of_its_active_jobs() {
    let (_d, path) = tmp();
    let c = Connection::open(&path).unwrap();
    for (i, sql) in MIGRATIONS.iter().take(7).enumerate() {
        c.execute_batch(sql).unwrap();
        c.pragma_update(None, "user_version", i as i64 + 1).unwrap();
    }
    c.execute_batch(
        r#"INSERT INTO jobs (job_id, cluster_name, scheduler, root_job_id, state, scheduler_job_id, request_json, is_terminal)
         VALUES ('live', 'c', 'slurm', 'live', 'running', '8', '{"scheduling": {"partition": "debug"}}', 0),
                ('plain', 'c', 'slurm', 'plain', 'queued', '9', 'not json', 0),
                ('done', 'c', 'slurm', 'done', 'failed', '7', '{"scheduling": {"partition": "debug"}}', 1)"#,
    )
    .unwrap();
    drop(c);
    let mut s = JobStore::open(&path, T).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(s.in_flight("c", None).unwrap(), 2);
    assert_eq!(s.in_flight("c", Some("debug")).unwrap(), 1);
    let caps = FlightCaps {
        cluster: None,
        partitions: vec![("debug".into(), 1)],
    };
    let mut next = job("new", "c");
    next.request_json = r#"{"scheduling": {"partition": "debug"}}"#.into();
    let held = s.register_job_capped(&next, &[], 10.0, &caps).unwrap();
    assert!(held.is_some(), "the old job counts toward its partition");
}
