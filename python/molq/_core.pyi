"""Stubs for molq's native core (crates/molq-py), written by hand.

The core owns every row of the job store and every byte a scheduler prints.
Python decides what to run and where; it hands the core bytes and gets back
only what changed. Errors raised here are the classes of ``molq.errors``.
"""

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, final

from molq.status import JobState, RetryState

__all__ = [
    "__version__",
    "SCHEMA_VERSION",
    "SQUEUE_FORMAT",
    "SACCT_FIELDS",
    "BJOBS_FORMAT",
    "BJOBS_FIELDS",
    "ActiveJob",
    "ActiveJobs",
    "ArrayTask",
    "NewJob",
    "PollStatus",
    "JobRecord",
    "StatusTransition",
    "QueueEntry",
    "ReconcileOutcome",
    "Snapshot",
    "JobStore",
    "SQUEUE_TASKS_FORMAT",
    "SQUEUE_MARKS_FORMAT",
    "SACCT_MARKS_FIELDS",
    "SGE_MARK_VARIABLE",
    "PBS_MARK_VARIABLE",
    "LSF_MARK",
    "BJOBS_MARKS_FORMAT",
    "CancelOutcome",
    "ArrayDirective",
    "classify_store_file",
    "import_original_store",
    "parse_queue",
    "parse_accounting",
    "parse_submit_id",
    "parse_cancel",
    "classify_submit_refusal",
    "only_unknown_ids",
    "parse_slurm_live_tasks",
    "find_slurm_submissions",
    "find_sge_submissions",
    "find_pbs_submissions",
    "find_lsf_submissions",
    "array_directive",
    "array_task_ids",
]

__version__: str
#: Version of the store schema this build writes (``PRAGMA user_version``).
SCHEMA_VERSION: int
#: The ``squeue -o`` format the "slurm" queue parser reads (run with SLURM_TIME_FORMAT=%s).
SQUEUE_FORMAT: str
#: The ``sacct -o`` fields the "slurm" accounting parser reads (with -n -P).
SACCT_FIELDS: str
#: The whole ``bjobs -o`` argument the "lsf" parsers read (fields and ``delimiter='|'``).
BJOBS_FORMAT: str
#: The ``bjobs -o`` field names alone, for ``bjobs -json -o`` (the job name last).
BJOBS_FIELDS: str
#: The ``squeue -h -r -j <id> -o`` format ``parse_slurm_live_tasks`` reads (id, state).
SQUEUE_TASKS_FORMAT: str
#: The ``squeue -o`` format ``find_slurm_submissions("squeue", ...)`` reads (id, comment, command).
SQUEUE_MARKS_FORMAT: str
#: The ``sacct -X -n -P -o`` fields ``find_slurm_submissions("sacct", ...)`` reads.
SACCT_MARKS_FIELDS: str
#: The ``qsub -ac`` context variable that marks a Grid Engine job as molq's (``molq=<job_id>``).
SGE_MARK_VARIABLE: str
#: The ``qsub -v`` variable that marks a PBS job as molq's (``MOLQ_JOB_ID=<job_id>``).
PBS_MARK_VARIABLE: str
#: What precedes the job id in the ``bsub -Jd`` description that marks an LSF job as molq's.
LSF_MARK: str
#: The ``bjobs -o`` argument ``find_lsf_submissions`` reads (id, description).
BJOBS_MARKS_FORMAT: str

