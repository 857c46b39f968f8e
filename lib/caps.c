/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The capability layer: bounding, permitted, effective, inheritable and
 * ambient sets, securebits, and no_new_privs.
 *
 * The launcher calls, in the sandboxed child:
 *   ward_set_no_new_privs()        (unless process.setuid)
 *   set uids/gids
 *   ward_caps_drop_bounding(keep)  bounding, securebits, inheritable
 *   Landlock, seccomp              (may need CAP_SYS_ADMIN: see below)
 *   ward_caps_finish(keep)         ambient, then permitted = effective = keep
 *   execve
 *
 * Why two steps: without no_new_privs (process.setuid), landlock_restrict_self
 * and installing a seccomp filter need CAP_SYS_ADMIN in the process's user
 * namespace.  So the first step only removes what can never come back (the
 * bounding set) and fixes the rules for execve (securebits, inheritable);
 * permitted and effective are trimmed in the last step, after seccomp.
 *
 * The sets are read and written with the raw capget/capset syscalls
 * (version 3, two 32-bit words); nothing here needs libcap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/securebits.h>

#include "caps.h"
#include "util.h"

#define CAP_BIT(c) (UINT64_C(1) << (c))

static const char *const cap_names[] = {
	[CAP_CHOWN] = "CAP_CHOWN",
	[CAP_DAC_OVERRIDE] = "CAP_DAC_OVERRIDE",
	[CAP_DAC_READ_SEARCH] = "CAP_DAC_READ_SEARCH",
	[CAP_FOWNER] = "CAP_FOWNER",
	[CAP_FSETID] = "CAP_FSETID",
	[CAP_KILL] = "CAP_KILL",
	[CAP_SETGID] = "CAP_SETGID",
	[CAP_SETUID] = "CAP_SETUID",
	[CAP_SETPCAP] = "CAP_SETPCAP",
	[CAP_LINUX_IMMUTABLE] = "CAP_LINUX_IMMUTABLE",
	[CAP_NET_BIND_SERVICE] = "CAP_NET_BIND_SERVICE",
	[CAP_NET_BROADCAST] = "CAP_NET_BROADCAST",
	[CAP_NET_ADMIN] = "CAP_NET_ADMIN",
	[CAP_NET_RAW] = "CAP_NET_RAW",
	[CAP_IPC_LOCK] = "CAP_IPC_LOCK",
	[CAP_IPC_OWNER] = "CAP_IPC_OWNER",
	[CAP_SYS_MODULE] = "CAP_SYS_MODULE",
	[CAP_SYS_RAWIO] = "CAP_SYS_RAWIO",
	[CAP_SYS_CHROOT] = "CAP_SYS_CHROOT",
	[CAP_SYS_PTRACE] = "CAP_SYS_PTRACE",
	[CAP_SYS_PACCT] = "CAP_SYS_PACCT",
	[CAP_SYS_ADMIN] = "CAP_SYS_ADMIN",
	[CAP_SYS_BOOT] = "CAP_SYS_BOOT",
	[CAP_SYS_NICE] = "CAP_SYS_NICE",
	[CAP_SYS_RESOURCE] = "CAP_SYS_RESOURCE",
	[CAP_SYS_TIME] = "CAP_SYS_TIME",
	[CAP_SYS_TTY_CONFIG] = "CAP_SYS_TTY_CONFIG",
	[CAP_MKNOD] = "CAP_MKNOD",
	[CAP_LEASE] = "CAP_LEASE",
	[CAP_AUDIT_WRITE] = "CAP_AUDIT_WRITE",
	[CAP_AUDIT_CONTROL] = "CAP_AUDIT_CONTROL",
	[CAP_SETFCAP] = "CAP_SETFCAP",
	[CAP_MAC_OVERRIDE] = "CAP_MAC_OVERRIDE",
	[CAP_MAC_ADMIN] = "CAP_MAC_ADMIN",
	[CAP_SYSLOG] = "CAP_SYSLOG",
	[CAP_WAKE_ALARM] = "CAP_WAKE_ALARM",
	[CAP_BLOCK_SUSPEND] = "CAP_BLOCK_SUSPEND",
	[CAP_AUDIT_READ] = "CAP_AUDIT_READ",
	[CAP_PERFMON] = "CAP_PERFMON",
	[CAP_BPF] = "CAP_BPF",
	[CAP_CHECKPOINT_RESTORE] = "CAP_CHECKPOINT_RESTORE",
};

