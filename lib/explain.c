/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `ward explain` and the catalog.  Everything printed here is derived from
 * the entitlement table and the resolved policy (and the pure planners of
 * the seccomp and Landlock layers), never written out by hand.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "caps.h"
#include "entitlements.h"
#include "explain.h"
#include "landlock.h"
#include "launch.h"
#include "ns.h"
#include "rootless.h"
#include "seccomp/seccomp.h"
#include "cgroup/cgroup.h"
#include "net/router.h"
#include "util.h"

#define HAS_CAP(p, c) (((p)->caps >> (c)) & 1ULL)

static int explain_rootless = -1;

void ward_explain_mode(int rootless)
{
	explain_rootless = rootless;
}

/* Rootless mode changes what some layers give (docs/rootless.md). */
static bool rootless_mode(void)
{
	return explain_rootless < 0 ? ward_rootless() : explain_rootless != 0;
}

/* The vm.memfd_noexec a rootless sandbox inherits (it cannot raise it). */
static int inherited_memfd_noexec(void)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;

	if (ward_read_file("/proc/sys/vm/memfd_noexec", &buf, &len) < 0 || len == 0)
		return -1;
	return buf[0] - '0';
}

static void add(struct ward_threat *t, const char *layer)
{
	if (t->n_layers < WARD_EXPLAIN_MAX_LAYERS)
		t->layers[t->n_layers++] = layer;
}

/* Does the syscall filter deny this syscall outright under p? */
static bool sc_denied(const struct ward_sc_rules *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->rules[i].syscall, name) == 0)
			return r->rules[i].action == WARD_SC_ERRNO && r->rules[i].n_args == 0;
	/* Not in the profile at all: the default action (ENOSYS) denies it. */
	return true;
}