@final
class ActiveJob:
    """One job to poll. Also reads as the 4-tuple
    ``(job_id, scheduler_job_id, job_dir, submitted_at)`` of earlier releases."""

    def __new__(
        cls, job_id: str, scheduler_job_id: str, job_dir: str = ..., submitted_at: float = 0.0
    ) -> ActiveJob: ...
    @property
    def job_id(self) -> str: ...
    @property
    def scheduler_job_id(self) -> str: ...
    @property
    def job_dir(self) -> str: ...
    @property
    def submitted_at(self) -> float:
        """When it was submitted (0.0 if unknown)."""
    def as_tuple(self) -> tuple[str, str, str, float]: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int | slice, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class ActiveJobs:
    """The active jobs of one cluster, as an immutable sequence of ``ActiveJob``."""

    def __new__(
        cls, jobs: Sequence[ActiveJob | tuple[str, str, str, float]] = ..., cluster_name: str = ""
    ) -> ActiveJobs: ...
    @property
    def cluster_name(self) -> str: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int, /) -> ActiveJob: ...
    def __iter__(self) -> Iterator[ActiveJob]: ...
    def __bool__(self) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...
    def scheduler_job_ids(self) -> list[str]:
        """The scheduler ids, in order."""
    def oldest_submitted_at(self) -> float | None:
        """The earliest known submit time (None: none is known)."""
    def unsettled_by(self, queue: Snapshot) -> ActiveJobs:
        """Those ``queue`` does not show, or shows finished without an exit code."""

@final
class NewJob:
    """A job to register (state created), by named fields."""

    def __new__(
        cls,
        *,
        job_id: str,
        cluster_name: str,
        scheduler: str,
        command_type: str = ...,
        command_display: str = ...,
        cwd: str = ...,
        job_dir: str = ...,
        root_job_id: str = ...,
        attempt: int = 1,
        previous_attempt_job_id: str | None = None,
        retry_group_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        request_json: str | None = None,
        retry_json: str | None = None,
        profile_name: str | None = None,
        array: bool = False,
    ) -> NewJob: ...
    @property
    def job_id(self) -> str: ...
    @property
    def cluster_name(self) -> str: ...
    @property
    def scheduler(self) -> str: ...
    @property
    def attempt(self) -> int: ...
    @property
    def array(self) -> bool:
        """A job array (its scheduler id names the whole array)."""

