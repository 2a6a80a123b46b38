//! The one place a core error becomes a Python exception (classes of `molq.errors`).

use molq_core::Error;
use pyo3::exceptions::PyValueError;
use pyo3::PyErr;

pyo3::import_exception!(molq.errors, StoreError);
pyo3::import_exception!(molq.errors, ParseError);
pyo3::import_exception!(molq.errors, JobNotFoundError);

/// Newtype so `?` can turn core errors into `PyErr` (orphan rule).
pub struct PyCoreError(pub Error);

impl From<Error> for PyCoreError {
    fn from(e: Error) -> Self {
        PyCoreError(e)
    }
}

impl From<PyCoreError> for PyErr {
    fn from(PyCoreError(e): PyCoreError) -> PyErr {
        let msg = e.to_string();
        match e {
            Error::Parse { .. } => ParseError::new_err(msg),
            Error::JobNotFound(id) => JobNotFoundError::new_err((id,)),
            // Bad arguments from Python code, not a broken store.
            Error::UnknownState(_) | Error::InvalidTransition { .. } => PyValueError::new_err(msg),
            Error::DuplicateJob(_)
            | Error::SchemaTooNew { .. }
            | Error::NotAStore { .. }
            | Error::Unusable { .. }
            | Error::Locked { .. }
            | Error::Closed
            | Error::Sqlite { .. } => StoreError::new_err(msg),
            // `Error` is non-exhaustive: a new variant is a store problem until mapped.
            _ => StoreError::new_err(msg),
        }
    }
}

/// Shorthand for mapping a core result.
pub fn py<T>(r: molq_core::Result<T>) -> pyo3::PyResult<T> {
    r.map_err(|e| PyCoreError(e).into())
}
