//! The SQLite job store: WAL, busy timeout, versioned schema, and one
//! transaction per write method. State changes are compare-and-set
//! (`UPDATE ... WHERE job_id = ? AND state = ?`): a lost race writes nothing.

mod flight;
pub use flight::{FlightCaps, Unrecorded};
mod lease;
pub use lease::PollStatus;
mod pace;
mod reads;
use reads::{write_stamp, KnownRows};
pub use reads::{ActiveJob, ActiveSet, CleanupCutoffs};
mod compat;
pub use compat::{Allocation, FieldKind, FieldValue, UPDATABLE_FIELDS};
mod files;
mod import_original;
pub use import_original::{ImportReport, ORIGINAL_SCHEMAS};
mod rows;
mod schema;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};

pub use schema::{classify_file, StoreFile, MIGRATIONS, SCHEMA_VERSION};

use crate::error::{Error, Result, SqlContext};
use crate::model::{Dependency, NewJob, Timestamp, Transition};
use crate::parse::Snapshot;
use crate::reconcile::{self, Action, LostPolicy};
use crate::retry::RetryPolicy;
use crate::state::JobState;
use rows::INSERT_TRANSITION;

/// Ids per `IN (...)` list, well below SQLite's variable limit.
const CHUNK: usize = 500;

/// The path that opens a private in-memory store.
pub const MEMORY: &str = ":memory:";

/// What one reconcile cycle changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub transitions: Vec<Transition>,
    /// Jobs that got a retry due time in this cycle.
    pub retries_scheduled: Vec<String>,
    /// Jobs seen in neither queue nor accounting (counted toward lost).
    pub missing: Vec<String>,
}

/// One connection to a job store file.
#[derive(Debug)]
pub struct JobStore {
    conn: Connection,
    path: String,
    /// Rows this connection changed in the poll lease table: the rest of
    /// its `total_changes` are job rows. With SQLite's `data_version`
    /// (commits by other connections) that tells whether an [`ActiveSet`]
    /// read earlier is still what the store holds.
    lease_changes: u64,
}

impl JobStore {
    /// Open (creating if needed) the store at `path`; [`MEMORY`] opens a private
    /// in-memory store. `busy_timeout` bounds every wait for another writer.
    pub fn open(path: &str, busy_timeout: Duration) -> Result<JobStore> {
        if path != MEMORY {
            check_parent(path)?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if path != MEMORY {
            files::create_private(path)?;
        }
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| Error::Unusable {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        // The timeout first: every later step may meet another process's lock.
        conn.busy_timeout(busy_timeout).at(path)?;
        // Before anything that writes (WAL switch, migrations): a file that
        // is not a molq store is left exactly as it was.
        schema::check_is_store(&conn, path)?;
        schema::enable_wal(&conn, path)?;
        conn.pragma_update(None, "synchronous", "NORMAL").at(path)?;
        conn.pragma_update(None, "foreign_keys", "ON").at(path)?;
        // Large stores: keep the working set of a 100k-job cycle in memory.
        conn.pragma_update(None, "cache_size", -32_768).at(path)?;
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrate(&mut conn, path)?;
        if path != MEMORY {
            // The WAL and shared-memory files exist now; an older molq (or
            // a umask) may have left any of the three readable by others.
            files::make_private(path)?;
        }
        Ok(JobStore {
            conn,
            path: path.to_owned(),
            lease_changes: 0,
        })
    }

    /// A private in-memory store (for tests and tools).
    pub fn open_in_memory() -> Result<JobStore> {
        JobStore::open(MEMORY, Duration::from_secs(5))
    }

    /// The path the store was opened with.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The schema version of the file (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .at(&self.path)
    }

    fn write(&mut self) -> Result<Transaction<'_>> {
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .at(&self.path)
    }

