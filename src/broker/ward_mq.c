/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ward-mq: the broker's AMQP 0-9-1 client (docs/remote.md), a process of its
 * own, started by the broker with one end of a SOCK_SEQPACKET socket pair as
 * fd 3.  It talks to the RabbitMQ node with rabbitmq-c and to the broker over
 * that socket; nothing else.
 *
 * Why a process: rabbitmq-c blocks (connect, login, a publish into a full
 * TCP window, TLS handshakes), and the broker's event loop must never block.
 * It also keeps the parser of frames from the network (rabbitmq-c's, and
 * OpenSSL's for amqps) out of the process that holds the host key and the
 * environments' descriptors: ward-mq holds neither.  It only moves opaque
 * frames; the broker signs, verifies, checks and delivers them.
 *
 * To the broker (one packet each):
 *   'C' u64 first, u64 last, u8 ok   publishes confirmed (ok) or nacked
 *   'D' (u64 tag, u32 len, frame)*   messages from this host's queue
 *   'S' u8 up, text              the link's state
 *   'Q' (u8 len, host, u32 n)*   messages waiting in each host's queue
 *   'L' text                     a line for the broker's log
 * From the broker:
 *   'I' "key=value\n"...         the settings (url, host, peer..., cacert...)
 *   'P' (u64 seq, u8 len, host, u32 len, frame)*   publish to those queues
 *   'A' (u64 tag)*               acknowledge deliveries (this connection's)
 *
 * Delivery tags are only valid on the connection that made them: each
 * connection numbers its own, and ward-mq puts the connection's number in
 * the top 16 bits of the tags it reports, so that an acknowledgement for a
 * connection that is gone is dropped (RabbitMQ delivers that message again,
 * and the broker knows its id).  Publishes not confirmed when a connection
 * drops are published again, in order, on the next: a message may arrive
 * twice, never not at all; the receiving broker drops the second by its id.
 */
#define _GNU_SOURCE
#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SOCK	     3
#define MAX_PKT	     (80u << 10)
#define MAX_PEERS    64
#define CHAN	     1 /* publishing and consuming */
#define CHAN_DEPTH   2 /* queue depths (an RPC there does not interleave with deliveries) */
#define PREFETCH     256
#define DEPTH_MS     1000
#define RETRY_MIN_MS 200
#define RETRY_MAX_MS 5000

struct pub {
	struct pub *next;
	uint64_t seq, tag; /* tag: its delivery tag on the current connection, 0 if not sent */
	bool returned;	   /* RabbitMQ could not route it: reported as refused */
	char host[65];
	size_t len;
	uint8_t frame[];
};

static struct {
	char *url, *cacert, *cert, *key, *host;
	char *peers[MAX_PEERS];
	int n_peers;
	amqp_connection_state_t conn;
	bool up;
	uint16_t conn_no;
	uint64_t next_tag;
	struct pub *pubs, *pubs_tail; /* not confirmed yet, in order */
	uint8_t buf[MAX_PKT + 64];
	uint64_t depth_at, retry_at, retry_ms;
	/* this connection's deliveries: all up to ack_upto acknowledged, and
	 * these above it (sorted) */
	uint64_t ack_upto, above[1024];
	size_t n_above;
	/* deliveries waiting to go to the broker: 'D' then records of u64
	 * tag, u32 length, frame */
	uint8_t dbuf[MAX_PKT];
	size_t dlen;
} M;

static void settled(uint64_t tag);

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The broker always reads this socket (its loop never stops watching it),
 * so a blocking send here waits at most for its next round. */
static void to_broker(const void *p, size_t len)
{
	while (send(SOCK, p, len, MSG_NOSIGNAL) < 0) {
		if (errno == EINTR)
			continue;
		_exit(0); /* the broker is gone */
	}
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	line[0] = 'L';
	va_start(ap, fmt);
	n = vsnprintf(line + 1, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	to_broker(line, 1 + ((size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2));
}

static void state(bool up, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void state(bool up, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	line[0] = 'S';
	line[1] = up ? 1 : 0;
	va_start(ap, fmt);
	n = vsnprintf(line + 2, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	M.up = up;
	to_broker(line, 2 + ((size_t)n < sizeof(line) - 2 ? (size_t)n : sizeof(line) - 3));
}

static const char *reply_text(amqp_rpc_reply_t r, char *buf, size_t size)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return "ok";
	case AMQP_RESPONSE_NONE:
		return "no reply";
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		return amqp_error_string2(r.library_error);
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;

			snprintf(buf, size, "the server closed the connection: %u %.*s",
				 m->reply_code, (int)m->reply_text.len,
				 (const char *)m->reply_text.bytes);
			return buf;
		}
		if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;

			snprintf(buf, size, "the server closed the channel: %u %.*s", m->reply_code,
				 (int)m->reply_text.len, (const char *)m->reply_text.bytes);
			return buf;
		}
		return "the server refused";
	default:
		return "unknown reply";
	}
}

static void disconnect(const char *why)
{
	struct pub *p;

	if (M.conn) {
		/* No orderly close: the node may be gone, and a close handshake
		 * would wait for it. */
		amqp_destroy_connection(M.conn);
		M.conn = NULL;
	}
	for (p = M.pubs; p; p = p->next)
		p->tag = 0;
	if (M.up || why)
		state(false, "%s", why ? why : "disconnected");
	M.retry_at = now_ms() + M.retry_ms;
	M.retry_ms = M.retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : M.retry_ms * 2;
}

static bool rpc_ok(const char *what)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(M.conn);
	char buf[300], why[400];

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return true;
	snprintf(why, sizeof(why), "%s: %s", what, reply_text(r, buf, sizeof(buf)));
	disconnect(why);
	return false;
}

static amqp_bytes_t queue_of(const char *host, char *buf, size_t size)
{
	snprintf(buf, size, "ward.%s", host);
	return amqp_cstring_bytes(buf);
}

static bool declare(amqp_channel_t ch, const char *host, uint32_t *count)
{
	char q[80];
	amqp_queue_declare_ok_t *ok;

	/* Durable: a host's messages outlive a restart of the node, and wait
	 * there while that host's broker is down.  Every broker declares the
	 * queues of the peers it sends to, so that a message to a host that
	 * has never connected waits too instead of being dropped by the
	 * default exchange. */
	ok = amqp_queue_declare(M.conn, ch, queue_of(host, q, sizeof(q)), 0, 1, 0, 0,
				amqp_empty_table);
	if (ok == NULL)
		return rpc_ok("declare the queue");
	if (count)
		*count = ok->message_count;
	return true;
}

static bool publish(struct pub *p)
{
	amqp_basic_properties_t props = {0};
	amqp_bytes_t body = {.len = p->len, .bytes = p->frame};
	char q[80];
	int r;

	props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
	props.delivery_mode = 2; /* persistent */
	r = amqp_basic_publish(M.conn, CHAN, amqp_empty_bytes, queue_of(p->host, q, sizeof(q)), 1,
			       0, &props, body);
	if (r != AMQP_STATUS_OK) {
		char why[200];

		snprintf(why, sizeof(why), "publish: %s", amqp_error_string2(r));
		disconnect(why);
		return false;
	}
	p->tag = ++M.next_tag;
	return true;
}

static void connect_node(void)
{
	struct amqp_connection_info ci;
	char *url = strdup(M.url);
	amqp_socket_t *s;
	struct timeval tv = {.tv_sec = 10};
	amqp_rpc_reply_t r;
	char buf[300], why[400], who[300];
	struct pub *p;
	int i;

	if (url == NULL || amqp_parse_url(url, &ci) != AMQP_STATUS_OK) {
		free(url);
		state(false, "the AMQP URL does not parse");
		M.retry_at = now_ms() + RETRY_MAX_MS;
		return;
	}
	/* "amqp://u:p@host:port/" names the vhost "" to rabbitmq-c; no node
	 * has one, and people mean the default vhost "/" (spelt %2f). */
	if (ci.vhost == NULL || ci.vhost[0] == '\0')
		ci.vhost = (char *)"/";
	M.conn = amqp_new_connection();
	if (ci.ssl) {
		s = amqp_ssl_socket_new(M.conn);
		if (s && M.cacert && amqp_ssl_socket_set_cacert(s, M.cacert) != AMQP_STATUS_OK) {
			free(url);
			disconnect("amqps: cannot read the CA certificate");
			return;
		}
		if (s && M.cert && M.key &&
		    amqp_ssl_socket_set_key(s, M.cert, M.key) != AMQP_STATUS_OK) {
			free(url);
			disconnect("amqps: cannot read the client certificate or its key");
			return;
		}
		if (s) {
			amqp_ssl_socket_set_verify_peer(s, 1);
			amqp_ssl_socket_set_verify_hostname(s, 1);
		}
	} else {
		s = amqp_tcp_socket_new(M.conn);
	}
	if (s == NULL) {
		free(url);
		disconnect("cannot make a socket");
		return;
	}
	if (amqp_socket_open_noblock(s, ci.host, ci.port, &tv) != AMQP_STATUS_OK) {
		snprintf(why, sizeof(why), "cannot connect to %s:%d", ci.host, ci.port);
		free(url);
		disconnect(why);
		return;
	}
	r = amqp_login(M.conn, ci.vhost, 0, 131072, 10, AMQP_SASL_METHOD_PLAIN, ci.user,
		       ci.password);
	snprintf(who, sizeof(who), "%s:%d as %s", ci.host, ci.port, ci.user);
	free(url);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		snprintf(why, sizeof(why), "login to %s: %s", who, reply_text(r, buf, sizeof(buf)));
		disconnect(why);
		return;
	}
	amqp_channel_open(M.conn, CHAN);
	if (!rpc_ok("open a channel"))
		return;
	amqp_channel_open(M.conn, CHAN_DEPTH);
	if (!rpc_ok("open a channel"))
		return;
	amqp_confirm_select(M.conn, CHAN);
	if (!rpc_ok("confirm.select"))
		return;
	if (!declare(CHAN, M.host, NULL))
		return;
	for (i = 0; i < M.n_peers; i++)
		if (!declare(CHAN, M.peers[i], NULL))
			return;
	amqp_basic_qos(M.conn, CHAN, 0, PREFETCH, 0);
	if (!rpc_ok("basic.qos"))
		return;
	{
		char q[80];

		amqp_basic_consume(M.conn, CHAN, queue_of(M.host, q, sizeof(q)), amqp_empty_bytes,
				   0, 0, 1, amqp_empty_table);
		if (!rpc_ok("consume this host's queue (is another broker of this host "
			    "consuming it?)"))
			return;
	}
	M.conn_no++;
	M.next_tag = 0;
	M.ack_upto = 0;
	M.n_above = 0;
	M.retry_ms = RETRY_MIN_MS;
	/* What the last connection did not get confirmed, again and in order. */
	for (p = M.pubs; p; p = p->next)
		if (!publish(p))
			return;
	state(true, "connected to %s", who);
	M.depth_at = 0;
}