/*
 * securebits ward always sets, and locks, before the program runs:
 *
 * SECBIT_NOROOT (locked): uid 0, and a set-user-ID-root file, get no
 *   capability from execve.  Inside the sandbox the program is usually uid 0
 *   of its own user namespace; without this bit every execve would hand it
 *   the full set again (as far as the bounding set allows).
 * SECBIT_NO_SETUID_FIXUP *cleared* and locked: the kernel's "setuid fixup"
 *   stays on, so a program that switches from uid 0 to another uid (a daemon
 *   dropping privileges, su) loses its capabilities, as it would under
 *   Docker.  Setting the bit would only let capabilities survive that switch:
 *   the fixups never raise anything beyond the permitted set.  ward's own
 *   uid change (host.time) keeps the permitted set with KEEP_CAPS instead,
 *   and both steps below raise the effective set back.  Locking the bit
 *   cleared means a program holding CAP_SETPCAP (security.user) cannot turn
 *   it on.
 * SECBIT_KEEP_CAPS locked, at the value it has: the kernel clears KEEP_CAPS
 *   at every execve, locked or not, so the program always starts with it
 *   clear and cannot set it (PR_SET_KEEPCAPS fails): it cannot keep its
 *   capabilities across a switch away from uid 0 either.  Before execve it
 *   may still be set: for host.time the launcher sets PR_SET_KEEPCAPS so that
 *   its own setresuid() to the unprivileged host uid keeps the permitted set,
 *   and may do so on either side of ward_caps_drop_bounding().
 * SECBIT_NO_CAP_AMBIENT_RAISE (locked): nothing can be raised as ambient
 *   beyond what ward raised.  With keep == 0 it is set in
 *   ward_caps_drop_bounding() already; otherwise in ward_caps_finish(), right
 *   after the kept capabilities were raised.
 */
#define SECBITS_BASE                                                            \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED | \
	 SECBIT_KEEP_CAPS_LOCKED)
#define SECBITS_AMBIENT (SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)
/* Bits that must be clear once the base bits are locked. */
#define SECBITS_CLEAR SECBIT_NO_SETUID_FIXUP

/*
 * security.admin (CAP_SYS_ADMIN kept): KEEP_CAPS is left unlocked.  An engine
 * inside (crun under podman, an inner ward) sets PR_SET_KEEPCAPS to keep its
 * capabilities across its switch to a container's uid; every capability the
 * sandbox holds is within its own user namespace, so keeping one across a
 * uid change there reaches nothing of the host.  NOROOT, the setuid fixup
 * and ambient raising stay locked.
 */
static unsigned base_bits(uint64_t keep)
{
	if (keep & (1ULL << CAP_SYS_ADMIN))
		return SECBITS_BASE & ~(unsigned)SECBIT_KEEP_CAPS_LOCKED;
	return SECBITS_BASE;
}

const char *ward_cap_name(int cap)
{
	if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
		return NULL;
	return cap_names[cap];
}

int ward_cap_from_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	if (*name == '\0')
		return -1;
	for (i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (cap_names[i] && strcasecmp(name, cap_names[i] + 4) == 0)
			return (int)i;
	return -1;
}

static int cap_last_probe(void)
{
	int n = CAP_LAST_CAP;

	/* PR_CAPBSET_READ fails with EINVAL for a capability the kernel does not know. */
	if (prctl(PR_CAPBSET_READ, n, 0, 0, 0) >= 0) {
		while (n < 63 && prctl(PR_CAPBSET_READ, n + 1, 0, 0, 0) >= 0)
			n++;
		return n;
	}
	while (n > 0 && prctl(PR_CAPBSET_READ, n, 0, 0, 0) < 0)
		n--;
	return n;
}

int ward_cap_last(void)
{
	static int cached = -1;
	cleanup_free char *buf = NULL;
	size_t len = 0;
	char *end;
	long v;

	if (cached >= 0)
		return cached;
	if (ward_read_file("/proc/sys/kernel/cap_last_cap", &buf, &len) == 0) {
		errno = 0;
		v = strtol(buf, &end, 10);
		if (errno == 0 && end != buf && v >= 0 && v <= 63) {
			cached = (int)v;
			return cached;
		}
	}
	/* No /proc (yet) in this view: ask the kernel one capability at a time. */
	cached = cap_last_probe();
	return cached;
}

static uint64_t cap_mask_upto(int last)
{
	return last >= 63 ? UINT64_MAX : CAP_BIT(last + 1) - 1;
}

struct capsets {
	uint64_t eff, perm, inh;
};

