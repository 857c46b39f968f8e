/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * probe: a try-syscall multi-tool for ward's integration tests and security
 * battery (bubblewrap's idea: call the operation, report what the kernel
 * said).
 *
 *   probe COMMAND [ARGS...]
 *
 * Protocol (docs/testing.md):
 *   - exactly one line on stdout, space-separated tokens.  The first token is
 *     "ok" (the operation succeeded) or "errno=NAME" (it failed with errno
 *     NAME, e.g. errno=EPERM); any further tokens are KEY=VALUE details, e.g.
 *     "errno=EPERM step=unshare" or "ok forks=63".  Commands that wait for a
 *     signal print "ready" first, then their result line.
 *   - exit status 0 when the operation was attempted (ok or errno alike),
 *     2 for a usage error, 3 when the probe could not even set up the
 *     operation (the line then starts with "error=").
 *
 * Every operation is harmless if it succeeds: mounts go on a directory of
 * the private /tmp, kernel calls get arguments the kernel rejects after its
 * permission check (so "EINVAL" proves the call was allowed and "EPERM" that
 * it was refused), and values written back are the values just read.
 *
 * Statically linked so that it runs in any view, including a busybox rootfs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/kexec.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define EXIT_SETUP 3

/* ---- output ---- */

static char extra[1024]; /* " KEY=VALUE" details appended to the result line */

static void add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add(const char *fmt, ...)
{
	size_t n = strlen(extra);
	va_list ap;

	if (n + 2 >= sizeof(extra))
		return;
	extra[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(extra + n, sizeof(extra) - n, fmt, ap);
	va_end(ap);
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	static char buf[32];

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static int ok(void)
{
	printf("ok%s\n", extra);
	fflush(stdout);
	return 0;
}

static int fail(int e)
{
	printf("errno=%s%s\n", errname(e), extra);
	fflush(stdout);
	return 0;
}

/* Report the outcome of a call that returned rc (negative = failed, errno). */
static int result(long rc)
{
	return rc < 0 ? fail(errno) : ok();
}

/* Setup failed: the probe could not attempt what it was asked. */
static int setup_error(const char *what)
{
	printf("error=%s errno=%s%s\n", what, errname(errno), extra);
	fflush(stdout);
	return EXIT_SETUP;
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "probe: %s (run `probe help`)\n", msg);
	return EXIT_USAGE;
}

static long parse_long(const char *s, const char *what, bool *bad)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *s == '\0' || *end != '\0') {
		fprintf(stderr, "probe: %s: not a number: %s\n", what, s);
		*bad = true;
	}
	return v;
}

/* ---- filesystem ---- */

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int cmd_mount_tmpfs(int argc, char **argv)
{
	const char *dir = argc > 0 ? argv[0] : "/tmp/probe-mnt";

	if (make_dir(dir) < 0)
		return setup_error("mkdir");
	if (mount("probe", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1M") < 0)
		return fail(errno);
	umount2(dir, MNT_DETACH);
	return ok();
}

/* Remount PATH (default /) read-write in place. */
static int cmd_remount_rw(int argc, char **argv)
{
	const char *path = argc > 0 ? argv[0] : "/";

	return result(mount(NULL, path, NULL, MS_REMOUNT | MS_BIND, NULL));
}

/* Bind-mount a read-only directory again, read-write, over itself. */
static int cmd_bind_rw(int argc, char **argv)
{
	const char *path = argc > 0 ? argv[0] : "/usr";

	return result(mount(path, path, NULL, MS_BIND, NULL));
}

/* The classic two-step: a new user namespace (root there), then mount. */
static int cmd_userns_mount(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (make_dir("/tmp/probe-mnt") < 0)
		return setup_error("mkdir");
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		add("step=unshare");
		return fail(errno);
	}
	if (mount("probe", "/tmp/probe-mnt", "tmpfs", 0, "size=1M") < 0) {
		add("step=mount");
		return fail(errno);
	}
	return ok();
}

static int cmd_fsopen(int argc, char **argv)
{
	const char *fstype = argc > 0 ? argv[0] : "tmpfs";
	long fd = syscall(SYS_fsopen, fstype, 0x1 /* FSOPEN_CLOEXEC */);

	if (fd >= 0)
		close((int)fd);
	return result(fd);
}

static int cmd_open_tree(int argc, char **argv)
{
	const char *path = argc > 0 ? argv[0] : "/usr";
	long fd = syscall(SYS_open_tree, AT_FDCWD, path, 0x1 /* OPEN_TREE_CLONE */ | O_CLOEXEC);

	if (fd >= 0)
		close((int)fd);
	return result(fd);
}

/* open PATH [r|w|rw|wc] : open it (and read one byte for r/rw). */
static int cmd_open(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "r";
	int flags, fd;

	if (strcmp(mode, "r") == 0)
		flags = O_RDONLY;
	else if (strcmp(mode, "w") == 0)
		flags = O_WRONLY;
	else if (strcmp(mode, "rw") == 0)
		flags = O_RDWR;
	else
		return usage_error("open: mode is r, w or rw");
	fd = open(argv[0], flags | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(errno);
	if (flags != O_WRONLY) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno != EISDIR) {
			int e = errno;

			add("step=read");
			close(fd);
			return fail(e);
		}
	}
	close(fd);
	return ok();
}

/* create PATH [CONTENT]: a new file; kept (for fs.write tests). */
static int cmd_create(int argc, char **argv)
{
	int fd = open(argv[0], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return fail(errno);
	if (argc > 1 && write(fd, argv[1], strlen(argv[1])) < 0) {
		int e = errno;

		add("step=write");
		close(fd);
		return fail(e);
	}
	close(fd);
	return ok();
}

/* create-remove PATH: create a file and remove it again (for read-only
 * places: success must leave nothing). */
static int cmd_create_remove(int argc, char **argv)
{
	int fd = open(argv[0], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	(void)argc;
	if (fd < 0)
		return fail(errno);
	close(fd);
	unlink(argv[0]);
	return ok();
}

/* rewrite FILE: write back the bytes just read: a change of nothing, but a
 * write all the same. */
static int cmd_rewrite(int argc, char **argv)
{
	char buf[4096];
	ssize_t n;
	int fd;

	(void)argc;
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		add("step=read");
		return fail(errno);
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		add("step=read");
		return fail(errno);
	}
	fd = open(argv[0], O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		add("step=open-write");
		return fail(errno);
	}
	if (write(fd, buf, (size_t)n) < 0) {
		int e = errno;

		close(fd);
		add("step=write");
		return fail(e);
	}
	close(fd);
	return ok();
}

static int cmd_ls(int argc, char **argv)
{
	const char *path = argc > 0 ? argv[0] : "/";
	char names[768] = "";
	struct dirent *de;
	size_t count = 0;
	DIR *d = opendir(path);

	if (d == NULL)
		return fail(errno);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		count++;
		if (strlen(names) + strlen(de->d_name) + 2 < sizeof(names)) {
			if (names[0])
				strcat(names, ",");
			strcat(names, de->d_name);
		}
	}
	closedir(d);
	add("n=%zu", count);
	add("names=%s", names);
	return ok();
}

static int cmd_stat(int argc, char **argv)
{
	struct stat st;
	const char *type;

	(void)argc;
	if (lstat(argv[0], &st) < 0)
		return fail(errno);
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		type = "file";
		break;
	case S_IFDIR:
		type = "dir";
		break;
	case S_IFLNK:
		type = "link";
		break;
	case S_IFCHR:
		type = "chr";
		break;
	case S_IFBLK:
		type = "blk";
		break;
	case S_IFIFO:
		type = "fifo";
		break;
	case S_IFSOCK:
		type = "sock";
		break;
	default:
		type = "other";
		break;
	}
	add("type=%s", type);
	add("mode=%04o", (unsigned)(st.st_mode & 07777));
	add("uid=%u", (unsigned)st.st_uid);
	add("gid=%u", (unsigned)st.st_gid);
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		add("rdev=%u:%u", major(st.st_rdev), minor(st.st_rdev));
	return ok();
}

