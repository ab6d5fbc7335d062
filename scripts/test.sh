#!/usr/bin/env bash
# Quick start 2: set up, then run the whole test suite (CPU only; the Triton backend
# runs through Triton's interpreter). pytest's exit code 5 (no tests) is a failure here.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
export TRACEJIT_CACHE_DIR="${TRACEJIT_CACHE_DIR:-$PWD/.tracejit_cache}"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
status=$?
if [ $status -eq 5 ]; then
  echo "no tests were collected: treating as a failure"
  exit 1
fi
exit $status
