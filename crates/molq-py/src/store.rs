//! `JobStore`: the SQLite job store behind a mutex, every call with the GIL released.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use molq_core::{CleanupCutoffs, Dependency, Error, FlightCaps, JobStore, LostPolicy, NewJob};
use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::active::PyActiveJobs;
use crate::detach::detached;
use crate::new_job::PyNewJob;
use crate::parse::PySnapshot;
use crate::store_compat;
use crate::types::{
    extract_state, metadata_json, PyJobRecord, PyReconcileOutcome, PyStatusTransition,
};
use crate::values::{PyArrayTask, PyPollStatus};

type Edge = (String, String, String, String);

#[pyclass(frozen, module = "molq._core", name = "JobStore")]
pub struct PyJobStore {
    inner: Mutex<Option<JobStore>>,
    path: String,
}

impl PyJobStore {
    /// Run `f` on the open store without the GIL.
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut JobStore) -> molq_core::Result<T> + Send,
    ) -> PyResult<T> {
        detached(py, || {
            let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            f(guard.as_mut().ok_or(Error::Closed)?)
        })
    }
}

fn records(v: Vec<molq_core::JobRecord>) -> Vec<PyJobRecord> {
    v.into_iter().map(PyJobRecord).collect()
}

fn edges(v: Vec<molq_core::DependencyEdge>) -> Vec<Edge> {
    v.into_iter()
        .map(|e| {
            (
                e.job_id,
                e.dependency_job_id,
                e.dependency_type,
                e.scheduler_dependency,
            )
        })
        .collect()
}

fn transition(t: Option<molq_core::Transition>) -> Option<PyStatusTransition> {
    t.map(PyStatusTransition)
}

#[pymethods]
impl PyJobStore {
    #[new]
    #[pyo3(signature = (path, busy_timeout_ms=30000))]
    fn new(py: Python<'_>, path: PathBuf, busy_timeout_ms: u64) -> PyResult<Self> {
        let path = path
            .to_str()
            .ok_or_else(|| PyValueError::new_err("the job store path must be valid UTF-8"))?
            .to_owned();
        let timeout = Duration::from_millis(busy_timeout_ms);
        let store = detached(py, || JobStore::open(&path, timeout))?;
        Ok(PyJobStore {
            inner: Mutex::new(Some(store)),
            path,
        })
    }

    #[getter]
    fn path(&self) -> &str {
        &self.path
    }

    /// Close the connection; later calls raise StoreError. Closing twice is fine.
    fn close(&self, py: Python<'_>) {
        let closed = py.detach(|| {
            self.inner
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
        });
        drop(closed);
    }

    fn schema_version(&self, py: Python<'_>) -> PyResult<i64> {
        self.run(py, |s| s.schema_version())
    }

    /// Register `job`; under a cap (`max_in_flight`, `partition_caps`) a job
    /// that does not fit is registered held and the reason returned.
    #[pyo3(signature = (job, dependencies, now, max_in_flight=None, partition_caps=None))]
    fn register_job(
        &self,
        py: Python<'_>,
        job: &Bound<'_, PyAny>,
        dependencies: Vec<(String, String, String)>,
        now: f64,
        max_in_flight: Option<i64>,
        partition_caps: Option<Vec<(String, i64)>>,
    ) -> PyResult<Option<String>> {
        let job = if let Ok(named) = job.cast::<PyNewJob>() {
            named.get().0.clone()
        } else if let Ok(dict) = job.cast::<PyDict>() {
            new_job(dict)?
        } else {
            return Err(PyTypeError::new_err(
                "register_job takes a NewJob (or the dict of its fields)",
            ));
        };
        let deps: Vec<Dependency> = dependencies
            .into_iter()
            .map(|(id, kind, edge)| Dependency {
                dependency_job_id: id,
                dependency_type: kind,
                scheduler_dependency: edge,
            })
            .collect();
        let caps = flight_caps(max_in_flight, partition_caps);
        self.run(py, |s| s.register_job_capped(&job, &deps, now, &caps))
    }

