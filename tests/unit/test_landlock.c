/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Landlock: the plan (pure, exact masks per ABI) and the applier (in forked
 * children, at the machine's ABI; skipped with a reason when there is none).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "landlock.h"
#include "util.h"

#define R  LANDLOCK_ACCESS_FS_READ_FILE
#define RD LANDLOCK_ACCESS_FS_READ_DIR
#define W  LANDLOCK_ACCESS_FS_WRITE_FILE
#define X  LANDLOCK_ACCESS_FS_EXECUTE
#define TR LANDLOCK_ACCESS_FS_TRUNCATE
#define IO LANDLOCK_ACCESS_FS_IOCTL_DEV
#define RF LANDLOCK_ACCESS_FS_REFER

/* Spelled out bit by bit, independently of landlock.c's macros. */
#define RW_DIR                                                                         \
	(R | RD | W | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |                   \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |                 \
	 LANDLOCK_ACCESS_FS_MAKE_SYM | RF | TR)
#define DEV	(R | W | TR | IO)
#define NET_TCP (LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP)
#define SCOPES	(LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL)

#define NO_RULE UINT64_MAX

/* "/", 8 system dirs, /tmp, /dev/shm, /dev, 7 nodes, /dev/pts, /proc, /sys. */
#define VIEW_RULES 22

static uint64_t rule_access(const struct ward_landlock_plan *plan, const char *path)
{
	size_t i;

	for (i = 0; i < plan->n_rules; i++)
		if (strcmp(plan->rules[i].path, path) == 0)
			return plan->rules[i].access;
	return NO_RULE;
}

static const char *rule_origin(const struct ward_landlock_plan *plan, const char *path)
{
	size_t i;

	for (i = 0; i < plan->n_rules; i++)
		if (strcmp(plan->rules[i].path, path) == 0)
			return plan->rules[i].origin;
	return NULL;
}

/* A policy with the grants the plan tests look at. */
static struct ward_path_grant test_paths[] = {
	{.path = "/data", .access = WARD_FS_READ, .origin = "app.ent:1"},
	{.path = "/opt/tool", .access = WARD_FS_READ | WARD_FS_EXEC, .origin = "app.ent:2"},
	{.path = "/srv/out", .access = WARD_FS_READ | WARD_FS_WRITE, .origin = "app.ent:3"},
	{.path = "/tmp", .access = WARD_FS_READ | WARD_FS_WRITE, .origin = "--allow"},
};
static struct ward_device_grant test_devices[] = {
	{.path = "/dev/fuse", .origin = "app.ent:4"},
};

static void policy_default(struct ward_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->net = WARD_NET_NONE;
	p->nofile = WARD_DEFAULT_NOFILE;
}

static void policy_with_grants(struct ward_policy *p)
{
	policy_default(p);
	p->paths = test_paths;
	p->n_paths = ARRAY_SIZE(test_paths);
	p->devices = test_devices;
	p->n_devices = ARRAY_SIZE(test_devices);
}

/* Invariants that hold at every ABI. */
static void check_common(const struct ward_landlock_plan *plan)
{
	size_t i;

	assert_int_equal(rule_access(plan, "/"), RD);
	assert_int_equal(rule_access(plan, "/dev"), RD);
	for (i = 0; i < plan->n_rules; i++) {
		const struct ward_ll_path_rule *r = &plan->rules[i];

		/* Nothing beyond what the ruleset handles (add_rule says EINVAL). */
		assert_int_equal(r->access & ~plan->handled_fs, 0);
		/* No device node can be made anywhere. */
		assert_int_equal(
			r->access & (LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK),
			0);
		assert_non_null(r->path);
		assert_int_equal(r->path[0], '/');
	}
	/* Each path once. */
	for (i = 0; i < plan->n_rules; i++) {
		size_t j;

		for (j = i + 1; j < plan->n_rules; j++)
			assert_string_not_equal(plan->rules[i].path, plan->rules[j].path);
	}
}

static void test_plan_abi7(void **state)
{
	struct ward_landlock_plan plan;
	struct ward_policy p;

	(void)state;
	policy_default(&p);
	ward_landlock_plan(&p, 7, &plan);
	assert_int_equal(plan.abi, 7);
	assert_int_equal(plan.handled_fs, 0xffff);
	assert_int_equal(plan.handled_net, NET_TCP);
	assert_int_equal(plan.scoped, SCOPES);
	assert_int_equal(plan.missing, 0);
	check_common(&plan);

	assert_int_equal(rule_access(&plan, "/usr"), R | RD | X);
	assert_int_equal(rule_access(&plan, "/etc"), R | RD | X);
	assert_int_equal(rule_access(&plan, "/lib64"), R | RD | X);
	assert_int_equal(rule_access(&plan, "/tmp"), RW_DIR);
	assert_int_equal(rule_access(&plan, "/dev/shm"), RW_DIR);
	assert_int_equal(rule_access(&plan, "/dev/null"), DEV);
	assert_int_equal(rule_access(&plan, "/dev/ptmx"), DEV);
	assert_int_equal(rule_access(&plan, "/dev/pts"), DEV | RD);
	assert_int_equal(rule_access(&plan, "/proc"), R | RD | W | TR);
	assert_int_equal(rule_access(&plan, "/sys"), R | RD);
	/* ward's own rules are optional: no origin. */
	assert_null(rule_origin(&plan, "/usr"));
	/* Nothing else: no /home, /root, /run, /var. */
	assert_int_equal(rule_access(&plan, "/home"), NO_RULE);
	assert_int_equal(rule_access(&plan, "/run"), NO_RULE);
	assert_int_equal(plan.n_rules, VIEW_RULES);
	ward_landlock_plan_free(&plan);
	assert_null(plan.rules);
	assert_int_equal(plan.n_rules, 0);
}

/* The scratch space executes unless fs.scratch.noexec (a zeroed policy:
 * not); the host's /tmp (host.tmp) never does; ABI 7 asks the kernel to
 * log the program's denials. */
static void test_plan_scratch_exec(void **state)
{
	struct ward_landlock_plan plan;
	struct ward_policy p;

	(void)state;
	policy_default(&p);
	p.scratch_exec = true;
	ward_landlock_plan(&p, 7, &plan);
	assert_int_equal(rule_access(&plan, "/tmp"), RW_DIR | X);
	assert_int_equal(rule_access(&plan, "/dev/shm"), RW_DIR | X);
	assert_int_equal(rule_access(&plan, "/usr"), R | RD | X);
	assert_int_equal(plan.restrict_flags, LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF |
						      LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON);
	ward_landlock_plan_free(&plan);
	policy_with_grants(&p); /* /tmp granted: the host's /tmp */
	p.scratch_exec = true;
	ward_landlock_plan(&p, 7, &plan);
	assert_int_equal(rule_access(&plan, "/tmp"), RW_DIR);
	assert_int_equal(rule_access(&plan, "/dev/shm"), RW_DIR | X);
	assert_int_equal(rule_access(&plan, "/srv/out"), RW_DIR);
	ward_landlock_plan_free(&plan);
	policy_default(&p);
	ward_landlock_plan(&p, 6, &plan);
	assert_int_equal(plan.restrict_flags, 0);
	ward_landlock_plan_free(&plan);
}

static void test_plan_grants_abi7(void **state)
{
	struct ward_landlock_plan plan;
	struct ward_policy p;
	size_t i;

	(void)state;
	policy_with_grants(&p);
	ward_landlock_plan(&p, 7, &plan);
	check_common(&plan);
	assert_int_equal(rule_access(&plan, "/data"), R | RD);
	assert_string_equal(rule_origin(&plan, "/data"), "fs.read=/data (app.ent:1)");
	assert_int_equal(rule_access(&plan, "/opt/tool"), R | RD | X);
	assert_string_equal(rule_origin(&plan, "/opt/tool"), "fs.exec=/opt/tool (app.ent:2)");
	assert_int_equal(rule_access(&plan, "/srv/out"), RW_DIR);
	assert_string_equal(rule_origin(&plan, "/srv/out"), "fs.write=/srv/out (app.ent:3)");
	/* fs.write=/tmp merges into ward's own /tmp rule, and makes it required. */
	assert_int_equal(rule_access(&plan, "/tmp"), RW_DIR);
	assert_string_equal(rule_origin(&plan, "/tmp"), "fs.write=/tmp (--allow)");
	assert_int_equal(rule_access(&plan, "/dev/fuse"), DEV | RD);
	assert_string_equal(rule_origin(&plan, "/dev/fuse"), "host.devices=/dev/fuse (app.ent:4)");
	assert_int_equal(plan.n_rules, VIEW_RULES + 4);
	/* EXECUTE only where granted: system dirs and fs.exec. */
	for (i = 0; i < plan.n_rules; i++) {
		const char *path = plan.rules[i].path;
		bool may_exec = strcmp(path, "/opt/tool") == 0 || strcmp(path, "/usr") == 0 ||
				strcmp(path, "/bin") == 0 || strcmp(path, "/sbin") == 0 ||
				strncmp(path, "/lib", 4) == 0 || strcmp(path, "/etc") == 0;

		if (!may_exec)
			assert_int_equal(plan.rules[i].access & X, 0);
	}
	ward_landlock_plan_free(&plan);
}

static void test_plan_abi4(void **state)
{
	struct ward_landlock_plan plan;
	struct ward_policy p;

	(void)state;
	policy_with_grants(&p);
	ward_landlock_plan(&p, 4, &plan);
	assert_int_equal(plan.handled_fs, 0x7fff);
	assert_int_equal(plan.handled_net, NET_TCP);
	assert_int_equal(plan.scoped, 0);
	assert_int_equal(plan.missing, WARD_LL_MISSING_IOCTL | WARD_LL_MISSING_SCOPE);
	check_common(&plan);
	assert_int_equal(rule_access(&plan, "/dev/null"), R | W | TR);
	assert_int_equal(rule_access(&plan, "/dev/fuse"), R | W | TR | RD);
	assert_int_equal(rule_access(&plan, "/tmp"), RW_DIR);
	assert_int_equal(rule_access(&plan, "/data"), R | RD);
	ward_landlock_plan_free(&plan);
}

static void test_plan_abi3(void **state)
{
	struct ward_landlock_plan plan;
	struct ward_policy p;

	(void)state;
	policy_default(&p);
	ward_landlock_plan(&p, 3, &plan);
	assert_int_equal(plan.handled_fs, 0x7fff);
	assert_int_equal(plan.handled_net, 0);
	assert_int_equal(plan.scoped, 0);
	assert_int_equal(plan.missing,
			 WARD_LL_MISSING_NET | WARD_LL_MISSING_IOCTL | WARD_LL_MISSING_SCOPE);
	check_common(&plan);
	assert_int_equal(rule_access(&plan, "/proc"), R | RD | W | TR);
	ward_landlock_plan_free(&plan);
}

static void test_plan_abi1(void **state)
{
	struct ward_landlock_plan plan;
	struct ward_policy p;

	(void)state;
	policy_with_grants(&p);
	ward_landlock_plan(&p, 1, &plan);
	assert_int_equal(plan.handled_fs, 0x1fff);
	assert_int_equal(plan.handled_net, 0);
	assert_int_equal(plan.scoped, 0);
	assert_int_equal(plan.missing, WARD_LL_MISSING_REFER | WARD_LL_MISSING_TRUNCATE |
					       WARD_LL_MISSING_NET | WARD_LL_MISSING_IOCTL |
					       WARD_LL_MISSING_SCOPE);
	check_common(&plan);
	assert_int_equal(rule_access(&plan, "/tmp"), RW_DIR & ~(RF | TR));
	assert_int_equal(rule_access(&plan, "/dev/null"), R | W);
	assert_int_equal(rule_access(&plan, "/proc"), R | RD | W);
	assert_int_equal(rule_access(&plan, "/opt/tool"), R | RD | X);
	ward_landlock_plan_free(&plan);
}

static void test_plan_abi0(void **state)
{
	struct ward_landlock_plan plan;
	struct ward_policy p;
	ward_error_t err = NULL;

	(void)state;
	policy_with_grants(&p);
	ward_landlock_plan(&p, 0, &plan);
	assert_int_equal(plan.abi, 0);
	assert_int_equal(plan.handled_fs, 0);
	assert_int_equal(plan.handled_net, 0);
	assert_int_equal(plan.scoped, 0);
	assert_int_equal(plan.n_rules, 0);
	assert_int_equal(plan.missing, WARD_LL_MISSING_ALL);
	/* Applying it is an error, not a silent no-op: the launcher decides. */
	assert_int_equal(ward_landlock_apply(&plan, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "Landlock is not available"));
	ward_error_free(&err);
	ward_landlock_plan_free(&plan);

	ward_landlock_plan(&p, -1, &plan);
	assert_int_equal(plan.missing, WARD_LL_MISSING_ALL);
	ward_landlock_plan_free(&plan);
}

static void test_plan_net_modes(void **state)
{
	struct ward_landlock_plan plan;
	struct ward_policy p;

	(void)state;
	/* Landlock cannot express "loopback only": not handled, and not missing. */
	policy_default(&p);
	p.net = WARD_NET_LOOPBACK;
	ward_landlock_plan(&p, 7, &plan);
	assert_int_equal(plan.handled_net, 0);
	assert_int_equal(plan.missing, 0);
	ward_landlock_plan_free(&plan);

	p.net = WARD_NET_HOST;
	ward_landlock_plan(&p, 3, &plan);
	assert_int_equal(plan.handled_net, 0);
	assert_int_equal(plan.missing, WARD_LL_MISSING_IOCTL | WARD_LL_MISSING_SCOPE);
	ward_landlock_plan_free(&plan);

	/* A kernel newer than ward knows is used at ward's newest ABI. */
	p.net = WARD_NET_NONE;
	ward_landlock_plan(&p, 9, &plan);
	assert_int_equal(plan.abi, 9);
	assert_int_equal(plan.handled_fs, 0xffff);
	assert_int_equal(plan.handled_net, NET_TCP);
	assert_int_equal(plan.scoped, SCOPES);
	assert_int_equal(plan.missing, 0);
	ward_landlock_plan_free(&plan);
}

static void test_plan_many_rules(void **state)
{
	struct ward_path_grant grants[200];
	struct ward_landlock_plan plan;
	struct ward_policy p;
	char *long_path;
	size_t i;

	(void)state;
	/* No fixed limit on rules, no truncation of long paths. */
	long_path = ward_xmalloc(1001);
	memset(long_path, 'a', 1000);
	long_path[0] = '/';
	long_path[1000] = '\0';
	policy_default(&p);
	for (i = 0; i < ARRAY_SIZE(grants); i++) {
		grants[i].path = i == 0 ? long_path : ward_xasprintf("/data/%zu", i);
		grants[i].access = WARD_FS_READ;
		grants[i].origin = "app.ent:9";
	}
	p.paths = grants;
	p.n_paths = ARRAY_SIZE(grants);
	ward_landlock_plan(&p, 7, &plan);
	assert_int_equal(plan.n_rules, VIEW_RULES + ARRAY_SIZE(grants));
	assert_int_equal(rule_access(&plan, long_path), R | RD);
	assert_int_equal(rule_access(&plan, "/data/199"), R | RD);
	ward_landlock_plan_free(&plan);
	for (i = 0; i < ARRAY_SIZE(grants); i++)
		free(grants[i].path);
}

static void test_missing_text(void **state)
{
	char *t;

	(void)state;
	assert_null(ward_landlock_missing_text(0));

	t = ward_landlock_missing_text(WARD_LL_MISSING_NET);
	assert_non_null(t);
	assert_non_null(strstr(t, "Landlock ABI < 4: TCP bind/connect"));
	assert_null(strchr(t, '\n'));
	free(t);

	t = ward_landlock_missing_text(WARD_LL_MISSING_ALL);
	assert_non_null(strstr(t, "Landlock is not available"));
	free(t);

	/* One line per missing guarantee, in ABI order. */
	t = ward_landlock_missing_text(WARD_LL_MISSING_REFER | WARD_LL_MISSING_TRUNCATE |
				       WARD_LL_MISSING_NET | WARD_LL_MISSING_IOCTL |
				       WARD_LL_MISSING_SCOPE);
	assert_non_null(t);
	{
		const char *a = strstr(t, "ABI < 2"), *b = strstr(t, "ABI < 3"),
			   *c = strstr(t, "ABI < 4"), *d = strstr(t, "ABI < 5"),
			   *e = strstr(t, "ABI < 6");
		size_t lines = 1;
		const char *s;

		assert_true(a && b && c && d && e);
		assert_true(a < b && b < c && c < d && d < e);
		for (s = t; *s; s++)
			lines += *s == '\n';
		assert_int_equal(lines, 5);
	}
	free(t);
}

/* ---- the applier, for real, in forked children ---- */

struct fixture {
	char base[64]; /* /var/tmp/ward-ll-XXXXXX */
	char in[128];  /* base/in: granted fs.read */
	char out[128]; /* base/out: not granted */
	int abi;
};

static int write_small_file(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	if (fd < 0)
		return -1;
	if (write(fd, "ward\n", 5) != 5) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in, out;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (ward_write_all(out, buf, (size_t)n) < 0)
			break;
	close(in);
	return close(out) == 0 && n == 0 ? 0 : -1;
}

static int teardown_tree(void **state)
{
	static const char *const files[] = {"in/file", "in/true", "out/file", "link"};
	static const char *const dirs[] = {"in", "out"};
	struct fixture *f = *state;
	char path[256];
	size_t i;

	if (f == NULL)
		return 0;
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->base, files[i]);
		unlink(path);
	}
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->base, dirs[i]);
		rmdir(path);
	}
	rmdir(f->base);
	free(f);
	*state = NULL;
	return 0;
}

