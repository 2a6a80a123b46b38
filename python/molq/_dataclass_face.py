"""Let the native value classes pass for frozen dataclasses.

``JobRecord``, ``StatusTransition`` and ``QueueEntry`` are built in Rust (a
list of 100,000 records costs one allocation per record), but the original
molq made them frozen dataclasses and programs call ``dataclasses.replace``,
``asdict``, ``fields`` and ``is_dataclass`` on them. Those functions only look
for ``__dataclass_fields__`` on the class and rebuild an instance with
``cls(**fields)``, which the native constructors accept, so giving the classes
that attribute is enough.

``import molq`` must not load ``dataclasses`` (it pulls in ``inspect``), so the
field table fills itself on first use; by then the caller has imported
``dataclasses`` anyway.
"""

from __future__ import annotations

from typing import Any

from molq import _core

__all__ = ["present_as_dataclass"]


class _LazyFields(dict):  # type: ignore[type-arg]
    """``__dataclass_fields__``: empty until something reads it."""

    __slots__ = ("_owner", "_factories", "_filled")

    def __init__(self, owner: type, factories: dict[str, Any]) -> None:
        super().__init__()
        self._owner = owner
        self._factories = factories
        self._filled = False

    def _fill(self) -> None:
        if self._filled:
            return
        import dataclasses  # deferred: dataclasses (with inspect) is slow to import
        import inspect  # deferred: inspect is slow to import

        for param in inspect.signature(self._owner).parameters.values():
            if param.name in self._factories:
                f = dataclasses.field(default_factory=self._factories[param.name])
            elif param.default is inspect.Parameter.empty:
                f = dataclasses.field()
            else:
                f = dataclasses.field(default=param.default)
            f.name = param.name
            f.type = "Any"
            f._field_type = dataclasses._FIELD  # type: ignore[attr-defined]
            dict.__setitem__(self, param.name, f)
        self._filled = True

    def __getitem__(self, key: str) -> Any:
        self._fill()
        return dict.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        self._fill()
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        self._fill()
        return dict.__contains__(self, key)

    def __iter__(self) -> Any:
        self._fill()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._fill()
        return dict.__len__(self)

    def __repr__(self) -> str:
        self._fill()
        return dict.__repr__(self)

    def keys(self) -> Any:
        self._fill()
        return dict.keys(self)

    def values(self) -> Any:
        self._fill()
        return dict.values(self)

    def items(self) -> Any:
        self._fill()
        return dict.items(self)


def _frozen_setattr(self: object, name: str, value: object) -> None:
    import dataclasses  # deferred: dataclasses (with inspect) is slow to import

    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    import dataclasses  # deferred: dataclasses (with inspect) is slow to import

    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


class _Params:
    """What ``__dataclass_params__`` tells: frozen, with eq, like the original's."""

    init = repr = eq = frozen = match_args = True
    order = unsafe_hash = kw_only = slots = weakref_slot = False

    def __repr__(self) -> str:
        return "_DataclassParams(init=True,repr=True,eq=True,order=False,unsafe_hash=False,frozen=True)"


def present_as_dataclass(cls: type, match_args: tuple[str, ...], factories: dict[str, Any] | None = None) -> None:
    """Give native ``cls`` the class attributes of a frozen dataclass.

    ``match_args`` are the positional fields (``match`` statements);
    ``factories`` names fields whose default is built per instance (``dict``).
    """
    cls.__dataclass_fields__ = _LazyFields(cls, factories or {})  # type: ignore[attr-defined]
    cls.__dataclass_params__ = _Params()  # type: ignore[attr-defined]
    cls.__match_args__ = match_args  # type: ignore[attr-defined, misc]
    cls.__setattr__ = _frozen_setattr  # type: ignore[method-assign,assignment]
    cls.__delattr__ = _frozen_delattr  # type: ignore[method-assign,assignment]
    cls.__replace__ = _replace  # type: ignore[attr-defined]
    cls.__reduce__ = _reduce  # type: ignore[method-assign,assignment]
    if "__eq__" not in cls.__dict__:  # equal by fields, as a frozen dataclass
        cls.__eq__ = _eq  # type: ignore[method-assign,assignment]
        cls.__hash__ = _hash  # type: ignore[method-assign,assignment]


def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(cls.__dataclass_fields__)  # type: ignore[attr-defined]


def _construct(cls: type, values: dict[str, Any]) -> object:
    """Rebuild a value from its fields (the target of ``__reduce__``)."""
    return cls(**values)


def _reduce(self: object) -> tuple[Any, ...]:
    # pickle, copy and deepcopy: rebuilt from the fields, like a dataclass.
    cls = type(self)
    return (_construct, (cls, {name: getattr(self, name) for name in _field_names(cls)}))


def _values(self: object) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in _field_names(type(self)))


def _eq(self: object, other: object) -> bool:
    if type(other) is not type(self):
        return NotImplemented  # type: ignore[no-any-return]  # the comparison protocol's "ask the other side"
    return _values(self) == _values(other)


def _hash(self: object) -> int:
    return hash(_values(self))


def _replace(self: object, **changes: Any) -> object:
    import dataclasses  # deferred: dataclasses (with inspect) is slow to import

    return dataclasses.replace(self, **changes)  # type: ignore[type-var]  # a dataclass by its face


def present_native_values() -> None:
    """Make ``JobRecord``, ``StatusTransition`` and ``QueueEntry`` dataclass-like."""

    present_as_dataclass(_core.JobRecord, ("job_id", "cluster_name", "scheduler", "state"), {"metadata": dict})
    present_as_dataclass(_core.StatusTransition, ("job_id", "old_state", "new_state", "timestamp", "reason"))
    present_as_dataclass(_core.QueueEntry, ("scheduler_job_id", "name", "user", "state"))
