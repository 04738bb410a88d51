#!/usr/bin/env bash
# Stop the server started by scripts/pg-up.sh (its data stays in $WATTPRINT_PG_DIR for
# the next start). Idempotent.
set -uo pipefail
. "$(dirname "$0")/pg-bin.sh"
P="${WATTPRINT_PG_DIR:-/tmp/wattprint-pg}"
if [ -z "$PG_BIN" ] || [ ! -f "$P/data/postmaster.pid" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$P/data" -m fast -w stop >/dev/null 2>&1
else
  "$PG_BIN/pg_ctl" -D "$P/data" -m fast -w stop >/dev/null 2>&1
fi
exit 0