@final
class ArrayTask:
    """One task of an array job as last observed. Also reads as the tuple
    ``(task_id, state, exit_code, exit_signal, started_at, finished_at)``."""

    @property
    def task_id(self) -> str: ...
    @property
    def state(self) -> JobState: ...
    @property
    def exit_code(self) -> int | None: ...
    @property
    def exit_signal(self) -> int | None: ...
    @property
    def started_at(self) -> float | None: ...
    @property
    def finished_at(self) -> float | None: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int | slice, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class PollStatus:
    """The shared polling state of one cluster. Also reads as the tuple
    ``(holder, lease_until, last_attempt_at, last_poll_at, failures, last_error)``."""

    @property
    def holder(self) -> str | None:
        """Who polls right now (None: nobody)."""
    @property
    def lease_until(self) -> float | None: ...
    @property
    def last_attempt_at(self) -> float | None:
        """When the last poll began, successful or not."""
    @property
    def last_poll_at(self) -> float | None:
        """When the last successful poll began."""
    @property
    def failures(self) -> int:
        """Failed polls in a row (the interval backs off with them)."""
    @property
    def last_error(self) -> str | None: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int | slice, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class JobRecord:
    """An immutable snapshot of one stored job."""

    FIELDS: ClassVar[tuple[str, ...]]

    def __new__(
        cls,
        job_id: str,
        cluster_name: str,
        scheduler: str,
        state: JobState | str,
        scheduler_job_id: str | None = None,
        submitted_at: float | None = None,
        started_at: float | None = None,
        finished_at: float | None = None,
        exit_code: int | None = None,
        failure_reason: str | None = None,
        cwd: str = "",
        command_type: str = "",
        command_display: str = "",
        metadata: dict[str, str] | None = None,
        root_job_id: str = "",
        attempt: int = 1,
        previous_attempt_job_id: str | None = None,
        retry_group_id: str | None = None,
        profile_name: str | None = None,
        cleaned_at: float | None = None,
        job_dir: str = "",
        exit_signal: int | None = None,
        retry_due_at: float | None = None,
        retry_state: str | None = None,
    ) -> JobRecord: ...
    @property
    def job_id(self) -> str: ...
    @property
    def cluster_name(self) -> str: ...
    @property
    def scheduler(self) -> str: ...
    @property
    def state(self) -> JobState: ...
    @property
    def scheduler_job_id(self) -> str | None: ...
    @property
    def submitted_at(self) -> float | None: ...
    @property
    def started_at(self) -> float | None: ...
    @property
    def finished_at(self) -> float | None: ...
    @property
    def exit_code(self) -> int | None: ...
    @property
    def exit_signal(self) -> int | None: ...
    @property
    def failure_reason(self) -> str | None: ...
    @property
    def cwd(self) -> str: ...
    @property
    def command_type(self) -> str: ...
    @property
    def command_display(self) -> str: ...
    @property
    def metadata(self) -> dict[str, str]:
        """A fresh dict on every access (parsed from the stored JSON)."""
    @property
    def root_job_id(self) -> str: ...
    @property
    def attempt(self) -> int: ...
    @property
    def previous_attempt_job_id(self) -> str | None: ...
    @property
    def retry_group_id(self) -> str | None: ...
    @property
    def profile_name(self) -> str | None: ...
    @property
    def cleaned_at(self) -> float | None: ...
    @property
    def job_dir(self) -> str: ...
    @property
    def retry_due_at(self) -> float | None:
        """When a scheduled retry of this attempt becomes due (None: no retry pending)."""
    @property
    def retry_state(self) -> RetryState | None:
        """None, "scheduled" (due at retry_due_at), "claimed" (being resubmitted),
        "done" (the next attempt exists) or "cancelled"."""
    @property
    def settled(self) -> bool:
        """Terminal, with no retry about to replace it (waits end on this)."""
    def to_dict(self) -> dict[str, object]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    # Dataclass-like face (molq._dataclass_face), set when molq is imported.
    __match_args__: ClassVar[tuple[str, ...]]
    def __replace__(self, **changes: Any) -> JobRecord: ...

@final
class StatusTransition:
    def __new__(
        cls,
        job_id: str,
        old_state: JobState | str | None,
        new_state: JobState | str,
        timestamp: float,
        reason: str | None = None,
    ) -> StatusTransition: ...
    @property
    def job_id(self) -> str: ...
    @property
    def old_state(self) -> JobState | None: ...
    @property
    def new_state(self) -> JobState: ...
    @property
    def timestamp(self) -> float: ...
    @property
    def reason(self) -> str | None: ...
    def __eq__(self, value: object, /) -> bool: ...
    __match_args__: ClassVar[tuple[str, ...]]
    def __replace__(self, **changes: Any) -> StatusTransition: ...

