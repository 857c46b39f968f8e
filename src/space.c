/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ward up, ward down, ward gc and the spaces part of ward ps (docs/spaces.md).
 *
 * A space file (lib/space/space.h) becomes one `ward run` per environment,
 * started in the space's start order.  Each ward run is detached from ward
 * up: its own session, stdin from /dev/null, stdout and stderr appended to
 * its log, default signal dispositions.  It reports on fd 3 (--notify-fd)
 * once its program has started: "ready pid=<host pid of init> address=<A|->".
 * Every environment gets --add-host NAME:ADDR for each one started before
 * it, so the names of its peers (which start first) resolve.  ward up then
 * exits; the ward runs keep running and are stopped by ward down.
 *
 * State, in STATE/spaces/SPACE/ (STATE: --state-dir, $WARD_STATE_DIR or
 * /run/ward):
 *   lock     flock'ed while ward up, ward down or ward gc work on the space
 *   envs     one line per started environment, in start order:
 *            "ENV PID STARTTIME INIT INIT_STARTTIME ADDRESS", PID being the
 *            ward run supervisor and INIT the sandbox's init (0 until it is
 *            ready); STARTTIME is field 22 of /proc/PID/stat, so that a
 *            recycled pid is never signalled.  Replaced atomically (envs.tmp,
 *            rename) after every change.
 *   ENV.log  the output of the environment and of its ward run
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cli.h"
#include "net/net.h"
#include "space/space.h"
#include "rootless.h"
#include "util.h"

int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_space_ps(int argc, char **argv);
/* The spaces' rows of ward ps.  n_before: rows printed before (JSON: the
 * broker's elements of the same array; text: a table, then a blank line
 * separates). */
size_t space_ps_print(const char *state_dir, bool json, size_t n_before);
/* `ward ps CONTAINER` is the OCI runtime's (src/oci), when it is there. */
int cmd_oci(int argc, char **argv) __attribute__((weak));

#define DEFAULT_STATE_DIR "/run/ward"
#define READY_TIMEOUT_MS  30000 /* from fork to the ready line */
#define SETTLE_MS	  300	/* how long a started program must keep running */
#define STOP_TIMEOUT_S	  10	/* ward down: SIGTERM, then SIGKILL */
#define KILL_WAIT_MS	  10000 /* after SIGKILL */
#define INIT_WAIT_MS	  3000	/* init, once its supervisor is gone */
#define LOG_TAIL	  4096	/* bytes of a failed environment's log shown */

struct env_rec {
	char name[WARD_SPACE_MAX_NAME + 1];
	pid_t pid; /* the ward run supervisor */
	unsigned long long start;
	pid_t init; /* the sandbox's init, its pid 1; 0 until ready */
	unsigned long long init_start;
	char addr[INET_ADDRSTRLEN]; /* "-": none, or not known yet */
};

struct space_state {
	char *dir; /* STATE/spaces/SPACE */
	struct env_rec *envs;
	size_t n;
};

static const char *state_root(const char *opt)
{
	const char *env = getenv("WARD_STATE_DIR");

	if (opt && *opt)
		return opt;
	if (env && *env)
		return env;
	/* Rootless: the user's own (lib/rootless.c), made once per process. */
	if (ward_rootless()) {
		static char *own;

		if (own == NULL)
			own = ward_default_state_dir_path();
		if (own)
			return own;
	}
	return DEFAULT_STATE_DIR;
}

static bool name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > WARD_SPACE_MAX_NAME || s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int remaining_ms(long long deadline)
{
	long long r = deadline - now_ms();

	return r < 0 ? 0 : r > 60000 ? 60000 : (int)r;
}

/* ---- processes ---- */

