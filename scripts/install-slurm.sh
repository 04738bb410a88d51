#!/usr/bin/env bash
# Install Debian's slurm-wlm (single-node SLURM for the distributed tests) when it is
# missing. Idempotent; needs root. scripts/test.sh runs it before the tests, so the
# tests themselves never reach a package registry.
set -euo pipefail
if command -v slurmctld >/dev/null 2>&1 || [ -x /usr/sbin/slurmctld ]; then
  exit 0
fi
exec "$(dirname "$0")/apt-install.sh" slurm-wlm "the SLURM tests"
