/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The entitlement table.
 *
 * Like OpenBSD's pledge tables, this is data: each row says what one
 * entitlement grants in every layer, in words (for `ward explain`, `ward
 * entitlements`, docs/entitlements.md and denial messages) and as machine
 * grants (capabilities, syscall groups, socket families) that the resolver
 * and the seccomp profile compile.  Nothing else in ward decides what an
 * entitlement means.
 */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <string.h>
#include <sys/socket.h>

#include "../entitlements.h"
#include "../seccomp/groups.h"
#include "../util.h"

#define CAP(c) (1ULL << (c))
#define FAM(f) (1ULL << (f))

/* Docker's default capability set, granted by security.user, less CAP_FSETID
 * and CAP_SETFCAP: with them a program could leave a set-id file or a file
 * capability in a fs.write grant, where it would be privileged on the host;
 * inside, every mount is nosuid, so they have no use there.  No sandbox ever
 * holds CAP_FSETID (lib/caps.h WARD_CAPS_NEVER); security.admin holds
 * CAP_SETFCAP, which the kernel requires to map uid 0 in a nested user
 * namespace, and its filter refuses file capabilities instead. */
#define DOCKER_CAPS                                                                         \
	(CAP(CAP_CHOWN) | CAP(CAP_DAC_OVERRIDE) | CAP(CAP_FOWNER) | CAP(CAP_KILL) |         \
	 CAP(CAP_SETGID) | CAP(CAP_SETUID) | CAP(CAP_SETPCAP) | CAP(CAP_NET_BIND_SERVICE) | \
	 CAP(CAP_NET_RAW) | CAP(CAP_SYS_CHROOT) | CAP(CAP_MKNOD) | CAP(CAP_AUDIT_WRITE))

#define L(layer) [WARD_LAYER_##layer]

