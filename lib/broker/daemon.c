/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The broker daemon: one epoll loop, no threads.
 *
 * Connections are of three kinds:
 *   control  accepted on the well-known socket (dir/broker.sock, mode 0600,
 *            peer uid checked): ward run registers environments there,
 *            ward ps and ward msg ask with the operator's rights;
 *   env      the broker's end of an environment's socket pair, made at
 *            registration: whatever arrives on it comes from that
 *            environment, which is how the broker knows who asks (never
 *            from a name the environment claims);
 *   provide  the broker's end of a service's accept channel.
 *
 * Every socket is non-blocking.  What cannot be written at once waits in a
 * per-connection queue, and while it is not empty the broker reads no more
 * requests from that connection; a connection that lets the queue grow past
 * MAX_OUT packets is closed.  Memory is bounded by the mailbox limits, the
 * parked sends per connection and those queues.
 *
 * A malformed or oversized message closes the connection it came on, with
 * the reason in the log; nothing else is affected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../util.h"
#include "broker.h"

#define BATCH		 32u   /* requests read with one recvmmsg */
#define BATCHES_PER_EV	 4u    /* then the other connections get their turn */
#define MAX_OUT		 8192u /* packets waiting to be written to one connection */
#define MAX_BACKLOG	 128u  /* connections waiting to be accepted by a provider */
#define MAX_PARKED	 256u  /* sends waiting for room, per connection */
#define MAX_PARKED_BYTES (1u << 20)
#define MAX_CREDITS	 1024u /* messages a receiver may have asked for ahead */
#define HASH_SIZE	 256u

struct outpkt {
	struct outpkt *next;
	int fd; /* a descriptor to pass with it, or -1 */
	size_t len;
	uint8_t data[];
};

enum conn_kind { CONN_LISTEN, CONN_SIGNAL, CONN_CONTROL, CONN_ENV, CONN_PROVIDE };

struct env;
struct service;

struct conn {
	enum conn_kind kind;
	int fd;
	struct env *env;     /* CONN_ENV: the environment; CONN_PROVIDE: the provider */
	struct service *svc; /* CONN_PROVIDE */
	struct outpkt *out, *out_tail;
	unsigned n_out;
	unsigned n_parked;
	size_t parked_bytes;
	uint32_t events;
	bool dead;
	char *reason; /* why it was closed, for the log (NULL: it hung up) */
	struct conn *prev, *next;
	struct conn *next_dead;
	/* a run of successful SENDs not acknowledged yet (one OK acks them all) */
	uint32_t ack_id, ack_count;
	pid_t peer_pid;
};

/* A queued message. */
struct qmsg {
	struct qmsg *next;
	struct conn *sender; /* told if it is never delivered; NULL once gone */
	uint32_t send_id;
	uint32_t flags; /* WARD_MSG_F_* */
	char from[WARD_PROTO_MAX_NAME + 1];
	uint32_t len;
	uint8_t data[];
};

/* A send waiting for room in a full mailbox (WARD_SEND_F_WAIT). */
struct parked {
	struct parked *next;
	struct conn *conn;
	struct qmsg *m;
};

struct env {
	struct env *next, *hnext;
	uint64_t serial;
	char name[WARD_PROTO_MAX_NAME + 1];
	pid_t pid;
	struct conn *conn; /* its broker connection */
	struct conn *ctl;  /* the registering supervisor, told about denials */
	struct ward_policy pol;
	bool recv;
	/* the mailbox */
	struct qmsg *q, *q_tail;
	unsigned depth;
	size_t bytes;
	struct parked *w, *w_tail;
	uint32_t credits, recv_id;
};

struct service {
	struct service *next;
	char name[WARD_PROTO_MAX_NAME + 1];
	struct env *env;
	struct conn *chan;
};

static struct {
	int ep;
	struct conn *conns;
	struct conn *dead;
	struct env *envs;
	struct env *by_name[HASH_SIZE];
	struct service *services;
	uint64_t next_serial;
	unsigned depth_max;
	size_t bytes_max;
	uid_t uid;
	bool stop;
	uint8_t *rbuf;
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	uint8_t *cbuf;
	uint8_t *obuf;
} B;