static int cmd_mknod(int argc, char **argv)
{
	const char *path = argc > 0 ? argv[0] : "/tmp/probe-null";

	/* The node would be /dev/null's twin: useless but harmless. */
	if (mknod(path, S_IFCHR | 0600, makedev(1, 3)) < 0)
		return fail(errno);
	unlink(path);
	return ok();
}

/* mknod-dev b|c MAJOR:MINOR PATH: create any device node (a disk's, e.g.
 * b 8:0), open it read-only, remove it.  step=mknod or step=open. */
static int cmd_mknod_dev(int argc, char **argv)
{
	unsigned maj, min;
	int fd;

	(void)argc;
	if ((argv[0][0] != 'b' && argv[0][0] != 'c') || argv[0][1] != '\0' ||
	    sscanf(argv[1], "%u:%u", &maj, &min) != 2)
		return usage_error("mknod-dev: b|c MAJOR:MINOR PATH");
	if (mknod(argv[2], (argv[0][0] == 'b' ? S_IFBLK : S_IFCHR) | 0600, makedev(maj, min)) < 0) {
		printf("errno=%s step=mknod\n", errname(errno));
		return 0;
	}
	fd = open(argv[2], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		unlink(argv[2]);
		printf("errno=%s step=open\n", errname(e));
		return 0;
	}
	close(fd);
	unlink(argv[2]);
	return ok();
}

/* exec PATH: does execve succeed?  (The new image is PATH with argument
 * "--probe-exec"; use a program that exits at once, e.g. /bin/true, or the
 * probe itself.) */
static int cmd_exec(int argc, char **argv)
{
	char *args[] = {argv[0], (char *)"help", NULL};
	pid_t pid;
	int st, p[2];
	int e = 0;

	(void)argc;
	if (pipe2(p, O_CLOEXEC) < 0)
		return setup_error("pipe");
	pid = fork();
	if (pid < 0)
		return setup_error("fork");
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execv(argv[0], args);
		e = errno;
		(void)!write(p[1], &e, sizeof(e));
		_exit(127);
	}
	close(p[1]);
	if (read(p[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(p[0]);
	waitpid(pid, &st, 0);
	if (e)
		return fail(e);
	return ok();
}

/* open-by-handle: open_by_handle_at() escapes path-based confinement
 * (the "shocker" container escape). */
static int cmd_open_by_handle(int argc, char **argv)
{
	const char *path = argc > 0 ? argv[0] : "/etc/hostname";
	struct {
		struct file_handle fh;
		unsigned char data[128];
	} h;
	int mount_id, mfd, fd;

	memset(&h, 0, sizeof(h));
	h.fh.handle_bytes = sizeof(h.data);
	if (syscall(SYS_name_to_handle_at, AT_FDCWD, path, &h.fh, &mount_id, 0) < 0) {
		/* No handle to be had (itself filtered): forge one, as the
		 * exploit did by guessing inode numbers. */
		add("forged=1");
		h.fh.handle_bytes = 8;
		h.fh.handle_type = 1; /* FILEID_INO32_GEN */
		h.data[0] = 2;	      /* inode 2: a file system's root */
	}
	mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return setup_error("open-root");
	fd = (int)syscall(SYS_open_by_handle_at, mfd, &h.fh, O_RDONLY | O_CLOEXEC);
	close(mfd);
	if (fd >= 0)
		close(fd);
	return result(fd);
}

static int cmd_chroot(int argc, char **argv)
{
	return result(chroot(argc > 0 ? argv[0] : "/"));
}

/* The classic way out of a chroot: chroot into a subdirectory while the
 * working directory stays outside it, walk ".." up to the real root of the
 * mount namespace, and chroot there; then open PATH (a file of the host).
 * ok: the file was opened and read (the escape worked); errno=: the first
 * step the kernel or ward refused, named by step=. */
static int cmd_chroot_escape(int argc, char **argv)
{
	char buf[64];
	int i, fd;

	(void)argc;
	if (mkdir("/tmp/probe-chroot", 0700) < 0 && errno != EEXIST)
		return setup_error("mkdir");
	if (chdir("/") < 0)
		return setup_error("chdir");
	if (chroot("/tmp/probe-chroot") < 0) {
		add("step=chroot");
		return fail(errno);
	}
	for (i = 0; i < 64; i++)
		if (chdir("..") < 0) {
			add("step=dotdot");
			return fail(errno);
		}
	if (chroot(".") < 0) {
		add("step=chroot-dot");
		return fail(errno);
	}
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		add("step=open");
		return fail(errno);
	}
	if (read(fd, buf, sizeof(buf)) < 0) {
		int e = errno;

		close(fd);
		add("step=read");
		return fail(e);
	}
	close(fd);
	return ok();
}

/* ---- kernel interfaces ---- */

static int cmd_keyctl(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* Looking up one's own session keyring: harmless, and the first step
	 * of every keyring exploit. */
	return result(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
}

static int cmd_add_key(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* A key in the process keyring, gone when the probe exits. */
	return result(syscall(SYS_add_key, "user", "ward-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING));
}

static int cmd_bpf(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* BPF_MAP_CREATE with an all-zero attribute: EINVAL if the call is
	 * allowed, EPERM if it is refused. */
	return result(syscall(SYS_bpf, BPF_MAP_CREATE, NULL, 0));
}

static int cmd_perf(int argc, char **argv)
{
	struct perf_event_attr attr;
	long fd;

	(void)argc;
	(void)argv;
	/* A software dummy event on the probe itself: counts nothing. */
	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_SOFTWARE;
	attr.size = sizeof(attr);
	attr.config = PERF_COUNT_SW_DUMMY;
	attr.disabled = 1;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd >= 0)
		close((int)fd);
	return result(fd);
}

static int cmd_init_module(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* An empty image: EINVAL/ENOEXEC if allowed, EPERM if refused. */
	return result(syscall(SYS_init_module, "", 0, ""));
}

static int cmd_finit_module(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* No file at all (fd -1): EBADF if allowed. */
	return result(syscall(SYS_finit_module, -1, "", 0));
}

static int cmd_delete_module(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* A module that does not exist: ENOENT if allowed. */
	return result(syscall(SYS_delete_module, "ward_probe_no_such_module", O_NONBLOCK));
}

static int cmd_kexec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* No segments and an invalid architecture in the flags: the kernel
	 * checks permission first (EPERM), then the flags (EINVAL). */
	return result(syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xffff0000UL));
}

static int cmd_reboot(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* The right first magic and a wrong second one: the kernel checks
	 * CAP_SYS_BOOT first (EPERM), then the magic (EINVAL); it can never
	 * reboot. */
	return result(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, 0x12345678, LINUX_REBOOT_CMD_CAD_OFF,
			      NULL));
}

/* clock-invalid: clock_settime with tv_nsec out of range.  The kernel
 * validates before checking CAP_SYS_TIME, so EINVAL means "the syscall
 * filter let it through" and EPERM "refused"; the clock never changes. */
static int cmd_clock_invalid(int argc, char **argv)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 2000000000L};

	(void)argc;
	(void)argv;
	return result(syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
}

/* adjtimex-tick: set the clock's tick length to the value it has.  This
 * needs CAP_SYS_TIME (any mode but a read does) yet changes nothing: the
 * frequency is recomputed from the same values. */
static int cmd_adjtimex_tick(int argc, char **argv)
{
	struct timex tx;

	(void)argc;
	(void)argv;
	memset(&tx, 0, sizeof(tx));
	if (adjtimex(&tx) < 0) {
		add("step=read");
		return fail(errno);
	}
	add("tick=%ld", tx.tick);
	tx.modes = ADJ_TICK;
	return result(adjtimex(&tx));
}

/* settimeofday-tz: set the kernel's timezone to the value it has (only
 * when that is UTC, where the kernel's first-call clock warp does nothing).
 * Needs CAP_SYS_TIME; changes nothing. */