/* Field 3 (state) and field 22 (starttime) of /proc/PID/stat. */
static int proc_stat(pid_t pid, char *state, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	cleanup_close int fd = -1;
	ssize_t n;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return -1;
	p += 2;
	*state = *p;
	for (i = 3; i < 22; i++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return -1;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

/* Is the process that started as pid at start still running (a zombie is
 * not)? */
static bool same_process(pid_t pid, unsigned long long start)
{
	unsigned long long s;
	char st;

	return pid > 0 && proc_stat(pid, &st, &s) == 0 && s == start && st != 'Z' && st != 'X';
}

static int xpidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* A pidfd (close-on-exec) of the process pid that started at start, or -1
 * when it is gone.  The start time is checked after pidfd_open: the pidfd
 * refers to the process that had the pid when it was opened, so a pid
 * recycled before is caught by the check and one recycled after cannot be
 * signalled through the pidfd. */
static int open_verified(pid_t pid, unsigned long long start)
{
	int fd;

	if (pid <= 0)
		return -1;
	fd = xpidfd_open(pid);
	if (fd < 0)
		return -1;
	if (!same_process(pid, start)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Wait up to ms for the process of pidfd to end (pidfds of non-children
 * poll readable when the process exits). */
static bool wait_exit(int pidfd, int ms)
{
	long long deadline = now_ms() + ms;
	struct pollfd p = {.fd = pidfd, .events = POLLIN};

	for (;;) {
		int r = poll(&p, 1, remaining_ms(deadline));

		if (r > 0)
			return true;
		if (r == 0)
			return false;
		if (errno != EINTR)
			return false;
	}
}

enum stopped { GONE, STOPPED, KILLED };

/* Stop one environment: SIGTERM to its ward run, which forwards it to the
 * program and, once the program has ended, removes the environment's veth,
 * nftables elements and cgroups; SIGKILL after timeout_s (what it leaves is
 * for ward_net_gc and ward_cgroup_gc).  Then its init: it dies with its
 * supervisor (parent-death signal), else it is killed. */
static enum stopped stop_env(const struct env_rec *e, unsigned timeout_s)
{
	cleanup_close int pfd = -1;
	cleanup_close int ifd = -1;
	enum stopped how = GONE;

	/* ward up's own child that has already ended: reap it.  (For other
	 * pids this fails with ECHILD.) */
	waitpid(e->pid, NULL, WNOHANG);
	pfd = open_verified(e->pid, e->start);
	if (pfd >= 0) {
		how = STOPPED;
		if (pidfd_signal(pfd, SIGTERM) < 0 || !wait_exit(pfd, (int)timeout_s * 1000)) {
			how = KILLED;
			pidfd_signal(pfd, SIGKILL);
			wait_exit(pfd, KILL_WAIT_MS);
		}
		waitpid(e->pid, NULL, WNOHANG);
	}
	ifd = open_verified(e->init, e->init_start);
	if (ifd >= 0 && !wait_exit(ifd, INIT_WAIT_MS)) {
		/* init of a PID namespace: SIGKILL from outside ends it and,
		 * with it, every process of the sandbox. */
		pidfd_signal(ifd, SIGKILL);
		wait_exit(ifd, KILL_WAIT_MS);
		if (how == GONE)
			how = KILLED;
	}
	/* The environment's veth goes with its network namespace, which the
	 * kernel tears down a moment after init: ward down returns only when
	 * nothing of it is left. */
	if (e->addr[0] != '-') {
		char path[64];
		int i;

		snprintf(path, sizeof(path), "/sys/class/net/wv%d", (int)e->pid);
		for (i = 0; i < 100 && access(path, F_OK) == 0; i++)
			usleep(20000);
	}
	return how;
}

static bool env_running(const struct env_rec *e)
{
	return same_process(e->pid, e->start);
}

/* ---- state ---- */

static void state_free(struct space_state *st)
{
	free(st->dir);
	free(st->envs);
	memset(st, 0, sizeof(*st));
}

static bool addr_ok(const char *a)
{
	struct in_addr in;

	return strcmp(a, "-") == 0 || inet_pton(AF_INET, a, &in) == 1;
}

/* Read STATE/spaces/SPACE/envs (a missing file: no environment). */
static int state_read(struct space_state *st)
{
	cleanup_free char *path = ward_xasprintf("%s/envs", st->dir);
	cleanup_free char *text = NULL;
	char *line, *save = NULL;
	size_t len;
	int r;

	free(st->envs);
	st->envs = NULL;
	st->n = 0;
	r = ward_read_file(path, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		errno = -r;
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct env_rec e;
		char name[64], addr[64];
		int pid, init;

		memset(&e, 0, sizeof(e));
		if (sscanf(line, "%63s %d %llu %d %llu %63s", name, &pid, &e.start, &init,
			   &e.init_start, addr) != 6 ||
		    !name_ok(name) || pid < 1 || init < 0 || !addr_ok(addr))
			continue; /* not ward's: ignored rather than trusted */
		strcpy(e.name, name);
		strcpy(e.addr, addr);
		e.pid = pid;
		e.init = init;
		st->envs = ward_xrealloc(st->envs, (st->n + 1) * sizeof(*st->envs));
		st->envs[st->n++] = e;
	}
	return 0;
}

/* Replace STATE/spaces/SPACE/envs atomically: a reader (ward ps, a ward
 * down after ward up was killed) sees the old list or the new one. */
static int state_write(const struct space_state *st, ward_error_t *err)
{
	cleanup_free char *path = ward_xasprintf("%s/envs", st->dir);
	cleanup_free char *tmp = ward_xasprintf("%s/envs.tmp", st->dir);
	cleanup_free char *text = ward_xstrdup("");
	cleanup_close int fd = -1;
	size_t i, len;

	for (i = 0; i < st->n; i++) {
		const struct env_rec *e = &st->envs[i];
		char *t = ward_xasprintf("%s%s %d %llu %d %llu %s\n", text, e->name, (int)e->pid,
					 e->start, (int)e->init, e->init_start, e->addr);

		free(text);
		text = t;
	}
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return ward_error_sys(err, "cannot write %s", tmp);
	if (ward_write_all(fd, text, len) != (ssize_t)len)
		return ward_error_sys(err, "cannot write %s", tmp);
	if (rename(tmp, path) < 0)
		return ward_error_sys(err, "cannot replace %s", path);
	return 0;
}

/* Open and lock STATE/spaces/SPACE/lock; with create, make the directory
 * first.  Returns the locked descriptor, or -1 with errno: ENOENT (no such
 * space), EWOULDBLOCK (busy, with !wait). */
static int space_lock(const char *dir, bool create, bool wait)
{
	cleanup_free char *path = ward_xasprintf("%s/lock", dir);

	unsigned tries = 0;

	for (;;) {
		struct stat sb;
		int fd;

		if (create && ward_mkdir_p(dir, 0700) < 0)
			return -1;
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		/* A ward gc may remove the directory between our mkdir and
		 * open (it looked like the state of an ended space). */
		if (fd < 0 && errno == ENOENT && create && ++tries < 100)
			continue;
		if (fd < 0)
			return -1;
		while (flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) < 0) {
			if (errno != EINTR) {
				int e = errno;

				close(fd);
				errno = e;
				return -1;
			}
		}
		/* Whoever held the lock before may have removed the space
		 * (ward down unlinks the lock file last, holding it). */
		if (fstat(fd, &sb) == 0 && sb.st_nlink > 0)
			return fd;
		close(fd);
		if (!create) {
			errno = ENOENT;
			return -1;
		}
	}
}

/* Remove what is in the space's directory (the lock last, unless keep_lock),
 * then the directory itself. */
static void state_remove(const char *dir, bool keep_lock)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, "lock") == 0)
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	if (!keep_lock) {
		unlinkat(dirfd(d), "lock", 0);
		rmdir(dir);
	}
	closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the spaces with state under root, sorted. */
static char **list_spaces(const char *root, size_t *n)
{
	cleanup_free char *dir = ward_xasprintf("%s/spaces", root);
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (!name_ok(e->d_name))
			continue;
		v = ward_xrealloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = ward_xstrdup(e->d_name);
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Leftovers of sandboxes whose supervisor was killed: veths and nftables
 * elements (of root's sandboxes), empty cgroups of dead supervisors.
 * Returns for how many sandboxes network leftovers were removed. */
static int gc_leftovers(void)
{
	int n;

	/* Rootless: no veth or nftables of the host's are ever the user's,
	 * and the delegated cgroups are cleaned by each run's cleaner; the
	 * user's router is cleaned, and ended when idle (lib/net/router.h). */
	if (ward_rootless())
		return ward_net_gc();
	n = ward_net_gc();
	ward_cgroup_gc(NULL);
	return n;
}

/* ---- ward up ---- */

struct strv {
	char **v;
	size_t n;
};

static void strv_add(struct strv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void strv_add(struct strv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	a->v = ward_xrealloc(a->v, (a->n + 2) * sizeof(*a->v));
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void strv_free(struct strv *a)
{
	free_strv(a->v, a->n);
	a->v = NULL;
	a->n = 0;
}

struct up {
	const struct ward_space *s;
	const char *root;
	bool quiet;
	struct space_state st;
	int *pidfd; /* per started environment, as st.envs */
	int sigfd;
};

/* The ward run command line of environment e. */
static void build_argv(const struct up *u, const struct ward_space_env *e, struct strv *a)
{
	size_t i;

	strv_add(a, "ward");
	strv_add(a, "run");
	strv_add(a, "--state-dir");
	strv_add(a, "%s", u->root);
	if (u->quiet)
		strv_add(a, "--quiet");
	strv_add(a, "--hostname");
	strv_add(a, "%s", e->name);
	/* Mailboxes and services are found by the environment's name: register
	 * it under that name when it talks to the broker at all (a bundle's
	 * own entitlements may ask for it, unseen here). */
	if (e->broker || e->bundle) {
		strv_add(a, "--name");
		strv_add(a, "%s", e->name);
	}
	strv_add(a, "--notify-fd");
	strv_add(a, "3");
	for (i = 0; i < e->n_allow; i++) {
		strv_add(a, "--allow");
		strv_add(a, "%s", e->allow[i].text);
	}
	for (i = 0; i < e->n_publish; i++) {
		strv_add(a, "--publish");
		strv_add(a, "%s", e->publish[i].text);
	}
	/* Every environment started so far (its peers among them: they start
	 * first) by name.  Harmless for an environment without an interface
	 * (also a bundle whose own entitlements ask for one). */
	for (i = 0; i < u->st.n; i++) {
		if (strcmp(u->st.envs[i].addr, "-") == 0)
			continue;
		strv_add(a, "--add-host");
		strv_add(a, "%s:%s", u->st.envs[i].name, u->st.envs[i].addr);
	}
	for (i = 0; i < e->n_env; i++) {
		strv_add(a, "--setenv");
		strv_add(a, "%s", e->env[i]);
	}
	if (e->chdir) {
		strv_add(a, "--chdir");
		strv_add(a, "%s", e->chdir);
	}
	if (e->rootfs) {
		strv_add(a, "--rootfs");
		strv_add(a, "%s", e->rootfs);
	}
	/* ward_space_load read the manifest: its entitlements are allow items. */
	if (e->manifest && !e->manifest_read) {
		strv_add(a, "--manifest");
		strv_add(a, "%s", e->manifest);
	}
	/* ward run [OPTIONS] BUNDLE [ARGS]: a bundle is recognised only
	 * before "--" (src/run.c); its path is absolute, so never an option. */
	if (e->bundle)
		strv_add(a, "%s", e->bundle);
	else
		strv_add(a, "--");
	for (i = 0; i < e->argc; i++)
		strv_add(a, "%s", e->argv[i]);
}

/* The child: detach from ward up and become the environment's ward run. */
static void __attribute__((noreturn)) exec_env(char **argv, int logfd, int notify_fd)
{
	sigset_t none;
	int nullfd, sig;

	/* Its own session: ward up's terminal and process group (Ctrl-C, a
	 * hang-up) are not the environment's. */
	setsid();
	/* Signals exactly as for a fresh program: ward run forwards SIGTERM
	 * and SIGINT, which an ignored disposition inherited from ward up's
	 * caller (nohup, a background job) would swallow. */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* Above 9 first, so that no dup2 below overwrites one of them. */
	logfd = fcntl(logfd, F_DUPFD_CLOEXEC, 10);
	notify_fd = fcntl(notify_fd, F_DUPFD_CLOEXEC, 10);
	nullfd = nullfd < 0 ? -1 : fcntl(nullfd, F_DUPFD_CLOEXEC, 10);
	if (logfd < 0 || notify_fd < 0 || nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 ||
	    dup2(logfd, 2) < 0 || dup2(notify_fd, 3) < 0)
		_exit(125);
	/* Exactly 0-3: not the space's lock, nor another environment's pidfd. */
	syscall(SYS_close_range, 4, ~0U, 0);
	execv("/proc/self/exe", argv);
	dprintf(2, "ward: cannot execute /proc/self/exe: %s\n", strerror(errno));
	_exit(127);
}

/* How ward up's child pid ended (it has: its pidfd was readable). */
static char *describe_end(pid_t pid)
{
	int ws;

	if (waitpid(pid, &ws, WNOHANG) != pid)
		return ward_xstrdup("its ward run ended");
	if (WIFEXITED(ws))
		return ward_xasprintf("its ward run exited with status %d", WEXITSTATUS(ws));
	return ward_xasprintf("its ward run was killed by signal %d (%s)", WTERMSIG(ws),
			      strsignal(WTERMSIG(ws)));
}

static char *describe_signal(int sigfd)
{
	struct signalfd_siginfo si;

	if (read(sigfd, &si, sizeof(si)) != sizeof(si))
		return ward_xstrdup("interrupted");
	return ward_xasprintf("interrupted by %s", strsignal((int)si.ssi_signo));
}

/* Parse "ready pid=N address=A". */
static int parse_ready(const char *line, struct env_rec *r)
{
	char *end;
	long pid;
	const char *a;
	size_t alen;

	if (!ward_str_has_prefix(line, "ready pid="))
		return -1;
	errno = 0;
	pid = strtol(line + 10, &end, 10);
	if (errno || end == line + 10 || pid < 1 || pid > 4194304 ||
	    !ward_str_has_prefix(end, " address="))
		return -1;
	a = end + 9;
	alen = strcspn(a, " \n");
	if (alen == 0 || alen >= sizeof(r->addr) || (a[alen] != '\0' && a[alen] != '\n'))
		return -1;
	memcpy(r->addr, a, alen);
	r->addr[alen] = '\0';
	if (!addr_ok(r->addr))
		return -1;
	r->init = (pid_t)pid;
	return 0;
}

/* The ready line on fd, within READY_TIMEOUT_MS.  On failure *why says
 * what happened. */
static int read_ready(struct up *u, int fd, pid_t pid, struct env_rec *r, char **why)
{
	long long deadline = now_ms() + READY_TIMEOUT_MS;
	char buf[256];
	size_t len = 0;

	for (;;) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
				      {.fd = u->sigfd, .events = POLLIN}};
		int n = poll(p, 2, remaining_ms(deadline));
		ssize_t got;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = ward_xasprintf("poll: %s", strerror(errno));
			return -1;
		}
		if (p[1].revents & POLLIN) {
			*why = describe_signal(u->sigfd);
			return -1;
		}
		if (n == 0) {
			*why = ward_xasprintf("not ready after %d s", READY_TIMEOUT_MS / 1000);
			return -1;
		}
		got = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			struct pollfd pp = {.fd = u->pidfd[u->st.n - 1], .events = POLLIN};

			/* EOF without a line: the start failed.  Its ward
			 * run is ending (or has ended) on its own. */
			if (poll(&pp, 1, 2000) > 0)
				*why = describe_end(pid);
			else
				*why = ward_xstrdup("its ward run closed the notify descriptor "
						    "without a ready line");
			return -1;
		}
		len += (size_t)got;
		buf[len] = '\0';
		if (memchr(buf, '\n', len))
			break;
		if (len == sizeof(buf) - 1) {
			*why = ward_xstrdup("its ward run wrote a malformed ready line");
			return -1;
		}
	}
	if (parse_ready(buf, r) < 0) {
		cleanup_free char *line = NULL;

		buf[strcspn(buf, "\n")] = '\0';
		line = ward_escape(buf, 80);
		*why = ward_xasprintf("its ward run wrote a malformed ready line \"%s\"", line);
		return -1;
	}
	return 0;
}

/* Is each of ports in state LISTEN (0A) in /proc/PID/net/tcp or tcp6? */
static bool listening(pid_t init, const uint16_t *ports, size_t n)
{
	static const char *const files[] = {"tcp", "tcp6"};
	cleanup_free bool *seen = ward_xcalloc(n ? n : 1, sizeof(bool));
	size_t i, k, left = n;

	for (k = 0; k < ARRAY_SIZE(files); k++) {
		char path[64], line[512];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)init, files[k]);
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned lport, st;

			/* "  0: 00000000:1538 00000000:0000 0A ..." */
			if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &lport,
				   &st) != 2 ||
			    st != 0x0A)
				continue;
			for (i = 0; i < n; i++)
				if (!seen[i] && ports[i] == lport) {
					seen[i] = true;
					left--;
				}
		}
		fclose(f);
	}
	return left == 0;
}

