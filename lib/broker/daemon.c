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
 * Every socket is non-blocking.  Small packets (messages, acknowledgements)
 * made while one round of the loop handles its events are collected in the
 * transmit batch and written when the round ends, with one sendmmsg per
 * connection: a system call per message was most of the broker's cost.
 * The batch holds at most TX_MAX packets and TX_BYTES bytes for all
 * connections together, and is written early when it is full.  What cannot
 * be written at once waits in a per-connection queue, and while it is not
 * empty the broker reads no more requests from that connection; a
 * connection that lets the queue grow past MAX_OUT packets is closed.
 * Memory is bounded by the mailbox limits, the parked sends per connection,
 * the transmit batch and those queues.
 *
 * A malformed or oversized message closes the connection it came on, with
 * the reason in the log; nothing else is affected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../rootless.h"
#include "../util.h"
#include "internal.h"

#define BATCHES_PER_EV 4u	    /* then the other connections get their turn */
#define MAX_OUT	       8192u	    /* packets waiting to be written to one connection */
#define MAX_OUT_BYTES  (16u << 20)  /* and their bytes */
#define TX_BYTES       (512u << 10) /* the transmit batch's bytes */
#define TX_SMALL       (16u << 10)  /* larger packets are written at once */

struct broker_state B;

/* ---- connections and output ---- */