static int cmd_settimeofday_tz(int argc, char **argv)
{
	struct timeval tv;
	struct timezone tz;

	(void)argc;
	(void)argv;
	if (syscall(SYS_gettimeofday, &tv, &tz) < 0)
		return setup_error("gettimeofday");
	if (tz.tz_minuteswest != 0 || tz.tz_dsttime != 0) {
		errno = EDOM;
		return setup_error("timezone-not-utc");
	}
	return result(syscall(SYS_settimeofday, NULL, &tz));
}

static int cmd_io_uring(int argc, char **argv)
{
	struct io_uring_params params;
	long fd;

	(void)argc;
	(void)argv;
	memset(&params, 0, sizeof(params));
	fd = syscall(SYS_io_uring_setup, 1, &params);
	if (fd >= 0)
		close((int)fd);
	return result(fd);
}

static int cmd_userfaultfd(int argc, char **argv)
{
	long fd;

	(void)argc;
	(void)argv;
	fd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (fd >= 0)
		close((int)fd);
	return result(fd);
}

static int cmd_personality(int argc, char **argv)
{
	bool bad = false;
	long v = parse_long(argv[0], "personality", &bad);
	int prev;

	(void)argc;
	if (bad)
		return EXIT_USAGE;
	prev = personality((unsigned long)v);
	if (prev < 0)
		return fail(errno);
	add("previous=0x%x", prev);
	return ok();
}

/* ---- namespaces ---- */

static const struct {
	const char *name;
	int flag;
} ns_flags[] = {
	{"user", CLONE_NEWUSER},     {"mnt", CLONE_NEWNS},    {"net", CLONE_NEWNET},
	{"pid", CLONE_NEWPID},	     {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS},
	{"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

static int parse_ns(const char *s, int *flags)
{
	char *copy = strdup(s), *tok, *save = NULL;
	size_t i;

	*flags = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
			if (strcmp(tok, ns_flags[i].name) == 0) {
				*flags |= ns_flags[i].flag;
				found = true;
			}
		}
		if (!found) {
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

static int cmd_unshare(int argc, char **argv)
{
	int flags;

	(void)argc;
	if (parse_ns(argv[0], &flags) < 0)
		return usage_error("unshare: namespaces are user,mnt,net,pid,ipc,uts,cgroup,time");
	return result(unshare(flags));
}

/* clone NS: clone(2) a child into new namespaces; it exits at once. */
static int cmd_clone(int argc, char **argv)
{
	int flags, st;
	long pid;

	(void)argc;
	if (parse_ns(argv[0], &flags) < 0)
		return usage_error("clone: namespaces are user,mnt,net,pid,ipc,uts,cgroup,time");
	pid = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, 0UL);
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return fail(errno);
	waitpid((pid_t)pid, &st, 0);
	return ok();
}

/* clone3 NS: the same through clone3(2), whose flags seccomp cannot see. */
static int cmd_clone3(int argc, char **argv)
{
	struct clone_args ca;
	int flags, st;
	long pid;

	(void)argc;
	if (parse_ns(argv[0], &flags) < 0)
		return usage_error("clone3: namespaces are user,mnt,net,pid,ipc,uts,cgroup,time");
	memset(&ca, 0, sizeof(ca));
	ca.flags = (uint64_t)(unsigned)flags;
	ca.exit_signal = SIGCHLD;
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return fail(errno);
	waitpid((pid_t)pid, &st, 0);
	return ok();
}

/* setns PATH [NSTYPE]: open a namespace file (e.g. /proc/1/ns/net) and
 * join it. */
static int cmd_setns(int argc, char **argv)
{
	int flags = 0, fd;

	if (argc > 1 && parse_ns(argv[1], &flags) < 0)
		return usage_error("setns: namespace type is user,mnt,net,...");
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		add("step=open");
		return fail(errno);
	}
	if (setns(fd, flags) < 0) {
		int e = errno;

		close(fd);
		add("step=setns");
		return fail(e);
	}
	close(fd);
	return ok();
}

/* ---- processes ---- */

static int count_pids(char *list, size_t size, bool *has_pid1)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0;

	*has_pid1 = false;
	list[0] = '\0';
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		const char *p = de->d_name;

		if (*p < '0' || *p > '9')
			continue;
		n++;
		if (strcmp(p, "1") == 0)
			*has_pid1 = true;
		if (strlen(list) + strlen(p) + 2 < size) {
			if (list[0])
				strcat(list, ",");
			strcat(list, p);
		}
	}
	closedir(d);
	return n;
}

/* pids: the processes this probe can see in /proc. */
static int cmd_pids(int argc, char **argv)
{
	char list[512];
	bool has1;
	int n = count_pids(list, sizeof(list), &has1);

	(void)argc;
	(void)argv;
	if (n < 0)
		return fail(errno);
	add("n=%d", n);
	add("pids=%s", list);
	add("self=%d", (int)getpid());
	add("ppid=%d", (int)getppid());
	return ok();
}

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* comm PID: the name of a visible process. */
static int cmd_comm(int argc, char **argv)
{
	char path[64], buf[64];

	(void)argc;
	snprintf(path, sizeof(path), "/proc/%s/comm", argv[0]);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return fail(errno);
	buf[strcspn(buf, "\n")] = '\0';
	add("comm=%s", buf);
	return ok();
}

static int cmd_kill(int argc, char **argv)
{
	bool bad = false;
	long pid = parse_long(argv[0], "pid", &bad);
	long sig = argc > 1 ? parse_long(argv[1], "signal", &bad) : 0;

	if (bad)
		return EXIT_USAGE;
	return result(kill((pid_t)pid, (int)sig));
}

/* ptrace PID: attach (then detach) to a process. */
static int cmd_ptrace(int argc, char **argv)
{
	bool bad = false;
	long pid = parse_long(argv[0], "pid", &bad);
	int st;

	(void)argc;
	if (bad)
		return EXIT_USAGE;
	if (ptrace(PTRACE_ATTACH, (pid_t)pid, NULL, NULL) < 0)
		return fail(errno);
	waitpid((pid_t)pid, &st, __WALL);
	ptrace(PTRACE_DETACH, (pid_t)pid, NULL, NULL);
	return ok();
}

