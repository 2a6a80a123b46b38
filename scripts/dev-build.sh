#!/usr/bin/env bash
# Rebuild the Rust extension in place (python/molq/_core.abi3.so) for an
# editable checkout, so every venv that points at python/ sees it. Several
# people or agents may call this at once: a lock serialises the builds.
#
#   scripts/dev-build.sh            release build into .venv (MOLQ_VENV overrides)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${MOLQ_VENV:-.venv}
exec flock /tmp/molq-dev-build.lock env VIRTUAL_ENV="$PWD/$venv" PATH="$PWD/$venv/bin:$PATH" \
  maturin develop --release -q 2>&1