    /// Claim for `holder` the held jobs that fit under the caps now, oldest first.
    #[pyo3(signature = (cluster_name, now, holder, max_in_flight=None, partition_caps=None))]
    fn claim_held(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        now: f64,
        holder: &str,
        max_in_flight: Option<i64>,
        partition_caps: Option<Vec<(String, i64)>>,
    ) -> PyResult<Vec<String>> {
        let caps = flight_caps(max_in_flight, partition_caps);
        self.run(py, |s| s.claim_held(cluster_name, &caps, holder, now))
    }

    /// Held -> cancelled in the store only; None when the job is not held.
    fn cancel_held(
        &self,
        py: Python<'_>,
        job_id: &str,
        reason: &str,
        now: f64,
    ) -> PyResult<Option<PyStatusTransition>> {
        self.run(py, |s| s.cancel_held(job_id, reason, now))
            .map(transition)
    }

    /// A claimed job back to the hold after a passing failure to hand it over.
    fn hold_again(&self, py: Python<'_>, job_id: &str) -> PyResult<bool> {
        self.run(py, |s| s.hold_again(job_id))
    }

    #[pyo3(signature = (cluster_name, partition=None))]
    fn in_flight(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        partition: Option<&str>,
    ) -> PyResult<i64> {
        self.run(py, |s| s.in_flight(cluster_name, partition))
    }

    fn is_held(&self, py: Python<'_>, job_id: &str) -> PyResult<bool> {
        self.run(py, |s| s.is_held(job_id))
    }

    /// (job_id, job_dir, handed over at) of the submissions whose id was never recorded.
    fn interrupted_submissions(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        before: f64,
    ) -> PyResult<Vec<(String, String, f64)>> {
        let found = self.run(py, |s| s.interrupted_submissions(cluster_name, before))?;
        Ok(found
            .into_iter()
            .map(|u| (u.job_id, u.job_dir, u.since))
            .collect())
    }

    /// 0.0 when a command token was taken, else the seconds until one is due.
    fn take_command_token(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        now: f64,
        per_second: f64,
        burst: f64,
    ) -> PyResult<f64> {
        self.run(py, |s| {
            s.take_command_token(cluster_name, now, per_second, burst)
        })
    }

    fn mark_submitted(
        &self,
        py: Python<'_>,
        job_id: &str,
        scheduler_job_id: &str,
        now: f64,
    ) -> PyResult<Option<PyStatusTransition>> {
        self.run(py, |s| s.mark_submitted(job_id, scheduler_job_id, now))
            .map(transition)
    }

    #[pyo3(signature = (job_id, reason, now, *, retry=false))]
    fn mark_failed(
        &self,
        py: Python<'_>,
        job_id: &str,
        reason: &str,
        now: f64,
        retry: bool,
    ) -> PyResult<Option<PyStatusTransition>> {
        self.run(py, |s| {
            if retry {
                s.mark_failed_retrying(job_id, reason, now)
            } else {
                s.mark_failed(job_id, reason, now)
            }
        })
        .map(transition)
    }

    fn cancel(
        &self,
        py: Python<'_>,
        job_id: &str,
        reason: &str,
        now: f64,
    ) -> PyResult<Option<PyStatusTransition>> {
        self.run(py, |s| s.cancel(job_id, reason, now))
            .map(transition)
    }

