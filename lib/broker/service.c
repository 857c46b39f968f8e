/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Services: provide a name, connect to it; the broker hands both sides one
 * end of a fresh socket pair. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util.h"
#include "internal.h"

/*
 * What one environment can make the broker hold is bounded (docs/broker.md,
 * "Limits"): every service is a socket pair and every connection waiting to
 * be accepted a descriptor in the broker.  One environment with
 * service.provide=svc-* and service.connect=svc-* used to make it hold
 * 21,760 socket pairs.
 */
#define MAX_BACKLOG	128u /* connections waiting to be accepted, per service */
#define MAX_SERVICES	16u  /* services one environment provides at once */
#define MAX_PENDING_ENV 32u  /* connections one environment made that wait */

static unsigned services_of(const struct env *e)
{
	const struct service *s;
	unsigned n = 0;

	for (s = B.services; s; s = s->next)
		if (s->env == e && !s->chan->dead)
			n++;
	return n;
}

struct service *bk_svc_find(const char *name)
{
	struct service *s;

	for (s = B.services; s; s = s->next)
		if (strcmp(s->name, name) == 0 && !s->chan->dead)
			return s;
	return NULL;
}

void bk_do_provide(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	char name[WARD_PROTO_MAX_NAME + 1];
	struct service *s;
	int sv[2];

	ward_proto_strcpy(name, sizeof(name), m->name);
	if (strchr(name, '@')) {
		bk_reply_error(c, m->id, EOPNOTSUPP, NULL,
			       "\"%s\": services do not cross hosts (only mailboxes do: NAME@HOST)",
			       name);
		return;
	}
	if (!ward_broker_allows(e->pol.broker, e->pol.n_broker, WARD_BROKER_PROVIDE, name)) {
		char what[160], miss[WARD_PROTO_MAX_NAME + 20];

		snprintf(what, sizeof(what), "provide the service \"%s\"", name);
		snprintf(miss, sizeof(miss), "service.provide=%s", name);
		bk_deny(c, e, m->id, what, miss);
		return;
	}
	s = bk_svc_find(name);
	if (s) {
		/* Only that the name is taken: who holds it is a name this
		 * environment may not be entitled to look up. */
		if (s->env == e)
			bk_reply_error(c, m->id, EADDRINUSE, NULL,
				       "the service \"%s\" is already provided by this environment",
				       name);
		else
			bk_reply_error(
				c, m->id, EADDRINUSE, NULL,
				"the service \"%s\" is already provided by another environment",
				name);
		return;
	}
	if (services_of(e) >= MAX_SERVICES) {
		bk_reply_error(c, m->id, EMFILE, NULL,
			       "provide \"%s\": \"%s\" already provides %u services, the most one "
			       "environment may",
			       name, e->name, MAX_SERVICES);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		bk_reply_error(c, m->id, errno, NULL, "socketpair: %s", strerror(errno));
		return;
	}
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	/* The smallest send buffer: connections the provider has not accepted
	 * wait in the broker's queue, where they are counted (MAX_BACKLOG,
	 * MAX_PENDING_ENV), not in the kernel's, where a default buffer holds
	 * hundreds of them. */
	{
		int one = 1;

		(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
	}
	s = ward_xcalloc(1, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->provider, sizeof(s->provider), "%s", e->name);
	s->env = e;
	s->chan = bk_conn_new(sv[0], CONN_PROVIDE);
	if (s->chan == NULL) {
		free(s);
		close(sv[1]);
		bk_reply_error(c, m->id, ENOMEM, NULL, "cannot watch the service channel");
		return;
	}
	s->chan->env = e;
	s->chan->svc = s;
	s->next = B.services;
	B.services = s;
	bk_reply_ok(c, m->id, sv[1]);
	close(sv[1]);
	bk_log("\"%s\" provides the service \"%s\"", e->name, name);
}

void bk_do_connect(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	char name[WARD_PROTO_MAX_NAME + 1];
	struct ward_proto_buf b;
	struct service *s;
	int sv[2], type;

	ward_proto_strcpy(name, sizeof(name), m->name);
	if (strchr(name, '@')) {
		bk_reply_error(c, m->id, EOPNOTSUPP, NULL,
			       "\"%s\": services do not cross hosts (only mailboxes do: NAME@HOST)",
			       name);
		return;
	}
	if (!ward_broker_allows(e->pol.broker, e->pol.n_broker, WARD_BROKER_CONNECT, name)) {
		char what[160], miss[WARD_PROTO_MAX_NAME + 20];

		snprintf(what, sizeof(what), "connect to the service \"%s\"", name);
		snprintf(miss, sizeof(miss), "service.connect=%s", name);
		bk_deny(c, e, m->id, what, miss);
		return;
	}
	s = bk_svc_find(name);
	if (s == NULL) {
		bk_reply_error(c, m->id, ECONNREFUSED, NULL,
			       "no environment provides the service \"%s\"", name);
		return;
	}
	if (c->pending >= MAX_PENDING_ENV) {
		bk_reply_error(
			c, m->id, EAGAIN, NULL,
			"connect to \"%s\": \"%s\" has %u connections waiting to be accepted, "
			"the most one environment may",
			name, e->name, MAX_PENDING_ENV);
		return;
	}
	if (s->chan->n_out >= MAX_BACKLOG) {
		bk_reply_error(c, m->id, EAGAIN, NULL,
			       "the service \"%s\" has %u connections waiting to be accepted", name,
			       MAX_BACKLOG);
		return;
	}
	/* Both sides get one end of a fresh pair: bulk traffic never passes
	 * through the broker. */
	type = (m->flags & WARD_CONNECT_F_SEQPACKET) ? SOCK_SEQPACKET : SOCK_STREAM;
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0) {
		bk_reply_error(c, m->id, errno, NULL, "socketpair: %s", strerror(errno));
		return;
	}
	ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_CONN, m->id);
	ward_proto_put_str(&b, WARD_ATTR_FROM, e->name);
	ward_proto_put_u32(&b, WARD_ATTR_FLAGS, m->flags & WARD_CONNECT_F_SEQPACKET);
	bk_send_buf_charged(s->chan, &b, sv[0], c);
	close(sv[0]);
	bk_reply_ok(c, m->id, sv[1]);
	close(sv[1]);
}