static void send_confirm(uint64_t first, uint64_t last, bool ok)
{
	uint8_t out[18];
	uint64_t a = htole64(first), b = htole64(last);

	out[0] = 'C';
	memcpy(out + 1, &a, 8);
	memcpy(out + 9, &b, 8);
	out[17] = ok ? 1 : 0;
	to_broker(out, sizeof(out));
}

static void confirm(uint64_t tag, bool multiple, bool ok)
{
	uint64_t first = 0, last = 0;
	bool run = false, run_ok = true;

	/* In order on one channel: a run of the oldest publishes, reported as
	 * ranges of their sequence numbers (consecutive in the broker). */
	while (M.pubs && M.pubs->tag && (M.pubs->tag == tag || (multiple && M.pubs->tag <= tag))) {
		struct pub *p = M.pubs;
		bool this_ok = ok && !p->returned;

		if (run && (p->seq != last + 1 || this_ok != run_ok)) {
			send_confirm(first, last, run_ok);
			run = false;
		}
		if (!run) {
			first = p->seq;
			run_ok = this_ok;
			run = true;
		}
		last = p->seq;
		M.pubs = p->next;
		if (M.pubs == NULL)
			M.pubs_tail = NULL;
		free(p);
		if (!multiple)
			break;
	}
	if (run) {
		send_confirm(first, last, run_ok);
		return;
	}
	/* A single confirm of a later tag: the earlier ones come on their own. */
	for (struct pub **pp = &M.pubs; *pp; pp = &(*pp)->next)
		if ((*pp)->tag == tag) {
			struct pub *p = *pp;

			send_confirm(p->seq, p->seq, ok && !p->returned);
			*pp = p->next;
			if (M.pubs_tail == p) {
				M.pubs_tail = NULL;
				for (struct pub *q = M.pubs; q; q = q->next)
					M.pubs_tail = q;
			}
			free(p);
			break;
		}
}

