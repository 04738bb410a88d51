#!/usr/bin/env bash
# Start a one-node SLURM cluster (slurmctld + slurmd on localhost, munge auth) for the
# distributed tests (slurm-wlm installed by scripts/install-slurm.sh). Idempotent:
# reuses daemons that are already running. Needs root.
#
#   scripts/slurm-up.sh            # prints the SLURM_CONF to export on its last line
#   export SLURM_CONF=/tmp/wattprint-slurm/slurm.conf
#
# State (config, spool, logs, pid files) lives in $WATTPRINT_SLURM_DIR (default
# /tmp/wattprint-slurm). Stop it with scripts/slurm-down.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
S="${WATTPRINT_SLURM_DIR:-/tmp/wattprint-slurm}"
CPUS="${WATTPRINT_SLURM_CPUS:-2}"

if [ "$(id -u)" != 0 ]; then
  echo "slurm-up: needs root (slurmd runs jobs as their users)" >&2
  exit 3
fi

if ! command -v slurmctld >/dev/null 2>&1 && [ ! -x /usr/sbin/slurmctld ]; then
  echo "slurm-up: slurm-wlm is not installed: run scripts/install-slurm.sh (scripts/test.sh does)" >&2
  exit 4
fi

mkdir -p "$S/spool/ctld" "$S/spool/d" "$S/log" "$S/run"
sed -e "s#@STATE@#$S#g" -e "s#@CPUS@#$CPUS#g" "$here/slurm/slurm.conf.template" > "$S/slurm.conf"
export SLURM_CONF="$S/slurm.conf"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# munge: the key comes with the package; the daemon runs as munge.
if [ ! -f /etc/munge/munge.key ]; then
  (command -v mungekey >/dev/null && mungekey --create) || \
    (dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null)
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge && chown munge:munge /run/munge
if ! alive /run/munge/munged.pid; then
  runuser -u munge -- /usr/sbin/munged
fi

if ! alive "$S/run/slurmctld.pid"; then
  /usr/sbin/slurmctld -f "$S/slurm.conf"
fi
if ! alive "$S/run/slurmd.pid"; then
  /usr/sbin/slurmd -f "$S/slurm.conf" -N localhost
fi

for _ in $(seq 1 60); do
  state="$(sinfo -h -N -o '%T' 2>/dev/null | head -n1 || true)"
  case "$state" in
    idle|mixed|allocated) echo "$S/slurm.conf"; exit 0 ;;
  esac
  sleep 0.5
done
echo "slurm-up: the node did not become idle (last state: ${state:-none}); see $S/log" >&2
exit 5
