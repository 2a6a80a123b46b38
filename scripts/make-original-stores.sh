#!/usr/bin/env bash
# Write job stores with the original molq's own releases (molcrafts-molq from
# PyPI), for the store-import tests: tests/compat/fixtures/<version>/jobs.db
# and expected.json (what that release reads back from its own store).
#
#   bash scripts/make-original-stores.sh [version ...]
#
# Needs Python 3.12 (the original requires it): $PYTHON312, or pyenv's 3.12.1.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname -- "$here")
python312=${PYTHON312:-$HOME/.pyenv/versions/3.12.1/bin/python}
venvs=${MOLQ_ORIGINAL_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/molq-original-venvs}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(0.4.0 0.6.0 0.7.0 0.8.0 0.8.1)

for version in "${versions[@]}"; do
  venv=$venvs/$version
  if [ ! -x "$venv/bin/python" ]; then
    "$python312" -m venv "$venv"
    "$venv/bin/pip" install -q "molcrafts-molq==$version"
  fi
  scratch=$(mktemp -d)
  trap 'rm -rf -- "$scratch"' EXIT
  mkdir -p "$scratch/home" "$scratch/work"
  out=$repo/tests/compat/fixtures/$version
  rm -rf -- "$out"
  # A fresh HOME and MOLCRAFTS_HOME: 0.4 keeps its store under ~/.molq, later
  # releases under $MOLCRAFTS_HOME/molq/config.
  (cd "$scratch/work" && env -u MOLQ_HOME HOME="$scratch/home" MOLCRAFTS_HOME="$scratch/home/.molcrafts" \
    MOLQ_ORIGINAL_VERSION="$version" "$venv/bin/python" "$here/make_original_store.py" "$out")
  rm -rf -- "$scratch"
  trap - EXIT
done
