/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libward-client (ward/client.h): requests to the broker over the
 * environment's one descriptor, in the protocol of lib/broker/proto.h.
 *
 * Requests other than sends are synchronous.  Sends may be pipelined: the
 * client keeps the ids of the sends not yet answered (a window of at most
 * WINDOW), and the broker answers a run of successful sends with one OK
 * carrying a count.  While it waits for an answer the client keeps what
 * else arrives: messages it asked for ahead (prefetch) and notices of
 * undelivered messages, so nothing is lost.
 *
 * Writes never block on a full socket while the broker waits for us to read:
 * on EAGAIN the client reads what is there, then writes again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"
#include "ward/client.h"

#define WINDOW	     256u /* pipelined sends not yet answered */
#define MAX_NOTICES  1024u
#define MAX_PREFETCH 1024u
/* Pipelined sends gathered into one record (ward_set_send_batch): at most
 * this many, of at most TX_RECORD bytes together; a larger send goes alone. */
#define MAX_SEND_BATCH WARD_PROTO_MAX_RECORD
#define TX_RECORD      (16u << 10)

#define API __attribute__((visibility("default")))

struct stash_msg {
	struct stash_msg *next;
	char from[WARD_PROTO_MAX_NAME + 1];
	size_t len;
	uint8_t data[];
};

struct notice {
	struct notice *next;
	char name[WARD_PROTO_MAX_NAME + 1];
	char text[WARD_PROTO_MAX_TEXT + 1];
};

struct ward_client {
	int fd;
	uint32_t next_id;
	uint8_t *rbuf, *sbuf;
	char error[WARD_PROTO_MAX_TEXT + 1];
	char missing[WARD_PROTO_MAX_ENT + 1];
	/* pipelined sends not answered yet, in order, and the first error
	 * since the last flush */
	uint32_t ring[WINDOW];
	unsigned ring_n;
	int send_err;
	/* the synchronous request being answered */
	uint32_t wait_id;
	bool have_reply;
	struct ward_proto_msg reply;
	int reply_fd;
	uint8_t *reply_buf; /* the reply's packet (reply points into it) */
	/* what came meanwhile */
	struct stash_msg *stash, *stash_tail;
	struct notice *notices, *notices_tail;
	unsigned n_notices, lost_notices;
	unsigned prefetch, credits;
	/* pipelined sends gathered, not written yet (ward_set_send_batch):
	 * send_batch of them at most, tx_n in tbuf's tx_len bytes */
	unsigned send_batch, tx_n;
	size_t tx_len;
	uint8_t *tbuf;
	bool gone;
};

static int set_error(struct ward_client *c, int code, const char *text)
{
	snprintf(c->error, sizeof(c->error), "%s", text);
	c->missing[0] = '\0';
	return -code;
}

