/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The resolver: requests -> struct ward_policy.  Pure and order-independent:
 * the same set of requests, in any order, gives the same policy, and a
 * conflict is an error naming both places.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../entitlements.h"
#include "../util.h"

#define MIN_MEMORY (4ULL << 20)
#define MAX_PIDS   4194304ULL
#define MIN_NOFILE 16ULL
#define MAX_NOFILE 1048576ULL
#define MAX_CPUS   1024ULL

static int cmp_grant(const void *a, const void *b)
{
	const struct ward_grant *x = a, *y = b;

	if (x->def != y->def)
		return x->def < y->def ? -1 : 1;
	if (x->value == NULL || y->value == NULL)
		return (x->value != NULL) - (y->value != NULL);
	return strcmp(x->value, y->value);
}

static int cmp_path(const void *a, const void *b)
{
	const struct ward_path_grant *x = a, *y = b;

	return strcmp(x->path, y->path);
}

static char *expand_path(const char *value, const struct ward_resolve_ctx *ctx, const char *origin,
			 const char *name, ward_error_t *err)
{
	cleanup_free char *joined = NULL;
	char *norm;

	if (value[0] == '~' && (value[1] == '/' || value[1] == '\0')) {
		if (ctx == NULL || ctx->home == NULL || ctx->home[0] != '/') {
			ward_error_set(err, EINVAL,
				       "%s: %s=%s: cannot expand \"~\" (HOME is not set); write an "
				       "absolute path",
				       origin, name, value);
			return NULL;
		}
		joined = ward_xasprintf("%s%s", ctx->home, value + 1);
		value = joined;
	}
	if (value[0] != '/') {
		ward_error_set(err, EINVAL,
			       "%s: %s=%s: the path must be absolute (start with / or ~/)", origin,
			       name, value);
		return NULL;
	}
	norm = ward_path_normalize(value);
	if (norm == NULL) {
		ward_error_set(err, EINVAL,
			       "%s: %s=%s: \"..\" is not allowed in granted paths; write the path "
			       "without it",
			       origin, name, value);
		return NULL;
	}
	if (strcmp(norm, "/") == 0) {
		ward_error_set(
			err, EINVAL,
			"%s: %s=/: granting the whole host filesystem is not supported; grant "
			"the directories the program needs",
			origin, name);
		free(norm);
		return NULL;
	}
	return norm;
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int add_path(struct ward_policy *p, const char *path, unsigned access, const char *origin)
{
	size_t i;

	for (i = 0; i < p->n_paths; i++) {
		if (strcmp(p->paths[i].path, path) == 0) {
			/* Same path granted twice: the union of the accesses.  Keep the
			 * first origin in sort order so the result is order-independent. */
			p->paths[i].access |= access;
			if (strcmp(origin, p->paths[i].origin) < 0) {
				free(p->paths[i].origin);
				p->paths[i].origin = ward_xstrdup(origin);
			}
			return 0;
		}
	}
	p->paths = ward_xrealloc(p->paths, (p->n_paths + 1) * sizeof(*p->paths));
	p->paths[p->n_paths].path = ward_xstrdup(path);
	p->paths[p->n_paths].access = access;
	p->paths[p->n_paths].origin = ward_xstrdup(origin);
	p->n_paths++;
	return 0;
}

/* network.connect=HOST:PORT.  HOST is an IPv4 address written as four
 * decimal numbers, or a host name (letters, digits, '.', '-', '_'); names are
 * resolved at start (lib/net/net.c), not here: the resolver stays pure.  The
 * trust policy (lib/bundle/trust.c) decides on the same reading, so what it
 * grants is what is enforced.
 *
 * The host's resolver reads more than dotted quads as addresses: inet_aton
 * takes "10.5", "0x0a.0.0.5", "010.0.0.5" (octal: 8.0.0.5) and "167772165".
 * Such a HOST is neither an address here (inet_pton refuses it) nor a name
 * that DNS would be asked about: it is refused, so that a name can never
 * turn into an address that a pattern over names or addresses did not see.
 * A HOST whose last label is all digits is not a name either (RFC 3696). */
int ward_connect_parse(const char *value, const char *origin, char **host_out, bool *is_addr,
		       uint32_t *addr, uint16_t *port, ward_error_t *err)
{
	cleanup_free char *host = NULL;
	const char *colon = strrchr(value, ':'), *last;
	struct in_addr in;
	size_t i;
	bool digits = true;

	if (value[0] == '[' || (colon && memchr(value, ':', (size_t)(colon - value))))
		return ward_error_set(err, ENOTSUP,
				      "%s: network.connect=%s: IPv6 addresses are not yet "
				      "supported; give an IPv4 address or a name",
				      origin, value);
	if (colon == NULL || colon == value)
		return ward_error_set(err, EINVAL,
				      "%s: network.connect=%s: expected HOST:PORT, e.g. "
				      "network.connect=db:5432 or network.connect=10.0.0.7:443",
				      origin, value);
	host = ward_xasprintf("%.*s", (int)(colon - value), value);
	for (i = 0; host[i]; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c >= 'A' && c <= 'Z')
			host[i] = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
			   c == '-' || c == '_'))
			return ward_error_set(err, EINVAL,
					      "%s: network.connect=%s: \"%s\" is not a host "
					      "name or IPv4 address",
					      origin, value, host);
	}
	if (i > 253)
		return ward_error_set(err, EINVAL,
				      "%s: network.connect=%s: the host name is longer than "
				      "253 characters",
				      origin, value);
	if (ward_parse_port(colon + 1, strlen(colon + 1), port) < 0)
		return ward_error_set(err, EINVAL,
				      "%s: network.connect=%s: the port must be a number from 1 "
				      "to 65535",
				      origin, value);
	*is_addr = inet_pton(AF_INET, host, &in) == 1;
	if (*is_addr) {
		*addr = ntohl(in.s_addr);
	} else {
		last = strrchr(host, '.');
		last = last ? last + 1 : host;
		for (i = 0; last[i]; i++)
			if (last[i] < '0' || last[i] > '9')
				digits = false;
		if (digits || inet_aton(host, &in) != 0)
			return ward_error_set(
				err, EINVAL,
				"%s: network.connect=%s: \"%s\" is neither an IPv4 address in "
				"dotted-quad form nor a host name (write the address as four "
				"decimal numbers from 0 to 255, e.g. 10.0.0.7)",
				origin, value, host);
		*addr = 0;
	}
	if (host_out)
		*host_out = steal_pointer(&host);
	return 0;
}