    /// The jobs to poll, oldest submission first (kept in Rust: see
    /// `ActiveJobs`). `reuse`, the set of the cluster's last refresh, is
    /// returned as is when no job row was written since it was read.
    #[pyo3(signature = (cluster_name, reuse = None))]
    fn active_jobs<'py>(
        &self,
        py: Python<'py>,
        cluster_name: &str,
        reuse: Option<Bound<'py, PyActiveJobs>>,
    ) -> PyResult<Bound<'py, PyActiveJobs>> {
        if let Some(last) = reuse {
            let set = &last.get().0;
            if set.cluster == cluster_name && self.run(py, |s| s.is_current(set))? {
                return Ok(last);
            }
        }
        let set = self.run(py, |s| s.active_set(cluster_name))?;
        Bound::new(py, PyActiveJobs(set))
    }

    /// The tasks of array job `job_id` as last observed, by task number.
    fn get_array_tasks(&self, py: Python<'_>, job_id: &str) -> PyResult<Vec<PyArrayTask>> {
        let tasks = self.run(py, |s| s.get_array_tasks(job_id))?;
        Ok(tasks.into_iter().map(PyArrayTask).collect())
    }

    /// One reconcile transaction. `active`, the set this cycle polled (from
    /// `active_jobs`), spares re-reading its rows when nothing was written since.
    #[pyo3(signature = (cluster_name, queue, accounting, now, lost_after_seconds=60.0, lost_after_polls=3, active=None))]
    #[allow(clippy::too_many_arguments)] // mirrors the Python signature
    fn reconcile(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        queue: &Bound<'_, PySnapshot>,
        accounting: Option<&Bound<'_, PySnapshot>>,
        now: f64,
        lost_after_seconds: f64,
        lost_after_polls: i64,
        active: Option<&Bound<'_, PyActiveJobs>>,
    ) -> PyResult<PyReconcileOutcome> {
        let queue = &queue.get().0;
        let accounting = accounting.map(|a| &a.get().0);
        let lost = LostPolicy {
            after_seconds: lost_after_seconds,
            after_polls: lost_after_polls,
        };
        let active = active.map(|a| &a.get().0);
        if let Some(set) = active.filter(|set| set.cluster != cluster_name) {
            return Err(PyValueError::new_err(format!(
                "the active jobs given are those of cluster {:?}, not {cluster_name:?}",
                set.cluster
            )));
        }
        self.run(py, |s| match active {
            Some(set) => s.reconcile_active(set, queue, accounting, now, lost),
            None => s.reconcile(cluster_name, queue, accounting, now, lost),
        })
        .map(PyReconcileOutcome)
    }

    #[pyo3(signature = (cluster_name, now, holder = "", dead_holders = Vec::new()))]
    fn claim_due_retries(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        now: f64,
        holder: &str,
        dead_holders: Vec<String>,
    ) -> PyResult<Vec<String>> {
        self.run(py, |s| {
            s.claim_due_retries(cluster_name, now, holder, &dead_holders)
        })
    }

    fn retry_claim_holders(&self, py: Python<'_>, cluster_name: &str) -> PyResult<Vec<String>> {
        self.run(py, |s| s.retry_claim_holders(cluster_name))
    }

    fn schedule_retry(&self, py: Python<'_>, job_id: &str, due_at: f64) -> PyResult<bool> {
        self.run(py, |s| s.schedule_retry(job_id, due_at))
    }

    fn take_over_poll(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        dead: &str,
        holder: &str,
        now: f64,
        lease_seconds: f64,
    ) -> PyResult<bool> {
        self.run(py, |s| {
            s.take_over_poll(cluster_name, dead, holder, now, lease_seconds)
        })
    }

    fn finish_retry(&self, py: Python<'_>, job_id: &str) -> PyResult<()> {
        self.run(py, |s| s.finish_retry(job_id)).map(drop)
    }

    #[pyo3(signature = (cluster_name, holder, now, min_interval, lease_seconds, force = false))]
    #[allow(clippy::too_many_arguments)]
    fn begin_poll(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        holder: &str,
        now: f64,
        min_interval: f64,
        lease_seconds: f64,
        force: bool,
    ) -> PyResult<bool> {
        self.run(py, |s| {
            s.begin_poll(
                cluster_name,
                holder,
                now,
                min_interval,
                lease_seconds,
                force,
            )
        })
    }

    #[pyo3(signature = (cluster_name, holder, error = None))]
    fn end_poll(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        holder: &str,
        error: Option<&str>,
    ) -> PyResult<()> {
        self.run(py, |s| s.end_poll(cluster_name, holder, error))
    }

    /// (holder, lease_until, last_attempt_at, last_poll_at, failures, last_error) or None.
    #[allow(clippy::type_complexity)]
    fn poll_status(&self, py: Python<'_>, cluster_name: &str) -> PyResult<Option<PyPollStatus>> {
        Ok(self
            .run(py, |s| s.poll_status(cluster_name))?
            .map(PyPollStatus))
    }

    #[pyo3(signature = (prefix, cluster_name = None, limit = 50))]
    fn find_by_prefix(
        &self,
        py: Python<'_>,
        prefix: &str,
        cluster_name: Option<&str>,
        limit: usize,
    ) -> PyResult<Vec<String>> {
        self.run(py, |s| s.find_by_prefix(prefix, cluster_name, limit))
    }

    fn stale_created(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        before: f64,
    ) -> PyResult<Vec<(String, String)>> {
        self.run(py, |s| s.stale_created(cluster_name, before))
    }

    fn get_job(&self, py: Python<'_>, job_id: &str) -> PyResult<Option<PyJobRecord>> {
        self.run(py, |s| s.get_job(job_id))
            .map(|r| r.map(PyJobRecord))
    }

    fn get_jobs(&self, py: Python<'_>, job_ids: Vec<String>) -> PyResult<Vec<PyJobRecord>> {
        self.run(py, |s| s.get_jobs(&job_ids)).map(records)
    }

    fn get_latest_attempt(&self, py: Python<'_>, job_id: &str) -> PyResult<Option<PyJobRecord>> {
        self.run(py, |s| s.get_latest_attempt(job_id))
            .map(|r| r.map(PyJobRecord))
    }

    #[pyo3(signature = (cluster_name, include_terminal=false, limit=None))]
    fn list_jobs(
        &self,
        py: Python<'_>,
        cluster_name: Option<&str>,
        include_terminal: bool,
        limit: Option<usize>,
    ) -> PyResult<Vec<PyJobRecord>> {
        self.run(py, |s| s.list_jobs(cluster_name, include_terminal, limit))
            .map(records)
    }

    fn count_active(&self, py: Python<'_>, cluster_name: &str) -> PyResult<i64> {
        self.run(py, |s| s.count_active(cluster_name))
    }

    fn get_transitions(&self, py: Python<'_>, job_id: &str) -> PyResult<Vec<PyStatusTransition>> {
        self.run(py, |s| s.get_transitions(job_id))
            .map(|v| v.into_iter().map(PyStatusTransition).collect())
    }

    fn get_retry_family(&self, py: Python<'_>, job_id: &str) -> PyResult<Vec<PyJobRecord>> {
        self.run(py, |s| s.get_retry_family(job_id)).map(records)
    }

    fn get_request_json(&self, py: Python<'_>, job_id: &str) -> PyResult<Option<String>> {
        self.run(py, |s| s.get_request_json(job_id))
    }

    fn get_dependencies(&self, py: Python<'_>, job_id: &str) -> PyResult<Vec<Edge>> {
        self.run(py, |s| s.get_dependencies(job_id)).map(edges)
    }

    fn get_dependents(&self, py: Python<'_>, job_id: &str) -> PyResult<Vec<Edge>> {
        self.run(py, |s| s.get_dependents(job_id)).map(edges)
    }

    fn cleanup_candidates(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        job_dir_cutoff: f64,
        record_cutoff: f64,
        keep_failed_job_dirs: bool,
    ) -> PyResult<(Vec<PyJobRecord>, Vec<PyJobRecord>)> {
        let cutoffs = CleanupCutoffs {
            job_dir_cutoff,
            record_cutoff,
            keep_failed_job_dirs,
        };
        let (dirs, rows) = self.run(py, |s| s.cleanup_candidates(cluster_name, cutoffs))?;
        Ok((records(dirs), records(rows)))
    }

    fn mark_cleaned(&self, py: Python<'_>, job_ids: Vec<String>, now: f64) -> PyResult<()> {
        self.run(py, |s| s.mark_cleaned(&job_ids, now)).map(drop)
    }

    fn delete_records(&self, py: Python<'_>, job_ids: Vec<String>) -> PyResult<usize> {
        self.run(py, |s| s.delete_records(&job_ids))
    }

    // -- the original molq's writes (molq_core::store::compat) -------------------

    /// Set the given job fields ({name: value}); an unknown job raises JobNotFoundError.
    fn update_fields(
        &self,
        py: Python<'_>,
        job_id: &str,
        fields: &Bound<'_, PyDict>,
    ) -> PyResult<()> {
        let fields = store_compat::field_values(fields)?;
        self.run(py, |s| s.update_fields(job_id, &fields))
    }

    /// expected -> new_state plus `fields`, only if the state is still `expected`.
    fn compare_and_update(
        &self,
        py: Python<'_>,
        job_id: &str,
        expected: &Bound<'_, PyAny>,
        new_state: &Bound<'_, PyAny>,
        fields: &Bound<'_, PyDict>,
    ) -> PyResult<bool> {
        let (expected, new_state) = (extract_state(expected)?, extract_state(new_state)?);
        let fields = store_compat::field_values(fields)?;
        self.run(py, |s| {
            s.compare_and_update(job_id, expected, new_state, &fields)
        })
    }

    #[pyo3(signature = (job_id, old_state, new_state, timestamp, reason=None))]
    fn record_transition(
        &self,
        py: Python<'_>,
        job_id: &str,
        old_state: Option<&Bound<'_, PyAny>>,
        new_state: &Bound<'_, PyAny>,
        timestamp: f64,
        reason: Option<String>,
    ) -> PyResult<()> {
        let t = molq_core::Transition {
            job_id: job_id.to_owned(),
            old_state: old_state.map(extract_state).transpose()?,
            new_state: extract_state(new_state)?,
            timestamp,
            reason,
        };
        self.run(py, |s| s.record_transition(&t))
    }

    /// Edges (dependency_job_id, dependency_type, scheduler_dependency) of `job_id`.
    fn add_dependencies(
        &self,
        py: Python<'_>,
        job_id: &str,
        dependencies: Vec<(String, String, String)>,
    ) -> PyResult<()> {
        let deps: Vec<Dependency> = dependencies
            .into_iter()
            .map(|(id, kind, edge)| Dependency {
                dependency_job_id: id,
                dependency_type: kind,
                scheduler_dependency: edge,
            })
            .collect();
        self.run(py, |s| s.add_dependencies(job_id, &deps))
    }

    fn mark_polled(&self, py: Python<'_>, job_ids: Vec<String>, timestamp: f64) -> PyResult<()> {
        self.run(py, |s| s.mark_polled(&job_ids, timestamp))
    }

    #[pyo3(signature = (cluster_name, partition, account, qos, reservation, now, label=None))]
    #[allow(clippy::too_many_arguments)] // one argument per allocation field
    fn record_allocation(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        partition: Option<String>,
        account: Option<String>,
        qos: Option<String>,
        reservation: Option<String>,
        now: f64,
        label: Option<String>,
    ) -> PyResult<()> {
        let allocation = molq_core::Allocation {
            partition,
            account,
            qos,
            reservation,
            label,
            last_used: now,
            use_count: 1,
        };
        self.run(py, |s| s.record_allocation(cluster_name, &allocation, now))
    }

    /// (partition, account, qos, reservation, label, last_used, use_count), newest first.
    #[pyo3(signature = (cluster_name, limit=None))]
    fn list_allocations(
        &self,
        py: Python<'_>,
        cluster_name: &str,
        limit: Option<usize>,
    ) -> PyResult<Vec<store_compat::AllocationRow>> {
        let rows = self.run(py, |s| s.list_allocations(cluster_name, limit))?;
        Ok(rows.into_iter().map(store_compat::allocation_row).collect())
    }

    fn __repr__(&self) -> String {
        format!("JobStore({:?})", self.path)
    }
}

