/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's side of seccomp user notification: explain each denied
 * syscall in entitlement words, answer with the errno the filter would have
 * given.  See notify.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../denials/audit.h"
#include "../entitlements.h"
#include "../util.h"
#include "learn.h"
#include "notify.h"
#include "seccomp.h"

#define DEFAULT_MAX_LINES 20
#define MAX_KINDS	  256

/* One distinct denial: a syscall plus its decoded key argument (nr < 0: a
 * refusal by another layer, named by key: "landlock execute /tmp/x"). */
struct kind {
	int nr;
	char key[96];
	unsigned long count;
	bool printed;
};

struct rule_nr {
	int nr;
	const struct ward_sc_rule *rule;
};

struct ward_denials {
	struct ward_sc_rules rules;
	struct rule_nr *by_nr;
	size_t n_by_nr;
	struct ward_denials_options o;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	size_t req_size, resp_size;
	struct kind kinds[MAX_KINDS];
	size_t n_kinds;
	unsigned long total, unlisted;
	unsigned printed;
	int connect_nr, execve_nr, execveat_nr;
	const struct ward_policy *p;
	/* Landlock domains created by the program (from their audit records),
	 * and access records that arrived before their domain's record. */
	uint64_t domains[8];
	size_t n_domains;
	struct ward_audit_record pending[8];
	size_t n_pending;
};

static int seccomp_sizes(struct seccomp_notif_sizes *s)
{
	return (int)syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, s);
}

struct ward_denials *ward_denials_new(const struct ward_policy *p,
				      const struct ward_denials_options *o, ward_error_t *err)
{
	struct ward_denials *d = ward_xcalloc(1, sizeof(*d));
	struct seccomp_notif_sizes sizes;
	size_t i;

	d->o = *o;
	d->p = p;
	d->connect_nr = seccomp_syscall_resolve_name("connect");
	d->execve_nr = seccomp_syscall_resolve_name("execve");
	d->execveat_nr = seccomp_syscall_resolve_name("execveat");
	if (d->o.max_lines == 0)
		d->o.max_lines = DEFAULT_MAX_LINES;
	if (ward_seccomp_rules(p, &d->rules, err) < 0) {
		free(d);
		return NULL;
	}
	d->by_nr = ward_xcalloc(d->rules.n, sizeof(*d->by_nr));
	for (i = 0; i < d->rules.n; i++) {
		int nr = seccomp_syscall_resolve_name(d->rules.rules[i].syscall);

		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue;
		d->by_nr[d->n_by_nr].nr = nr;
		d->by_nr[d->n_by_nr].rule = &d->rules.rules[i];
		d->n_by_nr++;
	}
	if (seccomp_sizes(&sizes) < 0) {
		ward_error_sys(err, "seccomp(SECCOMP_GET_NOTIF_SIZES)");
		ward_denials_free(d);
		return NULL;
	}
	/* The kernel may know a larger structure than our headers: allocate
	 * what it says. */
	d->req_size = sizes.seccomp_notif > sizeof(*d->req) ? sizes.seccomp_notif : sizeof(*d->req);
	d->resp_size = sizes.seccomp_notif_resp > sizeof(*d->resp) ? sizes.seccomp_notif_resp
								   : sizeof(*d->resp);
	d->req = ward_xcalloc(1, d->req_size);
	d->resp = ward_xcalloc(1, d->resp_size);
	return d;
}

void ward_denials_free(struct ward_denials *d)
{
	if (d == NULL)
		return;
	ward_sc_rules_free(&d->rules);
	free(d->by_nr);
	free(d->req);
	free(d->resp);
	free(d);
}

unsigned long ward_denials_count(const struct ward_denials *d)
{
	return d ? d->total : 0;
}

static bool arg_matches(const struct ward_sc_arg *a, const uint64_t *args)
{
	uint64_t v;

	if (a->index > 5)
		return false;
	v = args[a->index];
	switch (a->op) {
	case WARD_SC_OP_EQ:
		return v == a->a;
	case WARD_SC_OP_NE:
		return v != a->a;
	case WARD_SC_OP_MASKED_EQ:
		return (v & a->a) == a->b;
	case WARD_SC_OP_LT:
		return v < a->a;
	case WARD_SC_OP_GT:
		return v > a->a;
	default:
		return false;
	}
}