/* network.connect=HOST:PORT (ward_connect_parse), network.listen=PORT. */
static int add_net_rule(struct ward_policy *p, const struct ward_request *r, bool listen,
			ward_error_t *err)
{
	cleanup_free char *host = NULL;
	struct ward_net_rule *n;
	uint16_t port;
	size_t i;

	if (!listen) {
		bool is_addr;
		uint32_t addr;

		if (ward_connect_parse(r->value, r->origin, &host, &is_addr, &addr, &port, err) < 0)
			return -1;
	} else if (ward_parse_port(r->value, strlen(r->value), &port) < 0) {
		return ward_error_set(err, EINVAL,
				      "%s: network.listen=%s: the port must be a number from 1 to "
				      "65535",
				      r->origin, r->value);
	}
	for (i = 0; i < p->n_net_rules; i++) {
		n = &p->net_rules[i];
		if (n->listen == listen && n->port == port &&
		    (listen || strcmp(n->host, host) == 0))
			return 0; /* the same rule written twice */
	}
	p->net_rules = ward_xrealloc(p->net_rules, (p->n_net_rules + 1) * sizeof(*p->net_rules));
	n = &p->net_rules[p->n_net_rules++];
	n->listen = listen;
	n->host = host ? ward_xstrdup(host) : NULL;
	n->port = port;
	n->origin = ward_xstrdup(r->origin);
	return 0;
}