static char *ports_text(const uint16_t *ports, size_t n)
{
	char *s = ward_xstrdup("");
	size_t i;

	for (i = 0; i < n; i++) {
		char *t = ward_xasprintf("%s%s%u", s, i ? ", " : "", ports[i]);

		free(s);
		s = t;
	}
	return s;
}

/* wait = "listen": until every listen port of e accepts. */
static int wait_listen(struct up *u, const struct ward_space_env *e, const struct env_rec *r,
		       char **why)
{
	int pidfd = u->pidfd[u->st.n - 1];
	long long deadline = now_ms() + (long long)e->wait_timeout * 1000;

	while (!listening(r->init, e->listen, e->n_listen)) {
		struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN},
				      {.fd = u->sigfd, .events = POLLIN}};
		int ms = remaining_ms(deadline);

		if (ms == 0) {
			cleanup_free char *ports = ports_text(e->listen, e->n_listen);

			*why = ward_xasprintf(
				"not listening on %s %s after %u s (wait = \"listen\")",
				e->n_listen > 1 ? "ports" : "port", ports, e->wait_timeout);
			return -1;
		}
		if (poll(p, 2, ms < 50 ? ms : 50) > 0) {
			if (p[1].revents & POLLIN) {
				*why = describe_signal(u->sigfd);
				return -1;
			}
			if (p[0].revents & POLLIN) {
				cleanup_free char *how = describe_end(r->pid);

				*why = ward_xasprintf("it ended before listening (%s)", how);
				return -1;
			}
		}
	}
	return 0;
}

