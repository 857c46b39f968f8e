/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The operator's side of the broker: connect to its well-known socket
 * (starting it on demand), register an environment, list environments,
 * send with the operator's rights.  Used by ward run, ward ps, ward msg.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../util.h"
#include "broker.h"

int ward_broker_dir_check(const char *dir, ward_error_t *err)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return ward_error_sys(err, "the broker's directory %s", dir);
	if (!S_ISDIR(st.st_mode))
		return ward_error_set(err, ENOTDIR,
				      "the broker's directory %s is not a directory (a symbolic "
				      "link?): choose another --state-dir",
				      dir);
	/* Whoever may write there may replace broker.sock (and be the broker
	 * ward run talks to), plant links where the broker writes its log and
	 * pid file, or a pid file that `ward broker --stop` would kill. */
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return ward_error_set(err, EPERM,
				      "the broker's directory %s belongs to uid %u, not to you or "
				      "root: its owner could replace the broker's socket; choose "
				      "another --state-dir",
				      dir, (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return ward_error_set(err, EPERM,
				      "the broker's directory %s is writable by %s (mode %04o): "
				      "they could replace the broker's socket; chmod go-w %s or "
				      "choose another --state-dir",
				      dir, (st.st_mode & S_IWOTH) ? "everyone" : "its group",
				      (unsigned)(st.st_mode & 07777), dir);
	return 0;
}

/* The broker is root or ourselves: a socket anybody else listens on (in a
 * directory they could write) is not talked to. */
static int check_peer(int fd, const char *path, ward_error_t *err)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return ward_error_sys(err, "%s: SO_PEERCRED", path);
	if (cred.uid != 0 && cred.uid != geteuid())
		return ward_error_set(err, EPERM,
				      "%s is served by uid %u (pid %d), not by root or you: it is "
				      "not a broker of yours; refusing to talk to it",
				      path, (unsigned)cred.uid, (int)cred.pid);
	return 0;
}

