//! Frozen value classes returned to Python: newtypes over core structs.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use molq_core::{JobFields, JobRecord, JobState, Observation, Outcome, Transition};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::errors::py;

// -- JobState members --------------------------------------------------------

static MEMBERS: PyOnceLock<Vec<Py<PyAny>>> = PyOnceLock::new();

/// The `molq.status.JobState` member for `state` (imported once, then cached).
pub fn state_obj(py: Python<'_>, state: JobState) -> PyResult<Bound<'_, PyAny>> {
    let members = MEMBERS.get_or_try_init(py, || -> PyResult<_> {
        let cls = py.import("molq.status")?.getattr("JobState")?;
        JobState::ALL
            .iter()
            .map(|s| cls.call1((s.as_str(),)).map(Bound::unbind))
            .collect()
    })?;
    Ok(members[state.index()].bind(py).clone())
}

/// A `JobState` member or its value string.
pub fn extract_state(obj: &Bound<'_, PyAny>) -> PyResult<JobState> {
    let name = obj
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err("a job state must be a JobState or its name"))?
        .to_cow()?;
    py(name.parse())
}

static RETRY_MEMBERS: PyOnceLock<Vec<(String, Py<PyAny>)>> = PyOnceLock::new();

/// The `molq.status.RetryState` member named `value` (imported once, then
/// cached); a value this build does not know (a newer molq wrote it) comes
/// back as the plain string.
pub fn retry_state_obj<'py>(py: Python<'py>, value: &str) -> PyResult<Bound<'py, PyAny>> {
    let members = RETRY_MEMBERS.get_or_try_init(py, || -> PyResult<_> {
        let cls = py.import("molq.status")?.getattr("RetryState")?;
        cls.try_iter()?
            .map(|m| {
                let m = m?;
                Ok((m.getattr("value")?.extract::<String>()?, m.unbind()))
            })
            .collect()
    })?;
    match members.iter().find(|(name, _)| name == value) {
        Some((_, member)) => Ok(member.bind(py).clone()),
        None => Ok(PyString::new(py, value).into_any()),
    }
}

