"""The module layout shows the architecture: a private lifecycle engine that
knows nothing of the public facades, and no import cycles anywhere."""

from __future__ import annotations

import pytest
from tests.architecture.import_graph import all_modules, cycles, graph, imports_of

FACADES = ("molq.submitor", "molq.cluster", "molq.workspace", "molq.cli")


def _is_facade(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FACADES)


def _reachable(start: str, edges: dict[str, set[str]]) -> dict[str, str]:
    """Every module ``start`` loads, directly or through others: module -> the one that imports it."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        module = todo.pop()
        for target in edges.get(module, ()):
            if target not in seen and target != start:
                seen[target] = module
                todo.append(target)
    return seen


def test_there_is_a_lifecycle_engine_package() -> None:
    modules = all_modules()
    for name in (
        "engine",
        "context",
        "events",
        "requests",
        "submit",
        "refresh",
        "waits",
        "retries",
        "recovery",
        "retention",
        "daemon",
        "poll_lease",
    ):
        assert f"molq._engine.{name}" in modules, name


@pytest.mark.parametrize("module", sorted(m for m in all_modules() if m.startswith("molq._engine")))
def test_the_engine_never_imports_the_public_facades(module: str) -> None:
    modules = all_modules()
    direct = [i for i in imports_of(module, modules) if _is_facade(i.target)]
    assert not direct, f"{module} imports {[(i.target, i.line) for i in direct]}"
    via = {target: by for target, by in _reachable(module, graph()).items() if _is_facade(target)}
    assert not via, f"{module} loads facades through other modules: {via}"


def test_molq_has_no_import_cycles() -> None:
    # imports inside functions count: they run all the same, only later
    assert cycles(graph()) == []


def test_the_import_graph_reader_sees_cycles_and_deferred_imports() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    modules = all_modules()
    submitor = imports_of("molq.submitor", modules)
    assert any(i.target == "molq._engine.engine" and i.deferred for i in submitor)
    assert any(i.target == "molq.cluster" and not i.deferred for i in submitor)


def test_the_engine_is_typed_with_the_scheduler_protocol_and_finds_no_hook_by_name() -> None:
    # every hook the engine calls is on the protocol, so none is looked up with getattr
    import inspect

    import molq._engine.handover as handover
    import molq._engine.recovery as recovery
    from molq.scheduler.base import Scheduler

    for module in (handover, recovery):
        source = inspect.getsource(module)
        for hook in ("find_submissions", "cancel_unrecorded"):
            assert f'"{hook}"' not in source, (module.__name__, hook)
    for hook in ("poll", "resolve_terminal_many", "cancel", "find_submissions", "cancel_unrecorded", "submit"):
        assert hook in Scheduler.__dict__, hook