/* clang-format off: one row per entitlement reads best laid out by hand. */
// clang-format off
const struct ward_entitlement ward_entitlements[] = {
	/* ---- network ---- */
	{
		.name = "network.none",
		.arg = WARD_ARG_NONE,
		.flags = WARD_ENT_DEFAULT,
		.group = "network",
		.summary = "no network: only Unix sockets, and a private loopback that stays down",
		.layers = {
			L(NS) = "new network namespace (no interface of the host)",
			L(CAPS) = "no CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE",
			L(SECCOMP) = "socket(2) allowed only for AF_UNIX",
			L(LANDLOCK) = "TCP bind and connect denied (ABI 4+)",
		},
		.socket_families = FAM(AF_UNIX),
	},
	{
		.name = "network.loopback",
		.arg = WARD_ARG_NONE,
		.group = "network",
		.summary = "a private network namespace with loopback up: talk to itself over TCP/UDP",
		.layers = {
			L(NS) = "new network namespace, lo brought up, no other interface",
			L(SECCOMP) = "socket(2) allowed for AF_UNIX, AF_INET, AF_INET6, AF_NETLINK",
			L(LANDLOCK) = "TCP not restricted by Landlock (the namespace has no way out)",
		},
		.socket_families = FAM(AF_UNIX) | FAM(AF_INET) | FAM(AF_INET6) | FAM(AF_NETLINK),
	},
	{
		.name = "network.outbound",
		.arg = WARD_ARG_NONE,
		.group = "network",
		.summary = "own network namespace with a veth pair and NAT to the outside",
		.layers = {
			L(NS) = "new network namespace: lo up, eth0 (a veth into the host bridge ward0) "
				"with an address of WARD_NET_RANGE, default route via ward0, NAT on the host; "
				"no other sandbox and no service of the host itself is reachable; IPv4 only "
				"(IPv6 disabled on eth0 and on ward0)",
			L(NFT) = "on the host (table ip ward_nat): masquerade; new connections from ward0 "
				 "to the host itself rejected; to other sandboxes only by their "
				 "network.connect rules; to 169.254.0.0/16 (cloud metadata) only by a "
				 "network.connect rule; from other machines only to --publish ports; "
				 "(table bridge ward) its veth sends only IPv4 and ARP as its own MAC and "
				 "address; inside the namespace: IPv6 dropped on eth0",
			L(SECCOMP) = "socket(2) allowed for AF_UNIX, AF_INET, AF_INET6, AF_NETLINK",
			L(LANDLOCK) = "TCP not restricted by Landlock",
		},
		.socket_families = FAM(AF_UNIX) | FAM(AF_INET) | FAM(AF_INET6) | FAM(AF_NETLINK),
	},
	{
		.name = "network.connect",
		.arg = WARD_ARG_HOSTPORT,
		.flags = WARD_ENT_REPEATABLE,
		.summary = "open TCP/UDP connections to HOST:PORT only (an IPv4 address as four "
			   "decimal numbers, a space's environment, a sandbox the broker knows by "
			   "that name, or a host name resolved when the sandbox starts; other "
			   "numeric forms such as 10.5 or 0x0a.0.0.5 are refused)",
		.layers = {
			L(NS) = "new network namespace: lo up, eth0 (a veth into ward0) with an address "
				"of WARD_NET_RANGE; NAT on the host only when HOST is outside the range",
			L(SECCOMP) = "socket(2) allowed for AF_UNIX, AF_INET, AF_INET6, AF_NETLINK",
			L(LANDLOCK) = "TCP connect only to PORT (ABI 4+; ports, not addresses)",
			L(NFT) = "inside the namespace: new connections out only to HOST:PORT, the rest "
				 "refused, IPv6 dropped; on the host: forwarded from the sandbox only to "
				 "HOST:PORT, the sandbox's address bound to its veth (table bridge ward)",
		},
		.socket_families = FAM(AF_UNIX) | FAM(AF_INET) | FAM(AF_INET6) | FAM(AF_NETLINK),
	},
	{
		.name = "network.listen",
		.arg = WARD_ARG_PORT,
		.flags = WARD_ENT_REPEATABLE,
		.summary = "accept TCP/UDP connections on PORT (from the host, --publish, and a space's "
			   "environments that may connect to it)",
		.layers = {
			L(NS) = "new network namespace: lo up, eth0 (a veth into ward0) with an address "
				"of WARD_NET_RANGE; ports below 1024 bindable inside",
			L(SECCOMP) = "socket(2) allowed for AF_UNIX, AF_INET, AF_INET6, AF_NETLINK",
			L(LANDLOCK) = "TCP bind only to PORT (ABI 4+)",
			L(NFT) = "inside the namespace: new connections in only to PORT, the rest "
				 "refused, IPv6 dropped; on the host: from other machines only through "
				 "--publish",
		},
		.socket_families = FAM(AF_UNIX) | FAM(AF_INET) | FAM(AF_INET6) | FAM(AF_NETLINK),
	},
	{
		.name = "network.host",
		.arg = WARD_ARG_NONE,
		.flags = WARD_ENT_DANGEROUS,
		.group = "network",
		.summary = "share the host's network namespace: every interface and port of the host",
		.layers = {
			L(NS) = "no network namespace: the host's interfaces",
			L(SECCOMP) = "socket(2) allowed for AF_UNIX, AF_INET, AF_INET6, AF_NETLINK",
			L(LANDLOCK) = "TCP not restricted by Landlock",
		},
		.socket_families = FAM(AF_UNIX) | FAM(AF_INET) | FAM(AF_INET6) | FAM(AF_NETLINK),
	},
	{
		.name = "network.admin",
		.arg = WARD_ARG_NONE,
		.flags = WARD_ENT_DANGEROUS,
		.summary = "administer the sandbox's own network namespace: interfaces, addresses, "
			   "routes, nftables, bridges, veths and tun devices for nested containers; "
			   "never the host's (combine with network.loopback, network.outbound, "
			   "network.connect or network.listen for a way out; network.host is refused)",
		.layers = {
			L(NS) = "the program is cloned into a network namespace of its own user "
				"namespace (so its capabilities hold there and nowhere else); the "
				"sandbox's eth0, if it has one, is moved into it and configured; its "
				"/proc/sys/net (that namespace's sysctls only) is writable; the host's "
				"namespace cannot be joined (setns needs CAP_SYS_ADMIN over the host's "
				"user namespace)",
			L(CAPS) = "CAP_NET_ADMIN and CAP_NET_RAW, within the sandbox's own user "
				  "namespace",
			L(SECCOMP) = "socket(2) allowed for AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, "
				     "AF_PACKET",
			L(NFT) = "the rules ward loads inside the namespace are the program's to change: "
				 "what holds is enforced on the host (table bridge ward: the veth sends "
				 "only IPv4 and ARP as its own MAC and address; table ip ward_nat: "
				 "forwarding only as the network entitlements say; no port of the host "
				 "itself)",
			L(LANDLOCK) = "TCP bind and connect rules of network.connect and network.listen "
				      "still apply (a process-wide LSM: changing the namespace does not "
				      "lift them), unless security.admin turns Landlock off",
		},
		.caps = CAP(CAP_NET_ADMIN) | CAP(CAP_NET_RAW),
		.socket_families = FAM(AF_UNIX) | FAM(AF_INET) | FAM(AF_INET6) | FAM(AF_NETLINK) |
				   FAM(AF_PACKET),
	},

	/* ---- filesystem ---- */
	{
		.name = "fs.read",
		.arg = WARD_ARG_PATH,
		.flags = WARD_ENT_REPEATABLE,
		.summary = "read PATH (a file or a directory tree)",
		.layers = {
			L(MOUNT) = "PATH bind-mounted read-only, nosuid, nodev, noexec",
			L(IDENTITY) = "idmapped mount: the owner of PATH is the sandbox's user there",
			L(LANDLOCK) = "read files and list directories beneath PATH",
		},
	},
	{
		.name = "fs.write",
		.arg = WARD_ARG_PATH,
		.flags = WARD_ENT_REPEATABLE,
		.summary = "read and write PATH (create, change and delete beneath it)",
		.layers = {
			L(MOUNT) = "PATH bind-mounted read-write, nosuid, nodev, noexec",
			L(IDENTITY) = "idmapped mount: the owner of PATH is the sandbox's user there",
			L(CAPS) = "never CAP_FSETID: writing a set-id file clears its bits; "
				  "CAP_SETFCAP only with security.admin",
			L(SECCOMP) = "chmod, open(O_CREAT), mknod... with S_ISUID/S_ISGID refused: "
				     "nothing written is set-id on the host",
			L(LANDLOCK) = "read, write, create and remove beneath PATH",
		},
	},
	{
		.name = "fs.exec",
		.arg = WARD_ARG_PATH,
		.flags = WARD_ENT_REPEATABLE,
		.summary = "read and execute programs under PATH",
		.layers = {
			L(MOUNT) = "PATH bind-mounted read-only, nosuid, nodev, exec allowed",
			L(IDENTITY) = "idmapped mount: the owner of PATH is the sandbox's user there",
			L(LANDLOCK) = "read and execute beneath PATH",
		},
	},

	{
		.name = "fs.scratch.noexec",
		.arg = WARD_ARG_NONE,
		.summary = "nothing the program writes may run: its private /tmp, /dev/shm and memfds "
			   "are not executable (by default they are, as under Docker, Flatpak and "
			   "systemd's PrivateTmp: the program is arbitrary code already)",
		.layers = {
			L(MOUNT) = "the private /tmp and /dev/shm mounted noexec",
			L(NS) = "vm.memfd_noexec=2 in the sandbox's pid namespace: no memfd is "
				"executable",
			L(SECCOMP) = "memfd_create(MFD_EXEC) refused",
			L(LANDLOCK) = "no execute beneath /tmp and /dev/shm (execute only beneath the "
				      "system directories and fs.exec grants)",
		},
	},

	/* ---- resources ---- */
	{
		.name = "process.limit",
		.arg = WARD_ARG_COUNT,
		.summary = "at most N processes and threads (default 1024)",
		.layers = {
			L(CGROUP) = "pids.max = N",
		},
	},
	{
		.name = "memory.limit",
		.arg = WARD_ARG_SIZE,
		.summary = "at most SIZE of memory, swap included (default: a quarter of RAM)",
		.layers = {
			L(CGROUP) = "memory.max (v2) or memory.limit_in_bytes (v1) = SIZE, no swap",
			L(MOUNT) = "the private /tmp is a tmpfs of at most SIZE",
		},
	},
	{
		.name = "cpu.limit",
		.arg = WARD_ARG_CPUS,
		.summary = "at most CPUS processors' worth of time, e.g. 0.5 (default: no limit)",
		.layers = {
			L(CGROUP) = "cpu.max (v2) or cpu.cfs_quota_us (v1) = CPUS x 100 ms per 100 ms",
		},
	},
	{
		.name = "files.limit",
		.arg = WARD_ARG_COUNT,
		.summary = "at most N open files per process (default 1024)",
		.layers = {
			L(RLIMIT) = "RLIMIT_NOFILE = N (soft and hard)",
		},
	},

	/* ---- process ---- */
	{
		.name = "process.debug",
		.arg = WARD_ARG_NONE,
		.summary = "ptrace and inspect other processes inside the same sandbox (debuggers, strace)",
		.layers = {
			L(SECCOMP) = "ptrace, process_vm_readv/writev, process_madvise, kcmp, pidfd_getfd allowed",
			L(NS) = "the sandbox's own pid namespace still hides every other process",
		},
		.syscalls = ward_sc_debug,
	},
	{
		.name = "process.setuid",
		.arg = WARD_ARG_NONE,
		.flags = WARD_ENT_DANGEROUS,
		.summary = "setuid and file-capability programs work (no_new_privs is not set)",
		.layers = {
			L(NNP) = "no_new_privs NOT set",
			L(MOUNT) = "system directories mounted without nosuid",
		},
	},
	{
		.name = "process.host",
		.arg = WARD_ARG_NONE,
		.flags = WARD_ENT_UNAVAILABLE | WARD_ENT_DANGEROUS,
		.summary = "share the host's pid namespace",
	},

	/* ---- security levels ---- */
	{
		.name = "security.confined",
		.arg = WARD_ARG_NONE,
		.flags = WARD_ENT_DEFAULT,
		.group = "security",
		.summary = "no capabilities at all and a strict syscall allow-list",
		.layers = {
			L(CAPS) = "empty bounding, permitted, effective, inheritable and ambient sets; "
				  "securebits lock uid 0 out of capabilities",
			L(SECCOMP) = "strict allow-list; namespaces, mounts, kernel keyring, bpf, perf, "
				     "io_uring, modules, kexec, ptrace denied (EPERM); set-id modes "
				     "refused; unknown syscalls ENOSYS",
			L(NNP) = "no_new_privs set",
		},
	},
	{
		.name = "security.user",
		.arg = WARD_ARG_NONE,
		.group = "security",
		.summary = "Docker's default capability set and syscall profile",
		.layers = {
			L(CAPS) = "CHOWN DAC_OVERRIDE FOWNER KILL SETGID SETUID SETPCAP "
				  "NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE, "
				  "within the sandbox's own user namespace (Docker's set without "
				  "FSETID and SETFCAP, which no sandbox holds)",
			L(SECCOMP) = "Docker's default profile: adds chroot, ptrace and friends",
		},
		.caps = DOCKER_CAPS,
		.syscalls = ward_sc_user,
	},
	{
		.name = "security.admin",
		.arg = WARD_ARG_NONE,
		.flags = WARD_ENT_DANGEROUS,
		.group = "security",
		.summary = "CAP_SYS_ADMIN and mount inside its own user and mount namespaces",
		.layers = {
			L(NS) = "a user and mount namespace of its own, nested in the sandbox's",
			L(CAPS) = "security.user's set plus CAP_SYS_ADMIN and CAP_SETFCAP (needed to map "
				  "uid 0 in a nested user namespace), within its own namespaces",
			L(SECCOMP) = "adds mount, umount2, pivot_root, the new mount API, setns, "
				     "clone/unshare with namespace flags; refuses set*xattr of a "
				     "20- or 24-byte value (a file capability)",
		},
		.caps = DOCKER_CAPS | CAP(CAP_SYS_ADMIN) | CAP(CAP_SETFCAP),
		.syscalls = ward_sc_admin,
	},

	/* ---- host ---- */
	{
		.name = "host.devices",
		.arg = WARD_ARG_PATH,
		.flags = WARD_ENT_REPEATABLE | WARD_ENT_DANGEROUS,
		.summary = "use the host device node PATH (e.g. /dev/fuse)",
		.layers = {
			L(MOUNT) = "the node bind-mounted into the sandbox's /dev",
			L(CGROUP) = "devices allow-list gains the node's major:minor (v1)",
			L(IDENTITY) = "the node's group is added to the supplementary groups",
			L(LANDLOCK) = "read, write and ioctl on the node",
		},
	},
	{
		.name = "host.tmp",
		.arg = WARD_ARG_NONE,
		.flags = WARD_ENT_DANGEROUS,
		.summary = "share the host's /tmp (every user's files and sockets there, the X11 "
			   "and other sockets included) in place of the private one; fs.read, "
			   "fs.write and fs.exec of /tmp itself are refused so that this is never "
			   "chosen by accident",
		.layers = {
			L(MOUNT) = "the host's /tmp bind-mounted read-write, nosuid, nodev, noexec over "
				   "the private /tmp",
			L(IDENTITY) = "idmapped mount: the owner of /tmp is the sandbox's user there",
			L(LANDLOCK) = "read, write, create and remove beneath /tmp; never execute",
		},
	},
	{
		.name = "host.devices.admin",
		.arg = WARD_ARG_NAME,
		.flags = WARD_ENT_REPEATABLE | WARD_ENT_VALUE_OPTIONAL | WARD_ENT_DANGEROUS,
		.summary = "the devices a container engine needs, and no other: /dev/fuse "
			   "(fuse-overlayfs, FUSE file systems) and /dev/net/tun (tap and tun "
			   "interfaces); =fuse or =tun for one of them. Loop devices are refused "
			   "(they are shared with the host, and the file systems they hold cannot "
			   "be mounted in a user namespace; use FUSE instead), and so is mknod: the "
			   "kernel lets no user namespace create device nodes, so engines bind the "
			   "nodes ward provides",
		.layers = {
			L(MOUNT) = "/dev/fuse and /dev/net/tun bind-mounted from the host into the "
				   "sandbox's /dev, as host.devices grants",
			L(CGROUP) = "devices allow-list (v1) gains c 10:229 rw and c 10:200 rw, no 'm'; "
				    "everything else stays denied",
			L(CAPS) = "no capability in the host's user namespace: mknod of any device "
				  "(CAP_MKNOD there) stays impossible",
			L(LANDLOCK) = "read, write and ioctl on the two nodes only",
		},
	},
	{
		.name = "host.time",
		.arg = WARD_ARG_NONE,
		.flags = WARD_ENT_DANGEROUS,
		.summary = "set the host's clock",
		.layers = {
			L(NS) = "no time namespace and no user namespace (the clock is global)",
			L(IDENTITY) = "runs as the unprivileged host uid itself, not root in a user namespace",
			L(CAPS) = "CAP_SYS_TIME (ambient)",
			L(SECCOMP) = "settimeofday, clock_settime, clock_adjtime, adjtimex allowed",
		},
		.caps = CAP(CAP_SYS_TIME),
		.syscalls = ward_sc_time,
	},

	/* ---- communication and data (the broker) ---- */
	{
		.name = "ipc.send",
		.arg = WARD_ARG_NAME,
		.flags = WARD_ENT_REPEATABLE,
		.summary = "send messages to the mailbox NAME (NAME may end in *) through the broker; "
			   "NAME@HOST is a mailbox on another host (docs/remote.md)",
		.layers = {
			L(PROCESS) = "one descriptor to the broker (fd 3, WARD_BROKER_FD); the broker "
				     "queues a message for NAME only if the sender holds this grant; "
				     "for NAME@HOST it signs it with the host key and hands it to "
				     "RabbitMQ (a pattern without @ never matches another host)",
		},
	},
	{
		.name = "ipc.recv",
		.arg = WARD_ARG_NONE,
		.summary = "have a mailbox named after the environment (ward run --name) and receive from it",
		.layers = {
			L(PROCESS) = "one descriptor to the broker; a bounded mailbox, closed when the "
				     "environment exits (pending senders are told); also from listed "
				     "peer hosts their policy lets in, shown as NAME@HOST",
		},
	},
	{
		.name = "service.connect",
		.arg = WARD_ARG_NAME,
		.flags = WARD_ENT_REPEATABLE,
		.summary = "connect to the service NAME (NAME may end in *): the broker hands over a "
			   "connected socket",
		.layers = {
			L(PROCESS) = "one descriptor to the broker; a connect to NAME returns one end "
				     "of a fresh socket pair, the provider gets the other",
		},
	},
	{
		.name = "service.provide",
		.arg = WARD_ARG_NAME,
		.flags = WARD_ENT_REPEATABLE,
		.summary = "provide the service NAME (NAME may end in *) to environments allowed to "
			   "connect to it",
		.layers = {
			L(PROCESS) = "one descriptor to the broker; providing NAME returns a descriptor "
				     "on which the connections arrive",
		},
	},
	{
		.name = "api.open",
		.arg = WARD_ARG_PATHMODE,
		.flags = WARD_ENT_REPEATABLE,
		.summary = "have the broker open files beneath PATH, read-only (:ro, the default) or "
			   "read-write (:rw)",
		.layers = {
			L(PROCESS) = "one descriptor to the broker; it opens regular files beneath PATH "
				     "with openat2(RESOLVE_BENEATH), with the access checks of PATH's "
				     "owner (not root's), and passes the descriptor",
			L(MOUNT) = "nothing mounted: PATH stays outside the sandbox's view",
		},
	},
	{
		.name = "api.attest",
		.arg = WARD_ARG_NONE,
		.summary = "ask the broker for a quote over its own launch event, with a nonce from a "
			   "remote verifier (ward-msg attest NONCE)",
		.layers = {
			L(PROCESS) = "one descriptor to the broker; the launch is measured (an event in "
				     "ward's measurement log, extended into the TPM's PCR or the "
				     "software chain), and an ATTEST request returns a quote whose "
				     "qualifying data binds the nonce to that event, with the log",
			L(MOUNT) = "nothing mounted: the TPM, the log and the keys stay outside the "
				   "sandbox's view",
		},
	},
};

