/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mailboxes: send, receive with credits, back-pressure, look-up. */
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

#define MAX_PARKED	 256u /* sends waiting for room, per connection */
#define MAX_PARKED_BYTES (1u << 20)
#define MAX_CREDITS	 1024u /* messages a receiver may have asked for ahead */

/* ---- mailboxes ---- */

bool bk_env_alive(const struct env *e)
{
	return e && !e->conn->dead;
}

static void push_message(struct env *t, struct qmsg *m)
{
	struct ward_proto_buf b;

	ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_MESSAGE, t->recv_id);
	if (m->from[0])
		ward_proto_put_str(&b, WARD_ATTR_FROM, m->from);
	if (m->flags)
		ward_proto_put_u32(&b, WARD_ATTR_FLAGS, m->flags);
	ward_proto_put(&b, WARD_ATTR_DATA, m->data, m->len);
	bk_send_msg(t->conn, &b, t->batch);
}

static bool has_room(const struct env *t, size_t len)
{
	return t->depth < B.depth_max && t->bytes + len <= B.bytes_max;
}

bool bk_mailbox_has_room(const struct env *t, size_t len)
{
	/* Behind senders waiting for room too: they came first. */
	return has_room(t, len) && t->w == NULL;
}

static void enqueue(struct env *t, struct qmsg *m)
{
	m->next = NULL;
	if (t->q_tail)
		t->q_tail->next = m;
	else
		t->q = m;
	t->q_tail = m;
	t->depth++;
	t->bytes += m->len;
}

/* Can a message be written to the receiver now?  Only while nothing waits
 * in its connection's queue: a message stays in the mailbox, within its
 * bounds, until the receiver's socket takes it.  (Credits alone let a
 * receiver that asks for 1024 messages and never reads hold them all in
 * the broker's memory, outside the mailbox's 4 MiB.) */
static bool can_push(const struct env *t)
{
	return t->credits && !t->conn->dead && t->conn->n_out == 0;
}

/* Deliver what the receiver asked for, then let waiting senders in. */
void bk_pump(struct env *t)
{
	for (;;) {
		while (can_push(t) && t->q) {
			struct qmsg *m = t->q;

			t->q = m->next;
			if (t->q == NULL)
				t->q_tail = NULL;
			t->depth--;
			t->bytes -= m->len;
			t->credits--;
			push_message(t, m);
			free(m);
		}
		if (t->w == NULL || !has_room(t, t->w->m->len)) {
			/* Remote messages wait behind parked senders. */
			if (t->w == NULL && has_room(t, 0))
				bk_link_room();
			return;
		}
		{
			struct parked *p = t->w;

			t->w = p->next;
			if (t->w == NULL)
				t->w_tail = NULL;
			enqueue(t, p->m);
			p->conn->n_parked--;
			p->conn->parked_bytes -= p->m->len;
			bk_reply_ok(p->conn, p->m->send_id, -1);
			free(p);
		}
	}
}

static struct qmsg *qmsg_new(struct conn *sender, const struct ward_proto_msg *m, const char *from,
			     uint32_t flags)
{
	struct qmsg *q = ward_xmalloc(sizeof(*q) + m->data_len);

	q->next = NULL;
	q->sender = sender;
	q->send_id = m->id;
	q->flags = flags;
	q->remote = false;
	snprintf(q->from, sizeof(q->from), "%s", from ? from : "");
	q->len = m->data_len;
	if (m->data_len)
		memcpy(q->data, m->data, m->data_len);
	return q;
}

void bk_mailbox_put_remote(struct env *t, const char *from, const uint8_t rid[16], const void *data,
			   size_t len)
{
	struct qmsg *q = ward_xmalloc(sizeof(*q) + len);

	q->next = NULL;
	q->sender = NULL;
	q->send_id = 0;
	q->flags = 0;
	snprintf(q->from, sizeof(q->from), "%s", from);
	q->remote = true;
	memcpy(q->rid, rid, sizeof(q->rid));
	q->len = (uint32_t)len;
	if (len)
		memcpy(q->data, data, len);
	enqueue(t, q);
	bk_pump(t);
}

/* ---- requests ---- */

