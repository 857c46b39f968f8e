#!/bin/sh
# Install the real clients the OCI tests drive ward through: podman (with
# conmon and the CNI plugins) and containerd's ctr.  Idempotent; changes
# nothing in /etc beyond what the Debian packages install.  The tests give
# podman its own containers.conf and storage.conf (tests/oci/podman.py).
set -eu
need=""
command -v podman >/dev/null 2>&1 || need="$need podman conmon containernetworking-plugins"
command -v ctr >/dev/null 2>&1 || need="$need containerd"
command -v runc >/dev/null 2>&1 || need="$need runc"
[ -x /bin/busybox ] && busybox --help 2>/dev/null | grep -q static || \
	dpkg -s busybox-static >/dev/null 2>&1 || need="$need busybox-static"
if [ -z "$need" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "setup-podman.sh: need root to install:$need" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need >/dev/null
# containerd's package starts its daemon when a service manager exists; the
# tests start their own with their own config and state directories.