size_t ward_threat_matrix(const struct ward_policy *p, int abi, struct ward_threat *out, size_t max)
{
	struct ward_sc_rules r = {0};
	bool userns = p->namespaces & CLONE_NEWUSER;
	bool ll = abi >= 1 && p->level != WARD_LEVEL_ADMIN; /* see ward_landlock_plan() */
	bool rl = rootless_mode();
	size_t n = 0;
	struct ward_threat *t;

	if (ward_seccomp_rules(p, &r, NULL) < 0)
		memset(&r, 0, sizeof(r));

#define NEXT(op)                          \
	do {                              \
		if (n >= max)             \
			goto done;        \
		t = &out[n++];            \
		memset(t, 0, sizeof(*t)); \
		t->operation = (op);      \
	} while (0)

	NEXT("mount a filesystem");
	if (sc_denied(&r, "mount"))
		add(t, "seccomp: mount(2) and the new mount API denied");
	if (!HAS_CAP(p, CAP_SYS_ADMIN))
		add(t, "capabilities: no CAP_SYS_ADMIN");
	if (userns && p->level != WARD_LEVEL_ADMIN)
		add(t, rl ? "namespaces: the mount namespace belongs to init's user namespace, "
			    "not the program's"
			  : "namespaces: the mount namespace belongs to the host's user namespace");
	if (ll)
		add(t, "landlock: a Landlock-restricted process cannot change its mounts");

	NEXT("ptrace another process");
	add(t, "namespaces: only the sandbox's own processes are visible (pid namespace)");
	if (sc_denied(&r, "ptrace"))
		add(t, "seccomp: ptrace(2) denied");
	/* Rootless: every sandbox of a user runs as that user's uid. */
	if (!rl)
		add(t, "identity: a host uid range of its own; other processes have other uids");
	if (ll)
		add(t, "landlock: ptrace limited to its own Landlock domain");

	NEXT("read another environment's memory");
	add(t, "namespaces: other environments' processes are invisible (pid namespace)");
	if (sc_denied(&r, "process_vm_readv"))
		add(t, "seccomp: process_vm_readv(2) denied");
	if (!rl)
		add(t, "identity: a host uid range of its own");
	if (ll)
		add(t, "landlock: ptrace-class access limited to its own domain");

	NEXT("use the kernel keyring");
	if (sc_denied(&r, "keyctl") && sc_denied(&r, "add_key"))
		add(t, "seccomp: keyctl(2), add_key(2), request_key(2) denied");
	add(t, "mounts: /proc/keys masked");
	if (userns && !rl)
		add(t, "identity: keys of the host's users belong to other uids");

	NEXT("load a kernel module");
	if (sc_denied(&r, "init_module") && sc_denied(&r, "finit_module"))
		add(t, "seccomp: init_module(2), finit_module(2) denied");
	if (!HAS_CAP(p, CAP_SYS_MODULE))
		add(t, "capabilities: no CAP_SYS_MODULE");
	if (userns)
		add(t, "namespaces: capabilities in a user namespace never reach module loading");

	NEXT("open a raw or packet socket");
	if (!(p->socket_families & (1ULL << AF_PACKET)))
		add(t, "seccomp: socket(AF_PACKET) denied");
	if (!HAS_CAP(p, CAP_NET_RAW))
		add(t, "capabilities: no CAP_NET_RAW");
	else if (userns && p->net_admin)
		add(t, "namespaces: CAP_NET_RAW only in its own network namespace (its own "
		       "interfaces' packets)");
	else if (userns && p->net != WARD_NET_HOST)
		add(t, "namespaces: CAP_NET_RAW only over a network namespace it does not own");
	if (p->net != WARD_NET_HOST)
		add(t, "namespaces: own network namespace (nothing of the host to see)");

	NEXT("change the system clock");
	if (sc_denied(&r, "clock_settime") && sc_denied(&r, "settimeofday"))
		add(t, "seccomp: clock_settime(2), settimeofday(2), adjtimex(2) denied");
	if (!HAS_CAP(p, CAP_SYS_TIME))
		add(t, "capabilities: no CAP_SYS_TIME");
	if (userns)
		add(t, "namespaces: CAP_SYS_TIME counts only in the host's user namespace");

	NEXT("load a BPF program");
	if (sc_denied(&r, "bpf"))
		add(t, "seccomp: bpf(2) denied");
	if (!HAS_CAP(p, CAP_BPF) && !HAS_CAP(p, CAP_SYS_ADMIN))
		add(t, "capabilities: no CAP_BPF or CAP_SYS_ADMIN");
	if (userns)
		add(t,
		    "namespaces: privileged BPF needs capabilities in the host's user namespace");

	NEXT("open perf events");
	if (sc_denied(&r, "perf_event_open"))
		add(t, "seccomp: perf_event_open(2) denied");
	if (!HAS_CAP(p, CAP_PERFMON) && !HAS_CAP(p, CAP_SYS_ADMIN))
		add(t, "capabilities: no CAP_PERFMON (kernel-wide events; events on itself need "
		       "none at perf_event_paranoid <= 2)");

	NEXT("inject keystrokes with TIOCSTI");
	add(t, "seccomp: ioctl(TIOCSTI) and ioctl(TIOCLINUX) denied");
	add(t, "process: a new session without a controlling terminal");

	NEXT("fork bomb");
	add(t, "cgroups: pids.max (process.limit)");
	add(t, rl ? "rlimits: RLIMIT_NPROC, counted within the sandbox's user namespace"
		  : "rlimits: RLIMIT_NPROC on the sandbox's own host uid");

	NEXT("memory bomb");
	/* One layer only, and said so: RLIMIT_AS or RLIMIT_DATA would break
	 * ordinary programs (JIT runtimes reserve far more than they use). */
	add(t, "cgroups: memory limit without swap (memory.limit); tmpfs pages count too");

	NEXT("read the host's private files (/root, homes)");
	add(t, "mounts: not in the sandbox's view");
	if (ll)
		add(t, "landlock: no rule grants them");
	/* Rootless: the user's own files are the sandbox's (uid 0 inside). */
	if (userns && !rl)
		add(t, "identity: unmapped host owners; no capability over their files");

	NEXT("reach the network");
	if (p->net == WARD_NET_NONE) {
		add(t, p->net_admin ? "namespaces: own network namespace with no way out (what "
				      "network.admin builds stays inside it)"
				    : "namespaces: own network namespace with loopback only");
		if (!(p->socket_families & ~(1ULL << AF_UNIX)))
			add(t, "seccomp: socket(2) only for AF_UNIX");
		if (ll && abi >= 4)
			add(t, "landlock: TCP bind and connect denied");
		if (ll)
			add(t, "landlock: abstract Unix sockets scoped to the sandbox");
	} else if (p->net == WARD_NET_LOOPBACK) {
		add(t, "namespaces: own network namespace with loopback only");
	} else if (p->net == WARD_NET_PORTS) {
		add(t, rl ? "namespaces: own network namespace; one veth into ward0 of your "
			    "router (not the host's namespace), no route anywhere but through it"
			  : "namespaces: own network namespace; one veth into ward0, no route "
			    "anywhere but through the host");
		if (!p->net_admin)
			add(t, "nftables: inside its namespace only the network.connect "
			       "destinations and network.listen ports, the rest dropped");
		add(t, rl ? "nftables: in your router, forwarded only to its network.connect "
			    "destinations"
			  : "nftables: on the host, forwarded only to its network.connect "
			    "destinations");
		if (ll && abi >= 4 && !p->net_lo_open)
			add(t, "landlock: TCP connect and bind only to the granted ports");
		if (!HAS_CAP(p, CAP_NET_ADMIN))
			add(t, "capabilities: no CAP_NET_ADMIN (cannot change its address or "
			       "routes)");
	} else if (p->net == WARD_NET_OUTBOUND) {
		/* Outbound reaches the network by design: what still holds. */
		if (rl) {
			/* docs/network.md, rootless: the router and pasta. */
			add(t, "namespaces: own network namespace; one veth into the bridge ward0 "
			       "of your router, out through pasta as your own sockets");
			add(t, "namespaces: no service of the host itself is reachable (the "
			       "router's guard chain rejects every address of the host)");
		} else {
			add(t, "namespaces: own network namespace; one veth into the bridge ward0, "
			       "NAT to the host's networks");
			add(t, "namespaces: no service of the host itself is reachable (nftables "
			       "ward_nat, input from ward0 rejected)");
		}
		add(t, "namespaces: an isolated bridge port, no other sandbox is reachable");
		if (!HAS_CAP(p, CAP_NET_ADMIN))
			add(t, "capabilities: no CAP_NET_ADMIN (cannot change its address or "
			       "routes)");
	}

	NEXT("leave a set-id file on the host");
	add(t, "seccomp: chmod, open(O_CREAT/O_TMPFILE), mknod, mkdir with S_ISUID or S_ISGID "
	       "refused; openat2 ENOSYS");
	add(t, "capabilities: never CAP_FSETID (writing a set-id file clears its bits)");

	NEXT("leave a file capability on the host");
	if (HAS_CAP(p, CAP_SETFCAP) || p->allow_ns_clone) {
		add(t, "seccomp: set*xattr of a 20- or 24-byte value refused");
	} else {
		add(t, "capabilities: no CAP_SETFCAP (security.capability cannot be set)");
		add(t, "seccomp: no user namespace can be made, so CAP_SETFCAP cannot be gained "
		       "there");
	}

	/* By default the scratch space (/tmp, /dev/shm, memfds) runs what the
	 * program wrote there; what it writes into fs.write grants never runs. */
	if (p->scratch_exec) {
		NEXT("execute what the program wrote into a fs.write grant");
		add(t, "mounts: fs.write grants noexec");
		if (ll)
			add(t, "landlock: execute only beneath the system directories, fs.exec "
			       "grants and the private scratch space");
	} else {
		NEXT("execute what the program wrote");
		if (!rl || inherited_memfd_noexec() >= 2)
			add(t, "pid namespace: vm.memfd_noexec=2 (no memfd is executable)");
		add(t, "seccomp: memfd_create(MFD_EXEC) refused");
		add(t, "mounts: /tmp, /dev/shm and fs.write grants noexec");
		if (ll)
			add(t, "landlock: execute only beneath the system directories and fs.exec "
			       "grants");
	}

	NEXT("gain privileges through a setuid program");
	if (p->no_new_privs)
		add(t, "no_new_privs: set");
	if (!p->setuid)
		add(t, "mounts: every mount is nosuid");
	if (userns)
		add(t, "identity: setuid-root files belong to an unmapped uid");
done:
#undef NEXT
	ward_sc_rules_free(&r);
	return n;
}

