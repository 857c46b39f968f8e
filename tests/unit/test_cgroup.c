// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the cgroup layer.
 *
 * - v2 against a stand-in tree in a temporary directory (no root needed): the
 *   files record exactly what ward wrote.
 * - Layout detection, on the stand-in and on the real /sys/fs/cgroup.
 * - The real v1 hierarchies (root only, skipped otherwise): limits read back
 *   from the kernel, a fork bomb stopped by pids.max, a memory bomb stopped
 *   by the memory limit, the devices list, and destroy killing leftovers.
 *
 * Every test removes what it made in its teardown, which cmocka runs also
 * when an assertion failed.  Children forked here never call cmocka.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include <cmocka.h>

#include "cgroup/cgroup.h"
#include "error.h"
#include "policy.h"
#include "util.h"

#define V1_CONTROLLERS_USED 4
static const char *const v1_used[V1_CONTROLLERS_USED] = {"pids", "memory", "cpu", "devices"};

struct fixture {
	char tmp[64];		 /* stand-in root, "" when unused */
	char name[64];		 /* sandbox name, unique per test */
	struct ward_cgroup *cg;	 /* destroyed in teardown */
	struct ward_cgroup *cg2; /* a second sandbox, same */
	pid_t child;		 /* killed and reaped in teardown */
	int go[2];		 /* parent -> child: "you are in the cgroup" */
	int report[2];		 /* child -> parent: results */
	ward_error_t err;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

static int setup(void **state)
{
	static unsigned counter;
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->child = -1;
	f->go[0] = f->go[1] = f->report[0] = f->report[1] = -1;
	snprintf(f->name, sizeof(f->name), "test-%d-%u", (int)getpid(), counter++);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[256];
	size_t i;

	if (f->child > 0) {
		kill(f->child, SIGKILL);
		waitpid(f->child, NULL, 0);
	}
	/* destroy kills whatever is left (grandchildren) and removes the
	 * directories. */
	ward_cgroup_destroy(f->cg, NULL);
	ward_cgroup_destroy(f->cg2, NULL);
	/* We are a subreaper in the v1 tests: reap the grandchildren. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (f->tmp[0])
		nftw(f->tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else if (geteuid() == 0) {
		/* Belt and braces for the real hierarchies: a directory left by
		 * a failure between mkdir and the fixture taking the pointer. */
		for (i = 0; i < V1_CONTROLLERS_USED; i++) {
			snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/ward/%s", v1_used[i],
				 f->name);
			(void)rmdir(path);
		}
	}
	close_pair(f->go);
	close_pair(f->report);
	ward_error_free(&f->err);
	free(f);
	return 0;
}

static void default_policy(struct ward_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->pids_max = 5;
	p->memory_max = 64ull << 20;
	p->cpu_quota_us = 50000;
	p->cpu_period_us = 100000;
}

