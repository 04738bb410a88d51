#!/usr/bin/env bash
# Stop the daemons started by scripts/slurm-up.sh, by the PIDs in their pid files.
# munged is left running (other tools on the machine may use it). Idempotent.
set -uo pipefail
S="${WATTPRINT_SLURM_DIR:-/tmp/wattprint-slurm}"
for name in slurmd slurmctld; do
  pidfile="$S/run/$name.pid"
  if [ -f "$pidfile" ]; then
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  fi
done
exit 0