static int cmp_net_rule(const void *a, const void *b)
{
	const struct ward_net_rule *x = a, *y = b;
	int c;

	if (x->listen != y->listen)
		return x->listen ? 1 : -1;
	if (!x->listen && (c = strcmp(x->host, y->host)) != 0)
		return c;
	return (int)x->port - (int)y->port;
}

/* Broker names (mailboxes, services): [a-z0-9._-]+ with an optional
 * trailing '*' that matches any suffix; at most 64 characters. */
#define MAX_BROKER_NAME 64

static bool broker_part_ok(const char *v, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		char c = v[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-')
			continue;
		if (c == '*' && i == n - 1)
			continue;
		return false;
	}
	return true;
}

/* remote: NAME@HOST (ipc.send only: a mailbox on another host, each part a
 * pattern of its own, docs/remote.md). */
static bool broker_name_ok(const char *v, bool remote)
{
	size_t n = strlen(v);
	const char *at = strchr(v, '@');

	if (n == 0 || n > MAX_BROKER_NAME)
		return false;
	if (at == NULL)
		return broker_part_ok(v, n);
	return remote && broker_part_ok(v, (size_t)(at - v)) &&
	       broker_part_ok(at + 1, n - (size_t)(at - v) - 1);
}

static int cmp_broker(const void *a, const void *b)
{
	const struct ward_broker_grant *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* Requests are applied in sorted order, so keeping the first origin of a
 * duplicate keeps the result order-independent. */
static void add_broker(struct ward_policy *p, enum ward_broker_kind kind, const char *name,
		       bool write, const char *origin)
{
	size_t i;

	for (i = 0; i < p->n_broker; i++) {
		struct ward_broker_grant *g = &p->broker[i];

		if (g->kind == kind && strcmp(g->name ? g->name : "", name ? name : "") == 0) {
			g->write |= write;
			return;
		}
	}
	p->broker = ward_xrealloc(p->broker, (p->n_broker + 1) * sizeof(*p->broker));
	p->broker[p->n_broker].kind = kind;
	p->broker[p->n_broker].name = name ? ward_xstrdup(name) : NULL;
	p->broker[p->n_broker].write = write;
	p->broker[p->n_broker].origin = ward_xstrdup(origin);
	p->n_broker++;
}

/* A device node granted by host.devices or host.devices.admin; the first
 * origin in sort order stays. */
static void add_device(struct ward_policy *p, const char *path, const char *origin)
{
	size_t i;

	for (i = 0; i < p->n_devices; i++)
		if (strcmp(p->devices[i].path, path) == 0)
			return;
	p->devices = ward_xrealloc(p->devices, (p->n_devices + 1) * sizeof(*p->devices));
	p->devices[p->n_devices].path = ward_xstrdup(path);
	p->devices[p->n_devices].origin = ward_xstrdup(origin);
	p->n_devices++;
}

/* Find an earlier grant of the same definition. */
static struct ward_grant *find_grant(struct ward_policy *p, int def)
{
	size_t i;

	for (i = 0; i < p->n_grants; i++)
		if (p->grants[i].def == def)
			return &p->grants[i];
	return NULL;
}

static bool has_grant(const struct ward_policy *p, int def, const char *value)
{
	size_t i;

	for (i = 0; i < p->n_grants; i++)
		if (p->grants[i].def == def &&
		    strcmp(p->grants[i].value ? p->grants[i].value : "", value ? value : "") == 0)
			return true;
	return false;
}

static struct ward_grant *find_group(struct ward_policy *p, const char *group)
{
	size_t i;

	for (i = 0; i < p->n_grants; i++) {
		const char *g = ward_entitlements[p->grants[i].def].group;

		if (g && strcmp(g, group) == 0)
			return &p->grants[i];
	}
	return NULL;
}

static void push_grant(struct ward_policy *p, int def, const char *value, const char *origin)
{
	p->grants = ward_xrealloc(p->grants, (p->n_grants + 1) * sizeof(*p->grants));
	p->grants[p->n_grants].def = def;
	p->grants[p->n_grants].value = value ? ward_xstrdup(value) : NULL;
	p->grants[p->n_grants].origin = ward_xstrdup(origin);
	p->n_grants++;
}

static int check_value(const struct ward_entitlement *e, const struct ward_request *r,
		       ward_error_t *err)
{
	if (e->arg == WARD_ARG_NONE && r->value)
		return ward_error_set(err, EINVAL, "%s: %s takes no value (write just \"%s\")",
				      r->origin, e->name, e->name);
	if (e->arg != WARD_ARG_NONE && r->value == NULL && !(e->flags & WARD_ENT_VALUE_OPTIONAL))
		return ward_error_set(err, EINVAL, "%s: %s needs a value: %s=%s", r->origin,
				      e->name, e->name, ward_arg_kind_hint(e->arg));
	return 0;
}

static int apply_one(struct ward_policy *p, const struct ward_request *r, int def,
		     const struct ward_resolve_ctx *ctx, ward_error_t *err)
{
	const struct ward_entitlement *e = &ward_entitlements[def];
	const char *name = e->name;
	uint64_t v;
	int rc;

	if (strcmp(name, "fs.read") == 0 || strcmp(name, "fs.write") == 0 ||
	    strcmp(name, "fs.exec") == 0) {
		unsigned access = name[3] == 'r'   ? WARD_FS_READ
				  : name[3] == 'w' ? WARD_FS_READ | WARD_FS_WRITE
						   : WARD_FS_READ | WARD_FS_EXEC;
		cleanup_free char *path = expand_path(r->value, ctx, r->origin, name, err);

		if (path == NULL)
			return -1;
		if (path_under(path, "/proc") || path_under(path, "/sys"))
			return ward_error_set(err, EINVAL,
					      "%s: %s=%s: the sandbox has its own %s; host paths "
					      "under it cannot be granted",
					      r->origin, name, r->value,
					      path_under(path, "/proc") ? "/proc" : "/sys");
		if (path_under(path, "/dev"))
			return ward_error_set(err, EINVAL,
					      "%s: %s=%s: device nodes are granted with "
					      "host.devices=%s",
					      r->origin, name, r->value, path);
		/* /tmp itself would be the host's /tmp bound over the private
		 * one: every user's files and sockets.  Never by accident. */
		if (strcmp(path, "/tmp") == 0)
			return ward_error_set(
				err, EINVAL,
				"%s: %s=%s would replace the sandbox's private /tmp with the "
				"host's /tmp (every user's files and sockets); the private /tmp "
				"is already writable and executable (fs.scratch.noexec makes it "
				"not executable). To share the host's /tmp, grant host.tmp "
				"[dangerous]; to share one directory of it, grant %s=/tmp/NAME",
				r->origin, name, r->value, name);
		return add_path(p, path, access, r->origin);
	}
	if (strcmp(name, "host.tmp") == 0)
		return add_path(p, "/tmp", WARD_FS_READ | WARD_FS_WRITE, r->origin);
	if (strcmp(name, "fs.scratch.noexec") == 0) {
		p->scratch_exec = false;
		return 0;
	}
	if (strcmp(name, "host.devices") == 0) {
		cleanup_free char *path = expand_path(r->value, ctx, r->origin, name, err);

		if (path == NULL)
			return -1;
		if (!path_under(path, "/dev") || strcmp(path, "/dev") == 0)
			return ward_error_set(err, EINVAL,
					      "%s: host.devices=%s: name a device node under /dev, "
					      "e.g. host.devices=/dev/fuse",
					      r->origin, r->value);
		add_device(p, path, r->origin);
		return 0;
	}
	if (strcmp(name, "host.devices.admin") == 0) {
		const char *dv = r->value;
		unsigned want;

		/* Exactly these classes; see the table for why loop devices
		 * are not among them. */
		if (dv == NULL)
			want = WARD_DEVADMIN_FUSE | WARD_DEVADMIN_TUN;
		else if (strcmp(dv, "fuse") == 0)
			want = WARD_DEVADMIN_FUSE;
		else if (strcmp(dv, "tun") == 0)
			want = WARD_DEVADMIN_TUN;
		else if (strcmp(dv, "loop") == 0)
			return ward_error_set(
				err, ENOTSUP,
				"%s: host.devices.admin=loop: loop devices are not granted: they "
				"are shared with the host (any of them may hold a host image), and "
				"the block file systems they carry cannot be mounted in a user "
				"namespace; mount images with FUSE (fuse2fs, squashfuse) through "
				"host.devices.admin=fuse",
				r->origin);
		else
			return ward_error_set(err, EINVAL,
					      "%s: host.devices.admin=%s: the devices are fuse and "
					      "tun (host.devices.admin alone grants both)",
					      r->origin, dv);
		if (want & WARD_DEVADMIN_FUSE)
			add_device(p, "/dev/fuse", r->origin);
		if (want & WARD_DEVADMIN_TUN)
			add_device(p, "/dev/net/tun", r->origin);
		p->dev_admin |= want;
		return 0;
	}
	if (strcmp(name, "process.limit") == 0 || strcmp(name, "files.limit") == 0) {
		bool files = name[0] == 'f';

		rc = ward_parse_u64(r->value, &v);
		if (rc < 0 || v == 0)
			return ward_error_set(err, EINVAL,
					      "%s: %s=%s: expected a whole number greater than 0, "
					      "e.g. %s=%s",
					      r->origin, name, r->value, name,
					      files ? "4096" : "64");
		if (files && (v < MIN_NOFILE || v > MAX_NOFILE))
			return ward_error_set(err, ERANGE,
					      "%s: files.limit=%s: must be between %llu and %llu",
					      r->origin, r->value, MIN_NOFILE, MAX_NOFILE);
		if (!files && v > MAX_PIDS)
			return ward_error_set(err, ERANGE,
					      "%s: process.limit=%s: must be at most %llu",
					      r->origin, r->value, MAX_PIDS);
		if (files)
			p->nofile = v;
		else
			p->pids_max = v;
		return 0;
	}
	if (strcmp(name, "memory.limit") == 0) {
		rc = ward_parse_size(r->value, &v);
		if (rc < 0)
			return ward_error_set(
				err, EINVAL,
				"%s: memory.limit=%s: expected a size such as 512M or "
				"2G (suffixes K, M, G, T are powers of 1024)",
				r->origin, r->value);
		if (v < MIN_MEMORY)
			return ward_error_set(err, ERANGE,
					      "%s: memory.limit=%s: too small to start a program; "
					      "give at least 4M",
					      r->origin, r->value);
		p->memory_max = v;
		return 0;
	}
	if (strcmp(name, "cpu.limit") == 0) {
		rc = ward_parse_milli(r->value, MAX_CPUS, &v);
		if (rc < 0 || v == 0)
			return ward_error_set(err, EINVAL,
					      "%s: cpu.limit=%s: expected a number of processors "
					      "greater than 0 and at most %llu, e.g. 0.5 or 2",
					      r->origin, r->value, MAX_CPUS);
		if (v < 10)
			return ward_error_set(err, ERANGE,
					      "%s: cpu.limit=%s: the smallest limit is 0.01",
					      r->origin, r->value);
		p->cpu_period_us = WARD_DEFAULT_CPU_PERIOD;
		p->cpu_quota_us = v * WARD_DEFAULT_CPU_PERIOD / 1000;
		return 0;
	}
	if (strcmp(name, "process.debug") == 0) {
		p->debug = true;
		return 0;
	}
	if (strcmp(name, "process.setuid") == 0) {
		p->setuid = true;
		return 0;
	}
	if (strcmp(name, "host.time") == 0) {
		p->host_time = true;
		return 0;
	}
	if (strcmp(name, "network.admin") == 0) {
		p->net_admin = true;
		return 0;
	}
	if (strcmp(name, "network.none") == 0) {
		p->net = WARD_NET_NONE;
		return 0;
	}
	if (strcmp(name, "network.loopback") == 0) {
		p->net = WARD_NET_LOOPBACK;
		return 0;
	}
	if (strcmp(name, "network.host") == 0) {
		p->net = WARD_NET_HOST;
		return 0;
	}
	if (strcmp(name, "network.outbound") == 0) {
		p->net = WARD_NET_OUTBOUND;
		return 0;
	}
	if (strcmp(name, "network.connect") == 0 || strcmp(name, "network.listen") == 0)
		return add_net_rule(p, r, name[8] == 'l', err);
	if (strcmp(name, "security.confined") == 0) {
		p->level = WARD_LEVEL_CONFINED;
		return 0;
	}
	if (strcmp(name, "security.user") == 0) {
		p->level = WARD_LEVEL_USER;
		return 0;
	}
	if (strcmp(name, "security.admin") == 0) {
		p->level = WARD_LEVEL_ADMIN;
		return 0;
	}
	if (strcmp(name, "ipc.send") == 0 || strcmp(name, "service.connect") == 0 ||
	    strcmp(name, "service.provide") == 0) {
		enum ward_broker_kind kind = name[0] == 'i' ? WARD_BROKER_SEND
					     : strcmp(name, "service.connect") == 0
						     ? WARD_BROKER_CONNECT
						     : WARD_BROKER_PROVIDE;

		if (!broker_name_ok(r->value, kind == WARD_BROKER_SEND))
			return ward_error_set(err, EINVAL,
					      "%s: %s=%s: a name is 1 to %d of a-z 0-9 . _ -, "
					      "optionally ending in * (e.g. %s=db or %s=db-*)%s",
					      r->origin, name, r->value, MAX_BROKER_NAME, name,
					      name,
					      kind == WARD_BROKER_SEND
						      ? ", or NAME@HOST for a mailbox on another "
							"host (ipc.send=inventory@b, ipc.send=*@b)"
						      : "; services do not cross hosts");
		add_broker(p, kind, r->value, false, r->origin);
		return 0;
	}
	if (strcmp(name, "ipc.recv") == 0) {
		add_broker(p, WARD_BROKER_RECV, NULL, false, r->origin);
		return 0;
	}
	if (strcmp(name, "api.open") == 0) {
		cleanup_free char *spec = ward_xstrdup(r->value);
		cleanup_free char *path = NULL;
		char *colon = strrchr(spec, ':');
		bool write = false;

		/* PATH[:ro|rw]; read-only when the mode is left out. */
		if (colon && (strcmp(colon, ":ro") == 0 || strcmp(colon, ":rw") == 0)) {
			write = colon[2] == 'w';
			*colon = '\0';
		} else if (colon && strchr(colon, '/') == NULL) {
			return ward_error_set(err, EINVAL,
					      "%s: api.open=%s: the mode after ':' is ro or rw "
					      "(e.g. api.open=/srv/photos:ro)",
					      r->origin, r->value);
		}
		path = expand_path(spec, ctx, r->origin, name, err);
		if (path == NULL)
			return -1;
		if (path_under(path, "/proc") || path_under(path, "/sys") ||
		    path_under(path, "/dev"))
			return ward_error_set(err, EINVAL,
					      "%s: api.open=%s: files under /proc, /sys and /dev "
					      "cannot be handed out by the broker; grant a data "
					      "directory",
					      r->origin, r->value);
		add_broker(p, WARD_BROKER_OPEN, path, write, r->origin);
		return 0;
	}
	if (strcmp(name, "api.attest") == 0) {
		add_broker(p, WARD_BROKER_ATTEST, NULL, false, r->origin);
		return 0;
	}
	/* Every available entitlement is handled above; the table test checks it. */
	return ward_error_set(err, ENOSYS, "%s: internal error: no resolver for %s", r->origin,
			      name);
}

/* Put requests in a canonical order so the result does not depend on the
 * order they were written in. */
static int cmp_request(const void *a, const void *b)
{
	const struct ward_request *const *x = a, *const *y = b;
	int c = strcmp((*x)->name, (*y)->name);

	if (c)
		return c;
	c = strcmp((*x)->value ? (*x)->value : "", (*y)->value ? (*y)->value : "");
	if (c)
		return c;
	return strcmp((*x)->origin, (*y)->origin);
}

int ward_resolve(const struct ward_request_list *l, const struct ward_resolve_ctx *ctx,
		 struct ward_policy *out, ward_error_t *err)
{
	struct ward_policy p = {0};
	cleanup_free const struct ward_request **sorted = NULL;
	size_t i;

	p.pids_max = WARD_DEFAULT_PIDS_MAX;
	p.nofile = WARD_DEFAULT_NOFILE;
	p.memory_max = ctx && ctx->physical_memory ? ctx->physical_memory / 4 : 1ULL << 30;
	p.cpu_period_us = WARD_DEFAULT_CPU_PERIOD;
	/* The private /tmp, /dev/shm and memfds are the program's scratch
	 * space: executable unless fs.scratch.noexec (policy.h). */
	p.scratch_exec = true;

	sorted = ward_xcalloc(l->n, sizeof(*sorted));
	for (i = 0; i < l->n; i++)
		sorted[i] = &l->items[i];
	if (l->n > 1)
		qsort(sorted, l->n, sizeof(*sorted), cmp_request);

	for (i = 0; i < l->n; i++) {
		const struct ward_request *r = sorted[i];
		int def = ward_entitlement_lookup(r->name);
		const struct ward_entitlement *e;
		struct ward_grant *prev;

		if (def < 0) {
			const char *hint = ward_entitlement_suggest(r->name);

			if (hint)
				ward_error_set(
					err, EINVAL,
					"%s: unknown entitlement \"%s\" (did you mean \"%s\"?)",
					r->origin, r->name, hint);
			else
				ward_error_set(
					err, EINVAL,
					"%s: unknown entitlement \"%s\" (`ward entitlements` "
					"lists them all)",
					r->origin, r->name);
			goto fail;
		}
		e = &ward_entitlements[def];
		if (e->flags & WARD_ENT_UNAVAILABLE) {
			ward_error_set(
				err, ENOTSUP,
				"%s: entitlement \"%s\" is not yet available in this version "
				"of ward (`ward entitlements` shows what is)",
				r->origin, r->name);
			goto fail;
		}
		if (check_value(e, r, err) < 0)
			goto fail;

		prev = find_grant(&p, def);
		if (prev && !(e->flags & WARD_ENT_REPEATABLE)) {
			bool same = (prev->value == NULL && r->value == NULL) ||
				    (prev->value && r->value && strcmp(prev->value, r->value) == 0);

			if (same)
				continue; /* written twice: harmless */
			ward_error_set(
				err, EINVAL, "%s: %s=%s conflicts with %s=%s (%s): give it once",
				r->origin, e->name, r->value, e->name, prev->value, prev->origin);
			goto fail;
		}
		if (e->group) {
			struct ward_grant *g = find_group(&p, e->group);

			if (g && g->def != def) {
				ward_error_set(err, EINVAL,
					       "%s: %s conflicts with %s (%s): choose one %s "
					       "entitlement",
					       r->origin, e->name, ward_entitlements[g->def].name,
					       g->origin, e->group);
				goto fail;
			}
		}
		if (apply_one(&p, r, def, ctx, err) < 0)
			goto fail;
		if (has_grant(&p, def, r->value))
			continue;
		push_grant(&p, def, r->value, r->origin);
	}

	/* network.connect and network.listen need an interface: they turn
	 * network.none (the default) and network.loopback into a sandbox with
	 * a veth whose traffic only they let through.  network.outbound keeps
	 * its open way out (connect rules add nothing) and listen rules filter
	 * what comes in.  network.host has no namespace to filter in. */
	if (p.n_net_rules) {
		const struct ward_grant *g = find_group(&p, "network");
		const struct ward_net_rule *first = &p.net_rules[0];

		if (g && (p.net == WARD_NET_NONE || p.net == WARD_NET_HOST)) {
			ward_error_set(err, EINVAL,
				       "%s: network.%s=%s%s%u conflicts with %s (%s): %s",
				       first->origin, first->listen ? "listen" : "connect",
				       first->listen ? "" : first->host, first->listen ? "" : ":",
				       first->port, ward_entitlements[g->def].name, g->origin,
				       p.net == WARD_NET_NONE
					       ? "network.none means no network at all; remove one"
					       : "network.host already shares every port of the "
						 "host; remove one");
			goto fail;
		}
		if (p.net == WARD_NET_LOOPBACK)
			p.net_lo_open = true;
		if (p.net != WARD_NET_OUTBOUND)
			p.net = WARD_NET_PORTS;
		qsort(p.net_rules, p.n_net_rules, sizeof(*p.net_rules), cmp_net_rule);
	}

	/* Defaults for groups nobody chose. */
	for (i = 0; i < ward_n_entitlements; i++) {
		const struct ward_entitlement *e = &ward_entitlements[i];

		if ((e->flags & WARD_ENT_DEFAULT) && e->group && find_group(&p, e->group) == NULL &&
		    !(p.n_net_rules && strcmp(e->group, "network") == 0))
			push_grant(&p, (int)i, NULL, "default");
	}

	/* A path granted twice keeps the widest access; the sandbox view needs
	 * parents before children, which sorting by path gives. */
	if (p.n_paths > 1)
		qsort(p.paths, p.n_paths, sizeof(*p.paths), cmp_path);
	if (p.n_grants > 1)
		qsort(p.grants, p.n_grants, sizeof(*p.grants), cmp_grant);
	if (p.n_broker > 1)
		qsort(p.broker, p.n_broker, sizeof(*p.broker), cmp_broker);

	/* Derived layer settings, from the table. */
	p.namespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
	if (p.net != WARD_NET_HOST)
		p.namespaces |= CLONE_NEWNET;
	if (!p.host_time)
		p.namespaces |= CLONE_NEWUSER | CLONE_NEWTIME;
	if (p.host_time && p.level != WARD_LEVEL_CONFINED) {
		/* Without a user namespace, Docker's capabilities would be real
		 * host capabilities.  Refuse rather than silently widen them. */
		ward_error_set(err, EINVAL,
			       "host.time cannot be combined with %s: without a user namespace "
			       "its capabilities would hold on the host; use security.confined",
			       p.level == WARD_LEVEL_USER ? "security.user" : "security.admin");
		goto fail;
	}
	if (p.net_admin && (p.net == WARD_NET_HOST || p.host_time)) {
		/* Its capabilities must hold in a namespace of the sandbox's
		 * own; network.host has none, and host.time has no user
		 * namespace (CAP_NET_ADMIN would be the host's). */
		const struct ward_grant *g = ward_policy_find(&p, "network.admin");

		ward_error_set(err, EINVAL,
			       "%s: network.admin conflicts with %s: network.admin administers the "
			       "sandbox's own network namespace only, and %s; remove one",
			       g ? g->origin : "network.admin",
			       p.host_time ? "host.time" : "network.host",
			       p.host_time ? "host.time runs without a user namespace, where "
					     "CAP_NET_ADMIN would hold on the host"
					   : "network.host shares the host's");
		goto fail;
	}
	p.socket_families = 1ULL << AF_UNIX;
	p.caps = 0;
	for (i = 0; i < p.n_grants; i++) {
		const struct ward_entitlement *e = &ward_entitlements[p.grants[i].def];

		p.caps |= e->caps;
		p.socket_families |= e->socket_families;
	}
	p.no_new_privs = !p.setuid;
	p.allow_ns_clone = p.level == WARD_LEVEL_ADMIN;

	*out = p;
	return 0;
fail:
	ward_policy_free(&p);
	return -1;
}