/* Start environment e; on failure *why says why and its ward run, if
 * started, is in u->st (to be stopped). */
static int start_env(struct up *u, const struct ward_space_env *e, char **why)
{
	cleanup_free char *log = ward_xasprintf("%s/%s.log", u->st.dir, e->name);
	cleanup_close int logfd = -1;
	cleanup_close int rfd = -1;
	struct strv a = {0};
	struct env_rec *r;
	ward_error_t err = NULL;
	int nfd[2];
	pid_t pid;
	char st;

	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (logfd < 0) {
		*why = ward_xasprintf("cannot open %s: %s", log, strerror(errno));
		return -1;
	}
	if (pipe2(nfd, O_CLOEXEC) < 0) {
		*why = ward_xasprintf("pipe: %s", strerror(errno));
		return -1;
	}
	rfd = nfd[0];
	build_argv(u, e, &a);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		*why = ward_xasprintf("fork: %s", strerror(errno));
		close(nfd[1]);
		strv_free(&a);
		return -1;
	}
	if (pid == 0)
		exec_env(a.v, logfd, nfd[1]);
	close(nfd[1]);
	strv_free(&a);

	/* Recorded at once: if ward up is killed now, ward down and ward gc
	 * still find this ward run. */
	u->st.envs = ward_xrealloc(u->st.envs, (u->st.n + 1) * sizeof(*u->st.envs));
	u->pidfd = ward_xrealloc(u->pidfd, (u->st.n + 1) * sizeof(*u->pidfd));
	r = &u->st.envs[u->st.n];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", e->name);
	strcpy(r->addr, "-");
	r->pid = pid;
	/* The child exists until ward up reaps it: its start time is there. */
	proc_stat(pid, &st, &r->start);
	u->pidfd[u->st.n] = xpidfd_open(pid);
	u->st.n++;
	if (u->pidfd[u->st.n - 1] < 0) {
		*why = ward_xasprintf("pidfd_open: %s", strerror(errno));
		return -1;
	}
	if (state_write(&u->st, &err) < 0) {
		*why = ward_xstrdup(err->msg);
		ward_error_free(&err);
		return -1;
	}

	if (read_ready(u, rfd, pid, r, why) < 0)
		return -1;
	if (proc_stat(r->init, &st, &r->init_start) < 0)
		r->init_start = 0; /* already gone: the settle check tells */
	if (state_write(&u->st, &err) < 0) {
		*why = ward_xstrdup(err->msg);
		ward_error_free(&err);
		return -1;
	}
	if (e->wait_listen && e->n_listen && wait_listen(u, e, r, why) < 0)
		return -1;
	return 0;
}

