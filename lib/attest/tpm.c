/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Talking to the TPM: through ward-tpm, a small helper linked with tpm2-tss
 * (ESAPI) and OpenSSL (src/attest_tpm.c).
 *
 * Why a helper: the ward binary is static (its start-up is part of every
 * sandbox's start), Debian ships tpm2-tss only as shared libraries, and the
 * TCTI loader dlopen()s its modules.  Loading them into a static binary
 * would bring a second C library into the supervisor.  The helper runs
 * only where a TPM is configured, with an empty environment (tpm2-tss
 * reads TSS2_* variables), with the checked TCTI as an argument; it is
 * looked for beside the running ward, then in ward's libexec directory,
 * and must belong to root (or to the caller) and be writable by nobody
 * else, as a trust policy file must.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util.h"
#include "attest.h"

#ifndef WARD_LIBEXECDIR
#define WARD_LIBEXECDIR "/usr/local/libexec/ward"
#endif

#define HELPER	   "ward-tpm"
#define OUTPUT_MAX (1u << 20)

static int open_helper(ward_error_t *err)
{
	char self[PATH_MAX];
	cleanup_free char *beside = NULL;
	const char *tried[2] = {NULL, NULL};
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t i;

	/* Running from a sealed memfd (the OCI runtime's commands), the
	 * link names no directory: only the libexec directory is left. */
	if (n > 0 && self[0] == '/') {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		*slash = '\0';
		beside = ward_xasprintf("%s/" HELPER, self);
		tried[0] = beside;
	}
	tried[1] = WARD_LIBEXECDIR "/" HELPER;
	for (i = 0; i < 2; i++) {
		struct stat st;
		int fd;

		if (tried[i] == NULL)
			continue;
		fd = open(tried[i], O_PATH | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		    (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
			close(fd);
			return ward_error_set(err, EPERM,
					      "%s: the TPM helper must be a file of root's (or "
					      "yours) that nobody else can write",
					      tried[i]);
		}
		return fd;
	}
	return ward_error_set(err, ENOENT,
			      "the TPM helper " HELPER " is neither beside ward (%s) nor in %s: "
			      "install ward with it (ninja install), or run without a TPM "
			      "(--tcti none)",
			      beside ? beside : "?", WARD_LIBEXECDIR);
}

int ward_attest_tpm(const char *const *argv, char **out, ward_error_t *err)
{
	cleanup_close int helper = open_helper(err);
	cleanup_free char *buf = NULL;
	size_t len = 0, cap = 0;
	int pfd[2], status;
	pid_t pid;

	*out = NULL;
	if (helper < 0)
		return -1;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return ward_error_sys(err, "pipe2");
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return ward_error_sys(err, "fork");
	}
	if (pid == 0) {
		/* tpm2-tss reads TSS2_LOG; nothing else of ours reaches it. */
		char *const envp[] = {(char *)"TSS2_LOG=all+none", NULL};
		size_t n = 0;
		const char **av;
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

		while (argv[n])
			n++;
		av = calloc(n + 2, sizeof(*av));
		if (av == NULL || devnull < 0)
			_exit(127);
		av[0] = HELPER;
		memcpy(av + 1, argv, n * sizeof(*av));
		if (dup2(devnull, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
			_exit(127);
		syscall(SYS_close_range, 3, ~0U, 0x4 /* CLOSE_RANGE_CLOEXEC */);
		syscall(SYS_execveat, helper, "", (char *const *)av, envp, AT_EMPTY_PATH);
		dprintf(1, "error cannot execute " HELPER ": %s\n", strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t r;

		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = ward_xrealloc(buf, cap);
		}
		r = read(pfd[0], buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len > OUTPUT_MAX) {
			kill(pid, SIGKILL);
			break;
		}
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ward_error_sys(err, "waitpid");
	if (buf == NULL)
		buf = ward_xstrdup("");
	buf[len] = '\0';
	if (!WIFEXITED(status)) {
		return ward_error_set(err, EIO, HELPER " %s was killed by signal %d", argv[0],
				      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
	if (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3) {
		cleanup_free char *why = ward_attest_tpm_field(buf, "error");
		cleanup_free char *esc = ward_escape(why ? why : buf, 600);

		return ward_error_set(err, EIO, "TPM: %s", esc);
	}
	*out = steal_pointer(&buf);
	return WEXITSTATUS(status);
}

char *ward_attest_tpm_field(const char *out, const char *key)
{
	size_t k = strlen(key);
	const char *p = out;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n > k && strncmp(p, key, k) == 0 && p[k] == ' ')
			return strndup(p + k + 1, n - k - 1);
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

int ward_attest_tpm_extend(const struct ward_attest_config *c, const uint8_t expect[32],
			   const uint8_t (*digests)[32], size_t n, uint8_t actual[32],
			   ward_error_t *err)
{
	char pcr[8], exp_hex[WARD_ATTEST_HEX];
	cleanup_free char *hex = ward_xmalloc(n * WARD_ATTEST_HEX + 1);
	cleanup_free const char **argv = ward_xcalloc(n + 6, sizeof(*argv));
	cleanup_free char *out = NULL;
	cleanup_free char *got = NULL;
	size_t i;
	int r;

	snprintf(pcr, sizeof(pcr), "%u", c->pcr);
	ward_attest_hex(expect, 32, exp_hex);
	argv[0] = "extend";
	argv[1] = c->tcti;
	argv[2] = pcr;
	argv[3] = exp_hex;
	for (i = 0; i < n; i++) {
		ward_attest_hex(digests[i], 32, hex + i * WARD_ATTEST_HEX);
		argv[4 + i] = hex + i * WARD_ATTEST_HEX;
	}
	r = ward_attest_tpm(argv, &out, err);
	if (r < 0)
		return ward_error_wrap(err, "extending PCR %u (TCTI %s)", c->pcr, c->tcti);
	got = ward_attest_tpm_field(out, "before");
	if (got == NULL || ward_attest_unhex(got, actual, 32) != 32)
		return ward_error_set(err, EPROTO, HELPER " extend: no PCR value in its answer");
	return r == 3 ? 1 : 0;
}
