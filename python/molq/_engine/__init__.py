"""The lifecycle engine behind ``Submitor``: submit, refresh, retries,
recovery of interrupted submissions, retention, the daemon and the shared
poll lease.

Everything here works on an :class:`~molq._engine.context.EngineContext`
(what a cluster's jobs need: store, scheduler, transport, defaults), never on
the public facades: nothing in this package imports ``molq.submitor``,
``molq.cluster``, ``molq.workspace`` or ``molq.cli`` (a test checks it).

Where to find a behaviour:

* ``engine``        the Engine a Submitor wraps: one method per lifecycle operation
* ``context``       what the engine knows about its cluster
* ``events``        lifecycle events of the engine's jobs (scoped to its own jobs)
* ``requests``      a submit request: checked, merged with defaults, resolved
* ``field_checks``  refusing fields no job could receive, before anything is written
* ``job_dir``       laying out a job's directory on the cluster
* ``handover``      handing a job to the scheduler (transient failures, lost answers)
* ``submit``        one submission, from registration to SUBMITTED (or held by molq)
* ``flight``        caps on jobs in flight; handing held jobs over once there is room
* ``pacing``        the cluster's rate limit on scheduler commands
* ``retries``       submitting the next attempt of due retries
* ``recovery``      jobs whose submitter died before their id was recorded
* ``refresh``       one refresh cycle against the scheduler (JobReconciler)
* ``poll_lease``    one poll per cluster per interval across threads and processes
* ``waits``         blocking waits (JobMonitor)
* ``retention``     removing old job directories and records
* ``daemon``        refreshing in the foreground until told to stop
"""

from __future__ import annotations