static void other_frame(void)
{
	amqp_frame_t f;
	char why[200];
	int r = amqp_simple_wait_frame(M.conn, &f);

	if (r != AMQP_STATUS_OK) {
		snprintf(why, sizeof(why), "read: %s", amqp_error_string2(r));
		disconnect(why);
		return;
	}
	if (f.frame_type != AMQP_FRAME_METHOD)
		return;
	switch (f.payload.method.id) {
	case AMQP_BASIC_ACK_METHOD: {
		amqp_basic_ack_t *a = f.payload.method.decoded;

		confirm(a->delivery_tag, a->multiple, true);
		break;
	}
	case AMQP_BASIC_NACK_METHOD: {
		amqp_basic_nack_t *a = f.payload.method.decoded;

		confirm(a->delivery_tag, a->multiple, false);
		break;
	}
	case AMQP_BASIC_RETURN_METHOD: {
		amqp_basic_return_t *ret = f.payload.method.decoded;
		amqp_message_t msg;
		amqp_rpc_reply_t rr;
		char key[80];

		snprintf(key, sizeof(key), "%.*s", (int)ret->routing_key.len,
			 (const char *)ret->routing_key.bytes);
		/* Unroutable (the host's queue was deleted behind our back): the
		 * return comes before the confirm of the same message, and
		 * publishes are confirmed in order, so it is the first not yet
		 * returned to that queue.  Its confirm reports it refused. */
		for (struct pub *p = M.pubs; p; p = p->next) {
			char q[80];

			snprintf(q, sizeof(q), "ward.%s", p->host);
			if (p->tag && !p->returned && strcmp(q, key) == 0) {
				p->returned = true;
				break;
			}
		}
		rr = amqp_read_message(M.conn, f.channel, &msg, 0);
		if (rr.reply_type == AMQP_RESPONSE_NORMAL)
			amqp_destroy_message(&msg);
		say("RabbitMQ returned a message for %s as unroutable (was the queue deleted?)",
		    key);
		break;
	}
	case AMQP_CHANNEL_CLOSE_METHOD: {
		amqp_channel_close_t *c = f.payload.method.decoded;

		snprintf(why, sizeof(why), "the server closed the channel: %u %.*s", c->reply_code,
			 (int)c->reply_text.len, (const char *)c->reply_text.bytes);
		disconnect(why);
		break;
	}
	case AMQP_CONNECTION_CLOSE_METHOD: {
		amqp_connection_close_t *c = f.payload.method.decoded;

		snprintf(why, sizeof(why), "the server closed the connection: %u %.*s",
			 c->reply_code, (int)c->reply_text.len, (const char *)c->reply_text.bytes);
		disconnect(why);
		break;
	}
	default:
		break;
	}
}