static void eline(struct ward_engine_line *out, size_t max, size_t *n, bool holds, const char *fmt,
		  ...) __attribute__((format(printf, 5, 6)));
static void eline(struct ward_engine_line *out, size_t max, size_t *n, bool holds, const char *fmt,
		  ...)
{
	va_list ap;

	if (*n >= max)
		return;
	out[*n].holds = holds;
	va_start(ap, fmt);
	vsnprintf(out[*n].text, sizeof(out[*n].text), fmt, ap);
	va_end(ap);
	(*n)++;
}

size_t ward_engine_summary(const struct ward_policy *p, int abi, struct ward_engine_line *out,
			   size_t max)
{
	static const char *const never[] = {
		"init_module",
		"finit_module",
		"kexec_load",
		"kexec_file_load",
		"bpf",
		"perf_event_open",
		"keyctl",
		"add_key",
		"userfaultfd",
		"io_uring_setup",
		"open_by_handle_at",
		"reboot",
		"swapon",
	};
	struct ward_sc_rules r = {0};
	bool admin = p->level == WARD_LEVEL_ADMIN;
	char list[320], devs[160];
	size_t n = 0, i, o;

	if (!admin && !p->net_admin && !p->dev_admin)
		return 0;
	if (ward_seccomp_rules(p, &r, NULL) < 0)
		memset(&r, 0, sizeof(r));

	/* What still protects the host. */
	if ((p->namespaces & CLONE_NEWUSER) && p->net != WARD_NET_HOST)
		eline(out, max, &n, true,
		      "no host namespace: user, mount, pid, network, ipc, uts, cgroup and time "
		      "namespaces of its own; nested ones (an engine's containers) are made "
		      "inside them, and setns cannot reach the host's");
	if (p->namespaces & CLONE_NEWUSER)
		eline(out, max, &n, true,
		      "no host capability: every capability it holds is within its own user "
		      "namespace, whose uid 0 is an unprivileged host uid");
	for (i = 0, o = 0, list[0] = '\0'; i < ARRAY_SIZE(never); i++)
		if (sc_denied(&r, never[i]) && o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "",
					      never[i]);
	eline(out, max, &n, true,
	      "still denied by the syscall filter under every policy: %s (module loading, "
	      "kexec, bpf, perf, the kernel keyring)",
	      list);
	if (!p->host_time && sc_denied(&r, "clock_settime"))
		eline(out, max, &n, true,
		      "the clock: clock_settime, settimeofday and adjtimex denied; CAP_SYS_TIME "
		      "counts only in the host's user namespace");
	for (i = 0, o = 0, devs[0] = '\0'; i < p->n_devices && o < sizeof(devs); i++)
		o += (size_t)snprintf(devs + o, sizeof(devs) - o, "%s%s", o ? ", " : "",
				      p->devices[i].path);
	eline(out, max, &n, true,
	      "devices: the minimal /dev%s%s and no mknod, which no user namespace may do; "
	      "on cgroup v1 the device list allows nothing else (on v2 `ward run` loads no "
	      "device program: the view and the capabilities bound device access)",
	      p->n_devices ? " plus " : "", devs);
	if (p->cpu_quota_us)
		eline(out, max, &n, true,
		      "limits: pids.max %llu, memory %llu MiB, cpu %llu.%02llu; everything "
		      "nested inside (an inner ward, an engine's containers) counts against them: "
		      "the sandbox's cgroup is the root of its cgroup namespace",
		      (unsigned long long)p->pids_max, (unsigned long long)(p->memory_max >> 20),
		      (unsigned long long)(p->cpu_quota_us / p->cpu_period_us),
		      (unsigned long long)(p->cpu_quota_us * 100 / p->cpu_period_us % 100));
	else
		eline(out, max, &n, true,
		      "limits: pids.max %llu, memory %llu MiB; everything nested inside (an "
		      "inner ward, an engine's containers) counts against them: the sandbox's "
		      "cgroup is the root of its cgroup namespace",
		      (unsigned long long)p->pids_max, (unsigned long long)(p->memory_max >> 20));
	if (p->net != WARD_NET_HOST)
		eline(out, max, &n, true,
		      "the host's network: not in the sandbox's namespaces; /proc/sys read-only%s",
		      p->net_admin ? " but /proc/sys/net, which shows the opener's own namespace"
				   : "");
	if (p->net_admin)
		eline(out, max, &n, true,
		      "network: only its own namespace is administered; what its network "
		      "entitlement grants is enforced on the host (table ip ward_nat, table "
		      "bridge ward), where the program cannot change it");
	if (p->no_new_privs)
		eline(out, max, &n, true,
		      "no_new_privs: no set-id or file-capability program "
		      "gains anything");

	/* What is given up compared with the default (security.confined,
	 * network.none). */
	if (admin) {
		eline(out, max, &n, false,
		      "security.admin: Landlock is not applied (a Landlock-restricted process "
		      "cannot mount): the file system rests on the view, the identity and the "
		      "filter%s",
		      abi >= 4 ? "; TCP port rules of network.connect/listen are not applied" : "");
		eline(out, max, &n, false,
		      "security.admin: mount, pivot_root, the new mount API, setns and namespace "
		      "creation are allowed: the kernel's user-namespace and mount code is "
		      "reachable (a larger attack surface than the default's)");
		eline(out, max, &n, false,
		      "security.admin: CAP_SYS_ADMIN and Docker's capability set within its own "
		      "namespaces, which may be kept across a uid change there (KEEP_CAPS "
		      "unlocked, for an engine's runtime)");
	}
	if (p->net_admin)
		eline(out, max, &n, false,
		      "network.admin: the rules ward puts inside the sandbox's namespace are the "
		      "program's to change; AF_PACKET and raw sockets on its own interfaces; the "
		      "kernel's netlink, nftables, bridge and veth code is reachable");
	if (p->dev_admin)
		eline(out, max, &n, false,
		      "host.devices.admin: the %s driver%s reachable from the sandbox",
		      p->dev_admin == (WARD_DEVADMIN_FUSE | WARD_DEVADMIN_TUN) ? "FUSE and tun"
		      : (p->dev_admin & WARD_DEVADMIN_FUSE)		       ? "FUSE"
									       : "tun",
		      p->dev_admin == (WARD_DEVADMIN_FUSE | WARD_DEVADMIN_TUN) ? "s are" : " is");
	ward_sc_rules_free(&r);
	return n;
}