API struct ward_client *ward_client_fdopen(int fd)
{
	struct ward_client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->rbuf = malloc(WARD_PROTO_MAX_PACKET);
	c->sbuf = malloc(WARD_PROTO_MAX_REQUEST);
	c->reply_buf = malloc(WARD_PROTO_MAX_PACKET);
	if (!c->rbuf || !c->sbuf || !c->reply_buf) {
		free(c->rbuf);
		free(c->sbuf);
		free(c->reply_buf);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->fd = fd;
	c->next_id = 1;
	c->prefetch = 1;
	c->send_batch = 1;
	c->reply_fd = -1;
	return c;
}

API struct ward_client *ward_client_open(void)
{
	const char *s = getenv(WARD_BROKER_FD_ENV);
	char *end;
	long fd;

	if (s == NULL || *s == '\0') {
		errno = ENOENT;
		return NULL;
	}
	fd = strtol(s, &end, 10);
	if (*end != '\0' || fd < 0 || fd > 65535 || fcntl((int)fd, F_GETFD) < 0) {
		errno = EBADF;
		return NULL;
	}
	return ward_client_fdopen((int)fd);
}

API void ward_client_close(struct ward_client *c)
{
	if (c == NULL)
		return;
	/* Gathered sends are written if the socket takes them at once;
	 * only ward_flush tells whether they were delivered. */
	if (c->tx_len && !c->gone)
		ward_wire_send(c->fd, c->tbuf, c->tx_len, -1, MSG_DONTWAIT);
	close(c->fd);
	while (c->stash) {
		struct stash_msg *m = c->stash;

		c->stash = m->next;
		free(m);
	}
	while (c->notices) {
		struct notice *n = c->notices;

		c->notices = n->next;
		free(n);
	}
	if (c->reply_fd >= 0)
		close(c->reply_fd);
	free(c->rbuf);
	free(c->sbuf);
	free(c->reply_buf);
	free(c->tbuf);
	free(c);
}

API int ward_client_fd(const struct ward_client *c)
{
	return c->fd;
}

API const char *ward_client_strerror(const struct ward_client *c)
{
	return c->error;
}

API const char *ward_client_missing(const struct ward_client *c)
{
	return c->missing;
}

static int tx_push(struct ward_client *c);

/* ---- reading ---- */

static void stash_message(struct ward_client *c, const struct ward_proto_msg *m)
{
	struct stash_msg *s = malloc(sizeof(*s) + m->data_len);

	if (s == NULL)
		abort(); /* a message the broker delivered cannot be dropped */
	s->next = NULL;
	ward_proto_strcpy(s->from, sizeof(s->from), m->from);
	s->len = m->data_len;
	if (m->data_len)
		memcpy(s->data, m->data, m->data_len);
	if (c->stash_tail)
		c->stash_tail->next = s;
	else
		c->stash = s;
	c->stash_tail = s;
}

static void stash_notice(struct ward_client *c, const struct ward_proto_msg *m)
{
	struct notice *n;

	if (c->n_notices >= MAX_NOTICES || (n = calloc(1, sizeof(*n))) == NULL) {
		c->lost_notices++; /* counted, and reported by ward_undelivered */
		return;
	}
	ward_proto_strcpy(n->name, sizeof(n->name), m->name);
	ward_proto_strcpy(n->text, sizeof(n->text), m->text);
	if (c->notices_tail)
		c->notices_tail->next = n;
	else
		c->notices = n;
	c->notices_tail = n;
	c->n_notices++;
}

static int ring_find(const struct ward_client *c, uint32_t id)
{
	unsigned i;

	for (i = 0; i < c->ring_n; i++)
		if (c->ring[i] == id)
			return (int)i;
	return -1;
}

static void ring_remove(struct ward_client *c, unsigned from, unsigned count)
{
	memmove(&c->ring[from], &c->ring[from + count],
		(c->ring_n - from - count) * sizeof(c->ring[0]));
	c->ring_n -= count;
}

/* The answer to a pipelined send?  An ERROR answers one send; an OK with
 * COUNT n answers the send id and the n-1 sends just before it (a send that
 * waits for room in a full mailbox is answered on its own, later). */
static bool take_send_answer(struct ward_client *c, const struct ward_proto_msg *m)
{
	int at = ring_find(c, m->id);
	unsigned count;

	if (at < 0)
		return false;
	if (m->type == WARD_MSG_ERROR) {
		if (c->send_err == 0) {
			char text[WARD_PROTO_MAX_TEXT + 1];

			ward_proto_strcpy(text, sizeof(text), m->text);
			c->send_err = set_error(c, (int)m->code, text);
			if (m->n_ent)
				ward_proto_strcpy(c->missing, sizeof(c->missing), m->ent[0]);
		}
		ring_remove(c, (unsigned)at, 1);
		return true;
	}
	count = ward_proto_has(m, WARD_ATTR_COUNT) ? m->count : 1;
	if (count == 0 || count > (unsigned)at + 1)
		return false;
	ring_remove(c, (unsigned)at + 1 - count, count);
	return true;
}

/* A record of several MESSAGE packets back to back (WARD_RECV_F_BATCH):
 * the first may go straight to the caller's buffer, the rest wait in the
 * stash, in order.  Anything but MESSAGE packets in such a record is a
 * protocol error. */
static int read_batch(struct ward_client *c, size_t n, void *direct, size_t direct_size, char *from,
		      size_t fromsize, ssize_t *direct_len)
{
	size_t off = 0;

	while (off < n) {
		struct ward_proto_msg m;
		const char *why;
		size_t len;

		len = ward_proto_packet_len(c->rbuf + off, n - off);
		if (len == 0 || ward_proto_decode(c->rbuf + off, len, &m, &why) < 0 ||
		    m.type != WARD_MSG_MESSAGE)
			return set_error(c, EPROTO, "the broker sent a malformed message");
		if (c->credits)
			c->credits--;
		if (direct && *direct_len < 0 && c->stash == NULL && m.data_len <= direct_size) {
			memcpy(direct, m.data, m.data_len);
			if (from)
				ward_proto_strcpy(from, fromsize, m.from);
			*direct_len = (ssize_t)m.data_len;
		} else {
			stash_message(c, &m);
		}
		off += len;
	}
	return 1;
}

/* Read one packet, waiting up to timeout_ms, and file it.  If direct is
 * given and the packet is a message with no stash in front of it, it is
 * copied there instead (*direct_len set).  Returns 1 when a packet was
 * handled, 0 on timeout, -errno. */
static int read_one(struct ward_client *c, int timeout_ms, void *direct, size_t direct_size,
		    char *from, size_t fromsize, ssize_t *direct_len)
{
	struct ward_proto_msg m;
	const char *why;
	bool trunc;
	ssize_t n;
	size_t plen;
	int fd = -1;

	if (c->gone)
		return set_error(c, ECONNRESET, "the broker has gone");
	if (c->tx_len) {
		/* Whatever is awaited may be the answer to a gathered send. */
		int r = tx_push(c);

		if (r < 0)
			return r;
	}
	if (timeout_ms >= 0) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int r;

		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
	}
	n = ward_wire_recv(c->fd, c->rbuf, WARD_PROTO_MAX_PACKET, &fd, &trunc, 0);
	if (n < 0 && errno != ECONNRESET)
		return -errno;
	if (n <= 0) {
		c->gone = true;
		return set_error(c, ECONNRESET,
				 "the broker closed the connection (it stopped, or it refused a "
				 "malformed request)");
	}
	plen = trunc ? 0 : ward_proto_packet_len(c->rbuf, (size_t)n);
	if (plen && plen < (size_t)n) {
		if (fd >= 0)
			close(fd);
		return read_batch(c, (size_t)n, direct, direct_size, from, fromsize, direct_len);
	}
	if (trunc || ward_proto_decode(c->rbuf, (size_t)n, &m, &why) < 0) {
		if (fd >= 0)
			close(fd);
		return set_error(c, EPROTO, "the broker sent a malformed message");
	}
	switch (m.type) {
	case WARD_MSG_MESSAGE:
		if (fd >= 0)
			close(fd);
		if (c->credits)
			c->credits--;
		if (direct && c->stash == NULL && m.data_len <= direct_size) {
			memcpy(direct, m.data, m.data_len);
			if (from)
				ward_proto_strcpy(from, fromsize, m.from);
			*direct_len = (ssize_t)m.data_len;
			return 1;
		}
		stash_message(c, &m);
		return 1;
	case WARD_MSG_UNDELIVERED:
		if (fd >= 0)
			close(fd);
		stash_notice(c, &m);
		return 1;
	case WARD_MSG_OK:
	case WARD_MSG_ERROR:
		if (!c->have_reply && c->wait_id && m.id == c->wait_id &&
		    (c->ring_n == 0 || !take_send_answer(c, &m))) {
			/* Keep the packet: the reply's strings point into it. */
			memcpy(c->reply_buf, c->rbuf, (size_t)n);
			ward_proto_decode(c->reply_buf, (size_t)n, &c->reply, &why);
			c->reply_fd = fd;
			c->have_reply = true;
			return 1;
		}
		if (fd >= 0)
			close(fd);
		take_send_answer(c, &m);
		return 1;
	default:
		if (fd >= 0)
			close(fd);
		return 1;
	}
}