/* The denying rule that matched this call (the filter already decided that
 * one did; this finds which, for its errno and its entitlement). */
static const struct ward_sc_rule *find_rule(const struct ward_denials *d, int nr,
					    const uint64_t *args)
{
	const struct ward_sc_rule *best = NULL;
	size_t i;
	unsigned j;

	for (i = 0; i < d->n_by_nr; i++) {
		const struct ward_sc_rule *r = d->by_nr[i].rule;
		bool ok = true;

		if (d->by_nr[i].nr != nr || r->action != WARD_SC_ERRNO)
			continue;
		for (j = 0; j < r->n_args && ok; j++)
			ok = arg_matches(&r->args[j], args);
		if (!ok)
			continue;
		if (best == NULL || (best->entitlement == NULL && r->entitlement))
			best = r;
	}
	return best;
}

const char *ward_af_name(unsigned long af)
{
	static const struct {
		unsigned long af;
		const char *name;
	} names[] = {
		{AF_UNIX, "AF_UNIX"},
		{AF_INET, "AF_INET"},
		{AF_INET6, "AF_INET6"},
		{AF_NETLINK, "AF_NETLINK"},
		{AF_PACKET, "AF_PACKET"},
		{AF_KEY, "AF_KEY"},
		{AF_BLUETOOTH, "AF_BLUETOOTH"},
		{AF_VSOCK, "AF_VSOCK"},
		{AF_ALG, "AF_ALG"},
		{AF_XDP, "AF_XDP"},
		{AF_CAN, "AF_CAN"},
		{AF_TIPC, "AF_TIPC"},
		{AF_APPLETALK, "AF_APPLETALK"},
		{AF_X25, "AF_X25"},
		{AF_AX25, "AF_AX25"},
		{AF_RDS, "AF_RDS"},
		{AF_SMC, "AF_SMC"},
		{AF_QIPCRTR, "AF_QIPCRTR"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].af == af)
			return names[i].name;
	return NULL;
}

const char *ward_clone_flags_text(uint64_t flags, char *buf, size_t len)
{
	static const struct {
		uint64_t flag;
		const char *name;
	} names[] = {
		{CLONE_NEWUSER, "CLONE_NEWUSER"},     {CLONE_NEWNS, "CLONE_NEWNS"},
		{CLONE_NEWPID, "CLONE_NEWPID"},	      {CLONE_NEWNET, "CLONE_NEWNET"},
		{CLONE_NEWIPC, "CLONE_NEWIPC"},	      {CLONE_NEWUTS, "CLONE_NEWUTS"},
		{CLONE_NEWCGROUP, "CLONE_NEWCGROUP"}, {CLONE_NEWTIME, "CLONE_NEWTIME"},
	};
	size_t i, o = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(flags & names[i].flag))
			continue;
		o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? "|" : "",
				      names[i].name);
		if (o >= len)
			break;
	}
	if (o == 0)
		snprintf(buf, len, "0x%llx", (unsigned long long)flags);
	return buf;
}

/* The key argument, in words: socket(AF_INET), unshare(CLONE_NEWUSER). */
static void decode_key(const char *name, const uint64_t *args, char *buf, size_t len)
{
	buf[0] = '\0';
	if (strcmp(name, "socket") == 0 || strcmp(name, "socketpair") == 0) {
		const char *af = ward_af_name((unsigned long)(args[0] & 0xffffffffULL));

		if (af && (args[0] & 0xffffffffULL) == AF_NETLINK &&
		    (args[2] & 0xffffffffULL) == NETLINK_KOBJECT_UEVENT)
			snprintf(buf, len, "%s, NETLINK_KOBJECT_UEVENT", af);
		else if (af)
			snprintf(buf, len, "%s", af);
		else
			snprintf(buf, len, "family %llu",
				 (unsigned long long)(args[0] & 0xffffffff));
	} else if (strcmp(name, "clone") == 0) {
		/* clone's low byte is the exit signal (CSIGNAL), so CLONE_NEWTIME
		 * (0x80) cannot be one of its flags. */
		ward_clone_flags_text(args[0] & ~0xffULL, buf, len);
	} else if (strcmp(name, "unshare") == 0) {
		ward_clone_flags_text(args[0] & 0xffffffffULL, buf, len);
	} else if (strcmp(name, "ioctl") == 0) {
		unsigned cmd = (unsigned)(args[1] & 0xffffffff);

		if (cmd == 0x5412)
			snprintf(buf, len, "TIOCSTI");
		else if (cmd == 0x541c)
			snprintf(buf, len, "TIOCLINUX");
		else
			snprintf(buf, len, "0x%x", cmd);
	} else if (strcmp(name, "personality") == 0) {
		snprintf(buf, len, "0x%llx", (unsigned long long)(args[0] & 0xffffffff));
	} else {
		/* The argument filters of profile.c: modes, sizes, flags. */
		(void)ward_sc_decode_key(name, args, buf, len);
	}
}

