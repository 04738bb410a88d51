#!/usr/bin/env bash
# Install Debian's postgresql (the server the store tests run against) when it is missing.
# Idempotent; needs root. scripts/test.sh runs it before the tests, so the tests
# themselves never reach a package registry.
set -euo pipefail
. "$(dirname "$0")/pg-bin.sh"
[ -n "$PG_BIN" ] && exit 0
exec "$(dirname "$0")/apt-install.sh" postgresql "the PostgreSQL store tests"