/* ---- writing ---- */

static int xsend(struct ward_client *c, const void *buf, size_t len)
{
	/* Gathered sends go first: the broker answers in the order it reads. */
	if (c->tx_len && buf != c->tbuf) {
		int r = tx_push(c);

		if (r < 0)
			return r;
	}
	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN | POLLOUT};
		int r;

		if (c->gone)
			return set_error(c, ECONNRESET, "the broker has gone");
		if (ward_wire_send(c->fd, buf, len, -1, MSG_DONTWAIT) >= 0)
			return 0;
		if (errno == EPIPE || errno == ECONNRESET) {
			c->gone = true;
			return set_error(c, ECONNRESET, "the broker closed the connection");
		}
		if (errno != EAGAIN) {
			int e = errno;
			char text[128];

			snprintf(text, sizeof(text), "cannot write to the broker: %s", strerror(e));
			return set_error(c, e, text);
		}
		/* The broker may be waiting for us to read before it reads on. */
		do
			r = poll(&p, 1, -1);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return -errno;
		if (p.revents & (POLLIN | POLLHUP)) {
			r = read_one(c, -1, NULL, 0, NULL, 0, NULL);
			if (r < 0)
				return r;
		}
	}
}

/* Write the gathered sends as one record.  The batch is emptied first, so
 * that xsend, which may read while it waits for room, does not come back
 * here (nothing is gathered meanwhile: the bytes stay as they are).  A
 * socket whose send buffer is smaller than the record (SO_SNDBUF) takes
 * them one by one.  Sends that could not be written are never answered:
 * they leave the ring, and the error is the next flush's too. */