/* Which entitlements would allow it: for socket families from the table's
 * socket_families, otherwise from the table's syscall groups. */
static void remedy(const char *name, const uint64_t *args, const struct ward_sc_rule *r, char *buf,
		   size_t len)
{
	int ents[8];
	size_t n = 0, i, o = 0;

	/* A call no entitlement allows, whatever is granted: say why. */
	if (r && r->reason && r->entitlement == NULL) {
		snprintf(buf, len, "no entitlement allows %s", r->reason);
		return;
	}
	if (strcmp(name, "socket") == 0 && (args[0] & 0xffffffffULL) == AF_NETLINK &&
	    (args[2] & 0xffffffffULL) == NETLINK_KOBJECT_UEVENT) {
		/* Refused even where netlink is granted (profile.c). */
		snprintf(buf, len, "no entitlement allows the host's device events");
		return;
	}
	if (strcmp(name, "socket") == 0) {
		unsigned long af = (unsigned long)(args[0] & 0xffffffff);

		for (i = 0; i < ward_n_entitlements && n < ARRAY_SIZE(ents); i++) {
			const struct ward_entitlement *e = &ward_entitlements[i];

			if (af < 64 && (e->socket_families >> af) & 1 &&
			    !(e->flags & (WARD_ENT_UNAVAILABLE | WARD_ENT_DEFAULT)))
				ents[n++] = (int)i;
		}
	} else if (r && r->entitlement) {
		n = ward_entitlements_for_syscall(name, ents, ARRAY_SIZE(ents));
		if (n > ARRAY_SIZE(ents))
			n = ARRAY_SIZE(ents);
		if (n == 0) {
			int def = ward_entitlement_lookup(r->entitlement);

			if (def >= 0)
				ents[n++] = def;
		}
	}
	if (n == 0) {
		snprintf(buf, len, "no entitlement allows it");
		return;
	}
	o += (size_t)snprintf(buf + o, len - o, "grant ");
	for (i = 0; i < n && o < len; i++) {
		const struct ward_entitlement *e = &ward_entitlements[ents[i]];

		o += (size_t)snprintf(buf + o, len - o, "%s%s%s%s",
				      i == 1 ? " (or "
				      : i    ? ", "
					     : "",
				      e->name,
				      (e->flags & WARD_ENT_DANGEROUS) ? " [dangerous]" : "",
				      i > 0 && i == n - 1 ? ")" : "");
	}
	if (o < len)
		snprintf(buf + o, len - o, " to allow");
}

/* The pid inside the sandbox (last NSpid field) and the executable, escaped:
 * the program chooses its executable's path (and a memfd's name, shown as
 * "/memfd:NAME (deleted)"), so it goes through ward_escape() before it
 * reaches the operator's terminal or the denials log, as one line that cannot
 * move the cursor, set a title or forge a "ward:" line. */
