/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libward-client: what a program inside a ward environment uses to talk
 * to the broker through its one descriptor (fd 3, $WARD_BROKER_FD).
 *
 * Every function returns 0 (or a descriptor, or a length) on success and a
 * negative errno on failure.  When the broker refused a request,
 * ward_client_strerror() says why, and ward_client_missing() names the
 * entitlement that would have allowed it ("ipc.send=db").  -ECONNRESET
 * means the broker has gone (the environment cannot reconnect: it has no
 * path to the broker).
 *
 * Not thread-safe: use one client per thread, or a lock.
 */
#ifndef WARD_CLIENT_H
#define WARD_CLIENT_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ward_client;

/* The broker descriptor from $WARD_BROKER_FD (NULL and errno = ENOENT when
 * the program does not run in a ward environment with one). */
struct ward_client *ward_client_open(void);
struct ward_client *ward_client_fdopen(int fd);
void ward_client_close(struct ward_client *c);
int ward_client_fd(const struct ward_client *c);
const char *ward_client_strerror(const struct ward_client *c);
const char *ward_client_missing(const struct ward_client *c);

/* This environment's name, as the broker knows it. */
int ward_whoami(struct ward_client *c, char *name, size_t size);

/* Send len bytes (at most 65536) to the mailbox name.  Returns 0 once the
 * message is queued; -EAGAIN when the mailbox is full, -ENOENT when there
 * is no such mailbox, -EACCES when ipc.send does not allow it. */
int ward_send(struct ward_client *c, const char *name, const void *data, size_t len);
/* The same, waiting for room in a full mailbox (-EPIPE if it closes). */
int ward_send_wait(struct ward_client *c, const char *name, const void *data, size_t len);
/* Pipelined sends: returns before the broker answers, waiting for room in
 * a full mailbox like ward_send_wait.  ward_flush() waits
 * for every answer and returns the first error since the last flush. */
int ward_send_async(struct ward_client *c, const char *name, const void *data, size_t len);
int ward_flush(struct ward_client *c);
/* Gather up to n pipelined sends (1 to 64, default 1: none) of up to 4 KiB
 * each and write them as one record: fewer system calls for the sender and
 * the broker.  What is gathered is written when n are gathered or 16 KiB,
 * and before any other request or wait: ward_flush, ward_recv, every
 * synchronous call.  A program that stops sending must call ward_flush
 * (or any of those) for its last sends to leave; ward_client_close writes
 * them if the socket takes them at once. */
int ward_set_send_batch(struct ward_client *c, unsigned n);

/* Receive the next message of this environment's mailbox (ipc.recv) into
 * buf.  timeout_ms: -1 waits, 0 does not, N waits N ms (-ETIMEDOUT).
 * Returns its length; from gets the sender's name ("" from the host).  A
 * message longer than size stays queued and -EMSGSIZE is returned. */
ssize_t ward_recv(struct ward_client *c, void *buf, size_t size, char *from, size_t fromsize,
		  int timeout_ms);
/* How many messages the broker may hand over ahead of ward_recv (default
 * 1: a message leaves the mailbox only when asked for).  More is faster. */
int ward_set_prefetch(struct ward_client *c, unsigned n);

/* Messages the broker could not deliver after acknowledging them (their
 * mailbox closed): 1 and the mailbox's name and the reason, 0 when none. */
int ward_undelivered(struct ward_client *c, char *name, size_t size, char *why, size_t whysize);

#define WARD_LOOKUP_MAILBOX 0x1u
#define WARD_LOOKUP_SERVICE 0x2u
/* Is there a mailbox or service of that name?  *flags gets WARD_LOOKUP_*. */
int ward_lookup(struct ward_client *c, const char *name, unsigned *flags, unsigned *depth);

#define WARD_CONNECT_SEQPACKET 0x1u
/* Connect to the service name (service.connect): a connected socket,
 * SOCK_STREAM unless WARD_CONNECT_SEQPACKET. */
int ward_connect(struct ward_client *c, const char *service, unsigned flags);
/* Provide the service name (service.provide): a descriptor on which
 * connections arrive; ward_accept() takes the next one. */
int ward_provide(struct ward_client *c, const char *service);
int ward_accept(int provide_fd, char *from, size_t fromsize);

/* Open a file the broker hands over (api.open).  flags: O_RDONLY or
 * O_RDWR, with O_CREAT, O_TRUNC, O_APPEND. */
int ward_open(struct ward_client *c, const char *path, int flags);

/* Ask for an attestation of this environment's own launch (api.attest),
 * with a nonce of 8 to 64 bytes from the verifier.  Returns a descriptor
 * to read it from until end of file: "ward-attestation 1\n", then for
 * each file "file NAME LEN\n" and LEN bytes (quote.msg, quote.sig,
 * quote.pcrs, eventlog, kind, qualifying, event), then "end\n"; or
 * "error TEXT\n" when the quote failed.  ward-msg attest writes them
 * into a directory for `ward attest verify` (docs/attestation.md). */
int ward_attest(struct ward_client *c, const void *nonce, size_t len);

#ifdef __cplusplus
}
#endif

#endif