static void d_flush(void)
{
	if (M.dlen)
		to_broker(M.dbuf, M.dlen);
	M.dlen = 0;
}

/* Read what the node sent, without waiting for more. */
static void from_node_pass(void)
{
	int rounds = 0;

	while (M.conn && rounds++ < 512) {
		struct timeval zero = {0, 0};
		amqp_envelope_t env;
		amqp_rpc_reply_t r;

		amqp_maybe_release_buffers(M.conn);
		r = amqp_consume_message(M.conn, &env, &zero, 0);
		if (r.reply_type == AMQP_RESPONSE_NORMAL) {
			uint64_t tag = ((uint64_t)M.conn_no << 48) | env.delivery_tag;
			size_t n = env.message.body.len;

			if (n + 13 <= sizeof(M.dbuf)) {
				uint32_t le = htole32((uint32_t)n);

				/* Deliveries of one pass travel in one packet. */
				if (M.dlen + 12 + n > sizeof(M.dbuf))
					d_flush();
				if (M.dlen == 0)
					M.dbuf[M.dlen++] = 'D';
				tag = htole64(tag);
				memcpy(M.dbuf + M.dlen, &tag, 8);
				memcpy(M.dbuf + M.dlen + 8, &le, 4);
				memcpy(M.dbuf + M.dlen + 12, env.message.body.bytes, n);
				M.dlen += 12 + n;
			} else {
				/* Larger than any frame: the broker could not
				 * take it.  Rejected, not requeued: dead. */
				say("dropped a message of %zu bytes from RabbitMQ: larger than "
				    "any ward frame",
				    n);
				amqp_basic_reject(M.conn, CHAN, env.delivery_tag, 0);
				settled(env.delivery_tag);
			}
			amqp_destroy_envelope(&env);
			continue;
		}
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    r.library_error == AMQP_STATUS_TIMEOUT)
			return;
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
			other_frame();
			continue;
		}
		{
			char buf[300], why[400];

			snprintf(why, sizeof(why), "consume: %s", reply_text(r, buf, sizeof(buf)));
			disconnect(why);
		}
	}
}

