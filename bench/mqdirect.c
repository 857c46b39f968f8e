/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/mqdirect.c: the baseline of bench/remote.sh.  The same messages as
 * ward's remote mailboxes carry, published and consumed directly with
 * rabbitmq-c, with what ward asks of RabbitMQ (persistent messages to a
 * durable queue, publisher confirms with at most 1024 unconfirmed, manual
 * acknowledgements with a prefetch of 256) and nothing else: no signing, no
 * broker, no environments.
 *
 *   mqdirect recv URL QUEUE N          consume N; "direct msgs_per_s=R"
 *   mqdirect send URL QUEUE N SIZE [W] publish N of SIZE bytes, at most W
 *                                      unconfirmed (1024)
 *   mqdirect ping URL N                N round trips through queues
 *                                      bench.ping/bench.pong: p50/p99 in us
 *   mqdirect pong URL N                answer them
 */
#define _GNU_SOURCE
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "mqdirect: %s\n", what);
	exit(1);
}

static amqp_connection_state_t open_conn(const char *url_in)
{
	struct amqp_connection_info ci;
	char *url = strdup(url_in);
	amqp_connection_state_t c = amqp_new_connection();
	amqp_socket_t *s = amqp_tcp_socket_new(c);

	if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK)
		die("bad URL");
	if (ci.vhost[0] == '\0')
		ci.vhost = (char *)"/";
	if (amqp_socket_open(s, ci.host, ci.port) != AMQP_STATUS_OK)
		die("connect");
	if (amqp_login(c, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password)
		    .reply_type != AMQP_RESPONSE_NORMAL)
		die("login");
	amqp_channel_open(c, 1);
	if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL)
		die("channel");
	return c;
}

static void declare(amqp_connection_state_t c, const char *q)
{
	amqp_queue_declare(c, 1, amqp_cstring_bytes(q), 0, 1, 0, 0, amqp_empty_table);
	if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL)
		die("declare");
}

static void consume(amqp_connection_state_t c, const char *q)
{
	amqp_basic_qos(c, 1, 0, 256, 0);
	amqp_basic_consume(c, 1, amqp_cstring_bytes(q), amqp_empty_bytes, 0, 0, 0,
			   amqp_empty_table);
	if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL)
		die("consume");
}

/* Wait for confirms until at most max are outstanding. */
static void confirms(amqp_connection_state_t c, uint64_t sent, uint64_t *acked, uint64_t max)
{
	while (sent - *acked > max) {
		amqp_frame_t f;

		if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK)
			die("wait for confirms");
		if (f.frame_type == AMQP_FRAME_METHOD &&
		    f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
			amqp_basic_ack_t *a = f.payload.method.decoded;

			*acked = a->multiple ? a->delivery_tag : *acked + 1;
		}
	}
}

static void publish(amqp_connection_state_t c, const char *q, const void *p, size_t n)
{
	amqp_basic_properties_t props = {._flags = AMQP_BASIC_DELIVERY_MODE_FLAG,
					 .delivery_mode = 2};
	amqp_bytes_t body = {.len = n, .bytes = (void *)p};

	if (amqp_basic_publish(c, 1, amqp_empty_bytes, amqp_cstring_bytes(q), 1, 0, &props, body) !=
	    AMQP_STATUS_OK)
		die("publish");
}

static size_t get(amqp_connection_state_t c, void *buf, size_t cap)
{
	amqp_envelope_t e;
	size_t n;

	amqp_maybe_release_buffers(c);
	if (amqp_consume_message(c, &e, NULL, 0).reply_type != AMQP_RESPONSE_NORMAL)
		die("consume_message");
	n = e.message.body.len < cap ? e.message.body.len : cap;
	memcpy(buf, e.message.body.bytes, n);
	amqp_basic_ack(c, 1, e.delivery_tag, 0);
	amqp_destroy_envelope(&e);
	return n;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static char buf[65536];

	if (argc == 5 && strcmp(argv[1], "recv") == 0) {
		amqp_connection_state_t c = open_conn(argv[2]);
		long n = atol(argv[4]), i;
		double t0 = 0;

		declare(c, argv[3]);
		consume(c, argv[3]);
		printf("ready\n");
		fflush(stdout);
		for (i = 0; i < n; i++) {
			get(c, buf, sizeof(buf));
			if (i == 0)
				t0 = now();
		}
		printf("direct msgs_per_s=%.0f\n", (double)(n - 1) / (now() - t0));
		return 0;
	}
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "send") == 0) {
		amqp_connection_state_t c = open_conn(argv[2]);
		long n = atol(argv[4]), i;
		size_t size = (size_t)atol(argv[5]);
		uint64_t acked = 0, window = argc == 7 ? (uint64_t)atol(argv[6]) : 1024;

		declare(c, argv[3]);
		amqp_confirm_select(c, 1);
		if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL)
			die("confirm.select");
		for (i = 0; i < n; i++) {
			publish(c, argv[3], buf, size);
			confirms(c, (uint64_t)i + 1, &acked, window);
		}
		confirms(c, (uint64_t)n, &acked, 0);
		return 0;
	}
	if (argc == 4 && (strcmp(argv[1], "ping") == 0 || strcmp(argv[1], "pong") == 0)) {
		bool ping = argv[1][1] == 'i';
		/* Publishing (with its confirms) and consuming on connections
		 * of their own: waiting for a confirm never reads a delivery. */
		amqp_connection_state_t c = open_conn(argv[2]), d = open_conn(argv[2]);
		long n = atol(argv[3]), i;
		double *lat = calloc((size_t)n, sizeof(double));
		uint64_t acked = 0;

		declare(c, "bench.ping");
		declare(c, "bench.pong");
		consume(d, ping ? "bench.pong" : "bench.ping");
		amqp_confirm_select(c, 1);
		if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL)
			die("confirm.select");
		if (!ping) {
			printf("ready\n");
			fflush(stdout);
		}
		for (i = 0; i < n; i++) {
			double a = now();
			size_t k = 64;

			/* As ward_send: the publish is confirmed before the next step. */
			if (!ping)
				k = get(d, buf, sizeof(buf));
			publish(c, ping ? "bench.ping" : "bench.pong", buf, k);
			confirms(c, (uint64_t)i + 1, &acked, 0);
			if (ping)
				get(d, buf, sizeof(buf));
			lat[i] = now() - a;
		}
		if (ping) {
			qsort(lat, (size_t)n, sizeof(double), cmp);
			printf("direct-rtt p50_us=%.0f p99_us=%.0f\n", lat[n / 2] * 1e6,
			       lat[n * 99 / 100] * 1e6);
		}
		return 0;
	}
	fprintf(stderr,
		"usage: mqdirect recv URL QUEUE N | send URL QUEUE N SIZE | ping|pong URL N\n");
	return 2;
}