fn opt_state_obj(py: Python<'_>, s: Option<JobState>) -> PyResult<Option<Bound<'_, PyAny>>> {
    s.map(|s| state_obj(py, s)).transpose()
}

/// `repr()` of a Python str (single quotes unless the text holds one).
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn repr_opt(s: Option<&str>) -> String {
    s.map_or_else(|| "None".to_owned(), repr_str)
}

// -- JobRecord ---------------------------------------------------------------

#[pyclass(frozen, module = "molq", name = "JobRecord")]
pub struct PyJobRecord(pub JobRecord);

#[pymethods]
impl PyJobRecord {
    /// The record's fields, in the order the constructor takes them.
    #[classattr]
    #[pyo3(name = "FIELDS")]
    fn fields(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        Ok(PyTuple::new(py, JobRecord::FIELDS)?.unbind())
    }

    #[new]
    #[pyo3(signature = (
        job_id, cluster_name, scheduler, state, scheduler_job_id=None, submitted_at=None,
        started_at=None, finished_at=None, exit_code=None, failure_reason=None, cwd="",
        command_type="", command_display="", metadata=None,
        root_job_id="", attempt=1, previous_attempt_job_id=None, retry_group_id=None,
        profile_name=None, cleaned_at=None, job_dir="", exit_signal=None,
        retry_due_at=None, retry_state=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        job_id: String,
        cluster_name: String,
        scheduler: String,
        state: &Bound<'_, PyAny>,
        scheduler_job_id: Option<String>,
        submitted_at: Option<f64>,
        started_at: Option<f64>,
        finished_at: Option<f64>,
        exit_code: Option<i64>,
        failure_reason: Option<String>,
        cwd: &str,
        command_type: &str,
        command_display: &str,
        metadata: Option<&Bound<'_, PyAny>>,
        root_job_id: &str,
        attempt: i64,
        previous_attempt_job_id: Option<String>,
        retry_group_id: Option<String>,
        profile_name: Option<String>,
        cleaned_at: Option<f64>,
        job_dir: &str,
        exit_signal: Option<i64>,
        retry_due_at: Option<f64>,
        retry_state: Option<String>,
    ) -> PyResult<Self> {
        let fields = JobFields {
            job_id,
            cluster_name,
            scheduler,
            state: extract_state(state)?,
            scheduler_job_id,
            submitted_at,
            started_at,
            finished_at,
            exit_code,
            exit_signal,
            failure_reason,
            cwd: cwd.to_owned(),
            command_type: command_type.to_owned(),
            command_display: command_display.to_owned(),
            metadata_json: metadata_json(metadata)?,
            root_job_id: root_job_id.to_owned(),
            attempt,
            previous_attempt_job_id,
            retry_group_id,
            profile_name,
            cleaned_at,
            job_dir: job_dir.to_owned(),
            retry_due_at,
            retry_state,
        };
        Ok(PyJobRecord(JobRecord::from(fields)))
    }

    #[getter]
    fn job_id(&self) -> &str {
        self.0.job_id()
    }
    #[getter]
    fn cluster_name(&self) -> &str {
        self.0.cluster_name()
    }
    #[getter]
    fn scheduler(&self) -> &str {
        self.0.scheduler()
    }
    #[getter]
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        state_obj(py, self.0.state())
    }
    #[getter]
    fn scheduler_job_id(&self) -> Option<&str> {
        self.0.scheduler_job_id()
    }
    #[getter]
    fn submitted_at(&self) -> Option<f64> {
        self.0.submitted_at()
    }
    #[getter]
    fn started_at(&self) -> Option<f64> {
        self.0.started_at()
    }
    #[getter]
    fn finished_at(&self) -> Option<f64> {
        self.0.finished_at()
    }
    #[getter]
    fn exit_code(&self) -> Option<i64> {
        self.0.exit_code()
    }
    #[getter]
    fn exit_signal(&self) -> Option<i64> {
        self.0.exit_signal()
    }
    #[getter]
    fn failure_reason(&self) -> Option<&str> {
        self.0.failure_reason()
    }
    #[getter]
    fn cwd(&self) -> &str {
        self.0.cwd()
    }
    #[getter]
    fn command_type(&self) -> &str {
        self.0.command_type()
    }
    #[getter]
    fn command_display(&self) -> &str {
        self.0.command_display()
    }
    /// A fresh dict on every access (parsed from the stored JSON).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (k, v) in self.0.metadata_pairs() {
            dict.set_item(k, v)?;
        }
        Ok(dict)
    }
    #[getter]
    fn root_job_id(&self) -> &str {
        self.0.root_job_id()
    }
    #[getter]
    fn attempt(&self) -> i64 {
        self.0.attempt()
    }
    #[getter]
    fn previous_attempt_job_id(&self) -> Option<&str> {
        self.0.previous_attempt_job_id()
    }
    #[getter]
    fn retry_group_id(&self) -> Option<&str> {
        self.0.retry_group_id()
    }
    #[getter]
    fn profile_name(&self) -> Option<&str> {
        self.0.profile_name()
    }
    #[getter]
    fn cleaned_at(&self) -> Option<f64> {
        self.0.cleaned_at()
    }
    #[getter]
    fn job_dir(&self) -> &str {
        self.0.job_dir()
    }
    #[getter]
    fn retry_due_at(&self) -> Option<f64> {
        self.0.retry_due_at()
    }
    #[getter]
    fn retry_state<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0
            .retry_state()
            .map(|s| retry_state_obj(py, s))
            .transpose()
    }
    /// Terminal, with no retry about to replace it.
    #[getter]
    fn settled(&self) -> bool {
        self.0.settled()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.0;
        let d = PyDict::new(py);
        d.set_item("job_id", r.job_id())?;
        d.set_item("cluster_name", r.cluster_name())?;
        d.set_item("scheduler", r.scheduler())?;
        d.set_item("state", state_obj(py, r.state())?)?;
        d.set_item("scheduler_job_id", r.scheduler_job_id())?;
        d.set_item("submitted_at", r.submitted_at())?;
        d.set_item("started_at", r.started_at())?;
        d.set_item("finished_at", r.finished_at())?;
        d.set_item("exit_code", r.exit_code())?;
        d.set_item("failure_reason", r.failure_reason())?;
        d.set_item("cwd", r.cwd())?;
        d.set_item("command_type", r.command_type())?;
        d.set_item("command_display", r.command_display())?;
        d.set_item("metadata", self.metadata(py)?)?;
        d.set_item("root_job_id", r.root_job_id())?;
        d.set_item("attempt", r.attempt())?;
        d.set_item("previous_attempt_job_id", r.previous_attempt_job_id())?;
        d.set_item("retry_group_id", r.retry_group_id())?;
        d.set_item("profile_name", r.profile_name())?;
        d.set_item("cleaned_at", r.cleaned_at())?;
        d.set_item("job_dir", r.job_dir())?;
        d.set_item("exit_signal", r.exit_signal())?;
        d.set_item("retry_due_at", r.retry_due_at())?;
        d.set_item(
            "retry_state",
            r.retry_state()
                .map(|s| retry_state_obj(py, s))
                .transpose()?,
        )?;
        Ok(d)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Self>().is_ok_and(|o| o.get().0 == self.0)
    }

    fn __hash__(&self) -> u64 {
        // Fields that identify a record's version; equal records hash equally.
        let r = &self.0;
        let mut h = DefaultHasher::new();
        (
            r.job_id(),
            r.state().index(),
            r.attempt(),
            r.scheduler_job_id(),
        )
            .hash(&mut h);
        r.finished_at().map(f64::to_bits).hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        let r = &self.0;
        format!(
            "JobRecord(job_id={}, cluster_name={}, scheduler={}, state={}, scheduler_job_id={}, attempt={})",
            repr_str(r.job_id()),
            repr_str(r.cluster_name()),
            repr_str(r.scheduler()),
            repr_str(r.state().as_str()),
            repr_opt(r.scheduler_job_id()),
            r.attempt(),
        )
    }
}

