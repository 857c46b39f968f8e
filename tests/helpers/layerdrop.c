/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * layerdrop: run ward with some of its layers left out, from the outside, so
 * that a test can show that the layers left in stop an attack on their own.
 *
 *   layerdrop [-d LAYER]... -- WARD ARGS...
 *
 * It runs WARD under ptrace and, while the sandbox is being set up, turns
 * the syscalls that apply the named layers into no-ops (or rewrites their
 * arguments); the kernel then never applies them.  ward itself is the binary
 * users install: there is no test switch in it, and ward's own read-back
 * checks are answered with the values it asked for, so it runs on.
 *
 * LAYER (repeatable):
 *   seccomp   the program's filter is replaced by a one-instruction
 *             "allow everything" filter (installed as asked, listener and all)
 *   landlock  landlock_restrict_self() is skipped
 *   caps      the bounding-set drops, the securebits and the capset calls of
 *             the program are skipped (the read-backs see what ward asked
 *             for): uid 0 of the sandbox keeps every capability of its user
 *             namespace across execve.  The program's open of
 *             /proc/self/status (where ward reads its bounding and ambient
 *             sets back) fails with ENOENT, so that ward asks prctl, which
 *             layerdrop answers
 *   nnp       prctl(PR_SET_NO_NEW_PRIVS) is skipped (PR_GET answers 1)
 *   nosuid    MS_NOSUID / MOUNT_ATTR_NOSUID are cleared from every mount
 *   noexec    MS_NOEXEC / MOUNT_ATTR_NOEXEC likewise
 *   userns    the program is cloned without CLONE_NEWUSER and init's writes
 *             of its uid/gid maps are skipped: the program runs as the
 *             host's uid 0 (its capability drop, Landlock and filter still
 *             apply unless dropped too)
 *   nproc     the program's setrlimit(RLIMIT_NPROC) is skipped
 *   setsid    init's and the program's setsid() are skipped: the program
 *             stays in ward's session and keeps its controlling terminal
 *   memfd     init's write of vm.memfd_noexec is skipped: memfds of the
 *             sandbox may be executable again
 *
 * Roles: the traced WARD is the supervisor; its child in a new pid
 * namespace is the sandbox's init; init's child is the program.  Once the
 * program has executed what it was asked to run, layerdrop detaches from it
 * and from init (a traced init could not be ptraced by the program, which
 * would falsify ptrace tests) and only waits for ward to end.
 *
 * Output: ward's own output, then on stderr one line
 *   layerdrop: ward=PID seccomp=N landlock=N ...
 * counting, per requested layer, the calls it changed: a test asserts that
 * each is non-zero, so a change in how ward applies a layer cannot make a
 * layer test pass for the wrong reason.
 * Exit status: ward's (128+N for signal N); 3 when layerdrop cannot run
 * (not x86_64, ptrace refused).
 *
 * x86_64 only.  Test code: never installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_SETUP 3

#ifndef MOUNT_ATTR_NOSUID
#define MOUNT_ATTR_NOSUID 0x00000002
#endif
#ifndef MOUNT_ATTR_NOEXEC
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif

#if !defined(__x86_64__)
int main(void)
{
	fprintf(stderr, "layerdrop: only x86_64 is supported\n");
	return EXIT_SETUP;
}
#else

enum layer {
	L_SECCOMP,
	L_LANDLOCK,
	L_CAPS,
	L_NNP,
	L_NOSUID,
	L_NOEXEC,
	L_USERNS,
	L_NPROC,
	L_SETSID,
	L_MEMFD,
	L_N
};
static const char *const layer_names[L_N] = {"seccomp", "landlock", "caps",  "nnp",    "nosuid",
					     "noexec",	"userns",   "nproc", "setsid", "memfd"};
static bool drop[L_N];
static unsigned long changed[L_N];
static bool verbose;

enum role { R_UNKNOWN, R_SUPERVISOR, R_INIT, R_PROGRAM, R_OTHER };