/* A program that fails at once has usually been started: its ward run
 * wrote the ready line first.  Every environment must still run SETTLE_MS
 * after the last one was ready.  A program's end shows at once as its
 * init's (the sandbox's pid 1 follows its one program), while its ward run
 * may take longer than SETTLE_MS to clean up on a busy host: both are
 * watched, and the status is the ward run's, awaited for a while.  Returns
 * the index of one that ended, -1, or SETTLE_SIGNAL when ward up was
 * interrupted. */
#define SETTLE_SIGNAL	 (-2)
#define SETTLE_STATUS_MS 10000 /* for the status of a ward run whose init ended */
static ssize_t settle(struct up *u, long long since, char **why)
{
	long long deadline = since + SETTLE_MS;
	size_t n = u->st.n, i;
	struct pollfd *p = ward_xcalloc(2 * n + 1, sizeof(*p));
	ssize_t bad = -1;

	for (i = 0; i < n; i++) {
		const struct env_rec *r = &u->st.envs[i];

		p[i].fd = u->pidfd[i];
		p[i].events = POLLIN;
		errno = 0;
		p[n + i].fd = open_verified(r->init, r->init_start);
		p[n + i].events = POLLIN;
		/* Gone already (no such pid, or another process has it now);
		 * any other failure only leaves its ward run to be watched. */
		if (p[n + i].fd < 0 && (errno == ESRCH || errno == ENOENT || errno == 0) && bad < 0)
			bad = (ssize_t)i;
	}
	p[2 * n].fd = u->sigfd;
	p[2 * n].events = POLLIN;
	while (bad < 0) {
		int k = poll(p, 2 * n + 1, remaining_ms(deadline));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (p[2 * n].revents & POLLIN) {
			*why = describe_signal(u->sigfd);
			bad = SETTLE_SIGNAL;
			break;
		}
		for (i = 0; i < 2 * n && bad < 0; i++)
			if (p[i].revents & POLLIN)
				bad = (ssize_t)(i % n);
		break;
	}
	if (bad >= 0) {
		cleanup_free char *how = NULL;

		(void)wait_exit(u->pidfd[bad], SETTLE_STATUS_MS);
		how = describe_end(u->st.envs[bad].pid);
		*why = ward_xasprintf("it ended right after it started (%s)", how);
	}
	for (i = 0; i < n; i++)
		if (p[n + i].fd >= 0)
			close(p[n + i].fd);
	free(p);
	return bad;
}

