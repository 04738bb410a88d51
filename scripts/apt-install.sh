#!/usr/bin/env bash
# apt-install.sh PACKAGE WHAT: install Debian's PACKAGE for WHAT (the tests that need it),
# as the install-*.sh scripts do once they found it missing. Needs root: without it, says
# which tests will be skipped and exits 3; a failed apt-get exits 4.
set -euo pipefail
package=$1 what=$2 me="install-$1"
if [ "$(id -u)" != 0 ]; then
  echo "$me: not root: $what will be skipped" >&2
  exit 3
fi
echo "$me: installing $package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || { echo "$me: apt-get update failed" >&2; exit 4; }
apt-get install -y -qq --no-install-recommends "$package" >&2 \
  || { echo "$me: apt-get install $package failed" >&2; exit 4; }