#define MAX_TRACEES 512
struct tracee {
	pid_t pid;
	enum role role;
	bool skip;	  /* the current syscall was turned into a no-op */
	long skip_ret;	  /* what it returns instead */
	uint64_t fix_cap; /* capget: overwrite the user buffer at exit */
};
static struct tracee tracees[MAX_TRACEES];

/* What ward asked of the program's capability state, answered back to it. */
static uint64_t bset_dropped;
static long securebits = -1;
static bool capset_seen;
static uint32_t capset_data[6]; /* {eff, perm, inh} x 2 words */
static uint64_t ambient;

static pid_t root_pid, init_pid = -1;
static bool done; /* the program has run its execve: detach */
static char own_pidns[64];

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	fputs("layerdrop: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static struct tracee *find(pid_t pid, bool create)
{
	size_t i;

	for (i = 0; i < MAX_TRACEES; i++)
		if (tracees[i].pid == pid)
			return &tracees[i];
	if (!create)
		return NULL;
	for (i = 0; i < MAX_TRACEES; i++)
		if (tracees[i].pid == 0) {
			memset(&tracees[i], 0, sizeof(tracees[i]));
			tracees[i].pid = pid;
			return &tracees[i];
		}
	fprintf(stderr, "layerdrop: too many processes\n");
	exit(EXIT_SETUP);
}

static void forget(pid_t pid)
{
	struct tracee *t = find(pid, false);

	if (t)
		t->pid = 0;
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 2, "%*c %d", &ppid);
	fclose(f);
	return ppid;
}

static bool in_other_pidns(pid_t pid)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return strcmp(link, own_pidns) != 0;
}

static enum role role_of(struct tracee *t)
{
	pid_t ppid;

	if (t->role != R_UNKNOWN)
		return t->role;
	if (t->pid == root_pid)
		return t->role = R_SUPERVISOR;
	ppid = parent_of(t->pid);
	if (ppid == root_pid && init_pid < 0 && in_other_pidns(t->pid)) {
		init_pid = t->pid;
		t->role = R_INIT;
	} else if (ppid > 0 && ppid == init_pid) {
		t->role = R_PROGRAM;
	} else {
		t->role = R_OTHER;
	}
	return t->role;
}

/* ---- tracee memory ---- */

