#!/usr/bin/env bash
# Install Debian's chromium (the browser the dashboard's Playwright tests drive) when it is
# missing. Idempotent; needs root. scripts/test.sh runs it before the tests, so the tests
# themselves never reach a package registry (nor run `playwright install`).
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
exec "$(dirname "$0")/apt-install.sh" chromium "the browser tests"