/* ptrace-child: what a debugger does: trace a child of its own. */
static int cmd_ptrace_child(int argc, char **argv)
{
	pid_t pid;
	int st, rc, e;

	(void)argc;
	(void)argv;
	pid = fork();
	if (pid < 0)
		return setup_error("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	rc = (int)ptrace(PTRACE_ATTACH, pid, NULL, NULL);
	e = errno;
	if (rc == 0) {
		waitpid(pid, &st, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	if (rc < 0)
		return fail(e);
	return ok();
}

/* forkbomb MAX SECONDS: fork paused children until fork fails, MAX is
 * reached or SECONDS have passed; then kill them all. */
static int cmd_forkbomb(int argc, char **argv)
{
	bool bad = false;
	long max = argc > 0 ? parse_long(argv[0], "max", &bad) : 2000;
	long secs = argc > 1 ? parse_long(argv[1], "seconds", &bad) : 10;
	pid_t *kids;
	long n = 0, i;
	int e = 0;
	time_t end;

	if (bad || max <= 0)
		return EXIT_USAGE;
	kids = calloc((size_t)max, sizeof(*kids));
	if (kids == NULL)
		return setup_error("calloc");
	end = time(NULL) + secs;
	while (n < max && time(NULL) < end) {
		pid_t pid = fork();

		if (pid < 0) {
			e = errno;
			break;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		kids[n++] = pid;
	}
	for (i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	free(kids);
	add("forks=%ld", n);
	if (e)
		return fail(e);
	add("reason=%s", n >= max ? "max" : "time");
	return ok();
}

/* membomb MAX_MIB: map and touch 1 MiB at a time until the kernel refuses
 * or kills us, or MAX_MIB is reached. */
static int cmd_membomb(int argc, char **argv)
{
	bool bad = false;
	long max = argc > 0 ? parse_long(argv[0], "max", &bad) : 1024;
	long n = 0;

	if (bad || max <= 0)
		return EXIT_USAGE;
	while (n < max) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED) {
			add("mib=%ld", n);
			return fail(errno);
		}
		memset(p, 0xa5, 1 << 20);
		n++;
	}
	add("mib=%ld", n);
	return ok();
}

/* files-limit MAX: open /dev/null until EMFILE or MAX. */
static int cmd_files(int argc, char **argv)
{
	bool bad = false;
	long max = argc > 0 ? parse_long(argv[0], "max", &bad) : 100000;
	long n = 0;

	if (bad)
		return EXIT_USAGE;
	while (n < max) {
		if (open("/dev/null", O_RDONLY | O_CLOEXEC) < 0) {
			int e = errno;

			add("opened=%ld", n);
			return fail(e);
		}
		n++;
	}
	add("opened=%ld", n);
	return ok();
}

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* cpu-burn SECONDS: spin for SECONDS of wall time; report CPU time got. */
static int cmd_cpu_burn(int argc, char **argv)
{
	bool bad = false;
	long secs = argc > 0 ? parse_long(argv[0], "seconds", &bad) : 1;
	double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	volatile unsigned long x = 0;

	if (bad)
		return EXIT_USAGE;
	while (now_s(CLOCK_MONOTONIC) - w0 < (double)secs)
		for (int i = 0; i < 10000; i++)
			x += (unsigned long)i;
	add("cpu_ms=%.0f", (now_s(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1000);
	add("wall_ms=%.0f", (now_s(CLOCK_MONOTONIC) - w0) * 1000);
	return ok();
}

/* ---- identity and confinement state ---- */

/* status FIELD...: fields of /proc/self/status, e.g. NoNewPrivs Seccomp. */
static int cmd_status(int argc, char **argv)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[512];
	int i, found = 0;

	if (f == NULL)
		return fail(errno);
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		char *v;

		if (colon == NULL)
			continue;
		*colon = '\0';
		v = colon + 1;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		for (i = 0; i < argc; i++) {
			if (strcmp(argv[i], line) == 0) {
				/* Spaces inside a value (Groups) become commas. */
				for (char *s = v; *s; s++)
					if (*s == ' ' || *s == '\t')
						*s = ',';
				add("%s=%s", line, v);
				found++;
			}
		}
	}
	fclose(f);
	if (found != argc) {
		errno = ENOENT;
		return setup_error("status-field-missing");
	}
	return ok();
}

static int cmd_caps(int argc, char **argv)
{
	char *fields[] = {(char *)"CapInh", (char *)"CapPrm", (char *)"CapEff", (char *)"CapBnd",
			  (char *)"CapAmb"};

	(void)argc;
	(void)argv;
	return cmd_status(5, fields);
}

static int cmd_nnp(int argc, char **argv)
{
	int v = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);

	(void)argc;
	(void)argv;
	if (v < 0)
		return fail(errno);
	add("nnp=%d", v);
	return ok();
}

static int cmd_ids(int argc, char **argv)
{
	gid_t groups[64];
	int n = getgroups(64, groups), i;
	char list[512] = "";

	(void)argc;
	(void)argv;
	for (i = 0; i < n; i++) {
		char one[16];

		snprintf(one, sizeof(one), "%s%u", i ? "," : "", (unsigned)groups[i]);
		strcat(list, one);
	}
	add("uid=%u", (unsigned)getuid());
	add("euid=%u", (unsigned)geteuid());
	add("gid=%u", (unsigned)getgid());
	add("egid=%u", (unsigned)getegid());
	add("groups=%s", n > 0 ? list : "-");
	return ok();
}

static int cmd_uname(int argc, char **argv)
{
	struct utsname u;

	(void)argc;
	(void)argv;
	if (uname(&u) < 0)
		return fail(errno);
	add("hostname=%s", u.nodename);
	return ok();
}

static int cmd_rlimits(int argc, char **argv)
{
	static const struct {
		const char *name;
		int res;
	} lim[] = {
		{"nofile", RLIMIT_NOFILE}, {"core", RLIMIT_CORE},   {"nproc", RLIMIT_NPROC},
		{"as", RLIMIT_AS},	   {"stack", RLIMIT_STACK},
	};
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		struct rlimit r;
		char cur[24], max[24];

		if (getrlimit(lim[i].res, &r) < 0)
			return fail(errno);
		if (r.rlim_cur == RLIM_INFINITY)
			strcpy(cur, "inf");
		else
			snprintf(cur, sizeof(cur), "%llu", (unsigned long long)r.rlim_cur);
		if (r.rlim_max == RLIM_INFINITY)
			strcpy(max, "inf");
		else
			snprintf(max, sizeof(max), "%llu", (unsigned long long)r.rlim_max);
		add("%s=%s:%s", lim[i].name, cur, max);
	}
	return ok();
}

/* file FILE: a small file's content, with newlines as ';' and blanks as
 * '_' so it stays one token. */
static int cmd_file(int argc, char **argv)
{
	char buf[900];
	size_t i, n;

	(void)argc;
	if (read_small(argv[0], buf, sizeof(buf)) < 0)
		return fail(errno);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n')
			buf[i] = ';';
		else if (buf[i] == ' ' || buf[i] == '\t')
			buf[i] = '_';
	}
	add("content=%s", buf);
	return ok();
}

/* fds: the descriptors open in this process (besides the one that lists). */
static int cmd_fds(int argc, char **argv)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	char list[512] = "";
	int self;

	(void)argc;
	(void)argv;
	if (d == NULL)
		return fail(errno);
	self = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		char one[300];

		if (de->d_name[0] == '.' || atoi(de->d_name) == self)
			continue;
		snprintf(one, sizeof(one), "%s%s", list[0] ? "," : "", de->d_name);
		if (strlen(list) + strlen(one) + 1 < sizeof(list))
			strcat(list, one);
	}
	closedir(d);
	add("fds=%s", list);
	return ok();
}

/* mountopts PATH: the per-mount options of the mount at PATH. */
static int cmd_mountopts(int argc, char **argv)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], found[512] = "";

	(void)argc;
	if (f == NULL)
		return fail(errno);
	while (fgets(line, sizeof(line), f)) {
		char mp[2048], opts[512];

		/* id parent major:minor root mountpoint options ... */
		if (sscanf(line, "%*d %*d %*s %*s %2047s %511s", mp, opts) != 2)
			continue;
		if (strcmp(mp, argv[0]) == 0)
			snprintf(found, sizeof(found), "%s", opts); /* the last one wins */
	}
	fclose(f);
	if (found[0] == '\0') {
		errno = ENOENT;
		return fail(errno);
	}
	add("opts=%s", found);
	return ok();
}