static const char *grant_text(const struct ward_grant *g, char *buf, size_t len)
{
	const struct ward_entitlement *e = &ward_entitlements[g->def];

	if (g->value)
		snprintf(buf, len, "%s=%s", e->name, g->value);
	else
		snprintf(buf, len, "%s", e->name);
	return buf;
}

static void caps_text(uint64_t caps, char *buf, size_t len)
{
	size_t o = 0;
	int c;

	buf[0] = '\0';
	if (caps == 0) {
		snprintf(buf, len, "none");
		return;
	}
	for (c = 0; c < 64; c++) {
		const char *name;

		if (!((caps >> c) & 1))
			continue;
		name = ward_cap_name(c);
		o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? " " : "",
				      name ? name : "?");
		if (o >= len)
			return;
	}
}

static void seccomp_counts(const struct ward_policy *p, size_t *allowed, size_t *denied,
			   size_t *filtered)
{
	struct ward_sc_rules r = {0};
	size_t i;

	*allowed = *denied = *filtered = 0;
	if (ward_seccomp_rules(p, &r, NULL) < 0)
		return;
	for (i = 0; i < r.n; i++) {
		if (r.rules[i].n_args)
			(*filtered)++;
		else if (r.rules[i].action == WARD_SC_ALLOW)
			(*allowed)++;
		else
			(*denied)++;
	}
	ward_sc_rules_free(&r);
}

static const char *net_text(enum ward_net_mode m)
{
	switch (m) {
	case WARD_NET_NONE:
		return "none";
	case WARD_NET_LOOPBACK:
		return "loopback";
	case WARD_NET_HOST:
		return "host";
	case WARD_NET_OUTBOUND:
		return "outbound";
	case WARD_NET_PORTS:
		return "ports";
	default:
		return "?";
	}
}

static const char *level_text(enum ward_level l)
{
	switch (l) {
	case WARD_LEVEL_CONFINED:
		return "confined";
	case WARD_LEVEL_USER:
		return "user";
	case WARD_LEVEL_ADMIN:
		return "admin";
	default:
		return "?";
	}
}

static void families_text(uint64_t fam, char *buf, size_t len)
{
	static const struct {
		int af;
		const char *name;
	} names[] = {
		{AF_UNIX, "AF_UNIX"},	    {AF_INET, "AF_INET"},     {AF_INET6, "AF_INET6"},
		{AF_NETLINK, "AF_NETLINK"}, {AF_PACKET, "AF_PACKET"},
	};
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if ((fam >> names[i].af) & 1)
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? ", " : "",
					      names[i].name);
}

/* Per-layer summary lines of the resolved policy. */
struct layer_line {
	enum ward_layer layer;
	char text[512];
};

