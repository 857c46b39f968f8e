// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the broker, as environments reach it.
 *
 * 1. The decoder (lib/broker/proto.c), which reads whatever an environment
 *    sends.  A decoded message is encoded again and must decode to the same
 *    thing.
 * 2. The daemon itself: its real event loop (bk_core_*, lib/broker/daemon.c)
 *    over socket pairs, with a control connection that registers four
 *    environments with different entitlements.  An input is sent as one
 *    packet from an environment; an input that starts with "SEQ\n" is a
 *    script of requests over the four environments' connections and the
 *    control connection, in any order: sends and receives, services
 *    provided and connected to, files opened, answers read or left unread,
 *    descriptors kept or closed, environments closed and registered again.
 *    Under ASan+UBSan (tests/fuzz/run.sh) a use after free between requests
 *    (issue 11 item 12) or a leak is found here, not only a bad read in the
 *    decoder; and after each input every descriptor the broker opened must
 *    be closed again (a descriptor leak aborts).
 *
 *   script  "SEQ\n" then operations, each an opcode byte (mod 8) and its
 *           argument bytes (the script ends where they run out):
 *     0 K TYPE NAME PATH FLAGS COUNT DLEN   a request from environment K
 *     1 K LEN_LO LEN_HI BYTES...            raw bytes from environment K
 *     2 TYPE NAME FLAGS DLEN                a request on the control socket
 *     3 K                                   read what K was sent; keep fds
 *     4 K I                                 close K's I-th kept descriptor
 *     5 K SET                               close K, register it again
 *     6                                     run the loop once more
 *     7 K COUNT                             K asks for COUNT messages ahead
 *   tests/broker/corpus/seq-* are seeds (and regressions) in this form.
 *
 * The daemon's sources are compiled into this file (the #includes below):
 * tests/fuzz/run.sh gives every target the same list of sources, in which
 * the broker has only proto.c.
 *
 *   tests/fuzz/run.sh broker
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/broker/control.c"
#include "../../lib/broker/daemon.c"
#include "../../lib/broker/log.c"
#include "../../lib/broker/mailbox.c"
#include "../../lib/broker/open.c"
#include "../../lib/broker/policy.c"
#include "../../lib/broker/registry.c"
#include "../../lib/broker/service.c"
#include "../../lib/broker/wire.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- 1. the decoder ---- */

static void put_str(struct ward_proto_buf *b, uint16_t tag, struct ward_proto_str s)
{
	ward_proto_put(b, tag, s.p, s.len);
}

static void decoder_round_trip(const uint8_t *data, size_t size)
{
	static struct ward_proto_msg m, m2;
	static uint8_t out[WARD_PROTO_MAX_PACKET];
	struct ward_proto_buf b;
	const char *why;
	uint32_t i;
	long n;

	if (ward_proto_decode(data, size, &m, &why) < 0) {
		if (why == NULL)
			abort();
		return;
	}
	ward_proto_begin(&b, out, sizeof(out), m.type, m.id);
	if (ward_proto_has(&m, WARD_ATTR_NAME))
		put_str(&b, WARD_ATTR_NAME, m.name);
	if (ward_proto_has(&m, WARD_ATTR_DATA))
		ward_proto_put(&b, WARD_ATTR_DATA, m.data, m.data_len);
	if (ward_proto_has(&m, WARD_ATTR_CODE))
		ward_proto_put_u32(&b, WARD_ATTR_CODE, m.code);
	if (ward_proto_has(&m, WARD_ATTR_TEXT))
		put_str(&b, WARD_ATTR_TEXT, m.text);
	if (ward_proto_has(&m, WARD_ATTR_FLAGS))
		ward_proto_put_u32(&b, WARD_ATTR_FLAGS, m.flags);
	if (ward_proto_has(&m, WARD_ATTR_PATH))
		put_str(&b, WARD_ATTR_PATH, m.path);
	if (ward_proto_has(&m, WARD_ATTR_FROM))
		put_str(&b, WARD_ATTR_FROM, m.from);
	for (i = 0; i < m.n_ent; i++)
		put_str(&b, WARD_ATTR_ENT, m.ent[i]);
	if (ward_proto_has(&m, WARD_ATTR_PID))
		ward_proto_put_u32(&b, WARD_ATTR_PID, m.pid);
	if (ward_proto_has(&m, WARD_ATTR_DEPTH))
		ward_proto_put_u32(&b, WARD_ATTR_DEPTH, m.depth);
	if (ward_proto_has(&m, WARD_ATTR_LIMIT))
		ward_proto_put_u32(&b, WARD_ATTR_LIMIT, m.limit);
	if (ward_proto_has(&m, WARD_ATTR_COUNT))
		ward_proto_put_u32(&b, WARD_ATTR_COUNT, m.count);
	for (i = 0; i < m.n_service; i++)
		put_str(&b, WARD_ATTR_SERVICE, m.service[i]);
	n = ward_proto_end(&b);
	if (n < 0 || (size_t)n > size)
		abort(); /* the canonical form is never longer than the input */
	if (ward_proto_decode(out, (size_t)n, &m2, &why) < 0)
		abort();
	if (m2.type != m.type || m2.id != m.id || m2.present != m.present || m2.n_ent != m.n_ent ||
	    m2.n_service != m.n_service || m2.data_len != m.data_len || m2.name.len != m.name.len ||
	    m2.code != m.code || m2.flags != m.flags)
		abort();
	if (m.data_len && memcmp(m2.data, m.data, m.data_len) != 0)
		abort();
}

