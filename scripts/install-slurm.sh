#!/usr/bin/env bash
# Install Debian's slurm-wlm (single-node SLURM for the distributed tests) when it is
# missing. Idempotent; needs root. scripts/test.sh runs it before the tests, so the
# tests themselves never reach a package registry.
set -euo pipefail
if command -v slurmctld >/dev/null 2>&1 || [ -x /usr/sbin/slurmctld ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-slurm: not root: the SLURM tests will be skipped" >&2
  exit 3
fi
echo "install-slurm: installing slurm-wlm" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || { echo "install-slurm: apt-get update failed" >&2; exit 4; }
apt-get install -y -qq --no-install-recommends slurm-wlm >&2 \
  || { echo "install-slurm: apt-get install slurm-wlm failed" >&2; exit 4; }