static size_t layer_summary(const struct ward_policy *p, int abi, struct layer_line *out)
{
	char buf[400], fam[128];
	bool rl = rootless_mode();
	size_t n = 0, allowed, denied, filtered;
	struct ward_landlock_plan plan;
	cleanup_free char *missing = NULL;

#define LINE(l, ...)                                                     \
	do {                                                             \
		out[n].layer = (l);                                      \
		snprintf(out[n].text, sizeof(out[n].text), __VA_ARGS__); \
		n++;                                                     \
	} while (0)

	LINE(WARD_LAYER_NS, "new %s namespaces%s", ward_ns_names(p->namespaces, buf, sizeof(buf)),
	     p->net == WARD_NET_HOST ? "; the host's network namespace (network.host)" : "");
	if (!p->scratch_exec && rl && inherited_memfd_noexec() < 2)
		LINE(WARD_LAYER_NS,
		     "rootless: vm.memfd_noexec stays %d, as the host has it (only host root may "
		     "raise it): a memfd made without MFD_EXEC can be executed; set it to 2 on "
		     "the host (sysctl vm.memfd_noexec=2) to close that",
		     inherited_memfd_noexec());
	else if (!p->scratch_exec)
		LINE(WARD_LAYER_NS, "vm.memfd_noexec=2 in the sandbox's pid namespace: no memfd is "
				    "executable; anonymous memory may still be mapped executable");
	if (rl && (p->namespaces & CLONE_NEWUSER)) {
		struct ward_rootless_ids ids;

		ward_rootless_ids_plan(&ids, ward_rootless_wants_range(p, false));
		LINE(WARD_LAYER_NS, "rootless: a user namespace of ward's own (for init) owns the "
				    "other namespaces; the program's is nested in it");
		if (ids.subids)
			LINE(WARD_LAYER_IDENTITY,
			     "rootless: uid/gid 0 inside is your uid %u/gid %u, ids 1..%u your "
			     "subordinate ranges (%u.., %u..); no host range of its own: every "
			     "sandbox of yours runs as you, apart by its pid namespace and "
			     "Landlock's scoping",
			     (unsigned)ids.uid, (unsigned)ids.gid, ids.count - 1, ids.sub_uid.start,
			     ids.sub_gid.start);
		else
			LINE(WARD_LAYER_IDENTITY,
			     "rootless: uid/gid 0 inside is your uid %u/gid %u, and only that "
			     "(%s); "
			     "setgroups is denied, so your supplementary groups stay",
			     (unsigned)ids.uid, (unsigned)ids.gid, ids.why_not);
	} else if (p->namespaces & CLONE_NEWUSER)
		LINE(WARD_LAYER_IDENTITY,
		     "uid/gid 0 inside a user namespace, mapped to %u unprivileged host ids "
		     "of its own (never host root)",
		     WARD_ID_RANGE);
	else
		LINE(WARD_LAYER_IDENTITY, "an unprivileged host uid/gid of its own (no user "
					  "namespace, for host.time); never host root");
	LINE(WARD_LAYER_MOUNT,
	     "/usr /bin /sbin /lib* /etc read-only%s; private /tmp and /dev/shm (tmpfs, %llu "
	     "MiB, %s); minimal /dev; fresh /proc with masked and read-only paths; read-only "
	     "/sys; nothing else of the host",
	     p->setuid ? "" : " and nosuid", (unsigned long long)(p->memory_max >> 20),
	     p->scratch_exec ? "executable: what the program writes there may run "
			       "(fs.scratch.noexec refuses it)"
			     : "noexec (fs.scratch.noexec)");
	for (size_t i = 0; i < p->n_paths; i++) {
		const struct ward_path_grant *g = &p->paths[i];

		LINE(WARD_LAYER_MOUNT, "%s: %s%s (%s)", g->path,
		     (g->access & WARD_FS_WRITE)
			     ? (rl ? "read-write, not idmapped (rootless: your files are uid 0 "
				     "inside, others' unmapped)"
				   : "read-write, idmapped")
			     : "read-only",
		     (g->access & WARD_FS_EXEC) ? ", exec" : ", noexec", g->origin);
	}
	for (size_t i = 0; i < p->n_devices; i++)
		LINE(WARD_LAYER_MOUNT, "%s: device node bound into /dev (%s)", p->devices[i].path,
		     p->devices[i].origin);
	if (rl) {
		cleanup_free char *st = ward_default_state_dir_path();
		cleanup_free char *e = st ? ward_escape(st, 256) : NULL;

		LINE(WARD_LAYER_MOUNT,
		     "rootless: ward's state directory %s (the broker's socket, the seccomp "
		     "cache) is covered by an empty read-only tmpfs wherever a grant shows it: "
		     "your sandboxes run as your uid, so its owner and mode keep none out",
		     e ? e : "(none)");
	}
	caps_text(p->caps, buf, sizeof(buf));
	LINE(WARD_LAYER_CAPS, "%s%s; never CAP_FSETID", buf,
	     p->caps ? " (bounding, permitted, effective, inheritable, ambient)"
		     : " (all five sets empty; securebits keep uid 0 from regaining any)");
	LINE(WARD_LAYER_NNP, "%s", p->no_new_privs ? "set" : "NOT set (process.setuid)");
	seccomp_counts(p, &allowed, &denied, &filtered);
	families_text(p->socket_families, fam, sizeof(fam));
	LINE(WARD_LAYER_SECCOMP,
	     "%zu syscalls allowed, %zu denied with EPERM, %zu argument-filtered; any other "
	     "gets ENOSYS",
	     allowed, denied, filtered);
	LINE(WARD_LAYER_SECCOMP,
	     "socket families: %s; clone/unshare %s; ioctl TIOCSTI/TIOCLINUX "
	     "denied; personality restricted",
	     fam, p->allow_ns_clone ? "may create namespaces" : "without namespace flags");
	{
		struct ward_sc_arg_filter af[8];
		size_t k, m = ward_sc_arg_filters(p, af, ARRAY_SIZE(af));

		for (k = 0; k < m; k++)
			LINE(WARD_LAYER_SECCOMP, "refused: %s (%s)", af[k].what, af[k].reason);
	}
	ward_landlock_plan(p, abi, &plan);
	if (abi <= 0) {
		LINE(WARD_LAYER_LANDLOCK, "not available in this kernel: ward run refuses unless "
					  "--best-effort");
	} else if (plan.abi <= 0) {
		missing = ward_landlock_missing_text(plan.missing);
		LINE(WARD_LAYER_LANDLOCK, "not applied: %s", missing ? missing : "?");
	} else {
		char ports[160] = "";
		size_t o = 0;

		for (size_t k = 0; k < plan.n_ports && o < sizeof(ports); k++)
			o += (size_t)snprintf(
				ports + o, sizeof(ports) - o, "%s%s %u", k ? ", " : " except ",
				plan.ports[k].access == LANDLOCK_ACCESS_NET_BIND_TCP ? "bind"
										     : "connect",
				plan.ports[k].port);
		LINE(WARD_LAYER_LANDLOCK, "ABI %d: %zu filesystem rules matching the view%s%s%s",
		     abi, plan.n_rules,
		     plan.handled_net == LANDLOCK_ACCESS_NET_BIND_TCP ? "; TCP bind denied"
		     : plan.handled_net ? "; TCP bind and connect denied"
					: "",
		     ports, plan.scoped ? "; abstract Unix sockets and signals scoped" : "");
		missing = ward_landlock_missing_text(plan.missing);
		if (missing) {
			char *line = missing, *nl;

			while (line && *line) {
				nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				LINE(WARD_LAYER_LANDLOCK, "missing: %s", line);
				line = nl ? nl + 1 : NULL;
			}
		}
	}
	ward_landlock_plan_free(&plan);
	if (p->net == WARD_NET_HOST)
		LINE(WARD_LAYER_NFT, "none: the host's network namespace (network.host)");
	else if (!WARD_NET_HAS_VETH(p))
		LINE(WARD_LAYER_NFT, "no rules needed: no interface but loopback");
	if (WARD_NET_HAS_VETH(p)) {
		LINE(WARD_LAYER_NFT,
		     "host (table ip ward_nat): %s; new connections from ward0 to the host "
		     "rejected; forwarded only %s",
		     p->net == WARD_NET_OUTBOUND ? "masquerade"
						 : "masquerade only for connect rules "
						   "outside the range",
		     p->net == WARD_NET_OUTBOUND ? "out of ward0 (not to 169.254.0.0/16), or by "
						   "connect rules"
						 : "by connect rules");
		LINE(WARD_LAYER_NFT,
		     "host (table bridge ward): its veth sends only IPv4 and ARP as "
		     "its own MAC and address, and receives only for that address");
		if (rl)
			LINE(WARD_LAYER_NFT,
			     "rootless: \"host\" above is your router, a network namespace of "
			     "yours (one per user, made on demand, gone %d s after your last "
			     "sandbox with a network) that pasta joins to the host's network as "
			     "you; the router rejects every address of the host's own (its "
			     "services); --publish listens as you on the host",
			     WARD_NET_ROUTER_IDLE);
		LINE(WARD_LAYER_NFT, "inside: IPv6 dropped on eth0 (which has IPv6 disabled); ::1 "
				     "on lo only");
		for (size_t k = 0; k < p->n_net_rules; k++) {
			const struct ward_net_rule *r = &p->net_rules[k];

			if (r->listen)
				LINE(WARD_LAYER_NFT, "inside: new connections in to port %u (%s)",
				     r->port, r->origin);
			else if (p->net != WARD_NET_OUTBOUND)
				LINE(WARD_LAYER_NFT, "inside: new connections out to %s:%u (%s)",
				     r->host, r->port, r->origin);
		}
		if (p->n_net_rules)
			LINE(WARD_LAYER_NFT, "inside: everything else %s is refused%s",
			     p->net == WARD_NET_OUTBOUND ? "coming in" : "in or out",
			     p->net_lo_open ? " (loopback open: network.loopback)" : "");
	}
	if (p->cpu_quota_us)
		snprintf(buf, sizeof(buf), "%.2f CPUs",
			 (double)p->cpu_quota_us / (double)p->cpu_period_us);
	else
		snprintf(buf, sizeof(buf), "no CPU limit");
	LINE(WARD_LAYER_CGROUP, "pids.max %llu (+1 for ward's init); memory %llu MiB, no swap; %s",
	     (unsigned long long)p->pids_max, (unsigned long long)(p->memory_max >> 20), buf);
	if (rl) {
		const char *how = NULL;
		cleanup_free char *d = ward_cgroup_delegated(NULL, geteuid(), &how);

		if (d) {
			cleanup_free char *e = ward_escape(d, 256);

			LINE(WARD_LAYER_CGROUP,
			     "rootless: in the cgroup delegated to you, %s (%s); no v1 devices "
			     "list (root only): the minimal /dev and nodev stand for it",
			     e, how);
		} else if (how)
			LINE(WARD_LAYER_CGROUP,
			     "rootless: WARD_CGROUP is not a cgroup below the hierarchy's root "
			     "(\"..\"): ward run refuses it");
		else
			LINE(WARD_LAYER_CGROUP,
			     "rootless: no cgroup is delegated to you: ward run refuses unless "
			     "--best-effort (fix: sudo ward delegate %u)",
			     (unsigned)ward_host_uid());
	}
	LINE(WARD_LAYER_RLIMIT, "RLIMIT_NOFILE %llu; RLIMIT_CORE 0; RLIMIT_NPROC %llu",
	     (unsigned long long)p->nofile, (unsigned long long)p->pids_max + 1);
	LINE(WARD_LAYER_PROCESS,
	     "clean environment (PATH, HOME, TERM); only fds 0-2; a new session; dies with "
	     "ward; hostname \"ward\"; signals forwarded, exit status passed through");
#undef LINE
	return n;
}