/* netifs: the network interfaces of this network namespace. */
static int cmd_netifs(int argc, char **argv)
{
	FILE *f = fopen("/proc/net/dev", "re");
	char line[512], list[512] = "";
	int lineno = 0;

	(void)argc;
	(void)argv;
	if (f == NULL)
		return fail(errno);
	while (fgets(line, sizeof(line), f)) {
		char *colon, *name = line;

		if (++lineno <= 2)
			continue;
		colon = strchr(line, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		name += strspn(name, " ");
		if (strlen(list) + strlen(name) + 2 < sizeof(list)) {
			if (list[0])
				strcat(list, ",");
			strcat(list, name);
		}
	}
	fclose(f);
	add("ifs=%s", list);
	return ok();
}

/* ---- sockets ---- */

static int parse_family(const char *s, int *domain, int *type, int *proto)
{
	*proto = 0;
	*type = SOCK_STREAM;
	if (strcmp(s, "unix") == 0)
		*domain = AF_UNIX;
	else if (strcmp(s, "inet") == 0)
		*domain = AF_INET;
	else if (strcmp(s, "inet6") == 0)
		*domain = AF_INET6;
	else if (strcmp(s, "udp") == 0) {
		*domain = AF_INET;
		*type = SOCK_DGRAM;
	} else if (strcmp(s, "raw") == 0) {
		*domain = AF_INET;
		*type = SOCK_RAW;
		*proto = IPPROTO_ICMP;
	} else if (strcmp(s, "raw6") == 0) {
		*domain = AF_INET6;
		*type = SOCK_RAW;
		*proto = IPPROTO_ICMPV6;
	} else if (strcmp(s, "packet") == 0) {
		*domain = AF_PACKET;
		*type = SOCK_RAW;
		*proto = htons(0x0003); /* ETH_P_ALL */
	} else if (strcmp(s, "netlink") == 0) {
		*domain = AF_NETLINK;
		*type = SOCK_RAW;
		*proto = 0; /* NETLINK_ROUTE */
	} else if (strcmp(s, "netlink-audit") == 0) {
		*domain = AF_NETLINK;
		*type = SOCK_RAW;
		*proto = 9; /* NETLINK_AUDIT */
	} else if (strcmp(s, "vsock") == 0) {
		*domain = 40; /* AF_VSOCK */
	} else
		return -1;
	return 0;
}

static int cmd_socket(int argc, char **argv)
{
	int domain, type, proto, fd;

	(void)argc;
	if (parse_family(argv[0], &domain, &type, &proto) < 0)
		return usage_error("socket: family is unix, inet, inet6, udp, raw, raw6, packet, "
				   "netlink, netlink-audit or vsock");
	fd = socket(domain, type | SOCK_CLOEXEC, proto);
	if (fd >= 0)
		close(fd);
	return result(fd);
}

/* abstract-connect NAME: connect to the abstract Unix socket "@NAME". */
static int cmd_abstract_connect(int argc, char **argv)
{
	struct sockaddr_un a;
	socklen_t len;
	int fd, rc;

	(void)argc;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	strncpy(a.sun_path + 1, argv[0], sizeof(a.sun_path) - 2);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(argv[0]));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		add("step=socket");
		return fail(errno);
	}
	rc = connect(fd, (struct sockaddr *)&a, len);
	if (rc < 0) {
		int e = errno;

		close(fd);
		add("step=connect");
		return fail(e);
	}
	(void)!write(fd, "probe\n", 6);
	close(fd);
	return ok();
}

static int inet_addr_of(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return AF_INET6;
	}
	return -1;
}

/* tcp-bind HOST PORT / tcp-connect HOST PORT */
static int tcp_op(int argc, char **argv, bool do_bind)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool bad = false;
	long port = parse_long(argv[1], "port", &bad);
	int fam, fd, rc;

	(void)argc;
	if (bad)
		return EXIT_USAGE;
	fam = inet_addr_of(argv[0], (int)port, &ss, &len);
	if (fam < 0)
		return usage_error("not an IPv4 or IPv6 address");
	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		add("step=socket");
		return fail(errno);
	}
	rc = do_bind ? bind(fd, (struct sockaddr *)&ss, len)
		     : connect(fd, (struct sockaddr *)&ss, len);
	if (rc < 0) {
		int e = errno;

		close(fd);
		add(do_bind ? "step=bind" : "step=connect");
		return fail(e);
	}
	close(fd);
	return ok();
}

static int cmd_tcp_bind(int argc, char **argv)
{
	return tcp_op(argc, argv, true);
}

static int cmd_tcp_connect(int argc, char **argv)
{
	return tcp_op(argc, argv, false);
}

/* tcp-echo HOST: a server and a client of this probe talk over TCP on HOST
 * (127.0.0.1 or ::1): the client sends "ping", the server answers "pong". */
static int cmd_tcp_echo(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam, srv, cli, conn, st;
	char buf[8] = "";
	pid_t pid;

	(void)argc;
	fam = inet_addr_of(argv[0], 0, &ss, &len);
	if (fam < 0)
		return usage_error("tcp-echo: not an IPv4 or IPv6 address");
	srv = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv < 0) {
		add("step=socket");
		return fail(errno);
	}
	if (bind(srv, (struct sockaddr *)&ss, len) < 0) {
		add("step=bind");
		return fail(errno);
	}
	if (listen(srv, 1) < 0) {
		add("step=listen");
		return fail(errno);
	}
	if (getsockname(srv, (struct sockaddr *)&ss, &len) < 0)
		return setup_error("getsockname");
	pid = fork();
	if (pid < 0)
		return setup_error("fork");
	if (pid == 0) {
		char r[8] = "";

		cli = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cli < 0 || connect(cli, (struct sockaddr *)&ss, len) < 0)
			_exit(10);
		if (write(cli, "ping", 4) != 4 || read(cli, r, 4) != 4 || memcmp(r, "pong", 4))
			_exit(11);
		_exit(0);
	}
	alarm(10);
	conn = accept(srv, NULL, NULL);
	if (conn < 0) {
		add("step=accept");
		return fail(errno);
	}
	if (read(conn, buf, 4) != 4 || memcmp(buf, "ping", 4) != 0) {
		errno = EPROTO;
		return setup_error("read-ping");
	}
	if (write(conn, "pong", 4) != 4)
		return setup_error("write-pong");
	waitpid(pid, &st, 0);
	close(conn);
	close(srv);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		add("client_status=%d", st);
		errno = EPROTO;
		return setup_error("client");
	}
	add("port=%d", fam == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
				      : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return ok();
}

/* ---- terminals ---- */

static int cmd_isatty(int argc, char **argv)
{
	bool bad = false;
	long fd = parse_long(argv[0], "fd", &bad);

	(void)argc;
	if (bad)
		return EXIT_USAGE;
	return isatty((int)fd) ? ok() : fail(errno);
}

/* tiocsti FD: push one byte (a NUL) into the input of the terminal on FD,
 * as a terminal-injection attack would push a command. */
static int cmd_tiocsti(int argc, char **argv)
{
	bool bad = false;
	long fd = parse_long(argv[0], "fd", &bad);
	char c = '\0';

	(void)argc;
	if (bad)
		return EXIT_USAGE;
	return result(ioctl((int)fd, TIOCSTI, &c));
}

/* ---- signals ---- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* wait-signal SECONDS: print "ready", wait for SIGTERM/SIGINT/SIGHUP, then
 * print "ok signal=N". */
static int cmd_wait_signal(int argc, char **argv)
{
	bool bad = false;
	long secs = argc > 0 ? parse_long(argv[0], "seconds", &bad) : 30;
	struct sigaction sa;
	time_t end;

	if (bad)
		return EXIT_USAGE;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	end = time(NULL) + secs;
	while (!got_signal && time(NULL) < end)
		usleep(10000);
	if (!got_signal) {
		errno = ETIMEDOUT;
		return fail(errno);
	}
	add("signal=%d", (int)got_signal);
	return ok();
}

/* spawn N SECONDS: start N children that sleep SECONDS, print "ready" and
 * sleep too (for the tests that kill ward). */
static int cmd_spawn(int argc, char **argv)
{
	bool bad = false;
	long n = argc > 0 ? parse_long(argv[0], "count", &bad) : 2;
	long secs = argc > 1 ? parse_long(argv[1], "seconds", &bad) : 60;
	long i;

	if (bad)
		return EXIT_USAGE;
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return setup_error("fork");
		if (pid == 0) {
			/* Not PDEATHSIG: the test checks that the kernel, not
			 * the children's good will, ends them. */
			sleep((unsigned)secs);
			_exit(0);
		}
	}
	printf("ready\n");
	fflush(stdout);
	sleep((unsigned)secs);
	return ok();
}

/* exit N / raise SIG: for exit-status pass-through. */
static int cmd_exit(int argc, char **argv)
{
	bool bad = false;
	long code = parse_long(argv[0], "code", &bad);

	(void)argc;
	if (bad)
		return EXIT_USAGE;
	exit((int)code);
}

