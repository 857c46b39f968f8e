#!/bin/sh
# Install what ward needs to build, test and benchmark, from Debian's
# repositories.  Installs only what is missing; safe to run again.
set -eu

PKGS="gcc make meson ninja-build pkg-config libc6-dev
libseccomp-dev libjansson-dev libcap-dev libcmocka-dev libsodium-dev minisign clang
python3 python3-pytest busybox-static iproute2 nftables passt
librabbitmq-dev rabbitmq-server python3-pika
bubblewrap crun hyperfine clang-format git time strace
libyaml-dev python3-yaml python3-jsonschema golang-github-opencontainers-specs-dev systemd
libtss2-dev libssl-dev swtpm swtpm-tools tpm2-tools"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages:$missing" >&2
		echo "deps: run as root (or: sudo apt-get install$missing)" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# Packages such as rabbitmq-server start a network daemon when they
	# are installed (RabbitMQ on 5672, epmd on 4369, on every address).
	# The tests start their own servers on their own ports; installing
	# ward's test dependencies must not leave a service listening. So no
	# service is started during the install (Debian's policy-rc.d, put
	# in place only when the host has none), and the daemons installed
	# here are not enabled at boot.
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\n# ward scripts/deps.sh: no service starts during its install\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	if [ -n "$policy" ]; then
		rm -f "$policy"
		trap - EXIT
	fi
	case " $missing " in
	*" rabbitmq-server "*)
		if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
			systemctl disable --now --quiet rabbitmq-server.service epmd.socket \
				epmd.service 2>/dev/null || true
			echo "deps: rabbitmq-server installed for the tests, not enabled (systemctl enable --now rabbitmq-server to run one)"
		fi
		;;
	esac
fi

# The real OCI clients the runtime's tests drive ward through (podman,
# conmon, containerd, runc).
oci_setup="$(dirname "$0")/../tests/oci/setup-podman.sh"
if [ -f "$oci_setup" ]; then
	sh "$oci_setup"
fi