static void conn_set_events(struct conn *c)
{
	struct epoll_event ev = {0};
	uint32_t want;

	if (c->dead)
		return;
	/* While replies wait to be written, read no more requests (and none
	 * at all from a control connection whose peer has shut it down). */
	want = c->n_out ? EPOLLOUT : c->closing ? 0 : EPOLLIN;
	if (want == c->events)
		return;
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(B.ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

struct conn *bk_conn_new(int fd, enum conn_kind kind)
{
	struct conn *c = ward_xcalloc(1, sizeof(*c));
	struct epoll_event ev = {0};

	c->fd = fd;
	c->kind = kind;
	c->tx_head = c->tx_tail = -1;
	c->events = EPOLLIN;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(B.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		bk_log("epoll_ctl: %s", strerror(errno));
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

void bk_conn_kill(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->dead)
		return;
	c->dead = true;
	/* What waits in the transmit batch for it is dropped with its queue. */
	for (int i = c->tx_head; i >= 0; i = B.tx[i].next)
		B.tx[i].c = NULL;
	c->tx_head = c->tx_tail = -1;
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

static void out_append(struct conn *c, const void *buf, size_t len, int fd, struct conn *charge)
{
	struct outpkt *o;
	int dup = -1;

	if (fd >= 0) {
		dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (dup < 0) {
			/* Never the packet without its descriptor. */
			bk_conn_kill(c, "the broker has no descriptor left for it: %s",
				     strerror(errno));
			return;
		}
	}
	o = ward_xmalloc(sizeof(*o) + len);
	o->next = NULL;
	o->len = len;
	o->fd = dup;
	o->charge = charge;
	if (charge)
		charge->pending++;
	memcpy(o->data, buf, len);
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out = o;
	c->out_tail = o;
	c->n_out++;
	c->out_bytes += len;
	if (c->n_out > MAX_OUT || c->out_bytes > MAX_OUT_BYTES)
		bk_conn_kill(c,
			     "it does not read what the broker sends (%u messages, %zu bytes "
			     "waiting)",
			     c->n_out, c->out_bytes);
	conn_set_events(c);
}

/* Write c's packets of the transmit batch, in order, with one sendmmsg;
 * what the socket does not take goes to its queue. */
static void tx_flush_conn(struct conn *c)
{
	unsigned n = 0, k;
	int i, r;

	for (i = c->tx_head; i >= 0; i = B.tx[i].next) {
		B.tx_iov[n].iov_base = B.txbuf + B.tx[i].off;
		B.tx_iov[n].iov_len = B.tx[i].len;
		memset(&B.tx_mm[n].msg_hdr, 0, sizeof(B.tx_mm[n].msg_hdr));
		B.tx_mm[n].msg_hdr.msg_iov = &B.tx_iov[n];
		B.tx_mm[n].msg_hdr.msg_iovlen = 1;
		n++;
	}
	c->tx_head = c->tx_tail = -1;
	if (n == 0)
		return;
	do
		r = sendmmsg(c->fd, B.tx_mm, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno != EAGAIN && errno != ENOBUFS) {
			bk_conn_kill(c, NULL);
			return;
		}
		r = 0;
	}
	for (k = (unsigned)r; k < n && !c->dead; k++)
		out_append(c, B.tx_iov[k].iov_base, B.tx_iov[k].iov_len, -1, NULL);
}

void bk_tx_flush(void)
{
	unsigned i;

	for (i = 0; i < B.n_tx; i++) {
		struct conn *c = B.tx[i].c;

		/* A connection's first packet in the batch starts its run. */
		if (c && c->tx_head == (int)i)
			tx_flush_conn(c);
	}
	B.n_tx = 0;
	B.tx_used = 0;
}

/* Write a packet to c now, in this round's transmit batch, or queue it.
 * fd stays the caller's.  merge: a MESSAGE for a batch receiver, which
 * joins the record of the one before it when that is the batch's last. */
static void out_push(struct conn *c, const void *buf, size_t len, int fd, struct conn *charge,
		     bool merge)
{
	if (c->dead)
		return;
	if (c->n_out == 0 && fd < 0 && charge == NULL && len <= TX_SMALL && B.txbuf) {
		struct bk_tx *t;

		if (B.tx_used + len > TX_BYTES)
			bk_tx_flush();
		if (merge && c->tx_tail >= 0 && c->tx_tail == (int)B.n_tx - 1 &&
		    B.tx[c->tx_tail].merge && B.tx[c->tx_tail].len + len <= TX_SMALL) {
			/* The record ends where the batch's bytes end: extend it. */
			memcpy(B.txbuf + B.tx_used, buf, len);
			B.tx_used += len;
			B.tx[c->tx_tail].len += (uint32_t)len;
			return;
		}
		if (B.n_tx == TX_MAX)
			bk_tx_flush();
		if (c->dead || c->n_out) {
			out_push(c, buf, len, fd, charge, false);
			return;
		}
		t = &B.tx[B.n_tx];
		t->c = c;
		t->off = (uint32_t)B.tx_used;
		t->len = (uint32_t)len;
		t->next = -1;
		t->merge = merge;
		memcpy(B.txbuf + B.tx_used, buf, len);
		B.tx_used += len;
		if (c->tx_tail >= 0)
			B.tx[c->tx_tail].next = (int)B.n_tx;
		else
			c->tx_head = (int)B.n_tx;
		c->tx_tail = (int)B.n_tx;
		B.n_tx++;
		return;
	}
	/* In order: what waits in the batch goes first. */
	if (c->tx_head >= 0)
		tx_flush_conn(c);
	if (c->dead)
		return;
	if (c->n_out == 0) {
		if (ward_wire_send(c->fd, buf, len, fd, MSG_DONTWAIT) >= 0)
			return;
		if (errno != EAGAIN && errno != ENOBUFS) {
			bk_conn_kill(c, NULL);
			return;
		}
	}
	out_append(c, buf, len, fd, charge);
}

static void outpkt_free(struct outpkt *o)
{
	if (o->charge)
		o->charge->pending--;
	if (o->fd >= 0)
		close(o->fd);
	free(o);
}

static void out_flush(struct conn *c)
{
	while (c->out && !c->dead) {
		struct outpkt *o = c->out;

		if (ward_wire_send(c->fd, o->data, o->len, o->fd, MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == ENOBUFS)
				break;
			bk_conn_kill(c, NULL);
			return;
		}
		c->out = o->next;
		if (c->out == NULL)
			c->out_tail = NULL;
		c->n_out--;
		c->out_bytes -= o->len;
		outpkt_free(o);
	}
	conn_set_events(c);
	/* Written: a receiver gets what waits in its mailbox. */
	if (c->kind == CONN_ENV && c->env && c->n_out == 0)
		bk_pump(c->env);
	if (c->closing)
		bk_ctl_release(c);
}

/* A control connection whose peer (ward run) has shut down its side stays
 * open until the environments it registered are gone and what is queued
 * for it is written: the last notices about them (how many refusals were
 * not shown) still reach it. */
static bool ctl_has_envs(const struct conn *c)
{
	const struct env *e;

	/* Still registered, even if its connection is being closed. */
	for (e = B.envs; e; e = e->next)
		if (e->ctl == c)
			return true;
	return false;
}

void bk_ctl_release(struct conn *c)
{
	if (c && c->closing && !c->dead && c->n_out == 0 && !ctl_has_envs(c))
		bk_conn_kill(c, NULL);
}

void bk_send_buf_charged(struct conn *c, struct ward_proto_buf *b, int fd, struct conn *charge)
{
	long n = ward_proto_end(b);

	if (n < 0) {
		bk_log("internal error: a reply did not fit");
		return;
	}
	out_push(c, b->p, (size_t)n, fd, charge, false);
}

void bk_send_msg(struct conn *c, struct ward_proto_buf *b, bool merge)
{
	long n = ward_proto_end(b);

	if (n < 0) {
		bk_log("internal error: a message did not fit");
		return;
	}
	out_push(c, b->p, (size_t)n, -1, NULL, merge);
}

void bk_send_buf(struct conn *c, struct ward_proto_buf *b, int fd)
{
	bk_send_buf_charged(c, b, fd, NULL);
}

void bk_ack_flush(struct conn *c)
{
	struct ward_proto_buf b;

	if (c->ack_count == 0)
		return;
	ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_OK, c->ack_id);
	ward_proto_put_u32(&b, WARD_ATTR_COUNT, c->ack_count);
	c->ack_count = 0;
	bk_send_buf(c, &b, -1);
}

/* Start a reply on c: acknowledgements owed come first, in order. */
void bk_reply_begin(struct ward_proto_buf *b, struct conn *c, uint16_t type, uint32_t id)
{
	bk_ack_flush(c);
	ward_proto_begin(b, B.obuf, WARD_PROTO_MAX_PACKET, type, id);
}

void bk_reply_ok(struct conn *c, uint32_t id, int fd)
{
	struct ward_proto_buf b;

	bk_reply_begin(&b, c, WARD_MSG_OK, id);
	bk_send_buf(c, &b, fd);
}

void bk_reply_error(struct conn *c, uint32_t id, int code, const char *missing, const char *fmt,
		    ...)
{
	struct ward_proto_buf b;
	char text[WARD_PROTO_MAX_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	bk_reply_begin(&b, c, WARD_MSG_ERROR, id);
	ward_proto_put_u32(&b, WARD_ATTR_CODE, (uint32_t)code);
	ward_proto_put_str(&b, WARD_ATTR_TEXT, text);
	if (missing && *missing)
		ward_proto_put_str(&b, WARD_ATTR_ENT, missing);
	bk_send_buf(c, &b, -1);
}

/* A refused request: an error naming the missing entitlement, a line in
 * the log, and a notice to the supervisor that registered the environment
 * (ward run prints it as it prints a denied system call). */
void bk_deny(struct conn *c, struct env *e, uint32_t id, const char *what, const char *missing)
{
	cleanup_free char *what_esc = NULL, *missing_esc = NULL;
	struct ward_proto_buf b;

	/* The environment always gets its answer ... */
	bk_reply_error(c, id, EACCES, missing, "%s refused: \"%s\" lacks the entitlement %s", what,
		       e->name, missing);
	/* ... the log and its ward run only so many: an environment with no
	 * entitlement at all could otherwise fill both (log.c). */
	if (!bk_ratelimit_take(&e->denials))
		return;
	bk_deny_summary(e);
	what_esc = bk_esc(what);
	missing_esc = bk_esc(missing);
	bk_log("denied %s by \"%s\" (pid %d) — grant %s to allow", what_esc, e->name, (int)e->pid,
	       missing_esc);
	/* ward run escapes what it prints (control.c). */
	if (e->ctl && !e->ctl->dead) {
		ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_DENIED, 0);
		ward_proto_put_str(&b, WARD_ATTR_NAME, e->name);
		ward_proto_put_str(&b, WARD_ATTR_TEXT, what);
		ward_proto_put_str(&b, WARD_ATTR_ENT, missing);
		bk_send_buf(e->ctl, &b, -1);
	}
}

void bk_deny_summary(struct env *e)
{
	struct ward_proto_buf b;
	uint32_t n = e->denials.suppressed;

	if (n == 0)
		return;
	e->denials.suppressed = 0;
	bk_log("%u more refusals of \"%s\" (pid %d) were not logged (at most %u at once, then %u a "
	       "second)",
	       n, e->name, (int)e->pid, WARD_BROKER_DENY_BURST, WARD_BROKER_DENY_RATE);
	if (e->ctl && !e->ctl->dead) {
		ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_DENIED, 0);
		ward_proto_put_str(&b, WARD_ATTR_NAME, e->name);
		ward_proto_put_str(&b, WARD_ATTR_TEXT, "");
		ward_proto_put_u32(&b, WARD_ATTR_COUNT, n);
		bk_send_buf(e->ctl, &b, -1);
	}
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
		bk_deny(c, e, m->id, what, miss);
		return;
	}
	if (fd < 0) {
		bk_reply_error(c, m->id, -fd, NULL, "%s", why);
		return;
	}
	bk_reply_ok(c, m->id, fd);
	close(fd);
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
		bk_do_hello(c, e, m);
		break;
	case WARD_MSG_SEND:
		bk_do_send(c, e, m);
		break;
	case WARD_MSG_RECV:
		bk_do_recv(c, e, m);
		break;
	case WARD_MSG_LOOKUP:
		bk_do_lookup(c, e, m);
		break;
	case WARD_MSG_CONNECT:
		bk_do_connect(c, e, m);
		break;
	case WARD_MSG_PROVIDE:
		bk_do_provide(c, e, m);
		break;
	case WARD_MSG_OPEN:
		do_open(c, e, m);
		break;
	case WARD_MSG_ATTEST:
		bk_do_attest(c, e, m);
		break;
	case WARD_MSG_REGISTER:
	case WARD_MSG_PS:
		bk_reply_error(c, m->id, EPERM, NULL,
			       "only the operator (ward on the host) may register environments or "
			       "list them");
		break;
	default:
		bk_conn_kill(c, "it sent a message only the broker sends (type %u)", m->type);
		break;
	}
}

