/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Landlock's audit records, read by the supervisor (see audit.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util.h"
#include "audit.h"

#ifndef AUDIT_NLGRP_READLOG
#define AUDIT_NLGRP_READLOG 1
#endif

/* ---------------------------------------------------------------- netlink */

static int audit_request(int fd, int type, const void *body, size_t len)
{
	struct {
		struct nlmsghdr h;
		char body[64];
	} m;

	memset(&m, 0, sizeof(m));
	m.h.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + len);
	m.h.nlmsg_type = (uint16_t)type;
	m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	m.h.nlmsg_seq = 1;
	if (len > 0) /* AUDIT_GET has no body: memcpy's source may not be NULL */
		memcpy(m.body, body, len);
	return send(fd, &m, m.h.nlmsg_len, 0) < 0 ? -1 : 0;
}

/* The reply to AUDIT_GET: the status, or an error (with its errno). */
static int audit_get(struct audit_status *st, ward_error_t *err)
{
	cleanup_close int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	char buf[8192];
	int i;

	if (fd < 0)
		return ward_error_sys(err, "the kernel's audit interface");
	if (audit_request(fd, AUDIT_GET, NULL, 0) < 0)
		return ward_error_sys(err, "cannot ask the audit status");
	/* An ACK (error 0) and the status, in either order. */
	for (i = 0; i < 4; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n < (ssize_t)NLMSG_HDRLEN)
			return ward_error_sys(err, "cannot read the audit status");
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (e->error != 0)
				return ward_error_set(err, -e->error,
						      "cannot read the audit status: %s",
						      strerror(-e->error));
			continue;
		}
		if (h->nlmsg_type == AUDIT_GET) {
			memset(st, 0, sizeof(*st));
			size_t got = (size_t)n - NLMSG_HDRLEN;

			memcpy(st, NLMSG_DATA(h), got < sizeof(*st) ? got : sizeof(*st));
			return 0;
		}
	}
	return ward_error_set(err, EPROTO, "no audit status from the kernel");
}

int ward_audit_enabled(ward_error_t *err)
{
	struct audit_status st;

	if (audit_get(&st, err) < 0)
		return -1;
	return st.enabled != 0;
}

int ward_audit_backlog(ward_error_t *err)
{
	struct audit_status st;

	if (audit_get(&st, err) < 0)
		return -1;
	return (int)(st.backlog > INT32_MAX ? INT32_MAX : st.backlog);
}

int ward_audit_enable(ward_error_t *err)
{
	cleanup_close int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	struct audit_status st = {.mask = AUDIT_STATUS_ENABLED, .enabled = 1};
	char buf[4096];
	ssize_t n;

	if (fd < 0)
		return ward_error_sys(err, "the kernel's audit interface");
	if (audit_request(fd, AUDIT_SET, &st, sizeof(st)) < 0)
		return ward_error_sys(err, "cannot enable the kernel's audit");
	n = recv(fd, buf, sizeof(buf), 0);
	if (n >= (ssize_t)NLMSG_HDRLEN && ((struct nlmsghdr *)buf)->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA((struct nlmsghdr *)buf);

		if (e->error != 0)
			return ward_error_set(
				err, -e->error,
				"cannot enable the kernel's audit: %s (audit=0 on the "
				"kernel command line, or locked with auditctl -e 2?)",
				strerror(-e->error));
	}
	return 0;
}

int ward_audit_open(ward_error_t *err)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1)};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);
	int big = 1 << 20;

	if (fd < 0)
		return ward_error_sys(err, "the kernel's audit interface");
	/* Binding to the multicast group needs CAP_AUDIT_READ. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ward_error_sys(err, "cannot read the kernel's audit records");
		close(fd);
		return -1;
	}
	/* Records of every process on the host arrive here: room for bursts.
	 * A lost record only loses an explanation. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	return fd;
}

/* ---------------------------------------------------------------- parsing (pure) */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The value of KEY in an audit message.  The kernel writes an untrusted
 * string in double quotes when it holds only printable characters other
 * than the quote and space, else as hex digits without quotes
 * (audit_log_untrustedstring); other values are bare words.  KEY must be
 * preceded by a space so that "path=" does not match inside "xpath=".
 */
