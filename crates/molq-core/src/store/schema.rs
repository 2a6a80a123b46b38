//! The store's DDL, its migrations and the steps of opening a file.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result, SqlContext};

/// Migration `i` takes a store from `PRAGMA user_version` `i` to `i + 1`.
/// Append only: a released migration never changes.
pub const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the initial schema.
    "
    CREATE TABLE jobs (
        job_id                  TEXT PRIMARY KEY NOT NULL,
        cluster_name            TEXT NOT NULL,
        scheduler               TEXT NOT NULL,
        root_job_id             TEXT NOT NULL,
        attempt                 INTEGER NOT NULL DEFAULT 1,
        previous_attempt_job_id TEXT,
        retry_group_id          TEXT,
        scheduler_job_id        TEXT,
        state                   TEXT NOT NULL DEFAULT 'created',
        command_type            TEXT NOT NULL DEFAULT '',
        command_display         TEXT NOT NULL DEFAULT '',
        cwd                     TEXT NOT NULL DEFAULT '',
        job_dir                 TEXT NOT NULL DEFAULT '',
        submitted_at            REAL,
        started_at              REAL,
        finished_at             REAL,
        last_polled             REAL,
        exit_code               INTEGER,
        exit_signal             INTEGER,
        failure_reason          TEXT,
        metadata                TEXT NOT NULL DEFAULT '{}',
        request_json            TEXT NOT NULL DEFAULT '{}',
        retry_json              TEXT,
        retry_due_at            REAL,
        retry_state             TEXT,
        profile_name            TEXT,
        cleaned_at              REAL,
        missing_since           REAL,
        missing_count           INTEGER NOT NULL DEFAULT 0,
        created_at              REAL
    );
    CREATE INDEX idx_jobs_cluster_submitted ON jobs(cluster_name, submitted_at);
    CREATE INDEX idx_jobs_submitted ON jobs(submitted_at);
    CREATE INDEX idx_jobs_cluster_state ON jobs(cluster_name, state);
    CREATE INDEX idx_jobs_root_attempt ON jobs(root_job_id, attempt);
    CREATE INDEX idx_jobs_scheduler_id ON jobs(scheduler_job_id);
    CREATE INDEX idx_jobs_cluster_finished ON jobs(cluster_name, finished_at);
    CREATE INDEX idx_jobs_retry_due ON jobs(cluster_name, retry_due_at)
        WHERE retry_state = 'scheduled';

    CREATE TABLE status_transitions (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id    TEXT NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
        old_state TEXT,
        new_state TEXT NOT NULL,
        timestamp REAL NOT NULL,
        reason    TEXT
    );
    CREATE INDEX idx_transitions_job ON status_transitions(job_id, timestamp);

    -- dependency_job_id has no foreign key on purpose: retention may delete an
    -- upstream record while its downstream job is still kept.
    CREATE TABLE job_dependencies (
        id                   INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id               TEXT NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
        dependency_job_id    TEXT NOT NULL,
        dependency_type      TEXT NOT NULL,
        scheduler_dependency TEXT NOT NULL
    );
    CREATE INDEX idx_dependencies_job ON job_dependencies(job_id);
    CREATE INDEX idx_dependencies_upstream ON job_dependencies(dependency_job_id);
    ",
    // 1 -> 2: job arrays: which jobs are arrays, and their tasks. The primary
    // key is the index for the per-job reads and deletes; no rowid, since
    // nothing else refers to a row.
    "
    ALTER TABLE jobs ADD COLUMN is_array INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE array_tasks (
        job_id      TEXT NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
        task_id     TEXT NOT NULL,
        state       TEXT NOT NULL,
        exit_code   INTEGER,
        exit_signal INTEGER,
        started_at  REAL,
        finished_at REAL,
        PRIMARY KEY (job_id, task_id)
    ) WITHOUT ROWID;
    ",
    // 2 -> 3: one scheduler poll per cluster per interval, shared by every
    // process using the store (the poll lease), and the query path of the
    // recovery of submissions interrupted before their scheduler id was kept.
    "
    CREATE TABLE poll_leases (
        cluster_name    TEXT PRIMARY KEY NOT NULL,
        holder          TEXT,
        lease_until     REAL,
        last_attempt_at REAL,
        last_poll_at    REAL,
        failures        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT
    ) WITHOUT ROWID;
    CREATE INDEX idx_jobs_created ON jobs(cluster_name, created_at) WHERE state = 'created';
    ",
    // 3 -> 4: a retry claim names its holder (host, pid and process start
    // time), so a claim whose holder died can be taken back by another
    // process instead of stranding the job.
    "
    ALTER TABLE jobs ADD COLUMN retry_claimed_by TEXT;
    CREATE INDEX idx_jobs_retry_claimed ON jobs(cluster_name, retry_claimed_by)
        WHERE retry_state = 'claimed';
    ",
    // 4 -> 5: the allocations (partition, account, qos, reservation) each
    // cluster's jobs used, for suggestions. Not tied to jobs: retention that
    // deletes job records keeps them. '' stands for a field not given.
    "
    CREATE TABLE allocations (
        cluster_name TEXT NOT NULL,
        partition    TEXT NOT NULL DEFAULT '',
        account      TEXT NOT NULL DEFAULT '',
        qos          TEXT NOT NULL DEFAULT '',
        reservation  TEXT NOT NULL DEFAULT '',
        label        TEXT,
        last_used    REAL NOT NULL,
        use_count    INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (cluster_name, partition, account, qos, reservation)
    ) WITHOUT ROWID;
    CREATE INDEX idx_allocations_recent ON allocations(cluster_name, last_used);
    ",
    // 5 -> 6: the active jobs of a cluster, the rows every refresh reads. A
    // store keeps finished jobs for weeks; without it a refresh walks them
    // all. Its WHERE was the text of JobState::TERMINAL_SQL of its day, so
    // the queries that said `state NOT IN (...)` could use it.
    "
    CREATE INDEX idx_jobs_active ON jobs(cluster_name, submitted_at)
        WHERE state NOT IN ('succeeded','failed','cancelled','timed_out','lost');
    ",
    // 6 -> 7: the active-jobs index names a flag that changes only when a job
    // ends, not its state: a poll that moves 100,000 jobs from queued to
    // running then leaves the index alone (with `state` in its WHERE, SQLite
    // deletes and re-inserts every entry). Every statement that sets a state
    // sets the flag with it (rows::TERMINAL_FLAG); triggers would cost more
    // than the index did. (cluster_name, state) served only the active
    // reads, which the partial index answers, so it goes.
    "
    ALTER TABLE jobs ADD COLUMN is_terminal INTEGER NOT NULL DEFAULT 0;
    UPDATE jobs SET is_terminal = 1
        WHERE state IN ('succeeded','failed','cancelled','timed_out','lost');
    DROP INDEX idx_jobs_active;
    DROP INDEX idx_jobs_cluster_state;
    CREATE INDEX idx_jobs_active ON jobs(cluster_name, submitted_at) WHERE is_terminal = 0;
    ",
    // 7 -> 8: jobs in flight and the pace of scheduler commands (flight.rs,
    // pace.rs). A job molq holds back waits in state queued with no scheduler
    // id and `held = 1`; a process that claims it for the hand-over clears
    // the flag and names itself in `released_by` (queued, not held, no id:
    // being handed over, or interrupted doing so). `partition` is the one the job asked for
    // (from its stored request), so caps per partition can be counted;
    // active jobs of earlier versions get theirs here. One token bucket per
    // cluster paces the scheduler commands of every process.
    "
    ALTER TABLE jobs ADD COLUMN partition TEXT;
    ALTER TABLE jobs ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN released_by TEXT;
    ALTER TABLE jobs ADD COLUMN released_at REAL;
    UPDATE jobs SET partition = json_extract(request_json, '$.scheduling.partition')
        WHERE is_terminal = 0 AND json_valid(request_json);
    CREATE INDEX idx_jobs_held ON jobs(cluster_name, created_at, partition)
        WHERE held = 1 AND is_terminal = 0;
    CREATE INDEX idx_jobs_active_partition ON jobs(cluster_name, partition) WHERE is_terminal = 0;
    CREATE INDEX idx_jobs_releasing ON jobs(cluster_name, released_at)
        WHERE state = 'queued' AND held = 0 AND scheduler_job_id IS NULL;
    CREATE TABLE command_buckets (
        cluster_name TEXT PRIMARY KEY NOT NULL,
        tokens       REAL NOT NULL,
        refilled_at  REAL NOT NULL
    ) WITHOUT ROWID;
    ",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How often a busy `journal_mode` switch is retried. Each retry first waits
