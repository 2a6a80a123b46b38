//! `import_original_store`: copy the original molq's job store into a molq store.

use std::path::PathBuf;
use std::time::Duration;

use molq_core::JobStore;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::detach::detached;

fn utf8(path: PathBuf, what: &str) -> PyResult<String> {
    path.into_os_string()
        .into_string()
        .map_err(|_| PyValueError::new_err(format!("the {what} path must be valid UTF-8")))
}

/// Open (creating if needed) the molq store at `store_path` and import the
/// original's store at `source_path` into it in one transaction. Returns the
/// counts as a dict (keys as in `molq_core::ImportReport`).
#[pyfunction]
#[pyo3(signature = (store_path, source_path, now, busy_timeout_ms=30000))]
pub fn import_original_store<'py>(
    py: Python<'py>,
    store_path: PathBuf,
    source_path: PathBuf,
    now: f64,
    busy_timeout_ms: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let store_path = utf8(store_path, "job store")?;
    let source_path = utf8(source_path, "original store")?;
    let timeout = Duration::from_millis(busy_timeout_ms);
    let r = detached(py, || {
        JobStore::open(&store_path, timeout)?.import_original(&source_path, timeout, now)
    })?;
    let d = PyDict::new(py);
    d.set_item("source_schema", r.source_schema)?;
    d.set_item("jobs", r.jobs)?;
    d.set_item("transitions", r.transitions)?;
    d.set_item("dependencies", r.dependencies)?;
    d.set_item("allocations", r.allocations)?;
    d.set_item("duplicate_jobs", r.duplicate_jobs)?;
    d.set_item("duplicate_allocations", r.duplicate_allocations)?;
    d.set_item("orphans", r.orphans)?;
    d.set_item("active_jobs", r.active_jobs)?;
    d.set_item("unknown_states", r.unknown_states)?;
    Ok(d)
}