static int caps_get(struct capsets *c)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &hdr, d) < 0)
		return -1;
	c->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	c->perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	c->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int caps_set(const struct capsets *c)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	d[0].effective = (uint32_t)c->eff;
	d[1].effective = (uint32_t)(c->eff >> 32);
	d[0].permitted = (uint32_t)c->perm;
	d[1].permitted = (uint32_t)(c->perm >> 32);
	d[0].inheritable = (uint32_t)c->inh;
	d[1].inheritable = (uint32_t)(c->inh >> 32);
	return (int)syscall(SYS_capset, &hdr, d);
}

/* "CAP_X" for a known capability, "capability N" otherwise (a newer kernel). */
static const char *cap_label(int cap, char *buf, size_t size)
{
	const char *name = ward_cap_name(cap);

	if (name)
		return name;
	snprintf(buf, size, "capability %d", cap);
	return buf;
}

static int lowest_cap(uint64_t set)
{
	return set ? __builtin_ctzll(set) : -1;
}

static int check_keep(uint64_t keep, int last, ward_error_t *err)
{
	uint64_t unknown = keep & ~cap_mask_upto(last);
	char buf[32];

	if (keep & WARD_CAPS_NEVER)
		return ward_error_set(
			err, EPERM,
			"%s is never granted: it would let the sandbox leave a "
			"privileged file on the host",
			cap_label(lowest_cap(keep & WARD_CAPS_NEVER), buf, sizeof(buf)));
	if (unknown)
		return ward_error_set(err, EINVAL,
				      "capability %d is not known to this kernel (its last is %d)",
				      lowest_cap(unknown), last);
	return 0;
}

/* Set the wanted securebits (one prctl), keeping bits already set and locked. */
static int securebits_set(unsigned want, ward_error_t *err)
{
	int cur;
	unsigned next;

	cur = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (cur < 0)
		return ward_error_sys(err, "prctl(PR_GET_SECUREBITS)");
	next = ((unsigned)cur | want) & ~(unsigned)SECBITS_CLEAR;
	if (next == (unsigned)cur)
		return 0;
	/* PR_SET_SECUREBITS needs CAP_SETPCAP in the effective set. */
	if (prctl(PR_SET_SECUREBITS, next, 0, 0, 0) < 0)
		return ward_error_sys(err,
				      "prctl(PR_SET_SECUREBITS, %#x) (from %#x; needs CAP_SETPCAP)",
				      next, (unsigned)cur);
	return 0;
}

static int securebits_verify(unsigned want, ward_error_t *err)
{
	int cur = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);

	if (cur < 0)
		return ward_error_sys(err, "prctl(PR_GET_SECUREBITS)");
	if (((unsigned)cur & want) != want || ((unsigned)cur & SECBITS_CLEAR))
		return ward_error_set(err, EPERM,
				      "securebits are %#x after setting them (wanted %#x)",
				      (unsigned)cur, want);
	return 0;
}

/*
 * The bounding and ambient sets have no capget: prctl asks for one
 * capability at a time (41 calls per set, each a full system call, and a
 * filtered one after seccomp).  /proc/self/status has both sets in one
 * read.  It is used when it is a procfs (the sandbox's own /proc, mounted
 * by init; nothing of the sandbox has run yet), and the prctl loops
 * otherwise, so the answer never depends on a file the caller could have
 * put there.
 */
static int status_hex(const char *text, const char *key, uint64_t *out)
{
	const char *at = strstr(text, key);
	char *end;

	if (at == NULL)
		return -1;
	at += strlen(key);
	errno = 0;
	*out = strtoull(at, &end, 16);
	return errno || end == at || *end != '\n' ? -1 : 0;
}

static int status_caps(uint64_t *bnd, uint64_t *amb)
{
	char buf[4096];
	struct statfs sf;
	size_t len = 0;
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int r = -1;

	if (fd < 0)
		return -1;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		goto out;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	if (status_hex(buf, "\nCapBnd:\t", bnd) == 0 && status_hex(buf, "\nCapAmb:\t", amb) == 0)
		r = 0;
out:
	close(fd);
	return r;
}

/* Every capability up to last that is not in keep must be out of the bounding set. */
static int bounding_verify(uint64_t keep, int last, ward_error_t *err)
{
	char buf[32];
	int cap, r;

	for (cap = 0; cap <= last; cap++) {
		if (keep & CAP_BIT(cap))
			continue;
		r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			return ward_error_sys(err, "prctl(PR_CAPBSET_READ, %s)",
					      cap_label(cap, buf, sizeof(buf)));
		if (r != 0)
			return ward_error_set(err, EPERM, "%s is still in the bounding set",
					      cap_label(cap, buf, sizeof(buf)));
	}
	return 0;
}