/// for the competing writer inside SQLite's busy handler, so this bounds rounds,
/// not time.
const WAL_ATTEMPTS: usize = 20;

/// Switch to WAL. Several processes creating one file at once can get
/// SQLITE_BUSY here without the busy handler being consulted; waiting for the
/// other writer through `BEGIN IMMEDIATE` (which does use the busy handler) and
/// trying again resolves it.
pub(crate) fn enable_wal(conn: &Connection, path: &str) -> Result<()> {
    for _ in 0..WAL_ATTEMPTS {
        match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(e) if is_busy(&e) => conn.execute_batch("BEGIN IMMEDIATE; COMMIT;").at(path)?,
            Err(e) => return Err(Error::sqlite(path, e)),
        }
    }
    Err(Error::Locked {
        path: path.to_owned(),
        detail: format!("could not switch to WAL mode in {WAL_ATTEMPTS} attempts"),
    })
}

fn is_busy(e: &rusqlite::Error) -> bool {
    use rusqlite::ffi::ErrorCode as C;
    matches!(
        e.sqlite_error_code(),
        Some(C::DatabaseBusy | C::DatabaseLocked)
    )
}

fn user_version(conn: &Connection, path: &str) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .at(path)
}

/// Bring the schema to [`SCHEMA_VERSION`], refusing files that are newer or
/// that hold tables molq did not create. Never renames or drops user data.
pub(crate) fn migrate(conn: &mut Connection, path: &str) -> Result<()> {
    let found = user_version(conn, path)?;
    check_not_newer(found, path)?;
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .at(path)?;
    // Another process may have migrated while we waited for the lock.
    let found = user_version(&tx, path)?;
    check_not_newer(found, path)?;
    if found == 0 {
        // Checked again inside the write lock: another process may have
        // created tables since the first look.
        check_is_store(&tx, path)?;
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql).map_err(|e| Error::Sqlite {
            path: path.to_owned(),
            source: e,
        })?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .at(path)?;
    }
    tx.commit().at(path)
}