int ward_explain_text(const struct ward_policy *p, int abi, FILE *f, ward_error_t *err)
{
	struct layer_line lines[64];
	struct ward_threat threats[24];
	size_t n, i, j;
	char buf[512];

	(void)err;
	fprintf(f, "Entitlements in force:\n");
	for (i = 0; i < p->n_grants; i++) {
		const struct ward_grant *g = &p->grants[i];
		const struct ward_entitlement *e = &ward_entitlements[g->def];

		fprintf(f, "  %-28s %s%s\n", grant_text(g, buf, sizeof(buf)), g->origin,
			(e->flags & WARD_ENT_DANGEROUS) ? "  [dangerous]" : "");
	}
	fprintf(f, "  (network: %s, security: %s)\n", net_text(p->net), level_text(p->level));

	fprintf(f, "\nWhat each entitlement compiles to:\n");
	for (i = 0; i < p->n_grants; i++) {
		const struct ward_entitlement *e = &ward_entitlements[p->grants[i].def];

		fprintf(f, "  %s\n", grant_text(&p->grants[i], buf, sizeof(buf)));
		for (j = 0; j < WARD_LAYER_COUNT; j++)
			if (e->layers[j])
				fprintf(f, "    %-13s %s\n", ward_layer_name((enum ward_layer)j),
					e->layers[j]);
	}

	fprintf(f, "\nLayers, in the order they are applied to the program:\n");
	n = layer_summary(p, abi, lines);
	for (i = 0; i < n; i++)
		fprintf(f, "  %-13s %s\n", ward_layer_name(lines[i].layer), lines[i].text);

	fprintf(f, "\nDefense in depth (layers that stop each sensitive operation):\n");
	n = ward_threat_matrix(p, abi, threats, ARRAY_SIZE(threats));
	for (i = 0; i < n; i++) {
		fprintf(f, "  %-44s %zu layer%s\n", threats[i].operation, threats[i].n_layers,
			threats[i].n_layers == 1 ? "" : "s");
		for (j = 0; j < threats[i].n_layers; j++)
			fprintf(f, "      - %s\n", threats[i].layers[j]);
		if (threats[i].n_layers == 0)
			fprintf(f, "      warning: nothing stops it under this policy\n");
		else if (threats[i].n_layers == 1)
			fprintf(f, "      warning: only one layer stops it\n");
	}

	{
		struct ward_engine_line el[24];
		size_t ne = ward_engine_summary(p, abi, el, ARRAY_SIZE(el));

		if (ne) {
			fprintf(f,
				"\nAdmin entitlements (engines inside ward): what still protects "
				"the host:\n");
			for (i = 0; i < ne; i++)
				if (el[i].holds)
					fprintf(f, "  - %s\n", el[i].text);
			fprintf(f, "What is given up compared with the default:\n");
			for (i = 0; i < ne; i++)
				if (!el[i].holds)
					fprintf(f, "  - %s\n", el[i].text);
		}
	}
	return 0;
}