/// JSON text for a `dict[str, str]` (or anything with `.items()`), order kept.
pub fn metadata_json(metadata: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    let Some(m) = metadata.filter(|m| !m.is_none()) else {
        return Ok("{}".to_owned());
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for item in m.call_method0("items")?.try_iter()? {
        let (k, v): (String, String) = item?
            .extract()
            .map_err(|_| PyTypeError::new_err("metadata must map str to str"))?;
        pairs.push((k, v));
    }
    Ok(molq_core::encode_metadata(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    ))
}

// -- StatusTransition ----------------------------------------------------------

#[pyclass(frozen, module = "molq", name = "StatusTransition")]
pub struct PyStatusTransition(pub Transition);

#[pymethods]
impl PyStatusTransition {
    #[new]
    #[pyo3(signature = (job_id, old_state, new_state, timestamp, reason=None))]
    fn new(
        job_id: String,
        old_state: Option<&Bound<'_, PyAny>>,
        new_state: &Bound<'_, PyAny>,
        timestamp: f64,
        reason: Option<String>,
    ) -> PyResult<Self> {
        Ok(PyStatusTransition(Transition {
            job_id,
            old_state: old_state
                .filter(|s| !s.is_none())
                .map(extract_state)
                .transpose()?,
            new_state: extract_state(new_state)?,
            timestamp,
            reason,
        }))
    }
    #[getter]
    fn job_id(&self) -> &str {
        &self.0.job_id
    }
    #[getter]
    fn old_state<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_state_obj(py, self.0.old_state)
    }
    #[getter]
    fn new_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        state_obj(py, self.0.new_state)
    }
    #[getter]
    fn timestamp(&self) -> f64 {
        self.0.timestamp
    }
    #[getter]
    fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Self>().is_ok_and(|o| o.get().0 == self.0)
    }
    fn __repr__(&self) -> String {
        let t = &self.0;
        format!(
            "StatusTransition(job_id={}, old_state={}, new_state={}, timestamp={:?}, reason={})",
            repr_str(&t.job_id),
            repr_opt(t.old_state.map(JobState::as_str)),
            repr_str(t.new_state.as_str()),
            t.timestamp,
            repr_opt(t.reason.as_deref()),
        )
    }
}