/* ---- log ---- */

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	char ts[32];
	struct timespec t;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &t);
	localtime_r(&t.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s ward-broker: ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* ---- names ---- */

static unsigned hash_name(const char *s)
{
	unsigned h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % HASH_SIZE;
}

static struct env *env_find(const char *name)
{
	struct env *e;

	for (e = B.by_name[hash_name(name)]; e; e = e->hnext)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static struct service *svc_find(const char *name)
{
	struct service *s;

	for (s = B.services; s; s = s->next)
		if (strcmp(s->name, name) == 0 && !s->chan->dead)
			return s;
	return NULL;
}

/* ---- connections and output ---- */

static void conn_kill(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void conn_set_events(struct conn *c)
{
	struct epoll_event ev = {0};
	uint32_t want;

	if (c->dead)
		return;
	/* While replies wait to be written, read no more requests. */
	want = c->n_out ? EPOLLOUT : EPOLLIN;
	if (want == c->events)
		return;
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(B.ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

static struct conn *conn_new(int fd, enum conn_kind kind)
{
	struct conn *c = ward_xcalloc(1, sizeof(*c));
	struct epoll_event ev = {0};

	c->fd = fd;
	c->kind = kind;
	c->events = EPOLLIN;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(B.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		logmsg("epoll_ctl: %s", strerror(errno));
		close(fd);
		free(c);
		return NULL;
	}
	c->next = B.conns;
	if (B.conns)
		B.conns->prev = c;
	B.conns = c;
	return c;
}

static void conn_kill(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->dead)
		return;
	c->dead = true;
	if (fmt) {
		char buf[512];

		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		c->reason = ward_xstrdup(buf);
	}
	/* The rest (unregistering, telling senders) happens in reap(), after
	 * the event being handled, so that nothing is freed under it. */
	c->next_dead = B.dead;
	B.dead = c;
}

static void out_append(struct conn *c, const void *buf, size_t len, int fd)
{
	struct outpkt *o = ward_xmalloc(sizeof(*o) + len);

	o->next = NULL;
	o->len = len;
	o->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
	memcpy(o->data, buf, len);
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out = o;
	c->out_tail = o;
	c->n_out++;
	if (c->n_out > MAX_OUT)
		conn_kill(c, "it does not read what the broker sends (%u messages waiting)",
			  MAX_OUT);
	conn_set_events(c);
}

/* Write a packet to c now or queue it.  fd stays the caller's. */
static void out_push(struct conn *c, const void *buf, size_t len, int fd)
{
	if (c->dead)
		return;
	if (c->n_out == 0) {
		if (ward_wire_send(c->fd, buf, len, fd, MSG_DONTWAIT) >= 0)
			return;
		if (errno != EAGAIN && errno != ENOBUFS) {
			conn_kill(c, NULL);
			return;
		}
	}
	out_append(c, buf, len, fd);
}

static void out_flush(struct conn *c)
{
	while (c->out && !c->dead) {
		struct outpkt *o = c->out;

		if (ward_wire_send(c->fd, o->data, o->len, o->fd, MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == ENOBUFS)
				break;
			conn_kill(c, NULL);
			return;
		}
		c->out = o->next;
		if (c->out == NULL)
			c->out_tail = NULL;
		c->n_out--;
		if (o->fd >= 0)
			close(o->fd);
		free(o);
	}
	conn_set_events(c);
}

static void send_buf(struct conn *c, struct ward_proto_buf *b, int fd)
{
	long n = ward_proto_end(b);

	if (n < 0) {
		logmsg("internal error: a reply did not fit");
		return;
	}
	out_push(c, b->p, (size_t)n, fd);
}

static void ack_flush(struct conn *c)
{
	struct ward_proto_buf b;

	if (c->ack_count == 0)
		return;
	ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_OK, c->ack_id);
	ward_proto_put_u32(&b, WARD_ATTR_COUNT, c->ack_count);
	c->ack_count = 0;
	send_buf(c, &b, -1);
}

/* Start a reply on c: acknowledgements owed come first, in order. */
static void reply_begin(struct ward_proto_buf *b, struct conn *c, uint16_t type, uint32_t id)
{
	ack_flush(c);
	ward_proto_begin(b, B.obuf, WARD_PROTO_MAX_PACKET, type, id);
}

static void reply_ok(struct conn *c, uint32_t id, int fd)
{
	struct ward_proto_buf b;

	reply_begin(&b, c, WARD_MSG_OK, id);
	send_buf(c, &b, fd);
}

static void reply_error(struct conn *c, uint32_t id, int code, const char *missing, const char *fmt,
			...) __attribute__((format(printf, 5, 6)));
static void reply_error(struct conn *c, uint32_t id, int code, const char *missing, const char *fmt,
			...)
{
	struct ward_proto_buf b;
	char text[WARD_PROTO_MAX_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	reply_begin(&b, c, WARD_MSG_ERROR, id);
	ward_proto_put_u32(&b, WARD_ATTR_CODE, (uint32_t)code);
	ward_proto_put_str(&b, WARD_ATTR_TEXT, text);
	if (missing && *missing)
		ward_proto_put_str(&b, WARD_ATTR_ENT, missing);
	send_buf(c, &b, -1);
}

/* A refused request: an error naming the missing entitlement, a line in
 * the log, and a notice to the supervisor that registered the environment
 * (ward run prints it as it prints a denied system call). */
static void deny(struct conn *c, struct env *e, uint32_t id, const char *what, const char *missing)
{
	struct ward_proto_buf b;

	reply_error(c, id, EACCES, missing, "%s refused: \"%s\" lacks the entitlement %s", what,
		    e->name, missing);
	logmsg("denied %s by \"%s\" (pid %d) — grant %s to allow", what, e->name, (int)e->pid,
	       missing);
	if (e->ctl && !e->ctl->dead) {
		ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_DENIED, 0);
		ward_proto_put_str(&b, WARD_ATTR_NAME, e->name);
		ward_proto_put_str(&b, WARD_ATTR_TEXT, what);
		ward_proto_put_str(&b, WARD_ATTR_ENT, missing);
		send_buf(e->ctl, &b, -1);
	}
}

/* ---- mailboxes ---- */

static bool env_alive(const struct env *e)
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
	send_buf(t->conn, &b, -1);
}

static bool has_room(const struct env *t, size_t len)
{
	return t->depth < B.depth_max && t->bytes + len <= B.bytes_max;
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

/* Deliver what the receiver asked for, then let waiting senders in. */
static void pump(struct env *t)
{
	for (;;) {
		while (t->credits && t->q) {
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
		if (t->w == NULL || !has_room(t, t->w->m->len))
			return;
		{
			struct parked *p = t->w;

			t->w = p->next;
			if (t->w == NULL)
				t->w_tail = NULL;
			enqueue(t, p->m);
			p->conn->n_parked--;
			p->conn->parked_bytes -= p->m->len;
			reply_ok(p->conn, p->m->send_id, -1);
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
	snprintf(q->from, sizeof(q->from), "%s", from ? from : "");
	q->len = m->data_len;
	if (m->data_len)
		memcpy(q->data, m->data, m->data_len);
	return q;
}

/* ---- requests ---- */

static void do_send(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	char name[WARD_PROTO_MAX_NAME + 1], what[160];
	struct env *t;

	ward_proto_strcpy(name, sizeof(name), m->name);
	if (e && !ward_broker_allows(e->pol.broker, e->pol.n_broker, WARD_BROKER_SEND, name)) {
		char miss[WARD_PROTO_MAX_NAME + 16];

		snprintf(what, sizeof(what), "send to \"%s\"", name);
		snprintf(miss, sizeof(miss), "ipc.send=%s", name);
		deny(c, e, m->id, what, miss);
		return;
	}
	t = env_find(name);
	if (!env_alive(t)) {
		reply_error(c, m->id, ENOENT, NULL,
			    "send to \"%s\": no environment of that name is "
			    "running",
			    name);
		return;
	}
	if (!t->recv) {
		reply_error(c, m->id, ENOENT, NULL,
			    "send to \"%s\": it has no mailbox (it was not granted ipc.recv)",
			    name);
		return;
	}
	if (!has_room(t, m->data_len)) {
		if (m->flags & WARD_SEND_F_WAIT) {
			struct parked *p;

			if (c->n_parked >= MAX_PARKED ||
			    c->parked_bytes + m->data_len > MAX_PARKED_BYTES) {
				reply_error(c, m->id, EAGAIN, NULL,
					    "send to \"%s\": mailbox full and %u sends already "
					    "waiting for room",
					    name, c->n_parked);
				return;
			}
			/* An acknowledged run never spans a parked send: the
			 * client matches a run to the sends just before it. */
			ack_flush(c);
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
		reply_error(c, m->id, EAGAIN, NULL,
			    "send to \"%s\": its mailbox is full (%u messages, %zu bytes waiting); "
			    "retry later or wait for room",
			    name, t->depth, t->bytes);
		return;
	}
	if (t->credits && t->q == NULL) {
		/* The receiver is waiting: straight through. */
		struct ward_proto_buf b;

		ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_MESSAGE, t->recv_id);
		if (e)
			ward_proto_put_str(&b, WARD_ATTR_FROM, e->name);
		else
			ward_proto_put_u32(&b, WARD_ATTR_FLAGS, WARD_MSG_F_HOST);
		ward_proto_put(&b, WARD_ATTR_DATA, m->data, m->data_len);
		send_buf(t->conn, &b, -1);
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
		ack_flush(c);
		c->ack_id = m->id;
		c->ack_count = 1;
	}
}

static void do_recv(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	if (!e->recv) {
		deny(c, e, m->id, "receive", "ipc.recv");
		return;
	}
	e->recv_id = m->id;
	if (m->flags & WARD_RECV_F_WAIT) {
		uint32_t n = ward_proto_has(m, WARD_ATTR_COUNT) ? m->count : 1;

		if (n == 0)
			n = 1;
		e->credits = e->credits + n > MAX_CREDITS ? MAX_CREDITS : e->credits + n;
		pump(e);
		return;
	}
	if (e->q == NULL) {
		reply_error(c, m->id, EAGAIN, NULL, "no message in the mailbox of \"%s\"", e->name);
		return;
	}
	e->credits++;
	pump(e);
}

static void do_lookup(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	char name[WARD_PROTO_MAX_NAME + 1];
	struct ward_proto_buf b;
	struct env *t;
	struct service *s;
	uint32_t flags = 0;

	ward_proto_strcpy(name, sizeof(name), m->name);
	if (e && !ward_broker_allows(e->pol.broker, e->pol.n_broker, WARD_BROKER_SEND, name) &&
	    !ward_broker_allows(e->pol.broker, e->pol.n_broker, WARD_BROKER_CONNECT, name)) {
		char what[160], miss[2 * WARD_PROTO_MAX_NAME + 40];

		snprintf(what, sizeof(what), "look up \"%s\"", name);
		snprintf(miss, sizeof(miss), "ipc.send=%s or service.connect=%s", name, name);
		deny(c, e, m->id, what, miss);
		return;
	}
	t = env_find(name);
	s = svc_find(name);
	if (env_alive(t) && t->recv)
		flags |= WARD_LOOKUP_F_MAILBOX;
	if (s)
		flags |= WARD_LOOKUP_F_SERVICE;
	if (!env_alive(t) && !s) {
		reply_error(c, m->id, ENOENT, NULL,
			    "\"%s\": no environment or service of that name", name);
		return;
	}
	reply_begin(&b, c, WARD_MSG_OK, m->id);
	ward_proto_put_str(&b, WARD_ATTR_NAME, name);
	ward_proto_put_u32(&b, WARD_ATTR_FLAGS, flags);
	if (flags & WARD_LOOKUP_F_MAILBOX) {
		ward_proto_put_u32(&b, WARD_ATTR_DEPTH, t->depth);
		ward_proto_put_u32(&b, WARD_ATTR_LIMIT, B.depth_max);
	}
	send_buf(c, &b, -1);
}

static void do_provide(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	char name[WARD_PROTO_MAX_NAME + 1];
	struct service *s;
	int sv[2];

	ward_proto_strcpy(name, sizeof(name), m->name);
	if (!ward_broker_allows(e->pol.broker, e->pol.n_broker, WARD_BROKER_PROVIDE, name)) {
		char what[160], miss[WARD_PROTO_MAX_NAME + 20];

		snprintf(what, sizeof(what), "provide the service \"%s\"", name);
		snprintf(miss, sizeof(miss), "service.provide=%s", name);
		deny(c, e, m->id, what, miss);
		return;
	}
	s = svc_find(name);
	if (s) {
		reply_error(c, m->id, EADDRINUSE, NULL,
			    "the service \"%s\" is already provided by \"%s\"", name, s->env->name);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		reply_error(c, m->id, errno, NULL, "socketpair: %s", strerror(errno));
		return;
	}
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	s = ward_xcalloc(1, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->env = e;
	s->chan = conn_new(sv[0], CONN_PROVIDE);
	if (s->chan == NULL) {
		free(s);
		close(sv[1]);
		reply_error(c, m->id, ENOMEM, NULL, "cannot watch the service channel");
		return;
	}
	s->chan->env = e;
	s->chan->svc = s;
	s->next = B.services;
	B.services = s;
	reply_ok(c, m->id, sv[1]);
	close(sv[1]);
	logmsg("\"%s\" provides the service \"%s\"", e->name, name);
}

static void do_connect(struct conn *c, struct env *e, const struct ward_proto_msg *m)
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
		deny(c, e, m->id, what, miss);
		return;
	}
	s = svc_find(name);
	if (s == NULL) {
		reply_error(c, m->id, ECONNREFUSED, NULL,
			    "no environment provides the service \"%s\"", name);
		return;
	}
	if (s->chan->n_out >= MAX_BACKLOG) {
		reply_error(c, m->id, EAGAIN, NULL,
			    "the service \"%s\" has %u connections waiting to be accepted", name,
			    MAX_BACKLOG);
		return;
	}
	/* Both sides get one end of a fresh pair: bulk traffic never passes
	 * through the broker. */
	type = (m->flags & WARD_CONNECT_F_SEQPACKET) ? SOCK_SEQPACKET : SOCK_STREAM;
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0) {
		reply_error(c, m->id, errno, NULL, "socketpair: %s", strerror(errno));
		return;
	}
	ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_CONN, m->id);
	ward_proto_put_str(&b, WARD_ATTR_FROM, e->name);
	ward_proto_put_u32(&b, WARD_ATTR_FLAGS, m->flags & WARD_CONNECT_F_SEQPACKET);
	send_buf(s->chan, &b, sv[0]);
	close(sv[0]);
	reply_ok(c, m->id, sv[1]);
	close(sv[1]);
}

static void do_open(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	char path[WARD_PROTO_MAX_PATH + 1], why[WARD_PROTO_MAX_TEXT / 2],
		miss[WARD_PROTO_MAX_PATH + 32];
	int fd;

	ward_proto_strcpy(path, sizeof(path), m->path);
	fd = ward_broker_open(e->pol.broker, e->pol.n_broker, path, m->flags, why, sizeof(why),
			      miss, sizeof(miss));
	if (fd == -EACCES && miss[0]) {
		char what[WARD_PROTO_MAX_TEXT / 2];

		snprintf(what, sizeof(what), "open %.400s%s", path,
			 (m->flags & WARD_OPEN_F_WRITE) ? " for writing" : "");
		deny(c, e, m->id, what, miss);
		return;
	}
	if (fd < 0) {
		reply_error(c, m->id, -fd, NULL, "%s", why);
		return;
	}
	reply_ok(c, m->id, fd);
	close(fd);
}

static void put_env_ents(struct ward_proto_buf *b, const struct env *e)
{
	size_t i;

	for (i = 0; i < e->pol.n_broker && i < WARD_PROTO_MAX_LIST; i++) {
		cleanup_free char *t = ward_broker_grant_text(&e->pol.broker[i]);

		ward_proto_put_str(b, WARD_ATTR_ENT, t);
	}
}

static void do_hello(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	struct ward_proto_buf b;

	reply_begin(&b, c, WARD_MSG_OK, m->id);
	ward_proto_put_str(&b, WARD_ATTR_NAME, e->name);
	ward_proto_put_u32(&b, WARD_ATTR_FLAGS, e->recv ? WARD_LOOKUP_F_MAILBOX : 0);
	put_env_ents(&b, e);
	send_buf(c, &b, -1);
}

/* ---- the operator's requests ---- */

static void do_register(struct conn *c, const struct ward_proto_msg *m)
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
		reply_error(c, m->id, EINVAL, NULL, "%s", err->msg);
		ward_error_free(&err);
		return;
	}
	if (ward_proto_has(m, WARD_ATTR_NAME))
		ward_proto_strcpy(name, sizeof(name), m->name);
	else
		snprintf(name, sizeof(name), "env-%llu", (unsigned long long)B.next_serial + 1);
	e = env_find(name);
	if (e) {
		reply_error(
			c, m->id, EEXIST, NULL,
			"an environment named \"%s\" is already running (pid %d): choose another "
			"--name",
			name, (int)e->pid);
		ward_policy_free(&pol);
		return;
	}
	/* The environment's identity is the broker's end of this pair. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		reply_error(c, m->id, errno, NULL, "socketpair: %s", strerror(errno));
		ward_policy_free(&pol);
		return;
	}
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	ec = conn_new(sv[0], CONN_ENV);
	if (ec == NULL) {
		close(sv[1]);
		ward_policy_free(&pol);
		reply_error(c, m->id, ENOMEM, NULL, "cannot watch the environment's connection");
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
	ec->env = e;
	e->next = B.envs;
	B.envs = e;
	e->hnext = B.by_name[hash_name(name)];
	B.by_name[hash_name(name)] = e;
	{
		struct ward_proto_buf b;

		reply_begin(&b, c, WARD_MSG_OK, m->id);
		ward_proto_put_str(&b, WARD_ATTR_NAME, e->name);
		send_buf(c, &b, sv[1]);
	}
	close(sv[1]);
	{
		char list[1024] = "";
		size_t o = 0;

		for (i = 0; i < pol.n_broker && o < sizeof(list) - 1; i++) {
			cleanup_free char *t = ward_broker_grant_text(&pol.broker[i]);
			int n = snprintf(list + o, sizeof(list) - o, "%s%s", o ? " " : "", t);

			if (n < 0)
				break;
			o += (size_t)n;
		}
		logmsg("environment \"%s\" (pid %d) registered: %s", e->name, (int)e->pid,
		       o ? list : "no entitlements");
	}
}

static void do_ps(struct conn *c, const struct ward_proto_msg *m)
{
	struct ward_proto_buf b;
	struct env *e;
	struct service *s;
	uint32_t n = 0;

	ack_flush(c);
	for (e = B.envs; e; e = e->next) {
		unsigned ns = 0;

		if (!env_alive(e))
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
		send_buf(c, &b, -1);
		n++;
	}
	ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_OK, m->id);
	ward_proto_put_u32(&b, WARD_ATTR_COUNT, n);
	send_buf(c, &b, -1);
}

/* ---- dispatch ---- */

static bool from_broker_only(uint16_t type)
{
	return type >= WARD_MSG_OK;
}

static void handle_env(struct conn *c, const struct ward_proto_msg *m)
{
	struct env *e = c->env;

	switch (m->type) {
	case WARD_MSG_HELLO:
		do_hello(c, e, m);
		break;
	case WARD_MSG_SEND:
		do_send(c, e, m);
		break;
	case WARD_MSG_RECV:
		do_recv(c, e, m);
		break;
	case WARD_MSG_LOOKUP:
		do_lookup(c, e, m);
		break;
	case WARD_MSG_CONNECT:
		do_connect(c, e, m);
		break;
	case WARD_MSG_PROVIDE:
		do_provide(c, e, m);
		break;
	case WARD_MSG_OPEN:
		do_open(c, e, m);
		break;
	case WARD_MSG_REGISTER:
	case WARD_MSG_PS:
		reply_error(c, m->id, EPERM, NULL,
			    "only the operator (ward on the host) may register environments or "
			    "list them");
		break;
	default:
		conn_kill(c, "it sent a message only the broker sends (type %u)", m->type);
		break;
	}
}

static void handle_control(struct conn *c, const struct ward_proto_msg *m)
{
	switch (m->type) {
	case WARD_MSG_REGISTER:
		do_register(c, m);
		break;
	case WARD_MSG_PS:
		do_ps(c, m);
		break;
	case WARD_MSG_SEND:
		do_send(c, NULL, m);
		break;
	case WARD_MSG_LOOKUP:
		do_lookup(c, NULL, m);
		break;
	default:
		if (from_broker_only(m->type))
			conn_kill(c, "it sent a message only the broker sends (type %u)", m->type);
		else
			reply_error(c, m->id, EOPNOTSUPP, NULL,
				    "this request is made by an environment, not on the control "
				    "socket");
		break;
	}
}

static const char *conn_label(const struct conn *c, char *buf, size_t size)
{
	switch (c->kind) {
	case CONN_ENV:
		snprintf(buf, size, "environment \"%s\" (pid %d)", c->env->name, (int)c->env->pid);
		break;
	case CONN_PROVIDE:
		snprintf(buf, size, "the service \"%s\" of \"%s\"", c->svc->name, c->env->name);
		break;
	case CONN_CONTROL:
		snprintf(buf, size, "control connection (pid %d)", (int)c->peer_pid);
		break;
	default:
		snprintf(buf, size, "broker socket");
		break;
	}
	return buf;
}

/* Environment connections: batches of requests with one recvmmsg.  No
 * control buffer is given, so a descriptor sent to the broker is dropped by
 * the kernel and flagged with MSG_CTRUNC. */
static void read_env(struct conn *c)
{
	unsigned round, i;

	for (round = 0; round < BATCHES_PER_EV && !c->dead && c->n_out == 0; round++) {
		int n;

		for (i = 0; i < BATCH; i++) {
			memset(&B.mm[i].msg_hdr, 0, sizeof(B.mm[i].msg_hdr));
			B.mm[i].msg_hdr.msg_iov = &B.iov[i];
			B.mm[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(c->fd, B.mm, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_kill(c, NULL);
			break;
		}
		for (i = 0; i < (unsigned)n && !c->dead; i++) {
			struct ward_proto_msg m;
			const char *why;
			unsigned fl = (unsigned)B.mm[i].msg_hdr.msg_flags;

			if (B.mm[i].msg_len == 0) {
				conn_kill(c, NULL);
				break;
			}
			if (fl & MSG_TRUNC) {
				conn_kill(c, "oversized message (more than %u bytes)",
					  WARD_PROTO_MAX_REQUEST);
				break;
			}
			if (fl & MSG_CTRUNC) {
				conn_kill(c, "it sent descriptors to the broker");
				break;
			}
			if (ward_proto_decode(B.iov[i].iov_base, B.mm[i].msg_len, &m, &why) < 0) {
				conn_kill(c, "malformed message: %s", why);
				break;
			}
			handle_env(c, &m);
		}
		ack_flush(c);
		if ((unsigned)n < BATCH)
			break;
	}
}

static void read_control(struct conn *c)
{
	struct ward_proto_msg m;
	const char *why;
	bool trunc;
	ssize_t n;

	n = ward_wire_recv(c->fd, B.cbuf, WARD_PROTO_MAX_PACKET + 1, NULL, &trunc, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_kill(c, NULL);
		return;
	}
	if (n == 0) {
		conn_kill(c, NULL);
		return;
	}
	if (trunc) {
		conn_kill(c, "oversized message or descriptors sent to the broker");
		return;
	}
	if (ward_proto_decode(B.cbuf, (size_t)n, &m, &why) < 0) {
		conn_kill(c, "malformed message: %s", why);
		return;
	}
	handle_control(c, &m);
	ack_flush(c);
}

static void accept_control(int lfd)
{
	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct conn *c;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		/* The socket's mode already keeps others out; the peer's uid is
		 * checked too, so a mistaken chmod does not open the broker. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    (cred.uid != B.uid && cred.uid != 0)) {
			logmsg("refused a control connection from uid %d: only uid %d may operate "
			       "this broker",
			       (int)cred.uid, (int)B.uid);
			close(fd);
			continue;
		}
		c = conn_new(fd, CONN_CONTROL);
		if (c)
			c->peer_pid = cred.pid;
	}
}

/* ---- teardown ---- */

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

	if (q->sender == NULL || q->sender->dead || q->sender->kind != CONN_ENV)
		return;
	ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_UNDELIVERED, q->send_id);
	ward_proto_put_str(&b, WARD_ATTR_NAME, mailbox);
	ward_proto_put_u32(&b, WARD_ATTR_CODE, EPIPE);
	ward_proto_put_str(&b, WARD_ATTR_TEXT, why);
	send_buf(q->sender, &b, -1);
}

/* The environment's connection is gone: its mailbox closes, and whoever
 * still had a message in it, or was waiting for room, is told. */
static void env_remove(struct env *e, const char *reason)
{
	struct service *s;
	char why[256];
	unsigned lost = 0;

	snprintf(why, sizeof(why),
		 "mailbox \"%s\" closed: its environment exited before receiving the message",
		 e->name);
	for (s = B.services; s; s = s->next)
		if (s->env == e)
			conn_kill(s->chan, NULL);
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
			reply_error(p->conn, p->m->send_id, EPIPE, NULL, "%s", why);
			ack_flush(p->conn);
		}
		free(p->m);
		free(p);
		lost++;
	}
	env_unhash(e);
	logmsg("environment \"%s\" (pid %d) left%s%s%s", e->name, (int)e->pid, reason ? ": " : "",
	       reason ? reason : "",
	       lost ? "; its senders were told that "
		      "their messages were not "
		      "delivered"
		    : "");
	ward_policy_free(&e->pol);
	free(e);
}

/* A connection is gone: forget every reference to it. */
static void conn_forget(struct conn *c)
{
	struct env *e;

	for (e = B.envs; e; e = e->next) {
		struct qmsg *q;
		struct parked **pp;

		if (e->ctl == c)
			e->ctl = NULL;
		for (q = e->q; q; q = q->next)
			if (q->sender == c)
				q->sender = NULL;
		for (pp = &e->w; *pp;) {
			struct parked *p = *pp;

			if (p->conn == c) {
				*pp = p->next;
				free(p->m);
				free(p);
			} else {
				pp = &p->next;
			}
		}
		e->w_tail = NULL;
		for (struct parked *p = e->w; p; p = p->next)
			e->w_tail = p;
	}
}

static void reap(void)
{
	while (B.dead) {
		struct conn *c = B.dead;
		char label[160];

		B.dead = c->next_dead;
		conn_label(c, label, sizeof(label));
		epoll_ctl(B.ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		if (c->kind == CONN_ENV) {
			env_remove(c->env, c->reason);
		} else if (c->kind == CONN_PROVIDE) {
			struct service **pp;

			for (pp = &B.services; *pp; pp = &(*pp)->next)
				if (*pp == c->svc) {
					*pp = c->svc->next;
					break;
				}
			logmsg("%s ended%s%s", label, c->reason ? ": " : "",
			       c->reason ? c->reason : "");
			free(c->svc);
		} else if (c->reason) {
			logmsg("closed the %s: %s", label, c->reason);
		}
		conn_forget(c);
		while (c->out) {
			struct outpkt *o = c->out;

			c->out = o->next;
			if (o->fd >= 0)
				close(o->fd);
			free(o);
		}
		if (c->prev)
			c->prev->next = c->next;
		else
			B.conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		free(c->reason);
		free(c);
	}
}

/* ---- the loop ---- */

static void handle_event(struct conn *c, uint32_t ev, int lfd, int sfd)
{
	if (c->dead)
		return;
	if (c->kind == CONN_LISTEN) {
		accept_control(lfd);
		return;
	}
	if (c->kind == CONN_SIGNAL) {
		struct signalfd_siginfo si;

		if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			logmsg("stopping on signal %u", si.ssi_signo);
			B.stop = true;
		}
		return;
	}
	if (ev & EPOLLOUT)
		out_flush(c);
	if (c->dead)
		return;
	if (ev & EPOLLIN) {
		switch (c->kind) {
		case CONN_ENV:
			read_env(c);
			break;
		case CONN_CONTROL:
			read_control(c);
			break;
		case CONN_PROVIDE:
			/* The provider only receives on this descriptor. */
			conn_kill(c, "the provider wrote to its accept descriptor or closed it");
			break;
		default:
			break;
		}
	} else if (ev & (EPOLLHUP | EPOLLERR)) {
		conn_kill(c, NULL);
	}
}

static void write_pid_file(const char *path)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0) {
		logmsg("cannot write %s: %s", path, strerror(errno));
		return;
	}
	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ward_write_all(fd, buf, strlen(buf)) < 0)
		logmsg("cannot write %s: %s", path, strerror(errno));
	close(fd);
}

