//! Parser entry points and the opaque `Snapshot` handle.

use molq_core::{Observation, SchedulerKind, Snapshot};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::detach::detached;
use crate::errors::py;
use crate::types::{extract_state, state_obj, PyQueueEntry};

/// Parsed scheduler evidence; crosses into `JobStore.reconcile` untouched.
#[pyclass(frozen, module = "molq._core", name = "Snapshot")]
pub struct PySnapshot(pub Snapshot);

type ObservationRow<'py> = (
    String,
    Bound<'py, PyAny>,
    Option<i64>,
    Option<String>,
    Option<f64>,
    Option<f64>,
);

#[pymethods]
impl PySnapshot {
    /// Rows of (scheduler_job_id, state, exit_code, reason, started_at, finished_at).
    #[staticmethod]
    fn from_observations(rows: Vec<ObservationRow<'_>>) -> PyResult<Self> {
        let mut obs = Vec::with_capacity(rows.len());
        for (id, state, exit_code, reason, started_at, finished_at) in rows {
            let state = extract_state(&state)?;
            obs.push((
                id,
                Observation {
                    exit_code,
                    reason,
                    started_at,
                    finished_at,
                    ..Observation::of(state)
                },
            ));
        }
        Ok(PySnapshot(Snapshot::from_observations(obs)))
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    fn __contains__(&self, scheduler_job_id: &Bound<'_, PyAny>) -> PyResult<bool> {
        match scheduler_job_id.cast::<PyString>() {
            Ok(s) => Ok(self.0.contains(&s.to_cow()?)),
            Err(_) => Ok(false),
        }
    }

    /// Lines the parser could not use, as (line, reason).
    #[getter]
    fn skipped(&self) -> Vec<(String, String)> {
        self.0
            .skipped
            .iter()
            .map(|s| (s.line.clone(), s.reason.clone()))
            .collect()
    }

    /// The given ids that have no observation here, in the given order.
    fn missing(&self, scheduler_job_ids: Vec<String>) -> Vec<String> {
        scheduler_job_ids
            .into_iter()
            .filter(|id| !self.0.contains(id))
            .collect()
    }

    /// The given ids to ask accounting about: unobserved, or seen finished
    /// without an exit code.
    fn needs_accounting(&self, scheduler_job_ids: Vec<String>) -> Vec<String> {
        self.0
            .needs_accounting(scheduler_job_ids.iter().map(String::as_str))
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// scheduler_job_id -> state.
    fn states<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (id, state) in self.0.states() {
            d.set_item(id, state_obj(py, state)?)?;
        }
        Ok(d)
    }

    fn entries(&self) -> Vec<PyQueueEntry> {
        self.0
            .observations()
            .map(|(id, obs)| PyQueueEntry::from_observation(id, obs))
            .collect()
    }

    /// A new snapshot with both sets of observations (`other` wins on clashes).
    fn merged(&self, other: &Bound<'_, PySnapshot>) -> Self {
        PySnapshot(self.0.merged(&other.get().0))
    }

    fn __repr__(&self) -> String {
        format!(
            "Snapshot({} observations, {} skipped)",
            self.0.len(),
            self.0.skipped.len()
        )
    }
}

/// Parse a queue listing (kinds: "shell", "slurm").
#[pyfunction]
pub fn parse_queue(py_: Python<'_>, kind: &str, data: &[u8]) -> PyResult<PySnapshot> {
    let kind = py(SchedulerKind::parse(kind))?;
    detached(py_, || molq_core::parse_queue(kind, data)).map(PySnapshot)
}

/// Parse accounting output (kinds: "slurm").
#[pyfunction]
pub fn parse_accounting(py_: Python<'_>, kind: &str, data: &[u8]) -> PyResult<PySnapshot> {
    let kind = py(SchedulerKind::parse(kind))?;
    detached(py_, || molq_core::parse_accounting(kind, data)).map(PySnapshot)
}

/// The job id from a submit command's stdout.
#[pyfunction]
pub fn parse_submit_id(kind: &str, data: &[u8]) -> PyResult<String> {
    py(SchedulerKind::parse(kind).and_then(|k| molq_core::parse_submit_id(k, data)))
}
