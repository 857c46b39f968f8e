/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capabilities: the name table (pure), then the real path in forked
 * children: uid 0 in a user namespace mapped by the parent (as the launcher
 * does), and an unprivileged host uid that kept capabilities with
 * PR_SET_KEEPCAPS (host.time).  What counts is what the program sees after
 * execve, so each child ends by running /bin/cat /proc/self/status and the
 * parent reads the capability lines.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include <cmocka.h>

#include "caps.h"
#include "util.h"

#define BIT(c) (UINT64_C(1) << (c))

/* Host ids the test's user namespace maps to (inside: 0 .. RANGE-1). */
#define HOST_BASE  100000
#define HOST_RANGE 2000

#define SKIP_BECAUSE(why)                            \
	do {                                         \
		print_message("skipped: %s\n", why); \
		skip();                              \
	} while (0)

static void test_names(void **state)
{
	int cap, last = ward_cap_last();
	char lower[64];

	(void)state;
	assert_true(last >= CAP_CHECKPOINT_RESTORE);
	assert_true(last <= 63);
	for (cap = 0; cap <= CAP_LAST_CAP; cap++) {
		const char *name = ward_cap_name(cap);
		size_t i;

		assert_non_null(name);
		assert_true(strncmp(name, "CAP_", 4) == 0);
		assert_int_equal(ward_cap_from_name(name), cap);
		/* Without the prefix, in lower case. */
		for (i = 0; name[i + 4] && i < sizeof(lower) - 1; i++)
			lower[i] = (char)tolower((unsigned char)name[i + 4]);
		lower[i] = '\0';
		assert_int_equal(ward_cap_from_name(lower), cap);
	}
	assert_string_equal(ward_cap_name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
	assert_string_equal(ward_cap_name(CAP_CHECKPOINT_RESTORE), "CAP_CHECKPOINT_RESTORE");
	assert_int_equal(ward_cap_from_name("cap_net_bind_service"), CAP_NET_BIND_SERVICE);
	assert_int_equal(ward_cap_from_name("Sys_Time"), CAP_SYS_TIME);
	assert_int_equal(ward_cap_from_name("CAP_BPF"), CAP_BPF);
	assert_int_equal(ward_cap_from_name("bogus"), -1);
	assert_int_equal(ward_cap_from_name("CAP_"), -1);
	assert_int_equal(ward_cap_from_name(""), -1);
	assert_int_equal(ward_cap_from_name("CAP_CAP_CHOWN"), -1);
	assert_int_equal(ward_cap_from_name("chown "), -1);
	assert_int_equal(ward_cap_from_name(NULL), -1);
	assert_null(ward_cap_name(-1));
	assert_null(ward_cap_name(CAP_LAST_CAP + 1));
	assert_null(ward_cap_name(64));
}

static void test_unknown_cap_refused(void **state)
{
	ward_error_t err = NULL;

	(void)state;
	/* Refused before anything changes, so this can run in the test process. */
	assert_int_equal(ward_caps_drop_bounding(BIT(63), &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "capability 63 is not known"));
	ward_error_free(&err);
	assert_int_equal(ward_caps_finish(BIT(63), &err), -1);
	ward_error_free(&err);
}

/* CAP_FSETID is never granted (lib/caps.h WARD_CAPS_NEVER): with it a
 * sandbox could keep S_ISGID on files of a fs.write grant on the host. */
static void test_never_caps_refused(void **state)
{
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(ward_caps_drop_bounding(BIT(CAP_FSETID) | BIT(CAP_CHOWN), &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "CAP_FSETID is never granted"));
	ward_error_free(&err);
	assert_int_equal(ward_caps_finish(BIT(CAP_FSETID), &err), -1);
	ward_error_free(&err);
}

/* What /proc/self/status said in the exec'd program. */
struct status {
	uint64_t inh, prm, eff, bnd, amb;
	long uid;
	int nnp;
	int found;
};

static void parse_status(const char *text, struct status *st)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"CapInh:", offsetof(struct status, inh)},
		{"CapPrm:", offsetof(struct status, prm)},
		{"CapEff:", offsetof(struct status, eff)},
		{"CapBnd:", offsetof(struct status, bnd)},
		{"CapAmb:", offsetof(struct status, amb)},
	};
	const char *line;
	size_t i;

	memset(st, 0, sizeof(*st));
	st->uid = -1;
	st->nnp = -1;
	for (line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		for (i = 0; i < ARRAY_SIZE(keys); i++) {
			size_t n = strlen(keys[i].key);

			if (strncmp(line, keys[i].key, n) == 0) {
				*(uint64_t *)((char *)st + keys[i].off) =
					strtoull(line + n, NULL, 16);
				st->found++;
			}
		}
		if (strncmp(line, "Uid:", 4) == 0)
			st->uid = strtol(line + 4, NULL, 10);
		if (strncmp(line, "NoNewPrivs:", 11) == 0)
			st->nnp = (int)strtol(line + 11, NULL, 10);
	}
}