static int serve_loop(int lfd)
{
	struct conn listen_c = {.kind = CONN_LISTEN, .fd = lfd};
	struct conn sig_c = {.kind = CONN_SIGNAL};
	struct epoll_event ev = {0}, evs[64];
	sigset_t mask;
	int sfd;
	unsigned i;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	B.ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || B.ep < 0)
		return -1;
	sig_c.fd = sfd;
	ev.events = EPOLLIN;
	ev.data.ptr = &listen_c;
	epoll_ctl(B.ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &sig_c;
	epoll_ctl(B.ep, EPOLL_CTL_ADD, sfd, &ev);

	B.rbuf = ward_xmalloc((size_t)BATCH * WARD_PROTO_MAX_REQUEST);
	for (i = 0; i < BATCH; i++) {
		B.iov[i].iov_base = B.rbuf + (size_t)i * WARD_PROTO_MAX_REQUEST;
		B.iov[i].iov_len = WARD_PROTO_MAX_REQUEST;
	}
	B.cbuf = ward_xmalloc(WARD_PROTO_MAX_PACKET + 1);
	B.obuf = ward_xmalloc(WARD_PROTO_MAX_PACKET);

	while (!B.stop) {
		int n = epoll_wait(B.ep, evs, (int)ARRAY_SIZE(evs), -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			logmsg("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < (unsigned)n; i++)
			handle_event(evs[i].data.ptr, evs[i].events, lfd, sfd);
		reap();
	}
	/* Shutting down: environments see their descriptor close. */
	for (struct conn *c = B.conns; c; c = c->next)
		conn_kill(c, NULL);
	reap();
	close(sfd);
	close(B.ep);
	free(B.rbuf);
	free(B.cbuf);
	free(B.obuf);
	return 0;
}

int ward_broker_serve(const struct ward_broker_options *o, bool *detached, bool *already,
		      ward_error_t *err)
{
	cleanup_free char *lock_path = ward_xasprintf("%s/" WARD_BROKER_LOCK, o->dir);
	cleanup_free char *sock_path = ward_xasprintf("%s/" WARD_BROKER_SOCK, o->dir);
	cleanup_free char *pid_path = ward_xasprintf("%s/" WARD_BROKER_PID, o->dir);
	cleanup_free char *log_path = ward_xasprintf("%s/" WARD_BROKER_LOG, o->dir);
	cleanup_close int lock = -1;
	cleanup_close int lfd = -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int r;

	*detached = *already = false;
	memset(&B, 0, sizeof(B));
	B.depth_max = o->queue_depth ? o->queue_depth : WARD_BROKER_DEFAULT_DEPTH;
	B.bytes_max = o->queue_bytes ? o->queue_bytes : WARD_BROKER_DEFAULT_BYTES;
	B.uid = geteuid();

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return ward_error_set(err, ENAMETOOLONG,
				      "%s: the broker's socket path is too long for a Unix socket; "
				      "choose a shorter --state-dir",
				      sock_path);
	if (ward_mkdir_p(o->dir, 0755) < 0)
		return ward_error_sys(err, "cannot create the broker's directory %s", o->dir);
	/* One broker per directory: the lock says who serves.  The socket may
	 * be left over from a broker that was killed; only the lock holder
	 * replaces it. */
	lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock < 0)
		return ward_error_sys(err, "cannot open %s", lock_path);
	if (flock(lock, LOCK_EX | LOCK_NB) < 0) {
		cleanup_free char *pid = NULL;
		size_t len;

		if (errno != EWOULDBLOCK)
			return ward_error_sys(err, "cannot lock %s", lock_path);
		if (o->on_demand) {
			*already = true;
			return 0;
		}
		if (ward_read_file(pid_path, &pid, &len) == 0)
			pid[strcspn(pid, "\n")] = '\0';
		return ward_error_set(err, EALREADY, "a broker already serves %s (pid %s)", o->dir,
				      pid ? pid : "unknown");
	}
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return ward_error_sys(err, "socket");
	if (lstat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(sock_path);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	old = umask(0077);
	r = bind(lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return ward_error_sys(err, "cannot bind the broker's socket %s", sock_path);
	if (listen(lfd, SOMAXCONN) < 0)
		return ward_error_sys(err, "listen on %s", sock_path);

	if (!o->foreground) {
		int ready[2];
		pid_t pid;
		char c;

		if (pipe2(ready, O_CLOEXEC) < 0)
			return ward_error_sys(err, "pipe");
		pid = fork();
		if (pid < 0) {
			close(ready[0]);
			close(ready[1]);
			return ward_error_sys(err, "fork");
		}
		if (pid > 0) {
			int st2;

			/* The socket listens already; wait until the daemon has
			 * written its pid file, so whoever started it can find it. */
			close(ready[1]);
			while (waitpid(pid, &st2, 0) < 0 && errno == EINTR)
				;
			r = (int)read(ready[0], &c, 1);
			close(ready[0]);
			if (r != 1)
				return ward_error_set(err, EIO, "the broker did not start (see %s)",
						      log_path);
			*detached = true;
			return 0;
		}
		/* A session of its own, and a second fork so that it is no
		 * session leader and is adopted by init: it outlives ward run. */
		close(ready[0]);
		setsid();
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 1 : 0);
		{
			int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
			int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

			if (nul >= 0) {
				dup2(nul, 0);
				dup2(nul, 1);
				close(nul);
			}
			if (logfd >= 0) {
				dup2(logfd, 2);
				close(logfd);
			}
			if (chdir("/") < 0)
				_exit(1);
		}
		write_pid_file(pid_path);
		(void)!write(ready[1], "r", 1);
		close(ready[1]);
	} else {
		write_pid_file(pid_path);
	}
	logmsg("serving %s (pid %d; mailboxes of %u messages, %zu bytes)", sock_path, (int)getpid(),
	       B.depth_max, B.bytes_max);
	if (serve_loop(lfd) < 0)
		return ward_error_sys(err, "the broker's event loop");
	/* Still holding the lock: the socket and pid file are ours to remove. */
	unlink(sock_path);
	unlink(pid_path);
	logmsg("stopped");
	return 0;
}