@final
class QueueEntry:
    """One row of the scheduler's own queue (includes jobs molq did not submit)."""

    def __new__(
        cls,
        scheduler_job_id: str,
        name: str | None = None,
        user: str | None = None,
        state: JobState | str | None = None,
        raw_state: str = "",
        partition: str | None = None,
        submit_time: float | None = None,
        start_time: float | None = None,
    ) -> QueueEntry: ...
    @property
    def scheduler_job_id(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def user(self) -> str | None: ...
    @property
    def state(self) -> JobState: ...
    @property
    def raw_state(self) -> str: ...
    @property
    def partition(self) -> str | None: ...
    @property
    def submit_time(self) -> float | None: ...
    @property
    def start_time(self) -> float | None: ...
    __match_args__: ClassVar[tuple[str, ...]]
    def __replace__(self, **changes: Any) -> QueueEntry: ...

@final
class Snapshot:
    """Parsed scheduler evidence: one observation per scheduler job id.

    Opaque on purpose: it crosses into ``JobStore.reconcile`` without being
    turned into Python objects.
    """

    @staticmethod
    def from_observations(
        rows: Sequence[tuple[str, str, int | None, str | None, float | None, float | None]],
    ) -> Snapshot:
        """Rows of (scheduler_job_id, state, exit_code, reason, started_at, finished_at).

        ``state`` is a molq state name (``"running"``...). Used by fakes and tests.
        """
    def __len__(self) -> int: ...
    def __contains__(self, key: object, /) -> bool: ...
    @property
    def skipped(self) -> list[tuple[str, str]]:
        """Lines the parser could not use, as (line, reason)."""
    def missing(self, scheduler_job_ids: list[str]) -> list[str]:
        """The given ids that have no observation here, in the given order."""
    def needs_accounting(self, scheduler_job_ids: list[str]) -> list[str]:
        """The given ids to ask accounting about, in the given order: those with
        no observation, and those observed finished without an exit code."""
    def states(self) -> dict[str, JobState]:
        """scheduler_job_id -> state (for diagnostics and tests)."""
    def entries(self) -> list[QueueEntry]: ...
    def merged(self, other: Snapshot) -> Snapshot:
        """A new snapshot with both sets of observations (``other`` wins on clashes)."""

def parse_queue(kind: str, data: bytes) -> Snapshot:
    """Parse a queue listing. kinds: ``"shell"`` (the local backend's status lines,
    ``<id>|<status>|<exit>|<start>|<end>[|<cause>]``: queued with why it waits,
    running, exited, with ``time:<s>`` or ``memory:<limit_kib>:<peak_kib>`` when
    a limit stopped it, cancelled, with ``dependency:<text>``, vanished),
    ``"slurm"`` (``squeue -h -o SQUEUE_FORMAT``), ``"pbs"`` (``qstat -f -F json``,
    ``qstat -f`` text or the default table, told apart by their first bytes),
    ``"lsf"`` (``bjobs -noheader -o BJOBS_FORMAT`` or ``bjobs -json``), ``"sge"``
    (``qstat -xml``). PBS, LSF and Grid Engine times are read as UTC (run them
    with ``TZ=UTC``). The JSON forms may be several documents back to back.
    bjobs prints times without a year: a first line ``#now <epoch seconds>``
    lets the "lsf" parsers place them (the core reads no clock).

    A job array is observed per task (``"49_1"``) and as a whole under the
    array's own id (``"49"``); collapsed pending tasks (``"49_[2-5]"``) are kept
    as printed. Unreadable lines and unknown native states are in ``skipped``.
    """

def parse_accounting(kind: str, data: bytes) -> Snapshot:
    """Parse accounting output. kinds: ``"slurm"`` (``sacct -n -P -o SACCT_FIELDS``,
    with or without -X: step lines are ignored), ``"pbs"`` (``qstat -x -f -F json``
    or ``tracejob`` sections), ``"lsf"`` (bjobs as above, or ``bhist -l``),
    ``"sge"`` (``qacct -j`` blocks). ``"shell"`` raises ParseError."""

def classify_store_file(path: str) -> tuple[str, int | None, list[str]]:
    """What the SQLite file at ``path`` is, read-only: ("empty", 0, []),
    ("molq", version, []), ("original-molq", None, []) or ("foreign", None,
    tables). The check JobStore makes before it writes to a file."""

def parse_submit_id(kind: str, data: bytes) -> str:
    """The job id from a submit command's stdout (``"shell"``: the launcher's pid
    line; ``"slurm"``: ``sbatch --parsable``, ``70`` or ``70;cluster``; ``"pbs"``:
    ``123.server`` -> ``123``, ``123[].server`` -> ``123[]``; ``"lsf"``: ``Job <123>
    is submitted ...``; ``"sge"``: ``qsub -terse``, ``123`` or ``123.1-4:1`` -> ``123``)."""

@final
class CancelOutcome:
    """What a cancel command's answer means (see ``parse_cancel``)."""

    @property
    def outcome(self) -> str:
        """``"cancelled"`` (the scheduler took the request), ``"already_ended"``
        (the job was over, or is unknown) or ``"refused"``."""
    @property
    def message(self) -> str | None:
        """What the scheduler said when it refused (stderr, else stdout); None otherwise."""

def parse_cancel(kind: str, returncode: int, stdout: bytes, stderr: bytes) -> CancelOutcome:
    """Read a cancel command's exit code and outputs: ``"slurm"`` (``scancel
    --verbose``), ``"pbs"`` (``qdel``), ``"lsf"`` (``bkill``), ``"sge"``
    (``qdel``); ``"shell"`` looks at the exit code only."""

def classify_submit_refusal(kind: str, stderr: bytes) -> str:
    """``"transient"`` (the scheduler cannot take jobs just now: Slurm's
    controller down or busy) or ``"refused"``, from a failed submit command's stderr."""

def only_unknown_ids(kind: str, stderr: bytes) -> bool:
    """Whether a query of ids that failed (exit code not 0) failed only over ids
    the scheduler does not know or no longer lists, so that its stdout is a
    complete answer for the others: ``"slurm"`` (``squeue -j`` of one such id),
    ``"pbs"`` (qstat/qdel: every stderr line names one), ``"lsf"`` (bjobs, bhist
    likewise); False for other kinds."""

def parse_slurm_live_tasks(data: bytes) -> dict[str, str]:
    """Slurm id (``<id>_<task>`` for array tasks) -> state word, of the lines of
    ``squeue -h -r -o SQUEUE_TASKS_FORMAT`` in a state that has not ended."""

def find_slurm_submissions(source: str, data: bytes, jobs: list[tuple[str, str]]) -> dict[str, str]:
    """job_id -> Slurm id (an array's own id) of the jobs ``jobs`` (job_id, path
    of its batch script or ``""``) that a listing shows by their ``molq:<job_id>``
    comment or their script; ``source`` ``"squeue"`` (``-o SQUEUE_MARKS_FORMAT``:
    the command is the script) or ``"sacct"`` (``-o SACCT_MARKS_FIELDS``: the
    submit line ends with it). The first line naming a job wins."""

def find_sge_submissions(data: bytes, jobs: list[tuple[str, str]]) -> dict[str, str]:
    """job_id -> Grid Engine job number (an array's own) of the jobs ``jobs``
    (job_id, path of its job script or ``""``) that ``qstat -j '*'`` shows by
    their ``molq=<job_id>`` context (``qsub -ac``) or their script. The first
    block naming a job wins."""

def find_pbs_submissions(data: bytes, job_ids: list[str]) -> dict[str, str]:
    """job_id -> PBS id (``123``; ``123[]`` for an array) of the jobs ``job_ids``
    that a ``qstat -f`` listing (PBS Pro ``-F json`` or text) shows by their
    ``MOLQ_JOB_ID`` variable. The first job naming one wins."""

def find_lsf_submissions(data: bytes, job_ids: list[str]) -> dict[str, str]:
    """job_id -> LSF job id of the jobs ``job_ids`` that ``bjobs -noheader -o
    BJOBS_MARKS_FORMAT`` shows by their ``molq:<job_id>`` description."""

@final
class ArrayDirective:
    """What a scheduler's array option takes of an array specification."""

    @property
    def indices(self) -> str:
        """The index list as written (``"1-10:2"``, ``"1,3,5"``)."""
    @property
    def throttle(self) -> int | None:
        """``%N``: at most N tasks at once; None if not throttled."""

def array_directive(dialect: str, spec: str) -> ArrayDirective:
    """Check ``spec`` (``1-10``, ``1,3,5-7``, ``0-15:4``, each optionally ``%N``)
    against the array syntax of ``dialect``: ``"slurm"``, ``"torque"`` and
    ``"lsf"`` take lists, ``"pbspro"`` one range ``X-Y[:step]``, ``"sge"`` one
    ``n[-m[:step]]``. Raises ConfigError when that scheduler cannot take it."""

def array_task_ids(spec: str) -> tuple[list[int], int | None]:
    """The task ids ``spec`` names (ascending, each once) and its ``%N``
    throttle, for arrays molq runs itself (the local scheduler). Raises
    ConfigError when ``spec`` is not an index list or names over 100,000 tasks."""

def import_original_store(
    store_path: str | os.PathLike[str], source_path: str | os.PathLike[str], now: float, busy_timeout_ms: int = 30000
) -> dict[str, Any]:
    """Open (creating) the molq store at ``store_path`` and import the original
    molq's store at ``source_path`` (opened read-only) in one transaction.
    Counts: source_schema, jobs, transitions, dependencies, allocations,
    duplicate_jobs, duplicate_allocations, orphans; lists: active_jobs,
    unknown_states. Raises StoreError (not an original store, newer schema,
    locked, missing)."""

@final
class ReconcileOutcome:
    @property
    def transitions(self) -> list[StatusTransition]: ...
    @property
    def retries_scheduled(self) -> list[str]:
        """Job ids that got a retry due time in this cycle."""
    @property
    def missing(self) -> list[str]:
        """Job ids seen in neither queue nor accounting (counted toward LOST)."""

@final
class JobStore:
    """The SQLite job store (WAL, busy timeout, schema migrations).

    Every method runs with the GIL released. Raises ``molq.errors.StoreError``
    for a corrupt file, a newer schema, or a database that stays locked.
    """

    def __new__(cls, path: str, busy_timeout_ms: int = 30000) -> JobStore: ...
    @property
    def path(self) -> str: ...
    def close(self) -> None: ...
    def schema_version(self) -> int: ...
    # -- submit (each call is one transaction) ---------------------------------
    def register_job(
        self,
        job: NewJob | dict[str, object],
        dependencies: list[tuple[str, str, str]],
        now: float,
        max_in_flight: int | None = None,
        partition_caps: list[tuple[str, int]] | None = None,
    ) -> str | None:
        """Insert a job in state CREATED, its None->created transition and its
        dependency edges (dependency_job_id, dependency_type, scheduler_dependency).
        Under a cap on the cluster's jobs in flight a job that does not fit is
        registered held (QUEUED, no scheduler id) and the reason returned.

        ``job`` keys: job_id, cluster_name, scheduler, root_job_id, attempt,
        previous_attempt_job_id, retry_group_id, command_type, command_display,
        cwd, job_dir, metadata (dict[str,str]), request_json (str),
        retry_json (str | None), profile_name (str | None), array (bool: a job
        array, whose scheduler id names the whole array; only observations
        folded from its tasks' lines then count as evidence about it).
        A duplicate job_id raises StoreError and writes nothing.
        """
    def mark_submitted(self, job_id: str, scheduler_job_id: str, now: float) -> StatusTransition | None:
        """CAS created -> submitted, set scheduler id and submitted_at. None if not CREATED."""
    def mark_failed(self, job_id: str, reason: str, now: float, *, retry: bool = False) -> StatusTransition | None:
        """CAS any non-terminal -> failed with reason and finished_at (submission failure).

        ``retry``: a passing failure; the retry its stored policy gives is
        scheduled in the same transaction."""
    def cancel(self, job_id: str, reason: str, now: float) -> StatusTransition | None:
        """CAS any non-terminal -> cancelled (finished_at=now). None if already terminal.
        Also drops a pending retry of that job."""
    # -- reconcile ---------------------------------------------------------------
    def active_jobs(self, cluster_name: str, reuse: ActiveJobs | None = None) -> ActiveJobs:
        """The non-terminal jobs that have a scheduler id, oldest submission
        first (kept native: no Python object per job until one is read).
        ``reuse``, the set of the cluster's last refresh, is returned as is
        when no job row was written since it was read."""
    def reconcile(
        self,
        cluster_name: str,
        queue: Snapshot,
        accounting: Snapshot | None,
        now: float,
        lost_after_seconds: float = 60.0,
        lost_after_polls: int = 3,
        active: ActiveJobs | None = None,
    ) -> ReconcileOutcome:
        """Plan and apply one cycle in ONE transaction (a read only, when
        nothing changes). ``active``: the set this cycle polled, from
        ``active_jobs``; its rows are planned from as read when nothing was
        written to the store since.

        ``accounting=None`` means no accounting evidence was obtainable: jobs
        missing from ``queue`` are then left untouched. With accounting, a job
        found in neither is counted missing; it becomes LOST only after
        ``lost_after_polls`` such cycles spanning ``lost_after_seconds``.
        Terminal transitions whose retry policy matches get ``retry_due_at``.
        """
    def claim_due_retries(
        self, cluster_name: str, now: float, holder: str = "", dead_holders: list[str] = ...
    ) -> list[str]:
        """Atomically claim for ``holder`` the job ids whose retry is due (each
        claimed once): retry_state scheduled -> claimed. First gives back the
        claims of ``dead_holders`` (done if their next attempt exists, else
        scheduled again) and claims that name no holder (made before schema 4)."""
    def retry_claim_holders(self, cluster_name: str) -> list[str]:
        """The holders of the cluster's retry claims now."""
    def schedule_retry(self, job_id: str, due_at: float) -> bool:
        """An ended attempt with no retry (or a claimed one) -> retry scheduled at ``due_at``."""
    def take_over_poll(self, cluster_name: str, dead: str, holder: str, now: float, lease_seconds: float) -> bool:
        """Take the poll lease from ``dead`` (a holder known to have died); False if it no longer holds it."""
    def finish_retry(self, job_id: str) -> None:
        """retry_state claimed -> done (called once the next attempt is registered)."""
    # -- reads -------------------------------------------------------------------
    # -- shared polling ------------------------------------------------------------
    def begin_poll(
        self,
        cluster_name: str,
        holder: str,
        now: float,
        min_interval: float,
        lease_seconds: float,
        force: bool = False,
    ) -> bool:
        """Become the one poller of the cluster now: False while another
        holder's lease runs or (unless force) when the last attempt is more
        recent than min_interval (doubled per failure in a row, up to 64x)."""
    def end_poll(self, cluster_name: str, holder: str, error: str | None = None) -> None:
        """End the holder's poll; error None records a success."""
    def poll_status(self, cluster_name: str) -> PollStatus | None:
        """The cluster's shared polling state (None: never polled through this store)."""
    def find_by_prefix(self, prefix: str, cluster_name: str | None = None, limit: int = 50) -> list[str]:
        """Up to ``limit`` job ids starting with ``prefix``, sorted (a key range scan)."""
    def stale_created(self, cluster_name: str, before: float) -> list[tuple[str, str]]:
        """(job_id, job_dir) of jobs still CREATED since before ``before``."""
    def interrupted_submissions(self, cluster_name: str, before: float) -> list[tuple[str, str, float]]:
        """(job_id, job_dir, handed over at) of jobs handed over before
        ``before`` without a recorded scheduler id (CREATED, or claimed held)."""
    # -- jobs in flight and the pace of scheduler commands ----------------------
    def claim_held(
        self,
        cluster_name: str,
        now: float,
        holder: str,
        max_in_flight: int | None = None,
        partition_caps: list[tuple[str, int]] | None = None,
    ) -> list[str]:
        """Claim for ``holder`` the held jobs that fit under the caps now, oldest first."""
    def cancel_held(self, job_id: str, reason: str, now: float) -> StatusTransition | None:
        """Held -> cancelled in the store only; None when the job is not held."""
    def hold_again(self, job_id: str) -> bool:
        """A claimed job back to the hold, in its place (a passing failure to hand it over)."""
    def in_flight(self, cluster_name: str, partition: str | None = None) -> int: ...
    def is_held(self, job_id: str) -> bool: ...
    def take_command_token(self, cluster_name: str, now: float, per_second: float, burst: float) -> float:
        """0.0 when a command token was taken, else the seconds until one is due."""
    def get_job(self, job_id: str) -> JobRecord | None: ...
    def get_jobs(self, job_ids: list[str]) -> list[JobRecord]: ...
    def get_latest_attempt(self, job_id: str) -> JobRecord | None:
        """The newest attempt of the retry family that ``job_id`` belongs to."""
    def list_jobs(
        self,
        cluster_name: str | None,
        include_terminal: bool = False,
        limit: int | None = None,
    ) -> list[JobRecord]:
        """Ordered by submitted_at DESC. ``cluster_name=None``: every cluster."""
    def count_active(self, cluster_name: str) -> int: ...
    def get_transitions(self, job_id: str) -> list[StatusTransition]: ...
    def get_array_tasks(self, job_id: str) -> list[ArrayTask]:
        """The tasks of an array job as last observed, ordered by task number."""
    def get_retry_family(self, job_id: str) -> list[JobRecord]: ...
    def get_request_json(self, job_id: str) -> str | None: ...
    def get_dependencies(self, job_id: str) -> list[tuple[str, str, str, str]]:
        """Edges where job_id is the child: (job_id, dependency_job_id, dependency_type, scheduler_dependency)."""
    def get_dependents(self, job_id: str) -> list[tuple[str, str, str, str]]:
        """Edges where job_id is the parent."""
    # -- retention -----------------------------------------------------------------
    def cleanup_candidates(
        self,
        cluster_name: str,
        job_dir_cutoff: float,
        record_cutoff: float,
        keep_failed_job_dirs: bool,
    ) -> tuple[list[JobRecord], list[JobRecord]]:
        """(records whose job dir may be removed, records that may be deleted)."""
    def mark_cleaned(self, job_ids: list[str], now: float) -> None: ...
    def delete_records(self, job_ids: list[str]) -> int:
        """Delete jobs with their transitions, array tasks and dependency edges; one transaction."""
    # -- the original molq's writes (molq.store.JobStore wraps them) ------------
    def update_fields(self, job_id: str, fields: dict[str, object]) -> None:
        """Set the named job fields (state, scheduler_job_id, submitted_at, started_at,
        finished_at, last_polled, exit_code, failure_reason, cleaned_at); an unknown
        job raises JobNotFoundError, an unknown field ValueError, a wrong kind TypeError."""
    def compare_and_update(
        self, job_id: str, expected: JobState | str, new_state: JobState | str, fields: Mapping[str, object]
    ) -> bool:
        """expected -> new_state with ``fields``, only if the state is still ``expected``."""
    def record_transition(
        self,
        job_id: str,
        old_state: JobState | str | None,
        new_state: JobState | str,
        timestamp: float,
        reason: str | None = None,
    ) -> None: ...
    def add_dependencies(self, job_id: str, dependencies: list[tuple[str, str, str]]) -> None:
        """Edges (dependency_job_id, dependency_type, scheduler_dependency) of ``job_id``."""
    def mark_polled(self, job_ids: list[str], timestamp: float) -> None: ...
    def record_allocation(
        self,
        cluster_name: str,
        partition: str | None,
        account: str | None,
        qos: str | None,
        reservation: str | None,
        now: float,
        label: str | None = None,
    ) -> None:
        """Count one use of this combination (nothing when all four are None)."""
    def list_allocations(
        self, cluster_name: str, limit: int | None = None
    ) -> list[tuple[str | None, str | None, str | None, str | None, str | None, float, int]]:
        """(partition, account, qos, reservation, label, last_used, use_count), newest first."""