static int cmd_raise(int argc, char **argv)
{
	bool bad = false;
	long sig = parse_long(argv[0], "signal", &bad);

	(void)argc;
	if (bad)
		return EXIT_USAGE;
	signal((int)sig, SIG_DFL);
	raise((int)sig);
	return setup_error("raise-returned");
}

/* Re-execute the probe from a memfd named NAME (the name is what
 * /proc/PID/exe then shows: "/memfd:NAME (deleted)"), running COMMAND: the
 * program chooses a string that its supervisor may print. */
static int cmd_memfd_exec(int argc, char **argv)
{
	char *args[20];
	char buf[65536];
	int in, fd, i;
	ssize_t n;

	in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return setup_error("open-self");
	fd = (int)syscall(SYS_memfd_create, argv[0], MFD_CLOEXEC);
	if (fd < 0) {
		add("step=memfd_create");
		return fail(errno);
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			return setup_error("write-memfd");
	close(in);
	args[0] = "probe";
	for (i = 1; i < argc && i < 19; i++)
		args[i] = argv[i];
	args[i] = NULL;
	syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
	add("step=execveat");
	return fail(errno);
}

/* ---- layer tests (tests/security/test_layers.py) ---- */

/* vm-read PID: process_vm_readv(2) of one byte at an address that is never
 * mapped (below mmap_min_addr): EFAULT means the access was allowed and
 * reached the memory, EPERM/ESRCH that it was refused. */
static int cmd_vm_read(int argc, char **argv)
{
	bool bad = false;
	long pid = parse_long(argv[0], "pid", &bad);
	char byte;
	struct iovec local = {&byte, 1}, remote = {(void *)0x1000, 1};

	(void)argc;
	if (bad)
		return EXIT_USAGE;
	return result(process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0));
}

/* mntns-mount [DIR]: a mount namespace of its own (no new user namespace:
 * needs CAP_SYS_ADMIN in its own), then a tmpfs on DIR. */
static int cmd_mntns_mount(int argc, char **argv)
{
	const char *dir = argc > 0 ? argv[0] : "/tmp/probe-mnt";

	if (make_dir(dir) < 0)
		return setup_error("mkdir");
	if (unshare(CLONE_NEWNS) < 0) {
		add("step=unshare");
		return fail(errno);
	}
	if (mount("probe", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1M") < 0) {
		add("step=mount");
		return fail(errno);
	}
	return ok();
}

/* bpf-prog: load "r0 = 0; exit" as a traffic-control classifier, a type
 * that always needs CAP_BPF (and CAP_NET_ADMIN) in the host's user
 * namespace.  Never attached: harmless if it loads. */
static int cmd_bpf_prog(int argc, char **argv)
{
	struct bpf_insn insns[2];
	union bpf_attr attr;
	static const char license[] = "GPL";
	long fd;

	(void)argc;
	(void)argv;
	memset(insns, 0, sizeof(insns));
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K; /* r0 = 0 */
	insns[0].dst_reg = BPF_REG_0;
	insns[1].code = BPF_JMP | BPF_EXIT;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
	attr.insn_cnt = 2;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.license = (uint64_t)(uintptr_t)license;
	fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd >= 0)
		close((int)fd);
	return result(fd);
}

/* perf-kernel: like perf, but counting in the kernel too, which
 * perf_event_paranoid >= 2 keeps for CAP_PERFMON. */
static int cmd_perf_kernel(int argc, char **argv)
{
	struct perf_event_attr attr;
	long fd;

	(void)argc;
	(void)argv;
	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_SOFTWARE;
	attr.size = sizeof(attr);
	attr.config = PERF_COUNT_SW_DUMMY;
	attr.disabled = 1;
	fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd >= 0)
		close((int)fd);
	return result(fd);
}

/* key-describe SERIAL: describe a key by its serial number. */
static int cmd_key_describe(int argc, char **argv)
{
	bool bad = false;
	long serial = parse_long(argv[0], "serial", &bad);
	char desc[256];
	long n;

	(void)argc;
	if (bad)
		return EXIT_USAGE;
	n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, serial, desc, sizeof(desc) - 1);
	if (n < 0)
		return fail(errno);
	return ok();
}

/* key-hold [SECONDS]: a user key in a new session keyring of its own,
 * readable by its owner's uid; print "ready serial=N" and keep it until a
 * signal (or SECONDS).  The key goes with the probe. */
static int cmd_key_hold(int argc, char **argv)
{
	bool bad = false;
	long secs = argc > 0 ? parse_long(argv[0], "seconds", &bad) : 30;
	struct sigaction sa;
	time_t end;
	long key;

	if (bad)
		return EXIT_USAGE;
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0)
		return setup_error("join-session-keyring");
	key = syscall(SYS_add_key, "user", "ward-probe-secret", "secret", 6,
		      KEY_SPEC_SESSION_KEYRING);
	if (key < 0)
		return setup_error("add_key");
	/* Possessor: everything; owner uid: view, read, search; others: none. */
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, key, 0x3f000000 | 0x000b0000) < 0)
		return setup_error("setperm");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready serial=%ld\n", key);
	fflush(stdout);
	end = time(NULL) + secs;
	while (!got_signal && time(NULL) < end)
		usleep(10000);
	return ok();
}

/* execv PATH [ARGS...]: become PATH (a set-user-ID copy of the probe, say). */
static int cmd_execv(int argc, char **argv)
{
	(void)argc;
	execv(argv[0], argv);
	return fail(errno);
}

/* ifflags IFNAME: read the interface's flags and write the same value back
 * (SIOCSIFFLAGS needs CAP_NET_ADMIN over the network namespace). */
static int cmd_ifflags(int argc, char **argv)
{
	struct ifreq ifr;
	int fd;

	(void)argc;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		add("step=socket");
		return fail(errno);
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[0]);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		add("step=get");
		return fail(errno);
	}
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		add("step=set");
		return fail(errno);
	}
	close(fd);
	return ok();
}

/* syscall NR [ARG...]: the raw syscall NR with integer arguments (0 for
 * the missing ones). */
static int cmd_syscall(int argc, char **argv)
{
	long a[7] = {0};
	bool bad = false;
	int i;

	for (i = 0; i < argc && i < 7; i++)
		a[i] = parse_long(argv[i], "argument", &bad);
	if (bad)
		return EXIT_USAGE;
	return result(syscall(a[0], a[1], a[2], a[3], a[4], a[5], a[6]));
}

/* int80: getpid(2) through the i386 ABI (int 0x80) from this 64-bit
 * process.  A filter of the native architecture only has no rule for it:
 * the filter's bad-architecture action answers (ward: kill). */
static int cmd_int80(int argc, char **argv)
{
	long ret = 20; /* __NR_getpid on i386 */

	(void)argc;
	(void)argv;
#if defined(__x86_64__)
	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	if (ret < 0)
		return fail((int)-ret);
	return ok();
#else
	return fail(ENOSYS);
#endif
}

/* mounts-lacking OPT: the mount points (of /proc/self/mountinfo) whose
 * per-mount options lack OPT ("nosuid"): "ok lacking=-" when none does. */
static int cmd_mounts_lacking(int argc, char **argv)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], list[900] = "";
	size_t n = 0;

	(void)argc;
	if (f == NULL)
		return fail(errno);
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *field[6], *opt, *osave = NULL;
		bool has = false;
		int i;

		field[0] = strtok_r(line, " ", &save);
		for (i = 1; i < 6 && field[i - 1]; i++)
			field[i] = strtok_r(NULL, " ", &save);
		if (i < 6 || field[5] == NULL)
			continue;
		for (opt = strtok_r(field[5], ",", &osave); opt; opt = strtok_r(NULL, ",", &osave))
			has |= strcmp(opt, argv[0]) == 0;
		if (has)
			continue;
		n++;
		if (strlen(list) + strlen(field[4]) + 2 < sizeof(list)) {
			if (list[0])
				strcat(list, ",");
			strcat(list, field[4]);
		}
	}
	fclose(f);
	add("n=%zu", n);
	add("lacking=%s", n ? list : "-");
	return ok();
}

