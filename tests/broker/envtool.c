/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * envtool: runs inside ward environments for tests/broker and bench/broker.sh,
 * linked statically with libward-client.  One line of result on stdout;
 * errors as "error ERRNO-NAME text" so the tests can match them.
 *
 *   envtool serve SERVICE N           provide SERVICE, answer N connections
 *                                     (each: read a line, write it upper-cased)
 *   envtool connect SERVICE TEXT      connect, send TEXT, print the answer
 *   envtool pass-fd NAME              connect to service NAME and print "fd ok"
 *   envtool flood NAME N              N pipelined sends; "sent N ok K err E first=ERR"
 *   envtool recv-n N                  receive N messages, print "got N"
 *   envtool wait-broker               block in recv until the broker goes away
 *   envtool undelivered NAME          send one message, then wait for the notice
 *   envtool ready-recv                print "ready", then receive one message
 *   envtool bench-mb-send NAME N SIZE [GO]  bench: N pipelined SIZE-byte sends
 *                                     (once the file GO exists, if given)
 *   envtool bench-mb-recv N PREFETCH    bench: receive N, print msgs/s and the
 *                                     CLOCK_MONOTONIC times of the first and
 *                                     last message (t0=, t1=)
 *   envtool send-seq NAME N [FIRST]    N pipelined sends "m1".."mN" (or
 *                                     "mFIRST" on), then flush
 *   envtool send-alternate A B N       N pipelined sends to A ("m1".."mN") and
 *                                     N to B between them, one flush: "sent 2N
 *                                     first=ERR missing ENT"
 *   envtool recv-seq N PREFETCH [MS]   print "ready", receive N with prefetch,
 *                                     check they are "m1".."mN" in order:
 *                                     "in order N" or "out of order at I: TEXT"
 *   envtool bench-mb-ping NAME N       bench: round trips through mailboxes
 *   envtool bench-mb-pong NAME N       bench: answer N pings
 *   envtool bench-svc SERVICE N SIZE   bench: connect, stream + ping-pong
 *   envtool bench-svc-serve SERVICE    bench: the other side
 *   envtool bench-plain N SIZE         bench: the same over a plain socketpair
 *   envtool bench-plain-k K N SIZE     bench: K socket pairs at once, N messages
 *                                     in all: "plain-k msgs_per_s=R"
 *   envtool reopen PATH                api.open PATH read-only, then try to write
 *                                      through the descriptor and to reopen it
 *                                      read-write, then read-only, by
 *                                      /proc/self/fd: "write ERR reopen ERR
 *                                      reopen-ro ERR" (or "ok")
 *   envtool fds                        the descriptors it holds: "fds 0 1 2 3"
 *   WARD_SEND_BATCH=n in the environment: ward_set_send_batch(n) first
 *   (pipelined sends gathered n to a record), for every command;
 *   WARD_SNDBUF=n: SO_SNDBUF n on the broker descriptor first.
 *   envtool raw STEP...                raw packets on the broker descriptor, for
 *                                      the attack tests (built by brokerlib.packet):
 *       s:HEX        send the packet
 *       r            read one answer: "answer TYPE ID code=C fd=F text=T"
 *       x:HEX        send, then read one answer
 *       n:N:HEX      N times send and read; then "repeat N ok=K error=E
 *                    other=O fds=D first_code=C first_text=T"
 *       w:SECONDS    sleep
 *       c:PATH       connect to the socket PATH and use it for the next steps:
 *                    "connect ok" or "connect ERR"
 *     descriptors that come with answers are kept open until exit; "closed"
 *     when the broker closes the connection (and the steps stop).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"
#include "ward/client.h"