static int peek(pid_t pid, uint64_t addr, uint64_t *out)
{
	long v;

	errno = 0;
	v = ptrace(PTRACE_PEEKDATA, pid, (void *)addr, NULL);
	if (errno)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int poke(pid_t pid, uint64_t addr, uint64_t v)
{
	return (int)ptrace(PTRACE_POKEDATA, pid, (void *)addr, (void *)v);
}

/* Write len bytes (a multiple of 4, at a 4-aligned address) into the tracee. */
static int write_mem(pid_t pid, uint64_t addr, const void *src, size_t len)
{
	const unsigned char *s = src;
	size_t off = 0;

	while (off < len) {
		uint64_t a = (addr + off) & ~7ULL, w;
		size_t skip = (size_t)((addr + off) - a), n = 8 - skip;

		if (n > len - off)
			n = len - off;
		if (peek(pid, a, &w) < 0)
			return -1;
		memcpy((unsigned char *)&w + skip, s + off, n);
		if (poke(pid, a, w) < 0)
			return -1;
		off += n;
	}
	return 0;
}

static int fd_target(pid_t pid, long fd, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%ld", pid, fd);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Is the tracee's NUL-terminated string at addr exactly want? */
static bool str_is(pid_t pid, uint64_t addr, const char *want)
{
	size_t len = strlen(want) + 1, off;
	char buf[64];

	if (addr == 0 || len > sizeof(buf))
		return false;
	for (off = 0; off < len; off += 8) {
		uint64_t w;

		if (peek(pid, addr + off, &w) < 0)
			return false;
		memcpy(buf + off, &w, off + 8 <= sizeof(buf) ? 8 : sizeof(buf) - off);
	}
	return memcmp(buf, want, len) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- the tampering ---- */

static void skip(struct tracee *t, struct user_regs_struct *r, long ret, enum layer l,
		 const char *what)
{
	r->orig_rax = (unsigned long long)-1; /* no such syscall: the kernel does nothing */
	if (ptrace(PTRACE_SETREGS, t->pid, NULL, r) < 0) {
		perror("layerdrop: PTRACE_SETREGS");
		exit(EXIT_SETUP);
	}
	t->skip = true;
	t->skip_ret = ret;
	changed[l]++;
	logf_("%s: skipped %s in pid %d", layer_names[l], what, t->pid);
}

static void set_regs(struct tracee *t, struct user_regs_struct *r)
{
	if (ptrace(PTRACE_SETREGS, t->pid, NULL, r) < 0) {
		perror("layerdrop: PTRACE_SETREGS");
		exit(EXIT_SETUP);
	}
}

/* The program's seccomp filter becomes "return ALLOW": one instruction
 * written over the first of ward's, and the length set to 1. */
static void neuter_filter(struct tracee *t, uint64_t fprog)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	uint64_t w, filter;

	if (peek(t->pid, fprog, &w) < 0 || peek(t->pid, fprog + 8, &filter) < 0)
		return;
	if (write_mem(t->pid, filter, &allow, sizeof(allow)) < 0)
		return;
	w = (w & ~0xffffULL) | 1;
	if (poke(t->pid, fprog, w) < 0)
		return;
	changed[L_SECCOMP]++;
	logf_("seccomp: filter of pid %d replaced by allow-all", t->pid);
}

/* Clear one flag from mount(2), mount_setattr(2) and fsmount(2) calls. */
static void clear_mount_flag(struct tracee *t, struct user_regs_struct *r, long nr, enum layer l,
			     unsigned long ms_flag, uint64_t attr_flag)
{
	if (!drop[l])
		return;
	if (nr == SYS_mount && (r->r10 & ms_flag)) {
		r->r10 &= ~(unsigned long long)ms_flag;
		set_regs(t, r);
		changed[l]++;
	} else if (nr == SYS_mount_setattr && r->r10) {
		uint64_t set;

		if (peek(t->pid, r->r10, &set) == 0 && (set & attr_flag)) {
			poke(t->pid, r->r10, set & ~attr_flag);
			changed[l]++;
		}
	} else if (nr == SYS_fsmount && (r->rdx & attr_flag)) {
		r->rdx &= ~(unsigned long long)attr_flag;
		set_regs(t, r);
		changed[l]++;
	}
}

static void on_entry(struct tracee *t)
{
	struct user_regs_struct r;
	enum role role = role_of(t);
	long nr;
	unsigned long long a0, a1, a2;

	if (ptrace(PTRACE_GETREGS, t->pid, NULL, &r) < 0)
		return;
	nr = (long)r.orig_rax;
	a0 = r.rdi;
	a1 = r.rsi;
	a2 = r.rdx;

	/* Mount flags, whoever mounts (supervisor: detached trees; init: the view). */
	if (role != R_OTHER) {
		clear_mount_flag(t, &r, nr, L_NOSUID, MS_NOSUID, MOUNT_ATTR_NOSUID);
		clear_mount_flag(t, &r, nr, L_NOEXEC, MS_NOEXEC, MOUNT_ATTR_NOEXEC);
	}

	if (role == R_INIT) {
		if (drop[L_USERNS] && nr == SYS_clone3 && a0) {
			uint64_t flags;

			if (peek(t->pid, a0, &flags) == 0 && (flags & CLONE_NEWUSER)) {
				poke(t->pid, a0, flags & ~(uint64_t)CLONE_NEWUSER);
				changed[L_USERNS]++;
				logf_("userns: the program is cloned without CLONE_NEWUSER");
			}
		}
		/* clone(2): the program shares init's memory until execve
		 * (ward_spawn_shared); the flags are the first argument. */
		if (drop[L_USERNS] && nr == SYS_clone && (a0 & CLONE_NEWUSER)) {
			r.rdi = a0 & ~(unsigned long long)CLONE_NEWUSER;
			set_regs(t, &r);
			changed[L_USERNS]++;
			logf_("userns: the program is cloned without CLONE_NEWUSER");
		}
		if ((drop[L_USERNS] || drop[L_MEMFD]) && (nr == SYS_write || nr == SYS_pwrite64)) {
			char target[256];

			if (fd_target(t->pid, (long)a0, target, sizeof(target)) < 0 ||
			    strncmp(target, "/proc/", 6) != 0)
				target[0] = '\0';
			if (drop[L_USERNS] && target[0] &&
			    (ends_with(target, "/uid_map") || ends_with(target, "/gid_map") ||
			     ends_with(target, "/setgroups")))
				skip(t, &r, (long)a2, L_USERNS, target);
			else if (drop[L_MEMFD] && target[0] &&
				 ends_with(target, "/sys/vm/memfd_noexec"))
				skip(t, &r, (long)a2, L_MEMFD, target);
		}
		if (drop[L_SETSID] && nr == SYS_setsid)
			skip(t, &r, 1, L_SETSID, "setsid");
		return;
	}
	if (role != R_PROGRAM)
		return;

	switch (nr) {
	case SYS_seccomp:
		if (drop[L_SECCOMP] && a0 == SECCOMP_SET_MODE_FILTER && a2)
			neuter_filter(t, a2);
		break;
	case SYS_landlock_restrict_self:
		if (drop[L_LANDLOCK])
			skip(t, &r, 0, L_LANDLOCK, "landlock_restrict_self");
		break;
	case SYS_setsid:
		if (drop[L_SETSID])
			skip(t, &r, (long)t->pid, L_SETSID, "setsid");
		break;
	case SYS_prlimit64:
		if (drop[L_NPROC] && a0 == 0 && a1 == RLIMIT_NPROC && a2)
			skip(t, &r, 0, L_NPROC, "setrlimit(RLIMIT_NPROC)");
		break;
	case SYS_setrlimit:
		if (drop[L_NPROC] && a0 == RLIMIT_NPROC)
			skip(t, &r, 0, L_NPROC, "setrlimit(RLIMIT_NPROC)");
		break;
	case SYS_capset:
		if (drop[L_CAPS] && a1) {
			uint64_t w[3];

			if (peek(t->pid, a1, &w[0]) == 0 && peek(t->pid, a1 + 8, &w[1]) == 0 &&
			    peek(t->pid, a1 + 16, &w[2]) == 0) {
				memcpy(capset_data, w, sizeof(capset_data));
				capset_seen = true;
				skip(t, &r, 0, L_CAPS, "capset");
			}
		}
		break;
	case SYS_capget:
		if (drop[L_CAPS] && capset_seen && a1)
			t->fix_cap = a1;
		break;
	case SYS_open:
	case SYS_openat:
		if (drop[L_CAPS] && str_is(t->pid, nr == SYS_open ? a0 : a1, "/proc/self/status"))
			skip(t, &r, -ENOENT, L_CAPS, "open(/proc/self/status)");
		break;
	case SYS_prctl:
		if (drop[L_SECCOMP] && a0 == PR_SET_SECCOMP && a1 == SECCOMP_MODE_FILTER && a2)
			neuter_filter(t, a2);
		if (drop[L_NNP] && a0 == PR_SET_NO_NEW_PRIVS)
			skip(t, &r, 0, L_NNP, "prctl(PR_SET_NO_NEW_PRIVS)");
		else if (drop[L_NNP] && a0 == PR_GET_NO_NEW_PRIVS && changed[L_NNP])
			skip(t, &r, 1, L_NNP, "prctl(PR_GET_NO_NEW_PRIVS)");
		if (!drop[L_CAPS])
			break;
		if (a0 == PR_CAPBSET_DROP && a1 < 64) {
			bset_dropped |= 1ULL << a1;
			skip(t, &r, 0, L_CAPS, "prctl(PR_CAPBSET_DROP)");
		} else if (a0 == PR_CAPBSET_READ && a1 < 64 && (bset_dropped & (1ULL << a1))) {
			skip(t, &r, 0, L_CAPS, "prctl(PR_CAPBSET_READ)");
		} else if (a0 == PR_SET_SECUREBITS) {
			securebits = (long)a1;
			skip(t, &r, 0, L_CAPS, "prctl(PR_SET_SECUREBITS)");
		} else if (a0 == PR_GET_SECUREBITS && securebits >= 0) {
			skip(t, &r, securebits, L_CAPS, "prctl(PR_GET_SECUREBITS)");
		} else if (a0 == PR_CAP_AMBIENT && a1 == PR_CAP_AMBIENT_RAISE && a2 < 64) {
			ambient |= 1ULL << a2;
			skip(t, &r, 0, L_CAPS, "prctl(PR_CAP_AMBIENT_RAISE)");
		} else if (a0 == PR_CAP_AMBIENT && a1 == PR_CAP_AMBIENT_LOWER && a2 < 64) {
			ambient &= ~(1ULL << a2);
			skip(t, &r, 0, L_CAPS, "prctl(PR_CAP_AMBIENT_LOWER)");
		} else if (a0 == PR_CAP_AMBIENT && a1 == PR_CAP_AMBIENT_CLEAR_ALL) {
			ambient = 0;
			skip(t, &r, 0, L_CAPS, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
		} else if (a0 == PR_CAP_AMBIENT && a1 == PR_CAP_AMBIENT_IS_SET && a2 < 64) {
			skip(t, &r, (long)((ambient >> a2) & 1), L_CAPS,
			     "prctl(PR_CAP_AMBIENT_IS_SET)");
		}
		break;
	default:
		break;
	}
}

static void on_exit_(struct tracee *t)
{
	struct user_regs_struct r;

	if (t->skip) {
		t->skip = false;
		if (ptrace(PTRACE_GETREGS, t->pid, NULL, &r) < 0)
			return;
		r.rax = (unsigned long long)t->skip_ret;
		set_regs(t, &r);
	}
	if (t->fix_cap) {
		uint64_t addr = t->fix_cap;

		t->fix_cap = 0;
		if (ptrace(PTRACE_GETREGS, t->pid, NULL, &r) == 0 && (long long)r.rax == 0)
			write_mem(t->pid, addr, capset_data, sizeof(capset_data));
	}
}

/* ---- the trace loop ---- */

static void resume(struct tracee *t, int sig)
{
	enum role role = role_of(t);

	if (done && (role == R_INIT || role == R_PROGRAM)) {
		ptrace(PTRACE_DETACH, t->pid, NULL, (void *)(long)sig);
		logf_("detached from pid %d", t->pid);
		forget(t->pid);
		return;
	}
	if (ptrace(done ? PTRACE_CONT : PTRACE_SYSCALL, t->pid, NULL, (void *)(long)sig) < 0 &&
	    errno == ESRCH)
		forget(t->pid);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: layerdrop [-v] [-d LAYER]... -- PROGRAM [ARGS...]\n"
		"LAYER: seccomp landlock caps nnp nosuid noexec userns nproc setsid memfd\n");
	return 2;
}

int main(int argc, char **argv)
{
	int i, opt, status = 0, sync_pipe[2], root_status = -1;
	char c = 'g';
	ssize_t n;
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
		    PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;

	while ((opt = getopt(argc, argv, "+vd:")) != -1) {
		if (opt == 'v') {
			verbose = true;
			continue;
		}
		if (opt != 'd')
			return usage();
		for (i = 0; i < L_N; i++)
			if (strcmp(optarg, layer_names[i]) == 0)
				break;
		if (i == L_N) {
			fprintf(stderr, "layerdrop: unknown layer \"%s\"\n", optarg);
			return usage();
		}
		drop[i] = true;
	}
	if (optind >= argc)
		return usage();
	n = readlink("/proc/self/ns/pid", own_pidns, sizeof(own_pidns) - 1);
	if (n < 0) {
		perror("layerdrop: /proc/self/ns/pid");
		return EXIT_SETUP;
	}
	own_pidns[n] = '\0';

	if (pipe2(sync_pipe, O_CLOEXEC) < 0)
		return EXIT_SETUP;
	root_pid = fork();
	if (root_pid < 0)
		return EXIT_SETUP;
	if (root_pid == 0) {
		/* Wait until the parent has seized us, then become ward. */
		close(sync_pipe[1]);
		if (read(sync_pipe[0], &c, 1) != 1)
			_exit(EXIT_SETUP);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "layerdrop: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	close(sync_pipe[0]);
	if (ptrace(PTRACE_SEIZE, root_pid, NULL, (void *)opts) < 0) {
		perror("layerdrop: PTRACE_SEIZE");
		kill(root_pid, SIGKILL);
		return EXIT_SETUP;
	}
	find(root_pid, true)->role = R_SUPERVISOR;
	if (ptrace(PTRACE_INTERRUPT, root_pid, NULL, NULL) < 0) {
		perror("layerdrop: PTRACE_INTERRUPT");
		kill(root_pid, SIGKILL);
		return EXIT_SETUP;
	}
	if (write(sync_pipe[1], &c, 1) != 1)
		return EXIT_SETUP;
	close(sync_pipe[1]);

	for (;;) {
		pid_t pid = waitpid(-1, &status, __WALL);
		struct tracee *t;
		int sig, event;

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break; /* ECHILD: nothing left */
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (pid == root_pid)
				root_status = status;
			forget(pid);
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		t = find(pid, true);
		sig = WSTOPSIG(status);
		event = status >> 16;
		if (sig == (SIGTRAP | 0x80)) {
			struct __ptrace_syscall_info info;

			if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) > 0) {
				if (info.op == PTRACE_SYSCALL_INFO_ENTRY)
					on_entry(t);
				else if (info.op == PTRACE_SYSCALL_INFO_EXIT)
					on_exit_(t);
			}
			resume(t, 0);
			continue;
		}
		switch (event) {
		case PTRACE_EVENT_EXEC:
			if (role_of(t) == R_PROGRAM) {
				/* Every layer has been applied (or not): let the
				 * program and init run untraced. */
				done = true;
				if (init_pid > 0)
					ptrace(PTRACE_INTERRUPT, init_pid, NULL, NULL);
			}
			resume(t, 0);
			break;
		case PTRACE_EVENT_FORK:
		case PTRACE_EVENT_VFORK:
		case PTRACE_EVENT_CLONE:
		case PTRACE_EVENT_VFORK_DONE:
		case PTRACE_EVENT_EXIT:
			resume(t, 0);
			break;
		case PTRACE_EVENT_STOP:
			/* A new child's first stop, an interrupt, or a group-stop:
			 * carry on (a group-stop is not kept: nothing here uses
			 * job control). */
			resume(t, 0);
			break;
		default:
			/* Signal-delivery-stop: deliver the signal. */
			resume(t, sig);
			break;
		}
	}

	fprintf(stderr, "layerdrop: ward=%d", (int)root_pid);
	for (i = 0; i < L_N; i++)
		if (drop[i])
			fprintf(stderr, " %s=%lu", layer_names[i], changed[i]);
	fputc('\n', stderr);
	if (root_status < 0)
		return EXIT_SETUP;
	if (WIFEXITED(root_status))
		return WEXITSTATUS(root_status);
	return 128 + WTERMSIG(root_status);
}
#endif