/* fstype PATH: the file system type of PATH (statfs magic, and a name). */
static int cmd_fstype(int argc, char **argv)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} names[] = {
		{0x01021994, "tmpfs"},	    {0x62656572, "sysfs"},   {0x9fa0, "proc"},
		{0x73636673, "securityfs"}, {0x64626720, "debugfs"}, {0xcafe4a11, "bpf"},
		{0x1cd1, "devpts"},	    {0xef53, "ext4"},
	};
	struct statfs sf;
	const char *name = "other";
	size_t i;

	(void)argc;
	if (statfs(argv[0], &sf) < 0)
		return fail(errno);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((unsigned long)sf.f_type == names[i].magic)
			name = names[i].name;
	add("type=%s", name);
	add("magic=0x%lx", (unsigned long)sf.f_type);
	return ok();
}

int main(int argc, char **argv);

/* then-stdin COMMAND [ARGS...]: print "ready", read one line from stdin,
 * put it in place of every argument that is "-", run COMMAND.  For targets
 * that exist only once the sandbox runs (a pid inside its namespace). */
static int cmd_then_stdin(int argc, char **argv)
{
	char line[256];
	char *args[18];
	int i;

	if (argc > 16)
		return usage_error("then-stdin: too many arguments");
	printf("ready\n");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return setup_error("read-stdin");
	line[strcspn(line, "\n")] = '\0';
	args[0] = "probe";
	for (i = 0; i < argc; i++)
		args[i + 1] = strcmp(argv[i], "-") == 0 ? line : argv[i];
	args[argc + 1] = NULL;
	return main(argc + 1, args);
}

static int cmd_help(int argc, char **argv);

/* ---- CVE-2019-5736 (OCI runtime tests) ---- */

static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Open /proc/PID/exe, retrying in a tight loop while access is refused and
 * the process lives: the window between a runtime's execve and the exit of
 * a short program is short.  -errno of the last failure. */
static int grab_exe(int pid, struct timespec until, int *refused)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	for (;;) {
		struct timespec now;

		fd = open(path, O_PATH | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno != EACCES && errno != EPERM)
			return -errno;
		*refused = errno;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > until.tv_sec)
			return -errno;
	}
}

/*
 * exe-hijack SECONDS: what a container does to a runtime that enters it.
 * Watch /proc for processes that were not there at the start and open
 * each one's /proc/PID/exe (O_PATH), retrying while access is refused and
 * it lives.  For the first that opens and is not a file of the container
 * (this probe, /bin/busybox), wait until nothing executes it any more
 * (ETXTBSY), reopen it for writing through /proc/self/fd and append a
 * line.  Prints seen=N (new processes), opened=N, refused=ERRNO (the last
 * refusal of an open, even one later retried with success), write=ok|ERRNO.
 */
static int cmd_exe_hijack(int argc, char **argv)
{
	bool bad = false;
	long secs = parse_long(argv[0], "SECONDS", &bad);
	int done[512], n_done = 0, seen = 0, opened = 0, refused = 0, held = -1;
	struct timespec t0, now;
	DIR *d;
	struct dirent *e;

	(void)argc;
	if (bad)
		return usage_error("SECONDS: expected a number");
	d = opendir("/proc");
	while (d && (e = readdir(d)) != NULL && n_done < 512)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
			done[n_done++] = atoi(e->d_name);
	if (d)
		closedir(d);
	printf("ready\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= secs)
			break;
		d = opendir("/proc");
		while (d && held < 0 && (e = readdir(d)) != NULL) {
			struct timespec until;
			int pid, i, fd;
			bool skip = false;

			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			pid = atoi(e->d_name);
			for (i = 0; i < n_done && !skip; i++)
				skip = done[i] == pid;
			if (skip || pid == getpid() || n_done >= 512)
				continue;
			done[n_done++] = pid;
			seen++;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += 3;
			fd = grab_exe(pid, until, &refused);
			if (fd < 0)
				continue;
			/* Never touch the container's own files. */
			if (same_file(fd, "/proc/self/exe") || same_file(fd, "/bin/busybox")) {
				close(fd);
				continue;
			}
			opened++;
			held = fd;
		}
		if (d)
			closedir(d);
		if (held >= 0)
			break;
	}
	add("seen=%d", seen);
	add("opened=%d", opened);
	if (refused)
		add("refused=%s", errname(refused));
	if (held >= 0) {
		char path[64];
		int w = -1, tries;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", held);
		for (tries = 0; tries < 20000; tries++) {
			w = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
			if (w >= 0 || errno != ETXTBSY)
				break;
			usleep(1000);
		}
		if (w < 0) {
			add("write=%s", errname(errno));
		} else {
			static const char mark[] = "\nexe-hijack was here\n";

			add("write=%s",
			    write(w, mark, sizeof(mark) - 1) < 0 ? errname(errno) : "ok");
			close(w);
		}
	}
	return ok();
}

/*
 * no-landlock CMD [ARGS...]: run CMD as on a kernel without Landlock (a
 * seccomp filter makes the three landlock_* calls fail with ENOSYS, so
 * ward finds no ABI), to test the layers beneath it on their own.
 */
static int cmd_no_landlock(int argc, char **argv)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 444, 2, 0), /* landlock_create_ruleset */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 445, 1, 0), /* landlock_add_rule */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 446, 0, 1), /* landlock_restrict_self */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	(void)argc;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return setup_error("seccomp");
	execvp(argv[0], argv);
	return setup_error("execvp");
}

/* ---- dispatch ---- */