enum mode {
	MODE_USERNS,	     /* uid 0 in a user namespace mapped by the parent */
	MODE_USERNS_SETUID,  /* then setresuid(1000): the kernel's fixup must drop all */
	MODE_USERNS_NOPERM,  /* kept cap removed from permitted: finish() must refuse */
	MODE_USERNS_LOWER,   /* the program drops CAP_CHOWN: execve as uid 0 must not restore it */
	MODE_KEEPCAPS,	     /* host uid 65534 with PR_SET_KEEPCAPS, then drop_bounding() */
	MODE_KEEPCAPS_EARLY, /* the same with drop_bounding() before setresuid() */
};

struct child_args {
	enum mode mode;
	uint64_t keep;
};

static int read_byte(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? 0 : -1;
}

static int write_byte(int fd)
{
	return write(fd, "x", 1) == 1 ? 0 : -1;
}

static void child_fail(int code, const char *what, ward_error_t *err)
{
	fprintf(stderr, "child: %s: %s\n", what, err && *err ? (*err)->msg : strerror(errno));
	_exit(code);
}

static int drop_permitted(int cap)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, d) < 0)
		return -1;
	d[cap / 32].permitted &= ~(1u << (cap % 32));
	d[cap / 32].effective &= ~(1u << (cap % 32));
	return (int)syscall(SYS_capset, &hdr, d);
}

