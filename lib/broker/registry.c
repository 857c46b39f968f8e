/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The broker's environments: registration by the operator, names, who am I,
 * ps, and removal when an environment's descriptor closes. */
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

/* ---- names ---- */

static unsigned hash_name(const char *s)
{
	unsigned h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % HASH_SIZE;
}

struct env *bk_env_find(const char *name)
{
	struct env *e;

	for (e = B.by_name[hash_name(name)]; e; e = e->hnext)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void put_env_ents(struct ward_proto_buf *b, const struct env *e)
{
	size_t i;

	for (i = 0; i < e->pol.n_broker && i < WARD_PROTO_MAX_LIST; i++) {
		cleanup_free char *t = ward_broker_grant_text(&e->pol.broker[i]);

		ward_proto_put_str(b, WARD_ATTR_ENT, t);
	}
}

void bk_do_hello(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	struct ward_proto_buf b;

	bk_reply_begin(&b, c, WARD_MSG_OK, m->id);
	ward_proto_put_str(&b, WARD_ATTR_NAME, e->name);
	ward_proto_put_u32(&b, WARD_ATTR_FLAGS, e->recv ? WARD_LOOKUP_F_MAILBOX : 0);
	put_env_ents(&b, e);
	bk_send_buf(c, &b, -1);
}

/* ---- the operator's requests ---- */

void bk_do_register(struct conn *c, const struct ward_proto_msg *m)
{
	cleanup_free char **ents = NULL;
	struct ward_policy pol = {0};
	ward_error_t err = NULL;
	char name[WARD_PROTO_MAX_NAME + 1];
	struct env *e;
	struct conn *ec;
	size_t i;
	int sv[2], r;

	ents = ward_xcalloc(m->n_ent + 1, sizeof(*ents));
	for (i = 0; i < m->n_ent; i++) {
		ents[i] = ward_xmalloc(m->ent[i].len + 1);
		ward_proto_strcpy(ents[i], m->ent[i].len + 1, m->ent[i]);
	}
	r = ward_broker_grants_parse(ents, m->n_ent, &pol, &err);
	for (i = 0; i < m->n_ent; i++)
		free(ents[i]);
	if (r < 0) {
		bk_reply_error(c, m->id, EINVAL, NULL, "%s", err->msg);
		ward_error_free(&err);
		return;
	}
	if (ward_proto_has(m, WARD_ATTR_NAME)) {
		ward_proto_strcpy(name, sizeof(name), m->name);
		/* NAME@HOST names a mailbox on another host, never one here. */
		if (strchr(name, '@')) {
			bk_reply_error(c, m->id, EINVAL, NULL,
				       "\"%s\": an environment's name has no '@' (NAME@HOST is a "
				       "mailbox on another host)",
				       name);
			ward_policy_free(&pol);
			return;
		}
	} else
		snprintf(name, sizeof(name), "env-%llu", (unsigned long long)B.next_serial + 1);
	e = bk_env_find(name);
	if (e) {
		bk_reply_error(
			c, m->id, EEXIST, NULL,
			"an environment named \"%s\" is already running (pid %d): choose another "
			"--name",
			name, (int)e->pid);
		ward_policy_free(&pol);
		return;
	}
	/* The environment's identity is the broker's end of this pair. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		bk_reply_error(c, m->id, errno, NULL, "socketpair: %s", strerror(errno));
		ward_policy_free(&pol);
		return;
	}
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	ec = bk_conn_new(sv[0], CONN_ENV);
	if (ec == NULL) {
		close(sv[1]);
		ward_policy_free(&pol);
		bk_reply_error(c, m->id, ENOMEM, NULL, "cannot watch the environment's connection");
		return;
	}
	e = ward_xcalloc(1, sizeof(*e));
	e->serial = ++B.next_serial;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->pid = (pid_t)m->pid;
	e->conn = ec;
	e->ctl = c;
	e->pol = pol;
	e->recv = ward_broker_allows(pol.broker, pol.n_broker, WARD_BROKER_RECV, NULL) != NULL;
	bk_ratelimit_init(&e->denials);
	ec->env = e;
	e->next = B.envs;
	B.envs = e;
	e->hnext = B.by_name[hash_name(name)];
	B.by_name[hash_name(name)] = e;
	{
		struct ward_proto_buf b;

		bk_reply_begin(&b, c, WARD_MSG_OK, m->id);
		ward_proto_put_str(&b, WARD_ATTR_NAME, e->name);
		bk_send_buf(c, &b, sv[1]);
	}
	close(sv[1]);
	{
		char list[1024] = "";
		size_t o = 0;

		for (i = 0; i < pol.n_broker && o < sizeof(list) - 1; i++) {
			cleanup_free char *g = ward_broker_grant_text(&pol.broker[i]);
			cleanup_free char *t = bk_esc(g);
			int n = snprintf(list + o, sizeof(list) - o, "%s%s", o ? " " : "", t);

			if (n < 0)
				break;
			o += (size_t)n;
		}
		bk_log("environment \"%s\" (pid %d) registered: %s", e->name, (int)e->pid,
		       o ? list : "no entitlements");
	}
}

void bk_do_ps(struct conn *c, const struct ward_proto_msg *m)
{
	struct ward_proto_buf b;
	struct env *e;
	struct service *s;
	uint32_t n = 0;

	bk_ack_flush(c);
	for (e = B.envs; e; e = e->next) {
		unsigned ns = 0;

		if (!bk_env_alive(e))
			continue;
		ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_ENTRY, m->id);
		ward_proto_put_str(&b, WARD_ATTR_NAME, e->name);
		ward_proto_put_u32(&b, WARD_ATTR_PID, (uint32_t)e->pid);
		ward_proto_put_u32(&b, WARD_ATTR_FLAGS, e->recv ? WARD_LOOKUP_F_MAILBOX : 0);
		ward_proto_put_u32(&b, WARD_ATTR_DEPTH, e->depth);
		ward_proto_put_u32(&b, WARD_ATTR_LIMIT, B.depth_max);
		put_env_ents(&b, e);
		for (s = B.services; s && ns < WARD_PROTO_MAX_LIST; s = s->next)
			if (s->env == e && !s->chan->dead) {
				ward_proto_put_str(&b, WARD_ATTR_SERVICE, s->name);
				ns++;
			}
		bk_send_buf(c, &b, -1);
		n++;
	}
	ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_OK, m->id);
	ward_proto_put_u32(&b, WARD_ATTR_COUNT, n);
	{
		cleanup_free char *remote = bk_link_ps_text();

		/* A TEXT holds at most WARD_PROTO_MAX_TEXT bytes. */
		if (remote) {
			if (strlen(remote) > WARD_PROTO_MAX_TEXT)
				remote[WARD_PROTO_MAX_TEXT] = '\0';
			ward_proto_put_str(&b, WARD_ATTR_TEXT, remote);
		}
	}
	bk_send_buf(c, &b, -1);
}

