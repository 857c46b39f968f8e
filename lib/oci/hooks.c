// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hooks (runtime-spec config.md#posix-platform-hooks): each hook is run
 * with the container's state on its stdin, its own args and env, and an
 * optional timeout after which it is killed.  A failing prestart,
 * createRuntime, createContainer or startContainer hook fails the
 * operation (ward_oci_hooks_run); a failing poststart or poststop hook is
 * a warning and the others still run (ward_oci_hooks_run_warn).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util.h"
#include "internal.h"
#include "log.h"

static int run_one(const struct ward_oci_hook *h, const char *kind, const char *state,
		   ward_error_t *err)
{
	int in[2];
	pid_t pid;
	int status = 0, pfd;

	if (pipe2(in, O_CLOEXEC) < 0)
		return ward_error_sys(err, "pipe");
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return ward_error_sys(err, "fork");
	}
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (dup2(in[0], 0) < 0)
			_exit(127);
		/* stdout of a hook must not reach an engine that parses ours. */
		if (dup2(2, 1) < 0)
			_exit(127);
		execve(h->path, h->args, h->env);
		{
			/* The path is config.json's: escaped before a terminal. */
			int e = errno;
			char *p = ward_escape(h->path, 256);

			fprintf(stderr, "ward: %s hook %s: %s\n", kind, p, strerror(e));
		}
		_exit(127);
	}
	close(in[0]);
	/* The hook may not read its stdin: ignore EPIPE. */
	{
		struct sigaction sa = {.sa_handler = SIG_IGN}, old;

		sigaction(SIGPIPE, &sa, &old);
		(void)ward_write_all(in[1], state, strlen(state));
		sigaction(SIGPIPE, &old, NULL);
	}
	close(in[1]);
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (h->timeout > 0 && pfd >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int r;

		do
			r = poll(&p, 1, h->timeout * 1000);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(pfd);
			return ward_error_set(err, ETIMEDOUT, "%s hook %s timed out after %d s",
					      kind, h->path, h->timeout);
		}
	}
	if (pfd >= 0)
		close(pfd);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return ward_error_sys(err, "waitpid for the %s hook %s", kind, h->path);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return ward_error_set(err, ECHILD, "%s hook %s was killed by signal %d", kind,
				      h->path, WTERMSIG(status));
	return ward_error_set(err, ECHILD, "%s hook %s failed with exit status %d", kind, h->path,
			      WEXITSTATUS(status));
}

int ward_oci_hooks_run(const struct ward_oci_hooks *h, const char *kind, const char *state_json,
		       ward_error_t *err)
{
	size_t i;

	for (i = 0; h && i < h->n; i++) {
		ward_oci_log(WARD_LOG_DEBUG, "running %s hook %s", kind, h->list[i].path);
		if (run_one(&h->list[i], kind, state_json, err) < 0)
			return -1;
	}
	return 0;
}

/* poststart and poststop (runtime-spec runtime.md, lifecycle steps 7 and
 * 12): a failing hook is a warning, and the remaining hooks and the
 * lifecycle go on as if it had succeeded. */
void ward_oci_hooks_run_warn(const struct ward_oci_hooks *h, const char *kind,
			     const char *state_json)
{
	size_t i;

	for (i = 0; h && i < h->n; i++) {
		ward_error_t err = NULL;

		ward_oci_log(WARD_LOG_DEBUG, "running %s hook %s", kind, h->list[i].path);
		if (run_one(&h->list[i], kind, state_json, &err) < 0) {
			ward_oci_log(WARD_LOG_WARN, "%s (the lifecycle goes on)", err->msg);
			ward_error_free(&err);
		}
	}
}

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static char **json_strv(json_t *a)
{
	size_t n = json_is_array(a) ? json_array_size(a) : 0, i;
	char **v = ward_xcalloc(n + 1, sizeof(char *));

	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(a, i);

		v[i] = ward_xstrdup(json_is_string(e) ? json_string_value(e) : "");
	}
	return v;
}

json_t *ward_oci_hooks_to_json(const struct ward_oci_hooks *h)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < h->n; i++)
		json_array_append_new(a, json_pack("{s:s,s:o,s:o,s:i}", "path", h->list[i].path,
						   "args", strv_json(h->list[i].args), "env",
						   strv_json(h->list[i].env), "timeout",
						   h->list[i].timeout));
	return a;
}

int ward_oci_hooks_from_json(json_t *j, struct ward_oci_hooks *h)
{
	size_t i;
	json_t *e;

	memset(h, 0, sizeof(*h));
	if (!json_is_array(j))
		return 0;
	h->list = ward_xcalloc(json_array_size(j) + 1, sizeof(*h->list));
	json_array_foreach(j, i, e)
	{
		json_t *p = json_object_get(e, "path"), *t = json_object_get(e, "timeout");

		h->list[i].path = ward_xstrdup(json_is_string(p) ? json_string_value(p) : "/");
		h->list[i].args = json_strv(json_object_get(e, "args"));
		h->list[i].env = json_strv(json_object_get(e, "env"));
		h->list[i].timeout = json_is_integer(t) ? (int)json_integer_value(t) : 0;
		h->n = i + 1;
	}
	return 0;
}

void ward_oci_hooks_free(struct ward_oci_hooks *h)
{
	size_t i, k;

	for (i = 0; i < h->n; i++) {
		free(h->list[i].path);
		for (k = 0; h->list[i].args && h->list[i].args[k]; k++)
			free(h->list[i].args[k]);
		free(h->list[i].args);
		for (k = 0; h->list[i].env && h->list[i].env[k]; k++)
			free(h->list[i].env[k]);
		free(h->list[i].env);
	}
	free(h->list);
	memset(h, 0, sizeof(*h));
}