static void describe_process(pid_t host_pid, long *ns_pid, char *exe, size_t exe_len)
{
	char path[64], raw[4096];
	cleanup_free char *status = NULL;
	cleanup_free char *esc = NULL;
	ssize_t n;

	*ns_pid = host_pid;
	snprintf(path, sizeof(path), "/proc/%d/status", host_pid);
	if (ward_read_file(path, &status, NULL) == 0) {
		char *l = strstr(status, "\nNSpid:");

		if (l) {
			char *end = strchr(l + 1, '\n');
			char *last = NULL, *tok, *save = NULL;

			if (end)
				*end = '\0';
			for (tok = strtok_r(l + 7, " \t", &save); tok;
			     tok = strtok_r(NULL, " \t", &save))
				last = tok;
			if (last)
				*ns_pid = strtol(last, NULL, 10);
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", host_pid);
	n = readlink(path, raw, sizeof(raw));
	if (n < 0)
		n = 0;
	/* At most 200 bytes of it, and the escaped text fits exe (4 bytes per
	 * escaped byte, and the "...(+N bytes)" tail). */
	esc = ward_escape_mem(raw, (size_t)n, 200);
	snprintf(exe, exe_len, "%s", esc);
}

static struct kind *find_kind(struct ward_denials *d, int nr, const char *key)
{
	size_t i;

	for (i = 0; i < d->n_kinds; i++)
		if (d->kinds[i].nr == nr && strcmp(d->kinds[i].key, key) == 0)
			return &d->kinds[i];
	if (d->n_kinds == MAX_KINDS)
		return NULL;
	d->kinds[d->n_kinds].nr = nr;
	snprintf(d->kinds[d->n_kinds].key, sizeof(d->kinds[0].key), "%s", key);
	return &d->kinds[d->n_kinds++];
}

static void log_json(struct ward_denials *d, const char *name, const char *key, long ns_pid,
		     pid_t host_pid, const char *exe, int err_no, const struct ward_sc_rule *r,
		     const char *fix)
{
	json_t *o = json_object();
	struct timespec ts;
	char *line;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_set_new(o, "time", json_real((double)ts.tv_sec + ts.tv_nsec / 1e9));
	json_object_set_new(o, "syscall", json_string(name));
	json_object_set_new(o, "arg", *key ? json_string(key) : json_null());
	json_object_set_new(o, "pid", json_integer(ns_pid));
	json_object_set_new(o, "host_pid", json_integer(host_pid));
	json_object_set_new(o, "exe", json_string(exe));
	json_object_set_new(o, "errno", json_integer(err_no));
	json_object_set_new(o, "entitlement",
			    r && r->entitlement ? json_string(r->entitlement) : json_null());
	json_object_set_new(o, "hint", json_string(fix));
	json_object_set_new(o, "learning", json_boolean(d->o.learn != NULL));
	line = json_dumps(o, JSON_COMPACT);
	if (line) {
		fprintf(d->o.jsonl, "%s\n", line);
		fflush(d->o.jsonl);
		free(line);
	}
	json_decref(o);
}

/*
 * connect(2) under network.connect: the call goes on (the layers decide);
 * a destination no rule names is explained.  Returns true when it printed
 * or logged; key and fix get the text.  The address is read from the
 * caller's memory before the answer, which is only a report: what the call
 * does is decided by Landlock and nftables on the memory it finally reads.
 */
static bool explain_connect(const struct ward_denials *d, pid_t pid, const uint64_t *args,
			    char *key, size_t keylen, char *fix, size_t fixlen, int *err_no)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} u;
	size_t len = args[2] < sizeof(u) ? (size_t)args[2] : sizeof(u), i;
	struct iovec local = {.iov_base = &u, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)args[1], .iov_len = len};
	char a[INET6_ADDRSTRLEN];
	bool port_ok = false;
	uint32_t addr;
	unsigned port;

	memset(&u, 0, sizeof(u));
	if (len < sizeof(sa_family_t) ||
	    process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return false;
	if (u.sa.sa_family == AF_INET6 && len >= sizeof(u.in6)) {
		inet_ntop(AF_INET6, &u.in6.sin6_addr, a, sizeof(a));
		snprintf(key, keylen, "[%s]:%u", a, ntohs(u.in6.sin6_port));
		snprintf(fix, fixlen,
			 "network.connect names IPv4 destinations only; grant network.outbound "
			 "for IPv6");
		*err_no = EHOSTUNREACH;
		return true;
	}
	if (u.sa.sa_family != AF_INET || len < sizeof(u.in4))
		return false; /* Unix sockets and the like: not a network destination */
	addr = ntohl(u.in4.sin_addr.s_addr);
	port = ntohs(u.in4.sin_port);
	for (i = 0; i < d->o.n_peers; i++) {
		if (d->o.peers[i].port != port)
			continue;
		port_ok = true;
		if (d->o.peers[i].addr == addr)
			return false; /* granted */
	}
	inet_ntop(AF_INET, &u.in4.sin_addr, a, sizeof(a));
	snprintf(key, keylen, "%s:%u", a, port);
	snprintf(fix, fixlen, "grant network.connect=%s:%u to allow", a, port);
	/* Landlock refuses a port no rule names before any packet exists;
	 * otherwise the nftables rules inside refuse the address. */
	*err_no = !port_ok && d->o.landlock_net ? EACCES : EHOSTUNREACH;
	return true;
}

