#!/usr/bin/env bash
# Run every wattprint benchmark; results go to benchmarks/results/<name>.json.
#   benchmarks/run_all.sh            full runs (~9 min on a 2-core VM)
#   benchmarks/run_all.sh --quick    short loop_overhead / window_cost (~4 min)
# Extra arguments are passed to every script (only --quick is understood by all).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
py="${PYTHON:-$repo/.venv/bin/python}"
cd "$repo"
status=0
for name in import_time setup_cost window_cost memory loop_overhead; do
    echo "=== $name $* ==="
    if ! "$py" "benchmarks/$name.py" "$@"; then
        echo "!!! $name failed" >&2
        status=1
    fi
    echo
done
exit $status