static void from_node(void)
{
	from_node_pass();
	d_flush();
}

static void report_depths(void)
{
	uint8_t out[1 + MAX_PEERS * 70 + 70];
	size_t o = 1;
	int i;

	out[0] = 'Q';
	for (i = -1; i < M.n_peers && M.conn; i++) {
		const char *h = i < 0 ? M.host : M.peers[i];
		uint32_t n = 0, le;

		if (!declare(CHAN_DEPTH, h, &n))
			return;
		out[o++] = (uint8_t)strlen(h);
		memcpy(out + o, h, strlen(h));
		o += strlen(h);
		le = htole32(n);
		memcpy(out + o, &le, 4);
		o += 4;
	}
	if (M.conn)
		to_broker(out, o);
}

static void configure(char *text)
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "url") == 0)
			M.url = strdup(eq);
		else if (strcmp(line, "host") == 0)
			M.host = strdup(eq);
		else if (strcmp(line, "cacert") == 0)
			M.cacert = strdup(eq);
		else if (strcmp(line, "cert") == 0)
			M.cert = strdup(eq);
		else if (strcmp(line, "key") == 0)
			M.key = strdup(eq);
		else if (strcmp(line, "peer") == 0 && M.n_peers < MAX_PEERS)
			M.peers[M.n_peers++] = strdup(eq);
	}
}

/* A delivery settled here without the broker (rejected): it counts as
 * acknowledged for the runs below. */
