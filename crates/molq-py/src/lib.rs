//! `molq._core`: thin PyO3 bindings over `molq-core`. Each binding extracts its
//! arguments, runs the core with the GIL released and converts the result once;
//! all logic lives in the core. The contract is `python/molq/_core.pyi`.
#![forbid(unsafe_code)]

mod active;
mod answers;
mod detach;
mod errors;
mod import_original;
mod new_job;
mod parse;
mod store;
mod store_compat;
mod types;
mod values;

use pyo3::prelude::*;

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("SCHEMA_VERSION", molq_core::SCHEMA_VERSION)?;
    m.add("SQUEUE_FORMAT", molq_core::parse::slurm::SQUEUE_FORMAT)?;
    m.add("SACCT_FIELDS", molq_core::parse::slurm::SACCT_FIELDS)?;
    m.add("BJOBS_FORMAT", molq_core::parse::lsf::BJOBS_FORMAT)?;
    m.add("BJOBS_FIELDS", molq_core::parse::lsf::BJOBS_FIELDS)?;
    m.add(
        "SQUEUE_TASKS_FORMAT",
        molq_core::parse::slurm::SQUEUE_TASKS_FORMAT,
    )?;
    m.add(
        "SQUEUE_MARKS_FORMAT",
        molq_core::parse::slurm::SQUEUE_MARKS_FORMAT,
    )?;
    m.add(
        "SACCT_MARKS_FIELDS",
        molq_core::parse::slurm::SACCT_MARKS_FIELDS,
    )?;
    m.add("SGE_MARK_VARIABLE", molq_core::parse::sge::MARK_VARIABLE)?;
    m.add("PBS_MARK_VARIABLE", molq_core::parse::pbs::MARK_VARIABLE)?;
    m.add("LSF_MARK", molq_core::parse::lsf::MARK)?;
    m.add(
        "BJOBS_MARKS_FORMAT",
        molq_core::parse::lsf::BJOBS_MARKS_FORMAT,
    )?;
    m.add_class::<active::PyActiveJob>()?;
    m.add_class::<active::PyActiveJobs>()?;
    m.add_class::<new_job::PyNewJob>()?;
    m.add_class::<values::PyArrayTask>()?;
    m.add_class::<values::PyPollStatus>()?;
    m.add_class::<types::PyJobRecord>()?;
    m.add_class::<types::PyStatusTransition>()?;
    m.add_class::<types::PyQueueEntry>()?;
    m.add_class::<types::PyReconcileOutcome>()?;
    m.add_class::<parse::PySnapshot>()?;
    m.add_class::<store::PyJobStore>()?;
    m.add_function(wrap_pyfunction!(store::classify_store_file, m)?)?;
    m.add_function(wrap_pyfunction!(import_original::import_original_store, m)?)?;
    m.add_function(wrap_pyfunction!(parse::parse_queue, m)?)?;
    m.add_function(wrap_pyfunction!(parse::parse_accounting, m)?)?;
    m.add_function(wrap_pyfunction!(parse::parse_submit_id, m)?)?;
    m.add_class::<answers::PyCancelOutcome>()?;
    m.add_class::<answers::PyArrayDirective>()?;
    m.add_function(wrap_pyfunction!(answers::parse_cancel, m)?)?;
    m.add_function(wrap_pyfunction!(answers::classify_submit_refusal, m)?)?;
    m.add_function(wrap_pyfunction!(answers::only_unknown_ids, m)?)?;
    m.add_function(wrap_pyfunction!(answers::parse_slurm_live_tasks, m)?)?;
    m.add_function(wrap_pyfunction!(answers::find_slurm_submissions, m)?)?;
    m.add_function(wrap_pyfunction!(answers::find_sge_submissions, m)?)?;
    m.add_function(wrap_pyfunction!(answers::find_pbs_submissions, m)?)?;
    m.add_function(wrap_pyfunction!(answers::find_lsf_submissions, m)?)?;
    m.add_function(wrap_pyfunction!(answers::array_directive, m)?)?;
    m.add_function(wrap_pyfunction!(answers::array_task_ids, m)?)?;
    Ok(())
}
