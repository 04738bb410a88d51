#!/usr/bin/env bash
# Static checks: ruff (lint + format) on everything, mypy --strict on src/.
set -euo pipefail
cd "$(dirname "$0")/.."
WATTPRINT_EXTRAS=torch,dev scripts/setup.sh
.venv/bin/ruff check src tests benchmarks examples
.venv/bin/ruff format --check src tests benchmarks examples
.venv/bin/mypy