int ward_explain_json(const struct ward_policy *p, int abi, FILE *f, ward_error_t *err)
{
	json_t *root = json_object(), *ents = json_array(), *layers = json_object();
	json_t *matrix = json_array(), *paths = json_array();
	struct layer_line lines[64];
	struct ward_threat threats[24];
	size_t n, i, j;
	char buf[512];
	int rc = 0;

	for (i = 0; i < p->n_grants; i++) {
		const struct ward_grant *g = &p->grants[i];
		const struct ward_entitlement *e = &ward_entitlements[g->def];
		json_t *o = json_object(), *per = json_object();

		json_object_set_new(o, "name", json_string(e->name));
		json_object_set_new(o, "value", g->value ? json_string(g->value) : json_null());
		json_object_set_new(o, "text", json_string(grant_text(g, buf, sizeof(buf))));
		json_object_set_new(o, "origin", json_string(g->origin));
		json_object_set_new(o, "dangerous", json_boolean(e->flags & WARD_ENT_DANGEROUS));
		for (j = 0; j < WARD_LAYER_COUNT; j++)
			if (e->layers[j])
				json_object_set_new(per, ward_layer_name((enum ward_layer)j),
						    json_string(e->layers[j]));
		json_object_set_new(o, "layers", per);
		json_array_append_new(ents, o);
	}
	json_object_set_new(root, "entitlements", ents);
	json_object_set_new(root, "network", json_string(net_text(p->net)));
	json_object_set_new(root, "security", json_string(level_text(p->level)));

	n = layer_summary(p, abi, lines);
	for (i = 0; i < n; i++) {
		const char *name = ward_layer_name(lines[i].layer);
		json_t *arr = json_object_get(layers, name);

		if (arr == NULL) {
			arr = json_array();
			json_object_set_new(layers, name, arr);
		}
		json_array_append_new(arr, json_string(lines[i].text));
	}
	json_object_set_new(root, "layers", layers);

	for (i = 0; i < p->n_paths; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "path", json_string(p->paths[i].path));
		json_object_set_new(o, "read", json_true());
		json_object_set_new(o, "write", json_boolean(p->paths[i].access & WARD_FS_WRITE));
		json_object_set_new(o, "exec", json_boolean(p->paths[i].access & WARD_FS_EXEC));
		json_object_set_new(o, "origin", json_string(p->paths[i].origin));
		json_array_append_new(paths, o);
	}
	json_object_set_new(root, "paths", paths);
	{
		json_t *res = json_object();

		json_object_set_new(res, "pids_max", json_integer((json_int_t)p->pids_max));
		json_object_set_new(res, "memory_max", json_integer((json_int_t)p->memory_max));
		json_object_set_new(res, "cpu_quota_us", json_integer((json_int_t)p->cpu_quota_us));
		json_object_set_new(res, "cpu_period_us",
				    json_integer((json_int_t)p->cpu_period_us));
		json_object_set_new(res, "nofile", json_integer((json_int_t)p->nofile));
		json_object_set_new(root, "resources", res);
	}
	{
		json_t *caps = json_array();
		int c;

		for (c = 0; c < 64; c++)
			if ((p->caps >> c) & 1)
				json_array_append_new(caps, json_string(ward_cap_name(c)));
		json_object_set_new(root, "capabilities", caps);
		json_object_set_new(root, "no_new_privs", json_boolean(p->no_new_privs));
		json_object_set_new(root, "landlock_abi", json_integer(abi));
	}

	n = ward_threat_matrix(p, abi, threats, ARRAY_SIZE(threats));
	for (i = 0; i < n; i++) {
		json_t *o = json_object(), *ls = json_array();

		json_object_set_new(o, "operation", json_string(threats[i].operation));
		for (j = 0; j < threats[i].n_layers; j++)
			json_array_append_new(ls, json_string(threats[i].layers[j]));
		json_object_set_new(o, "layers", ls);
		json_object_set_new(o, "count", json_integer((json_int_t)threats[i].n_layers));
		json_object_set_new(o, "warning", json_boolean(threats[i].n_layers < 2));
		json_array_append_new(matrix, o);
	}
	json_object_set_new(root, "defense_in_depth", matrix);
	{
		struct ward_engine_line el[24];
		size_t ne = ward_engine_summary(p, abi, el, ARRAY_SIZE(el));

		if (ne) {
			json_t *eng = json_object(), *holds = json_array(), *given = json_array();

			for (i = 0; i < ne; i++)
				json_array_append_new(el[i].holds ? holds : given,
						      json_string(el[i].text));
			json_object_set_new(eng, "holds", holds);
			json_object_set_new(eng, "given_up", given);
			json_object_set_new(root, "admin", eng);
		}
	}

	if (json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		rc = ward_error_set(err, EIO, "cannot write JSON");
	fputc('\n', f);
	json_decref(root);
	return rc;
}

