#!/usr/bin/env bash
# Set up ./.venv (first run: a few minutes, PyTorch included) and run `wattprint demo`:
# a small model trained under the tracker, then its energy per component and per epoch.
set -euo pipefail
cd "$(dirname "$0")/.."
WATTPRINT_EXTRAS=torch,dev scripts/setup.sh
exec .venv/bin/wattprint demo "$@"