void bk_do_send(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	char name[WARD_PROTO_MAX_NAME + 1], what[160];
	struct env *t;

	ward_proto_strcpy(name, sizeof(name), m->name);
	if (e && !ward_broker_allows(e->pol.broker, e->pol.n_broker, WARD_BROKER_SEND, name)) {
		char miss[WARD_PROTO_MAX_NAME + 16];

		snprintf(what, sizeof(what), "send to \"%s\"", name);
		snprintf(miss, sizeof(miss), "ipc.send=%s", name);
		bk_deny(c, e, m->id, what, miss);
		return;
	}
	if (strchr(name, '@')) {
		/* NAME@HOST: signed and handed to RabbitMQ (link.c). */
		bk_link_send(c, e, m, name);
		return;
	}
	t = bk_env_find(name);
	if (!bk_env_alive(t)) {
		bk_reply_error(c, m->id, ENOENT, NULL,
			       "send to \"%s\": no environment of that name is "
			       "running",
			       name);
		return;
	}
	if (!t->recv) {
		bk_reply_error(c, m->id, ENOENT, NULL,
			       "send to \"%s\": it has no mailbox (it was not granted ipc.recv)",
			       name);
		return;
	}
	/* Senders already waiting for room come first: a send that fits now
	 * does not overtake them (theirs may be the same sender's, earlier). */
	if (!bk_mailbox_has_room(t, m->data_len)) {
		if (m->flags & WARD_SEND_F_WAIT) {
			struct parked *p;

			if (c->n_parked >= MAX_PARKED ||
			    c->parked_bytes + m->data_len > MAX_PARKED_BYTES) {
				bk_reply_error(c, m->id, EAGAIN, NULL,
					       "send to \"%s\": mailbox full and %u sends already "
					       "waiting for room",
					       name, c->n_parked);
				return;
			}
			/* An acknowledged run never spans a parked send: the
			 * client matches a run to the sends just before it. */
			bk_ack_flush(c);
			/* Back-pressure: the answer comes when there is room, or
			 * an error if the mailbox closes first. */
			p = ward_xcalloc(1, sizeof(*p));
			p->conn = c;
			p->m = qmsg_new(c, m, e ? e->name : NULL, e ? 0 : WARD_MSG_F_HOST);
			if (t->w_tail)
				t->w_tail->next = p;
			else
				t->w = p;
			t->w_tail = p;
			c->n_parked++;
			c->parked_bytes += m->data_len;
			return;
		}
		if (t->w)
			bk_reply_error(
				c, m->id, EAGAIN, NULL,
				"send to \"%s\": senders are waiting for room in its mailbox "
				"(%u messages, %zu bytes waiting); retry later or wait for room",
				name, t->depth, t->bytes);
		else
			bk_reply_error(
				c, m->id, EAGAIN, NULL,
				"send to \"%s\": its mailbox is full (%u messages, %zu bytes "
				"waiting); retry later or wait for room",
				name, t->depth, t->bytes);
		return;
	}
	if (can_push(t) && t->q == NULL) {
		/* The receiver is waiting: straight through. */
		struct ward_proto_buf b;

		ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_MESSAGE, t->recv_id);
		if (e)
			ward_proto_put_str(&b, WARD_ATTR_FROM, e->name);
		else
			ward_proto_put_u32(&b, WARD_ATTR_FLAGS, WARD_MSG_F_HOST);
		ward_proto_put(&b, WARD_ATTR_DATA, m->data, m->data_len);
		bk_send_msg(t->conn, &b, t->batch);
		t->credits--;
	} else {
		enqueue(t, qmsg_new(c, m, e ? e->name : NULL, e ? 0 : WARD_MSG_F_HOST));
	}
	/* Acknowledged when queued (or delivered); acks of a run of sends
	 * travel as one OK with a count. */
	if (c->ack_count && c->ack_count < UINT32_MAX) {
		c->ack_id = m->id;
		c->ack_count++;
	} else {
		bk_ack_flush(c);
		c->ack_id = m->id;
		c->ack_count = 1;
	}
}

void bk_do_recv(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	if (!e->recv) {
		bk_deny(c, e, m->id, "receive", "ipc.recv");
		return;
	}
	e->recv_id = m->id;
	e->batch = (m->flags & WARD_RECV_F_BATCH) != 0;
	if (m->flags & WARD_RECV_F_WAIT) {
		uint32_t n = ward_proto_has(m, WARD_ATTR_COUNT) ? m->count : 1;

		if (n == 0)
			n = 1;
		e->credits = e->credits + n > MAX_CREDITS ? MAX_CREDITS : e->credits + n;
		bk_pump(e);
		return;
	}
	if (e->q == NULL) {
		bk_reply_error(c, m->id, EAGAIN, NULL, "no message in the mailbox of \"%s\"",
			       e->name);
		return;
	}
	e->credits++;
	bk_pump(e);
}

void bk_do_lookup(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	char name[WARD_PROTO_MAX_NAME + 1];
	struct ward_proto_buf b;
	struct env *t;
	struct service *s;
	uint32_t flags = 0;

	ward_proto_strcpy(name, sizeof(name), m->name);
	if (strchr(name, '@')) {
		/* What another host runs is its business: it answers by
		 * delivering, or by an undelivered notice. */
		bk_reply_error(c, m->id, EOPNOTSUPP, NULL,
			       "\"%s\": a mailbox on another host cannot be looked up; send to it",
			       name);
		return;
	}
	if (e && !ward_broker_allows(e->pol.broker, e->pol.n_broker, WARD_BROKER_SEND, name) &&
	    !ward_broker_allows(e->pol.broker, e->pol.n_broker, WARD_BROKER_CONNECT, name)) {
		char what[160], miss[2 * WARD_PROTO_MAX_NAME + 40];

		snprintf(what, sizeof(what), "look up \"%s\"", name);
		snprintf(miss, sizeof(miss), "ipc.send=%s or service.connect=%s", name, name);
		bk_deny(c, e, m->id, what, miss);
		return;
	}
	t = bk_env_find(name);
	s = bk_svc_find(name);
	if (bk_env_alive(t) && t->recv)
		flags |= WARD_LOOKUP_F_MAILBOX;
	if (s)
		flags |= WARD_LOOKUP_F_SERVICE;
	if (!bk_env_alive(t) && !s) {
		bk_reply_error(c, m->id, ENOENT, NULL,
			       "\"%s\": no environment or service of that name", name);
		return;
	}
	bk_reply_begin(&b, c, WARD_MSG_OK, m->id);
	ward_proto_put_str(&b, WARD_ATTR_NAME, name);
	ward_proto_put_u32(&b, WARD_ATTR_FLAGS, flags);
	if (flags & WARD_LOOKUP_F_MAILBOX) {
		ward_proto_put_u32(&b, WARD_ATTR_DEPTH, t->depth);
		ward_proto_put_u32(&b, WARD_ATTR_LIMIT, B.depth_max);
	}
	bk_send_buf(c, &b, -1);
}
