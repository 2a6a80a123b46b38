#!/usr/bin/env bash
# Run every molq test: the Rust core's tests, then the Python suite against an
# installed wheel. Integration tests run when their testbed is up (see
# scripts/slurm-up.sh) and are skipped with the reason otherwise.
#
#   scripts/test.sh                 everything
#   scripts/test.sh -k store        extra arguments go to pytest
#
# MOLQ_VENV picks the virtual environment (default .venv, created if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${MOLQ_VENV:-.venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q ".[test]"

echo "== mypy --strict (python/molq), ruff check, ruff format --check"
"$venv/bin/python" -m mypy
"$venv/bin/python" -m ruff check python tests benches
"$venv/bin/python" -m ruff format --check python tests benches

echo "== cargo fmt --check, cargo clippy -D warnings, cargo test (both crates)"
cargo fmt --all --check
cargo clippy -q --workspace --all-targets -- -D warnings
cargo test -q --workspace

echo "== environments of the original molq (Python 3.12, from PyPI)"
ref_rc=0
bash scripts/reference-venvs.sh || ref_rc=$?
if [ "$ref_rc" -eq 0 ]; then
  # Tests that write stores or start jobs with the original molq use this python.
  export MOLQ_REFERENCE_PYTHON="$PWD/.reference/original/bin/python"
elif [ "${MOLQ_REQUIRE_REFERENCE:-}" = 1 ]; then
  echo "MOLQ_REQUIRE_REFERENCE=1 but the original molq's environments could not be made" >&2
  exit 1
fi

echo "== pytest"
# Run from a directory without python/molq on the path, so the installed wheel is what gets tested.
status=0
"$venv/bin/python" -m pytest -q -p no:cacheprovider --rootdir=. tests "$@" || status=$?

echo "== the original molq's own test suite, against this molq"
bash scripts/reference-suite.sh --no-setup
exit "$status"
