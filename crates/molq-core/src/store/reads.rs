//! Read-only queries of the job store. Every list is scoped by cluster where
//! the caller names one, and every query path has an index.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};

use super::rows::{self, DEPENDENCY_COLUMNS, JOB_COLUMNS, TASK_COLUMNS, TRANSITION_COLUMNS};
use super::{JobStore, CHUNK};
use crate::error::{Result, SqlContext};
use crate::model::{ArrayTask, DependencyEdge, Timestamp, Transition};
use crate::record::JobRecord;
use crate::state::JobState;

/// Which records `cleanup_candidates` looks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CleanupCutoffs {
    /// Directories of jobs finished at or before this time may be removed.
    pub job_dir_cutoff: Timestamp,
    /// Records of jobs finished at or before this time may be deleted.
    pub record_cutoff: Timestamp,
    /// Keep the directories of failed, timed-out and lost jobs.
    pub keep_failed_job_dirs: bool,
}

/// A job the scheduler should be asked about.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveJob {
    pub job_id: String,
    pub scheduler_job_id: String,
    pub job_dir: String,
    /// When it was submitted (0 if unknown): accounting queries start before it.
    pub submitted_at: Timestamp,
}

/// The active jobs of one cluster, read once per refresh.
#[derive(Debug, Clone, Default)]
pub struct ActiveSet {
    pub cluster: String,
    /// What to ask the scheduler about, oldest submission first.
    pub jobs: Vec<ActiveJob>,
    pub(crate) rows: KnownRows,
    /// Where the store's history stood when the set was read; None for a set
    /// not read from a store (the reconcile then reads the rows itself).
    pub(crate) stamp: Option<WriteStamp>,
}

impl ActiveSet {
    /// A set of jobs named by the caller, not read from a store: a reconcile
    /// given it reads the cluster's rows itself.
    pub fn of_jobs(cluster: &str, jobs: Vec<ActiveJob>) -> ActiveSet {
        ActiveSet {
            cluster: cluster.to_owned(),
            jobs,
            ..ActiveSet::default()
        }
    }

    /// The jobs of this set that `keep` accepts, as a set of their own.
    pub fn subset(&self, keep: impl Fn(&ActiveJob) -> bool) -> ActiveSet {
        let jobs = self.jobs.iter().filter(|j| keep(j)).cloned().collect();
        ActiveSet::of_jobs(&self.cluster, jobs)
    }
}

/// The rows a reconcile plans from, with the rowids its updates address.
#[derive(Debug, Clone, Default)]
pub(crate) struct KnownRows {
    pub(crate) known: Vec<crate::reconcile::KnownJob>,
    pub(crate) rowids: Vec<i64>,
}

/// Commits by other connections (`PRAGMA data_version`) and job-row changes
/// by this one: equal stamps mean no job row was written in between.
pub(crate) type WriteStamp = (i64, u64);

/// The stamp of the read transaction `conn` is in (a statement must have begun it).
pub(crate) fn write_stamp(
    conn: &rusqlite::Connection,
    path: &str,
    job_changes: u64,
) -> Result<WriteStamp> {
    let version: i64 = conn
        .query_row("PRAGMA data_version", [], |r| r.get(0))
        .at(path)?;
    Ok((version, job_changes))
}

impl JobStore {
    fn records(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<JobRecord>> {
        self.conn
            .prepare_cached(sql)
            .at(&self.path)?
            .query_map(args, rows::job_record)
            .at(&self.path)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .at(&self.path)
    }

    fn record(&self, sql: &str, args: impl rusqlite::Params) -> Result<Option<JobRecord>> {
        self.conn
            .prepare_cached(sql)
            .at(&self.path)?
            .query_row(args, rows::job_record)
            .optional()
            .at(&self.path)
    }

    /// One job by id (any cluster).
    pub fn get_job(&self, job_id: &str) -> Result<Option<JobRecord>> {
        self.record(
            &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = ?1"),
            [job_id],
        )
    }

    /// The stored jobs among `job_ids`, in the given order (unknown ids and
    /// repeats are left out).
    pub fn get_jobs(&self, job_ids: &[String]) -> Result<Vec<JobRecord>> {
        let mut found: HashMap<String, JobRecord> = HashMap::with_capacity(job_ids.len());
        for chunk in job_ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE job_id IN ({})",
                rows::placeholders(1, chunk.len())
            );
            for r in self.records(&sql, rusqlite::params_from_iter(chunk))? {
                found.insert(r.job_id().to_owned(), r);
            }
        }
        Ok(job_ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// The newest attempt of the retry family `job_id` belongs to.
    pub fn get_latest_attempt(&self, job_id: &str) -> Result<Option<JobRecord>> {
        self.record(
            &format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE root_job_id = \
                 (SELECT root_job_id FROM jobs WHERE job_id = ?1) \
                 ORDER BY attempt DESC, submitted_at DESC LIMIT 1"
            ),
            [job_id],
        )
    }