static int tx_push(struct ward_client *c)
{
	size_t len = c->tx_len, off = 0;
	unsigned n = c->tx_n, sent = 0;
	int r;

	if (len == 0)
		return 0;
	c->tx_len = 0;
	c->tx_n = 0;
	r = xsend(c, c->tbuf, len);
	if (r == 0)
		return 0;
	if (r == -EMSGSIZE) {
		do {
			size_t k = ward_proto_packet_len(c->tbuf + off, len - off);

			r = xsend(c, c->tbuf + off, k);
			if (r == 0) {
				off += k;
				sent++;
			}
		} while (r == 0 && off < len);
		if (r == 0)
			return 0;
	}
	/* The unwritten sends are the last of the ring: nothing was added
	 * after them, and answers only ever remove what was written. */
	c->ring_n -= n - sent;
	if (c->send_err == 0)
		c->send_err = r;
	return r;
}

/* Wait for every pipelined send's answer. */
API int ward_flush(struct ward_client *c)
{
	int r;

	while (c->ring_n) {
		r = read_one(c, -1, NULL, 0, NULL, 0, NULL);
		if (r < 0)
			return r;
	}
	r = c->send_err;
	c->send_err = 0;
	return r;
}

/* A synchronous request: build it with the id it gets, send it, wait for
 * its answer in c->reply (the descriptor with it in *fd). */
static int request(struct ward_client *c, struct ward_proto_buf *b, int *fd)
{
	long n = ward_proto_end(b);
	int r;

	if (fd)
		*fd = -1;
	if (n < 0)
		return set_error(c, EMSGSIZE, "the request is too large");
	c->have_reply = false;
	c->wait_id = c->next_id - 1;
	r = xsend(c, b->p, (size_t)n);
	while (r == 0 && !c->have_reply)
		r = read_one(c, -1, NULL, 0, NULL, 0, NULL);
	c->wait_id = 0;
	if (r < 0)
		return r;
	c->have_reply = false;
	if (c->reply.type == WARD_MSG_ERROR) {
		char text[WARD_PROTO_MAX_TEXT + 1];

		if (c->reply_fd >= 0)
			close(c->reply_fd);
		c->reply_fd = -1;
		ward_proto_strcpy(text, sizeof(text), c->reply.text);
		r = set_error(c, (int)c->reply.code ? (int)c->reply.code : EIO, text);
		if (c->reply.n_ent)
			ward_proto_strcpy(c->missing, sizeof(c->missing), c->reply.ent[0]);
		return r;
	}
	if (fd)
		*fd = c->reply_fd;
	else if (c->reply_fd >= 0)
		close(c->reply_fd);
	c->reply_fd = -1;
	return 0;
}

static void begin(struct ward_client *c, struct ward_proto_buf *b, uint16_t type)
{
	ward_proto_begin(b, c->sbuf, WARD_PROTO_MAX_REQUEST, type, c->next_id++);
	if (c->next_id == 0)
		c->next_id = 1;
}

static bool name_ok(struct ward_client *c, const char *name)
{
	if (name && ward_proto_name_ok(name, strlen(name)))
		return true;
	set_error(c, EINVAL, "a name is 1 to 64 of a-z 0-9 . _ -");
	return false;
}

/* ---- requests ---- */

API int ward_whoami(struct ward_client *c, char *name, size_t size)
{
	struct ward_proto_buf b;
	int r = ward_flush(c);

	if (r < 0)
		return r;
	begin(c, &b, WARD_MSG_HELLO);
	r = request(c, &b, NULL);
	if (r < 0)
		return r;
	ward_proto_strcpy(name, size, c->reply.name);
	return 0;
}

