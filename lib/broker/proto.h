/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The broker protocol (docs/broker.md): one message per SOCK_SEQPACKET
 * packet, a 12-byte header and a list of attributes, little-endian.
 *
 *   u16 version (1)   u16 type   u32 request id   u32 payload length
 *   attributes:  u16 tag   u16 reserved (0)   u32 length   value[length]
 *
 * The payload length must be exactly what follows the header; every size is
 * bounded (WARD_PROTO_MAX_*).  Descriptors travel beside a message as
 * SCM_RIGHTS, never inside it.
 *
 * This file depends on libc only: the broker, the ward CLI, the client
 * library that runs inside environments, and the fuzz target all compile it.
 */
#ifndef WARD_BROKER_PROTO_H
#define WARD_BROKER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WARD_PROTO_VERSION 1

#define WARD_PROTO_HDR_SIZE 12u
#define WARD_PROTO_ATTR_HDR 8u
#define WARD_PROTO_MAX_DATA 65536u /* one message's bytes */
#define WARD_PROTO_MAX_NAME 64u	   /* a mailbox, service or environment name */
#define WARD_PROTO_MAX_PATH 4096u
#define WARD_PROTO_MAX_TEXT 1024u
#define WARD_PROTO_MAX_ENT  (WARD_PROTO_MAX_PATH + 32u) /* "api.open=PATH:rw" */
#define WARD_PROTO_MAX_LIST 64u				/* repeated ENT or SERVICE */
/* Largest packet an environment may send (a SEND with full data and a name). */
#define WARD_PROTO_MAX_REQUEST (WARD_PROTO_HDR_SIZE + WARD_PROTO_MAX_DATA + 8192u)
/* Largest packet at all (REGISTER and ENTRY carry entitlement lists). */
#define WARD_PROTO_MAX_PACKET (WARD_PROTO_HDR_SIZE + 256u * 1024u)

/* The environment's end of its broker connection inside the sandbox. */
#define WARD_BROKER_FD_ENV "WARD_BROKER_FD"

enum ward_proto_type {
	/* requests from an environment (or from the operator's control socket) */
	WARD_MSG_HELLO = 1,   /* -> OK(NAME, ENT...): who am I, what may I do */
	WARD_MSG_SEND = 2,    /* NAME, DATA, [FLAGS] -> OK(COUNT) | ERROR */
	WARD_MSG_RECV = 3,    /* [FLAGS], [COUNT credits] -> MESSAGE... | ERROR */
	WARD_MSG_LOOKUP = 4,  /* NAME -> OK(FLAGS, DEPTH, LIMIT) | ERROR */
	WARD_MSG_CONNECT = 5, /* NAME, [FLAGS] -> OK + descriptor | ERROR */
	WARD_MSG_PROVIDE = 6, /* NAME -> OK + descriptor | ERROR */
	WARD_MSG_OPEN = 7,    /* PATH, [FLAGS] -> OK + descriptor | ERROR */
	WARD_MSG_ATTEST = 8,  /* DATA (the nonce) -> OK + descriptor (the attestation) | ERROR */
	/* requests only the control socket (the operator) may make */
	WARD_MSG_REGISTER = 16, /* [NAME], ENT..., PID -> OK(NAME) + descriptor */
	WARD_MSG_PS = 17,	/* -> ENTRY... then OK(COUNT) */
	/* from the broker */
	WARD_MSG_OK = 32,
	WARD_MSG_ERROR = 33,	   /* CODE, TEXT, [ENT: the missing entitlement] */
	WARD_MSG_MESSAGE = 34,	   /* [FROM], DATA, [FLAGS] */
	WARD_MSG_UNDELIVERED = 35, /* id of the SEND; NAME, CODE, TEXT */
	WARD_MSG_ENTRY = 36,	   /* NAME, PID, ENT..., SERVICE..., DEPTH, LIMIT, FLAGS */
	WARD_MSG_CONN = 37,	   /* on a provide descriptor: [FROM] + descriptor */
	WARD_MSG_DENIED = 38,	   /* to the registering supervisor: NAME, TEXT, ENT */
};

enum ward_proto_tag {
	WARD_ATTR_NAME = 1,	/* string, a name (no '*'), or NAME@HOST */
	WARD_ATTR_DATA = 2,	/* bytes, at most WARD_PROTO_MAX_DATA */
	WARD_ATTR_CODE = 3,	/* u32: an errno */
	WARD_ATTR_TEXT = 4,	/* string, at most WARD_PROTO_MAX_TEXT */
	WARD_ATTR_FLAGS = 5,	/* u32 */
	WARD_ATTR_PATH = 6,	/* string, an absolute path */
	WARD_ATTR_FROM = 7,	/* string, a name, or NAME@HOST for a remote sender */
	WARD_ATTR_ENT = 8,	/* string, an entitlement "name[=value]"; repeated */
	WARD_ATTR_PID = 9,	/* u32 */
	WARD_ATTR_DEPTH = 10,	/* u32: messages in a mailbox */
	WARD_ATTR_LIMIT = 11,	/* u32: a mailbox's capacity */
	WARD_ATTR_COUNT = 12,	/* u32 */
	WARD_ATTR_SERVICE = 13, /* string, a name; repeated */
	WARD_ATTR_MAX = 13,
};

