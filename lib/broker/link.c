/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mailboxes across hosts (docs/remote.md): the broker's side of the link to
 * the RabbitMQ node.
 *
 * The AMQP client runs in ward-mq, a process of its own (src/broker/ward_mq.c)
 * joined to the broker by a SOCK_SEQPACKET socket pair: rabbitmq-c blocks,
 * and the event loop must not.  The broker keeps the host key: it signs
 * what its environments send to NAME@HOST, and verifies, checks and
 * delivers what arrives.  ward-mq only moves frames.
 *
 * Sending: a SEND to inventory@b (allowed by ipc.send=inventory@b) becomes a
 * signed frame handed to ward-mq, which publishes it to the durable queue
 * ward.b with publisher confirms.  The sender's OK comes when RabbitMQ has
 * confirmed it (it is on the node's disk then); a nack is an EIO error.
 * At most max_inflight frames wait for confirms; past that a send is
 * refused with EAGAIN, or, with WARD_SEND_F_WAIT, waits (counted with the
 * sender's parked sends): back-pressure, never a silent drop.  If ward-mq
 * dies, it is started again and is handed every frame not confirmed yet.
 *
 * Receiving: each frame from ward.<this host> is decoded, its sending host
 * must be a listed peer, its signature must verify with that peer's key,
 * and its id must not have been seen within the replay window; else it is
 * dropped and logged (nobody authentic to tell).  An authentic message is
 * then checked against the peer's policy (--peer-allow) and the receiver's
 * ipc.recv, and delivered into the local mailbox, or refused with a signed
 * notice back to the sending host, which tells the sender UNDELIVERED.
 * Only then is it acknowledged to RabbitMQ.  A message for a mailbox that
 * is full, or for an environment not running yet, waits (within RabbitMQ's
 * prefetch) for up to HOLD_MS, in order per receiver.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "../util.h"
#include "internal.h"
#include "remote.h"

#ifndef WARD_LIBEXECDIR
#define WARD_LIBEXECDIR "/usr/local/libexec/ward"
#endif
#define HELPER	       "ward-mq"
#define HOLD_MS	       30000u /* an undeliverable message waits this long */
#define TICK_MS	       100
#define MAX_LINK_PKT   (80u << 10)
#define MAX_LINK_OUT   (32u << 20) /* bytes waiting to be written to ward-mq */
#define SENT_RING      4096u	   /* ids of messages sent, for notices that come back */
#define RESTART_MS     1000u
#define SEEN_FILE      "remote.seen"
#define SEEN_REC       (WARD_REMOTE_ID_BYTES + 8u)
#define MAX_FAILED_LOG 20u  /* frames dropped that are logged one by one */
#define MAX_ACKS       512u /* acknowledgements in one packet to ward-mq */

struct lk_out {
	struct lk_out *next;
	uint64_t seq;
	struct conn *sender; /* NULL once gone */
	uint32_t send_id;
	bool sent, parked;
	char from[WARD_PROTO_MAX_NAME + 1];
	char to[WARD_PROTO_MAX_NAME + 1]; /* NAME@HOST */
	char host[WARD_PROTO_MAX_NAME + 1];
	uint8_t id[WARD_REMOTE_ID_BYTES];
	size_t len;
	uint8_t frame[];
};

struct lk_in {
	struct lk_in *next;
	uint64_t tag;
	unsigned gen;			       /* the ward-mq whose tag it is */
	bool checked;			       /* its id passed the replay window */
	char to_name[WARD_PROTO_MAX_NAME + 1]; /* its receiver ("" if it does not decode) */
	uint64_t since;
	size_t len;
	uint8_t frame[];
};

struct lk_pkt {
	struct lk_pkt *next;
	size_t len;
	uint8_t data[];
};

struct sent_rec {
	uint8_t id[WARD_REMOTE_ID_BYTES];
	uint32_t send_id;
	uint64_t serial; /* the sending environment */
};

static struct {
	bool on;
	struct ward_remote_config cfg;
	char dir[PATH_MAX];
	struct conn c; /* CONN_LINK: our end of the socket pair */
	pid_t pid;
	unsigned gen;
	bool up;
	char state[300], state_text[300];
	uint64_t restart_at;
	uint64_t next_seq;
	struct lk_out *out, *out_tail;
	unsigned n_inflight, n_waiting;
	struct lk_in *in, *in_tail;
	unsigned n_in;
	struct lk_pkt *wq, *wq_tail;
	size_t wq_bytes;
	struct ward_seen seen;
	int seen_fd;
	size_t seen_records;
	struct sent_rec ring[SENT_RING];
	unsigned ring_at;
	uint32_t depth[WARD_REMOTE_MAX_PEERS + 1]; /* [0] this host, [1+i] peer i */
	uint64_t n_sent, n_received, n_refused, n_dropped;
	unsigned dropped_logged;
	uint8_t fbuf[WARD_REMOTE_MAX_FRAME];
	uint8_t acks[1 + 8 * MAX_ACKS];
	unsigned n_acks;
	uint8_t pbuf[MAX_LINK_PKT];
	size_t plen;
} L = {.seen_fd = -1, .c = {.fd = -1}};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void hex_id(const uint8_t id[WARD_REMOTE_ID_BYTES], char out[2 * WARD_REMOTE_ID_BYTES + 1])
{
	static const char h[] = "0123456789abcdef";

	for (unsigned i = 0; i < WARD_REMOTE_ID_BYTES; i++) {
		out[2 * i] = h[id[i] >> 4];
		out[2 * i + 1] = h[id[i] & 15];
	}
	out[2 * WARD_REMOTE_ID_BYTES] = '\0';
}

bool bk_link_on(void)
{
	return L.on;
}

/* ---- writing to ward-mq ---- */

static void link_events(void)
{
	struct epoll_event ev = {.events = EPOLLIN | (L.wq ? EPOLLOUT : 0u), .data.ptr = &L.c};

	if (L.c.fd >= 0)
		epoll_ctl(B.ep, EPOLL_CTL_MOD, L.c.fd, &ev);
}

static void wq_flush(void)
{
	while (L.wq && L.c.fd >= 0) {
		struct lk_pkt *p = L.wq;

		if (send(L.c.fd, p->data, p->len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return; /* the hang-up is seen on the next read */
		}
		L.wq = p->next;
		if (L.wq == NULL)
			L.wq_tail = NULL;
		L.wq_bytes -= p->len;
		free(p);
	}
	link_events();
}

/* The broker writes to ward-mq without blocking; what does not fit waits
 * here (bounded: the frames in flight are, and acknowledgements are at most
 * RabbitMQ's prefetch). */
static void to_mq(const void *a, size_t alen, const void *b, size_t blen)
{
	struct lk_pkt *p;

	if (L.c.fd < 0)
		return;
	if (L.wq == NULL) {
		struct iovec iov[2] = {{(void *)a, alen}, {(void *)b, blen}};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = blen ? 2 : 1};

		if (sendmsg(L.c.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return;
		if (errno != EAGAIN && errno != EINTR)
			return;
	}
	p = ward_xmalloc(sizeof(*p) + alen + blen);
	p->next = NULL;
	p->len = alen + blen;
	memcpy(p->data, a, alen);
	if (blen)
		memcpy(p->data + alen, b, blen);
	if (L.wq_tail)
		L.wq_tail->next = p;
	else
		L.wq = p;
	L.wq_tail = p;
	L.wq_bytes += p->len;
	link_events();
}

/* Frames of one round of the loop travel to ward-mq in one packet
 * (written by bk_link_tick, or when the next would not fit). */
static void pubs_flush(void)
{
	if (L.plen)
		to_mq(L.pbuf, L.plen, NULL, 0);
	L.plen = 0;
}

static void mq_publish(struct lk_out *o)
{
	uint64_t seq = htole64(o->seq);
	uint32_t fl = htole32((uint32_t)o->len);
	size_t hl = strlen(o->host);

	if (L.plen + 13 + hl + o->len > sizeof(L.pbuf))
		pubs_flush();
	if (L.plen == 0)
		L.pbuf[L.plen++] = 'P';
	memcpy(L.pbuf + L.plen, &seq, 8);
	L.pbuf[L.plen + 8] = (uint8_t)hl;
	memcpy(L.pbuf + L.plen + 9, o->host, hl);
	memcpy(L.pbuf + L.plen + 9 + hl, &fl, 4);
	memcpy(L.pbuf + L.plen + 13 + hl, o->frame, o->len);
	L.plen += 13 + hl + o->len;
	if (!o->sent) {
		o->sent = true;
		L.n_inflight++;
	}
}

/* Acknowledgements of one round of the loop travel in one packet
 * (bk_link_tick, or when full): ward-mq then acknowledges a run of them
 * with one basic.ack (multiple). */
static void acks_flush(void)
{
	if (L.n_acks == 0)
		return;
	L.acks[0] = 'A';
	to_mq(L.acks, 1 + 8 * (size_t)L.n_acks, NULL, 0);
	L.n_acks = 0;
}

static void mq_ack(const struct lk_in *in)
{
	uint64_t tag = htole64(in->tag);

	/* A tag of an earlier ward-mq is void: RabbitMQ delivers that message
	 * again, and its id is known by then. */
	if (in->gen != L.gen)
		return;
	memcpy(L.acks + 1 + 8 * (size_t)L.n_acks, &tag, 8);
	if (++L.n_acks == MAX_ACKS)
		acks_flush();
}

/* ---- starting ward-mq ---- */

static int open_helper(void)
{
	char self[PATH_MAX];
	cleanup_free char *beside = NULL;
	const char *tried[2] = {NULL, WARD_LIBEXECDIR "/" HELPER};
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0 && self[0] == '/') {
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		beside = ward_xasprintf("%s/" HELPER, self);
		tried[0] = beside;
	}
	for (unsigned i = 0; i < 2; i++) {
		struct stat st;
		int fd;

		if (tried[i] == NULL)
			continue;
		fd = open(tried[i], O_PATH | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* It gets the AMQP password: only a file of root's (or the
		 * broker's user) that nobody else may replace. */
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		    (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
			bk_log("remote: %s is not a file of root's that only root can write: not "
			       "started",
			       tried[i]);
			close(fd);
			return -1;
		}
		return fd;
	}
	bk_log("remote: the AMQP helper " HELPER " is neither beside ward nor in " WARD_LIBEXECDIR
	       " (build ward with librabbitmq-dev installed)");
	return -1;
}

static void send_init(void)
{
	char text[8192];
	size_t o = 0;
	int r;

	r = snprintf(text, sizeof(text), "Iurl=%s\nhost=%s\n", L.cfg.amqp_url, L.cfg.host);
	o = r > 0 ? (size_t)r : 0;
	if (L.cfg.amqp_cacert && o < sizeof(text))
		o += (size_t)snprintf(text + o, sizeof(text) - o, "cacert=%s\n", L.cfg.amqp_cacert);
	if (L.cfg.amqp_cert && L.cfg.amqp_certkey && o < sizeof(text))
		o += (size_t)snprintf(text + o, sizeof(text) - o, "cert=%s\nkey=%s\n",
				      L.cfg.amqp_cert, L.cfg.amqp_certkey);
	for (size_t i = 0; i < L.cfg.n_peers && o < sizeof(text); i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "peer=%s\n", L.cfg.peers[i].name);
	if (o >= sizeof(text))
		o = sizeof(text) - 1;
	to_mq(text, o, NULL, 0);
	sodium_memzero(text, sizeof(text));
}

static void start_helper(void)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &L.c};
	int sv[2], exe;
	pid_t pid;

	L.restart_at = 0;
	exe = open_helper();
	if (exe < 0) {
		snprintf(L.state, sizeof(L.state), "down: the AMQP helper " HELPER " is missing");
		L.restart_at = mono_ms() + 10 * RESTART_MS;
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		bk_log("remote: socketpair: %s", strerror(errno));
		close(exe);
		L.restart_at = mono_ms() + RESTART_MS;
		return;
	}
	{
		/* Room for a whole frame in each direction, and more. */
		int sz = 4 << 20;

		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	pid = fork();
	if (pid < 0) {
		bk_log("remote: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		close(exe);
		L.restart_at = mono_ms() + RESTART_MS;
		return;
	}
	if (pid == 0) {
		/* Exactly fds 0-2 (the log on 2) and the socket as 3. */
		char *const argv[] = {(char *)HELPER, NULL};
		char *const envp[] = {NULL};

		if (sv[1] == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(sv[1], 3) < 0)
			_exit(127);
		/* exe is close-on-exec too: fexecve of an ELF file does not
		 * need it open after the exec. */
		if (syscall(SYS_close_range, 4u, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
			_exit(127);
		fexecve(exe, argv, envp);
		_exit(127);
	}
	close(exe);
	close(sv[1]);
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	L.c.fd = sv[0];
	L.pid = pid;
	L.gen++;
	L.up = false;
	snprintf(L.state, sizeof(L.state), "connecting");
	epoll_ctl(B.ep, EPOLL_CTL_ADD, sv[0], &ev);
	send_init();
	/* Everything not confirmed yet, in order: this ward-mq publishes it
	 * again (a copy the node already had is dropped by its id). */
	L.plen = 0;
	for (struct lk_out *o = L.out; o; o = o->next)
		if (o->sent)
			mq_publish(o);
	pubs_flush();
}

static void helper_gone(const char *why)
{
	int st;

	if (L.c.fd >= 0) {
		epoll_ctl(B.ep, EPOLL_CTL_DEL, L.c.fd, NULL);
		close(L.c.fd);
		L.c.fd = -1;
	}
	while (L.wq) {
		struct lk_pkt *p = L.wq;

		L.wq = p->next;
		free(p);
	}
	L.wq_tail = NULL;
	L.wq_bytes = 0;
	L.n_acks = 0;
	L.plen = 0;
	if (L.pid > 0) {
		kill(L.pid, SIGTERM);
		while (waitpid(L.pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	L.pid = 0;
	L.up = false;
	snprintf(L.state, sizeof(L.state), "down: %s", why);
	bk_log("remote: the AMQP helper ended (%s); starting it again in %u s", why,
	       RESTART_MS / 1000);
	L.restart_at = mono_ms() + RESTART_MS;
}

/* ---- the replay window on disk ----
 *
 * Ids are written to DIR/remote.seen before the message they name is
 * delivered, so that a broker started again still refuses a replay of a
 * frame it delivered before (and drops a copy RabbitMQ delivers again after
 * the broker died before acknowledging).  Records are 24 bytes: the id and
 * the timestamp; the file is rewritten with the live ones at start.
 */

static void seen_open(void)
{
	cleanup_free char *path = ward_xasprintf("%s/" SEEN_FILE, L.dir);
	cleanup_free char *tmp = ward_xasprintf("%s/" SEEN_FILE ".new", L.dir);
	uint64_t now = real_ms();
	uint8_t rec[SEEN_REC];
	int fd, out;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		while (read(fd, rec, sizeof(rec)) == (ssize_t)sizeof(rec)) {
			uint64_t ts;

			memcpy(&ts, rec + WARD_REMOTE_ID_BYTES, 8);
			ts = le64toh(ts);
			if (ward_seen_check(&L.seen, rec, ts, now) == WARD_SEEN_FRESH)
				ward_seen_add(&L.seen, rec, ts);
		}
		close(fd);
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		bk_log("remote: cannot write %s: %s (replays are refused only while the broker "
		       "runs)",
		       tmp, strerror(errno));
		return;
	}
	L.seen_records = 0;
	for (struct ward_seen_ent *e = L.seen.head; e; e = e->next) {
		uint64_t ts = htole64(e->ts_ms);

		memcpy(rec, e->id, WARD_REMOTE_ID_BYTES);
		memcpy(rec + WARD_REMOTE_ID_BYTES, &ts, 8);
		if (ward_write_all(out, rec, sizeof(rec)) < 0)
			break;
		L.seen_records++;
	}
	if (rename(tmp, path) < 0) {
		close(out);
		return;
	}
	L.seen_fd = out;
	if (L.seen.n)
		bk_log("remote: %zu message ids of the last %u s remembered from %s", L.seen.n,
		       L.cfg.window_s, path);
}

static void seen_take(const uint8_t id[WARD_REMOTE_ID_BYTES], uint64_t ts)
{
	uint8_t rec[SEEN_REC];
	uint64_t le = htole64(ts);

	ward_seen_add(&L.seen, id, ts);
	if (L.seen_fd < 0)
		return;
	memcpy(rec, id, WARD_REMOTE_ID_BYTES);
	memcpy(rec + WARD_REMOTE_ID_BYTES, &le, 8);
	(void)ward_write_all(L.seen_fd, rec, sizeof(rec));
	/* Kept at most about twice what is remembered. */
	if (++L.seen_records > 2 * (size_t)WARD_REMOTE_SEEN_MAX) {
		close(L.seen_fd);
		L.seen_fd = -1;
		ward_seen_free(&L.seen);
		ward_seen_init(&L.seen, (uint64_t)L.cfg.window_s * 1000, WARD_REMOTE_SEEN_MAX);
		seen_open();
	}
}

/* ---- configuration and lifetime ---- */

int bk_link_config(const struct ward_remote_config *cfg, const char *dir)
{
	memset(&L.cfg, 0, sizeof(L.cfg));
	if (cfg == NULL || cfg->host[0] == '\0')
		return 0;
	L.cfg = *cfg; /* the caller hands its allocations over */
	snprintf(L.dir, sizeof(L.dir), "%s", dir);
	L.on = true;
	return 0;
}

void bk_link_start(void)
{
	if (!L.on)
		return;
	L.c.kind = CONN_LINK;
	L.c.tx_head = L.c.tx_tail = -1;
	ward_seen_init(&L.seen, (uint64_t)L.cfg.window_s * 1000, WARD_REMOTE_SEEN_MAX);
	seen_open();
	bk_log("remote: this is host \"%s\"; %zu peer%s; AMQP node %s", L.cfg.host, L.cfg.n_peers,
	       L.cfg.n_peers == 1 ? "" : "s",
	       strncmp(L.cfg.amqp_url, "amqps:", 6) == 0 ? "over TLS" : "without TLS");
	start_helper();
}

void bk_link_stop(void)
{
	if (!L.on)
		return;
	if (L.c.fd >= 0 || L.pid > 0) {
		int st;

		if (L.c.fd >= 0)
			close(L.c.fd);
		L.c.fd = -1;
		if (L.pid > 0) {
			kill(L.pid, SIGTERM);
			while (waitpid(L.pid, &st, 0) < 0 && errno == EINTR)
				;
		}
		L.pid = 0;
	}
	if (L.out)
		bk_log("remote: stopping with %u messages not confirmed by RabbitMQ (their "
		       "senders were not told they were sent)",
		       L.n_inflight);
	while (L.out) {
		struct lk_out *o = L.out;

		L.out = o->next;
		free(o);
	}
	while (L.in) {
		struct lk_in *i = L.in;

		L.in = i->next;
		free(i);
	}
	while (L.wq) {
		struct lk_pkt *p = L.wq;

		L.wq = p->next;
		free(p);
	}
	if (L.seen_fd >= 0)
		close(L.seen_fd);
	L.seen_fd = -1;
	ward_seen_free(&L.seen);
	ward_remote_config_free(&L.cfg);
	L.on = false;
}

/* ---- sending ---- */

static bool has_room_out(size_t len)
{
	(void)len;
	return L.n_inflight < L.cfg.max_inflight;
}

static void out_remove(struct lk_out *o)
{
	struct lk_out **pp;

	for (pp = &L.out; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	L.out_tail = NULL;
	for (struct lk_out *x = L.out; x; x = x->next)
		L.out_tail = x;
	if (o->sent)
		L.n_inflight--;
	else
		L.n_waiting--;
	if (o->parked && o->sender) {
		o->sender->n_parked--;
		o->sender->parked_bytes -= o->len;
	}
	free(o);
}

/* Hand waiting frames to ward-mq while there is room, in order. */
static void out_pump(void)
{
	for (struct lk_out *o = L.out; o && has_room_out(o->len); o = o->next) {
		if (o->sent)
			continue;
		L.n_waiting--;
		if (o->parked && o->sender) {
			o->sender->n_parked--;
			o->sender->parked_bytes -= o->len;
		}
		o->parked = false;
		mq_publish(o);
	}
}

void bk_link_send(struct conn *c, struct env *e, const struct ward_proto_msg *m, const char *addr)
{
	char name[WARD_PROTO_MAX_NAME + 1], host[WARD_PROTO_MAX_NAME + 1];
	struct ward_remote_frame f;
	struct lk_out *o;
	size_t n;

	ward_remote_split(addr, name, host);
	if (!L.on) {
		bk_reply_error(c, m->id, ENOENT, NULL,
			       "send to \"%s\": this broker joins no other hosts (start it with "
			       "--host, --host-key, --amqp and --peer %s=PUBKEY)",
			       addr, host);
		return;
	}
	if (e == NULL) {
		bk_reply_error(c, m->id, EOPNOTSUPP, NULL,
			       "send to \"%s\": the operator sends only to this host's mailboxes; "
			       "a remote message comes from an environment",
			       addr);
		return;
	}
	if (strlen(e->name) + 1 + strlen(L.cfg.host) > WARD_PROTO_MAX_NAME) {
		bk_reply_error(c, m->id, ENAMETOOLONG, NULL,
			       "send to \"%s\": \"%s@%s\" (how the receiver would see the sender) "
			       "is longer than 64 bytes",
			       addr, e->name, L.cfg.host);
		return;
	}
	if (strcmp(host, L.cfg.host) == 0) {
		bk_reply_error(c, m->id, EINVAL, NULL,
			       "send to \"%s\": %s is this host: send to \"%s\"", addr, host, name);
		return;
	}
	if (ward_remote_peer_find(&L.cfg, host) == NULL) {
		bk_reply_error(c, m->id, ENOENT, NULL,
			       "send to \"%s\": \"%s\" is not a listed peer of this host (ward "
			       "broker --peer %s=PUBKEY)",
			       addr, host, host);
		return;
	}
	if (!has_room_out(m->data_len) || L.n_waiting) {
		if (!(m->flags & WARD_SEND_F_WAIT) || c->n_parked >= 256 ||
		    c->parked_bytes + m->data_len > (1u << 20)) {
			bk_reply_error(c, m->id, EAGAIN, NULL,
				       "send to \"%s\": %u messages to other hosts wait for "
				       "RabbitMQ to confirm them (the link is %s); retry later",
				       addr, L.n_inflight, L.up ? "up" : "down");
			return;
		}
	}
	memset(&f, 0, sizeof(f));
	f.kind = WARD_REMOTE_MESSAGE;
	snprintf(f.from_host, sizeof(f.from_host), "%s", L.cfg.host);
	snprintf(f.from_name, sizeof(f.from_name), "%s", e->name);
	snprintf(f.to_host, sizeof(f.to_host), "%s", host);
	snprintf(f.to_name, sizeof(f.to_name), "%s", name);
	randombytes_buf(f.id, sizeof(f.id));
	f.ts_ms = real_ms();
	f.body = m->data;
	f.body_len = m->data_len;
	n = ward_remote_encode(&f, L.cfg.sk, L.fbuf, sizeof(L.fbuf));
	if (n == 0) {
		bk_reply_error(c, m->id, EMSGSIZE, NULL, "send to \"%s\": the message does not fit",
			       addr);
		return;
	}
	/* Answered on its own when RabbitMQ confirms it: a run of OKs never
	 * spans it (the client matches a run to the sends just before it). */
	bk_ack_flush(c);
	o = ward_xcalloc(1, sizeof(*o) + n);
	o->seq = ++L.next_seq;
	o->sender = c;
	o->send_id = m->id;
	snprintf(o->from, sizeof(o->from), "%s", e->name);
	snprintf(o->to, sizeof(o->to), "%s", addr);
	snprintf(o->host, sizeof(o->host), "%s", host);
	memcpy(o->id, f.id, sizeof(o->id));
	o->len = n;
	memcpy(o->frame, L.fbuf, n);
	if (L.out_tail)
		L.out_tail->next = o;
	else
		L.out = o;
	L.out_tail = o;
	if (has_room_out(n) && L.n_waiting == 0) {
		mq_publish(o);
	} else {
		o->parked = true;
		c->n_parked++;
		c->parked_bytes += n;
		L.n_waiting++;
	}
	{
		struct sent_rec *r = &L.ring[L.ring_at++ % SENT_RING];

		memcpy(r->id, o->id, sizeof(r->id));
		r->send_id = m->id;
		r->serial = e->serial;
	}
}

static void confirmed(uint64_t seq, bool ok)
{
	struct lk_out *o;

	for (o = L.out; o && o->seq != seq; o = o->next)
		;
	if (o == NULL || !o->sent)
		return;
	if (ok)
		L.n_sent++;
	if (o->sender && !o->sender->dead) {
		if (ok)
			bk_reply_ok(o->sender, o->send_id, -1);
		else
			bk_reply_error(o->sender, o->send_id, EIO, NULL,
				       "send to \"%s\": RabbitMQ did not take the message (nack)",
				       o->to);
		bk_ack_flush(o->sender);
	}
	if (!ok)
		bk_log("remote: RabbitMQ refused (nack) a message from \"%s\" to \"%s\"", o->from,
		       o->to);
	out_remove(o);
	out_pump();
}

void bk_link_conn_gone(struct conn *c)
{
	struct lk_out *o, *next;

	if (!L.on)
		return;
	for (o = L.out; o; o = next) {
		next = o->next;
		if (o->sender != c)
			continue;
		o->sender = NULL;
		/* Never handed over: nobody is left to be told it was sent. */
		if (!o->sent) {
			o->parked = false;
			out_remove(o);
		}
	}
}

/* ---- notices ---- */

static void send_notice(const char *to_host, const char *to_name, const char *mailbox,
			const uint8_t ref[WARD_REMOTE_ID_BYTES], uint32_t code, const char *text,
			const char *ent)
{
	struct ward_remote_frame f;
	struct lk_out *o;
	size_t n;

	if (ward_remote_peer_find(&L.cfg, to_host) == NULL)
		return;
	memset(&f, 0, sizeof(f));
	f.kind = WARD_REMOTE_NOTICE;
	snprintf(f.from_host, sizeof(f.from_host), "%s", L.cfg.host);
	snprintf(f.from_name, sizeof(f.from_name), "%s", mailbox);
	snprintf(f.to_host, sizeof(f.to_host), "%s", to_host);
	snprintf(f.to_name, sizeof(f.to_name), "%s", to_name);
	randombytes_buf(f.id, sizeof(f.id));
	f.ts_ms = real_ms();
	memcpy(f.ref, ref, sizeof(f.ref));
	f.code = code;
	snprintf(f.text, sizeof(f.text), "%s", text);
	snprintf(f.ent, sizeof(f.ent), "%s", ent ? ent : "");
	n = ward_remote_encode(&f, L.cfg.sk, L.fbuf, sizeof(L.fbuf));
	if (n == 0)
		return;
	/* Notices are not held back by max_inflight: each answers a message
	 * RabbitMQ gave this broker (at most its prefetch at a time). */
	o = ward_xcalloc(1, sizeof(*o) + n);
	o->seq = ++L.next_seq;
	snprintf(o->from, sizeof(o->from), "%s", mailbox);
	snprintf(o->to, sizeof(o->to), "%s@%s", to_name, to_host);
	snprintf(o->host, sizeof(o->host), "%s", to_host);
	memcpy(o->id, f.id, sizeof(o->id));
	o->len = n;
	memcpy(o->frame, L.fbuf, n);
	if (L.out_tail)
		L.out_tail->next = o;
	else
		L.out = o;
	L.out_tail = o;
	mq_publish(o);
}

void bk_link_undelivered(const char *from, const uint8_t rid[WARD_REMOTE_ID_BYTES],
			 const char *mailbox, const char *why)
{
	char name[WARD_PROTO_MAX_NAME + 1], host[WARD_PROTO_MAX_NAME + 1];

	if (!L.on)
		return;
	ward_remote_split(from, name, host);
	send_notice(host, name, mailbox, rid, EPIPE, why, "");
}

static void refuse(const struct ward_remote_frame *f, uint32_t code, const char *text,
		   const char *ent)
{
	cleanup_free char *t = bk_esc(text);

	L.n_refused++;
	bk_log("remote: refused a message from \"%s@%s\" to \"%s\": %s%s%s", f->from_name,
	       f->from_host, f->to_name, t, ent && *ent ? " — " : "", ent ? ent : "");
	send_notice(f->from_host, f->from_name, f->to_name, f->id, code, text, ent);
}

/* ---- receiving ---- */

static void dropped(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void dropped(const char *fmt, ...)
{
	char text[600];
	va_list ap;

	L.n_dropped++;
	/* A hostile peer, or anyone who can publish to this host's queue, may
	 * send garbage as fast as RabbitMQ carries it: the log gets the
	 * first ones, then one in a thousand. */
	if (L.dropped_logged >= MAX_FAILED_LOG && L.n_dropped % 1000 != 0)
		return;
	L.dropped_logged++;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	bk_log("remote: dropped a frame from RabbitMQ (%llu so far): %s",
	       (unsigned long long)L.n_dropped, text);
}

enum verdict { V_DONE, V_WAIT };

/* One frame RabbitMQ delivered; V_DONE when it may be acknowledged. */
static enum verdict take_frame(struct lk_in *in)
{
	struct ward_remote_frame f;
	const struct ward_remote_peer *peer;
	const char *why;
	struct env *t;
	char hid[2 * WARD_REMOTE_ID_BYTES + 1];

	if (ward_remote_decode(in->frame, in->len, &f, &why) < 0) {
		dropped("malformed: %s", why);
		return V_DONE;
	}
	hex_id(f.id, hid);
	if (strcmp(f.to_host, L.cfg.host) != 0) {
		dropped("addressed to host \"%s\", not to this host", f.to_host);
		return V_DONE;
	}
	peer = ward_remote_peer_find(&L.cfg, f.from_host);
	if (peer == NULL) {
		/* Nobody to answer: its key is unknown, so nothing it says
		 * (not even who sent it) can be believed. */
		dropped("from host \"%s\", which is not a listed peer (--peer %s=PUBKEY)",
			f.from_host, f.from_host);
		return V_DONE;
	}
	if (!ward_remote_verify(in->frame, in->len, peer->pk)) {
		dropped("forged or altered: its signature does not verify with the key of peer "
			"\"%s\" (id %s)",
			f.from_host, hid);
		return V_DONE;
	}
	if (!in->checked) {
		switch (ward_seen_check(&L.seen, f.id, f.ts_ms, real_ms())) {
		case WARD_SEEN_FRESH:
			break;
		case WARD_SEEN_DUPLICATE:
			/* A copy RabbitMQ delivered again, or a replay: the
			 * first was delivered (or refused) already. */
			dropped("a replay or second copy of message %s from \"%s@%s\"", hid,
				f.from_name, f.from_host);
			return V_DONE;
		case WARD_SEEN_TOO_OLD:
			seen_take(f.id, f.ts_ms);
			if (f.kind == WARD_REMOTE_MESSAGE)
				refuse(&f, ETIMEDOUT,
				       "older than the replay window of the receiving host",
				       "replay-window");
			else
				dropped("a notice older than the replay window");
			return V_DONE;
		case WARD_SEEN_FUTURE:
			seen_take(f.id, f.ts_ms);
			if (f.kind == WARD_REMOTE_MESSAGE)
				refuse(&f, EINVAL,
				       "its timestamp is in the future (are the hosts' clocks "
				       "set?)",
				       "");
			else
				dropped("a notice from the future");
			return V_DONE;
		default:
			return V_DONE;
		}
		in->checked = true;
	}
	if (f.kind == WARD_REMOTE_NOTICE) {
		struct ward_proto_buf b;
		char mailbox[2 * WARD_PROTO_MAX_NAME + 2];
		uint32_t send_id = 0;
		uint64_t serial = 0;
		cleanup_free char *t_esc = bk_esc(f.text);

		seen_take(f.id, f.ts_ms);
		snprintf(mailbox, sizeof(mailbox), "%s@%s", f.from_name[0] ? f.from_name : "?",
			 f.from_host);
		for (unsigned i = 0; i < SENT_RING; i++)
			if (memcmp(L.ring[i].id, f.ref, WARD_REMOTE_ID_BYTES) == 0) {
				send_id = L.ring[i].send_id;
				serial = L.ring[i].serial;
				break;
			}
		bk_log("remote: \"%s\" did not deliver a message of \"%s\": %s%s%s", mailbox,
		       f.to_name, t_esc, f.ent[0] ? " — " : "", f.ent);
		t = bk_env_find(f.to_name);
		/* The mailbox's name as the client's decoder accepts it only. */
		if (bk_env_alive(t) && (serial == 0 || t->serial == serial) &&
		    ward_proto_name_ok(mailbox, strlen(mailbox))) {
			char text[WARD_PROTO_MAX_TEXT];

			snprintf(text, sizeof(text), "%.800s%s%.150s", f.text,
				 f.ent[0] ? " — grant " : "", f.ent);
			ward_proto_begin(&b, B.obuf, WARD_PROTO_MAX_PACKET, WARD_MSG_UNDELIVERED,
					 send_id);
			ward_proto_put_str(&b, WARD_ATTR_NAME, mailbox);
			ward_proto_put_u32(&b, WARD_ATTR_CODE, f.code);
			ward_proto_put_str(&b, WARD_ATTR_TEXT, text);
			bk_send_buf(t->conn, &b, -1);
		}
		return V_DONE;
	}
	/* An authentic message: the peer's policy, then the receiver's. */
	if (ward_remote_peer_allows(peer, f.to_name) == NULL) {
		char text[300], ent[WARD_PROTO_MAX_NAME * 2 + 32];

		seen_take(f.id, f.ts_ms);
		snprintf(text, sizeof(text), "host \"%s\" may not send to \"%s\" on \"%s\"",
			 f.from_host, f.to_name, L.cfg.host);
		snprintf(ent, sizeof(ent), "allow %s %s", f.from_host, f.to_name);
		refuse(&f, EACCES, text, ent);
		return V_DONE;
	}
	if (strlen(f.from_name) + 1 + strlen(f.from_host) > WARD_PROTO_MAX_NAME) {
		seen_take(f.id, f.ts_ms);
		refuse(&f, ENAMETOOLONG,
		       "the sender's name and host are longer than 64 bytes together (NAME@HOST)",
		       "");
		return V_DONE;
	}
	t = bk_env_find(f.to_name);
	if (bk_env_alive(t) && !t->recv) {
		char text[300];

		seen_take(f.id, f.ts_ms);
		snprintf(text, sizeof(text), "\"%s\" on \"%s\" has no mailbox", f.to_name,
			 L.cfg.host);
		refuse(&f, EACCES, text, "ipc.recv");
		return V_DONE;
	}
	if (!bk_env_alive(t) || !bk_mailbox_has_room(t, f.body_len)) {
		if (mono_ms() - in->since < HOLD_MS)
			return V_WAIT;
		seen_take(f.id, f.ts_ms);
		refuse(&f, bk_env_alive(t) ? EAGAIN : ENOENT,
		       bk_env_alive(t) ? "its mailbox stayed full for 30 s"
				       : "no environment of that name ran within 30 s",
		       "");
		return V_DONE;
	}
	/* The id is on disk before the message is in the mailbox: a broker
	 * that dies in between loses it (with the mailbox), never delivers
	 * it twice. */
	seen_take(f.id, f.ts_ms);
	{
		char from[2 * WARD_PROTO_MAX_NAME + 2];

		/* At most 64 bytes: checked above. */
		snprintf(from, sizeof(from), "%s@%s", f.from_name, f.from_host);
		bk_mailbox_put_remote(t, from, f.id, f.body, f.body_len);
	}
	L.n_received++;
	return V_DONE;
}

static void in_remove(struct lk_in *in, struct lk_in *prev)
{
	if (prev)
		prev->next = in->next;
	else
		L.in = in->next;
	if (L.in_tail == in)
		L.in_tail = prev;
	L.n_in--;
	free(in);
}

/* Deliver what waits, in order per receiver: a message for a receiver with
 * an earlier one waiting waits too.  Called when a frame arrives, when a
 * mailbox makes room (bk_link_room) and every TICK_MS while any waits. */
static void in_drain(void)
{
	char blocked[64][WARD_PROTO_MAX_NAME + 1];
	unsigned n_blocked = 0;
	struct lk_in *in, *prev = NULL, *next;
	static bool draining;

	/* Delivering pumps the mailbox, which may call back here. */
	if (draining)
		return;
	draining = true;
	for (in = L.in; in; in = next) {
		bool skip = false;

		next = in->next;
		for (unsigned i = 0; i < n_blocked && !skip; i++)
			skip = strcmp(blocked[i], in->to_name) == 0;
		if (!skip && take_frame(in) == V_DONE) {
			mq_ack(in);
			in_remove(in, prev);
			continue;
		}
		if (!skip && n_blocked < 64)
			snprintf(blocked[n_blocked++], sizeof(blocked[0]), "%s", in->to_name);
		prev = in;
	}
	draining = false;
}

void bk_link_room(void)
{
	if (L.on && L.in)
		in_drain();
}

static void delivered_frame(uint64_t tag, const uint8_t *p, size_t len)
{
	struct lk_in *in;
	struct ward_remote_frame f;
	const char *why;

	in = ward_xcalloc(1, sizeof(*in) + len);
	in->tag = tag;
	in->gen = L.gen;
	in->since = mono_ms();
	in->len = len;
	memcpy(in->frame, p, len);
	/* A second copy of one still waiting here (RabbitMQ delivered it
	 * again after a reconnection): keep the waiting one, with the new
	 * tag (the old one died with its connection). */
	if (ward_remote_decode(in->frame, in->len, &f, &why) == 0) {
		snprintf(in->to_name, sizeof(in->to_name), "%s", f.to_name);
		for (struct lk_in *w = L.in; w; w = w->next) {
			struct ward_remote_frame g;

			if (w->len != in->len || memcmp(w->frame, in->frame, in->len) != 0 ||
			    ward_remote_decode(w->frame, w->len, &g, &why) < 0)
				continue;
			if (w->gen == in->gen) {
				/* Two messages in the queue with one id: a
				 * replay, published by someone else. */
				char hid[2 * WARD_REMOTE_ID_BYTES + 1];

				hex_id(f.id, hid);
				dropped("a replay or second copy of message %s from \"%s@%s\"", hid,
					f.from_name, f.from_host);
				mq_ack(in);
			} else {
				/* Delivered again after a reconnection: the
				 * old tag died with its connection. */
				w->tag = in->tag;
				w->gen = in->gen;
			}
			free(in);
			return;
		}
	}
	if (L.in == NULL && take_frame(in) == V_DONE) {
		mq_ack(in);
		free(in);
		return;
	}
	if (L.in) {
		/* Behind others: the checks that need no receiver now, the
		 * delivery in order. */
		in->next = NULL;
		if (L.in_tail)
			L.in_tail->next = in;
		else
			L.in = in;
		L.in_tail = in;
		L.n_in++;
		in_drain();
		return;
	}
	in->next = NULL;
	L.in = L.in_tail = in;
	L.n_in++;
}

static void on_packet(const uint8_t *p, size_t n)
{
	switch (p[0]) {
	case 'C':
		/* first, last, ok: a run of sequence numbers confirmed at once */
		if (n == 18) {
			uint64_t first, last;

			memcpy(&first, p + 1, 8);
			memcpy(&last, p + 9, 8);
			first = le64toh(first);
			last = le64toh(last);
			for (uint64_t q = first; q <= last && q - first < 65536; q++)
				confirmed(q, p[17] != 0);
		}
		break;
	case 'D': {
		/* records: u64 tag, u32 length, frame */
		size_t off = 1;

		while (n - off >= 12) {
			uint64_t tag;
			uint32_t fl;

			memcpy(&tag, p + off, 8);
			memcpy(&fl, p + off + 8, 4);
			fl = le32toh(fl);
			if (fl > n - off - 12)
				break;
			delivered_frame(le64toh(tag), p + off + 12, fl);
			off += 12 + fl;
		}
		break;
	}
	case 'S': {
		char text[300];
		size_t tl = n - 2 < sizeof(text) - 1 ? n - 2 : sizeof(text) - 1;
		bool up = n >= 2 && p[1];

		if (n < 2)
			break;
		memcpy(text, p + 2, tl);
		text[tl] = '\0';
		if (up != L.up || strcmp(text, L.state_text) != 0) {
			cleanup_free char *t = bk_esc(text);

			bk_log("remote: the link to RabbitMQ is %s: %s", up ? "up" : "down", t);
		}
		L.up = up;
		snprintf(L.state_text, sizeof(L.state_text), "%s", text);
		snprintf(L.state, sizeof(L.state), "%s: %.280s", up ? "up" : "down", text);
		break;
	}
	case 'Q': {
		size_t o = 1;

		while (o < n) {
			size_t hl = p[o++];
			char host[WARD_PROTO_MAX_NAME + 1];
			uint32_t d;

			if (hl > WARD_PROTO_MAX_NAME || o + hl + 4 > n)
				break;
			memcpy(host, p + o, hl);
			host[hl] = '\0';
			o += hl;
			memcpy(&d, p + o, 4);
			o += 4;
			if (strcmp(host, L.cfg.host) == 0)
				L.depth[0] = le32toh(d);
			for (size_t i = 0; i < L.cfg.n_peers; i++)
				if (strcmp(L.cfg.peers[i].name, host) == 0)
					L.depth[1 + i] = le32toh(d);
		}
		break;
	}
	case 'L': {
		char text[1024];
		size_t tl = n - 1 < sizeof(text) - 1 ? n - 1 : sizeof(text) - 1;

		memcpy(text, p + 1, tl);
		text[tl] = '\0';
		{
			cleanup_free char *t = bk_esc(text);

			bk_log("remote: %s", t);
		}
		break;
	}
	default:
		break;
	}
}

void bk_link_event(uint32_t ev)
{
	cleanup_free uint8_t *buf = NULL;
	unsigned rounds = 0;

	if (ev & EPOLLOUT)
		wq_flush();
	if (!(ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	buf = ward_xmalloc(MAX_LINK_PKT + 64);
	while (L.c.fd >= 0 && rounds++ < 256) {
		ssize_t n = recv(L.c.fd, buf, MAX_LINK_PKT + 64, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			helper_gone(n == 0 ? "it exited" : strerror(errno));
			return;
		}
		on_packet(buf, (size_t)n);
	}
}

int bk_link_timeout(void)
{
	uint64_t now = mono_ms();

	if (!L.on)
		return -1;
	if (L.restart_at && L.c.fd < 0)
		return L.restart_at > now ? (int)(L.restart_at - now) : 0;
	return L.in ? TICK_MS : 1000;
}

void bk_link_tick(void)
{
	if (!L.on)
		return;
	acks_flush();
	pubs_flush();
	if (L.c.fd < 0 && L.restart_at && mono_ms() >= L.restart_at)
		start_helper();
	if (L.in)
		in_drain();
	ward_seen_expire(&L.seen, real_ms());
}

/* ---- ward ps ---- */

char *bk_link_ps_text(void)
{
	char *s, *t;

	if (!L.on)
		return NULL;
	s = ward_xasprintf("REMOTE  host %s  link %s\n"
			   "        sent %llu  received %llu  refused %llu  dropped %llu  "
			   "unconfirmed %u  waiting to send %u  held %u\n"
			   "QUEUE   MESSAGES (waiting in RabbitMQ)\n"
			   "%-6s  %u (this host)\n",
			   L.cfg.host, L.state, (unsigned long long)L.n_sent,
			   (unsigned long long)L.n_received, (unsigned long long)L.n_refused,
			   (unsigned long long)L.n_dropped, L.n_inflight, L.n_waiting, L.n_in,
			   L.cfg.host, L.depth[0]);
	for (size_t i = 0; i < L.cfg.n_peers; i++) {
		t = ward_xasprintf("%s%-6s  %u\n", s, L.cfg.peers[i].name, L.depth[1 + i]);
		free(s);
		s = t;
	}
	return s;
}