static const char *ename(int e)
{
	switch (e) {
	case EACCES:
		return "EACCES";
	case ENOENT:
		return "ENOENT";
	case EAGAIN:
		return "EAGAIN";
	case EPIPE:
		return "EPIPE";
	case ECONNRESET:
		return "ECONNRESET";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case EADDRINUSE:
		return "EADDRINUSE";
	case EXDEV:
		return "EXDEV";
	case EISDIR:
		return "EISDIR";
	case EINVAL:
		return "EINVAL";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EMSGSIZE:
		return "EMSGSIZE";
	case EBADF:
		return "EBADF";
	case EPERM:
		return "EPERM";
	case EROFS:
		return "EROFS";
	case ELOOP:
		return "ELOOP";
	default:
		return "E?";
	}
}

static int err(struct ward_client *c, int r)
{
	printf("error %s %s\n", ename(-r), c ? ward_client_strerror(c) : strerror(-r));
	return 1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void latency_report(const char *what, double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	printf("%s p50_us=%.2f p99_us=%.2f\n", what, v[n / 2] * 1e6, v[n * 99 / 100] * 1e6);
}

static int full_write(int fd, const void *p, size_t n)
{
	const char *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int full_read(int fd, void *p, size_t n)
{
	char *b = p;

	while (n) {
		ssize_t r = read(fd, b, n);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Stream N messages of SIZE one way, then N round trips, over fd (a
 * SOCK_SEQPACKET socket): the same code for the plain pair and the
 * service socket. */
static void pair_sender(int fd, long n, size_t size, const char *label)
{
	char buf[65536] = {0};
	double t0, t, *lat = malloc(sizeof(double) * (size_t)n);
	long i;

	t0 = now();
	for (i = 0; i < n; i++)
		if (write(fd, buf, size) != (ssize_t)size)
			exit(1);
	if (read(fd, buf, sizeof(buf)) <= 0) /* the receiver's "done" */
		exit(1);
	t = now() - t0;
	printf("%s msgs_per_s=%.0f\n", label, (double)n / t);
	for (i = 0; i < n; i++) {
		double a = now();

		if (write(fd, buf, size) != (ssize_t)size || read(fd, buf, sizeof(buf)) <= 0)
			exit(1);
		lat[i] = now() - a;
	}
	latency_report(label, lat, n);
	free(lat);
}

static char buf_plain[65536];

static void pair_receiver(int fd, long n)
{
	char buf[65536];
	long i;

	for (i = 0; i < n; i++)
		if (read(fd, buf, sizeof(buf)) <= 0)
			exit(1);
	if (write(fd, "d", 1) != 1)
		exit(1);
	for (i = 0; i < n; i++) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r <= 0 || write(fd, buf, (size_t)r) != r)
			exit(1);
	}
}

/* ---- raw packets (the attack tests) ---- */

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (h[0] && h[1] && n < cap) {
		unsigned v;

		if (sscanf(h, "%2x", &v) != 1)
			exit(2);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* Read one answer: its type (0: the broker closed the connection, -1: an
 * error), code and text; a descriptor is kept open. */
static int raw_read(int fd, uint8_t *buf, uint32_t *id, uint32_t *code, char *text, size_t tsize,
		    int *got_fd)
{
	struct ward_proto_msg m;
	const char *why;
	bool trunc;
	ssize_t n = ward_wire_recv(fd, buf, WARD_PROTO_MAX_PACKET, got_fd, &trunc, 0);

	if (n <= 0)
		return n == 0 || errno == ECONNRESET ? 0 : -1;
	if (ward_proto_decode(buf, (size_t)n, &m, &why) < 0) {
		snprintf(text, tsize, "undecodable: %s", why);
		return -1;
	}
	*id = m.id;
	*code = m.code;
	ward_proto_strcpy(text, tsize, m.text);
	for (char *p = text; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return m.type;
}

static int raw(int argc, char **argv)
{
	static uint8_t pkt[WARD_PROTO_MAX_PACKET], buf[WARD_PROTO_MAX_PACKET];
	char text[WARD_PROTO_MAX_TEXT + 1];
	int fd = WARD_BROKER_FD, i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		uint32_t id = 0, code = 0;
		int t, got = -1;

		if (a[0] == 'c' && a[1] == ':') {
			struct sockaddr_un sa = {.sun_family = AF_UNIX};
			int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

			snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a + 2);
			if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
				printf("connect %s\n", ename(errno));
				return 0;
			}
			printf("connect ok\n");
			fd = s;
			continue;
		}
		if (a[0] == 'w' && a[1] == ':') {
			struct timespec ts = {atol(a + 2), 0};

			nanosleep(&ts, NULL);
			continue;
		}
		if ((a[0] == 's' || a[0] == 'x') && a[1] == ':') {
			size_t n = unhex(a + 2, pkt, sizeof(pkt));

			if (ward_wire_send(fd, pkt, n, -1, 0) < 0) {
				printf("closed (send: %s)\n", strerror(errno));
				return 0;
			}
			if (a[0] == 's')
				continue;
		}
		if (a[0] == 'r' || a[0] == 'x') {
			t = raw_read(fd, buf, &id, &code, text, sizeof(text), &got);
			if (t <= 0) {
				printf("closed\n");
				return 0;
			}
			printf("answer %d %u code=%u fd=%d text=%s\n", t, id, code, got >= 0, text);
			continue;
		}
		if (a[0] == 'n' && a[1] == ':') {
			long count = atol(a + 2), k, ok = 0, bad = 0, other = 0, fds = 0;
			const char *h = strchr(a + 2, ':');
			uint32_t first_code = 0;
			char first_text[sizeof(text)] = "-";
			size_t n;

			if (h == NULL)
				return 2;
			n = unhex(h + 1, pkt, sizeof(pkt));
			for (k = 0; k < count; k++) {
				if (ward_wire_send(fd, pkt, n, -1, 0) < 0)
					break;
				got = -1;
				t = raw_read(fd, buf, &id, &code, text, sizeof(text), &got);
				if (t <= 0)
					break;
				fds += got >= 0;
				if (t == WARD_MSG_OK) {
					ok++;
				} else if (t == WARD_MSG_ERROR) {
					if (bad++ == 0) {
						first_code = code;
						snprintf(first_text, sizeof(first_text), "%s",
							 text);
					}
				} else {
					other++;
				}
			}
			printf("repeat %ld ok=%ld error=%ld other=%ld fds=%ld first_code=%u "
			       "first_text=%s\n",
			       k, ok, bad, other, fds, first_code, first_text);
			if (k < count) {
				printf("closed\n");
				return 0;
			}
			continue;
		}
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ward_client *c = NULL;
	const char *cmd;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 2;
	cmd = argv[1];
	if (strcmp(cmd, "bench-plain") == 0 && argc == 4) {
		long n = atol(argv[2]);
		size_t size = (size_t)atol(argv[3]);
		int sv[2];
		pid_t pid;

		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
			return 1;
		pid = fork();
		if (pid == 0) {
			close(sv[0]);
			pair_receiver(sv[1], n);
			_exit(0);
		}
		close(sv[1]);
		pair_sender(sv[0], n, size, "plain");
		waitpid(pid, NULL, 0);
		return 0;
	}
	if (strcmp(cmd, "bench-plain-k") == 0 && argc == 5) {
		long k = atol(argv[2]), n = atol(argv[3]), j, i;
		size_t size = (size_t)atol(argv[4]);
		int go[2];
		double t0;

		if (k < 1 || k > 256 || pipe(go) < 0)
			return 2;
		for (j = 0; j < k; j++) {
			int sv[2];
			char gobyte;

			if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
				return 1;
			if (fork() == 0) {
				close(sv[0]);
				close(go[1]);
				for (i = 0; i < n / k; i++)
					if (read(sv[1], buf_plain, sizeof(buf_plain)) <= 0)
						_exit(1);
				_exit(0);
			}
			if (fork() == 0) {
				close(sv[1]);
				close(go[1]);
				/* all senders start together: go closes */
				if (read(go[0], &gobyte, 1) < 0)
					_exit(1);
				for (i = 0; i < n / k; i++)
					if (write(sv[0], buf_plain, size) != (ssize_t)size)
						_exit(1);
				_exit(0);
			}
			close(sv[0]);
			close(sv[1]);
		}
		close(go[0]);
		t0 = now();
		close(go[1]);
		while (wait(NULL) > 0)
			;
		printf("plain-k msgs_per_s=%.0f\n", (double)(n / k * k) / (now() - t0));
		return 0;
	}
	if (strcmp(cmd, "raw") == 0)
		return raw(argc - 2, argv + 2);
	if (strcmp(cmd, "fds") == 0) {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;

		if (d == NULL)
			return 1;
		printf("fds");
		/* in order: the kernel lists them so */
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
				printf(" %s", de->d_name);
		printf("\n");
		closedir(d);
		return 0;
	}
	c = ward_client_open();
	if (c == NULL) {
		printf("error ENOENT no broker descriptor: %s\n", strerror(errno));
		return 1;
	}
	if (getenv("WARD_SNDBUF")) {
		int sz = atoi(getenv("WARD_SNDBUF"));

		setsockopt(ward_client_fd(c), SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	if (getenv("WARD_SEND_BATCH")) {
		r = ward_set_send_batch(c, (unsigned)atoi(getenv("WARD_SEND_BATCH")));
		if (r < 0)
			return err(c, r);
	}
	if (strcmp(cmd, "serve") == 0 && argc == 4) {
		int pfd = ward_provide(c, argv[2]), i, n = atoi(argv[3]);

		if (pfd < 0)
			return err(c, pfd);
		printf("ready\n");
		for (i = 0; i < n; i++) {
			char from[80], buf[4096];
			int fd = ward_accept(pfd, from, sizeof(from));
			ssize_t k, j;

			if (fd < 0)
				return err(NULL, fd);
			k = read(fd, buf, sizeof(buf));
			for (j = 0; j < k; j++)
				buf[j] = (char)toupper((unsigned char)buf[j]);
			if (k > 0 && full_write(fd, buf, (size_t)k) < 0)
				return 1;
			printf("served %s\n", from);
			close(fd);
		}
		return 0;
	}
	if (strcmp(cmd, "connect") == 0 && argc == 4) {
		char buf[4096];
		int fd = ward_connect(c, argv[2], 0);
		ssize_t k;

		if (fd < 0)
			return err(c, fd);
		if (full_write(fd, argv[3], strlen(argv[3])) < 0)
			return 1;
		k = read(fd, buf, sizeof(buf) - 1);
		if (k < 0)
			return 1;
		buf[k] = '\0';
		printf("answer %s\n", buf);
		return 0;
	}
	if (strcmp(cmd, "flood") == 0 && argc == 4) {
		long n = atol(argv[3]), i, ok = 0, bad = 0;
		int first = 0;

		/* Synchronous sends, so each refusal is counted. */
		for (i = 0; i < n; i++) {
			char m[32];

			snprintf(m, sizeof(m), "m%ld", i);
			r = ward_send(c, argv[2], m, strlen(m));
			if (r == 0) {
				ok++;
			} else {
				bad++;
				if (!first)
					first = -r;
			}
		}
		printf("sent %ld ok %ld err %ld first=%s\n", n, ok, bad,
		       first ? ename(first) : "-");
		if (first)
			printf("text %s\n", ward_client_strerror(c));
		return 0;
	}
	if (strcmp(cmd, "reopen") == 0 && argc == 3) {
		char proc[64];
		int fd = ward_open(c, argv[2], O_RDONLY), fd2, fd3, we, re;

		if (fd < 0)
			return err(c, fd);
		we = write(fd, "x", 1) < 0 ? errno : 0;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		fd2 = open(proc, O_RDWR);
		re = fd2 < 0 ? errno : 0;
		fd3 = open(proc, O_RDONLY);
		printf("write %s reopen %s reopen-ro %s\n", we ? ename(we) : "ok",
		       re ? ename(re) : "ok", fd3 < 0 ? ename(errno) : "ok");
		return 0;
	}
	if (strcmp(cmd, "recv-n") == 0 && argc == 3) {
		long n = atol(argv[2]), i;
		char buf[65536];

		for (i = 0; i < n; i++) {
			ssize_t k = ward_recv(c, buf, sizeof(buf), NULL, 0, 10000);

			if (k < 0)
				return err(c, (int)k);
		}
		printf("got %ld\n", n);
		return 0;
	}
	if (strcmp(cmd, "ready-recv") == 0 || strcmp(cmd, "wait-broker") == 0) {
		char buf[65536], from[80];
		ssize_t k;

		printf("ready\n");
		k = ward_recv(c, buf, sizeof(buf) - 1, from, sizeof(from), -1);
		if (k < 0)
			return err(c, (int)k);
		buf[k] = '\0';
		printf("message %s %s\n", from[0] ? from : "(host)", buf);
		return 0;
	}
	if (strcmp(cmd, "undelivered") == 0 && argc == 3) {
		char name[80], why[1100];
		int i;

		r = ward_send(c, argv[2], "doomed", 6);
		if (r < 0)
			return err(c, r);
		printf("queued\n");
		for (i = 0; i < 3000; i++) {
			struct timespec ts = {0, 10 * 1000 * 1000};

			if (ward_undelivered(c, name, sizeof(name), why, sizeof(why)) == 1) {
				printf("undelivered %s: %s\n", name, why);
				return 0;
			}
			nanosleep(&ts, NULL);
		}
		printf("error ETIMEDOUT no notice\n");
		return 1;
	}
	if (strcmp(cmd, "send-seq") == 0 && (argc == 4 || argc == 5)) {
		long n = atol(argv[3]), first = argc == 5 ? atol(argv[4]) : 1, i;
		char m[32];

		for (i = first; i < first + n; i++) {
			snprintf(m, sizeof(m), "m%ld", i);
			r = ward_send_async(c, argv[2], m, strlen(m));
			if (r < 0)
				return err(c, r);
		}
		r = ward_flush(c);
		return r < 0 ? err(c, r) : 0;
	}
	if (strcmp(cmd, "send-alternate") == 0 && argc == 5) {
		long n = atol(argv[4]), i;
		char m[32];

		/* m1 to A, x1 to B, m2 to A, ...: pipelined, then one flush. */
		for (i = 1; i <= n; i++) {
			snprintf(m, sizeof(m), "m%ld", i);
			r = ward_send_async(c, argv[2], m, strlen(m));
			if (r == 0)
				r = ward_send_async(c, argv[3], "x", 1);
			if (r < 0)
				return err(c, r);
		}
		r = ward_flush(c);
		printf("sent %ld first=%s missing %s\n", 2 * n, r < 0 ? ename(-r) : "-",
		       ward_client_missing(c));
		return 0;
	}
	if (strcmp(cmd, "recv-seq") == 0 && (argc == 4 || argc == 5)) {
		long n = atol(argv[2]), i;
		char m[64], want[32];
		/* How long one message may take: longer across hosts, where a
		 * RabbitMQ node may be restarting. */
		int wait_ms = argc == 5 ? atoi(argv[4]) : 20000;

		ward_set_prefetch(c, (unsigned)atoi(argv[3]));
		printf("ready\n");
		for (i = 1; i <= n; i++) {
			ssize_t k = ward_recv(c, m, sizeof(m) - 1, NULL, 0, wait_ms);

			if (k < 0)
				return err(c, (int)k);
			m[k] = '\0';
			snprintf(want, sizeof(want), "m%ld", i);
			if (strcmp(m, want) != 0) {
				printf("out of order at %ld: %s\n", i, m);
				return 1;
			}
		}
		/* With a wait given: nothing more comes (no second copy). */
		if (argc == 5) {
			ssize_t k = ward_recv(c, m, sizeof(m) - 1, NULL, 0, 3000);

			if (k >= 0) {
				m[k] = '\0';
				printf("extra %s\n", m);
				return 1;
			}
		}
		printf("in order %ld\n", n);
		return 0;
	}
	if (strcmp(cmd, "bench-mb-send") == 0 && (argc == 5 || argc == 6)) {
		long n = atol(argv[3]), i;
		size_t size = (size_t)atol(argv[4]);
		static char buf[65536];

		/* Many senders start together: each says it is armed, then waits
		 * for the go file. */
		if (argc == 6)
			printf("armed\n");
		for (i = 0; argc == 6 && access(argv[5], F_OK) != 0 && i < 60000; i++)
			usleep(1000);
		for (i = 0; i < n; i++) {
			r = ward_send_async(c, argv[2], buf, size);
			if (r == -EAGAIN) {
				/* Back-pressure: wait for room, and go on. */
				r = ward_flush(c);
				r = ward_send_wait(c, argv[2], buf, size);
			}
			if (r < 0)
				return err(c, r);
		}
		r = ward_flush(c);
		if (r < 0 && r != -EAGAIN)
			return err(c, r);
		return 0;
	}
	if (strcmp(cmd, "bench-mb-recv") == 0 && argc == 4) {
		long n = atol(argv[2]), i;
		static char buf[65536];
		double t0 = 0;

		ward_set_prefetch(c, (unsigned)atoi(argv[3]));
		printf("ready\n");
		for (i = 0; i < n; i++) {
			ssize_t k = ward_recv(c, buf, sizeof(buf), NULL, 0, -1);

			if (k < 0)
				return err(c, (int)k);
			if (i == 0)
				t0 = now();
		}
		{
			double t1 = now();

			printf("mailbox msgs_per_s=%.0f t0=%.6f t1=%.6f\n",
			       (double)(n - 1) / (t1 - t0), t0, t1);
		}
		return 0;
	}
	if ((strcmp(cmd, "bench-mb-ping") == 0 || strcmp(cmd, "bench-mb-pong") == 0) && argc == 4) {
		long n = atol(argv[3]), i;
		bool ping = cmd[10] == 'i';
		char buf[65536] = {0};
		double *lat = malloc(sizeof(double) * (size_t)n);

		if (!ping)
			printf("ready\n");
		for (i = 0; i < n; i++) {
			double a = now();
			ssize_t k;

			if (ping) {
				r = ward_send(c, argv[2], buf, 64);
				if (r < 0)
					return err(c, r);
			}
			k = ward_recv(c, buf, sizeof(buf), NULL, 0, 10000);
			if (k < 0)
				return err(c, (int)k);
			if (!ping) {
				r = ward_send(c, argv[2], buf, (size_t)k);
				if (r < 0)
					return err(c, r);
			}
			lat[i] = now() - a;
		}
		if (ping)
			latency_report("mailbox-rtt", lat, n);
		return 0;
	}
	if (strcmp(cmd, "bench-svc-serve") == 0 && argc == 4) {
		int pfd = ward_provide(c, argv[2]), fd;

		if (pfd < 0)
			return err(c, pfd);
		printf("ready\n");
		fd = ward_accept(pfd, NULL, 0);
		if (fd < 0)
			return err(NULL, fd);
		pair_receiver(fd, atol(argv[3]));
		return 0;
	}
	if (strcmp(cmd, "bench-svc") == 0 && argc == 5) {
		int fd = ward_connect(c, argv[2], WARD_CONNECT_SEQPACKET);

		if (fd < 0)
			return err(c, fd);
		pair_sender(fd, atol(argv[3]), (size_t)atol(argv[4]), "service");
		return 0;
	}
	(void)full_read;
	return 2;
}