fn check_not_newer(found: i64, path: &str) -> Result<()> {
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 0 {
        return Err(Error::NotAStore {
            path: path.to_owned(),
            reason: format!("it has a negative schema version ({found})"),
        });
    }
    Ok(())
}

/// What a SQLite file holds, as far as molq is concerned. Found by reads
/// only: deciding never writes to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreFile {
    /// No tables and schema version 0: a new store (or a file just created).
    Empty,
    /// A store of this molq at schema `version` (possibly newer than this build).
    Molq { version: i64 },
    /// A store of the pure-Python molq (it keeps a `molq_meta` table).
    OriginalMolq,
    /// Someone else's database: its tables, by name.
    Foreign { tables: Vec<String> },
}

/// Classify the database behind `conn` with reads only (`PRAGMA user_version`
/// and `sqlite_master`). The one place that decides whether a file is a molq
/// store; [`check_is_store`] turns the answer into an error before molq writes.
pub fn classify(conn: &Connection, path: &str) -> Result<StoreFile> {
    // One statement, so one snapshot: a store being created by another
    // process is seen before or after its migration, never half-way (its
    // tables with version 0).
    let (version, names): (i64, Option<String>) = conn
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version), \
             (SELECT group_concat(name, char(31)) FROM (SELECT name FROM sqlite_master \
             WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name))",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .at(path)?;
    let tables: Vec<String> = names
        .map(|n| n.split('\u{1f}').map(str::to_owned).collect())
        .unwrap_or_default();
    let has = |name: &str| tables.iter().any(|t| t == name);
    Ok(if tables.is_empty() && version == 0 {
        StoreFile::Empty
    } else if has("molq_meta") {
        // The pure-Python molq keeps its version there, never in user_version.
        StoreFile::OriginalMolq
    } else if version > 0 && has("jobs") && has("status_transitions") {
        StoreFile::Molq { version }
    } else {
        StoreFile::Foreign { tables }
    })
}

/// Classify the file at `path` without writing to it (opened read-only): for
/// tools such as an importer that must know what a file is before touching it.
pub fn classify_file(path: &str) -> Result<StoreFile> {
    use rusqlite::OpenFlags;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::Unusable {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    classify(&conn, path)
}

/// Refuse, before any write, a file molq must not touch: someone else's
/// database, the pure-Python molq's store, a negative or newer schema.
pub fn check_is_store(conn: &Connection, path: &str) -> Result<()> {
    let not_a_store = |reason: String| Error::NotAStore {
        path: path.to_owned(),
        reason,
    };
    match classify(conn, path)? {
        StoreFile::Empty => Ok(()),
        StoreFile::Molq { version } => check_not_newer(version, path),
        StoreFile::OriginalMolq => Err(not_a_store(
            "it is a store of the pure-Python molq; move it aside to start a new one \
             (it was left untouched)"
                .to_owned(),
        )),
        StoreFile::Foreign { tables } if tables.is_empty() => {
            let version = user_version(conn, path)?;
            check_not_newer(version, path)?;
            Err(not_a_store(format!(
                "it has schema version {version} but no tables; it was left untouched"
            )))
        }
        StoreFile::Foreign { tables } => Err(not_a_store(format!(
            "it already holds tables molq did not create ({}); it was left untouched",
            tables.join(", ")
        ))),
    }
}