/* The end of an environment's log, indented, on stderr.  The log holds what
 * the program wrote: each line goes through ward_escape(), so that it cannot
 * move the cursor, set the terminal's title or pass for a line of ward's. */
static void print_log_tail(const char *dir, const char *env)
{
	cleanup_free char *path = ward_xasprintf("%s/%s.log", dir, env);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char buf[LOG_TAIL], *p, *end, *nl;
	off_t size;
	ssize_t n;

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0)
		return;
	n = pread(fd, buf, LOG_TAIL, size > LOG_TAIL ? size - LOG_TAIL : 0);
	if (n <= 0)
		return;
	p = buf;
	end = buf + n;
	if (size > LOG_TAIL && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL)
		p = nl + 1; /* from the first whole line */
	fprintf(stderr, "ward: the end of %s's log:\n", env);
	/* Line by line, NUL bytes and all: ward_escape_mem shows them. */
	while (p < end) {
		cleanup_free char *line = NULL;

		nl = memchr(p, '\n', (size_t)(end - p));
		line = ward_escape_mem(p, (size_t)((nl ? nl : end) - p), 0);
		fprintf(stderr, "  %s| %s\n", env, line);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* Stop what this ward up started, newest first, and leave nothing. */
static void rollback(struct up *u)
{
	size_t i;

	for (i = u->st.n; i-- > 0;)
		stop_env(&u->st.envs[i], STOP_TIMEOUT_S);
	gc_leftovers();
	state_remove(u->st.dir, false);
}

static void up_usage(FILE *f)
{
	fprintf(f, "usage: ward up [--state-dir DIR] [--quiet] FILE\n"
		   "\n"
		   "Start the environments of the space described by FILE (docs/spaces.md), each\n"
		   "in its own `ward run`, every environment after the ones it talks to.  ward up\n"
		   "returns once all run (and, with wait = \"listen\", accept connections); they\n"
		   "keep running until `ward down`.  If one fails, everything it started is\n"
		   "stopped and removed.\n"
		   "\n"
		   "      --state-dir DIR   ward's runtime state (default $WARD_STATE_DIR or "
		   "/run/ward);\n"
		   "                        the space's state and logs are in DIR/spaces/NAME/\n"
		   "  -q, --quiet           print nothing when all is well; no warnings in the "
		   "logs\n"
		   "  -h, --help            this text\n");
}

int cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, 'S'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ward_space s = {0};
	struct up u = {.sigfd = -1};
	cleanup_close int lock = -1;
	cleanup_free char *why = NULL;
	const char *state_opt = NULL;
	ward_error_t err = NULL;
	sigset_t mask, old;
	const char *failed = NULL;
	long long last_ready = now_ms();
	ssize_t bad = -1;
	size_t i, w = 0;
	int c, status = 1;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			state_opt = optarg;
			break;
		case 'q':
			u.quiet = true;
			break;
		case 'h':
			up_usage(stdout);
			return 0;
		default:
			return usage_error("up", "unknown option or missing value: %s",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("up", "name the space file: ward up FILE");
	if (optind + 1 < argc)
		return usage_error("up", "unexpected argument \"%s\"", argv[optind + 1]);
	if (ward_space_load(&s, argv[optind], &err) < 0) {
		ward_error_print(&err);
		return 2;
	}
	u.s = &s;
	u.root = state_root(state_opt);
	/* Rootless (docs/rootless.md): each environment's `ward run` is
	 * rootless too, and refuses what needs the host's privilege. */

	u.st.dir = ward_xasprintf("%s/spaces/%s", u.root, s.name);
	lock = space_lock(u.st.dir, true, false);
	if (lock < 0) {
		if (errno == EWOULDBLOCK)
			fprintf(stderr,
				"ward: space %s is being started or stopped by another ward; "
				"wait for it (see `ward ps`)\n",
				s.name);
		else
			fprintf(stderr, "ward: cannot lock %s/lock: %s\n", u.st.dir,
				strerror(errno));
		goto out;
	}
	if (state_read(&u.st) < 0) {
		fprintf(stderr, "ward: cannot read %s/envs: %s\n", u.st.dir, strerror(errno));
		goto out;
	}
	for (i = 0; i < u.st.n; i++)
		if (env_running(&u.st.envs[i]))
			break;
	if (i < u.st.n) {
		fprintf(stderr,
			"ward: space %s is already up (see `ward ps`); stop it first with "
			"`ward down %s`\n",
			s.name, s.name);
		goto out;
	}
	/* What a space that ended on its own left: its environments all
	 * exited (their init too: make sure), their logs are old. */
	for (i = 0; i < u.st.n; i++)
		stop_env(&u.st.envs[i], STOP_TIMEOUT_S);
	u.st.n = 0;
	state_remove(u.st.dir, true);

	/* SIGINT, SIGTERM, SIGHUP to ward up while it starts the space: stop
	 * what it started (through the signalfd, polled with every wait). */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &old) < 0 ||
	    (u.sigfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		fprintf(stderr, "ward: signalfd: %s\n", strerror(errno));
		goto out;
	}

	for (i = 0; i < s.n_envs; i++) {
		const struct ward_space_env *e = &s.envs[s.order[i]];

		if (start_env(&u, e, &why) < 0) {
			failed = e->name;
			break;
		}
		last_ready = now_ms();
	}
	if (failed == NULL) {
		bad = settle(&u, last_ready, &why);
		if (bad >= 0)
			failed = u.st.envs[bad].name;
	}
	if (failed || bad == SETTLE_SIGNAL) {
		if (failed)
			fprintf(stderr, "ward: space %s: environment %s did not start: %s\n",
				s.name, failed, why);
		else
			fprintf(stderr, "ward: space %s: %s\n", s.name, why);
		if (failed)
			print_log_tail(u.st.dir, failed);
		if (u.st.n)
			fprintf(stderr, "ward: space %s: stopping what was started\n", s.name);
		rollback(&u);
		goto out;
	}

	if (!u.quiet) {
		for (i = 0; i < u.st.n; i++)
			if (strlen(u.st.envs[i].name) > w)
				w = strlen(u.st.envs[i].name);
		for (i = 0; i < u.st.n; i++)
			printf("%s: %-*s  address %-15s  pid %d\n", s.name, (int)w,
			       u.st.envs[i].name, u.st.envs[i].addr, (int)u.st.envs[i].pid);
	}
	status = 0;
out:
	for (i = 0; i < u.st.n; i++)
		if (u.pidfd[i] >= 0)
			close(u.pidfd[i]);
	free(u.pidfd);
	if (u.sigfd >= 0)
		close(u.sigfd);
	state_free(&u.st);
	ward_space_free(&s);
	return status;
}

