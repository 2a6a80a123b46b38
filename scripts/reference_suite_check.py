"""Check a run of the original molq's test suite against molq's deviation list.

Usage: reference_suite_check.py JUNIT_XML DEVIATIONS_DIR

Every failing test must be listed, with an accepted kind of reason, in one of
DEVIATIONS_DIR/*.toml (see the README there). Prints the counts; exits 1 on a
failure that is not listed, a listed test that does not exist, or a reason of
an unaccepted kind. A listed test that passes is reported, so the list shrinks.
"""

from __future__ import annotations

import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

ACCEPTED_REASONS = ("private:", "fault §23.", "lifted:")


def node_id(classname: str, name: str) -> str:
    """pytest's node id from a junit testcase: tests.test_x.TestY + test_z ->
    tests/test_x.py::TestY::test_z."""
    if not classname:  # a collection error names the module in `name`
        return name.replace(".", "/") + ".py"
    parts = classname.split(".")
    module_end = next(
        (i for i, part in enumerate(parts) if part.startswith("test_")), len(parts) - 1
    )
    path = "/".join(parts[: module_end + 1]) + ".py"
    return "::".join([path, *parts[module_end + 1 :], name])


def read_outcomes(junit: Path) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        nid = node_id(case.get("classname", ""), case.get("name", ""))
        if case.find("failure") is not None or case.find("error") is not None:
            outcomes[nid] = "failed"
        elif case.find("skipped") is not None:
            outcomes[nid] = "skipped"
        else:
            outcomes[nid] = "passed"
    return outcomes


def read_deviations(folder: Path) -> tuple[dict[str, str], list[str]]:
    deviations: dict[str, str] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        for test, reason in tomllib.loads(path.read_text()).items():
            if not isinstance(reason, str) or not reason.startswith(ACCEPTED_REASONS):
                problems.append(f"{path.name}: {test}: reason must start with one of {ACCEPTED_REASONS}")
            elif test in deviations:
                problems.append(f"{path.name}: {test} is listed twice")
            deviations[test] = str(reason)
    return deviations, problems


def main(junit: Path, folder: Path) -> int:
    outcomes = read_outcomes(junit)
    deviations, problems = read_deviations(folder)
    failed = sorted(t for t, o in outcomes.items() if o == "failed")
    unexpected = [t for t in failed if t not in deviations]
    missing = sorted(t for t in deviations if t not in outcomes)
    stale = sorted(t for t in deviations if outcomes.get(t) == "passed")
    counts = {o: sum(1 for v in outcomes.values() if v == o) for o in ("passed", "failed", "skipped")}

    print(
        f"original suite: {len(outcomes)} tests, {counts['passed']} passed, "
        f"{counts['failed']} failed ({len(failed) - len(unexpected)} on the deviation list), "
        f"{counts['skipped']} skipped; {len(deviations)} deviations listed"
    )
    for test in stale:
        print(f"  listed but passes now (remove it from the list): {test}")
    for problem in problems:
        print(f"  bad deviation entry: {problem}")
    for test in missing:
        print(f"  listed but not in the suite: {test}")
    for test in unexpected:
        print(f"  FAILED, not on the deviation list: {test}")
    return 1 if unexpected or problems or missing else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