/* FLAGS of SEND */
#define WARD_SEND_F_WAIT 0x1u /* wait for room in a full mailbox instead of refusing */
/* FLAGS of RECV */
#define WARD_RECV_F_WAIT 0x1u /* wait for a message instead of answering EAGAIN */
/* the receiver reads records that may hold several MESSAGE packets back to
 * back (each with its own header), never with a descriptor */
#define WARD_RECV_F_BATCH 0x2u
/* An environment may write pipelined SEND requests back to back in one
 * record (each with its own header and id, never with a descriptor): at
 * most this many; the broker handles each as if it had come alone, and
 * closes the connection on a record of anything else. */
#define WARD_PROTO_MAX_RECORD 64u
/* FLAGS of MESSAGE */
#define WARD_MSG_F_HOST 0x1u /* sent by the operator from the host */
/* FLAGS of LOOKUP's answer and of ENTRY */
#define WARD_LOOKUP_F_MAILBOX 0x1u /* has a mailbox (ipc.recv) */
#define WARD_LOOKUP_F_SERVICE 0x2u /* provides a service of that name */
/* FLAGS of CONNECT */
#define WARD_CONNECT_F_SEQPACKET 0x1u /* a SOCK_SEQPACKET pair instead of SOCK_STREAM */
/* FLAGS of OPEN */
#define WARD_OPEN_F_WRITE  0x1u /* read-write */
#define WARD_OPEN_F_CREATE 0x2u /* create it if missing (with WRITE) */
#define WARD_OPEN_F_TRUNC  0x4u /* truncate (with WRITE) */
#define WARD_OPEN_F_APPEND 0x8u /* append (with WRITE) */
#define WARD_OPEN_F_ALL	   0xfu

struct ward_proto_str {
	const char *p; /* into the packet; not NUL-terminated */
	uint32_t len;
};

/* A decoded message.  Strings and data point into the packet buffer. */
struct ward_proto_msg {
	uint16_t type;
	uint32_t id;
	uint32_t present; /* bit (1 << tag) for each attribute seen */
	struct ward_proto_str name, text, path, from;
	const uint8_t *data;
	uint32_t data_len;
	uint32_t code, flags, pid, depth, limit, count;
	struct ward_proto_str ent[WARD_PROTO_MAX_LIST];
	uint32_t n_ent;
	struct ward_proto_str service[WARD_PROTO_MAX_LIST];
	uint32_t n_service;
};

static inline bool ward_proto_has(const struct ward_proto_msg *m, enum ward_proto_tag tag)
{
	return (m->present >> tag) & 1u;
}

/* Decode one packet.  Returns 0, or -1 with *why set to a static text
 * saying what was wrong (for the log).  Never reads outside buf[0..len). */
int ward_proto_decode(const void *buf, size_t len, struct ward_proto_msg *m, const char **why);
/* The length of the packet at the start of buf (len bytes left of a
 * record), by its header: 0 when the header is cut short or claims more
 * than len.  A record is one packet when this equals len. */
size_t ward_proto_packet_len(const void *buf, size_t len);

/* Is s (len bytes) a valid exact local name: [a-z0-9._-]{1,64}? */
bool ward_proto_local_name_ok(const char *s, size_t len);
/* A local name, or NAME@HOST (a mailbox on another host): both parts local
 * names, at most 64 bytes in all. */
bool ward_proto_name_ok(const char *s, size_t len);

/* Copy a decoded string into a NUL-terminated buffer (truncating). */
void ward_proto_strcpy(char *dst, size_t size, struct ward_proto_str s);

/* Building a message: a fixed buffer the caller provides. */
struct ward_proto_buf {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
};

void ward_proto_begin(struct ward_proto_buf *b, void *mem, size_t cap, uint16_t type, uint32_t id);
void ward_proto_put(struct ward_proto_buf *b, uint16_t tag, const void *v, size_t len);
void ward_proto_put_str(struct ward_proto_buf *b, uint16_t tag, const char *s);
void ward_proto_put_u32(struct ward_proto_buf *b, uint16_t tag, uint32_t v);
/* Finish: writes the payload length.  Returns the packet size, or -1 when
 * it did not fit. */
long ward_proto_end(struct ward_proto_buf *b);

#endif