static void make_standin(struct fixture *f, const char *controllers, const char *subtree)
{
	char path[256];
	int fd;

	strcpy(f->tmp, "/tmp/ward-cg-XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	snprintf(path, sizeof(path), "%s/cgroup.controllers", f->tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, controllers, strlen(controllers)), (ssize_t)strlen(controllers));
	close(fd);
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", f->tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, subtree, strlen(subtree)), (ssize_t)strlen(subtree));
	close(fd);
}

/* Assert that DIR/FILE holds exactly want. */
static void check_file(const char *dir, const char *file, const char *want)
{
	char path[512];
	char *got = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (ward_read_file(path, &got, NULL) < 0)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	if (strcmp(got, want) != 0) {
		print_error("%s: got \"%s\", want \"%s\"\n", path, got, want);
		free(got);
		fail();
	}
	free(got);
}

static bool __attribute__((format(printf, 1, 2))) exists(const char *fmt, ...)
{
	char path[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return access(path, F_OK) == 0;
}

/* ---- v2 against a stand-in tree ---- */

static void test_v2_standin_create_destroy(void **state)
{
	struct fixture *f = *state;
	struct ward_policy p;
	char dir[256];

	default_policy(&p);
	make_standin(f, "cpuset cpu io memory hugetlb pids\n", "");
	assert_int_equal(ward_cgroup_detect(f->tmp), WARD_CGROUP_V2);

	if (ward_cgroup_create(&p, f->tmp, f->name, &f->cg, &f->err) < 0)
		fail_msg("create: %s", f->err->msg);
	assert_int_equal(ward_cgroup_get_layout(f->cg), WARD_CGROUP_V2);
	/* A stand-in is no cgroup: no fd for CLONE_INTO_CGROUP. */
	assert_int_equal(ward_cgroup_dirfd(f->cg), -1);

	snprintf(dir, sizeof(dir), "%s/ward/%s", f->tmp, f->name);
	assert_true(exists("%s", dir));
	check_file(f->tmp, "cgroup.subtree_control", "+pids +memory +cpu");
	check_file(f->tmp, "ward/cgroup.subtree_control", "+pids +memory +cpu");
	check_file(dir, "pids.max", "5");
	check_file(dir, "memory.max", "67108864");
	check_file(dir, "cpu.max", "50000 100000");
	/* Optional files are written only when present; a stand-in has none. */
	assert_false(exists("%s/%s", dir, "memory.swap.max"));

	assert_int_equal(ward_cgroup_enter(f->cg, 4242, &f->err), 0);
	check_file(dir, "cgroup.procs", "4242");
	assert_false(ward_cgroup_oom_killed(f->cg));
	assert_false(ward_cgroup_pids_exhausted(f->cg));

	if (ward_cgroup_destroy(f->cg, &f->err) < 0) {
		f->cg = NULL;
		fail_msg("destroy: %s", f->err->msg);
	}
	f->cg = NULL;
	/* ward/ was made by this create, so the last destroy removes it. */
	assert_false(exists("%s/%s", f->tmp, "ward"));
	check_file(f->tmp, "cgroup.subtree_control", "+pids +memory +cpu");
}

static void test_v2_standin_no_cpu_limit_partial_enable(void **state)
{
	struct fixture *f = *state;
	struct ward_policy p;
	char dir[256];
	char name2[80];

	default_policy(&p);
	p.cpu_quota_us = 0;
	p.cpu_period_us = 0;
	p.pids_max = WARD_DEFAULT_PIDS_MAX;
	/* memory already enabled at the root: only the others are written. */
	make_standin(f, "cpu memory pids", "memory\n");
	if (ward_cgroup_create(&p, f->tmp, f->name, &f->cg, &f->err) < 0)
		fail_msg("create: %s", f->err->msg);
	check_file(f->tmp, "cgroup.subtree_control", "+pids +cpu");
	snprintf(dir, sizeof(dir), "%s/ward/%s", f->tmp, f->name);
	check_file(dir, "cpu.max", "max 100000");
	check_file(dir, "pids.max", "1024");

	/* A second sandbox beside it: nothing left to enable anywhere. */
	snprintf(name2, sizeof(name2), "%s-b", f->name);
	if (ward_cgroup_create(&p, f->tmp, name2, &f->cg2, &f->err) < 0)
		fail_msg("create second: %s", f->err->msg);
	check_file(f->tmp, "ward/cgroup.subtree_control", "+pids +memory +cpu");

	/* Same name twice: refused, the first one untouched. */
	{
		struct ward_cgroup *dup = NULL;

		assert_int_equal(ward_cgroup_create(&p, f->tmp, f->name, &dup, &f->err), -1);
		assert_null(dup);
		assert_int_equal(f->err->code, EEXIST);
		assert_non_null(strstr(f->err->msg, "already exists"));
		assert_true(exists("%s/%s", dir, "pids.max"));
	}

	/* The first destroy leaves ward/ to the second sandbox. */
	assert_int_equal(ward_cgroup_destroy(f->cg, &f->err), 0);
	f->cg = NULL;
	assert_false(exists("%s", dir));
	assert_true(exists("%s/%s", f->tmp, "ward"));
	/* The second did not make ward/, so it leaves it in place. */
	assert_int_equal(ward_cgroup_destroy(f->cg2, &f->err), 0);
	f->cg2 = NULL;
	assert_false(exists("%s/ward/%s", f->tmp, name2));
}

static void test_v2_standin_missing_controller(void **state)
{
	struct fixture *f = *state;
	struct ward_policy p;

	default_policy(&p);
	make_standin(f, "cpuset cpu io hugetlb pids\n", "");
	assert_int_equal(ward_cgroup_create(&p, f->tmp, f->name, &f->cg, &f->err), -1);
	assert_null(f->cg);
	assert_non_null(f->err);
	print_message("    error: %s\n", f->err->msg);
	assert_non_null(strstr(f->err->msg, "\"memory\""));
	assert_non_null(strstr(f->err->msg, "cgroup.controllers"));
	assert_non_null(strstr(f->err->msg, "cgroup.subtree_control"));
	/* Nothing changed, nothing left behind. */
	assert_false(exists("%s/%s", f->tmp, "ward"));
	check_file(f->tmp, "cgroup.subtree_control", "");
}

static void test_bad_names(void **state)
{
	static const char *const bad[] = {"",	  ".",	  "..",	 "../x", "a/b",
					  "/abs", ".hid", "a b", "x\n",	 "ü"};
	struct fixture *f = *state;
	struct ward_policy p;
	char longname[200];
	size_t i;

	default_policy(&p);
	make_standin(f, "cpu memory pids", "");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ward_cgroup_create(&p, f->tmp, bad[i], &f->cg, &f->err), -1);
		assert_null(f->cg);
		assert_int_equal(f->err->code, EINVAL);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(ward_cgroup_create(&p, f->tmp, longname, &f->cg, &f->err), -1);
	assert_int_equal(ward_cgroup_create(&p, f->tmp, NULL, &f->cg, &f->err), -1);
	assert_false(exists("%s/%s", f->tmp, "ward"));

	/* Out of range cpu values are refused before anything is made. */
	p.cpu_period_us = 100;
	assert_int_equal(ward_cgroup_create(&p, f->tmp, f->name, &f->cg, &f->err), -1);
	assert_non_null(strstr(f->err->msg, "cpu period"));
	p.cpu_period_us = 100000;
	p.memory_max = 0;
	assert_int_equal(ward_cgroup_create(&p, f->tmp, f->name, &f->cg, &f->err), -1);
	assert_false(exists("%s/%s", f->tmp, "ward"));
}

/* ---- detection ---- */

static void test_detect(void **state)
{
	struct fixture *f = *state;

	make_standin(f, "cpu memory pids", "");
	assert_int_equal(ward_cgroup_detect(f->tmp), WARD_CGROUP_V2);
	assert_string_equal(ward_cgroup_layout_name(WARD_CGROUP_HYBRID), "hybrid");
	/* A plain directory is nothing. */
	assert_int_equal(ward_cgroup_detect("/tmp"), WARD_CGROUP_NONE);
	assert_int_equal(ward_cgroup_detect("/nonexistent/ward"), WARD_CGROUP_NONE);
}

static void test_detect_real_hybrid(void **state)
{
	struct statfs sfs;
	enum ward_cgroup_layout l;

	(void)state;
	if (statfs("/sys/fs/cgroup/unified", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC ||
	    statfs("/sys/fs/cgroup/pids", &sfs) < 0 || sfs.f_type != CGROUP_SUPER_MAGIC) {
		print_message("    skipped: /sys/fs/cgroup is not a hybrid layout here\n");
		skip();
	}
	l = ward_cgroup_detect(NULL);
	assert_int_equal(l, WARD_CGROUP_HYBRID);
	assert_int_equal(ward_cgroup_detect("/sys/fs/cgroup"), WARD_CGROUP_HYBRID);
	/* The cgroup2 mount alone is v2. */
	assert_int_equal(ward_cgroup_detect("/sys/fs/cgroup/unified"), WARD_CGROUP_V2);
}

/* The real cgroup2 mount of a hybrid machine has no pids controller: create
 * must fail before writing anything. */
static void test_v2_real_unified_missing_controller(void **state)
{
	struct fixture *f = *state;
	struct ward_policy p;
	struct statfs sfs;
	char *avail = NULL;
	bool has;

	if (statfs("/sys/fs/cgroup/unified", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		print_message("    skipped: no cgroup2 mount at /sys/fs/cgroup/unified\n");
		skip();
	}
	if (ward_read_file("/sys/fs/cgroup/unified/cgroup.controllers", &avail, NULL) < 0)
		skip();
	has = strstr(avail, "pids") != NULL;
	free(avail);
	if (has) {
		/* Then create would change the host's subtree_control. */
		print_message("    skipped: pids is available in the unified hierarchy\n");
		skip();
	}
	default_policy(&p);
	assert_int_equal(ward_cgroup_create(&p, "/sys/fs/cgroup/unified", f->name, &f->cg, &f->err),
			 -1);
	print_message("    error: %s\n", f->err->msg);
	assert_non_null(strstr(f->err->msg, "\"pids\""));
	assert_false(exists("%s/%s", "/sys/fs/cgroup/unified/ward", f->name));
}

/* ---- real v1 ---- */

static bool have_real_v1(void)
{
	enum ward_cgroup_layout l;

	if (geteuid() != 0) {
		print_message("    skipped: needs root to make cgroups\n");
		return false;
	}
	l = ward_cgroup_detect(NULL);
	if (l != WARD_CGROUP_V1 && l != WARD_CGROUP_HYBRID) {
		print_message("    skipped: /sys/fs/cgroup is %s, not v1 or hybrid\n",
			      ward_cgroup_layout_name(l));
		return false;
	}
	return true;
}

/* Does /proc/PID/cgroup put pid in ward/NAME for controller? */
static bool proc_in(pid_t pid, const char *controller, const char *name)
{
	char path[64], want[160], *buf = NULL, *line, *save = NULL;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	snprintf(want, sizeof(want), "/ward/%s", name);
	if (ward_read_file(path, &buf, NULL) < 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char *ctrls = strchr(line, ':'), *cpath, *tok, *s2 = NULL;

		if (ctrls == NULL || (cpath = strchr(++ctrls, ':')) == NULL)
			continue;
		*cpath++ = '\0';
		if (strcmp(cpath, want) != 0)
			continue;
		for (tok = strtok_r(ctrls, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2))
			if (strcmp(tok, controller) == 0)
				found = true;
	}
	free(buf);
	return found;
}

struct report {
	int forks;	/* forks that succeeded before the first failure */
	int fork_errno; /* errno of the failed fork, 0 if none failed */
	int null_errno; /* open("/dev/null"): 0 or errno */
	int kmsg_errno; /* open("/dev/kmsg"): 0 or errno */
};

/* In the child: wait to be moved, then try a fork bomb and two devices. */
static void __attribute__((noreturn)) child_fork_bomb(int go, int rep)
{
	struct report r = {0};
	pid_t kids[32];
	char c;
	int i, fd;

	if (read(go, &c, 1) != 1)
		_exit(2);
	for (i = 0; i < 32; i++) {
		pid_t k = fork();

		if (k == 0) {
			pause();
			_exit(0);
		}
		if (k < 0) {
			r.fork_errno = errno;
			break;
		}
		kids[r.forks++] = k;
	}
	for (i = 0; i < r.forks; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < r.forks; i++)
		waitpid(kids[i], NULL, 0);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	r.null_errno = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	fd = open("/dev/kmsg", O_RDONLY | O_CLOEXEC);
	r.kmsg_errno = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	if (write(rep, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(3);
	_exit(0);
}

static void start_child(struct fixture *f, void (*fn)(int go, int rep))
{
	assert_int_equal(pipe2(f->go, O_CLOEXEC), 0);
	assert_int_equal(pipe2(f->report, O_CLOEXEC), 0);
	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0) {
		close(f->go[1]);
		close(f->report[0]);
		fn(f->go[0], f->report[1]);
		_exit(1);
	}
	close(f->go[0]);
	close(f->report[1]);
	f->go[0] = f->report[1] = -1;
}

static void test_v1_real(void **state)
{
	struct fixture *f = *state;
	struct ward_policy p;
	struct report r;
	char dir[256];
	size_t i;
	int status;

	if (!have_real_v1())
		skip();
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	default_policy(&p);
	if (ward_cgroup_create(&p, NULL, f->name, &f->cg, &f->err) < 0)
		fail_msg("create: %s", f->err->msg);
	assert_int_equal(ward_cgroup_dirfd(f->cg), -1);

	/* What the kernel reports back (these files end in a newline). */
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/pids/ward/%s", f->name);
	check_file(dir, "pids.max", "5\n");
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/memory/ward/%s", f->name);
	check_file(dir, "memory.limit_in_bytes", "67108864\n");
	if (exists("%s/%s", dir, "memory.memsw.limit_in_bytes"))
		check_file(dir, "memory.memsw.limit_in_bytes", "67108864\n");
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/cpu/ward/%s", f->name);
	check_file(dir, "cpu.cfs_quota_us", "50000\n");
	check_file(dir, "cpu.cfs_period_us", "100000\n");
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/devices/ward/%s", f->name);
	check_file(dir, "devices.list",
		   "c 1:3 rw\nc 1:5 rw\nc 1:7 rw\nc 1:8 rw\nc 1:9 rw\n"
		   "c 5:0 rw\nc 5:2 rw\nc 136:* rw\n");

	start_child(f, child_fork_bomb);
	if (ward_cgroup_enter(f->cg, f->child, &f->err) < 0)
		fail_msg("enter: %s", f->err->msg);
	for (i = 0; i < V1_CONTROLLERS_USED; i++)
		if (!proc_in(f->child, v1_used[i], f->name))
			fail_msg("/proc/%d/cgroup does not show %s:/ward/%s", (int)f->child,
				 v1_used[i], f->name);
	assert_false(ward_cgroup_pids_exhausted(f->cg));
	assert_int_equal(write(f->go[1], "x", 1), 1);
	assert_int_equal(read(f->report[0], &r, sizeof(r)), (ssize_t)sizeof(r));
	assert_int_equal(waitpid(f->child, &status, 0), f->child);
	f->child = -1;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* pids.max 5: the child and 4 more, then EAGAIN. */
	assert_int_equal(r.forks, 4);
	assert_int_equal(r.fork_errno, EAGAIN);
	assert_true(ward_cgroup_pids_exhausted(f->cg));
	assert_false(ward_cgroup_oom_killed(f->cg));
	/* devices: /dev/null allowed, /dev/kmsg (c 1:11) refused. */
	assert_int_equal(r.null_errno, 0);
	assert_int_equal(r.kmsg_errno, EPERM);

	if (ward_cgroup_destroy(f->cg, &f->err) < 0) {
		f->cg = NULL;
		fail_msg("destroy: %s", f->err->msg);
	}
	f->cg = NULL;
	for (i = 0; i < V1_CONTROLLERS_USED; i++)
		if (exists("/sys/fs/cgroup/%s/ward/%s", v1_used[i], f->name))
			fail_msg("/sys/fs/cgroup/%s/ward/%s is still there", v1_used[i], f->name);
}

/* In the child: touch memory until the memory limit's OOM kill. */
static void __attribute__((noreturn)) child_memory_bomb(int go, int rep)
{
	size_t chunk = 1u << 20, i;
	char c;

	(void)rep;
	if (read(go, &c, 1) != 1)
		_exit(2);
	for (i = 0; i < 1024; i++) {
		char *m = malloc(chunk);

		if (m == NULL)
			_exit(4);
		memset(m, 0x5a, chunk);
	}
	_exit(0); /* 1 GiB touched: the limit did not hold */
}

static void test_v1_real_memory_bomb(void **state)
{
	struct fixture *f = *state;
	struct ward_policy p;
	int status;

	if (!have_real_v1())
		skip();
	default_policy(&p);
	p.memory_max = 32ull << 20;
	p.pids_max = 16;
	if (ward_cgroup_create(&p, NULL, f->name, &f->cg, &f->err) < 0)
		fail_msg("create: %s", f->err->msg);
	start_child(f, child_memory_bomb);
	if (ward_cgroup_enter(f->cg, f->child, &f->err) < 0)
		fail_msg("enter: %s", f->err->msg);
	assert_false(ward_cgroup_oom_killed(f->cg));
	assert_int_equal(write(f->go[1], "x", 1), 1);
	assert_int_equal(waitpid(f->child, &status, 0), f->child);
	f->child = -1;
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_true(ward_cgroup_oom_killed(f->cg));
	assert_int_equal(ward_cgroup_destroy(f->cg, &f->err), 0);
	f->cg = NULL;
}

/* In the child: start two more processes, report, and wait forever. */
static void __attribute__((noreturn)) child_sleepers(int go, int rep)
{
	char c;
	int i;

	if (read(go, &c, 1) != 1)
		_exit(2);
	for (i = 0; i < 2; i++)
		if (fork() == 0) {
			for (;;)
				pause();
		}
	if (write(rep, "r", 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

static void test_v1_real_destroy_kills(void **state)
{
	struct fixture *f = *state;
	struct ward_policy p;
	char c;
	int status;

	if (!have_real_v1())
		skip();
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	default_policy(&p);
	if (ward_cgroup_create(&p, NULL, f->name, &f->cg, &f->err) < 0)
		fail_msg("create: %s", f->err->msg);
	start_child(f, child_sleepers);
	if (ward_cgroup_enter(f->cg, f->child, &f->err) < 0)
		fail_msg("enter: %s", f->err->msg);
	assert_int_equal(write(f->go[1], "x", 1), 1);
	assert_int_equal(read(f->report[0], &c, 1), 1);

	/* Three live processes in the cgroup: destroy kills them all. */
	if (ward_cgroup_destroy(f->cg, &f->err) < 0) {
		f->cg = NULL;
		fail_msg("destroy: %s", f->err->msg);
	}
	f->cg = NULL;
	assert_int_equal(waitpid(f->child, &status, 0), f->child);
	f->child = -1;
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_false(exists("/sys/fs/cgroup/%s/ward/%s", "pids", f->name));
	assert_false(exists("/sys/fs/cgroup/%s/ward/%s", "memory", f->name));
}

/* Entering a process that is gone fails with a message naming it. */
static void test_v1_real_enter_gone(void **state)
{
	struct fixture *f = *state;
	struct ward_policy p;
	pid_t pid;

	if (!have_real_v1())
		skip();
	default_policy(&p);
	if (ward_cgroup_create(&p, NULL, f->name, &f->cg, &f->err) < 0)
		fail_msg("create: %s", f->err->msg);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(ward_cgroup_enter(f->cg, pid, &f->err), -1);
	assert_non_null(strstr(f->err->msg, "cgroup.procs"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v2_standin_create_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2_standin_no_cpu_limit_partial_enable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_v2_standin_missing_controller, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detect_real_hybrid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2_real_unified_missing_controller, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_v1_real, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_real_memory_bomb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_real_destroy_kills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_real_enter_gone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
