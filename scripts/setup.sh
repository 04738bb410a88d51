#!/usr/bin/env bash
# Create ./.venv and install wattprint with the extras named in $WATTPRINT_EXTRAS.
# Idempotent: a second run with the same pyproject.toml and extras installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${WATTPRINT_EXTRAS:-torch}
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml scripts/constraints.txt | sha1sum | cut -c1-12)-${extras//,/_}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet --constraint scripts/constraints.txt -e ".[${extras}]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
