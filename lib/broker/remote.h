/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mailboxes across hosts (docs/remote.md): the pure half.  Brokers on
 * different hosts exchange signed frames through a RabbitMQ node; this file
 * has what needs no event loop and no network, so that the unit tests call
 * it directly:
 *
 *   - the frame: a canonical, length-prefixed encoding of (kind, sending
 *     host and name, receiving host and name, message id, timestamp, body),
 *     signed with the sending broker's Ed25519 host key;
 *   - the replay window: ids seen within it, refusing replays and messages
 *     too old to be checked;
 *   - the remote configuration: this host, its key, the peers it lists with
 *     their public keys and the local names each may send to.
 *
 * The AMQP client is elsewhere (src/broker/ward_mq.c, a process of its own)
 * and never sees a key; the broker signs and verifies (lib/broker/link.c).
 */
#ifndef WARD_BROKER_REMOTE_H
#define WARD_BROKER_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../error.h"
#include "proto.h"

#define WARD_REMOTE_MAGIC     "WARDMQ1" /* and a NUL: 8 bytes */
#define WARD_REMOTE_MAGIC_LEN 8u
#define WARD_REMOTE_ID_BYTES  16u
#define WARD_REMOTE_SIG_BYTES 64u
#define WARD_REMOTE_PK_BYTES  32u
#define WARD_REMOTE_SK_BYTES  64u
/* The largest frame: magic, kind, four names, id, timestamp, body, signature. */
#define WARD_REMOTE_MAX_FRAME                                                                  \
	(WARD_REMOTE_MAGIC_LEN + 1u + 4u * (4u + WARD_PROTO_MAX_NAME) + WARD_REMOTE_ID_BYTES + \
	 8u + 4u + WARD_PROTO_MAX_DATA + WARD_REMOTE_SIG_BYTES)
#define WARD_REMOTE_MAX_PEERS 64u
#define WARD_REMOTE_MAX_ALLOW 64u /* patterns per peer */
/* Defaults: how long ids are remembered (and how old a message may be),
 * how far in the future its timestamp may be, how many ids are held. */
#define WARD_REMOTE_WINDOW_S 3600u
#define WARD_REMOTE_SKEW_MS  (300u * 1000u)
#define WARD_REMOTE_SEEN_MAX (1u << 18)

enum ward_remote_kind {
	WARD_REMOTE_MESSAGE = 1, /* from_name's message for to_name */
	WARD_REMOTE_NOTICE = 2,	 /* to_name's message ref was not delivered: code, text, ent */
};

/* A decoded frame; strings are NUL-terminated copies, body points into the
 * frame. */
struct ward_remote_frame {
	uint8_t kind;
	char from_host[WARD_PROTO_MAX_NAME + 1], from_name[WARD_PROTO_MAX_NAME + 1];
	char to_host[WARD_PROTO_MAX_NAME + 1], to_name[WARD_PROTO_MAX_NAME + 1];
	uint8_t id[WARD_REMOTE_ID_BYTES];
	uint64_t ts_ms; /* CLOCK_REALTIME of the sending broker, milliseconds */
	const uint8_t *body;
	uint32_t body_len;
	/* NOTICE: the body holds the id of the message refused, an errno, a
	 * text and the entitlement or policy line that would allow it */
	uint8_t ref[WARD_REMOTE_ID_BYTES];
	uint32_t code;
	char text[WARD_PROTO_MAX_TEXT + 1];
	char ent[WARD_PROTO_MAX_NAME * 2 + 32];
};

/* Encode and sign f (its body, or for a notice ref, code, text and ent)
 * into out (at least WARD_REMOTE_MAX_FRAME bytes).  Returns the length, or
 * 0 when a field does not fit the format. */
size_t ward_remote_encode(const struct ward_remote_frame *f, const uint8_t sk[WARD_REMOTE_SK_BYTES],
			  uint8_t *out, size_t cap);

/* Decode a frame without checking its signature (strict: every length
 * bounded, names valid, nothing left over).  0, or -1 with *why. */
int ward_remote_decode(const uint8_t *p, size_t len, struct ward_remote_frame *f, const char **why);

/* Is the frame's signature the one pk made over the rest of it? */
bool ward_remote_verify(const uint8_t *p, size_t len, const uint8_t pk[WARD_REMOTE_PK_BYTES]);

