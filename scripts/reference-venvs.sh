#!/usr/bin/env bash
# Python 3.12 environments for checking molq against the original molq
# (molcrafts-molq on PyPI, which needs Python >= 3.12):
#
#   .reference/original   molcrafts-molq==0.8.1 itself (tests that write stores
#                         or start jobs with the original use its python)
#   .reference/ours       molq from this checkout + pytest, pytest-mock and
#                         typer, to run the original's own test suite
#   .reference/sdist      the 0.8.1 sdist, unpacked (its tests/ and docs/)
#
# Prints nothing on success. Exit 2 when no Python 3.12 can be found and 3 when
# PyPI cannot be reached, so callers can tell "cannot check" from "broken".
#
#   MOLQ_PY312=/path/to/python3.12   overrides the interpreter search
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.8.1
root=.reference

find_py312() {
  local candidate
  for candidate in "${MOLQ_PY312:-}" python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python /root/.pyenv/versions/3.12*/bin/python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

py312=$(find_py312) || { echo "reference-venvs: no Python 3.12 found (set MOLQ_PY312)" >&2; exit 2; }
mkdir -p "$root"

make_venv() { # dir, pip args...
  local dir=$1; shift
  if [ ! -x "$dir/bin/python" ]; then
    "$py312" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --upgrade pip >/dev/null ||
      { echo "reference-venvs: cannot reach PyPI" >&2; exit 3; }
  fi
  "$dir/bin/python" -m pip install -q "$@"
}

make_venv "$root/original" "molcrafts-molq==$version"
make_venv "$root/ours" pytest pytest-mock typer rich pyyaml  # rich, pyyaml: imported by the suite's test_dashboard.py and test_config.py
# The checkout's molq, built as a wheel like a user's install (abi3, so the
# 3.11 build is reused by cargo's cache).
"$root/ours/bin/python" -m pip install -q --force-reinstall --no-deps .

if [ ! -d "$root/sdist/molcrafts_molq-$version/tests" ]; then
  rm -rf "$root/sdist" && mkdir -p "$root/sdist"
  "$root/original/bin/python" -m pip download -q --no-deps --no-binary :all: \
    "molcrafts-molq==$version" -d "$root/sdist"
  tar -xzf "$root/sdist/molcrafts_molq-$version.tar.gz" -C "$root/sdist"
fi