static int send_common(struct ward_client *c, const char *name, const void *data, size_t len,
		       uint32_t flags, bool async)
{
	struct ward_proto_buf b;
	long n;
	int r;

	if (!name_ok(c, name))
		return -EINVAL;
	if (len > WARD_PROTO_MAX_DATA)
		return set_error(c, EMSGSIZE, "a message holds at most 65536 bytes");
	if (!async) {
		r = ward_flush(c);
		if (r < 0)
			return r;
	}
	begin(c, &b, WARD_MSG_SEND);
	ward_proto_put_str(&b, WARD_ATTR_NAME, name);
	ward_proto_put(&b, WARD_ATTR_DATA, data, len);
	if (flags)
		ward_proto_put_u32(&b, WARD_ATTR_FLAGS, flags);
	if (!async)
		return request(c, &b, NULL);
	while (c->ring_n >= WINDOW) {
		r = read_one(c, -1, NULL, 0, NULL, 0, NULL);
		if (r < 0)
			return r;
	}
	n = ward_proto_end(&b);
	if (c->send_batch > 1 && (size_t)n <= TX_RECORD / 4) {
		/* Gathered: written when the record is full, or before anything
		 * else is written or awaited (ward_flush, ward_recv, ...). */
		if (c->tx_len + (size_t)n > TX_RECORD) {
			r = tx_push(c);
			if (r < 0)
				return r;
		}
		memcpy(c->tbuf + c->tx_len, b.p, (size_t)n);
		c->tx_len += (size_t)n;
		c->ring[c->ring_n++] = c->next_id - 1;
		if (++c->tx_n >= c->send_batch)
			return tx_push(c);
		return 0;
	}
	r = xsend(c, b.p, (size_t)n);
	if (r < 0)
		return r;
	c->ring[c->ring_n++] = c->next_id - 1;
	return 0;
}

API int ward_send(struct ward_client *c, const char *name, const void *data, size_t len)
{
	return send_common(c, name, data, len, 0, false);
}

API int ward_send_wait(struct ward_client *c, const char *name, const void *data, size_t len)
{
	return send_common(c, name, data, len, WARD_SEND_F_WAIT, false);
}

API int ward_send_async(struct ward_client *c, const char *name, const void *data, size_t len)
{
	/* Pipelined sends wait for room in a full mailbox (the broker holds a
	 * bounded number per connection): back-pressure, not refusals. */
	return send_common(c, name, data, len, WARD_SEND_F_WAIT, true);
}

API int ward_set_send_batch(struct ward_client *c, unsigned n)
{
	int r;

	if (n == 0 || n > MAX_SEND_BATCH)
		return set_error(c, EINVAL, "a send batch is 1 to 64 messages");
	r = tx_push(c);
	if (r < 0)
		return r;
	if (n > 1 && c->tbuf == NULL) {
		c->tbuf = malloc(TX_RECORD);
		if (c->tbuf == NULL)
			return set_error(c, ENOMEM, "no memory for the send batch");
	}
	c->send_batch = n;
	return 0;
}

API int ward_set_prefetch(struct ward_client *c, unsigned n)
{
	if (n == 0 || n > MAX_PREFETCH)
		return set_error(c, EINVAL, "prefetch is 1 to 1024 messages");
	c->prefetch = n;
	return 0;
}

