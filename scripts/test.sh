#!/usr/bin/env bash
# Set up ./.venv and run the whole test suite (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
WATTPRINT_EXTRAS=torch,dev scripts/setup.sh
scripts/install-slurm.sh || true  # without root the SLURM tests skip, saying why
scripts/install-postgres.sh || true  # without PostgreSQL its store tests skip, saying why
scripts/install-chromium.sh || true  # without Chromium the browser tests skip, saying why
exec .venv/bin/python -m pytest "$@"