static void env_unhash(struct env *e)
{
	struct env **pp;

	for (pp = &B.by_name[hash_name(e->name)]; *pp; pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	for (pp = &B.envs; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
}

static void undelivered(struct qmsg *q, const char *mailbox, const char *why)
{
	struct ward_proto_buf b;

	if (q->remote) {
		bk_link_undelivered(q->from, q->rid, mailbox, why);
		return;
	}
	if (q->sender == NULL || q->sender->dead || q->sender->kind != CONN_ENV)
		return;
	ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_UNDELIVERED, q->send_id);
	ward_proto_put_str(&b, WARD_ATTR_NAME, mailbox);
	ward_proto_put_u32(&b, WARD_ATTR_CODE, EPIPE);
	ward_proto_put_str(&b, WARD_ATTR_TEXT, why);
	bk_send_buf(q->sender, &b, -1);
}

/* The environment's connection is gone: its mailbox closes, and whoever
 * still had a message in it, or was waiting for room, is told. */
void bk_env_remove(struct env *e, const char *reason)
{
	struct service *s;
	char why[256];
	unsigned lost = 0;

	snprintf(why, sizeof(why),
		 "mailbox \"%s\" closed: its environment exited before receiving the message",
		 e->name);
	/* Its services end with it.  Their channels are reaped after e is
	 * freed below: nothing may point at e any more. */
	for (s = B.services; s; s = s->next)
		if (s->env == e) {
			s->env = NULL;
			s->chan->env = NULL;
			bk_conn_kill(s->chan, "its provider left");
		}
	while (e->q) {
		struct qmsg *q = e->q;

		e->q = q->next;
		undelivered(q, e->name, why);
		free(q);
		lost++;
	}
	while (e->w) {
		struct parked *p = e->w;

		e->w = p->next;
		if (!p->conn->dead) {
			p->conn->n_parked--;
			p->conn->parked_bytes -= p->m->len;
			bk_reply_error(p->conn, p->m->send_id, EPIPE, NULL, "%s", why);
			bk_ack_flush(p->conn);
		}
		free(p->m);
		free(p);
		lost++;
	}
	env_unhash(e);
	bk_deny_summary(e);
	bk_log("environment \"%s\" (pid %d) left%s%s%s", e->name, (int)e->pid, reason ? ": " : "",
	       reason ? reason : "",
	       lost ? "; its senders were told that "
		      "their messages were not "
		      "delivered"
		    : "");
	bk_ctl_release(e->ctl);
	ward_policy_free(&e->pol);
	free(e);
}

/* A connection is gone: forget every reference to it. */
