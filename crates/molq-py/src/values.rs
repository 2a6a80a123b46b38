//! Small named values the store returns: an array task and a cluster's poll
//! status. Each also reads as the tuple earlier releases returned (index,
//! slice, unpacking, equality with that tuple), so callers written for the
//! tuples keep working.

use molq_core::{ArrayTask, PollStatus};
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyTuple};

use crate::types::{repr_str, state_obj};

/// `other` equals a value whose tuple is `mine` when it is the same kind of
/// value with the same tuple, or that very tuple.
pub(crate) fn tuple_eq<'py>(
    mine: Bound<'py, PyTuple>,
    other: &Bound<'py, PyAny>,
    theirs: Option<Bound<'py, PyTuple>>,
) -> PyResult<bool> {
    match theirs {
        Some(t) => mine.as_any().eq(t),
        None if other.cast::<PyTuple>().is_ok() => mine.as_any().eq(other),
        None => Ok(false),
    }
}

/// One task of an array job as last observed.
#[pyclass(frozen, module = "molq._core", name = "ArrayTask")]
pub struct PyArrayTask(pub ArrayTask);

impl PyArrayTask {
    const FIELDS: usize = 6;

    fn as_tuple<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let t = &self.0;
        (
            t.task_id.as_str(),
            state_obj(py, t.state)?,
            t.exit_code,
            t.exit_signal,
            t.started_at,
            t.finished_at,
        )
            .into_pyobject(py)
    }
}

#[pymethods]
impl PyArrayTask {
    /// The task's number within its array, as the scheduler prints it.
    #[getter]
    fn task_id(&self) -> &str {
        &self.0.task_id
    }
    #[getter]
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        state_obj(py, self.0.state)
    }
    #[getter]
    fn exit_code(&self) -> Option<i64> {
        self.0.exit_code
    }
    #[getter]
    fn exit_signal(&self) -> Option<i64> {
        self.0.exit_signal
    }
    #[getter]
    fn started_at(&self) -> Option<f64> {
        self.0.started_at
    }
    #[getter]
    fn finished_at(&self) -> Option<f64> {
        self.0.finished_at
    }

    fn __len__(&self) -> usize {
        Self::FIELDS
    }
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
        let theirs = match other.cast::<PyArrayTask>() {
            Ok(o) => Some(o.get().as_tuple(py)?),
            Err(_) => None,
        };
        tuple_eq(self.as_tuple(py)?, other, theirs)
    }

    fn __repr__(&self) -> String {
        let t = &self.0;
        format!(
            "ArrayTask(task_id={}, state={}, exit_code={:?}, exit_signal={:?})",
            repr_str(&t.task_id),
            t.state.as_str(),
            t.exit_code,
            t.exit_signal
        )
    }
}

/// The shared polling state of one cluster (its poll lease).
#[pyclass(frozen, module = "molq._core", name = "PollStatus")]
pub struct PyPollStatus(pub PollStatus);

impl PyPollStatus {
    const FIELDS: usize = 6;

    fn as_tuple<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let p = &self.0;
        (
            p.holder.as_deref(),
            p.lease_until,
            p.last_attempt_at,
            p.last_poll_at,
            p.failures,
            p.last_error.as_deref(),
        )
            .into_pyobject(py)
    }
}

#[pymethods]
impl PyPollStatus {
    /// Who polls right now (None: nobody).
    #[getter]
    fn holder(&self) -> Option<&str> {
        self.0.holder.as_deref()
    }
    #[getter]
    fn lease_until(&self) -> Option<f64> {
        self.0.lease_until
    }
    /// When the last poll began, successful or not.
    #[getter]
    fn last_attempt_at(&self) -> Option<f64> {
        self.0.last_attempt_at
    }
    /// When the last successful poll began.
    #[getter]
    fn last_poll_at(&self) -> Option<f64> {
        self.0.last_poll_at
    }
    /// Failed polls in a row (the interval backs off with them).
    #[getter]
    fn failures(&self) -> i64 {
        self.0.failures
    }
    #[getter]
    fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    fn __len__(&self) -> usize {
        Self::FIELDS
    }
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
        let theirs = match other.cast::<PyPollStatus>() {
            Ok(o) => Some(o.get().as_tuple(py)?),
            Err(_) => None,
        };
        tuple_eq(self.as_tuple(py)?, other, theirs)
    }

    fn __repr__(&self) -> String {
        let p = &self.0;
        format!(
            "PollStatus(holder={}, failures={}, last_poll_at={:?})",
            p.holder.as_deref().map_or("None".to_owned(), repr_str),
            p.failures,
            p.last_poll_at
        )
    }
}