/* ---- ward down ---- */

static void down_usage(FILE *f)
{
	fprintf(f,
		"usage: ward down [--state-dir DIR] [--timeout SECS] FILE|NAME\n"
		"\n"
		"Stop the environments of a space started by `ward up`, the last started "
		"first:\n"
		"SIGTERM, then SIGKILL after SECS (default %d); then remove what they leave "
		"and\n"
		"the space's state and logs.  Environments that already ended are fine.\n"
		"\n"
		"      --state-dir DIR   ward's runtime state (default $WARD_STATE_DIR or "
		"/run/ward)\n"
		"  -t, --timeout SECS    how long each environment has to end after SIGTERM\n"
		"  -h, --help            this text\n",
		STOP_TIMEOUT_S);
}

/* The space named by arg: a space file (its name = or its base name) or a
 * name. */
static char *space_name_of(const char *arg, const char *root, ward_error_t *err)
{
	struct ward_space s = {0};
	struct stat sb;
	char *name;

	if (name_ok(arg)) {
		cleanup_free char *dir = ward_xasprintf("%s/spaces/%s", root, arg);

		if (stat(dir, &sb) == 0 || stat(arg, &sb) < 0)
			return ward_xstrdup(arg);
	}
	/* Only its name is needed: not what it names (which may be gone). */
	if (ward_space_read(&s, arg, false, err) < 0)
		return NULL;
	name = ward_xstrdup(s.name);
	ward_space_free(&s);
	return name;
}