static void handle_connect(struct ward_denials *d, int listener, pid_t host_pid, int nr,
			   const uint64_t *args)
{
	char key[96], fix[256], exe[1024];
	int err_no = 0;
	bool refused;
	long ns_pid;
	struct kind *k;

	memset(d->resp, 0, d->resp_size);
	d->resp->id = d->req->id;
	d->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	refused = explain_connect(d, host_pid, args, key, sizeof(key), fix, sizeof(fix), &err_no);
	if (refused)
		describe_process(host_pid, &ns_pid, exe, sizeof(exe));
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &d->req->id) < 0)
		return;
	if (!refused)
		goto answer;
	d->total++;
	if (d->o.jsonl)
		log_json(d, "connect", key, ns_pid, host_pid, exe, err_no, NULL, fix);
	k = find_kind(d, nr, key);
	if (k == NULL) {
		d->unlisted++;
		goto answer;
	}
	k->count++;
	if (!k->printed && d->o.human && d->printed < d->o.max_lines) {
		fprintf(d->o.human, "ward: refused connect(%s) by %s in pid %ld (%s) — %s\n", key,
			err_no == EACCES ? "Landlock (port) and nftables" : "the nftables rules",
			ns_pid, *exe ? exe : "?", fix);
		fflush(d->o.human);
		k->printed = true;
		d->printed++;
	}
answer:
	/* The call goes on only now, after the line (as for execute). */
	(void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, d->resp);
}

/*
 * execve(2)/execveat(2): will the mount layer or Landlock refuse it?  The
 * path is read from the caller's memory and looked up beneath the
 * sandbox's root (/proc/PID/root, RESOLVE_IN_ROOT: the program's symbolic
 * links resolve inside its view, never in the supervisor's), O_PATH only:
 * nothing is opened for reading, no FIFO or device is touched.  A missing
 * file is not explained (shells and execvp try every PATH directory).
 * Returns true with op/fix/key filled when the call will be refused.
 */
static bool under_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool explain_exec(const struct ward_denials *d, pid_t pid, const uint64_t *args, bool at,
			 char *path, size_t pathlen, const char **layer, char *fix, size_t fixlen)
{
	char raw[4096], root[64], cwd[4096], dir[4096];
	struct iovec local = {.iov_base = raw, .iov_len = sizeof(raw) - 1};
	struct iovec remote;
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	cleanup_close int rootfd = -1, fd = -1;
	struct statvfs sv;
	struct stat st;
	ssize_t n;
	char *slash;
	size_t i;

	remote.iov_base = (void *)(uintptr_t)args[at ? 1 : 0];
	remote.iov_len = sizeof(raw) - 1;
	/* A read may stop at the end of a mapping: retry with less. */
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n <= 0) {
		local.iov_len = remote.iov_len = 4096 - ((uintptr_t)remote.iov_base & 4095);
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	}
	if (n <= 0)
		return false;
	raw[n] = '\0';
	if (strlen(raw) == (size_t)n || raw[0] == '\0')
		return false; /* no NUL within reach, or fexecve's "" */
	if (raw[0] == '/') {
		snprintf(path, pathlen, "%s", raw);
	} else {
		char link[64];
		ssize_t c;

		if (at && (int)args[0] != AT_FDCWD)
			return false;
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
		c = readlink(link, cwd, sizeof(cwd) - 1);
		if (c <= 0 || cwd[0] != '/')
			return false;
		cwd[c] = '\0';
		if (snprintf(path, pathlen, "%s/%s", strcmp(cwd, "/") ? cwd : "", raw) >=
		    (int)pathlen)
			return false;
	}
	{
		/* "/tmp/./x" is "/tmp/x" (".." is left as written). */
		cleanup_free char *norm = ward_path_normalize(path);

		if (norm)
			snprintf(path, pathlen, "%s", norm);
	}
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return false;
	fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111) ||
	    fstatvfs(fd, &sv) < 0)
		return false;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (sv.f_flag & ST_NOEXEC) {
		*layer = "the mount (noexec)";
		if (!d->p->scratch_exec && (under_dir(path, "/tmp") || under_dir(path, "/dev/shm")))
			snprintf(fix, fixlen,
				 "the scratch space is not executable under "
				 "fs.scratch.noexec; remove it to allow");
		else
			snprintf(fix, fixlen,
				 "grant fs.exec=%.400s to allow (fs.read and fs.write "
				 "grants never execute)",
				 dir);
		return true;
	}
	/* Landlock: explained by its own records when they are read; else
	 * from the rules ward gave it. */
	if (d->o.landlock_audited || d->o.ll == NULL || d->o.ll->abi <= 0 ||
	    !(d->o.ll->handled_fs & LANDLOCK_ACCESS_FS_EXECUTE))
		return false;
	for (i = 0; i < d->o.ll->n_rules; i++)
		if ((d->o.ll->rules[i].access & LANDLOCK_ACCESS_FS_EXECUTE) &&
		    under_dir(path, d->o.ll->rules[i].path))
			return false;
	*layer = "Landlock";
	if (!d->p->scratch_exec && (under_dir(path, "/tmp") || under_dir(path, "/dev/shm")))
		snprintf(fix, fixlen,
			 "the scratch space is not executable under "
			 "fs.scratch.noexec; remove it to allow");
	else
		snprintf(fix, fixlen, "grant fs.exec=%.400s to allow", dir);
	return true;
}