/* ---- the replay window ---- */

struct ward_seen_ent {
	struct ward_seen_ent *hnext, *next;
	uint64_t ts_ms;
	uint8_t id[WARD_REMOTE_ID_BYTES];
};

struct ward_seen {
	uint64_t window_ms;
	uint64_t floor_ms; /* older messages are refused as too old */
	size_t cap, n;
	size_t n_buckets;
	struct ward_seen_ent **buckets;
	struct ward_seen_ent *head, *tail; /* in the order they were added */
};

enum ward_seen_verdict {
	WARD_SEEN_FRESH = 0,
	WARD_SEEN_DUPLICATE = 1, /* this id was taken within the window */
	WARD_SEEN_TOO_OLD = 2,	 /* older than the window (or than an id forgotten) */
	WARD_SEEN_FUTURE = 3,	 /* more than the allowed skew ahead */
};

void ward_seen_init(struct ward_seen *s, uint64_t window_ms, size_t cap);
void ward_seen_free(struct ward_seen *s);
enum ward_seen_verdict ward_seen_check(struct ward_seen *s, const uint8_t id[WARD_REMOTE_ID_BYTES],
				       uint64_t ts_ms, uint64_t now_ms);
/* Remember id (after ward_seen_check said FRESH).  When the set is full the
 * oldest added is forgotten, and the floor rises past its timestamp. */
void ward_seen_add(struct ward_seen *s, const uint8_t id[WARD_REMOTE_ID_BYTES], uint64_t ts_ms);
/* Forget ids older than the window. */
void ward_seen_expire(struct ward_seen *s, uint64_t now_ms);

/* ---- configuration ---- */

struct ward_remote_peer {
	char name[WARD_PROTO_MAX_NAME + 1];
	uint8_t pk[WARD_REMOTE_PK_BYTES];
	char *allow[WARD_REMOTE_MAX_ALLOW]; /* local names its environments may send to */
	size_t n_allow;
};

struct ward_remote_config {
	char host[WARD_PROTO_MAX_NAME + 1]; /* "" when the broker is local only */
	char *key_path;
	uint8_t sk[WARD_REMOTE_SK_BYTES];
	bool have_key;
	char *amqp_url; /* amqp://user:password@host:port/vhost or amqps:// */
	char *amqp_cacert;
	char *amqp_cert, *amqp_certkey; /* a client certificate, for amqps */
	struct ward_remote_peer peers[WARD_REMOTE_MAX_PEERS];
	size_t n_peers;
	uint32_t window_s;
	uint32_t max_inflight; /* messages handed to RabbitMQ and not confirmed yet */
};

void ward_remote_config_init(struct ward_remote_config *c);
void ward_remote_config_free(struct ward_remote_config *c);
/* One setting, as the command line or a config file line gives it:
 * key "host", "host-key", "amqp", "amqp-cacert", "amqp-cert", "amqp-key",
 * "peer" (NAME=PUBKEY, a file or the base64 key), "peer-allow"
 * (NAME=PATTERN[,PATTERN...]), "replay-window" (seconds).  where names
 * the place for errors ("--peer", "broker.conf:3"). */
int ward_remote_config_set(struct ward_remote_config *c, const char *key, const char *value,
			   const char *where, ward_error_t *err);
/* A config file: "KEY VALUE" lines (the keys above; "allow PEER PATTERN..."
 * too), '#' comments. */
int ward_remote_config_load(struct ward_remote_config *c, const char *path, ward_error_t *err);
/* Complete and consistent?  Reads the host key. */
int ward_remote_config_finish(struct ward_remote_config *c, ward_error_t *err);

const struct ward_remote_peer *ward_remote_peer_find(const struct ward_remote_config *c,
						     const char *name);
/* May peer's environments send to the local mailbox name?  The pattern that
 * allows it, or NULL. */
const char *ward_remote_peer_allows(const struct ward_remote_peer *p, const char *name);

/* Split "NAME@HOST" (an address the decoder accepted) into its parts. */
void ward_remote_split(const char *addr, char name[WARD_PROTO_MAX_NAME + 1],
		       char host[WARD_PROTO_MAX_NAME + 1]);

#endif