// clang-format on

const size_t ward_n_entitlements = ARRAY_SIZE(ward_entitlements);

static const char *const layer_names[WARD_LAYER_COUNT] = {
	[WARD_LAYER_NS] = "namespaces",	    [WARD_LAYER_IDENTITY] = "identity",
	[WARD_LAYER_MOUNT] = "mounts",	    [WARD_LAYER_CAPS] = "capabilities",
	[WARD_LAYER_NNP] = "no_new_privs",  [WARD_LAYER_SECCOMP] = "seccomp",
	[WARD_LAYER_LANDLOCK] = "landlock", [WARD_LAYER_NFT] = "nftables",
	[WARD_LAYER_CGROUP] = "cgroups",    [WARD_LAYER_RLIMIT] = "rlimits",
	[WARD_LAYER_PROCESS] = "process",
};

const char *ward_layer_name(enum ward_layer layer)
{
	if ((unsigned)layer >= WARD_LAYER_COUNT)
		return "?";
	return layer_names[layer];
}

int ward_entitlement_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < ward_n_entitlements; i++)
		if (strcmp(ward_entitlements[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *ward_entitlement_suggest(const char *name)
{
	const char *best = NULL;
	unsigned best_d = 4;
	size_t i;

	for (i = 0; i < ward_n_entitlements; i++) {
		const char *cand = ward_entitlements[i].name;
		unsigned d = ward_edit_distance(name, cand, best_d);

		if (d < best_d) {
			best_d = d;
			best = cand;
		}
	}
	if (best)
		return best;
	/* No close spelling: a bare domain ("network") or a known leaf name
	 * under the wrong domain ("fs.limit") still deserves a hint. */
	for (i = 0; i < ward_n_entitlements; i++) {
		const char *cand = ward_entitlements[i].name;
		const char *dot = strchr(cand, '.');
		size_t dlen = dot ? (size_t)(dot - cand) : strlen(cand);

		if (strlen(name) == dlen && strncmp(name, cand, dlen) == 0)
			return cand;
	}
	return NULL;
}

size_t ward_entitlements_for_syscall(const char *syscall, int *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < ward_n_entitlements; i++) {
		const char *const *s = ward_entitlements[i].syscalls;

		if (s == NULL || (ward_entitlements[i].flags & WARD_ENT_UNAVAILABLE))
			continue;
		for (; *s; s++) {
			if (strcmp(*s, syscall) == 0) {
				if (n < max)
					out[n] = (int)i;
				n++;
				break;
			}
		}
	}
	return n;
}

const char *ward_arg_kind_hint(enum ward_arg_kind kind)
{
	switch (kind) {
	case WARD_ARG_NONE:
		return "";
	case WARD_ARG_PATH:
		return "PATH";
	case WARD_ARG_COUNT:
		return "N";
	case WARD_ARG_SIZE:
		return "SIZE";
	case WARD_ARG_CPUS:
		return "CPUS";
	case WARD_ARG_HOSTPORT:
		return "HOST:PORT";
	case WARD_ARG_PORT:
		return "PORT";
	case WARD_ARG_NAME:
		return "NAME";
	case WARD_ARG_PATHMODE:
		return "PATH[:ro|rw]";
	default:
		return "?";
	}
}