    /// Run `f`, which writes only the poll lease: its changes do not make
    /// the active sets read before it stale.
    fn on_lease<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let before = self.conn.total_changes();
        let out = f(self);
        self.lease_changes += self.conn.total_changes() - before;
        out
    }

    /// Rows this connection changed outside the poll lease (see `lease_changes`).
    fn job_changes(&self) -> u64 {
        self.conn.total_changes() - self.lease_changes
    }

    // -- submit ---------------------------------------------------------------

    /// Insert `job` in state created with its creation transition and its
    /// dependency edges. A duplicate id is an error and writes nothing.
    pub fn register_job(
        &mut self,
        job: &NewJob,
        deps: &[Dependency],
        now: Timestamp,
    ) -> Result<()> {
        self.register_job_capped(job, deps, now, &FlightCaps::default())
            .map(drop)
    }

    /// [`JobStore::register_job`] under `caps`: a job that does not fit is
    /// registered held (queued, no scheduler id, the reason recorded) and
    /// its reason returned; the caller then does not hand it over (see
    /// `flight`). Decided under the write lock, so two processes never both
    /// take the last place.
    pub fn register_job_capped(
        &mut self,
        job: &NewJob,
        deps: &[Dependency],
        now: Timestamp,
        caps: &FlightCaps,
    ) -> Result<Option<String>> {
        let path = self.path.clone();
        let partition = flight::requested_partition(&job.request_json);
        let tx = self.write()?;
        let held = flight::hold_reason(&tx, &path, &job.cluster_name, partition.as_deref(), caps)?;
        let root = if job.root_job_id.is_empty() {
            &job.job_id
        } else {
            &job.root_job_id
        };
        let metadata = crate::model::encode_metadata(
            job.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let inserted = tx
            .prepare_cached(
                "INSERT INTO jobs (job_id, cluster_name, scheduler, root_job_id, attempt, \
                 previous_attempt_job_id, retry_group_id, state, command_type, command_display, \
                 cwd, job_dir, submitted_at, metadata, request_json, retry_json, profile_name, \
                 created_at, is_array, partition) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'created', ?8, \
                 ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?12, ?17, ?18)",
            )
            .at(&path)?
            .execute(params![
                job.job_id,
                job.cluster_name,
                job.scheduler,
                root,
                job.attempt,
                job.previous_attempt_job_id,
                job.retry_group_id,
                job.command_type,
                job.command_display,
                job.cwd,
                job.job_dir,
                now,
                metadata,
                job.request_json,
                job.retry_json,
                job.profile_name,
                job.array,
                partition,
            ]);
        if let Err(e) = inserted {
            use rusqlite::ffi::ErrorCode as C;
            return Err(match e.sqlite_error_code() {
                Some(C::ConstraintViolation) => Error::DuplicateJob(job.job_id.clone()),
                _ => Error::sqlite(&path, e),
            });
        }
        insert_transition(
            &tx,
            &path,
            &job.job_id,
            None,
            JobState::Created,
            now,
            Some("job created"),
        )?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO job_dependencies (job_id, dependency_job_id, dependency_type, \
                     scheduler_dependency) VALUES (?1, ?2, ?3, ?4)",
                )
                .at(&path)?;
            for d in deps {
                stmt.execute(params![
                    job.job_id,
                    d.dependency_job_id,
                    d.dependency_type,
                    d.scheduler_dependency
                ])
                .at(&path)?;
            }
        }
        if let Some(reason) = &held {
            tx.prepare_cached(
                "UPDATE jobs SET state = 'queued', held = 1, failure_reason = ?2 WHERE job_id = ?1",
            )
            .at(&path)?
            .execute(params![job.job_id, reason])
            .at(&path)?;
            insert_transition(
                &tx,
                &path,
                &job.job_id,
                Some(JobState::Created),
                JobState::Queued,
                now,
                Some(reason),
            )?;
        }
        tx.commit().at(&path)?;
        Ok(held)
    }

    /// Created -> submitted with the scheduler's id; also a held job claimed
    /// for its hand-over (queued, no id: see `flight`), whose hold reason
    /// goes. `None` if the job is neither.
    pub fn mark_submitted(
        &mut self,
        job_id: &str,
        scheduler_job_id: &str,
        now: Timestamp,
    ) -> Result<Option<Transition>> {
        self.change_state(
            job_id,
            JobState::Submitted,
            now,
            "submitted",
            |s| matches!(s, JobState::Created | JobState::Queued),
            |tx, path, from| {
                tx.prepare_cached(
                "UPDATE jobs SET state = 'submitted', scheduler_job_id = ?2, submitted_at = ?3, \
                 failure_reason = CASE WHEN state = 'queued' THEN NULL ELSE failure_reason END \
                 WHERE job_id = ?1 AND state = ?4 AND (state = 'created' \
                 OR (held = 0 AND released_by IS NOT NULL AND scheduler_job_id IS NULL))",
            )
            .at(path)?
            .execute(params![job_id, scheduler_job_id, now, from.as_str()])
            .at(path)
            },
        )
    }

    /// Any non-terminal state -> failed (a submission that did not go through).
    pub fn mark_failed(
        &mut self,
        job_id: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Option<Transition>> {
        self.change_state(
            job_id,
            JobState::Failed,
            now,
            reason,
            |s| !s.is_terminal(),
            |tx, path, from| {
                tx.prepare_cached(
                    "UPDATE jobs SET state = 'failed', is_terminal = 1, finished_at = ?2, failure_reason = ?3 \
                 WHERE job_id = ?1 AND state = ?4",
                )
                .at(path)?
                .execute(params![job_id, now, reason, from.as_str()])
                .at(path)
            },
        )
    }

    /// [`JobStore::mark_failed`] for a passing reason (the submitter stopped,
    /// a connection dropped): while the stored retry policy has attempts
    /// left, the next is scheduled after its backoff, whatever states or
    /// exit codes the policy retries (the job itself did not fail). In the
    /// same transaction, so nobody sees the attempt settled in between.
    pub fn mark_failed_retrying(
        &mut self,
        job_id: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Option<Transition>> {
        self.change_state(
            job_id,
            JobState::Failed,
            now,
            reason,
            |s| !s.is_terminal(),
            |tx, path, from| {
                let (retry_json, attempt): (Option<String>, i64) = tx
                    .prepare_cached("SELECT retry_json, attempt FROM jobs WHERE job_id = ?1")
                    .at(path)?
                    .query_row([job_id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .at(path)?;
                let due = retry_json
                    .as_deref()
                    .and_then(RetryPolicy::from_json)
                    .filter(|policy| attempt < policy.max_attempts)
                    .map(|policy| now + policy.backoff.delay(attempt));
                tx.prepare_cached(
                    "UPDATE jobs SET state = 'failed', is_terminal = 1, finished_at = ?2, failure_reason = ?3, \
                     retry_state = CASE WHEN ?5 IS NULL THEN retry_state ELSE 'scheduled' END, \
                     retry_due_at = COALESCE(?5, retry_due_at) \
                     WHERE job_id = ?1 AND state = ?4",
                )
                .at(path)?
                .execute(params![job_id, now, reason, from.as_str(), due])
                .at(path)
            },
        )
    }

    /// Any non-terminal state -> cancelled. A terminal job stays as it is, but a
    /// retry still scheduled for it is dropped (and `None` returned).
    pub fn cancel(
        &mut self,
        job_id: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Option<Transition>> {
        let path = self.path.clone();
        let tx = self.write()?;
        let from = current_state(&tx, &path, job_id)?;
        if from.is_terminal() {
            tx.prepare_cached(
                "UPDATE jobs SET retry_state = 'cancelled' WHERE job_id = ?1 AND retry_state = 'scheduled'",
            )
            .at(&path)?
            .execute([job_id])
            .at(&path)?;
            tx.commit().at(&path)?;
            return Ok(None);
        }
        let n = tx
            .prepare_cached(
                "UPDATE jobs SET state = 'cancelled', is_terminal = 1, finished_at = ?2, failure_reason = ?3, \
                 retry_state = CASE WHEN retry_state = 'scheduled' THEN 'cancelled' ELSE retry_state END \
                 WHERE job_id = ?1 AND state = ?4",
            )
            .at(&path)?
            .execute(params![job_id, now, reason, from.as_str()])
            .at(&path)?;
        if n == 1 {
            // An array is recorded cancelled once the scheduler ended all of
            // it: no task of it is left pending or running in the store.
            tx.prepare_cached(
                "UPDATE array_tasks SET state = 'cancelled', finished_at = COALESCE(finished_at, ?2) \
                 WHERE job_id = ?1 AND state IN ('created', 'submitted', 'queued', 'running')",
            )
            .at(&path)?
            .execute(params![job_id, now])
            .at(&path)?;
        }
        let t = (n == 1)
            .then(|| {
                insert_transition(
                    &tx,
                    &path,
                    job_id,
                    Some(from),
                    JobState::Cancelled,
                    now,
                    Some(reason),
                )
            })
            .transpose()?;
        tx.commit().at(&path)?;
        Ok(t)
    }

    /// Shared shape of the single-job compare-and-set writes: read the state,
    /// check `allowed`, run `update` with the expected state, log the transition.
    fn change_state(
        &mut self,
        job_id: &str,
        to: JobState,
        now: Timestamp,
        reason: &str,
        allowed: impl Fn(JobState) -> bool,
        update: impl FnOnce(&Transaction<'_>, &str, JobState) -> Result<usize>,
    ) -> Result<Option<Transition>> {
        let path = self.path.clone();
        let tx = self.write()?;
        let from = current_state(&tx, &path, job_id)?;
        if !allowed(from) || update(&tx, &path, from)? != 1 {
            return Ok(None);
        }
        let t = insert_transition(&tx, &path, job_id, Some(from), to, now, Some(reason))?;
        tx.commit().at(&path)?;
        Ok(Some(t))
    }

    // -- reconcile --------------------------------------------------------------

    /// Plan and apply one reconcile cycle for `cluster` in ONE transaction.
    pub fn reconcile(
        &mut self,
        cluster: &str,
        queue: &Snapshot,
        accounting: Option<&Snapshot>,
        now: Timestamp,
        lost: LostPolicy,
    ) -> Result<Outcome> {
        let unread = ActiveSet {
            cluster: cluster.to_owned(),
            ..ActiveSet::default()
        };
        self.reconcile_active(&unread, queue, accounting, now, lost)
    }

    /// [`JobStore::reconcile`] for the cluster of `active`, the set this
    /// cycle polled: its rows are planned from as read when nothing was
    /// written to the store since (a refresh then reads each row once).
    ///
    /// The cycle starts as a read: when the evidence changes nothing (the
    /// common case on a busy cluster) it ends without taking the write lock or
    /// writing a page. Otherwise the same transaction writes; if another
    /// process wrote since it read (SQLite refuses the upgrade), it reads and
    /// plans again under the write lock, so a plan is never applied to rows
    /// it did not see.
    pub fn reconcile_active(
        &mut self,
        active: &ActiveSet,
        queue: &Snapshot,
        accounting: Option<&Snapshot>,
        now: Timestamp,
        lost: LostPolicy,
    ) -> Result<Outcome> {
        let path = self.path.clone();
        let cycle = Cycle {
            path: &path,
            job_changes: self.job_changes(),
            active,
            queue,
            accounting,
            now,
            lost,
        };
        {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .at(&path)?;
            let rows = cycle.rows(&tx)?;
            let plan = cycle.plan(&rows);
            if plan.actions.is_empty() && plan.tasks.is_empty() && plan.new_arrays.is_empty() {
                tx.commit().at(&path)?;
                return Ok(Outcome {
                    missing: plan.missing,
                    ..Outcome::default()
                });
            }
            match cycle.apply(&tx, &rows, plan) {
                Ok(out) => {
                    tx.commit().at(&path)?;
                    return Ok(out);
                }
                Err(Error::Locked { .. }) => {} // rolled back on drop; plan again below
                Err(e) => return Err(e),
            }
        }
        let tx = self.write()?;
        let rows = cycle.rows(&tx)?;
        let plan = cycle.plan(&rows);
        let out = cycle.apply(&tx, &rows, plan)?;
        tx.commit().at(&path)?;
        Ok(out)
    }

    // -- retention ------------------------------------------------------------------

    /// Stamp `cleaned_at` on the given jobs (their directories are gone).
    pub fn mark_cleaned(&mut self, job_ids: &[String], now: Timestamp) -> Result<usize> {
        let path = self.path.clone();
        let tx = self.write()?;
        let mut n = 0;
        for chunk in job_ids.chunks(CHUNK) {
            let sql = format!(
                "UPDATE jobs SET cleaned_at = ?1 WHERE job_id IN ({})",
                rows::placeholders(2, chunk.len())
            );
            let mut stmt = tx.prepare_cached(&sql).at(&path)?;
            let args = std::iter::once(&now as &dyn rusqlite::ToSql)
                .chain(chunk.iter().map(|id| id as &dyn rusqlite::ToSql));
            n += stmt.execute(rusqlite::params_from_iter(args)).at(&path)?;
        }
        tx.commit().at(&path)?;
        Ok(n)
    }

    /// Delete jobs with their transitions, array tasks and dependency edges
    /// (either end), in one transaction. Returns the number of jobs deleted.
    pub fn delete_records(&mut self, job_ids: &[String]) -> Result<usize> {
        let path = self.path.clone();
        let tx = self.write()?;
        let mut deleted = 0;
        for chunk in job_ids.chunks(CHUNK) {
            let list = rows::placeholders(1, chunk.len());
            for sql in [
                format!("DELETE FROM job_dependencies WHERE job_id IN ({list})"),
                format!("DELETE FROM job_dependencies WHERE dependency_job_id IN ({list})"),
                format!("DELETE FROM status_transitions WHERE job_id IN ({list})"),
                format!("DELETE FROM array_tasks WHERE job_id IN ({list})"),
                format!("DELETE FROM jobs WHERE job_id IN ({list})"),
            ] {
                let n = tx
                    .prepare_cached(&sql)
                    .at(&path)?
                    .execute(rusqlite::params_from_iter(chunk))
                    .at(&path)?;
                if sql.starts_with("DELETE FROM jobs") {
                    deleted += n;
                }
            }
        }
        tx.commit().at(&path)?;
        Ok(deleted)
    }
}

/// The compare-and-set update of one reconcile change. Parameters: ?1 rowid,
/// ?2 new state, ?3 started_at, ?4 finished_at, ?5 exit_code, ?6 exit_signal,
/// ?7 failure_reason, ?8 retry_due_at, ?9 expected state, ?10 now.
fn change_sql(terminal: bool, retry: bool) -> String {
    let mut sql = String::from(
        "UPDATE jobs SET state = ?2, started_at = COALESCE(started_at, ?3), \
         missing_since = NULL, missing_count = 0, last_polled = ?10",
    );
    if terminal {
        // Only a job's end sets the flag (an active-to-active change leaves
        // the active-jobs index alone); the reconcile never revives a job.
        sql.push_str(
            ", is_terminal = 1, finished_at = COALESCE(?4, finished_at), exit_code = COALESCE(?5, exit_code), \
             exit_signal = COALESCE(?6, exit_signal), failure_reason = COALESCE(?7, failure_reason)",
        );
    }
    if retry {
        sql.push_str(", retry_state = 'scheduled', retry_due_at = ?8");
    }
    sql.push_str(" WHERE rowid = ?1 AND state = ?9");
    sql
}

/// One reconcile cycle's inputs; see [`JobStore::reconcile_active`].
struct Cycle<'a> {
    path: &'a str,
    /// The store's own count when the cycle began (see `JobStore::job_changes`).
    job_changes: u64,
    active: &'a ActiveSet,
    queue: &'a Snapshot,
    accounting: Option<&'a Snapshot>,
    now: Timestamp,
    lost: LostPolicy,
}

impl<'a> Cycle<'a> {
    /// The cluster's active jobs as stored: the polled set's own rows when
    /// nothing was written since it was read, else read again in `conn`'s
    /// transaction.
    fn rows(&self, conn: &Connection) -> Result<Cow<'a, KnownRows>> {
        let path = self.path;
        if let Some(stamp) = self.active.stamp {
            // A statement begins the read transaction the stamp is taken in.
            conn.query_row("SELECT count(*) FROM poll_leases", [], |_| Ok(()))
                .at(path)?;
            if write_stamp(conn, path, self.job_changes)? == stamp {
                return Ok(Cow::Borrowed(&self.active.rows));
            }
        }
        let mut rows = KnownRows::default();
        for row in conn
            .prepare_cached(&rows::known_jobs_sql())
            .at(path)?
            .query_map([self.active.cluster.as_str()], rows::known_job)
            .at(path)?
        {
            let (rowid, job) = row.at(path)?;
            rows.rowids.push(rowid);
            rows.known.push(job);
        }
        Ok(Cow::Owned(rows))
    }

    fn plan(&self, rows: &KnownRows) -> reconcile::Plan {
        reconcile::plan(
            &rows.known,
            self.queue,
            self.accounting,
            self.now,
            self.lost,
        )
    }

    /// Write `plan`: state changes (each a compare-and-set on the state it
    /// was planned from), their transitions, array tasks and missing counts.
    fn apply(&self, tx: &Connection, rows: &KnownRows, plan: reconcile::Plan) -> Result<Outcome> {
        let (path, now) = (self.path, self.now);
        // Updates address rows by rowid (skipping the primary-key index).
        let rowids: HashMap<&str, i64> = rows
            .known
            .iter()
            .map(|j| j.job_id.as_str())
            .zip(rows.rowids.iter().copied())
            .collect();
        let mut out = Outcome {
            missing: plan.missing,
            ..Outcome::default()
        };
        // Three shapes of the same update, so a change touches only the
        // indexes of the columns it really sets.
        let mut moved = tx.prepare_cached(&change_sql(false, false)).at(path)?;
        let mut ended = tx.prepare_cached(&change_sql(true, false)).at(path)?;
        let mut retried = tx.prepare_cached(&change_sql(true, true)).at(path)?;
        let mut missing = tx
            .prepare_cached(
                "UPDATE jobs SET missing_since = ?2, missing_count = ?3, last_polled = ?4 \
                 WHERE rowid = ?1",
            )
            .at(path)?;
        let mut log = tx.prepare_cached(INSERT_TRANSITION).at(path)?;
        let mut array = tx
            .prepare_cached("UPDATE jobs SET is_array = 1 WHERE rowid = ?1")
            .at(path)?;
        for job_id in &plan.new_arrays {
            array.execute([rowids.get(job_id.as_str())]).at(path)?;
        }
        let mut task = tx.prepare_cached(&rows::upsert_task_sql()).at(path)?;
        for (job_id, t) in &plan.tasks {
            task.execute(params![
                job_id,
                t.task_id,
                t.state.as_str(),
                t.exit_code,
                t.exit_signal,
                t.started_at,
                t.finished_at
            ])
            .at(path)?;
        }
        for action in plan.actions {
            let (job_id, since, count) = match action {
                Action::Change(c) => {
                    let stmt = match (c.to.is_terminal(), c.retry_due_at.is_some()) {
                        (false, _) => &mut moved,
                        (true, false) => &mut ended,
                        (true, true) => &mut retried,
                    };
                    let n = stmt
                        .execute(params![
                            rowids.get(c.job_id.as_str()),
                            c.to.as_str(),
                            c.started_at,
                            c.finished_at,
                            c.exit_code,
                            c.exit_signal,
                            c.failure_reason,
                            c.retry_due_at,
                            c.from.as_str(),
                            now,
                        ])
                        .at(path)?;
                    if n == 0 {
                        continue; // lost the compare-and-set: write nothing
                    }
                    for t in &c.transitions {
                        log.execute(params![
                            t.job_id,
                            t.old_state.map(JobState::as_str),
                            t.new_state.as_str(),
                            t.timestamp,
                            t.reason
                        ])
                        .at(path)?;
                    }
                    if c.retry_due_at.is_some() {
                        out.retries_scheduled.push(c.job_id);
                    }
                    out.transitions.extend(c.transitions);
                    continue;
                }
                Action::Missing {
                    job_id,
                    missing_since,
                    missing_count,
                } => (job_id, Some(missing_since), missing_count),
                Action::Found { job_id } => (job_id, None, 0),
            };
            missing
                .execute(params![rowids.get(job_id.as_str()), since, count, now])
                .at(path)?;
        }
        // No stamp on the jobs nothing happened to: rewriting every active
        // row would make an unchanged cycle cost a write per job. A job's
        // `last_polled` moves when its row is written; the cluster's last
        // poll is in `poll_leases`.
        Ok(out)
    }
}

fn check_parent(path: &str) -> Result<()> {
    let parent = match Path::new(path).parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => return Ok(()),
    };
    if parent.is_dir() {
        return Ok(());
    }
    let reason = if parent.exists() {
        format!(
            "{} is a file, not a folder; choose another path",
            parent.display()
        )
    } else {
        format!("its directory {} does not exist", parent.display())
    };
    Err(Error::Unusable {
        path: path.to_owned(),
        reason,
    })
}

fn current_state(conn: &Connection, path: &str, job_id: &str) -> Result<JobState> {
    let state: Option<String> = conn
        .prepare_cached("SELECT state FROM jobs WHERE job_id = ?1")
        .at(path)?
        .query_row([job_id], |r| r.get(0))
        .optional()
        .at(path)?;
    state
        .map(|s| rows::state_of(&s))
        .ok_or_else(|| Error::JobNotFound(job_id.to_owned()))
}

fn insert_transition(
    conn: &Connection,
    path: &str,
    job_id: &str,
    from: Option<JobState>,
    to: JobState,
    at: Timestamp,
    reason: Option<&str>,
) -> Result<Transition> {
    conn.prepare_cached(INSERT_TRANSITION)
        .at(path)?
        .execute(params![
            job_id,
            from.map(JobState::as_str),
            to.as_str(),
            at,
            reason
        ])
        .at(path)?;
    Ok(Transition {
        job_id: job_id.to_owned(),
        old_state: from,
        new_state: to,
        timestamp: at,
        reason: reason.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_arrays;
#[cfg(test)]
mod tests_flight;
#[cfg(test)]
mod tests_schema;
