//! The one place a core error becomes a Python exception (classes of `molq.errors`).

use molq_core::Error;
use pyo3::exceptions::PyValueError;
use pyo3::PyErr;

pyo3::import_exception!(molq.errors, StoreError);
pyo3::import_exception!(molq.errors, ParseError);
pyo3::import_exception!(molq.errors, JobNotFoundError);
pyo3::import_exception!(molq.errors, ConfigError);

/// Newtype so `?` can turn core errors into `PyErr` (orphan rule).
pub struct PyCoreError(pub Error);

impl From<Error> for PyCoreError {
    fn from(e: Error) -> Self {
        PyCoreError(e)
    }
}

/// Which Python class a core error becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Parse,
    NotFound,
    Store,
    /// Bad arguments from Python code, not a broken store.
    Value,
}

pub fn class_of(e: &Error) -> Class {
    match e {
        Error::Parse { .. } => Class::Parse,
        Error::JobNotFound(_) => Class::NotFound,
        Error::UnknownState(_) | Error::InvalidField(_) | Error::InvalidTransition { .. } => {
            Class::Value
        }
        Error::DuplicateJob(_)
        | Error::SchemaTooNew { .. }
        | Error::NotAStore { .. }
        | Error::Unusable { .. }
        | Error::Unwritable { .. }
        | Error::Locked { .. }
        | Error::Closed
        | Error::Sqlite { .. } => Class::Store,
        // `Error` is non-exhaustive: a new variant is a store problem until mapped.
        _ => Class::Store,
    }
}

impl From<PyCoreError> for PyErr {
    fn from(PyCoreError(e): PyCoreError) -> PyErr {
        match (class_of(&e), e) {
            (_, Error::JobNotFound(id)) => JobNotFoundError::new_err((id,)),
            (Class::Parse, e) => ParseError::new_err(e.to_string()),
            (Class::Value, e) => PyValueError::new_err(e.to_string()),
            (_, e) => StoreError::new_err(e.to_string()),
        }
    }
}

/// Shorthand for mapping a core result.
pub fn py<T>(r: molq_core::Result<T>) -> pyo3::PyResult<T> {
    r.map_err(|e| PyCoreError(e).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use molq_core::JobState;

    #[test]
    fn every_variant_has_a_class() {
        let s = String::new;
        let cases = [
            (
                Error::Parse {
                    kind: s(),
                    reason: s(),
                },
                Class::Parse,
            ),
            (Error::JobNotFound(s()), Class::NotFound),
            (Error::DuplicateJob(s()), Class::Store),
            (Error::UnknownState(s()), Class::Value),
            (
                Error::InvalidTransition {
                    job: s(),
                    from: JobState::Lost,
                    to: JobState::Running,
                },
                Class::Value,
            ),
            (
                Error::SchemaTooNew {
                    path: s(),
                    found: 2,
                    supported: 1,
                },
                Class::Store,
            ),
            (
                Error::NotAStore {
                    path: s(),
                    reason: s(),
                },
                Class::Store,
            ),
            (
                Error::Unusable {
                    path: s(),
                    reason: s(),
                },
                Class::Store,
            ),
            (
                Error::Locked {
                    path: s(),
                    detail: s(),
                },
                Class::Store,
            ),
            (Error::Closed, Class::Store),
            (
                Error::Sqlite {
                    path: s(),
                    source: rusqlite::Error::QueryReturnedNoRows,
                },
                Class::Store,
            ),
        ];
        for (e, class) in cases {
            assert_eq!(class_of(&e), class, "{e:?}");
        }
    }
}
