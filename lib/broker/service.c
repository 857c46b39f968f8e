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

#define MAX_BACKLOG 128u /* connections waiting to be accepted by a provider */

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
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		bk_reply_error(c, m->id, errno, NULL, "socketpair: %s", strerror(errno));
		return;
	}
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
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
	bk_send_buf(s->chan, &b, sv[0]);
	close(sv[0]);
	bk_reply_ok(c, m->id, sv[1]);
	close(sv[1]);
}