static void handle_exec(struct ward_denials *d, int listener, pid_t host_pid, int nr,
			const uint64_t *args)
{
	char path[4096], fix[512], key[96], exe[1024];
	const char *layer = NULL;
	cleanup_free char *esc = NULL, *efix = NULL;
	bool refused;
	long ns_pid = 0;
	struct kind *k;

	memset(d->resp, 0, d->resp_size);
	d->resp->id = d->req->id;
	d->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	refused = explain_exec(d, host_pid, args, nr == d->execveat_nr, path, sizeof(path), &layer,
			       fix, sizeof(fix));
	if (refused)
		describe_process(host_pid, &ns_pid, exe, sizeof(exe));
	/* What was read belongs to the caller only if the notification is
	 * still valid; the call goes on either way (the layers decide). */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &d->req->id) < 0)
		refused = false;
	if (!refused)
		goto answer;
	/* The path and the directory in the hint are the program's choice. */
	esc = ward_escape(path, 200);
	efix = ward_escape(fix, 400);
	d->total++;
	if (d->o.jsonl)
		log_json(d, "execve", esc, ns_pid, host_pid, exe, EACCES, NULL, efix);
	{
		const char *slash = strrchr(esc, '/');
		int dlen = slash && slash != esc ? (int)(slash - esc) : 1;

		if (dlen > 64)
			dlen = 64;
		snprintf(key, sizeof(key), "exec beneath %.*s", dlen, esc);
	}
	k = find_kind(d, -2, key);
	if (k == NULL) {
		d->unlisted++;
		goto answer;
	}
	k->count++;
	if (!k->printed && d->o.human && d->printed < d->o.max_lines) {
		fprintf(d->o.human, "ward: refused execute(%s) by %s in pid %ld (%s) — %s\n", esc,
			layer, ns_pid, *exe ? exe : "?", efix);
		fflush(d->o.human);
		k->printed = true;
		d->printed++;
	}
answer:
	/* The call goes on only now: the line comes before whatever the
	 * program writes about the refusal to the same terminal. */
	(void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, d->resp);
}

