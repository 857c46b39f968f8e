/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared between the files of the broker daemon; nothing here is exported
 * from libward.
 *
 *   daemon.c    connections, output queues, dispatch, teardown, the loop
 *   registry.c  environments: registration, names, who am I, ps, removal
 *   mailbox.c   send, receive, back-pressure, look-up
 *   service.c   provide and connect
 *   log.c       the log
 */
#ifndef WARD_BROKER_INTERNAL_H
#define WARD_BROKER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "broker.h"

#define BATCH	  32u  /* requests read with one recvmmsg */
#define TX_MAX	  256u /* packets written with sendmmsg at the end of a round */
#define HASH_SIZE 256u /* buckets of the name table */

struct outpkt {
	struct outpkt *next;
	int fd;		     /* a descriptor to pass with it, or -1 */
	struct conn *charge; /* whose count of pending connections it is in, or NULL */
	size_t len;
	uint8_t data[];
};

enum conn_kind { CONN_LISTEN, CONN_SIGNAL, CONN_CONTROL, CONN_ENV, CONN_PROVIDE, CONN_LINK };

struct env;
struct service;

struct conn {
	enum conn_kind kind;
	int fd;
	/* CONN_ENV: the environment; CONN_PROVIDE: the provider.  NULL once the
	 * environment is removed (it is freed then, before its services'
	 * channels are reaped: never read it through a dead connection). */
	struct env *env;
	struct service *svc; /* CONN_PROVIDE */
	struct outpkt *out, *out_tail;
	unsigned n_out;
	size_t out_bytes;
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
	/* CONN_CONTROL: its peer shut down its side; closed once the
	 * environments it registered are gone (bk_ctl_release) */
	bool closing;
	/* CONN_ENV: connections it made (CONNECT) that wait in a provider's
	 * queue in the broker, each holding a descriptor */
	unsigned pending;
	/* CONN_ENV: it has written records of several SENDs (daemon.c reads
	 * fewer of its packets at once, to keep to the requests per event) */
	bool records;
	/* packets of this round not written yet (daemon.c, the transmit
	 * batch): the first and last of them in B.tx, -1 when none */
	int tx_head, tx_tail;
};

/* A queued message. */
struct qmsg {
	struct qmsg *next;
	struct conn *sender; /* told if it is never delivered; NULL once gone */
	uint32_t send_id;
	uint32_t flags; /* WARD_MSG_F_* */
	char from[WARD_PROTO_MAX_NAME + 1];
	bool remote;	 /* from another host (from is NAME@HOST) */
	uint8_t rid[16]; /* then its message id, for the notice if undelivered */
	uint32_t len;
	uint8_t data[];
};

/* A send waiting for room in a full mailbox (WARD_SEND_F_WAIT). */
struct parked {
	struct parked *next;
	struct conn *conn;
	struct qmsg *m;
};

/* A token bucket: refusals logged per environment. */
struct bk_ratelimit {
	uint64_t milli;	  /* tokens, in thousandths */
	uint64_t last_ms; /* CLOCK_MONOTONIC of the last refill */
	uint32_t suppressed;
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
	bool batch; /* its last RECV asked for WARD_RECV_F_BATCH */
	/* its refusals, as logged and told to its ward run */
	struct bk_ratelimit denials;
};

struct service {
	struct service *next;
	char name[WARD_PROTO_MAX_NAME + 1];
	/* The provider's name, for the log: the service's channel is reaped
	 * after its environment may have been freed. */
	char provider[WARD_PROTO_MAX_NAME + 1];
	struct env *env; /* NULL once the provider has left */
	struct conn *chan;
};

/* The daemon's state: one per process (the broker is one event loop). */
struct broker_state {
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
	/* The transmit batch: small packets of one round of the loop, written
	 * per connection with one sendmmsg when the round ends. */
	struct bk_tx {
		struct conn *c; /* NULL once the connection was closed */
		uint32_t off, len;
		int next;   /* the connection's next packet, or -1 */
		bool merge; /* MESSAGE packets for a batch receiver: one record */
	} tx[TX_MAX];
	unsigned n_tx;
	size_t tx_used;
	uint8_t *txbuf;
	struct mmsghdr tx_mm[TX_MAX];
	struct iovec tx_iov[TX_MAX];
};

extern struct broker_state B;

/* log.c */
void bk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log to the file path (created 0600, never through a link), rotated at
 * max bytes.  The descriptor, or -1 with errno. */
int bk_log_open(const char *path, size_t max);
/* The daemon: the log file becomes stderr as well. */
void bk_log_to_stderr(void);
/* Log to fd as it is, with no file limit (foreground; the fuzz target). */
void bk_log_to_fd(int fd);
/* A string from an environment, as the log shows it (escaped, capped).
 * Allocated. */
