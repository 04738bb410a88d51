# Sourced by the PostgreSQL scripts: sets PG_BIN to the folder of initdb/pg_ctl, or to
# "" when PostgreSQL is not installed. $WATTPRINT_PG_BIN wins; then the newest Debian
# /usr/lib/postgresql/<major>/bin; then initdb on the PATH.
PG_BIN="${WATTPRINT_PG_BIN:-}"
if [ -z "$PG_BIN" ]; then
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
fi
if [ -z "$PG_BIN" ] && command -v initdb >/dev/null 2>&1; then
  PG_BIN="$(dirname "$(command -v initdb)")"
fi
if [ -n "$PG_BIN" ] && [ ! -x "$PG_BIN/initdb" ]; then
  PG_BIN=""
fi