    /// Every attempt of the family `job_id` belongs to, oldest first.
    pub fn get_retry_family(&self, job_id: &str) -> Result<Vec<JobRecord>> {
        self.records(
            &format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE root_job_id = \
                 (SELECT root_job_id FROM jobs WHERE job_id = ?1) \
                 ORDER BY attempt, submitted_at"
            ),
            [job_id],
        )
    }

    /// Jobs of `cluster` (or of every cluster), newest submission first.
    pub fn list_jobs(
        &self,
        cluster: Option<&str>,
        include_terminal: bool,
        limit: Option<usize>,
    ) -> Result<Vec<JobRecord>> {
        if limit.is_none() && self.holds_most_rows(cluster, include_terminal)? {
            return self.all_newest_first(cluster, include_terminal);
        }
        let mut filters = Vec::with_capacity(2);
        if cluster.is_some() {
            filters.push("cluster_name = ?1".to_owned());
        }
        if !include_terminal {
            filters.push(rows::ACTIVE.to_owned());
        }
        let filter = if filters.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", filters.join(" AND "))
        };
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let limit_param = if cluster.is_some() { 2 } else { 1 };
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs {filter} \
             ORDER BY submitted_at DESC, rowid DESC LIMIT ?{limit_param}"
        );
        match cluster {
            Some(c) => self.records(&sql, params![c, limit]),
            None => self.records(&sql, params![limit]),
        }
    }

    /// Whether the jobs listed (of `cluster` or all, active only unless
    /// `include_terminal`) are at least half the table: reading all of it
    /// in order then beats an index seek per row. (The highest rowid stands
    /// for the row count: deleted rows only make this answer no more often.)
    pub(super) fn holds_most_rows(
        &self,
        cluster: Option<&str>,
        include_terminal: bool,
    ) -> Result<bool> {
        let listed = match (cluster, include_terminal) {
            (None, true) => return Ok(true),
            (Some(_), true) => "SELECT COUNT(*) FROM jobs WHERE cluster_name = ?1".to_owned(),
            (Some(_), false) => format!(
                "SELECT COUNT(*) FROM jobs WHERE cluster_name = ?1 AND {}",
                rows::ACTIVE
            ),
            (None, false) => format!("SELECT COUNT(*) FROM jobs WHERE {}", rows::ACTIVE),
        };
        let sql = format!("SELECT ({listed}), (SELECT MAX(rowid) FROM jobs)");
        let mut stmt = self.conn.prepare_cached(&sql).at(&self.path)?;
        let counts = |r: &rusqlite::Row<'_>| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?));
        let (listed, last) = match cluster {
            Some(c) => stmt.query_row([c], counts),
            None => stmt.query_row([], counts),
        }
        .at(&self.path)?;
        Ok(listed * 2 >= last.unwrap_or(0))
    }

    /// Every job listed (of `cluster`, active only unless `include_terminal`)
    /// in table order, sorted newest first here. Rows are kept in submission
    /// order, so the sort mostly meets one run.
    fn all_newest_first(
        &self,
        cluster: Option<&str>,
        include_terminal: bool,
    ) -> Result<Vec<JobRecord>> {
        // `+column`: not through an index (the cluster's or the active
        // jobs'), which would mean a seek per row and SQLite sorting rows.
        let mut filters = Vec::with_capacity(2);
        if cluster.is_some() {
            filters.push("+cluster_name = ?1".to_owned());
        }
        if !include_terminal {
            filters.push(format!("+{}", rows::ACTIVE));
        }
        let filter = if filters.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", filters.join(" AND "))
        };
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs {filter} ORDER BY rowid DESC");
        let mut records = match cluster {
            Some(c) => self.records(&sql, params![c])?,
            None => self.records(&sql, [])?,
        };
        records.sort_by(newest_first);
        Ok(records)
    }

    /// Number of non-terminal jobs of `cluster`.
    pub fn count_active(&self, cluster: &str) -> Result<i64> {
        self.conn
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM jobs WHERE cluster_name = ?1 AND {}",
                rows::ACTIVE
            ))
            .at(&self.path)?
            .query_row([cluster], |r| r.get(0))
            .at(&self.path)
    }

    /// The non-terminal jobs of `cluster` that the scheduler knows, oldest
    /// submission first.
    pub fn active_jobs(&self, cluster: &str) -> Result<Vec<ActiveJob>> {
        Ok(self.active_set(cluster)?.jobs)
    }

    /// The active jobs of `cluster` as one refresh reads them: what to ask
    /// the scheduler about, and the rows [`JobStore::reconcile_active`]
    /// plans from.
    pub fn active_set(&self, cluster: &str) -> Result<ActiveSet> {
        let tx = self.conn.unchecked_transaction().at(&self.path)?;
        let mut set = ActiveSet {
            cluster: cluster.to_owned(),
            ..ActiveSet::default()
        };
        for row in tx
            .prepare_cached(&rows::known_jobs_sql())
            .at(&self.path)?
            .query_map([cluster], |r| {
                Ok((rows::known_job(r)?, rows::poll_fields(r)?))
            })
            .at(&self.path)?
        {
            let ((rowid, known), (job_dir, submitted_at)) = row.at(&self.path)?;
            set.jobs.push(ActiveJob {
                job_id: known.job_id.clone(),
                scheduler_job_id: known.scheduler_job_id.clone(),
                job_dir,
                submitted_at,
            });
            set.rows.rowids.push(rowid);
            set.rows.known.push(known);
        }
        set.stamp = Some(write_stamp(&tx, &self.path, self.job_changes())?);
        tx.commit().at(&self.path)?;
        Ok(set)
    }

    /// Whether `set` is still what the store holds: nothing was written to
    /// any job row since it was read (by this connection or any other).
    pub fn is_current(&self, set: &ActiveSet) -> Result<bool> {
        let Some(stamp) = set.stamp else {
            return Ok(false);
        };
        let tx = self.conn.unchecked_transaction().at(&self.path)?;
        // A statement begins the read transaction the stamp is taken in.
        tx.query_row("SELECT count(*) FROM poll_leases", [], |_| Ok(()))
            .at(&self.path)?;
        let now = write_stamp(&tx, &self.path, self.job_changes())?;
        tx.commit().at(&self.path)?;
        Ok(now == stamp)
    }

    /// The tasks of array job `job_id` as last observed, by task number.
    pub fn get_array_tasks(&self, job_id: &str) -> Result<Vec<ArrayTask>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {TASK_COLUMNS} FROM array_tasks WHERE job_id = ?1 \
                 ORDER BY CAST(task_id AS INTEGER), task_id"
            ))
            .at(&self.path)?
            .query_map([job_id], rows::array_task)
            .at(&self.path)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .at(&self.path)
    }

    /// The state history of a job, in the order it was recorded.
    ///
    /// Ordered by insertion (`id`), not by `timestamp`: a transition into
    /// running carries the scheduler's start time, which can precede the
    /// submit record (the launcher returns after the job started) or be off by
    /// clock skew, and sorting by it would break the chain.
    pub fn get_transitions(&self, job_id: &str) -> Result<Vec<Transition>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {TRANSITION_COLUMNS} FROM status_transitions WHERE job_id = ?1 \
                 ORDER BY id"
            ))
            .at(&self.path)?
            .query_map([job_id], rows::transition)
            .at(&self.path)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .at(&self.path)
    }

    /// The stored submit request of a job.
    pub fn get_request_json(&self, job_id: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT request_json FROM jobs WHERE job_id = ?1")
            .at(&self.path)?
            .query_row([job_id], |r| r.get(0))
            .optional()
            .at(&self.path)
    }

    fn edges(&self, column: &str, job_id: &str) -> Result<Vec<DependencyEdge>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {DEPENDENCY_COLUMNS} FROM job_dependencies WHERE {column} = ?1 ORDER BY id"
            ))
            .at(&self.path)?
            .query_map([job_id], rows::dependency)
            .at(&self.path)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .at(&self.path)
    }

    /// Edges where `job_id` is the waiting job.
    pub fn get_dependencies(&self, job_id: &str) -> Result<Vec<DependencyEdge>> {
        self.edges("job_id", job_id)
    }

    /// Edges where `job_id` is the upstream job.
    pub fn get_dependents(&self, job_id: &str) -> Result<Vec<DependencyEdge>> {
        self.edges("dependency_job_id", job_id)
    }

    /// (records whose job directory may be removed, records that may be deleted),
    /// both oldest finish first. Only terminal jobs of `cluster` qualify.
    pub fn cleanup_candidates(
        &self,
        cluster: &str,
        cutoffs: CleanupCutoffs,
    ) -> Result<(Vec<JobRecord>, Vec<JobRecord>)> {
        let keep = if cutoffs.keep_failed_job_dirs {
            format!("AND state NOT IN {}", JobState::FAILURE_SQL)
        } else {
            String::new()
        };
        let dirs = self.records(
            &format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE cluster_name = ?1 AND state IN {t} \
                 AND finished_at > 0 AND finished_at <= ?2 AND cleaned_at IS NULL {keep} \
                 ORDER BY finished_at, rowid",
                t = JobState::TERMINAL_SQL
            ),
            params![cluster, cutoffs.job_dir_cutoff],
        )?;
        let records = self.records(
            &format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE cluster_name = ?1 AND state IN {t} \
                 AND finished_at <= ?2 ORDER BY finished_at, rowid",
                t = JobState::TERMINAL_SQL
            ),
            params![cluster, cutoffs.record_cutoff],
        )?;
        Ok((dirs, records))
    }
}

/// `ORDER BY submitted_at DESC` as SQLite orders it: never-submitted jobs
/// (NULL) last. A stable sort, so equal times keep the order they came in.
fn newest_first(a: &JobRecord, b: &JobRecord) -> std::cmp::Ordering {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match (a.submitted_at, b.submitted_at) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => Less,
        (None, Some(_)) => Greater,
        (None, None) => Equal,
    }
}
