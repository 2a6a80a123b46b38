//! SQL text and row <-> model mapping. Column lists live next to the code that
//! reads them so the two cannot drift apart.

use std::fmt;

use rusqlite::Row;

use crate::model::{ArrayTask, DependencyEdge, Transition};
use crate::reconcile::KnownJob;
use crate::record::{JobRecord, Packer, TEXT_NAMES};
use crate::state::JobState;

/// The store columns of a [`JobRecord`]: its fields ([`JobRecord::FIELDS`]),
/// which format as a SELECT list.
pub(crate) const JOB_COLUMNS: ColumnList = ColumnList(&JobRecord::FIELDS);

pub(crate) struct ColumnList(&'static [&'static str]);

impl fmt::Display for ColumnList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

/// Where field `name` is in a row of [`JOB_COLUMNS`] (checked when compiled).
const fn column(name: &str) -> usize {
    let mut i = 0;
    while i < JobRecord::FIELDS.len() {
        if same(JobRecord::FIELDS[i], name) {
            return i;
        }
        i += 1;
    }
    panic!("not a field of JobRecord");
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The text columns, in `Text` packing order.
const TEXT_COLUMNS: [usize; TEXT_NAMES.len()] = {
    let mut out = [0; TEXT_NAMES.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = column(TEXT_NAMES[i]);
        i += 1;
    }
    out
};

/// The filter of active (not terminal) jobs, in the words of the partial
/// index `idx_jobs_active`, so that SQLite uses it.
pub(crate) const ACTIVE: &str = "is_terminal = 0";

/// A state read back from the database; a name this build does not know reads
/// as lost (a newer writer's state is at least not one we can act on).
pub(crate) fn state_of(name: &str) -> JobState {
    JobState::parse(name).unwrap_or(JobState::Lost)
}

pub(crate) fn job_record(r: &Row<'_>) -> rusqlite::Result<JobRecord> {
    let mut texts = [None; TEXT_COLUMNS.len()];
    let mut len = 0;
    for (text, i) in texts.iter_mut().zip(TEXT_COLUMNS) {
        *text = r.get_ref(i)?.as_str_or_null()?;
        len += text.map_or(0, str::len);
    }
    let mut p = Packer::with_capacity(len);
    for text in texts {
        p.push(text);
    }
    let state = state_of(r.get_ref(const { column("state") })?.as_str()?);
    let mut rec = p.finish(state, r.get(const { column("attempt") })?);
    rec.submitted_at = r.get(const { column("submitted_at") })?;
    rec.started_at = r.get(const { column("started_at") })?;
    rec.finished_at = r.get(const { column("finished_at") })?;
    rec.exit_code = r.get(const { column("exit_code") })?;
    rec.exit_signal = r.get(const { column("exit_signal") })?;
    rec.cleaned_at = r.get(const { column("cleaned_at") })?;
    rec.retry_due_at = r.get(const { column("retry_due_at") })?;
    Ok(rec)
}

pub(crate) const TRANSITION_COLUMNS: &str = "job_id, old_state, new_state, timestamp, reason";

pub(crate) fn transition(r: &Row<'_>) -> rusqlite::Result<Transition> {
    let old: Option<String> = r.get(1)?;
    Ok(Transition {
        job_id: r.get(0)?,
        old_state: old.as_deref().map(state_of),
        new_state: state_of(r.get_ref(2)?.as_str()?),
        timestamp: r.get(3)?,
        reason: r.get(4)?,
    })
}

pub(crate) const INSERT_TRANSITION: &str = "INSERT INTO status_transitions \
     (job_id, old_state, new_state, timestamp, reason) VALUES (?1, ?2, ?3, ?4, ?5)";

pub(crate) const DEPENDENCY_COLUMNS: &str =
    "job_id, dependency_job_id, dependency_type, scheduler_dependency";

pub(crate) fn dependency(r: &Row<'_>) -> rusqlite::Result<DependencyEdge> {
    Ok(DependencyEdge {
        job_id: r.get(0)?,
        dependency_job_id: r.get(1)?,
        dependency_type: r.get(2)?,
        scheduler_dependency: r.get(3)?,
    })
}

pub(crate) const TASK_COLUMNS: &str =
    "task_id, state, exit_code, exit_signal, started_at, finished_at";

pub(crate) fn array_task(r: &Row<'_>) -> rusqlite::Result<ArrayTask> {
    Ok(ArrayTask {
        task_id: r.get(0)?,
        state: state_of(r.get_ref(1)?.as_str()?),
        exit_code: r.get(2)?,
        exit_signal: r.get(3)?,
        started_at: r.get(4)?,
        finished_at: r.get(5)?,
    })
}

/// Record what a cycle saw of an array task. A finished task keeps its outcome
/// (as a finished job does); an unchanged one is not rewritten.
pub(crate) fn upsert_task_sql() -> String {
    format!(
        "INSERT INTO array_tasks (job_id, task_id, state, exit_code, exit_signal, started_at, \
         finished_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (job_id, task_id) DO UPDATE SET state = excluded.state, \
         exit_code = COALESCE(excluded.exit_code, exit_code), \
         exit_signal = COALESCE(excluded.exit_signal, exit_signal), \
         started_at = COALESCE(started_at, excluded.started_at), \
         finished_at = COALESCE(excluded.finished_at, finished_at) \
         WHERE array_tasks.state NOT IN {t} AND (array_tasks.state IS NOT excluded.state \
         OR (array_tasks.started_at IS NULL AND excluded.started_at IS NOT NULL))",
        t = JobState::TERMINAL_SQL
    )
}

/// The active jobs of one cluster that the scheduler knows: what planning
/// reads, then (13, 14) the job dir and submit time a poll needs; oldest
/// submission first, along the active-jobs index.
pub(crate) fn known_jobs_sql() -> String {
    format!(
        "SELECT job_id, scheduler_job_id, state, started_at, missing_since, missing_count, \
         attempt, retry_json, rowid, is_array, CASE WHEN is_array THEN \
         (SELECT group_concat(task_id, ',') FROM array_tasks t WHERE t.job_id = jobs.job_id \
         AND t.state NOT IN {t}) END, CASE WHEN is_array THEN \
         (SELECT group_concat(task_id, ',') FROM array_tasks t WHERE t.job_id = jobs.job_id \
         AND t.state IN {t}) END, CASE WHEN is_array THEN \
         CASE WHEN json_valid(request_json) THEN \
         json_extract(request_json, '$.scheduling.array_spec') END END, \
         job_dir, COALESCE(submitted_at, 0) \
         FROM jobs WHERE cluster_name = ?1 AND {ACTIVE} \
         AND scheduler_job_id IS NOT NULL AND scheduler_job_id != '' \
         ORDER BY submitted_at, rowid",
        t = JobState::TERMINAL_SQL
    )
}

/// The job dir and submit time of a [`known_jobs_sql`] row.
pub(crate) fn poll_fields(r: &Row<'_>) -> rusqlite::Result<(String, f64)> {
    Ok((r.get(13)?, r.get(14)?))
}

/// A known job and its rowid (updates by rowid skip the primary-key index).
pub(crate) fn known_job(r: &Row<'_>) -> rusqlite::Result<(i64, KnownJob)> {
    let job = KnownJob {
        job_id: r.get(0)?,
        scheduler_job_id: r.get(1)?,
        state: state_of(r.get_ref(2)?.as_str()?),
        started_at: r.get(3)?,
        missing_since: r.get(4)?,
        missing_count: r.get(5)?,
        attempt: r.get(6)?,
        retry_json: r.get(7)?,
        array: r.get(9)?,
        open_tasks: task_list(r.get(10)?),
        done_tasks: task_list(r.get(11)?),
        // Not every stored request is JSON with a spec (tests, other tools).
        array_size: r
            .get::<_, Option<String>>(12)
            .ok()
            .flatten()
            .and_then(|spec| crate::array_spec::task_count(&spec)),
    };
    Ok((r.get(8)?, job))
}

fn task_list(list: Option<String>) -> Vec<String> {
    list.map(|l| l.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `?,?,...` with `n` placeholders starting at `?{first}`.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(",")
}
