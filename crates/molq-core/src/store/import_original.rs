//! Import the job store of the original pure-Python molq (`molcrafts-molq`,
//! `~/.molcrafts/molq/config/jobs.db`; schema 7 in 0.4-0.6, 8 in 0.7-0.8):
//! every job, status transition, dependency edge and remembered allocation,
//! ids unchanged, in ONE write transaction on this store.
//!
//! The source is opened read-only (`mode=ro`) and read inside one read
//! transaction, so its bytes stay exactly as they were and what is read is one
//! consistent snapshot even while an original molq process still uses it.
//! Rows already present here (same job id, same allocation) are skipped and
//! counted, so an import can be repeated safely.

use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;
use std::path::Path;
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::JobStore;
use crate::error::{Error, Result, SqlContext};
use crate::model::Timestamp;
use crate::state::JobState;

/// The original's schema versions this import reads (`molq_meta.schema_version`).
/// Version 2 lacks the retry columns (they default as the original's own
/// migration defaults them); version 1 kept no `molq_meta` and is not read.
pub const ORIGINAL_SCHEMAS: RangeInclusive<i64> = 2..=8;

/// What one import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// `molq_meta.schema_version` of the source.
    pub source_schema: i64,
    pub jobs: usize,
    pub transitions: usize,
    pub dependencies: usize,
    pub allocations: usize,
    /// Jobs whose id is already in this store (with their transitions and
    /// dependency edges, which are not imported either).
    pub duplicate_jobs: usize,
    pub duplicate_allocations: usize,
    /// Transitions and edges whose job is not in the source's jobs table,
    /// and job rows without a job id.
    pub orphans: usize,
    /// Imported jobs that were not finished: molq goes on tracking them.
    pub active_jobs: Vec<String>,
    /// Imported jobs whose state was not one of the nine (stored as lost).
    pub unknown_states: Vec<String>,
}

/// The original's `jobs` columns, in the order [`OriginalJob`] reads them.
/// Missing columns (older schemas) read as NULL.
const JOB_COLUMNS: [&str; 22] = [
    "job_id",
    "cluster_name",
    "scheduler",
    "root_job_id",
    "attempt",
    "previous_attempt_job_id",
    "retry_group_id",
    "scheduler_job_id",
    "state",
    "command_type",
    "command_display",
    "cwd",
    "submitted_at",
    "started_at",
    "finished_at",
    "last_polled",
    "exit_code",
    "failure_reason",
    "metadata",
    "request_json",
    "profile_name",
    "cleaned_at",
];

const TRANSITION_COLUMNS: [&str; 6] = [
    "id",
    "job_id",
    "old_state",
    "new_state",
    "timestamp",
    "reason",
];
const DEPENDENCY_COLUMNS: [&str; 5] = [
    "id",
    "job_id",
    "dependency_job_id",
    "dependency_type",
    "scheduler_dependency",
];
const ALLOCATION_COLUMNS: [&str; 9] = [
    "cluster_name",
    "partition",
    "account",
    "qos",
    "reservation",
    "label",
    "first_used",
    "last_used",
    "use_count",
];

/// Everything read from the source, before any write here.
struct Source {
    schema: i64,
    jobs: Vec<Vec<Value>>,
    transitions: Vec<Vec<Value>>,
    dependencies: Vec<Vec<Value>>,
    allocations: Vec<Vec<Value>>,
}