int ward_denials_handle(struct ward_denials *d, int listener, ward_error_t *err)
{
	const struct ward_sc_rule *r;
	char *name = NULL, key[96], fix[256], exe[1024], call[160];
	struct ward_learn *seen = NULL;
	uint64_t args[6];
	struct kind *k;
	long ns_pid;
	pid_t host_pid;
	int err_no, i;

	memset(d->req, 0, d->req_size);
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, d->req) < 0) {
		/* ENOENT: the caller died before we read it; EINTR: retry later. */
		if (errno == ENOENT || errno == EINTR)
			return 0;
		return ward_error_sys(err, "seccomp notification");
	}
	for (i = 0; i < 6; i++)
		args[i] = d->req->data.args[i];
	host_pid = (pid_t)d->req->pid;
	r = find_rule(d, d->req->data.nr, args);
	if (r == NULL && !d->o.learn && d->o.explain_connect && d->req->data.nr == d->connect_nr) {
		handle_connect(d, listener, host_pid, d->req->data.nr, args);
		return 0;
	}
	if (r == NULL && !d->o.learn && d->o.explain_exec &&
	    (d->req->data.nr == d->execve_nr || d->req->data.nr == d->execveat_nr)) {
		handle_exec(d, listener, host_pid, d->req->data.nr, args);
		return 0;
	}
	err_no = r ? r->err : EPERM;
	name = seccomp_syscall_resolve_num_arch(d->req->data.arch, d->req->data.nr);

	memset(d->resp, 0, d->resp_size);
	d->resp->id = d->req->id;
	if (d->o.learn) {
		/* Observing: the call goes on as if unfiltered. */
		d->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else {
		d->resp->error = -err_no;
	}

	decode_key(name ? name : "", args, key, sizeof(key));
	remedy(name ? name : "", args, r, fix, sizeof(fix));
	/* Learning reads paths and addresses from the caller's memory and its
	 * /proc entries: before the call goes on and can change them, into a
	 * recorder of its own, merged below only once the notification is
	 * known to be still valid (else the pid may be another process's by
	 * now, even the host's).  What is read never changes the answer: every
	 * call goes on. */
	if (d->o.learn) {
		seen = ward_learn_new();
		ward_learn_syscall(seen, host_pid, name ? name : "?", key, args);
	}
	describe_process(host_pid, &ns_pid, exe, sizeof(exe));
	/* Answer only now: what was read from /proc belongs to the process
	 * that made this call only if the notification is still valid. */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &d->req->id) < 0) {
		ward_learn_free(seen);
		free(name);
		return 0;
	}
	if (seen) {
		ward_learn_merge(d->o.learn, seen);
		ward_learn_free(seen);
	}
	if (*key)
		snprintf(call, sizeof(call), "%s(%s)", name ? name : "?", key);
	else
		snprintf(call, sizeof(call), "%s(2)", name ? name : "?");
	d->total++;
	if (d->o.jsonl)
		log_json(d, name ? name : "?", key, ns_pid, host_pid, exe, err_no, r, fix);
	k = find_kind(d, d->req->data.nr, key);
	if (k == NULL) {
		d->unlisted++;
	} else {
		k->count++;
		if (!k->printed && d->o.human && !d->o.learn && d->printed < d->o.max_lines) {
			fprintf(d->o.human,
				"ward: denied %s by the syscall filter in pid %ld (%s) — %s\n",
				call, ns_pid, *exe ? exe : "?", fix);
			fflush(d->o.human);
			k->printed = true;
			d->printed++;
		}
	}
	/* Answered last: the denial's line is written before the program can
	 * go on and write its own error to the same terminal (it was sometimes
	 * in the middle of the program's "mount: " on a busy machine). */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, d->resp) < 0 && errno != ENOENT) {
		free(name);
		return ward_error_sys(err, "answering a seccomp notification");
	}
	free(name);
	return 0;
}

void ward_denials_summary(struct ward_denials *d)
{
	size_t i;

	if (d == NULL || d->o.human == NULL || d->o.learn)
		return;
	for (i = 0; i < d->n_kinds; i++) {
		struct kind *k = &d->kinds[i];
		unsigned long more = k->printed ? k->count - 1 : k->count;
		char *name;

		if (more == 0)
			continue;
		if (k->nr < 0) {
			fprintf(d->o.human, "ward: %lu more refusal%s%s: %s\n", more,
				more == 1 ? "" : "s", k->nr == -1 ? " by Landlock" : "", k->key);
			continue;
		}
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, k->nr);
		fprintf(d->o.human, "ward: %lu more denial%s of %s%s%s%s\n", more,
			more == 1 ? "" : "s", name ? name : "?", *k->key ? "(" : "(2", k->key, ")");
		free(name);
	}
	if (d->unlisted)
		fprintf(d->o.human, "ward: %lu more denials of other kinds\n", d->unlisted);
}

/* ---------------------------------------------------------------- Landlock's records */

static bool our_domain(const struct ward_denials *d, uint64_t domain)
{
	size_t i;

	for (i = 0; i < d->n_domains; i++)
		if (d->domains[i] == domain)
			return true;
	return false;
}