/* ---- 2. the daemon ---- */

#define N_ENV  4u
#define N_KEEP 8u
#define N_OPS  256u

struct slot {
	int fd;		  /* our end of the environment's connection; -1: none */
	int keep[N_KEEP]; /* descriptors it was given: channels, sockets, files */
	unsigned n_keep;
	uint32_t next_id;
};

static struct slot S[N_ENV];
static int ctl = -1;
static char grant_dir[64];
static char *ent_sets[4][6];
static const char *const names[] = {"e0", "e1", "e2", "e3", "svc-a", "svc-b", "svc-c", "x"};
static char *paths[10];
static uint8_t pkt[WARD_PROTO_MAX_REQUEST], rbuf[WARD_PROTO_MAX_PACKET];
static uint8_t payload[WARD_PROTO_MAX_DATA];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void cleanup_dir(void)
{
	nftw(grant_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Once: a directory to grant api.open on, with a file, a subdirectory, a
 * FIFO and a link that leads out; the entitlement sets of the four. */
static void setup_once(void)
{
	static bool done;
	char p[128];
	int fd;

	if (done)
		return;
	done = true;
	snprintf(grant_dir, sizeof(grant_dir), "/tmp/ward-fuzz-broker-XXXXXX");
	if (mkdtemp(grant_dir) == NULL)
		abort();
	atexit(cleanup_dir);
	snprintf(p, sizeof(p), "%s/f", grant_dir);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		(void)!write(fd, "data\n", 5);
		close(fd);
	}
	snprintf(p, sizeof(p), "%s/sub", grant_dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sub/g", grant_dir);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof(p), "%s/fifo", grant_dir);
	mkfifo(p, 0644);
	snprintf(p, sizeof(p), "%s/out", grant_dir);
	(void)!symlink("/etc/passwd", p);

	ent_sets[0][0] = ward_xstrdup("ipc.recv");
	ent_sets[0][1] = ward_xstrdup("ipc.send=*");
	ent_sets[0][2] = ward_xstrdup("service.provide=svc-*");
	ent_sets[0][3] = ward_xstrdup("service.connect=svc-*");
	ent_sets[0][4] = ward_xasprintf("api.open=%s:rw", grant_dir);
	ent_sets[1][0] = ward_xstrdup("ipc.recv");
	ent_sets[1][1] = ward_xstrdup("ipc.send=e0");
	ent_sets[1][2] = ward_xstrdup("service.connect=svc-a");
	ent_sets[1][3] = ward_xasprintf("api.open=%s/sub:ro", grant_dir);
	ent_sets[2][0] = ward_xstrdup("ipc.send=e*");
	ent_sets[2][1] = ward_xstrdup("service.provide=svc-a");
	/* set 3: no entitlement at all */

	paths[0] = ward_xstrdup(grant_dir);
	paths[1] = ward_xasprintf("%s/f", grant_dir);
	paths[2] = ward_xasprintf("%s/sub", grant_dir);
	paths[3] = ward_xasprintf("%s/sub/g", grant_dir);
	paths[4] = ward_xasprintf("%s/out", grant_dir);
	paths[5] = ward_xasprintf("%s/fifo", grant_dir);
	paths[6] = ward_xasprintf("%s/new", grant_dir);
	paths[7] = ward_xasprintf("%s/sub/new", grant_dir);
	paths[8] = ward_xstrdup("/etc/passwd");
	paths[9] = ward_xasprintf("%s//./sub/../f", grant_dir);
	memset(payload, 'm', sizeof(payload));
	/* The log goes nowhere: it is exercised, not read. */
	bk_log_to_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
}

static void step(void)
{
	unsigned i;

	for (i = 0; i < 3; i++)
		bk_core_step(0);
}

static void keep_fd(struct slot *s, int fd)
{
	if (fd < 0)
		return;
	if (s->n_keep == N_KEEP) {
		close(s->keep[0]);
		memmove(s->keep, s->keep + 1, (N_KEEP - 1) * sizeof(int));
		s->n_keep--;
	}
	s->keep[s->n_keep++] = fd;
}

/* Read what is waiting on fd; descriptors that came with it are kept in
 * s (or closed).  Returns the type of the last packet, 0 at end of stream. */
static int drain_fd(int fd, struct slot *s)
{
	int last = -1;

	for (;;) {
		int got = -1;
		ssize_t n = ward_wire_recv(fd, rbuf, sizeof(rbuf), &got, NULL, MSG_DONTWAIT);

		if (n <= 0)
			return n == 0 ? 0 : last;
		if (s)
			keep_fd(s, got);
		else if (got >= 0)
			close(got);
		last = n >= 4 ? rbuf[2] | rbuf[3] << 8 : -1;
	}
}

static void drain_ctl(void)
{
	if (ctl >= 0 && drain_fd(ctl, NULL) == 0) {
		close(ctl);
		ctl = -1;
	}
}

static void slot_close(struct slot *s)
{
	unsigned i;

	for (i = 0; i < s->n_keep; i++)
		close(s->keep[i]);
	s->n_keep = 0;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static void send_on(int fd, const void *p, size_t n)
{
	if (fd >= 0)
		(void)ward_wire_send(fd, p, n, -1, MSG_DONTWAIT);
}

/* Register environment k (named ek) with entitlement set `set`. */
static void slot_register(unsigned k, unsigned set)
{
	struct ward_proto_buf b;
	char name[8];
	unsigned i, tries;
	long n;

	slot_close(&S[k]);
	step(); /* the old one leaves first: its name is free again */
	if (ctl < 0)
		return;
	snprintf(name, sizeof(name), "e%u", k);
	ward_proto_begin(&b, pkt, sizeof(pkt), WARD_MSG_REGISTER, 1000 + k);
	ward_proto_put_str(&b, WARD_ATTR_NAME, name);
	ward_proto_put_u32(&b, WARD_ATTR_PID, (uint32_t)getpid());
	for (i = 0; i < 6 && ent_sets[set % 4][i]; i++)
		ward_proto_put_str(&b, WARD_ATTR_ENT, ent_sets[set % 4][i]);
	n = ward_proto_end(&b);
	send_on(ctl, pkt, (size_t)n);
	for (tries = 0; tries < 8 && S[k].fd < 0; tries++) {
		struct ward_proto_msg m;
		const char *why;
		int got = -1;
		ssize_t r;

		step();
		r = ward_wire_recv(ctl, rbuf, sizeof(rbuf), &got, NULL, MSG_DONTWAIT);
		if (r <= 0)
			continue;
		if (ward_proto_decode(rbuf, (size_t)r, &m, &why) == 0 && m.type == WARD_MSG_OK &&
		    m.id == 1000 + k && got >= 0) {
			S[k].fd = got;
			(void)fcntl(got, F_SETFL, O_NONBLOCK);
		} else if (got >= 0) {
			close(got);
		}
	}
}

struct reader {
	const uint8_t *p;
	size_t n;
	bool out;
};

static unsigned get8(struct reader *r)
{
	if (r->n == 0) {
		r->out = true;
		return 0;
	}
	r->n--;
	return *r->p++;
}

/* A well-formed request, so that the fuzzer spends its time past the
 * decoder: TYPE picks the request, NAME and PATH index small tables. */
static long build(uint16_t type, uint32_t id, unsigned name, unsigned path, unsigned flags,
		  unsigned count, unsigned dlen)
{
	static const uint16_t types[] = {
		WARD_MSG_HELLO,	   WARD_MSG_SEND,    WARD_MSG_RECV,    WARD_MSG_LOOKUP,
		WARD_MSG_CONNECT,  WARD_MSG_PROVIDE, WARD_MSG_OPEN,    WARD_MSG_SEND,
		WARD_MSG_REGISTER, WARD_MSG_PS,	     WARD_MSG_MESSAGE, WARD_MSG_RECV,
	};
	struct ward_proto_buf b;
	uint16_t t = types[type % ARRAY_SIZE(types)];

	ward_proto_begin(&b, pkt, sizeof(pkt), t, id);
	switch (t) {
	case WARD_MSG_SEND:
		ward_proto_put_str(&b, WARD_ATTR_NAME, names[name % ARRAY_SIZE(names)]);
		ward_proto_put(&b, WARD_ATTR_DATA, payload, (size_t)dlen * 257u);
		break;
	case WARD_MSG_LOOKUP:
	case WARD_MSG_CONNECT:
	case WARD_MSG_PROVIDE:
		ward_proto_put_str(&b, WARD_ATTR_NAME, names[name % ARRAY_SIZE(names)]);
		break;
	case WARD_MSG_OPEN:
		ward_proto_put_str(&b, WARD_ATTR_PATH, paths[path % ARRAY_SIZE(paths)]);
		break;
	case WARD_MSG_RECV:
		ward_proto_put_u32(&b, WARD_ATTR_COUNT, count * 5u);
		break;
	case WARD_MSG_MESSAGE:
		ward_proto_put(&b, WARD_ATTR_DATA, payload, 1);
		break;
	default:
		break;
	}
	if (flags & 0x80u)
		ward_proto_put_u32(&b, WARD_ATTR_FLAGS, flags & 0x1fu);
	return ward_proto_end(&b);
}

static void script(struct reader *r)
{
	unsigned ops;

	for (ops = 0; ops < N_OPS && !r->out; ops++) {
		unsigned op = get8(r) % 8u, k, a, c, d, e, f, g;
		uint32_t id;
		long n;

		switch (op) {
		case 0:
			k = get8(r) % N_ENV;
			a = get8(r), c = get8(r), d = get8(r), e = get8(r), f = get8(r),
			g = get8(r);
			if (r->out)
				return;
			id = ++S[k].next_id;
			n = build((uint16_t)a, id, c, d, e, f, g);
			if (n > 0)
				send_on(S[k].fd, pkt, (size_t)n);
			break;
		case 1: {
			size_t len;

			k = get8(r) % N_ENV;
			len = get8(r);
			len |= (size_t)get8(r) << 8;
			if (len > r->n)
				len = r->n;
			if (r->out)
				return;
			send_on(S[k].fd, r->p, len);
			r->p += len;
			r->n -= len;
			break;
		}
		case 2:
			a = get8(r), c = get8(r), d = get8(r), e = get8(r);
			if (r->out)
				return;
			/* The operator sends, looks up and lists. */
			n = build((uint16_t)(a % 2 ? 1 : a % 4 ? 3 : 9), 2000 + ops, c, 0, d, 0, e);
			if (n > 0)
				send_on(ctl, pkt, (size_t)n);
			break;
		case 3:
			k = get8(r) % N_ENV;
			if (S[k].fd >= 0 && drain_fd(S[k].fd, &S[k]) == 0)
				slot_close(&S[k]);
			/* What arrived on kept descriptors (a service's CONN
			 * with its socket): read, and those sockets closed. */
			for (a = 0; a < S[k].n_keep; a++)
				(void)drain_fd(S[k].keep[a], NULL);
			break;
		case 4:
			k = get8(r) % N_ENV;
			a = get8(r);
			if (S[k].n_keep) {
				a %= S[k].n_keep;
				close(S[k].keep[a]);
				S[k].keep[a] = S[k].keep[--S[k].n_keep];
			}
			break;
		case 5:
			k = get8(r) % N_ENV;
			a = get8(r);
			if (!r->out)
				slot_register(k, a);
			break;
		case 6:
			break;
		default:
			k = get8(r) % N_ENV;
			a = get8(r);
			n = build(11, ++S[k].next_id, 0, 0, 0x81, a, 0);
			if (n > 0)
				send_on(S[k].fd, pkt, (size_t)n);
			break;
		}
		step();
		drain_ctl();
	}
}

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned n = 0;

	if (d == NULL)
		abort();
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void daemon_run(const uint8_t *data, size_t size)
{
	struct ward_broker_options o = {.queue_depth = 8, .queue_bytes = 256 * 1024};
	unsigned k, fds_before;
	int sv[2];

	setup_once();
	fds_before = count_fds();
	bk_core_config(&o);
	if (bk_core_start() < 0)
		abort();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	ctl = sv[0];
	if (bk_core_adopt_control(sv[1]) == NULL)
		abort();
	for (k = 0; k < N_ENV; k++) {
		S[k].fd = -1;
		S[k].n_keep = 0;
		S[k].next_id = 0;
		slot_register(k, k);
	}
	if (size >= 4 && memcmp(data, "SEQ\n", 4) == 0) {
		struct reader r = {data + 4, size - 4, false};

		script(&r);
	} else if (size <= WARD_PROTO_MAX_REQUEST) {
		send_on(S[0].fd, data, size);
		step();
		(void)drain_fd(S[0].fd >= 0 ? S[0].fd : -1, &S[0]);
	}
	/* Everything closes: environments leave, services end, the broker
	 * frees what it held (a leak shows at exit). */
	for (k = 0; k < N_ENV; k++)
		slot_close(&S[k]);
	step();
	bk_core_stop();
	if (ctl >= 0)
		close(ctl);
	ctl = -1;
	if (count_fds() != fds_before) {
		fprintf(stderr, "fuzz_broker: %u descriptors before, %u after\n", fds_before,
			count_fds());
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decoder_round_trip(data, size);
	daemon_run(data, size);
	return 0;
}