static const char *status_text(const struct ward_entitlement *e)
{
	if (e->flags & WARD_ENT_UNAVAILABLE)
		return "not yet available";
	if (e->flags & WARD_ENT_DEFAULT)
		return "default";
	return "";
}

static void name_with_arg(const struct ward_entitlement *e, char *buf, size_t len)
{
	if (e->arg == WARD_ARG_NONE)
		snprintf(buf, len, "%s", e->name);
	else if (e->flags & WARD_ENT_VALUE_OPTIONAL)
		snprintf(buf, len, "%s[=%s]", e->name, ward_arg_kind_hint(e->arg));
	else
		snprintf(buf, len, "%s=%s", e->name, ward_arg_kind_hint(e->arg));
}

int ward_catalog_text(FILE *f)
{
	size_t i;
	char buf[128];

	for (i = 0; i < ward_n_entitlements; i++) {
		const struct ward_entitlement *e = &ward_entitlements[i];
		const char *st = status_text(e);

		name_with_arg(e, buf, sizeof(buf));
		fprintf(f, "%-30s %s", buf, e->summary);
		if (*st || (e->flags & WARD_ENT_DANGEROUS))
			fprintf(f, "  [%s%s%s]", st,
				*st && (e->flags & WARD_ENT_DANGEROUS) ? ", " : "",
				(e->flags & WARD_ENT_DANGEROUS) ? "dangerous" : "");
		fputc('\n', f);
	}
	return 0;
}

int ward_catalog_json(FILE *f, ward_error_t *err)
{
	json_t *arr = json_array();
	size_t i, j;
	int rc = 0;

	for (i = 0; i < ward_n_entitlements; i++) {
		const struct ward_entitlement *e = &ward_entitlements[i];
		json_t *o = json_object(), *per = json_object();

		json_object_set_new(o, "name", json_string(e->name));
		json_object_set_new(o, "argument",
				    e->arg == WARD_ARG_NONE
					    ? json_null()
					    : json_string(ward_arg_kind_hint(e->arg)));
		json_object_set_new(o, "summary", json_string(e->summary));
		json_object_set_new(o, "dangerous", json_boolean(e->flags & WARD_ENT_DANGEROUS));
		json_object_set_new(o, "available",
				    json_boolean(!(e->flags & WARD_ENT_UNAVAILABLE)));
		json_object_set_new(o, "default", json_boolean(e->flags & WARD_ENT_DEFAULT));
		json_object_set_new(o, "group", e->group ? json_string(e->group) : json_null());
		for (j = 0; j < WARD_LAYER_COUNT; j++)
			if (e->layers[j])
				json_object_set_new(per, ward_layer_name((enum ward_layer)j),
						    json_string(e->layers[j]));
		json_object_set_new(o, "layers", per);
		json_array_append_new(arr, o);
	}
	if (json_dumpf(arr, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		rc = ward_error_set(err, EIO, "cannot write JSON");
	fputc('\n', f);
	json_decref(arr);
	return rc;
}

int ward_catalog_markdown(FILE *f)
{
	size_t i, j;
	char buf[128];

	fprintf(f,
		"# Entitlements\n\n"
		"<!-- Generated by `ward entitlements --markdown` from lib/entitlements/table.c. "
		"Do not edit by hand: `make docs` rewrites it. -->\n\n"
		"One entitlement per line in a manifest (`#` starts a comment), or `--allow "
		"NAME[=VALUE]` on the command line. With none at all, ward runs the strictest "
		"useful sandbox: `network.none` and `security.confined`, 1024 processes, a "
		"quarter of RAM, 1024 open files.\n\n"
		"| entitlement | grants | status |\n| --- | --- | --- |\n");
	for (i = 0; i < ward_n_entitlements; i++) {
		const struct ward_entitlement *e = &ward_entitlements[i];
		const char *st = status_text(e);

		name_with_arg(e, buf, sizeof(buf));
		fprintf(f, "| `%s` | %s | %s%s%s |\n", buf, e->summary, st,
			*st && (e->flags & WARD_ENT_DANGEROUS) ? ", " : "",
			(e->flags & WARD_ENT_DANGEROUS) ? "**dangerous**" : "");
	}
	fprintf(f, "\n## Layer by layer\n");
	for (i = 0; i < ward_n_entitlements; i++) {
		const struct ward_entitlement *e = &ward_entitlements[i];

		if (e->flags & WARD_ENT_UNAVAILABLE)
			continue;
		name_with_arg(e, buf, sizeof(buf));
		fprintf(f, "\n### `%s`%s\n\n%s.\n\n", buf,
			(e->flags & WARD_ENT_DANGEROUS) ? " (dangerous)" : "", e->summary);
		for (j = 0; j < WARD_LAYER_COUNT; j++)
			if (e->layers[j])
				fprintf(f, "- **%s**: %s\n", ward_layer_name((enum ward_layer)j),
					e->layers[j]);
	}
	return 0;
}
