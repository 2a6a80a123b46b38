//! `NewJob`: a job to register, with named, typed fields. `register_job`
//! also takes the dict form of earlier releases (checked key by key).

use molq_core::NewJob;
use pyo3::prelude::*;

use crate::types::{metadata_json, repr_str};

/// A job about to be registered (state created).
#[pyclass(frozen, module = "molq._core", name = "NewJob")]
pub struct PyNewJob(pub NewJob);

#[pymethods]
impl PyNewJob {
    #[new]
    #[pyo3(signature = (
        *, job_id, cluster_name, scheduler, command_type = String::new(), command_display = String::new(),
        cwd = String::new(), job_dir = String::new(), root_job_id = String::new(), attempt = 1,
        previous_attempt_job_id = None, retry_group_id = None, metadata = None,
        request_json = None, retry_json = None, profile_name = None, array = false
    ))]
    #[allow(clippy::too_many_arguments)] // one keyword per stored field
    fn new(
        job_id: String,
        cluster_name: String,
        scheduler: String,
        command_type: String,
        command_display: String,
        cwd: String,
        job_dir: String,
        root_job_id: String,
        attempt: i64,
        previous_attempt_job_id: Option<String>,
        retry_group_id: Option<String>,
        metadata: Option<&Bound<'_, PyAny>>,
        request_json: Option<String>,
        retry_json: Option<String>,
        profile_name: Option<String>,
        array: bool,
    ) -> PyResult<Self> {
        // Checked as the dict form's is: a mapping of str to str, order kept.
        let metadata = molq_core::decode_metadata(&metadata_json(metadata)?);
        Ok(PyNewJob(NewJob {
            job_id,
            cluster_name,
            scheduler,
            root_job_id,
            attempt,
            previous_attempt_job_id,
            retry_group_id,
            command_type,
            command_display,
            cwd,
            job_dir,
            metadata,
            request_json: request_json.unwrap_or_else(|| "{}".to_owned()),
            retry_json,
            profile_name,
            array,
        }))
    }

    #[getter]
    fn job_id(&self) -> &str {
        &self.0.job_id
    }
    #[getter]
    fn cluster_name(&self) -> &str {
        &self.0.cluster_name
    }
    #[getter]
    fn scheduler(&self) -> &str {
        &self.0.scheduler
    }
    #[getter]
    fn attempt(&self) -> i64 {
        self.0.attempt
    }
    #[getter]
    fn array(&self) -> bool {
        self.0.array
    }

    fn __repr__(&self) -> String {
        let j = &self.0;
        format!(
            "NewJob(job_id={}, cluster_name={}, scheduler={}, attempt={})",
            repr_str(&j.job_id),
            repr_str(&j.cluster_name),
            repr_str(&j.scheduler),
            j.attempt
        )
    }
}