/* Runs in the child; never returns. */
static void child_main(const struct child_args *a, int ready_w, int go_r, int out_w)
{
	char *const argv[] = {"cat", "/proc/self/status", NULL};
	char *const envp[] = {NULL};
	ward_error_t err = NULL;

	if (a->mode == MODE_KEEPCAPS || a->mode == MODE_KEEPCAPS_EARLY) {
		/*
		 * host.time's path: a host uid that is not 0 keeps its
		 * permitted set across setresuid thanks to PR_SET_KEEPCAPS;
		 * the kernel empties the effective set.
		 */
		if (setgroups(0, NULL) < 0)
			child_fail(10, "setgroups", NULL);
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			child_fail(11, "PR_SET_KEEPCAPS", NULL);
		if (a->mode == MODE_KEEPCAPS_EARLY && ward_caps_drop_bounding(a->keep, &err) < 0)
			child_fail(16, "ward_caps_drop_bounding", &err);
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			child_fail(12, "setresuid(65534)", NULL);
	} else {
		if (unshare(CLONE_NEWUSER) < 0)
			child_fail(13, "unshare(CLONE_NEWUSER)", NULL);
		if (write_byte(ready_w) < 0 || read_byte(go_r) < 0)
			child_fail(14, "sync with parent", NULL);
		/* Become uid 0 of the namespace (the parent wrote the maps). */
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			child_fail(15, "setresuid(0) in the user namespace", NULL);
	}

	if (a->mode != MODE_KEEPCAPS_EARLY && ward_caps_drop_bounding(a->keep, &err) < 0)
		child_fail(20, "ward_caps_drop_bounding", &err);

	if (a->mode == MODE_USERNS_NOPERM) {
		if (drop_permitted(CAP_CHOWN) < 0)
			child_fail(21, "capset", NULL);
		if (ward_caps_finish(a->keep, &err) == 0)
			child_fail(22, "ward_caps_finish must refuse a cap not permitted", NULL);
		if (!strstr(err->msg, "CAP_CHOWN") || !strstr(err->msg, "permitted"))
			child_fail(23, "message must name CAP_CHOWN and the permitted set", &err);
		_exit(0);
	}

	if (ward_caps_finish(a->keep, &err) < 0)
		child_fail(24, "ward_caps_finish", &err);

	if (a->mode == MODE_USERNS_SETUID) {
		/*
		 * A program dropping root: with the setuid fixup left on (and
		 * KEEP_CAPS locked off) it must lose permitted, effective and
		 * ambient capabilities.
		 */
		if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0)
			child_fail(25, "setresuid(1000)", NULL);
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0)
			child_fail(26, "PR_SET_KEEPCAPS must be locked", NULL);
	}

	if (a->mode == MODE_USERNS_LOWER) {
		/*
		 * Without SECBIT_NOROOT, uid 0's execve would refill permitted
		 * from the bounding set, undoing what the program dropped.
		 */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_CHOWN, 0, 0) < 0)
			child_fail(29, "lowering ambient CAP_CHOWN", NULL);
		/* Still permitted and inheritable: only the securebit refuses this. */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0) == 0)
			child_fail(30, "raising an ambient capability must be locked", NULL);
		if (drop_permitted(CAP_CHOWN) < 0)
			child_fail(31, "dropping CAP_CHOWN", NULL);
	}

	if (dup2(out_w, STDOUT_FILENO) < 0)
		child_fail(27, "dup2", NULL);
	execve("/bin/cat", argv, envp);
	child_fail(28, "execve /bin/cat", NULL);
}

static int write_map(pid_t pid, const char *file, const char *text)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	return ward_write_file(path, text, strlen(text));
}