// -- QueueEntry ----------------------------------------------------------------

/// One row of the scheduler's own queue (includes jobs molq did not submit).
#[pyclass(frozen, module = "molq", name = "QueueEntry")]
pub struct PyQueueEntry {
    scheduler_job_id: String,
    obs: Observation,
}

impl PyQueueEntry {
    pub fn from_observation(id: &str, obs: Observation) -> Self {
        PyQueueEntry {
            scheduler_job_id: id.to_owned(),
            obs,
        }
    }
}

#[pymethods]
impl PyQueueEntry {
    #[new]
    #[pyo3(signature = (
        scheduler_job_id, name=None, user=None, state=None, raw_state="",
        partition=None, submit_time=None, start_time=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        scheduler_job_id: String,
        name: Option<String>,
        user: Option<String>,
        state: Option<&Bound<'_, PyAny>>,
        raw_state: &str,
        partition: Option<String>,
        submit_time: Option<f64>,
        start_time: Option<f64>,
    ) -> PyResult<Self> {
        let state = match state.filter(|s| !s.is_none()) {
            Some(s) => extract_state(s)?,
            None => JobState::Queued,
        };
        let obs = Observation {
            state: Some(state),
            raw_state: raw_state.to_owned().into(),
            name,
            user: user.map(Into::into),
            partition: partition.map(Into::into),
            submit_time,
            started_at: start_time,
            ..Observation::default()
        };
        Ok(PyQueueEntry {
            scheduler_job_id,
            obs,
        })
    }
    #[getter]
    fn scheduler_job_id(&self) -> &str {
        &self.scheduler_job_id
    }
    #[getter]
    fn name(&self) -> Option<&str> {
        self.obs.name.as_deref()
    }
    #[getter]
    fn user(&self) -> Option<&str> {
        self.obs.user.as_deref()
    }
    #[getter]
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        state_obj(py, self.obs.job_state())
    }
    #[getter]
    fn raw_state(&self) -> &str {
        &self.obs.raw_state
    }
    #[getter]
    fn partition(&self) -> Option<&str> {
        self.obs.partition.as_deref()
    }
    #[getter]
    fn submit_time(&self) -> Option<f64> {
        self.obs.submit_time
    }
    #[getter]
    fn start_time(&self) -> Option<f64> {
        self.obs.started_at
    }
    fn __repr__(&self) -> String {
        format!(
            "QueueEntry(scheduler_job_id={}, name={}, state={}, raw_state={})",
            repr_str(&self.scheduler_job_id),
            repr_opt(self.obs.name.as_deref()),
            repr_str(self.obs.job_state().as_str()),
            repr_str(&self.obs.raw_state),
        )
    }
}

// -- ReconcileOutcome ------------------------------------------------------------

#[pyclass(frozen, module = "molq", name = "ReconcileOutcome")]
pub struct PyReconcileOutcome(pub Outcome);

#[pymethods]
impl PyReconcileOutcome {
    #[getter]
    fn transitions(&self) -> Vec<PyStatusTransition> {
        self.0
            .transitions
            .iter()
            .cloned()
            .map(PyStatusTransition)
            .collect()
    }
    /// Job ids that got a retry due time in this cycle.
    #[getter]
    fn retries_scheduled(&self) -> Vec<String> {
        self.0.retries_scheduled.clone()
    }
    /// Job ids seen in neither queue nor accounting (counted toward LOST).
    #[getter]
    fn missing(&self) -> Vec<String> {
        self.0.missing.clone()
    }
    fn __repr__(&self) -> String {
        format!(
            "ReconcileOutcome({} transitions, {} retries scheduled, {} missing)",
            self.0.transitions.len(),
            self.0.retries_scheduled.len(),
            self.0.missing.len()
        )
    }
}