int cmd_down(int argc, char **argv)
{
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, 'S'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct space_state st = {0};
	cleanup_close int lock = -1;
	cleanup_free char *name = NULL;
	const char *state_opt = NULL, *root;
	unsigned timeout = STOP_TIMEOUT_S;
	ward_error_t err = NULL;
	size_t i;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			state_opt = optarg;
			break;
		case 't': {
			uint64_t v;

			if (ward_parse_u64(optarg, &v) < 0 || v > 3600)
				return usage_error(
					"down", "--timeout %s: expected 0 to 3600 seconds", optarg);
			timeout = (unsigned)v;
			break;
		}
		case 'h':
			down_usage(stdout);
			return 0;
		default:
			return usage_error("down", "unknown option or missing value: %s",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("down", "name the space: ward down FILE|NAME");
	if (optind + 1 < argc)
		return usage_error("down", "unexpected argument \"%s\"", argv[optind + 1]);
	root = state_root(state_opt);
	name = space_name_of(argv[optind], root, &err);
	if (name == NULL) {
		ward_error_print(&err);
		return 2;
	}
	st.dir = ward_xasprintf("%s/spaces/%s", root, name);
	/* Waits for a ward up still starting the space: then stops it. */
	lock = space_lock(st.dir, false, true);
	if (lock < 0) {
		if (errno == ENOENT)
			fprintf(stderr, "ward: no space called %s is up (see `ward ps`)\n", name);
		else
			fprintf(stderr, "ward: cannot lock %s/lock: %s\n", st.dir, strerror(errno));
		state_free(&st);
		return 1;
	}
	if (state_read(&st) < 0) {
		fprintf(stderr, "ward: cannot read %s/envs: %s\n", st.dir, strerror(errno));
		state_free(&st);
		return 1;
	}
	for (i = st.n; i-- > 0;) {
		static const char *const what[] = {
			[GONE] = "had already ended",
			[STOPPED] = "stopped",
			[KILLED] = "killed (it did not end after SIGTERM)",
		};
		enum stopped how = stop_env(&st.envs[i], timeout);

		printf("%s: %s %s\n", name, st.envs[i].name, what[how]);
	}
	fflush(stdout);
	gc_leftovers();
	state_remove(st.dir, false);
	state_free(&st);
	return 0;
}

/* ---- ward ps (spaces) ---- */

static const char *env_state(const struct env_rec *e)
{
	if (!env_running(e))
		return "exited";
	return e->init ? "running" : "starting";
}

size_t space_ps_print(const char *state_dir, bool json, size_t n_before)
{
	const char *root = state_root(state_dir);
	struct space_state *sts;
	size_t n_sp = 0, i, k, rows = 0, ws = 5, we = 3;
	char **names = list_spaces(root, &n_sp);

	sts = ward_xcalloc(n_sp ? n_sp : 1, sizeof(*sts));
	for (i = 0; i < n_sp; i++) {
		sts[i].dir = ward_xasprintf("%s/spaces/%s", root, names[i]);
		if (state_read(&sts[i]) < 0)
			continue;
		if (sts[i].n && strlen(names[i]) > ws)
			ws = strlen(names[i]);
		for (k = 0; k < sts[i].n; k++)
			if (strlen(sts[i].envs[k].name) > we)
				we = strlen(sts[i].envs[k].name);
		rows += sts[i].n;
	}
	if (!json && rows)
		printf("%s%-*s  %-*s  %7s  %-15s  %s\n", n_before ? "\n" : "", (int)ws, "SPACE",
		       (int)we, "ENV", "PID", "ADDRESS", "STATE");
	rows = 0;
	for (i = 0; i < n_sp; i++) {
		for (k = 0; k < sts[i].n; k++) {
			const struct env_rec *e = &sts[i].envs[k];

			/* Names and addresses were checked when read: nothing to
			 * escape. */
			if (json)
				printf("%s\n  {\"space\": \"%s\", \"name\": \"%s\", \"pid\": %d, "
				       "\"address\": %s%s%s, \"state\": \"%s\"}",
				       n_before + rows ? "," : "", names[i], e->name, (int)e->pid,
				       strcmp(e->addr, "-") ? "\"" : "",
				       strcmp(e->addr, "-") ? e->addr : "null",
				       strcmp(e->addr, "-") ? "\"" : "", env_state(e));
			else
				printf("%-*s  %-*s  %7d  %-15s  %s\n", (int)ws, names[i], (int)we,
				       e->name, (int)e->pid, e->addr, env_state(e));
			rows++;
		}
		state_free(&sts[i]);
	}
	free(sts);
	free_strv(names, n_sp);
	return rows;
}

/* `ward ps` when the broker is not built in: the spaces only. */
int ps_options(int argc, char **argv, const char *help, const char **state_dir, bool *json)
{
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, 'S'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, i;

	/* runc's `ps CONTAINER-ID`: the OCI runtime's command. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--state-dir") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] != '-' && cmd_oci)
			return cmd_oci(argc, argv);
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			*state_dir = optarg;
			break;
		case 'j':
			*json = true;
			break;
		case 'h':
			printf("usage: ward ps [--json] [--state-dir DIR]\n\n%s", help);
			return 0;
		default:
			return usage_error("ps", "unknown option or missing value: %s",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("ps", "unexpected argument \"%s\"", argv[optind]);
	return -1;
}

int cmd_space_ps(int argc, char **argv)
{
	const char *state_dir = NULL;
	bool json = false;
	size_t n;
	int rc = ps_options(argc, argv,
			    "The environments of the spaces started by `ward up`: space, name, "
			    "pid of\ntheir ward run, address, state.\n",
			    &state_dir, &json);

	if (rc >= 0)
		return rc;
	if (json) {
		printf("[");
		n = space_ps_print(state_dir, true, 0);
		printf("%s]\n", n ? "\n" : "");
	} else if (space_ps_print(state_dir, false, 0) == 0) {
		printf("SPACE  ENV  PID  ADDRESS  STATE\n");
	}
	return 0;
}

/* ---- ward gc ---- */

int cmd_gc(int argc, char **argv)
{
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *state_opt = NULL, *root;
	size_t n = 0, i, k;
	char **names;
	int c, net;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			state_opt = optarg;
			break;
		case 'h':
			printf("usage: ward gc [--state-dir DIR]\n"
			       "\n"
			       "Remove what ended sandboxes left: the state of spaces none of "
			       "whose\nenvironments runs any more, veths and nftables elements of "
			       "killed ward runs,\ntheir empty cgroups.\n");
			return 0;
		default:
			return usage_error("gc", "unknown option or missing value: %s",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("gc", "unexpected argument \"%s\"", argv[optind]);
	root = state_root(state_opt);
	names = list_spaces(root, &n);
	for (i = 0; i < n; i++) {
		struct space_state st = {0};
		int lock;

		st.dir = ward_xasprintf("%s/spaces/%s", root, names[i]);
		/* A space being started or stopped is not garbage. */
		lock = space_lock(st.dir, false, false);
		if (lock < 0 || state_read(&st) < 0) {
			if (lock >= 0)
				close(lock);
			state_free(&st);
			continue;
		}
		for (k = 0; k < st.n; k++)
			if (env_running(&st.envs[k]))
				break;
		if (k == st.n) {
			/* Their inits too (they die with their supervisors). */
			for (k = 0; k < st.n; k++)
				stop_env(&st.envs[k], 0);
			state_remove(st.dir, false);
			printf("removed space %s (%zu %s, none running)\n", names[i], st.n,
			       st.n == 1 ? "environment" : "environments");
		}
		close(lock);
		state_free(&st);
	}
	free_strv(names, n);
	net = gc_leftovers();
	if (net > 0)
		printf("removed the network leftovers (veth, nftables elements) of %d ended %s\n",
		       net, net == 1 ? "sandbox" : "sandboxes");
	return 0;
}