static int setup_tree(void **state)
{
	struct fixture *f = ward_xcalloc(1, sizeof(*f));
	char path[256];

	f->abi = ward_landlock_abi();
	snprintf(f->base, sizeof(f->base), "/var/tmp/ward-ll-XXXXXX");
	if (mkdtemp(f->base) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	snprintf(f->in, sizeof(f->in), "%s/in", f->base);
	snprintf(f->out, sizeof(f->out), "%s/out", f->base);
	if (mkdir(f->in, 0755) < 0 || mkdir(f->out, 0755) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/file", f->in);
	if (write_small_file(path, 0644) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/file", f->out);
	if (write_small_file(path, 0644) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/true", f->in);
	if (copy_file("/bin/true", path, 0755) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/link", f->base);
	if (symlink("in", path) < 0)
		goto fail;
	return 0;
fail:
	teardown_tree(state);
	return -1;
}

#define SKIP_BECAUSE(why)                            \
	do {                                         \
		print_message("skipped: %s\n", why); \
		skip();                              \
	} while (0)

/* Child side: print what went wrong and exit with the step number. */
#define CHILD_CHECK(step, cond, ...)                                                  \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "step %d: ", step);                           \
			fprintf(stderr, __VA_ARGS__);                                 \
			fprintf(stderr, " (errno %d: %s)\n", errno, strerror(errno)); \
			_exit(step);                                                  \
		}                                                                     \
	} while (0)

static int run_child(void (*fn)(const struct fixture *, void *), const struct fixture *f, void *arg)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fn(f, arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* errno of an open() in this process; 0 when it worked. */
static int open_errno(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* errno of execve() of path in a grandchild; 0 when it ran and exited 0. */
static int exec_errno(const char *path)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		char *const argv[] = {(char *)path, NULL};
		char *const envp[] = {NULL};

		execve(path, argv, envp);
		_exit(errno);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int tcp_connect_errno(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(1)};
	int fd, r;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	r = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ? errno : 0;
	close(fd);
	return r;
}

static int tcp_bind_errno(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
	int fd, r;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	r = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ? errno : 0;
	close(fd);
	return r;
}

static socklen_t abstract_addr(struct sockaddr_un *sun, const char *name)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	/* sun_path[0] = '\0': the abstract namespace. */
	memcpy(sun->sun_path + 1, name, strlen(name));
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static int abstract_connect_errno(const char *name)
{
	struct sockaddr_un sun;
	socklen_t len = abstract_addr(&sun, name);
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	r = connect(fd, (struct sockaddr *)&sun, len) < 0 ? errno : 0;
	close(fd);
	return r;
}

struct real_args {
	int plan_abi;
	const char *abstract_name;
};

static void child_apply_default(const struct fixture *f, void *arg)
{
	const struct real_args *a = arg;
	struct ward_path_grant grant = {.access = WARD_FS_READ, .origin = "test:1"};
	struct ward_device_grant device = {.path = "/dev/null", .origin = "test:2"};
	struct ward_landlock_plan plan;
	ward_error_t err = NULL;
	struct ward_policy p;
	char path[256];
	int fd;

	policy_default(&p);
	grant.path = (char *)f->in;
	p.paths = &grant;
	p.n_paths = 1;
	/* A grant on a node: its READ_DIR must be dropped for a non-directory. */
	p.devices = &device;
	p.n_devices = 1;
	ward_landlock_plan(&p, a->plan_abi, &plan);

	CHILD_CHECK(1, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "no_new_privs");
	if (ward_landlock_apply(&plan, &err) < 0) {
		fprintf(stderr, "apply: %s\n", err->msg);
		_exit(2);
	}

	/* fs.read=in: read yes, write no. */
	snprintf(path, sizeof(path), "%s/file", f->in);
	CHILD_CHECK(3, open_errno(path, O_RDONLY) == 0, "read %s", path);
	CHILD_CHECK(4, open_errno(path, O_WRONLY) == EACCES, "write %s refused", path);
	CHILD_CHECK(5, open_errno(f->in, O_RDONLY | O_DIRECTORY) == 0, "list %s", f->in);
	/* Outside every rule. */
	snprintf(path, sizeof(path), "%s/file", f->out);
	CHILD_CHECK(6, open_errno(path, O_RDONLY) == EACCES, "read %s refused", path);
	/*
	 * READ_DIR at "/" is inherited by every directory of the view: names
	 * can be listed everywhere, file contents only where granted.
	 */
	CHILD_CHECK(7, open_errno(f->out, O_RDONLY | O_DIRECTORY) == 0, "list %s", f->out);
	CHILD_CHECK(8, open_errno("/", O_RDONLY | O_DIRECTORY) == 0, "list /");
	CHILD_CHECK(9, open_errno("/var/lib/dpkg/status", O_RDONLY) == EACCES || errno == ENOENT,
		    "read /var/lib/dpkg/status refused");
	/* ward's own view: system files readable, /tmp writable, /dev/null with O_TRUNC. */
	CHILD_CHECK(10, open_errno("/etc/passwd", O_RDONLY) == 0, "read /etc/passwd");
	CHILD_CHECK(11, open_errno("/etc/passwd", O_WRONLY) == EACCES, "write /etc/passwd refused");
	CHILD_CHECK(12, open_errno("/dev/null", O_WRONLY | O_TRUNC) == 0, "> /dev/null");
	snprintf(path, sizeof(path), "/tmp/ward-ll-test-XXXXXX");
	fd = mkstemp(path);
	CHILD_CHECK(13, fd >= 0, "create a file in /tmp");
	close(fd);
	CHILD_CHECK(14, unlink(path) == 0, "remove %s", path);
	/* Execute: system dirs yes (through the /bin -> usr/bin link), fs.read no. */
	CHILD_CHECK(15, exec_errno("/bin/true") == 0, "exec /bin/true");
	snprintf(path, sizeof(path), "%s/true", f->in);
	CHILD_CHECK(16, exec_errno(path) == EACCES, "exec %s refused", path);

	/* Expectations follow the ABI the plan was made for, not the plan itself. */
	if (a->plan_abi >= 4) {
		CHILD_CHECK(17, tcp_connect_errno() == EACCES, "TCP connect refused");
		CHILD_CHECK(18, tcp_bind_errno() == EACCES, "TCP bind refused");
	} else {
		/* Not handled: the kernel answers (nothing listens on port 1). */
		CHILD_CHECK(19, tcp_connect_errno() == ECONNREFUSED, "TCP connect not handled");
	}
	if (a->plan_abi >= 6) {
		CHILD_CHECK(20, kill(getppid(), 0) < 0 && errno == EPERM, "signal parent refused");
		CHILD_CHECK(21, abstract_connect_errno(a->abstract_name) == EPERM,
			    "abstract socket outside refused");
	} else {
		CHILD_CHECK(22, kill(getppid(), 0) == 0, "signal parent (not scoped)");
		CHILD_CHECK(23, abstract_connect_errno(a->abstract_name) == 0,
			    "abstract socket (not scoped)");
	}
	ward_landlock_plan_free(&plan);
}

static void real_test_at(void **state, int plan_abi)
{
	struct fixture *f = *state;
	struct real_args a = {.plan_abi = plan_abi};
	struct sockaddr_un sun;
	char name[64];
	socklen_t len;
	int lfd;

	if (f->abi <= 0)
		SKIP_BECAUSE("Landlock is not available on this kernel");
	if (plan_abi > f->abi)
		SKIP_BECAUSE("the kernel's Landlock ABI is older than the plan's");
	/* A listening abstract socket outside the sandbox, to connect to. */
	snprintf(name, sizeof(name), "ward-ll-test-%d-%d", (int)getpid(), plan_abi);
	a.abstract_name = name;
	len = abstract_addr(&sun, name);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, len), 0);
	assert_int_equal(listen(lfd, 8), 0);

	assert_int_equal(run_child(child_apply_default, f, &a), 0);
	close(lfd);
}

static void test_apply_machine_abi(void **state)
{
	struct fixture *f = *state;

	real_test_at(state, f->abi > WARD_LL_ABI_KNOWN ? WARD_LL_ABI_KNOWN : f->abi);
}

/* Best effort: a plan made for an older ABI works on this kernel too. */
static void test_apply_abi3(void **state)
{
	real_test_at(state, 3);
}

static void test_apply_abi1(void **state)
{
	real_test_at(state, 1);
}

static void child_apply_expect_error(const struct fixture *f, void *arg)
{
	struct ward_path_grant grant = {.access = WARD_FS_READ, .origin = "test:7"};
	const char *want = arg;
	struct ward_landlock_plan plan;
	ward_error_t err = NULL;
	struct ward_policy p;
	char path[256];

	policy_default(&p);
	snprintf(path, sizeof(path), "%s/%s", f->base, want);
	grant.path = path;
	p.paths = &grant;
	p.n_paths = 1;
	ward_landlock_plan(&p, f->abi, &plan);
	CHILD_CHECK(1, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "no_new_privs");
	CHILD_CHECK(2, ward_landlock_apply(&plan, &err) == -1, "apply must fail for %s", path);
	fprintf(stderr, "(expected) %s\n", err->msg);
	CHILD_CHECK(3,
		    strstr(err->msg, "fs.read=") && strstr(err->msg, path) &&
			    strstr(err->msg, "test:7"),
		    "message names the grant: %s", err->msg);
	if (strcmp(want, "link") == 0)
		CHILD_CHECK(4, strstr(err->msg, "symbolic link") != NULL, "says why: %s", err->msg);
	else
		CHILD_CHECK(5, strstr(err->msg, "does not exist") != NULL, "says why: %s",
			    err->msg);
	/* Failed before landlock_restrict_self: nothing is restricted. */
	snprintf(path, sizeof(path), "%s/file", f->out);
	CHILD_CHECK(6, open_errno(path, O_RDONLY) == 0, "not restricted after a failed apply");
	ward_error_free(&err);
	ward_landlock_plan_free(&plan);
}

static void test_apply_missing_path(void **state)
{
	struct fixture *f = *state;

	if (f->abi <= 0)
		SKIP_BECAUSE("Landlock is not available on this kernel");
	assert_int_equal(run_child(child_apply_expect_error, f, "nonexistent"), 0);
}

static void test_apply_symlink_path(void **state)
{
	struct fixture *f = *state;

	if (f->abi <= 0)
		SKIP_BECAUSE("Landlock is not available on this kernel");
	assert_int_equal(run_child(child_apply_expect_error, f, "link"), 0);
}

static void test_abi(void **state)
{
	int abi = ward_landlock_abi();

	(void)state;
	assert_true(abi >= 0);
	print_message("Landlock ABI on this kernel: %d\n", abi);
}

int main(void)
{
	const struct CMUnitTest plan_tests[] = {
		cmocka_unit_test(test_plan_abi7),
		cmocka_unit_test(test_plan_grants_abi7),
		cmocka_unit_test(test_plan_scratch_exec),
		cmocka_unit_test(test_plan_abi4),
		cmocka_unit_test(test_plan_abi3),
		cmocka_unit_test(test_plan_abi1),
		cmocka_unit_test(test_plan_abi0),
		cmocka_unit_test(test_plan_net_modes),
		cmocka_unit_test(test_plan_many_rules),
		cmocka_unit_test(test_missing_text),
		cmocka_unit_test(test_abi),
	};
	const struct CMUnitTest apply_tests[] = {
		cmocka_unit_test(test_apply_machine_abi),
		cmocka_unit_test(test_apply_abi3),
		cmocka_unit_test(test_apply_abi1),
		cmocka_unit_test(test_apply_missing_path),
		cmocka_unit_test(test_apply_symlink_path),
	};
	int failed;

	failed = cmocka_run_group_tests_name("landlock plan", plan_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("landlock apply", apply_tests, setup_tree,
					      teardown_tree);
	return failed ? 1 : 0;
}
