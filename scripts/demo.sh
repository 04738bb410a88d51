#!/usr/bin/env bash
# Set up ./.venv (first run: a few minutes, PyTorch included), then the README's main job:
# the vision benchmark at quick size (train + serve 5 models, stored as one benchmark),
# its table, and a report with the plots in bench-report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
WATTPRINT_EXTRAS=torch,dev scripts/setup.sh
exec .venv/bin/wattprint bench --quick --report bench-report.html "$@"