char *bk_esc(const char *s);

void bk_ratelimit_init(struct bk_ratelimit *r);
/* true: log this one; false: it was counted in suppressed. */
bool bk_ratelimit_take(struct bk_ratelimit *r);

/* daemon.c: connections and replies */
struct conn *bk_conn_new(int fd, enum conn_kind kind);
void bk_conn_kill(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bk_send_buf(struct conn *c, struct ward_proto_buf *b, int fd);
/* A MESSAGE: with merge (the receiver asked for WARD_RECV_F_BATCH), it may
 * share one record with the MESSAGE packets before it. */
void bk_send_msg(struct conn *c, struct ward_proto_buf *b, bool merge);
/* The same; if it has to wait in c's queue, it counts in charge->pending
 * until it is written. */
void bk_send_buf_charged(struct conn *c, struct ward_proto_buf *b, int fd, struct conn *charge);
void bk_ack_flush(struct conn *c);
void bk_reply_begin(struct ward_proto_buf *b, struct conn *c, uint16_t type, uint32_t id);
void bk_reply_ok(struct conn *c, uint32_t id, int fd);
void bk_reply_error(struct conn *c, uint32_t id, int code, const char *missing, const char *fmt,
		    ...) __attribute__((format(printf, 5, 6)));
void bk_deny(struct conn *c, struct env *e, uint32_t id, const char *what, const char *missing);
/* Close a control connection that is closing, once nothing holds it. */
void bk_ctl_release(struct conn *c);
/* Log (and tell its ward run) how many refusals of e were not logged. */
void bk_deny_summary(struct env *e);

/* daemon.c: the event loop without the well-known socket, the lock and the
 * daemon (the broker's serve_loop, and tests/fuzz/fuzz_broker.c, which
 * drives it over socket pairs it adopts as control connections). */
void bk_core_config(const struct ward_broker_options *o);
int bk_core_start(void);
struct conn *bk_core_adopt_control(int fd);
void bk_core_step(int timeout_ms); /* one epoll_wait, its events, then the dead are reaped */
void bk_tx_flush(void);		   /* write the transmit batch (bk_core_step does) */
void bk_core_stop(void);	   /* close every connection, free everything */

/* registry.c */
struct env *bk_env_find(const char *name);
void bk_env_remove(struct env *e, const char *reason);
void bk_do_hello(struct conn *c, struct env *e, const struct ward_proto_msg *m);
void bk_do_register(struct conn *c, const struct ward_proto_msg *m);
void bk_do_ps(struct conn *c, const struct ward_proto_msg *m);

/* mailbox.c */
bool bk_env_alive(const struct env *e);
/* Write to t what it asked for and what fits; called again when its
 * connection's queue is written. */
void bk_pump(struct env *t);
void bk_do_send(struct conn *c, struct env *e, const struct ward_proto_msg *m);
void bk_do_recv(struct conn *c, struct env *e, const struct ward_proto_msg *m);
void bk_do_lookup(struct conn *c, struct env *e, const struct ward_proto_msg *m);

/* mailbox.c, for link.c */
bool bk_mailbox_has_room(const struct env *t, size_t len);
/* Put a message from another host into t's mailbox (room checked). */
void bk_mailbox_put_remote(struct env *t, const char *from, const uint8_t rid[16], const void *data,
			   size_t len);

/* link.c: mailboxes across hosts (docs/remote.md) */
struct ward_remote_config;
/* The remote settings (NULL, or no host: local only); cfg's allocations
 * are the link's from then on. */
int bk_link_config(const struct ward_remote_config *cfg, const char *dir);
void bk_link_start(void); /* after bk_core_start: starts ward-mq */
void bk_link_stop(void);
bool bk_link_on(void);
void bk_link_event(uint32_t ev);
int bk_link_timeout(void); /* ms until bk_link_tick is due, or -1 */
void bk_link_tick(void);
void bk_link_send(struct conn *c, struct env *e, const struct ward_proto_msg *m, const char *addr);
void bk_link_conn_gone(struct conn *c);
/* A mailbox made room: deliver remote messages that wait for it. */
void bk_link_room(void);
/* A remote message left in a mailbox that closed: tell its sending host. */
void bk_link_undelivered(const char *from, const uint8_t rid[16], const char *mailbox,
			 const char *why);
char *bk_link_ps_text(void); /* allocated; NULL when local only */

/* attest.c: api.attest */
void bk_attest_config(const char *dir);
void bk_do_attest(struct conn *c, struct env *e, const struct ward_proto_msg *m);

/* service.c */
struct service *bk_svc_find(const char *name);
void bk_do_provide(struct conn *c, struct env *e, const struct ward_proto_msg *m);
void bk_do_connect(struct conn *c, struct env *e, const struct ward_proto_msg *m);

#endif