impl JobStore {
    /// Import the original molq's store at `source` into this store in one
    /// transaction (see the module docs). `now` stands in for a job's creation
    /// time when the source kept none. `busy_timeout` bounds the wait for a
    /// lock on the source; a source held longer is [`Error::Locked`].
    pub fn import_original(
        &mut self,
        source: &str,
        busy_timeout: Duration,
        now: Timestamp,
    ) -> Result<ImportReport> {
        let src = read_source(source, busy_timeout)?;
        let path = self.path.clone();
        let tx = self.write()?;
        let mut report = ImportReport {
            source_schema: src.schema,
            ..ImportReport::default()
        };
        let created_at = creation_times(&src.transitions);
        let mut source_ids = HashSet::new();
        let mut imported = HashSet::new();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO jobs (job_id, cluster_name, scheduler, root_job_id, \
                     attempt, previous_attempt_job_id, retry_group_id, scheduler_job_id, state, \
                     command_type, command_display, cwd, submitted_at, started_at, finished_at, \
                     last_polled, exit_code, failure_reason, metadata, request_json, profile_name, \
                     cleaned_at, job_dir, retry_json, created_at, is_terminal) VALUES (?1, ?2, ?3, \
                     ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, \
                     ?21, ?22, ?23, ?24, ?25, ?26)",
                )
                .at(&path)?;
            let mut known = tx
                .prepare("SELECT 1 FROM jobs WHERE job_id = ?1")
                .at(&path)?;
            for row in src.jobs {
                let job = OriginalJob::new(row, &created_at, now);
                if job.id.is_empty() {
                    report.orphans += 1; // a row with no job id cannot be kept
                    continue;
                }
                source_ids.insert(job.id.clone());
                // Checked first rather than ignored on conflict, so that any
                // other constraint a row breaks fails the import, loudly.
                if known.exists([&job.id]).at(&path)? {
                    report.duplicate_jobs += 1;
                    continue;
                }
                insert
                    .execute(rusqlite::params_from_iter(&job.values))
                    .at(&path)?;
                report.jobs += 1;
                if !job.state.is_terminal() {
                    report.active_jobs.push(job.id.clone());
                }
                if job.unknown_state {
                    report.unknown_states.push(job.id.clone());
                }
                imported.insert(job.id);
            }
        }
        let rows = [
            (
                src.transitions,
                "status_transitions",
                &TRANSITION_COLUMNS[..],
            ),
            (
                src.dependencies,
                "job_dependencies",
                &DEPENDENCY_COLUMNS[..],
            ),
        ];
        for (i, (table_rows, table, columns)) in rows.into_iter().enumerate() {
            let n = copy_job_rows(
                &tx,
                &path,
                table,
                columns,
                table_rows,
                &source_ids,
                &imported,
                &mut report.orphans,
            )?;
            if i == 0 {
                report.transitions = n;
            } else {
                report.dependencies = n;
            }
        }
        {
            let mut insert = tx
                .prepare(
                    "INSERT OR IGNORE INTO allocations (cluster_name, partition, account, qos, \
                     reservation, label, last_used, use_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .at(&path)?;
            for row in src.allocations {
                let text = |i: usize| match &row[i] {
                    Value::Text(t) => t.clone(),
                    _ => String::new(),
                };
                let last_used = real(&row[7]).or_else(|| real(&row[6])).unwrap_or(now);
                let use_count = match row[8] {
                    Value::Integer(n) => n,
                    _ => 1,
                };
                let n = insert
                    .execute(params![
                        text(0),
                        text(1),
                        text(2),
                        text(3),
                        text(4),
                        row[5],
                        last_used,
                        use_count
                    ])
                    .at(&path)?;
                if n == 0 {
                    report.duplicate_allocations += 1;
                } else {
                    report.allocations += 1;
                }
            }
        }
        tx.commit().at(&path)?;
        Ok(report)
    }
}

/// Copy transitions or dependency edges of the imported jobs, keeping their
/// ids when free here (a store that already had rows gets fresh ids).
#[allow(clippy::too_many_arguments)]
fn copy_job_rows(
    tx: &Connection,
    path: &str,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    source_ids: &HashSet<String>,
    imported: &HashSet<String>,
    orphans: &mut usize,
) -> Result<usize> {
    let list = columns.join(", ");
    let marks = super::rows::placeholders(1, columns.len());
    let mut with_id = tx
        .prepare(&format!("INSERT INTO {table} ({list}) VALUES ({marks})"))
        .at(path)?;
    let mut taken = tx
        .prepare(&format!("SELECT 1 FROM {table} WHERE id = ?1"))
        .at(path)?;
    let mut fresh_id = tx
        .prepare(&format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns[1..].join(", "),
            super::rows::placeholders(1, columns.len() - 1)
        ))
        .at(path)?;
    let mut n = 0;
    for row in rows {
        let job_id = match &row[1] {
            Value::Text(t) => t.as_str(),
            _ => "",
        };
        if !imported.contains(job_id) {
            // A duplicate job's rows are already here; others have no job.
            if !source_ids.contains(job_id) {
                *orphans += 1;
            }
            continue;
        }
        if taken.exists([&row[0]]).at(path)? {
            fresh_id
                .execute(rusqlite::params_from_iter(&row[1..]))
                .at(path)?;
        } else {
            with_id.execute(rusqlite::params_from_iter(&row)).at(path)?;
        }
        n += 1;
    }
    Ok(n)
}