static int ambient_verify(uint64_t keep, int last, ward_error_t *err)
{
	char buf[32];
	int cap, r;

	for (cap = 0; cap <= last; cap++) {
		r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);
		if (r < 0)
			return ward_error_sys(err, "prctl(PR_CAP_AMBIENT_IS_SET, %s)",
					      cap_label(cap, buf, sizeof(buf)));
		if (!!r != !!(keep & CAP_BIT(cap)))
			return ward_error_set(err, EPERM, "%s is %s the ambient set",
					      cap_label(cap, buf, sizeof(buf)),
					      r ? "still in" : "missing from");
	}
	return 0;
}

/* Read back: the bounding set holds nothing but keep, and (with ambient)
 * the ambient set is exactly keep.  One read of /proc/self/status, or the
 * prctl loops without a procfs. */
static int sets_verify(uint64_t keep, int last, bool ambient, ward_error_t *err)
{
	uint64_t bnd, amb, bad;
	char buf[32];

	if (status_caps(&bnd, &amb) < 0) {
		if (ambient && ambient_verify(keep, last, err) < 0)
			return -1;
		return bounding_verify(keep, last, err);
	}
	bad = bnd & ~keep & cap_mask_upto(last);
	if (bad)
		return ward_error_set(err, EPERM, "%s is still in the bounding set",
				      cap_label(lowest_cap(bad), buf, sizeof(buf)));
	bad = (amb ^ keep) & cap_mask_upto(last);
	if (ambient && bad)
		return ward_error_set(err, EPERM, "%s is %s the ambient set",
				      cap_label(lowest_cap(bad), buf, sizeof(buf)),
				      amb & bad ? "still in" : "missing from");
	return 0;
}

/*
 * The effective set is used for the prctl and capset calls below, and by
 * Landlock and seccomp under process.setuid.  After setresuid() from uid 0
 * to another uid with PR_SET_KEEPCAPS (host.time), the kernel keeps the
 * permitted set but empties the effective one: raise it back (raising
 * effective within permitted needs no privilege).
 */
static int effective_raise(struct capsets *c, ward_error_t *err)
{
	if (c->eff == c->perm)
		return 0;
	c->eff = c->perm;
	if (caps_set(c) < 0)
		return ward_error_sys(err, "capset (effective = permitted)");
	return 0;
}