static const struct command {
	const char *name;
	int min_args, max_args;
	int (*fn)(int argc, char **argv);
	const char *usage;
} commands[] = {
	/* mounts */
	{"mount-tmpfs", 0, 1, cmd_mount_tmpfs, "[DIR]  mount a tmpfs on DIR (/tmp/probe-mnt)"},
	{"remount-rw", 0, 1, cmd_remount_rw, "[PATH]  remount PATH (/) read-write"},
	{"bind-rw", 0, 1, cmd_bind_rw, "[PATH]  bind-mount PATH (/usr) over itself"},
	{"userns-mount", 0, 0, cmd_userns_mount, "  unshare user+mnt namespaces, then mount"},
	{"fsopen", 0, 1, cmd_fsopen, "[FSTYPE]  fsopen(2) (new mount API)"},
	{"open-tree", 0, 1, cmd_open_tree, "[PATH]  open_tree(OPEN_TREE_CLONE)"},
	/* files */
	{"open", 1, 2, cmd_open, "PATH [r|w|rw]  open (and read a byte)"},
	{"create", 1, 2, cmd_create, "PATH [CONTENT]  create a new file, keep it"},
	{"create-remove", 1, 1, cmd_create_remove, "PATH  create a new file, remove it"},
	{"rewrite", 1, 1, cmd_rewrite, "FILE  write back what FILE holds"},
	{"ls", 0, 1, cmd_ls, "[DIR]  list a directory"},
	{"stat", 1, 1, cmd_stat, "PATH  type, mode, owner, device"},
	{"file", 1, 1, cmd_file, "FILE  a small file's content"},
	{"mknod", 0, 1, cmd_mknod, "[PATH]  create a character device (1:3)"},
	{"mknod-dev", 3, 3, cmd_mknod_dev, "b|c MAJ:MIN PATH  create a device node and open it"},
	{"exec", 1, 1, cmd_exec, "PATH  can PATH be executed?"},
	{"open-by-handle", 0, 1, cmd_open_by_handle, "[PATH]  open_by_handle_at(2)"},
	{"chroot", 0, 1, cmd_chroot, "[DIR]  chroot(2)"},
	{"chroot-escape", 1, 1, cmd_chroot_escape,
	 "HOSTFILE  leave a chroot (chroot a subdirectory, .. up, chroot .), read HOSTFILE"},
	{"mountopts", 1, 1, cmd_mountopts, "PATH  options of the mount at PATH"},
	/* kernel */
	{"keyctl", 0, 0, cmd_keyctl, "  keyctl(KEYCTL_GET_KEYRING_ID)"},
	{"add-key", 0, 0, cmd_add_key, "  add_key(2) to the process keyring"},
	{"bpf", 0, 0, cmd_bpf, "  bpf(BPF_MAP_CREATE) with an empty attribute"},
	{"perf", 0, 0, cmd_perf, "  perf_event_open(2) of a dummy software event"},
	{"init-module", 0, 0, cmd_init_module, "  init_module(2) of an empty image"},
	{"finit-module", 0, 0, cmd_finit_module, "  finit_module(2) of fd -1"},
	{"delete-module", 0, 0, cmd_delete_module, "  delete_module(2) of a missing module"},
	{"kexec", 0, 0, cmd_kexec, "  kexec_load(2) with invalid flags"},
	{"reboot", 0, 0, cmd_reboot, "  reboot(2) with a wrong magic"},
	{"clock-invalid", 0, 0, cmd_clock_invalid, "  clock_settime(2) of an invalid time"},
	{"adjtimex-tick", 0, 0, cmd_adjtimex_tick, "  adjtimex(ADJ_TICK) to the current tick"},
	{"settimeofday-tz", 0, 0, cmd_settimeofday_tz, "  settimeofday(2) of the current tz"},
	{"io-uring", 0, 0, cmd_io_uring, "  io_uring_setup(2)"},
	{"userfaultfd", 0, 0, cmd_userfaultfd, "  userfaultfd(2)"},
	{"personality", 1, 1, cmd_personality, "VALUE  personality(2)"},
	/* namespaces */
	{"unshare", 1, 1, cmd_unshare, "NS[,NS...]  unshare(2)"},
	{"clone", 1, 1, cmd_clone, "NS[,NS...]  clone(2) a child into new namespaces"},
	{"clone3", 1, 1, cmd_clone3, "NS[,NS...]  clone3(2) a child into new namespaces"},
	{"setns", 1, 2, cmd_setns, "NSFILE [NS]  open a namespace file and join it"},
	/* processes */
	{"pids", 0, 0, cmd_pids, "  the processes visible in /proc"},
	{"comm", 1, 1, cmd_comm, "PID  a process's name"},
	{"kill", 1, 2, cmd_kill, "PID [SIG]  kill(2) (signal 0: just check)"},
	{"ptrace", 1, 1, cmd_ptrace, "PID  PTRACE_ATTACH"},
	{"ptrace-child", 0, 0, cmd_ptrace_child, "  PTRACE_ATTACH to a child of its own"},
	{"forkbomb", 0, 2, cmd_forkbomb, "[MAX [SECONDS]]  fork until refused"},
	{"membomb", 0, 1, cmd_membomb, "[MAX_MIB]  allocate until refused or killed"},
	{"files", 0, 1, cmd_files, "[MAX]  open files until refused"},
	{"cpu-burn", 0, 1, cmd_cpu_burn, "[SECONDS]  spin; report CPU time got"},
	/* state */
	{"status", 1, 16, cmd_status, "FIELD...  fields of /proc/self/status"},
	{"caps", 0, 0, cmd_caps, "  the five capability sets"},
	{"nnp", 0, 0, cmd_nnp, "  PR_GET_NO_NEW_PRIVS"},
	{"ids", 0, 0, cmd_ids, "  uid, gid, groups"},
	{"uname", 0, 0, cmd_uname, "  the hostname"},
	{"rlimits", 0, 0, cmd_rlimits, "  resource limits"},
	{"fds", 0, 0, cmd_fds, "  the open descriptors"},
	{"netifs", 0, 0, cmd_netifs, "  the network interfaces"},
	/* sockets */
	{"socket", 1, 1, cmd_socket, "FAMILY  socket(2)"},
	{"abstract-connect", 1, 1, cmd_abstract_connect, "NAME  connect to @NAME"},
	{"tcp-bind", 2, 2, cmd_tcp_bind, "HOST PORT  bind a TCP socket"},
	{"tcp-connect", 2, 2, cmd_tcp_connect, "HOST PORT  connect a TCP socket"},
	{"tcp-echo", 1, 1, cmd_tcp_echo, "HOST  a TCP server and client talk on HOST"},
	/* terminals and signals */
	{"isatty", 1, 1, cmd_isatty, "FD  is FD a terminal?"},
	{"tiocsti", 1, 1, cmd_tiocsti, "FD  TIOCSTI one byte into FD's terminal"},
	{"wait-signal", 0, 1, cmd_wait_signal, "[SECONDS]  print ready, wait for a signal"},
	{"spawn", 0, 2, cmd_spawn, "[N [SECONDS]]  N sleeping children, print ready, sleep"},
	{"memfd-exec", 2, 17, cmd_memfd_exec,
	 "NAME COMMAND [ARGS...]  run COMMAND from a memfd named NAME"},
	{"exe-hijack", 1, 1, cmd_exe_hijack,
	 "SECONDS  open a new process's /proc/PID/exe, write it once unused"},
	{"no-landlock", 1, 64, cmd_no_landlock,
	 "CMD [ARGS...]  run CMD as if the kernel had no Landlock"},
	{"exit", 1, 1, cmd_exit, "CODE  exit with CODE"},
	{"raise", 1, 1, cmd_raise, "SIG  die of signal SIG"},
	/* layer tests */
	{"vm-read", 1, 1, cmd_vm_read, "PID  process_vm_readv(2) (EFAULT: allowed)"},
	{"mntns-mount", 0, 1, cmd_mntns_mount, "[DIR]  unshare a mount namespace, then mount"},
	{"bpf-prog", 0, 0, cmd_bpf_prog, "  load a privileged (SCHED_CLS) BPF program"},
	{"perf-kernel", 0, 0, cmd_perf_kernel, "  perf_event_open(2) counting in the kernel"},
	{"key-describe", 1, 1, cmd_key_describe, "SERIAL  keyctl(KEYCTL_DESCRIBE)"},
	{"key-hold", 0, 1, cmd_key_hold, "[SECONDS]  hold a key; print ready serial=N"},
	{"execv", 1, 16, cmd_execv, "PATH [ARGS...]  execv(2) PATH"},
	{"ifflags", 1, 1, cmd_ifflags, "IFNAME  write an interface's flags back"},
	{"syscall", 1, 7, cmd_syscall, "NR [ARG...]  the raw syscall NR"},
	{"int80", 0, 0, cmd_int80, "  getpid(2) through the i386 ABI (int 0x80)"},
	{"mounts-lacking", 1, 1, cmd_mounts_lacking, "OPT  mount points whose options lack OPT"},
	{"fstype", 1, 1, cmd_fstype, "PATH  the file system type of PATH"},
	{"then-stdin", 1, 16, cmd_then_stdin, "COMMAND [ARGS...]  ready; \"-\" args from stdin"},
	{"help", 0, 0, cmd_help, "  this list"},
};

static int cmd_help(int argc, char **argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	printf("usage: probe COMMAND [ARGS...]\n"
	       "prints one line: \"ok [KEY=VALUE...]\" or \"errno=NAME [KEY=VALUE...]\"\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %s %s\n", commands[i].name, commands[i].usage);
	return 0;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return usage_error("no command given");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		int n = argc - 2;

		if (strcmp(argv[1], c->name) != 0)
			continue;
		if (n < c->min_args || n > c->max_args) {
			fprintf(stderr, "probe: usage: probe %s %s\n", c->name, c->usage);
			return EXIT_USAGE;
		}
		return c->fn(n, argv + 2);
	}
	fprintf(stderr, "probe: unknown command \"%s\" (run `probe help`)\n", argv[1]);
	return EXIT_USAGE;
}
