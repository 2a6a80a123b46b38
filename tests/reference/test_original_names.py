"""Every public name of the original molq 0.8.1 is there at its module path.

``original_public_names.json`` lists, for each public module of the original,
the names it offered that are molq's own (classes, functions and constants
defined in molq, including those the module imported from another molq
module), read off the installed original with ``dir()``. Its logger objects
and one private mixin (``SchemaMixin``) are left out.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

NAMES = json.loads((Path(__file__).with_name("original_public_names.json")).read_text())


@pytest.mark.parametrize("module", sorted(NAMES))
def test_module_offers_every_name_the_original_did(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [name for name in NAMES[module] if not hasattr(mod, name)]
    assert not missing, f"{module} lacks {missing}"


def test_a_carried_name_is_the_same_object_as_at_its_home() -> None:
    from molq.models import JobRecord
    from molq.store import JobStore
    from molq.submitor import JobRecord as carried_record
    from molq.submitor import JobStore as carried_store

    assert carried_record is JobRecord
    assert carried_store is JobStore


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    import molq.scheduler.slurm

    with pytest.raises(AttributeError, match="no_such_name"):
        molq.scheduler.slurm.no_such_name  # noqa: B018