static bool field(const char *text, size_t len, const char *key, bool untrusted, char *out,
		  size_t outlen)
{
	size_t klen = strlen(key), i, o = 0;

	if (outlen == 0)
		return false;
	out[0] = '\0';
	for (i = 0; i + klen + 1 <= len; i++) {
		const char *v;
		size_t vlen;

		if ((i > 0 && text[i - 1] != ' ') || memcmp(text + i, key, klen) != 0 ||
		    text[i + klen] != '=')
			continue;
		v = text + i + klen + 1;
		vlen = len - (size_t)(v - text);
		if (vlen && v[0] == '"') {
			for (v++, vlen--; vlen && *v != '"' && o + 1 < outlen; v++, vlen--)
				out[o++] = *v;
			out[o] = '\0';
			return true;
		}
		{
			size_t w = 0;
			bool hex = untrusted;

			while (w < vlen && v[w] != ' ' && v[w] != '\0')
				w++;
			if (hex && (w % 2 != 0 || w == 0))
				hex = false;
			for (size_t k = 0; hex && k < w; k++)
				hex = hexval(v[k]) >= 0;
			if (hex) {
				for (size_t k = 0; k < w && o + 1 < outlen; k += 2) {
					char c = (char)(hexval(v[k]) << 4 | hexval(v[k + 1]));

					if (c == '\0')
						break;
					out[o++] = c;
				}
			} else {
				for (size_t k = 0; k < w && o + 1 < outlen; k++)
					out[o++] = v[k];
			}
			out[o] = '\0';
			return true;
		}
	}
	return false;
}

int ward_audit_parse(int type, const char *text, size_t len, struct ward_audit_record *r)
{
	char buf[64];
	const char *body = memmem(text, len, "): ", 3);

	memset(r, 0, sizeof(*r));
	if (type != WARD_AUDIT_LANDLOCK_ACCESS && type != WARD_AUDIT_LANDLOCK_DOMAIN)
		return -1;
	/* Past "audit(TIME:SERIAL): ", when the kernel put it there. */
	if (body) {
		body += 2;
		len -= (size_t)(body - text);
		text = body;
	}
	r->type = type;
	if (!field(text, len, "domain", false, buf, sizeof(buf)))
		return -1;
	r->domain = strtoull(buf, NULL, 16);
	if (type == WARD_AUDIT_LANDLOCK_DOMAIN) {
		if (field(text, len, "status", false, buf, sizeof(buf)))
			r->allocated = strcmp(buf, "allocated") == 0;
		if (field(text, len, "pid", false, buf, sizeof(buf)))
			r->pid = (pid_t)strtol(buf, NULL, 10);
		return 0;
	}
	if (!field(text, len, "blockers", false, r->blockers, sizeof(r->blockers)))
		return -1;
	if (!field(text, len, "path", true, r->path, sizeof(r->path)))
		field(text, len, "name", true, r->path, sizeof(r->path));
	field(text, len, "daddr", false, r->daddr, sizeof(r->daddr));
	if (field(text, len, "dest", false, buf, sizeof(buf)))
		r->dport = (unsigned)strtoul(buf, NULL, 10);
	return 0;
}