static void settled(uint64_t tag)
{
	size_t j;

	if (tag == M.ack_upto + 1) {
		M.ack_upto = tag;
		while (M.n_above && M.above[0] == M.ack_upto + 1) {
			M.ack_upto = M.above[0];
			memmove(M.above, M.above + 1, --M.n_above * sizeof(M.above[0]));
		}
		return;
	}
	if (M.n_above == sizeof(M.above) / sizeof(M.above[0]))
		return;
	for (j = M.n_above++; j && M.above[j - 1] > tag; j--)
		M.above[j] = M.above[j - 1];
	M.above[j] = tag;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Acknowledge what the broker delivered (or refused).  A run that follows
 * everything acknowledged so far goes as one basic.ack with multiple, for
 * the highest of the run (it acknowledges only deliveries still outstanding
 * up to that tag: those the broker holds are never below ack_upto); the
 * others one by one. */
static void acks(const uint8_t *p, size_t n)
{
	static uint64_t tags[MAX_PKT / 8];
	size_t i, k = 0;
	uint64_t multi_tag = 0;
	bool multi = false;

	for (i = 0; i < n; i++) {
		uint64_t t;

		memcpy(&t, p + 8 * i, 8);
		t = le64toh(t);
		/* Only this connection's deliveries can be acknowledged. */
		if ((t >> 48) == M.conn_no)
			tags[k++] = t & ((1ULL << 48) - 1);
	}
	if (!M.conn || !M.up || k == 0)
		return;
	qsort(tags, k, sizeof(tags[0]), cmp_u64);
	for (i = 0; i < k; i++) {
		if (tags[i] == M.ack_upto + 1) {
			M.ack_upto = tags[i];
			/* The tag of a multiple ack must itself be outstanding
			 * (RabbitMQ closes the channel otherwise): one of this
			 * batch, not one settled before. */
			multi_tag = tags[i];
			multi = true;
			/* and past those acknowledged one by one before */
			while (M.n_above && M.above[0] == M.ack_upto + 1) {
				M.ack_upto = M.above[0];
				memmove(M.above, M.above + 1, --M.n_above * sizeof(M.above[0]));
			}
			continue;
		}
		if (amqp_basic_ack(M.conn, CHAN, tags[i], 0) != 0) {
			disconnect("ack: the connection failed");
			return;
		}
		if (M.n_above < sizeof(M.above) / sizeof(M.above[0])) {
			size_t j = M.n_above++;

			while (j && M.above[j - 1] > tags[i]) {
				M.above[j] = M.above[j - 1];
				j--;
			}
			M.above[j] = tags[i];
		}
	}
	if (multi && amqp_basic_ack(M.conn, CHAN, multi_tag, 1) != 0)
		disconnect("ack: the connection failed");
}

static void from_broker(void)
{
	for (;;) {
		ssize_t n = recv(SOCK, M.buf, sizeof(M.buf) - 1, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			_exit(0); /* the broker is gone: so is its link */
		switch (M.buf[0]) {
		case 'I':
			M.buf[n] = '\0';
			configure((char *)M.buf + 1);
			break;
		case 'P': {
			/* records: u64 seq, u8 host length, host, u32 length, frame */
			size_t off = 1;

			while ((size_t)n - off >= 13) {
				struct pub *p;
				uint64_t seq;
				uint32_t fl;
				size_t hl = M.buf[off + 8];

				if (hl == 0 || hl > 64 || (size_t)n - off < 13 + hl)
					break;
				memcpy(&seq, M.buf + off, 8);
				memcpy(&fl, M.buf + off + 9 + hl, 4);
				fl = le32toh(fl);
				if (fl > (size_t)n - off - 13 - hl)
					break;
				p = calloc(1, sizeof(*p) + fl);
				if (p == NULL)
					_exit(1);
				p->seq = le64toh(seq);
				memcpy(p->host, M.buf + off + 9, hl);
				p->len = fl;
				memcpy(p->frame, M.buf + off + 13 + hl, fl);
				off += 13 + hl + fl;
				if (M.pubs_tail)
					M.pubs_tail->next = p;
				else
					M.pubs = p;
				M.pubs_tail = p;
				if (M.conn && M.up)
					publish(p);
			}
			break;
		}
		case 'A':
			if (n < 9 || (n - 1) % 8 != 0)
				break;
			acks((const uint8_t *)M.buf + 1, (size_t)(n - 1) / 8);
			break;
		default:
			break;
		}
	}
}

int main(void)
{
	sigset_t none;

	/* The AMQP URL holds this host's password: no core file, no ptrace
	 * by processes of the same uid. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	M.retry_ms = RETRY_MIN_MS;
	while (M.url == NULL) {
		struct pollfd pf = {.fd = SOCK, .events = POLLIN};

		if (poll(&pf, 1, -1) < 0 && errno != EINTR)
			return 1;
		from_broker();
	}
	if (M.host == NULL)
		return 1;
	state(false, "connecting");
	for (;;) {
		struct pollfd pf[2] = {{.fd = SOCK, .events = POLLIN}, {.fd = -1}};
		uint64_t now = now_ms();
		int timeout = 200;

		if (M.conn == NULL && now >= M.retry_at) {
			connect_node();
			now = now_ms();
		}
		if (M.conn) {
			pf[1].fd = amqp_get_sockfd(M.conn);
			pf[1].events = POLLIN;
			if (amqp_data_in_buffer(M.conn) || amqp_frames_enqueued(M.conn))
				timeout = 0;
		}
		if (poll(pf, 2, timeout) < 0 && errno != EINTR)
			return 1;
		if (pf[0].revents)
			from_broker();
		/* Also on a quiet socket: rabbitmq-c sends its heartbeats while
		 * it reads. */
		if (M.conn)
			from_node();
		if (M.conn && now_ms() >= M.depth_at) {
			report_depths();
			M.depth_at = now_ms() + DEPTH_MS;
		}
	}
}