fn flight_caps(cluster: Option<i64>, partitions: Option<Vec<(String, i64)>>) -> FlightCaps {
    FlightCaps {
        cluster,
        partitions: partitions.unwrap_or_default(),
    }
}

/// The keys `register_job` accepts; anything else is a typo worth reporting.
const JOB_KEYS: [&str; 16] = [
    "job_id",
    "cluster_name",
    "scheduler",
    "root_job_id",
    "attempt",
    "previous_attempt_job_id",
    "retry_group_id",
    "command_type",
    "command_display",
    "cwd",
    "job_dir",
    "metadata",
    "request_json",
    "retry_json",
    "profile_name",
    "array",
];

fn new_job(d: &Bound<'_, PyDict>) -> PyResult<NewJob> {
    for key in d.keys() {
        let key: String = key
            .extract()
            .map_err(|_| PyTypeError::new_err("job keys must be str"))?;
        if !JOB_KEYS.contains(&key.as_str()) {
            return Err(PyValueError::new_err(format!(
                "unknown job key {key:?} (known: {})",
                JOB_KEYS.join(", ")
            )));
        }
    }
    let required = |k: &str| -> PyResult<String> {
        match d.get_item(k)? {
            Some(v) => v.extract(),
            None => Err(PyKeyError::new_err(k.to_owned())),
        }
    };
    let text = |k: &str| -> PyResult<String> {
        Ok(d.get_item(k)?
            .map(|v| v.extract())
            .transpose()?
            .unwrap_or_default())
    };
    let opt = |k: &str| -> PyResult<Option<String>> {
        match d.get_item(k)? {
            Some(v) if !v.is_none() => v.extract().map(Some),
            _ => Ok(None),
        }
    };
    let metadata = d.get_item("metadata")?;
    let metadata = molq_core::decode_metadata(&metadata_json(metadata.as_ref())?);
    Ok(NewJob {
        job_id: required("job_id")?,
        cluster_name: required("cluster_name")?,
        scheduler: required("scheduler")?,
        root_job_id: text("root_job_id")?,
        attempt: d
            .get_item("attempt")?
            .map(|v| v.extract())
            .transpose()?
            .unwrap_or(1),
        previous_attempt_job_id: opt("previous_attempt_job_id")?,
        retry_group_id: opt("retry_group_id")?,
        command_type: text("command_type")?,
        command_display: text("command_display")?,
        cwd: text("cwd")?,
        job_dir: text("job_dir")?,
        metadata,
        request_json: opt("request_json")?.unwrap_or_else(|| "{}".to_owned()),
        retry_json: opt("retry_json")?,
        profile_name: opt("profile_name")?,
        array: d
            .get_item("array")?
            .map(|v| v.extract())
            .transpose()?
            .unwrap_or(false),
    })
}

/// What the SQLite file at `path` is, found read-only: "empty", "molq" (with
/// its schema version), "original-molq" (the pure-Python molq's store) or
/// "foreign" (with its table names). The one check `JobStore` applies before
/// it writes; an importer calls it before touching a file.
#[pyfunction]
pub fn classify_store_file(
    py: Python<'_>,
    path: &str,
) -> PyResult<(String, Option<i64>, Vec<String>)> {
    use molq_core::StoreFile;
    let kind = detached(py, || molq_core::classify_file(path))?;
    Ok(match kind {
        StoreFile::Empty => ("empty".into(), Some(0), vec![]),
        StoreFile::Molq { version } => ("molq".into(), Some(version), vec![]),
        StoreFile::OriginalMolq => ("original-molq".into(), None, vec![]),
        StoreFile::Foreign { tables } => ("foreign".into(), None, tables),
    })
}