static bool has_blocker(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *s = list;

	while ((s = strstr(s, name)) != NULL) {
		if ((s == list || s[-1] == ',') && (s[n] == '\0' || s[n] == ','))
			return true;
		s += n;
	}
	return false;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The directory of PATH ("/" for "/x"); PATH itself when it has no slash. */
static void dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(out, len, "%s", path);
	else if (slash == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

void ward_audit_explain(const struct ward_policy *p, const struct ward_audit_record *r,
			const char **op, char *fix, size_t fixlen)
{
	const char *b = r->blockers;
	bool abs = r->path[0] == '/';
	cleanup_free char *esc = ward_escape(r->path[0] ? r->path : "?", 200);
	char dir[1024];
	cleanup_free char *desc = NULL;

	dir_of(r->path, dir, sizeof(dir));
	desc = ward_escape(dir, 200);
	if (has_blocker(b, "fs.make_char") || has_blocker(b, "fs.make_block")) {
		*op = "mknod";
		snprintf(fix, fixlen,
			 "no entitlement lets a sandbox make device nodes; "
			 "host.devices=PATH shares one of the host's");
	} else if (has_blocker(b, "fs.execute")) {
		*op = "execute";
		if (!p->scratch_exec && (under(r->path, "/tmp") || under(r->path, "/dev/shm")))
			snprintf(fix, fixlen,
				 "the scratch space is not executable under "
				 "fs.scratch.noexec; remove it to allow");
		else if (abs)
			snprintf(fix, fixlen, "grant fs.exec=%s to allow", desc);
		else
			snprintf(fix, fixlen, "grant fs.exec on its directory to allow");
	} else if (has_blocker(b, "fs.write_file") || has_blocker(b, "fs.truncate") ||
		   has_blocker(b, "fs.make_reg") || has_blocker(b, "fs.make_dir") ||
		   has_blocker(b, "fs.make_sym") || has_blocker(b, "fs.make_fifo") ||
		   has_blocker(b, "fs.make_sock") || has_blocker(b, "fs.remove_file") ||
		   has_blocker(b, "fs.remove_dir") || has_blocker(b, "fs.refer")) {
		/* Making and removing are checked on the directory (the record's
		 * path); writing and truncating on the file. */
		bool on_dir = !has_blocker(b, "fs.write_file") && !has_blocker(b, "fs.truncate");

		*op = has_blocker(b, "fs.write_file")	 ? "write"
		      : has_blocker(b, "fs.truncate")	 ? "truncate"
		      : has_blocker(b, "fs.refer")	 ? "link or rename"
		      : has_blocker(b, "fs.remove_file") ? "remove"
		      : has_blocker(b, "fs.remove_dir")	 ? "remove"
							 : "create";
		if (abs)
			snprintf(fix, fixlen, "grant fs.write=%s to allow", on_dir ? esc : desc);
		else
			snprintf(fix, fixlen, "grant fs.write on its directory to allow");
	} else if (has_blocker(b, "fs.read_file") || has_blocker(b, "fs.read_dir")) {
		*op = has_blocker(b, "fs.read_file") ? "read" : "list";
		if (abs)
			snprintf(fix, fixlen, "grant fs.read=%s to allow", esc);
		else
			snprintf(fix, fixlen, "grant fs.read on it to allow");
	} else if (has_blocker(b, "fs.ioctl_dev")) {
		*op = "ioctl";
		snprintf(fix, fixlen, "grant host.devices=%s to allow", esc);
	} else if (has_blocker(b, "net.connect_tcp")) {
		*op = "connect";
		if (r->daddr[0] && r->dport)
			snprintf(fix, fixlen, "grant network.connect=%s:%u to allow", r->daddr,
				 r->dport);
		else
			snprintf(fix, fixlen, "grant network.connect=HOST:PORT to allow");
	} else if (has_blocker(b, "net.bind_tcp")) {
		*op = "bind";
		snprintf(fix, fixlen, "grant network.listen=PORT to allow");
	} else if (has_blocker(b, "scope.signal")) {
		*op = "kill";
		snprintf(fix, fixlen, "no entitlement lets a sandbox signal a process outside it");
	} else if (has_blocker(b, "scope.abstract_unix_socket")) {
		*op = "connect";
		snprintf(fix, fixlen,
			 "no entitlement lets a sandbox reach an abstract Unix socket "
			 "outside it");
	} else if (has_blocker(b, "ptrace")) {
		*op = "ptrace";
		snprintf(fix, fixlen, "no entitlement lets a sandbox trace a process outside it");
	} else if (has_blocker(b, "fs.change_topology")) {
		*op = "mount";
		snprintf(fix, fixlen,
			 "no entitlement lets a Landlock-restricted program change "
			 "its mounts");
	} else {
		*op = "access";
		snprintf(fix, fixlen, "no entitlement ward knows allows it");
	}
}