/* Fork a child for a mode, return its exit status; *st gets what cat printed. */
static int run_child(const struct child_args *a, struct status *st)
{
	int ready[2], go[2], out[2], status;
	char buf[8192], map[64];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		close(out[0]);
		child_main(a, ready[1], go[0], out[1]);
	}
	close(ready[1]);
	close(go[0]);
	close(out[1]);

	if (a->mode != MODE_KEEPCAPS && a->mode != MODE_KEEPCAPS_EARLY &&
	    read_byte(ready[0]) == 0) {
		/* What the launcher does from the outside: map the child's ids. */
		snprintf(map, sizeof(map), "0 %d %d\n", HOST_BASE, HOST_RANGE);
		assert_int_equal(write_map(pid, "uid_map", map), 0);
		assert_int_equal(write_map(pid, "setgroups", "deny"), 0);
		assert_int_equal(write_map(pid, "gid_map", map), 0);
		assert_int_equal(write_byte(go[1]), 0);
	}
	while ((n = read(out[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(ready[0]);
	close(go[1]);
	close(out[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	parse_status(buf, st);
	return WEXITSTATUS(status);
}

static int userns_available(void)
{
	pid_t pid;
	int status;

	pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

static void need_root_userns(void)
{
	if (geteuid() != 0)
		SKIP_BECAUSE("needs root (writes uid/gid maps, changes uids)");
	if (!userns_available())
		SKIP_BECAUSE("unshare(CLONE_NEWUSER) is not allowed here");
}

static void assert_all_sets(const struct status *st, uint64_t want)
{
	assert_int_equal(st->found, 5);
	assert_int_equal(st->inh, want);
	assert_int_equal(st->prm, want);
	assert_int_equal(st->eff, want);
	assert_int_equal(st->bnd, want);
	assert_int_equal(st->amb, want);
}

static void test_userns_keep_none(void **state)
{
	struct child_args a = {.mode = MODE_USERNS, .keep = 0};
	struct status st;

	(void)state;
	need_root_userns();
	assert_int_equal(run_child(&a, &st), 0);
	/* uid 0, no no_new_privs: securebits alone keep execve from giving anything. */
	assert_int_equal(st.uid, 0);
	assert_int_equal(st.nnp, 0);
	assert_all_sets(&st, 0);
}

static void test_userns_keep_two(void **state)
{
	struct child_args a = {.mode = MODE_USERNS,
			       .keep = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_CHOWN)};
	struct status st;

	(void)state;
	need_root_userns();
	assert_int_equal(run_child(&a, &st), 0);
	assert_int_equal(st.uid, 0);
	assert_all_sets(&st, a.keep);
}

static void test_userns_setuid_drops_all(void **state)
{
	struct child_args a = {.mode = MODE_USERNS_SETUID,
			       .keep = BIT(CAP_SETUID) | BIT(CAP_SETGID) | BIT(CAP_CHOWN)};
	struct status st;

	(void)state;
	need_root_userns();
	assert_int_equal(run_child(&a, &st), 0);
	assert_int_equal(st.uid, 1000);
	assert_int_equal(st.found, 5);
	assert_int_equal(st.prm, 0);
	assert_int_equal(st.eff, 0);
	assert_int_equal(st.amb, 0);
	/* Bounding and inheritable stay as ward left them: no way back up. */
	assert_int_equal(st.bnd, a.keep);
	assert_int_equal(st.inh, a.keep);
}

static void test_userns_dropped_stays_dropped(void **state)
{
	struct child_args a = {.mode = MODE_USERNS_LOWER,
			       .keep = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_CHOWN)};
	struct status st;

	(void)state;
	need_root_userns();
	assert_int_equal(run_child(&a, &st), 0);
	assert_int_equal(st.uid, 0);
	assert_int_equal(st.found, 5);
	assert_int_equal(st.prm, BIT(CAP_NET_BIND_SERVICE));
	assert_int_equal(st.eff, BIT(CAP_NET_BIND_SERVICE));
	assert_int_equal(st.amb, BIT(CAP_NET_BIND_SERVICE));
}

static void test_userns_not_permitted_refused(void **state)
{
	struct child_args a = {.mode = MODE_USERNS_NOPERM,
			       .keep = BIT(CAP_CHOWN) | BIT(CAP_SETPCAP)};
	struct status st;

	(void)state;
	need_root_userns();
	assert_int_equal(run_child(&a, &st), 0);
}

static void test_keepcaps_host_uid(void **state)
{
	struct child_args a = {.mode = MODE_KEEPCAPS, .keep = BIT(CAP_SYS_TIME)};
	struct status st;

	(void)state;
	if (geteuid() != 0)
		SKIP_BECAUSE("needs root (changes uids)");
	assert_int_equal(run_child(&a, &st), 0);
	assert_int_equal(st.uid, 65534);
	assert_all_sets(&st, BIT(CAP_SYS_TIME));
}

static void test_keepcaps_host_uid_early(void **state)
{
	struct child_args a = {.mode = MODE_KEEPCAPS_EARLY, .keep = BIT(CAP_SYS_TIME)};
	struct status st;

	(void)state;
	if (geteuid() != 0)
		SKIP_BECAUSE("needs root (changes uids)");
	assert_int_equal(run_child(&a, &st), 0);
	assert_int_equal(st.uid, 65534);
	assert_all_sets(&st, BIT(CAP_SYS_TIME));
}

static void test_no_new_privs(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ward_error_t err = NULL;

		if (ward_set_no_new_privs(&err) < 0)
			_exit(1);
		_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_unknown_cap_refused),
		cmocka_unit_test(test_never_caps_refused),
		cmocka_unit_test(test_no_new_privs),
		cmocka_unit_test(test_userns_keep_none),
		cmocka_unit_test(test_userns_keep_two),
		cmocka_unit_test(test_userns_setuid_drops_all),
		cmocka_unit_test(test_userns_dropped_stays_dropped),
		cmocka_unit_test(test_userns_not_permitted_refused),
		cmocka_unit_test(test_keepcaps_host_uid),
		cmocka_unit_test(test_keepcaps_host_uid_early),
	};

	return cmocka_run_group_tests_name("caps", tests, NULL, NULL);
}
