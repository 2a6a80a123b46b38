"""Rows of a job store as records, and how a dependency edge stands.

``row_to_record`` reads one ``jobs`` row (a ``sqlite3.Row`` or any mapping by
column name, such as a row of the original molq's store) into a
``JobRecord``. The native store builds its records itself; this is for
programs and importers that read a store file with ``sqlite3``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from molq import _original_names
from molq._core import JobRecord
from molq.status import JobState
from molq.types import dependency_relation_state

__all__ = ["coerce_job_state", "dependency_relation_state", "row_to_record"]

#: Columns every row has.
_REQUIRED = ("job_id", "cluster_name", "scheduler")
#: Columns read as they are when the row has them (and they are not NULL);
#: the others need a word of translation below.
_AS_STORED = tuple(
    name for name in JobRecord.FIELDS if name not in (*_REQUIRED, "state", "metadata", "root_job_id", "attempt")
)


def coerce_job_state(value: str | None) -> JobState:
    """The state named ``value``; a missing or unknown name reads as LOST.

    A row written by a newer molq may hold a state this one does not know:
    the job is then shown, as lost, rather than making the whole list fail.
    """
    if value is None:
        return JobState.LOST
    try:
        return JobState(value)
    except ValueError:
        return JobState.LOST


def _column(row: Any, name: str) -> Any:
    keys = row.keys() if hasattr(row, "keys") else ()
    return row[name] if name in keys else None


def _metadata(raw: Any) -> dict[str, str]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    import json  # deferred: json only when JSON is read or written

    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def row_to_record(row: Any) -> JobRecord:
    """The ``JobRecord`` of one ``jobs`` row.

    ``metadata`` is read from its JSON text (missing or unreadable: ``{}``),
    a blank ``root_job_id`` means the job is its own root, and a missing
    ``attempt`` is the first.
    """

    job_id = row["job_id"]
    keys = set(row.keys()) if hasattr(row, "keys") else set()
    # A column the row lacks, or NULL, leaves the record's default ("" or None).
    values: dict[str, Any] = {name: row[name] for name in _AS_STORED if name in keys and row[name] is not None}
    return JobRecord(
        job_id=job_id,
        cluster_name=row["cluster_name"],
        scheduler=row["scheduler"],
        state=coerce_job_state(_column(row, "state")),
        metadata=_metadata(_column(row, "metadata")),
        root_job_id=_column(row, "root_job_id") or job_id,
        attempt=_column(row, "attempt") or 1,
        **values,
    )


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
