#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the store tests (postgresql installed by
# scripts/install-postgres.sh). Idempotent: reuses the server when it is already running.
#
#   scripts/pg-up.sh     # prints the server's SQLAlchemy URL on its last line:
#   postgresql+psycopg://postgres@127.0.0.1:55432/postgres
#
# The cluster (data, log, unix socket) lives in $WATTPRINT_PG_DIR (default
# /tmp/wattprint-pg) and listens on 127.0.0.1:$WATTPRINT_PG_PORT (default 55432) with
# trust authentication: for tests only. As root it runs as the postgres user (initdb
# refuses root); otherwise as the calling user. Stop it with scripts/pg-down.sh.
# Exit codes: 4 PostgreSQL is not installed, 5 the server did not start.
set -euo pipefail
. "$(dirname "$0")/pg-bin.sh"
P="${WATTPRINT_PG_DIR:-/tmp/wattprint-pg}"
PORT="${WATTPRINT_PG_PORT:-55432}"

if [ -z "$PG_BIN" ]; then
  echo "pg-up: PostgreSQL is not installed: run scripts/install-postgres.sh (scripts/test.sh does)" >&2
  exit 4
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$P"
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$P"
fi
if [ ! -f "$P/data/PG_VERSION" ]; then
  as_owner "$PG_BIN/initdb" -D "$P/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$P/initdb.log" 2>&1 \
    || { echo "pg-up: initdb failed:" >&2; tail -n 20 "$P/initdb.log" >&2; exit 5; }
fi
if ! as_owner "$PG_BIN/pg_ctl" -D "$P/data" status >/dev/null 2>&1; then
  # fsync off: a test server's data is thrown away, and it makes CREATE DATABASE fast.
  as_owner "$PG_BIN/pg_ctl" -D "$P/data" -l "$P/log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $P -c fsync=off -c full_page_writes=off" \
    start >/dev/null \
    || { echo "pg-up: the server did not start:" >&2; tail -n 20 "$P/log" >&2; exit 5; }
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