static int try_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int start_broker(const char *dir, const char *exe, ward_error_t *err)
{
	pid_t pid;
	int st;

	pid = fork();
	if (pid < 0)
		return ward_error_sys(err, "cannot start the broker: fork");
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* Nothing of the caller but stderr (for its start-up errors). */
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		syscall(SYS_close_range, 3, ~0U, 0);
		execl(exe, "ward", "broker", "--on-demand", "--state-dir", dir, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return ward_error_sys(err, "cannot start the broker: waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return ward_error_set(err, EIO,
				      "could not start the broker (%s broker exited with %d); see "
				      "%s/" WARD_BROKER_LOG,
				      exe, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
				      dir);
	return 0;
}

int ward_broker_connect(const char *dir, const char *start_exe, ward_error_t *err)
{
	cleanup_free char *path = ward_xasprintf("%s/" WARD_BROKER_SOCK, dir);
	int fd, i;

	fd = try_connect(path);
	if (fd >= 0) {
		if (check_peer(fd, path, err) < 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	if (errno != ENOENT && errno != ECONNREFUSED)
		return ward_error_sys(err, "cannot connect to the broker at %s", path);
	if (start_exe == NULL)
		return ward_error_set(err, ENOENT,
				      "no broker is running for %s (start one with `ward broker`, "
				      "or run an environment with --name)",
				      dir);
	/* Socket activation, by hand: whoever finds no broker starts one; the
	 * lock makes the loser of a race exit quietly, and both connect. */
	if (start_broker(dir, start_exe, err) < 0)
		return -1;
	for (i = 0; i < 250; i++) {
		struct timespec ts = {0, 20 * 1000 * 1000};

		fd = try_connect(path);
		if (fd >= 0) {
			if (check_peer(fd, path, err) < 0) {
				close(fd);
				return -1;
			}
			return fd;
		}
		nanosleep(&ts, NULL);
	}
	return ward_error_sys(err, "the broker started but %s does not answer", path);
}

/* One request, one answer (ENTRY packets of ps are handled by the caller). */
static int roundtrip(int ctl, const void *req, size_t len, uint8_t *buf, size_t cap,
		     struct ward_proto_msg *m, int *fd, ward_error_t *err)
{
	const char *why;
	bool trunc;
	ssize_t n;

	if (req && ward_wire_send(ctl, req, len, -1, 0) < 0)
		return ward_error_sys(err, "cannot talk to the broker");
	for (;;) {
		n = ward_wire_recv(ctl, buf, cap, fd, &trunc, 0);
		if (n < 0)
			return ward_error_sys(err, "cannot read the broker's answer");
		if (n == 0)
			return ward_error_set(err, ECONNRESET, "the broker closed the connection");
		if (trunc || ward_proto_decode(buf, (size_t)n, m, &why) < 0) {
			if (fd && *fd >= 0)
				close(*fd);
			return ward_error_set(err, EPROTO, "the broker sent a malformed answer");
		}
		if (m->type == WARD_MSG_DENIED) {
			if (fd && *fd >= 0)
				close(*fd);
			continue; /* not ours to print here */
		}
		if (m->type == WARD_MSG_ERROR) {
			char text[WARD_PROTO_MAX_TEXT + 1];
			cleanup_free char *esc = NULL;

			if (fd && *fd >= 0) {
				close(*fd);
				*fd = -1;
			}
			ward_proto_strcpy(text, sizeof(text), m->text);
			esc = ward_escape(text, 0);
			return ward_error_set(err, (int)m->code, "%s", esc);
		}
		return 0;
	}
}

int ward_broker_register(int ctl, const char *name, const struct ward_policy *p, pid_t pid,
			 int *env_fd, char **assigned, ward_error_t *err)
{
	cleanup_free uint8_t *buf = ward_xmalloc(WARD_PROTO_MAX_PACKET);
	struct ward_proto_msg m;
	struct ward_proto_buf b;
	size_t i;
	long n;
	int fd = -1;

	*env_fd = -1;
	ward_proto_begin(&b, buf, WARD_PROTO_MAX_PACKET, WARD_MSG_REGISTER, 1);
	if (name)
		ward_proto_put_str(&b, WARD_ATTR_NAME, name);
	ward_proto_put_u32(&b, WARD_ATTR_PID, (uint32_t)pid);
	if (p->n_broker > WARD_PROTO_MAX_LIST)
		return ward_error_set(err, E2BIG, "more than %u broker entitlements",
				      WARD_PROTO_MAX_LIST);
	for (i = 0; i < p->n_broker; i++) {
		cleanup_free char *t = ward_broker_grant_text(&p->broker[i]);

		ward_proto_put_str(&b, WARD_ATTR_ENT, t);
	}
	n = ward_proto_end(&b);
	if (n < 0)
		return ward_error_set(err, E2BIG, "the entitlements do not fit in one request");
	if (roundtrip(ctl, buf, (size_t)n, buf, WARD_PROTO_MAX_PACKET, &m, &fd, err) < 0)
		return ward_error_wrap(err, "the broker refused to register the environment");
	if (m.type != WARD_MSG_OK || fd < 0) {
		if (fd >= 0)
			close(fd);
		return ward_error_set(err, EPROTO,
				      "the broker's answer to the registration has no "
				      "descriptor");
	}
	if (assigned) {
		*assigned = ward_xmalloc(m.name.len + 1);
		ward_proto_strcpy(*assigned, m.name.len + 1, m.name);
	}
	*env_fd = fd;
	return 0;
}

int ward_broker_next_denial(int ctl, char *out, size_t size)
{
	cleanup_free uint8_t *buf = ward_xmalloc(WARD_PROTO_MAX_PACKET);

	for (;;) {
		struct ward_proto_msg m;
		char name[WARD_PROTO_MAX_NAME + 1], what[WARD_PROTO_MAX_TEXT + 1];
		char miss[WARD_PROTO_MAX_ENT + 1] = "";
		const char *why;
		ssize_t n = ward_wire_recv(ctl, buf, WARD_PROTO_MAX_PACKET, NULL, NULL, 0);

		if (n <= 0)
			return n == 0 || errno == ECONNRESET || errno == EBADF ? 0 : -1;
		if (ward_proto_decode(buf, (size_t)n, &m, &why) < 0 || m.type != WARD_MSG_DENIED)
			continue;
		ward_proto_strcpy(name, sizeof(name), m.name);
		ward_proto_strcpy(what, sizeof(what), m.text);
		if (m.n_ent)
			ward_proto_strcpy(miss, sizeof(miss), m.ent[0]);
		{
			/* Paths in these come from the environment: the
			 * operator's terminal gets them escaped and cut. */
			cleanup_free char *name_e = ward_escape(name, WARD_BROKER_LOG_STR);
			cleanup_free char *what_e = ward_escape(what, WARD_BROKER_LOG_STR);
			cleanup_free char *miss_e = ward_escape(miss, WARD_BROKER_LOG_STR);

			if (ward_proto_has(&m, WARD_ATTR_COUNT))
				snprintf(
					out, size,
					"%u more refusals by the broker in environment \"%s\" were "
					"not shown (at most %u at once, then %u a second)",
					m.count, name_e, WARD_BROKER_DENY_BURST,
					WARD_BROKER_DENY_RATE);
			else
				snprintf(out, size,
					 "denied %s by the broker in environment \"%s\" — grant %s "
					 "to allow",
					 what_e, name_e, miss_e);
		}
		return 1;
	}
}

static char **str_list(const struct ward_proto_str *v, uint32_t n)
{
	char **out = ward_xcalloc(n + 1, sizeof(*out));
	uint32_t i;

	for (i = 0; i < n; i++) {
		out[i] = ward_xmalloc(v[i].len + 1);
		ward_proto_strcpy(out[i], v[i].len + 1, v[i]);
	}
	return out;
}

void ward_broker_env_info_free(struct ward_broker_env_info *v, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < v[i].n_ents; k++)
			free(v[i].ents[k]);
		for (k = 0; k < v[i].n_services; k++)
			free(v[i].services[k]);
		free(v[i].ents);
		free(v[i].services);
	}
	free(v);
}

int ward_broker_ps(int ctl, struct ward_broker_env_info **out, size_t *n, ward_error_t *err)
{
	return ward_broker_ps_remote(ctl, out, n, NULL, err);
}

int ward_broker_ps_remote(int ctl, struct ward_broker_env_info **out, size_t *n, char **remote,
			  ward_error_t *err)
{
	cleanup_free uint8_t *buf = ward_xmalloc(WARD_PROTO_MAX_PACKET);
	struct ward_broker_env_info *v = NULL;
	struct ward_proto_msg m;
	struct ward_proto_buf b;
	size_t k = 0;
	long len;
	const void *req;

	ward_proto_begin(&b, buf, WARD_PROTO_MAX_PACKET, WARD_MSG_PS, 1);
	len = ward_proto_end(&b);
	req = buf;
	for (;;) {
		if (roundtrip(ctl, req, (size_t)len, buf, WARD_PROTO_MAX_PACKET, &m, NULL, err) <
		    0) {
			ward_broker_env_info_free(v, k);
			return -1;
		}
		req = NULL;
		if (m.type == WARD_MSG_OK) {
			/* A broker joined to other hosts says how the link is. */
			if (remote && ward_proto_has(&m, WARD_ATTR_TEXT)) {
				*remote = ward_xmalloc(m.text.len + 1);
				ward_proto_strcpy(*remote, m.text.len + 1, m.text);
			}
			break;
		}
		if (m.type != WARD_MSG_ENTRY)
			continue;
		v = ward_xrealloc(v, (k + 1) * sizeof(*v));
		memset(&v[k], 0, sizeof(v[k]));
		ward_proto_strcpy(v[k].name, sizeof(v[k].name), m.name);
		v[k].pid = (pid_t)m.pid;
		v[k].mailbox = (m.flags & WARD_LOOKUP_F_MAILBOX) != 0;
		v[k].depth = m.depth;
		v[k].limit = m.limit;
		v[k].ents = str_list(m.ent, m.n_ent);
		v[k].n_ents = m.n_ent;
		v[k].services = str_list(m.service, m.n_service);
		v[k].n_services = m.n_service;
		k++;
	}
	*out = v;
	*n = k;
	return 0;
}

int ward_broker_send(int ctl, const char *name, const void *data, size_t len, bool wait,
		     ward_error_t *err)
{
	cleanup_free uint8_t *buf = ward_xmalloc(WARD_PROTO_MAX_PACKET);
	struct ward_proto_msg m;
	struct ward_proto_buf b;
	long n;

	if (len > WARD_PROTO_MAX_DATA)
		return ward_error_set(err, EMSGSIZE, "a message holds at most %u bytes",
				      WARD_PROTO_MAX_DATA);
	if (!ward_proto_name_ok(name, strlen(name)))
		return ward_error_set(err, EINVAL, "\"%s\" is not a mailbox name (a-z 0-9 . _ -)",
				      name);
	ward_proto_begin(&b, buf, WARD_PROTO_MAX_PACKET, WARD_MSG_SEND, 1);
	ward_proto_put_str(&b, WARD_ATTR_NAME, name);
	ward_proto_put(&b, WARD_ATTR_DATA, data, len);
	if (wait)
		ward_proto_put_u32(&b, WARD_ATTR_FLAGS, WARD_SEND_F_WAIT);
	n = ward_proto_end(&b);
	return roundtrip(ctl, buf, (size_t)n, buf, WARD_PROTO_MAX_PACKET, &m, NULL, err);
}