/// One job row of the original, mapped to this store's columns.
struct OriginalJob {
    id: String,
    state: JobState,
    unknown_state: bool,
    values: Vec<Value>,
}

impl OriginalJob {
    fn new(mut v: Vec<Value>, created_at: &HashMap<String, f64>, now: Timestamp) -> OriginalJob {
        let text = |v: &Value| match v {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        };
        let id = text(&v[0]).unwrap_or_default();
        // NOT NULL here; older schemas may lack the column.
        for i in [1, 2, 9, 10, 11] {
            if v[i] == Value::Null {
                v[i] = Value::Text(String::new());
            }
        }
        for i in [3, 6] {
            if v[i] == Value::Null {
                v[i] = Value::Text(id.clone());
            }
        }
        if !matches!(v[4], Value::Integer(_)) {
            v[4] = Value::Integer(1);
        }
        let raw_state = text(&v[8]).unwrap_or_default();
        let (state, unknown_state) = match JobState::parse(&raw_state) {
            Some(s) => (s, false),
            None => (JobState::Lost, true),
        };
        v[8] = Value::Text(state.as_str().to_owned());
        if unknown_state && v[17] == Value::Null {
            v[17] = Value::Text(format!(
                "imported from the original molq with unknown state {raw_state:?}"
            ));
        }
        let metadata: Option<serde_json::Map<String, serde_json::Value>> =
            text(&v[18]).and_then(|m| serde_json::from_str(&m).ok());
        if metadata.is_none() {
            v[18] = Value::Text("{}".to_owned());
        }
        let request: Option<serde_json::Value> =
            text(&v[19]).and_then(|r| serde_json::from_str(&r).ok());
        if v[19] == Value::Null {
            v[19] = Value::Text("{}".to_owned());
        }
        // The original keeps the job directory in metadata; molq's local
        // backend finds the pid and exit-code files through the column.
        let job_dir = metadata
            .as_ref()
            .and_then(|m| m.get("molq.job_dir"))
            .and_then(|d| d.as_str())
            .unwrap_or_default()
            .to_owned();
        // The original replays its retry policy from the stored request; molq
        // reads the same JSON shape from its own column.
        let retry_json = request
            .as_ref()
            .and_then(|r| r.get("retry"))
            .filter(|r| r.is_object())
            .map(|r| Value::Text(r.to_string()))
            .unwrap_or(Value::Null);
        let created = created_at
            .get(&id)
            .copied()
            .or_else(|| real(&v[12]))
            .unwrap_or(now);
        v.push(Value::Text(job_dir));
        v.push(retry_json);
        v.push(Value::Real(created));
        v.push(Value::Integer(state.is_terminal().into()));
        OriginalJob {
            id,
            state,
            unknown_state,
            values: v,
        }
    }
}

/// Each job's creation time: its first transition (the original logs one
/// when the row is inserted).
fn creation_times(transitions: &[Vec<Value>]) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for row in transitions {
        if let (Value::Text(job), Some(t)) = (&row[1], real(&row[4])) {
            out.entry(job.clone())
                .and_modify(|old: &mut f64| *old = old.min(t))
                .or_insert(t);
        }
    }
    out
}