static void report_landlock(struct ward_denials *d, const struct ward_audit_record *r)
{
	const char *op = "access";
	char fix[512], key[96];
	cleanup_free char *path = ward_escape(r->path[0] ? r->path : "?", 200);
	struct kind *k;

	ward_audit_explain(d->p, r, &op, fix, sizeof(fix));
	d->total++;
	if (d->o.jsonl) {
		json_t *o = json_object();
		struct timespec ts;
		char *line;

		clock_gettime(CLOCK_REALTIME, &ts);
		json_object_set_new(o, "time", json_real((double)ts.tv_sec + ts.tv_nsec / 1e9));
		json_object_set_new(o, "layer", json_string("landlock"));
		json_object_set_new(o, "syscall", json_null());
		json_object_set_new(o, "operation", json_string(op));
		json_object_set_new(o, "arg", json_string(path));
		json_object_set_new(o, "blockers", json_string(r->blockers));
		json_object_set_new(o, "errno", json_integer(EACCES));
		json_object_set_new(o, "hint", json_string(fix));
		json_object_set_new(o, "learning", json_false());
		line = json_dumps(o, JSON_COMPACT);
		if (line) {
			fprintf(d->o.jsonl, "%s\n", line);
			fflush(d->o.jsonl);
			free(line);
		}
		json_decref(o);
	}
	/* One line per operation and directory, so that a program refused on
	 * a thousand files of one tree prints one line. */
	{
		const char *slash = strrchr(path, '/');
		int dlen = slash && slash != path ? (int)(slash - path) : (int)strlen(path);

		if (dlen > 64)
			dlen = 64;
		snprintf(key, sizeof(key), "%.16s beneath %.*s", op, dlen, path);
	}
	k = find_kind(d, -1, key);
	if (k == NULL) {
		d->unlisted++;
		return;
	}
	k->count++;
	if (!k->printed && d->o.human && d->printed < d->o.max_lines) {
		fprintf(d->o.human, "ward: refused %s(%s) by Landlock — %s\n", op, path, fix);
		fflush(d->o.human);
		k->printed = true;
		d->printed++;
	}
}

size_t ward_denials_audit(struct ward_denials *d, int fd, const pid_t *pids, size_t n_pids)
{
	char buf[8192];
	size_t got = 0;
	ssize_t n;

	/* Every process's records come here: a host that logs faster than
	 * this loop reads must not keep the supervisor in it.  The rest wait
	 * for the next call. */
	while (got < WARD_AUDIT_READ_MAX && (n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		got++;
		/* One record per datagram.  Its nlmsg_len is not to be trusted
		 * (the audit subsystem has set it to the payload's length), so
		 * the payload is what was received, up to its first NUL. */
		if (n < (ssize_t)NLMSG_HDRLEN)
			continue;
		{
			struct ward_audit_record r;
			const char *text = buf + NLMSG_HDRLEN;
			size_t i;

			if (ward_audit_parse(h->nlmsg_type, text,
					     strnlen(text, (size_t)n - NLMSG_HDRLEN), &r) < 0)
				continue;
			if (r.type == WARD_AUDIT_LANDLOCK_DOMAIN) {
				bool ours = false;

				/* The kernel logs a domain lazily, with its first
				 * denial: the pid is the process that created it,
				 * the program ward executed. */
				for (i = 0; i < n_pids && r.allocated; i++)
					ours |= r.pid == pids[i];
				if (!ours || our_domain(d, r.domain))
					continue;
				if (d->n_domains < ARRAY_SIZE(d->domains))
					d->domains[d->n_domains++] = r.domain;
				for (i = 0; i < d->n_pending; i++)
					if (d->pending[i].domain == r.domain)
						report_landlock(d, &d->pending[i]);
				d->n_pending = 0;
				continue;
			}
			if (our_domain(d, r.domain))
				report_landlock(d, &r);
			else if (d->n_pending < ARRAY_SIZE(d->pending))
				d->pending[d->n_pending++] = r;
			else
				/* Other sandboxes' records crowd the queue: keep
				 * the newest, the one before its domain record. */
				d->pending[ARRAY_SIZE(d->pending) - 1] = r;
		}
	}
	return got;
}
