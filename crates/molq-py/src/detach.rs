//! Run core work with the GIL released.

use pyo3::{PyResult, Python};

use crate::errors::py;

/// Run `f` without holding the GIL and map its error. Gather every Python
/// input before calling this and convert the result after: `f` must not touch
/// Python objects.
pub fn detached<T, F>(py_: Python<'_>, f: F) -> PyResult<T>
where
    F: Send + FnOnce() -> molq_core::Result<T>,
    T: Send,
{
    py(py_.detach(f))
}
