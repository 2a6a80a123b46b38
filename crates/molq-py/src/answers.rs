//! What a scheduler's other answers mean: cancel outcomes, submit refusals,
//! Slurm's task and marker listings, and array specifications. The reading
//! is the core's; these only carry the results across.

use molq_core::array_spec::{self, Dialect};
use molq_core::parse::slurm::{self, MarksSource};
use molq_core::parse::{lsf, pbs, sge};
use molq_core::{CancelOutcome, SchedulerKind};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{py, ConfigError};

/// The outcome of a cancel command.
#[pyclass(frozen, module = "molq._core", name = "CancelOutcome")]
pub struct PyCancelOutcome(CancelOutcome);

#[pymethods]
impl PyCancelOutcome {
    /// "cancelled", "already_ended" or "refused".
    #[getter]
    fn outcome(&self) -> &'static str {
        match self.0 {
            CancelOutcome::Cancelled => "cancelled",
            CancelOutcome::AlreadyEnded => "already_ended",
            CancelOutcome::Refused { .. } => "refused",
        }
    }

    /// What the scheduler said when it refused; None otherwise.
    #[getter]
    fn message(&self) -> Option<&str> {
        match &self.0 {
            CancelOutcome::Refused { message } => Some(message),
            _ => None,
        }
    }

    fn __repr__(&self) -> String {
        match self.message() {
            Some(m) => format!("CancelOutcome({:?}, message={m:?})", self.outcome()),
            None => format!("CancelOutcome({:?})", self.outcome()),
        }
    }
}

/// What the answer of a cancel command of `kind` means.
#[pyfunction]
pub fn parse_cancel(
    kind: &str,
    returncode: i64,
    stdout: &[u8],
    stderr: &[u8],
) -> PyResult<PyCancelOutcome> {
    let kind = py(SchedulerKind::parse(kind))?;
    Ok(PyCancelOutcome(molq_core::parse_cancel(
        kind, returncode, stdout, stderr,
    )))
}

/// "transient" or "refused", from a failed submit command's stderr.
#[pyfunction]
pub fn classify_submit_refusal(kind: &str, stderr: &[u8]) -> PyResult<&'static str> {
    let kind = py(SchedulerKind::parse(kind))?;
    Ok(molq_core::classify_submit_refusal(kind, stderr).as_str())
}

/// Whether a failed query of ids failed only over ids the scheduler does not
/// know (or no longer lists), so that its stdout answers for the others.
#[pyfunction]
pub fn only_unknown_ids(kind: &str, stderr: &[u8]) -> PyResult<bool> {
    let kind = py(SchedulerKind::parse(kind))?;
    Ok(molq_core::parse::only_unknown_ids(kind, stderr))
}

/// Slurm id -> state of the parts of a job that have not ended, from
/// `squeue -h -r -o SQUEUE_TASKS_FORMAT`.
#[pyfunction]
pub fn parse_slurm_live_tasks<'py>(py_: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py_);
    for task in slurm::parse_live_tasks(data) {
        d.set_item(task.scheduler_job_id, task.state)?;
    }
    Ok(d)
}

/// job_id -> Slurm id of the molq jobs `jobs` (job_id, script path or "")
/// that a marker listing shows (`source`: "squeue" or "sacct").
#[pyfunction]
pub fn find_slurm_submissions<'py>(
    py_: Python<'py>,
    source: &str,
    data: &[u8],
    jobs: Vec<(String, String)>,
) -> PyResult<Bound<'py, PyDict>> {
    let source = match source {
        "squeue" => MarksSource::Squeue,
        "sacct" => MarksSource::Sacct,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown listing {other:?} (known: squeue, sacct)"
            )))
        }
    };
    let d = PyDict::new(py_);
    for found in slurm::find_submissions(data, source, &jobs) {
        d.set_item(found.job_id, found.scheduler_job_id)?;
    }
    Ok(d)
}

/// job_id -> Grid Engine job number of the molq jobs `jobs` (job_id, script
/// path or "") that `qstat -j '*'` shows.
#[pyfunction]
pub fn find_sge_submissions<'py>(
    py_: Python<'py>,
    data: &[u8],
    jobs: Vec<(String, String)>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py_);
    for found in sge::find_submissions(data, &jobs) {
        d.set_item(found.job_id, found.scheduler_job_id)?;
    }
    Ok(d)
}

/// job_id -> PBS id (`123`, `123[]`) of the molq jobs `job_ids` that a
/// `qstat -f` listing (PBS Pro JSON or text) shows by their MOLQ_JOB_ID variable.
#[pyfunction]
pub fn find_pbs_submissions<'py>(
    py_: Python<'py>,
    data: &[u8],
    job_ids: Vec<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py_);
    for found in pbs::find_submissions(data, &job_ids) {
        d.set_item(found.job_id, found.scheduler_job_id)?;
    }
    Ok(d)
}

/// job_id -> LSF job id of the molq jobs `job_ids` that
/// `bjobs -o BJOBS_MARKS_FORMAT` shows by their `molq:<job id>` description.
#[pyfunction]
pub fn find_lsf_submissions<'py>(
    py_: Python<'py>,
    data: &[u8],
    job_ids: Vec<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py_);
    for found in lsf::find_submissions(data, &job_ids) {
        d.set_item(found.job_id, found.scheduler_job_id)?;
    }
    Ok(d)
}

/// What a scheduler's array option takes of an array specification.
#[pyclass(frozen, module = "molq._core", name = "ArrayDirective")]
pub struct PyArrayDirective(array_spec::Directive);

#[pymethods]
impl PyArrayDirective {
    /// The index list as written (``"1-10:2"``, ``"1,3,5"``).
    #[getter]
    fn indices(&self) -> &str {
        &self.0.indices
    }

    /// ``%N``: at most N tasks at once; None if not throttled.
    #[getter]
    fn throttle(&self) -> Option<u64> {
        self.0.throttle
    }

    fn __repr__(&self) -> String {
        format!(
            "ArrayDirective(indices={:?}, throttle={})",
            self.0.indices,
            self.0
                .throttle
                .map_or_else(|| "None".to_owned(), |n| n.to_string())
        )
    }
}

/// The task ids of `spec` (ascending, each once) and its throttle, for a
/// scheduler molq runs itself; ConfigError when it names none or too many.
#[pyfunction]
pub fn array_task_ids(spec: &str) -> PyResult<(Vec<u64>, Option<u64>)> {
    array_spec::task_ids(spec).map_err(ConfigError::new_err)
}

/// Check `spec` against the array syntax of `dialect` ("slurm", "pbspro",
/// "torque", "lsf", "sge"); ConfigError when that scheduler cannot take it.
#[pyfunction]
pub fn array_directive(dialect: &str, spec: &str) -> PyResult<PyArrayDirective> {
    let d = Dialect::parse(dialect).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown array dialect {dialect:?} (known: slurm, pbspro, torque, lsf, sge)"
        ))
    })?;
    array_spec::directive(spec, d)
        .map(PyArrayDirective)
        .map_err(ConfigError::new_err)
}
