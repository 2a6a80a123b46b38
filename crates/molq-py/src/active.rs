//! The jobs a refresh asks the scheduler about, as named values.
//!
//! `ActiveJobs` keeps the rows in Rust: a refresh of 10,000 jobs hands the
//! whole set to the backend, the snapshot and back without building a Python
//! object per job. Python sees an immutable sequence of `ActiveJob`s, each
//! also readable as the 4-tuple earlier releases returned.

use molq_core::{ActiveJob, ActiveSet};
use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyList, PyTuple};

use crate::parse::PySnapshot;
use crate::types::repr_str;
use crate::values::tuple_eq;

/// One job to poll: its molq id, scheduler id, job directory and submit time.
#[pyclass(frozen, module = "molq._core", name = "ActiveJob")]
pub struct PyActiveJob(pub ActiveJob);

#[pymethods]
impl PyActiveJob {
    #[new]
    #[pyo3(signature = (job_id, scheduler_job_id, job_dir = String::new(), submitted_at = 0.0))]
    fn new(job_id: String, scheduler_job_id: String, job_dir: String, submitted_at: f64) -> Self {
        PyActiveJob(ActiveJob {
            job_id,
            scheduler_job_id,
            job_dir,
            submitted_at,
        })
    }

    #[getter]
    fn job_id(&self) -> &str {
        &self.0.job_id
    }

    #[getter]
    fn scheduler_job_id(&self) -> &str {
        &self.0.scheduler_job_id
    }

    #[getter]
    fn job_dir(&self) -> &str {
        &self.0.job_dir
    }

    /// When it was submitted (0.0 if unknown).
    #[getter]
    fn submitted_at(&self) -> f64 {
        self.0.submitted_at
    }

    fn __len__(&self) -> usize {
        4
    }

    /// The 4-tuple earlier releases returned.
    fn as_tuple<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let j = &self.0;
        (
            j.job_id.as_str(),
            j.scheduler_job_id.as_str(),
            j.job_dir.as_str(),
            j.submitted_at,
        )
            .into_pyobject(py)
    }

    /// `job[1]`, `job[:2]` and unpacking keep working for code written for the tuples.
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        index: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.as_tuple(py)?.as_any().get_item(index)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.as_tuple(py)?.as_any().try_iter()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let py = other.py();
        let theirs = match other.cast::<PyActiveJob>() {
            Ok(o) => Some(o.get().as_tuple(py)?),
            Err(_) => None,
        };
        tuple_eq(self.as_tuple(py)?, other, theirs)
    }

    fn __repr__(&self) -> String {
        let j = &self.0;
        format!(
            "ActiveJob(job_id={}, scheduler_job_id={}, job_dir={}, submitted_at={:?})",
            repr_str(&j.job_id),
            repr_str(&j.scheduler_job_id),
            repr_str(&j.job_dir),
            j.submitted_at
        )
    }
}

/// The active jobs of one cluster, oldest submission first. Read from a
/// store, it also carries the rows the reconcile plans from.
#[pyclass(frozen, module = "molq._core", name = "ActiveJobs", sequence)]
pub struct PyActiveJobs(pub ActiveSet);

#[pymethods]
impl PyActiveJobs {
    #[new]
    #[pyo3(signature = (jobs = Vec::new(), cluster_name = ""))]
    fn new(jobs: Vec<Bound<'_, PyAny>>, cluster_name: &str) -> PyResult<Self> {
        jobs.iter()
            .map(|j| {
                if let Ok(job) = j.cast::<PyActiveJob>() {
                    return Ok(job.get().0.clone());
                }
                let (job_id, scheduler_job_id, job_dir, submitted_at): (
                    String,
                    String,
                    String,
                    f64,
                ) = j.extract()?;
                Ok(ActiveJob {
                    job_id,
                    scheduler_job_id,
                    job_dir,
                    submitted_at,
                })
            })
            .collect::<PyResult<_>>()
            .map(|jobs| PyActiveJobs(ActiveSet::of_jobs(cluster_name, jobs)))
    }

    /// The cluster the jobs belong to.
    #[getter]
    fn cluster_name(&self) -> &str {
        &self.0.cluster
    }

    fn __len__(&self) -> usize {
        self.0.jobs.len()
    }

    fn __getitem__(&self, index: isize) -> PyResult<PyActiveJob> {
        let len = self.0.jobs.len() as isize;
        let i = if index < 0 { index + len } else { index };
        if !(0..len).contains(&i) {
            return Err(PyIndexError::new_err("ActiveJobs index out of range"));
        }
        Ok(PyActiveJob(self.0.jobs[i as usize].clone()))
    }

    fn __bool__(&self) -> bool {
        !self.0.jobs.is_empty()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        let jobs = self.0.jobs.iter().map(|j| PyActiveJob(j.clone()));
        PyList::new(py, jobs)?.as_any().try_iter()
    }

    /// Equal to another `ActiveJobs` or to a list of the same jobs (or tuples).
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        if let Ok(other) = other.cast::<PyActiveJobs>() {
            return Ok(self.0.jobs == other.get().0.jobs);
        }
        let Ok(items) = other.cast::<PyList>() else {
            return Ok(false);
        };
        if items.len() != self.0.jobs.len() {
            return Ok(false);
        }
        for (job, item) in self.0.jobs.iter().zip(items.iter()) {
            if !PyActiveJob(job.clone()).__eq__(&item)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The scheduler ids, in order (what a poll command lists).
    fn scheduler_job_ids(&self) -> Vec<String> {
        self.0
            .jobs
            .iter()
            .map(|j| j.scheduler_job_id.clone())
            .collect()
    }

    /// The earliest known submit time (None: none is known), where an
    /// accounting query should start.
    fn oldest_submitted_at(&self) -> Option<f64> {
        self.0
            .jobs
            .iter()
            .map(|j| j.submitted_at)
            .filter(|t| *t > 0.0)
            .min_by(f64::total_cmp)
    }

    /// The jobs accounting should be asked about after `queue`: those it
    /// does not show, and those it shows finished without an exit code.
    fn unsettled_by(&self, queue: &Bound<'_, PySnapshot>) -> Self {
        let snapshot = &queue.get().0;
        PyActiveJobs(self.0.subset(|j| {
            !snapshot
                .needs_accounting(std::iter::once(j.scheduler_job_id.as_str()))
                .is_empty()
        }))
    }

    fn __repr__(&self) -> String {
        format!("ActiveJobs({} jobs)", self.0.jobs.len())
    }
}
