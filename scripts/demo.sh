#!/usr/bin/env bash
# Quick start 1: set up, then compile a small model and compare it with NumPy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m tracejit.demo "$@"