static void handle_control(struct conn *c, const struct ward_proto_msg *m)
{
	switch (m->type) {
	case WARD_MSG_REGISTER:
		bk_do_register(c, m);
		break;
	case WARD_MSG_PS:
		bk_do_ps(c, m);
		break;
	case WARD_MSG_SEND:
		bk_do_send(c, NULL, m);
		break;
	case WARD_MSG_LOOKUP:
		bk_do_lookup(c, NULL, m);
		break;
	default:
		if (from_broker_only(m->type))
			bk_conn_kill(c, "it sent a message only the broker sends (type %u)",
				     m->type);
		else
			bk_reply_error(c, m->id, EOPNOTSUPP, NULL,
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
		snprintf(buf, size, "the service \"%s\" of \"%s\"", c->svc->name, c->svc->provider);
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

/* Is a record of several packets acceptable as a whole?  Only SEND
 * requests, WARD_PROTO_MAX_RECORD at most, each whole and well formed.
 * NULL when it is, else why not. */
static const char *record_refusal(const uint8_t *p, size_t n, unsigned *count)
{
	static char why_buf[160];
	struct ward_proto_msg m;
	const char *why;
	size_t off = 0, len;

	*count = 0;
	while (off < n) {
		len = ward_proto_packet_len(p + off, n - off);
		if (len == 0)
			return "malformed record: a packet's length runs past its end";
		if (ward_proto_decode(p + off, len, &m, &why) < 0) {
			snprintf(why_buf, sizeof(why_buf), "malformed message in a record: %s",
				 why);
			return why_buf;
		}
		if (m.type != WARD_MSG_SEND)
			return "a record holds something other than SEND requests";
		if (++*count > WARD_PROTO_MAX_RECORD) {
			snprintf(why_buf, sizeof(why_buf), "a record of more than %u requests",
				 WARD_PROTO_MAX_RECORD);
			return why_buf;
		}
		off += len;
	}
	return NULL;
}

/* One packet from an environment, or a record of pipelined SENDs back to
 * back (a client's ward_set_send_batch), each handled as if it had come
 * alone.  A record is checked whole first: one the broker refuses closes
 * the connection before any of it is acted on.  Returns the requests
 * handled. */
static unsigned read_record(struct conn *c, const uint8_t *p, size_t n)
{
	struct ward_proto_msg m;
	const char *why;
	size_t len = ward_proto_packet_len(p, n), off = 0;
	unsigned k;

	if (len == n || len == 0) {
		/* One packet (or a malformed one: the decoder says why). */
		if (ward_proto_decode(p, n, &m, &why) < 0) {
			bk_conn_kill(c, "malformed message: %s", why);
			return 0;
		}
		handle_env(c, &m);
		return 1;
	}
	why = record_refusal(p, n, &k);
	if (why) {
		bk_conn_kill(c, "%s", why);
		return 0;
	}
	c->records = true;
	while (off < n && !c->dead) {
		len = ward_proto_packet_len(p + off, n - off);
		ward_proto_decode(p + off, len, &m, &why);
		handle_env(c, &m);
		off += len;
	}
	return k;
}

/* Environment connections: batches of requests with one recvmmsg.  No
 * control buffer is given, so a descriptor sent to the broker is dropped by
 * the kernel and flagged with MSG_CTRUNC. */
static void read_env(struct conn *c)
{
	const unsigned budget = BATCH * BATCHES_PER_EV; /* requests per event */
	unsigned round, i, handled = 0;

	for (round = 0; round < BATCHES_PER_EV && handled < budget && !c->dead && c->n_out == 0;
	     round++) {
		/* A connection that writes records may have up to
		 * WARD_PROTO_MAX_RECORD requests in each packet: read no more
		 * packets than the rest of the budget surely holds. */
		unsigned want = BATCH;
		int n;

		if (c->records) {
			want = (budget - handled) / WARD_PROTO_MAX_RECORD;
			if (want == 0)
				break;
			if (want > BATCH)
				want = BATCH;
		}
		for (i = 0; i < want; i++) {
			memset(&B.mm[i].msg_hdr, 0, sizeof(B.mm[i].msg_hdr));
			B.mm[i].msg_hdr.msg_iov = &B.iov[i];
			B.mm[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(c->fd, B.mm, want, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			bk_conn_kill(c, NULL);
			break;
		}
		for (i = 0; i < (unsigned)n && !c->dead; i++) {
			unsigned fl = (unsigned)B.mm[i].msg_hdr.msg_flags;

			if (B.mm[i].msg_len == 0) {
				bk_conn_kill(c, NULL);
				break;
			}
			if (fl & MSG_TRUNC) {
				bk_conn_kill(c, "oversized message (more than %u bytes)",
					     WARD_PROTO_MAX_REQUEST);
				break;
			}
			if (fl & MSG_CTRUNC) {
				bk_conn_kill(c, "it sent descriptors to the broker");
				break;
			}
			handled += read_record(c, B.iov[i].iov_base, B.mm[i].msg_len);
		}
		bk_ack_flush(c);
		if ((unsigned)n < want)
			break;
	}
}

static void read_control(struct conn *c)
{
	struct ward_proto_msg m;
	const char *why;
	bool trunc;
	ssize_t n;
	int fd = -1;

	n = ward_wire_recv(c->fd, B.cbuf, WARD_PROTO_MAX_PACKET + 1, &fd, &trunc, MSG_DONTWAIT);
	if (fd >= 0) {
		/* Never kept: a descriptor sent to the broker is refused. */
		close(fd);
		bk_conn_kill(c, "it sent descriptors to the broker");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			bk_conn_kill(c, NULL);
		return;
	}
	if (n == 0) {
		c->closing = true;
		conn_set_events(c);
		bk_ctl_release(c);
		return;
	}
	if (trunc) {
		bk_conn_kill(c, "oversized message or descriptors sent to the broker");
		return;
	}
	if (ward_proto_decode(B.cbuf, (size_t)n, &m, &why) < 0) {
		bk_conn_kill(c, "malformed message: %s", why);
		return;
	}
	handle_control(c, &m);
	bk_ack_flush(c);
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
			bk_log("refused a control connection from uid %d: only uid %d may operate "
			       "this broker",
			       (int)cred.uid, (int)B.uid);
			close(fd);
			continue;
		}
		/* Rootless (docs/rootless.md), the user's sandboxes run as the
		 * user's uid: one that reached the socket (a grant of the
		 * home) is told apart by its user namespace, which is never
		 * the user's. */
		if (B.uid != 0 && cred.uid == B.uid && !ward_peer_in_my_userns(cred.pid)) {
			bk_log("refused a control connection from pid %d (uid %d): it is not in "
			       "this broker's user namespace (a sandbox of the user's, not the "
			       "user's own ward)",
			       (int)cred.pid, (int)cred.uid);
			close(fd);
			continue;
		}
		c = bk_conn_new(fd, CONN_CONTROL);
		if (c)
			c->peer_pid = cred.pid;
	}
}

/* ---- teardown ---- */

static void conn_forget(struct conn *c)
{
	struct env *e;
	struct conn *o;

	for (o = B.conns; o; o = o->next)
		for (struct outpkt *p = o->out; p; p = p->next)
			if (p->charge == c)
				p->charge = NULL;
	bk_link_conn_gone(c);
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
			bk_env_remove(c->env, c->reason);
			c->env = NULL;
		} else if (c->kind == CONN_PROVIDE) {
			struct service **pp;

			for (pp = &B.services; *pp; pp = &(*pp)->next)
				if (*pp == c->svc) {
					*pp = c->svc->next;
					break;
				}
			bk_log("%s ended%s%s", label, c->reason ? ": " : "",
			       c->reason ? c->reason : "");
			free(c->svc);
		} else if (c->reason) {
			bk_log("closed the %s: %s", label, c->reason);
		}
		conn_forget(c);
		while (c->out) {
			struct outpkt *o = c->out;

			c->out = o->next;
			outpkt_free(o);
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

static void handle_event(struct conn *c, uint32_t ev)
{
	if (c->dead)
		return;
	if (c->kind == CONN_LISTEN) {
		accept_control(c->fd);
		return;
	}
	if (c->kind == CONN_LINK) {
		bk_link_event(ev);
		return;
	}
	if (c->kind == CONN_SIGNAL) {
		struct signalfd_siginfo si;

		if (read(c->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			bk_log("stopping on signal %u", si.ssi_signo);
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
			bk_conn_kill(c, "the provider wrote to its accept descriptor or closed it");
			break;
		default:
			break;
		}
	} else if (ev & (EPOLLHUP | EPOLLERR)) {
		bk_conn_kill(c, NULL);
	}
}

void bk_core_config(const struct ward_broker_options *o)
{
	memset(&B, 0, sizeof(B));
	B.ep = -1;
	bk_attest_config(o->dir);
	B.depth_max = o->queue_depth ? o->queue_depth : WARD_BROKER_DEFAULT_DEPTH;
	B.bytes_max = o->queue_bytes ? o->queue_bytes : WARD_BROKER_DEFAULT_BYTES;
	B.uid = geteuid();
}

int bk_core_start(void)
{
	unsigned i;

	B.ep = epoll_create1(EPOLL_CLOEXEC);
	if (B.ep < 0)
		return -1;
	B.rbuf = ward_xmalloc((size_t)BATCH * WARD_PROTO_MAX_REQUEST);
	for (i = 0; i < BATCH; i++) {
		B.iov[i].iov_base = B.rbuf + (size_t)i * WARD_PROTO_MAX_REQUEST;
		B.iov[i].iov_len = WARD_PROTO_MAX_REQUEST;
	}
	B.cbuf = ward_xmalloc(WARD_PROTO_MAX_PACKET + 1);
	B.obuf = ward_xmalloc(WARD_PROTO_MAX_PACKET);
	B.txbuf = ward_xmalloc(TX_BYTES);
	B.n_tx = 0;
	B.tx_used = 0;
	return 0;
}

struct conn *bk_core_adopt_control(int fd)
{
	struct conn *c = bk_conn_new(fd, CONN_CONTROL);

	if (c)
		c->peer_pid = getpid();
	return c;
}

void bk_core_step(int timeout_ms)
{
	struct epoll_event evs[64];
	int i, n = epoll_wait(B.ep, evs, (int)ARRAY_SIZE(evs), timeout_ms);

	if (n < 0) {
		if (errno != EINTR) {
			bk_log("epoll_wait: %s", strerror(errno));
			B.stop = true;
		}
		return;
	}
	for (i = 0; i < n; i++)
		handle_event(evs[i].data.ptr, evs[i].events);
	/* Written before the dead are freed (their packets were dropped), and
	 * again for what reaping them sent (notices to senders, summaries). */
	bk_tx_flush();
	reap();
	bk_tx_flush();
}

void bk_core_stop(void)
{
	/* Shutting down: environments see their descriptor close. */
	for (struct conn *c = B.conns; c; c = c->next)
		bk_conn_kill(c, NULL);
	reap();
	bk_tx_flush();
	if (B.ep >= 0)
		close(B.ep);
	B.ep = -1;
	free(B.rbuf);
	free(B.cbuf);
	free(B.obuf);
	free(B.txbuf);
	B.rbuf = B.cbuf = B.obuf = B.txbuf = NULL;
}

static void write_pid_file(const char *path)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0) {
		bk_log("cannot write %s: %s", path, strerror(errno));
		return;
	}
	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ward_write_all(fd, buf, strlen(buf)) < 0)
		bk_log("cannot write %s: %s", path, strerror(errno));
	close(fd);
}

static int serve_loop(int lfd)
{
	struct conn listen_c = {.kind = CONN_LISTEN, .fd = lfd, .tx_head = -1, .tx_tail = -1};
	struct conn sig_c = {.kind = CONN_SIGNAL, .tx_head = -1, .tx_tail = -1};
	struct epoll_event ev = {0};
	sigset_t mask;
	int sfd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || bk_core_start() < 0)
		return -1;
	sig_c.fd = sfd;
	ev.events = EPOLLIN;
	ev.data.ptr = &listen_c;
	epoll_ctl(B.ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &sig_c;
	epoll_ctl(B.ep, EPOLL_CTL_ADD, sfd, &ev);

	bk_link_start();
	while (!B.stop) {
		bk_core_step(bk_link_timeout());
		bk_link_tick();
	}
	bk_link_stop();
	bk_core_stop();
	close(sfd);
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
	bk_core_config(o);
	bk_link_config(o->remote, o->dir);

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return ward_error_set(err, ENAMETOOLONG,
				      "%s: the broker's socket path is too long for a Unix socket; "
				      "choose a shorter --state-dir",
				      sock_path);
	if (ward_mkdir_p(o->dir, 0700) < 0)
		return ward_error_sys(err, "cannot create the broker's directory %s", o->dir);
	if (ward_broker_dir_check(o->dir, err) < 0)
		return -1;
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
	/* No supplementary groups: api.open opens with the access checks of a
	 * grant's owner (open.c), and root's groups would add to them. */
	if (geteuid() == 0 && setgroups(0, NULL) < 0)
		return ward_error_sys(err, "setgroups");

	/* Not dumpable: no core file with what passed through it, and no
	 * ptrace or /proc/PID/fd, mem, environ for processes of its own uid
	 * (a rootless broker's user runs other programs too); its /proc
	 * entries belong to root.  Before anyone can know its pid (the pid
	 * file, the ready byte): the daemon forked below inherits it. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return ward_error_sys(err, "prctl(PR_SET_DUMPABLE)");
	if (!o->foreground) {
		int ready[2];
		pid_t pid;
		char c;

		/* Opened here, so that a failure is the caller's error and not
		 * a daemon that logs to whoever's terminal started it. */
		if (bk_log_open(log_path, o->log_max) < 0)
			return ward_error_sys(
				err,
				"cannot open the broker's log %s (it must be a regular "
				"file, not a link)",
				log_path);
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

			if (nul >= 0) {
				dup2(nul, 0);
				dup2(nul, 1);
				close(nul);
			}
			bk_log_to_stderr();
			if (chdir("/") < 0)
				_exit(1);
		}
		write_pid_file(pid_path);
		(void)!write(ready[1], "r", 1);
		close(ready[1]);
	} else {
		write_pid_file(pid_path);
	}
	bk_log("serving %s (pid %d; mailboxes of %u messages, %zu bytes)", sock_path, (int)getpid(),
	       B.depth_max, B.bytes_max);
	{
		/* Descriptors are what the broker holds for environments; the
		 * per-environment limits keep their number proportional to
		 * the environments, and the soft limit is raised to the hard
		 * one so that many environments fit. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (serve_loop(lfd) < 0)
		return ward_error_sys(err, "the broker's event loop");
	/* Still holding the lock: the socket and pid file are ours to remove. */
	unlink(sock_path);
	unlink(pid_path);
	bk_log("stopped");
	return 0;
}