int ward_caps_drop_bounding(uint64_t keep, ward_error_t *err)
{
	int last = ward_cap_last(), cap, r;
	struct capsets c;
	uint64_t lacking = 0, bnd, amb;
	unsigned bits;
	char buf[32];

	if (check_keep(keep, last, err) < 0)
		return -1;
	if (caps_get(&c) < 0)
		return ward_error_sys(err, "capget");
	if (effective_raise(&c, err) < 0)
		return -1;

	/*
	 * The bounding set limits what any execve can ever give (file
	 * capabilities, set-user-ID root when NOROOT is not set) and what can
	 * be made inheritable.  Dropping needs CAP_SETPCAP; it never comes back.
	 */
	if (status_caps(&bnd, &amb) < 0) {
		/* No procfs: one capability at a time. */
		bnd = 0;
		for (cap = 0; cap <= last; cap++) {
			r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
			if (r < 0)
				return ward_error_sys(err, "prctl(PR_CAPBSET_READ, %s)",
						      cap_label(cap, buf, sizeof(buf)));
			if (r)
				bnd |= CAP_BIT(cap);
		}
	}
	for (cap = 0; cap <= last; cap++) {
		r = (bnd & CAP_BIT(cap)) != 0;
		if (keep & CAP_BIT(cap)) {
			if (r == 0)
				lacking |= CAP_BIT(cap);
			continue;
		}
		if (r == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return ward_error_sys(err, "dropping %s from the bounding set%s",
					      cap_label(cap, buf, sizeof(buf)),
					      errno == EPERM ? " (needs CAP_SETPCAP)" : "");
	}
	/*
	 * A capability the policy keeps but that ward itself was started
	 * without (this machine's root has no CAP_SYS_RESOURCE) cannot be
	 * made inheritable or ambient: say so rather than fail later.
	 */
	if (lacking)
		return ward_error_set(err, EPERM,
				      "%s is kept by the policy but not in the bounding set ward "
				      "runs with; it cannot be given to the program",
				      cap_label(lowest_cap(lacking), buf, sizeof(buf)));

	/*
	 * With nothing to keep, lock ambient raising off now: nothing may ever
	 * become ambient, even if a later step went wrong.  With capabilities
	 * to keep, ward_caps_finish() raises them as ambient first and locks
	 * afterwards.
	 */
	bits = base_bits(keep) | (keep == 0 ? SECBITS_AMBIENT : 0);
	if (securebits_set(bits, err) < 0)
		return -1;

	/*
	 * inheritable = keep: the ambient set can only hold capabilities that
	 * are both permitted and inheritable.  The kernel allows a new
	 * inheritable set within (old inheritable | bounding), given
	 * CAP_SETPCAP; keep is within the bounding set (checked above).
	 */
	c.inh = keep;
	if (caps_set(&c) < 0)
		return ward_error_sys(err, "capset (inheritable = policy's set)");

	if (sets_verify(keep, last, false, err) < 0 || securebits_verify(bits, err) < 0)
		return -1;
	if (caps_get(&c) < 0)
		return ward_error_sys(err, "capget");
	if (c.inh != keep)
		return ward_error_set(err, EPERM,
				      "inheritable set is %#llx after setting it to %#llx",
				      (unsigned long long)c.inh, (unsigned long long)keep);
	return 0;
}

int ward_caps_finish(uint64_t keep, ward_error_t *err)
{
	int last = ward_cap_last(), cap;
	struct capsets c;
	uint64_t absent;
	char buf[32];

	if (check_keep(keep, last, err) < 0)
		return -1;
	if (caps_get(&c) < 0)
		return ward_error_sys(err, "capget");

	/*
	 * Ambient capabilities are what a program that is not uid 0 for the
	 * kernel (SECBIT_NOROOT, or a real non-root uid) keeps across execve:
	 * after execve, permitted = effective = ambient (for a file without
	 * file capabilities).  Start from an empty ambient set.
	 */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return ward_error_sys(err, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");

	absent = keep & ~c.perm;
	if (absent)
		return ward_error_set(err, EPERM,
				      "%s cannot be kept: it is not in the permitted set of the "
				      "sandboxed process",
				      cap_label(lowest_cap(absent), buf, sizeof(buf)));
	absent = keep & ~c.inh;
	if (absent)
		return ward_error_set(err, EPERM,
				      "%s cannot be kept: it is not in the inheritable set "
				      "(ward_caps_drop_bounding() sets it)",
				      cap_label(lowest_cap(absent), buf, sizeof(buf)));
	if (effective_raise(&c, err) < 0)
		return -1;

	for (cap = 0; cap <= last; cap++) {
		if (!(keep & CAP_BIT(cap)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return ward_error_sys(err, "raising %s as an ambient capability",
					      cap_label(cap, buf, sizeof(buf)));
	}

	/*
	 * Now that the kept set is ambient, lock raising off: a program that
	 * lowers an ambient capability cannot raise it again.  This needs
	 * CAP_SETPCAP in the effective set, which is why the trim comes last.
	 */
	if (securebits_set(base_bits(keep) | SECBITS_AMBIENT, err) < 0)
		return -1;

	/* Lowering permitted and effective needs no privilege and cannot be undone. */
	c.eff = c.perm = c.inh = keep;
	if (caps_set(&c) < 0)
		return ward_error_sys(err, "capset (effective = permitted = policy's set)");

	/* Read everything back: anything left that should not be is an error. */
	if (caps_get(&c) < 0)
		return ward_error_sys(err, "capget");
	if (c.eff != keep || c.perm != keep || c.inh != keep)
		return ward_error_set(err, EPERM,
				      "capabilities left after dropping: effective %#llx, "
				      "permitted %#llx, inheritable %#llx (wanted %#llx)",
				      (unsigned long long)c.eff, (unsigned long long)c.perm,
				      (unsigned long long)c.inh, (unsigned long long)keep);
	if (sets_verify(keep, last, true, err) < 0 ||
	    securebits_verify(base_bits(keep) | SECBITS_AMBIENT, err) < 0)
		return -1;
	return 0;
}

int ward_set_no_new_privs(ward_error_t *err)
{
	int r;

	/*
	 * no_new_privs: execve can no longer grant anything (set-user-ID,
	 * set-group-ID, file capabilities), and it lets an unprivileged
	 * process install seccomp filters and Landlock rulesets.  It is
	 * inherited by every child and cannot be unset.
	 */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return ward_error_sys(err, "prctl(PR_SET_NO_NEW_PRIVS)");
	r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (r < 0)
		return ward_error_sys(err, "prctl(PR_GET_NO_NEW_PRIVS)");
	if (r != 1)
		return ward_error_set(err, EPERM, "no_new_privs is %d after setting it", r);
	return 0;
}