fn real(v: &Value) -> Option<f64> {
    match v {
        Value::Real(r) => Some(*r),
        Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

/// `path` as a `file:` URI (SQLite reads `?`, `#` and `%` specially).
fn uri(path: &str) -> String {
    let mut out = String::from("file:");
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out.push_str("?mode=ro");
    out
}

fn not_original(path: &str, reason: impl Into<String>) -> Error {
    Error::NotAStore {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Open `path` read-only and read all four tables in one read transaction.
fn read_source(path: &str, busy_timeout: Duration) -> Result<Source> {
    if !Path::new(path).is_file() {
        return Err(Error::Unusable {
            path: path.to_owned(),
            reason: "no such file".to_owned(),
        });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(uri(path), flags).map_err(|e| Error::Unusable {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    conn.busy_timeout(busy_timeout).at(path)?;
    // A read transaction: one snapshot of every table.
    conn.execute_batch("BEGIN DEFERRED").at(path)?;
    let tables = table_names(&conn, path)?;
    if !tables.contains("molq_meta") {
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .at(path)?;
        return Err(not_original(
            path,
            if version > 0 {
                "it is a store of this molq, not of the original molq; nothing to import".to_owned()
            } else if tables.contains("jobs") {
                "it is a store of a pre-0.2 molq (schema 1, no molq_meta table), which even the \
                 original molq does not migrate"
                    .to_owned()
            } else {
                "it has no molq_meta table, so it is not a store of the original molq".to_owned()
            },
        ));
    }
    let raw: Option<String> = conn
        .query_row(
            "SELECT CAST(value AS TEXT) FROM molq_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .at(path)?;
    let raw = raw.ok_or_else(|| not_original(path, "its molq_meta table has no schema_version"))?;
    let schema: i64 = raw
        .trim()
        .parse()
        .map_err(|_| not_original(path, format!("its schema version {raw:?} is not a number")))?;
    if schema > *ORIGINAL_SCHEMAS.end() {
        return Err(Error::SchemaTooNew {
            path: path.to_owned(),
            found: schema,
            supported: *ORIGINAL_SCHEMAS.end(),
        });
    }
    if !ORIGINAL_SCHEMAS.contains(&schema) {
        return Err(not_original(
            path,
            format!("its schema version {schema} is older than any the original molq migrates"),
        ));
    }
    if !tables.contains("jobs") {
        return Err(not_original(
            path,
            "it has a molq_meta table but no jobs table",
        ));
    }
    let read = |table: &str, columns: &[&str], order: &str| -> Result<Vec<Vec<Value>>> {
        if !tables.contains(table) {
            return Ok(Vec::new());
        }
        select_all(&conn, path, table, columns, order)
    };
    let src = Source {
        schema,
        jobs: read("jobs", &JOB_COLUMNS, "rowid")?,
        transitions: read("status_transitions", &TRANSITION_COLUMNS, "id")?,
        dependencies: read("job_dependencies", &DEPENDENCY_COLUMNS, "id")?,
        allocations: read("allocations", &ALLOCATION_COLUMNS, "first_used")?,
    };
    conn.execute_batch("COMMIT").at(path)?;
    Ok(src)
}

fn table_names(conn: &Connection, path: &str) -> Result<HashSet<String>> {
    conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .at(path)?
        .query_map([], |r| r.get(0))
        .at(path)?
        .collect::<rusqlite::Result<HashSet<String>>>()
        .at(path)
}

/// Every row of `table`, with NULL for each of `columns` the table lacks.
fn select_all(
    conn: &Connection,
    path: &str,
    table: &str,
    columns: &[&str],
    order: &str,
) -> Result<Vec<Vec<Value>>> {
    let present = conn
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .at(path)?
        .query_map([], |r| r.get(0))
        .at(path)?
        .collect::<rusqlite::Result<HashSet<String>>>()
        .at(path)?;
    let list = columns
        .iter()
        .map(|c| {
            if present.contains(*c) {
                format!("\"{c}\"")
            } else {
                "NULL".to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let order = if order == "rowid" || present.contains(order) {
        order
    } else {
        "rowid"
    };
    let mut stmt = conn
        .prepare(&format!("SELECT {list} FROM \"{table}\" ORDER BY {order}"))
        .at(path)?;
    let n = columns.len();
    let rows = stmt
        .query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
        .at(path)?
        .collect::<rusqlite::Result<Vec<Vec<Value>>>>()
        .at(path);
    rows
}

#[cfg(test)]
#[path = "import_original_tests.rs"]
mod tests;