static ssize_t take_stash(struct ward_client *c, void *buf, size_t size, char *from,
			  size_t fromsize)
{
	struct stash_msg *s = c->stash;
	ssize_t len = (ssize_t)s->len;

	if (s->len > size)
		return set_error(c, EMSGSIZE, "the next message is larger than the buffer");
	memcpy(buf, s->data, s->len);
	if (from)
		snprintf(from, fromsize, "%s", s->from);
	c->stash = s->next;
	if (c->stash == NULL)
		c->stash_tail = NULL;
	free(s);
	return len;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

API ssize_t ward_recv(struct ward_client *c, void *buf, size_t size, char *from, size_t fromsize,
		      int timeout_ms)
{
	struct ward_proto_buf b;
	long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	ssize_t got = -1;
	long n;
	int r;

	if (from && fromsize)
		from[0] = '\0';
	if (c->stash)
		return take_stash(c, buf, size, from, fromsize);
	if (timeout_ms == 0 && c->credits == 0) {
		/* One message if there is one, else -EAGAIN, asked synchronously. */
		r = ward_flush(c);
		if (r < 0)
			return r;
		begin(c, &b, WARD_MSG_RECV);
		n = ward_proto_end(&b);
		c->have_reply = false;
		c->wait_id = c->next_id - 1;
		c->credits = 1; /* the broker answers with one message or an error */
		r = xsend(c, b.p, (size_t)n);
		while (r >= 0 && got < 0 && !c->have_reply && c->stash == NULL)
			r = read_one(c, -1, buf, size, from, fromsize, &got);
		c->wait_id = 0;
		if (r < 0)
			return r;
		if (c->have_reply) {
			c->have_reply = false;
			c->credits = 0;
			if (c->reply_fd >= 0)
				close(c->reply_fd);
			c->reply_fd = -1;
			if (c->reply.type == WARD_MSG_ERROR) {
				char text[WARD_PROTO_MAX_TEXT + 1];

				ward_proto_strcpy(text, sizeof(text), c->reply.text);
				r = set_error(c, (int)c->reply.code, text);
				if (c->reply.n_ent)
					ward_proto_strcpy(c->missing, sizeof(c->missing),
							  c->reply.ent[0]);
				return r;
			}
		}
		if (got >= 0)
			return got;
		return c->stash ? take_stash(c, buf, size, from, fromsize) : -EAGAIN;
	}
	/* Keep up to prefetch messages asked for: top up when half are used. */
	if (c->credits <= c->prefetch / 2) {
		uint32_t add = c->prefetch - c->credits;

		begin(c, &b, WARD_MSG_RECV);
		ward_proto_put_u32(&b, WARD_ATTR_FLAGS, WARD_RECV_F_WAIT | WARD_RECV_F_BATCH);
		ward_proto_put_u32(&b, WARD_ATTR_COUNT, add);
		n = ward_proto_end(&b);
		c->have_reply = false;
		c->wait_id = c->next_id - 1; /* a refusal comes as an ERROR with this id */
		r = xsend(c, b.p, (size_t)n);
		if (r < 0) {
			c->wait_id = 0;
			return r;
		}
		c->credits += add;
	}
	for (;;) {
		int wait = -1;

		if (timeout_ms == 0) {
			wait = 0;
		} else if (timeout_ms > 0) {
			long long left = deadline - now_ms();

			wait = left > 0 ? (int)left : 0;
		}
		r = read_one(c, wait, buf, size, from, fromsize, &got);
		if (r < 0)
			break;
		if (got >= 0)
			break;
		if (c->have_reply) {
			char text[WARD_PROTO_MAX_TEXT + 1];

			/* RECV refused (no ipc.recv): nothing was asked for. */
			c->have_reply = false;
			c->credits = 0;
			if (c->reply_fd >= 0)
				close(c->reply_fd);
			c->reply_fd = -1;
			ward_proto_strcpy(text, sizeof(text), c->reply.text);
			r = set_error(c, (int)c->reply.code, text);
			if (c->reply.n_ent)
				ward_proto_strcpy(c->missing, sizeof(c->missing), c->reply.ent[0]);
			break;
		}
		if (c->stash) {
			r = (int)take_stash(c, buf, size, from, fromsize);
			got = r >= 0 ? r : -1;
			break;
		}
		if (r == 0) {
			r = timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
			break;
		}
	}
	c->wait_id = 0;
	return got >= 0 ? got : r;
}

API int ward_undelivered(struct ward_client *c, char *name, size_t size, char *why, size_t whysize)
{
	struct notice *n;

	/* Notices already sent by the broker: read without waiting. */
	while (read_one(c, 0, NULL, 0, NULL, 0, NULL) == 1)
		;
	n = c->notices;
	if (n == NULL) {
		if (c->lost_notices) {
			snprintf(name, size, "?");
			snprintf(why, whysize,
				 "%u more messages were not delivered (too many notices to keep)",
				 c->lost_notices);
			c->lost_notices = 0;
			return 1;
		}
		return 0;
	}
	c->notices = n->next;
	if (c->notices == NULL)
		c->notices_tail = NULL;
	c->n_notices--;
	snprintf(name, size, "%s", n->name);
	snprintf(why, whysize, "%s", n->text);
	free(n);
	return 1;
}

API int ward_lookup(struct ward_client *c, const char *name, unsigned *flags, unsigned *depth)
{
	struct ward_proto_buf b;
	int r;

	if (!name_ok(c, name))
		return -EINVAL;
	r = ward_flush(c);
	if (r < 0)
		return r;
	begin(c, &b, WARD_MSG_LOOKUP);
	ward_proto_put_str(&b, WARD_ATTR_NAME, name);
	r = request(c, &b, NULL);
	if (r < 0)
		return r;
	if (flags)
		*flags = c->reply.flags;
	if (depth)
		*depth = c->reply.depth;
	return 0;
}

API int ward_connect(struct ward_client *c, const char *service, unsigned flags)
{
	struct ward_proto_buf b;
	int r, fd;

	if (!name_ok(c, service))
		return -EINVAL;
	r = ward_flush(c);
	if (r < 0)
		return r;
	begin(c, &b, WARD_MSG_CONNECT);
	ward_proto_put_str(&b, WARD_ATTR_NAME, service);
	if (flags)
		ward_proto_put_u32(&b, WARD_ATTR_FLAGS, flags & WARD_CONNECT_SEQPACKET);
	r = request(c, &b, &fd);
	if (r < 0)
		return r;
	return fd >= 0 ? fd : set_error(c, EPROTO, "the broker answered without a descriptor");
}

API int ward_provide(struct ward_client *c, const char *service)
{
	struct ward_proto_buf b;
	int r, fd;

	if (!name_ok(c, service))
		return -EINVAL;
	r = ward_flush(c);
	if (r < 0)
		return r;
	begin(c, &b, WARD_MSG_PROVIDE);
	ward_proto_put_str(&b, WARD_ATTR_NAME, service);
	r = request(c, &b, &fd);
	if (r < 0)
		return r;
	return fd >= 0 ? fd : set_error(c, EPROTO, "the broker answered without a descriptor");
}

API int ward_accept(int provide_fd, char *from, size_t fromsize)
{
	uint8_t buf[512];
	struct ward_proto_msg m;
	const char *why;
	bool trunc;
	int fd;

	for (;;) {
		ssize_t n = ward_wire_recv(provide_fd, buf, sizeof(buf), &fd, &trunc, 0);

		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		if (trunc || ward_proto_decode(buf, (size_t)n, &m, &why) < 0 ||
		    m.type != WARD_MSG_CONN || fd < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (from)
			ward_proto_strcpy(from, fromsize, m.from);
		return fd;
	}
}

API int ward_attest(struct ward_client *c, const void *nonce, size_t len)
{
	struct ward_proto_buf b;
	int r, fd;

	if (nonce == NULL || len < 8 || len > 64)
		return set_error(c, EINVAL, "a nonce is 8 to 64 bytes");
	r = ward_flush(c);
	if (r < 0)
		return r;
	begin(c, &b, WARD_MSG_ATTEST);
	ward_proto_put(&b, WARD_ATTR_DATA, nonce, len);
	r = request(c, &b, &fd);
	if (r < 0)
		return r;
	return fd >= 0 ? fd : set_error(c, EPROTO, "the broker answered without a descriptor");
}

API int ward_open(struct ward_client *c, const char *path, int flags)
{
	struct ward_proto_buf b;
	uint32_t f = 0;
	int r, fd;

	if (path == NULL || path[0] != '/')
		return set_error(c, EINVAL, "api.open takes an absolute path");
	if ((flags & O_ACCMODE) != O_RDONLY)
		f |= WARD_OPEN_F_WRITE;
	if (flags & O_CREAT)
		f |= WARD_OPEN_F_CREATE;
	if (flags & O_TRUNC)
		f |= WARD_OPEN_F_TRUNC;
	if (flags & O_APPEND)
		f |= WARD_OPEN_F_APPEND;
	r = ward_flush(c);
	if (r < 0)
		return r;
	begin(c, &b, WARD_MSG_OPEN);
	ward_proto_put_str(&b, WARD_ATTR_PATH, path);
	if (f)
		ward_proto_put_u32(&b, WARD_ATTR_FLAGS, f);
	r = request(c, &b, &fd);
	if (r < 0)
		return r;
	return fd >= 0 ? fd : set_error(c, EPROTO, "the broker answered without a descriptor");
}
