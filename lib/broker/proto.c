/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Encoding and decoding of broker messages (proto.h, docs/broker.md).
 *
 * The decoder is the broker's whole attack surface towards environments, so
 * it is strict: every length is checked against what remains before it is
 * used, unknown types, tags and versions are errors, fixed-size attributes
 * must have their exact size, strings may not contain NUL, names must be
 * names, and an attribute that may appear once appears once.  It never
 * allocates and never reads past the packet; tests/fuzz/fuzz_broker.c fuzzes
 * it.
 */
#include <endian.h>
#include <string.h>

#include "proto.h"

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

bool ward_proto_local_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > WARD_PROTO_MAX_NAME)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

bool ward_proto_name_ok(const char *s, size_t len)
{
	const char *at;

	if (len == 0 || len > WARD_PROTO_MAX_NAME)
		return false;
	at = memchr(s, '@', len);
	if (at == NULL)
		return ward_proto_local_name_ok(s, len);
	/* NAME@HOST: a mailbox on another host (docs/remote.md); both parts
	 * are local names, so there is exactly one '@'. */
	return ward_proto_local_name_ok(s, (size_t)(at - s)) &&
	       ward_proto_local_name_ok(at + 1, len - (size_t)(at - s) - 1);
}

void ward_proto_strcpy(char *dst, size_t size, struct ward_proto_str s)
{
	size_t n = s.len;

	if (size == 0)
		return;
	if (n > size - 1)
		n = size - 1;
	if (n)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static bool known_type(uint16_t t)
{
	switch (t) {
	case WARD_MSG_HELLO:
	case WARD_MSG_SEND:
	case WARD_MSG_RECV:
	case WARD_MSG_LOOKUP:
	case WARD_MSG_CONNECT:
	case WARD_MSG_PROVIDE:
	case WARD_MSG_OPEN:
	case WARD_MSG_ATTEST:
	case WARD_MSG_REGISTER:
	case WARD_MSG_PS:
	case WARD_MSG_OK:
	case WARD_MSG_ERROR:
	case WARD_MSG_MESSAGE:
	case WARD_MSG_UNDELIVERED:
	case WARD_MSG_ENTRY:
	case WARD_MSG_CONN:
	case WARD_MSG_DENIED:
		return true;
	default:
		return false;
	}
}

/* Attributes each type requires. */
static uint32_t required(uint16_t t)
{
#define B(tag) (1u << WARD_ATTR_##tag)
	switch (t) {
	case WARD_MSG_SEND:
		return B(NAME) | B(DATA);
	case WARD_MSG_LOOKUP:
	case WARD_MSG_CONNECT:
	case WARD_MSG_PROVIDE:
		return B(NAME);
	case WARD_MSG_OPEN:
		return B(PATH);
	case WARD_MSG_ERROR:
		return B(CODE) | B(TEXT);
	case WARD_MSG_MESSAGE:
	case WARD_MSG_ATTEST:
		return B(DATA);
	case WARD_MSG_UNDELIVERED:
		return B(NAME) | B(CODE) | B(TEXT);
	case WARD_MSG_ENTRY:
		return B(NAME);
	case WARD_MSG_DENIED:
		return B(NAME) | B(TEXT);
	default:
		return 0;
	}
#undef B
}

static bool has_nul(const uint8_t *p, uint32_t len)
{
	return len && memchr(p, '\0', len) != NULL;
}

size_t ward_proto_packet_len(const void *buf, size_t len)
{
	uint32_t plen;

	if (len < WARD_PROTO_HDR_SIZE)
		return 0;
	plen = get32((const uint8_t *)buf + 8);
	if (plen > len - WARD_PROTO_HDR_SIZE)
		return 0;
	return WARD_PROTO_HDR_SIZE + plen;
}

int ward_proto_decode(const void *buf, size_t len, struct ward_proto_msg *m, const char **why)
{
	const uint8_t *p = buf;
	size_t off;
	uint32_t plen, need;

#define FAIL(text)             \
	do {                   \
		*why = (text); \
		return -1;     \
	} while (0)

	memset(m, 0, offsetof(struct ward_proto_msg, ent));
	m->n_ent = m->n_service = 0;
	if (len < WARD_PROTO_HDR_SIZE)
		FAIL("shorter than the 12-byte header");
	if (len > WARD_PROTO_MAX_PACKET)
		FAIL("larger than the largest message");
	if (get16(p) != WARD_PROTO_VERSION)
		FAIL("unsupported protocol version");
	m->type = get16(p + 2);
	m->id = get32(p + 4);
	plen = get32(p + 8);
	if (!known_type(m->type))
		FAIL("unknown message type");
	if ((size_t)plen != len - WARD_PROTO_HDR_SIZE)
		FAIL("payload length does not match the packet size");

	off = WARD_PROTO_HDR_SIZE;
	while (off < len) {
		uint16_t tag;
		uint32_t alen;
		const uint8_t *v;
		struct ward_proto_str s;

		if (len - off < WARD_PROTO_ATTR_HDR)
			FAIL("truncated attribute header");
		tag = get16(p + off);
		if (get16(p + off + 2) != 0)
			FAIL("reserved attribute bits set");
		alen = get32(p + off + 4);
		off += WARD_PROTO_ATTR_HDR;
		if (alen > len - off)
			FAIL("attribute longer than the message");
		v = p + off;
		off += alen;
		if (tag == 0 || tag > WARD_ATTR_MAX)
			FAIL("unknown attribute");
		if (tag != WARD_ATTR_ENT && tag != WARD_ATTR_SERVICE && ward_proto_has(m, tag))
			FAIL("attribute repeated");
		m->present |= 1u << tag;
		s.p = (const char *)v;
		s.len = alen;
		switch (tag) {
		case WARD_ATTR_NAME:
		case WARD_ATTR_FROM:
		case WARD_ATTR_SERVICE:
			if (tag == WARD_ATTR_SERVICE ? !ward_proto_local_name_ok(s.p, alen)
						     : !ward_proto_name_ok(s.p, alen))
				FAIL("invalid name (1 to 64 of a-z 0-9 . _ -, NAME@HOST for "
				     "another "
				     "host's mailbox)");
			if (tag == WARD_ATTR_NAME) {
				m->name = s;
			} else if (tag == WARD_ATTR_FROM) {
				m->from = s;
			} else {
				if (m->n_service == WARD_PROTO_MAX_LIST)
					FAIL("too many services");
				m->service[m->n_service++] = s;
			}
			break;
		case WARD_ATTR_DATA:
			if (alen > WARD_PROTO_MAX_DATA)
				FAIL("message data larger than 64 KiB");
			m->data = v;
			m->data_len = alen;
			break;
		case WARD_ATTR_TEXT:
			if (alen > WARD_PROTO_MAX_TEXT || has_nul(v, alen))
				FAIL("invalid text");
			m->text = s;
			break;
		case WARD_ATTR_PATH:
			if (alen == 0 || alen > WARD_PROTO_MAX_PATH || has_nul(v, alen) ||
			    v[0] != '/')
				FAIL("invalid path (absolute, at most 4096 bytes, no NUL)");
			m->path = s;
			break;
		case WARD_ATTR_ENT:
			if (alen == 0 || alen > WARD_PROTO_MAX_ENT || has_nul(v, alen))
				FAIL("invalid entitlement text");
			if (m->n_ent == WARD_PROTO_MAX_LIST)
				FAIL("too many entitlements");
			m->ent[m->n_ent++] = s;
			break;
		case WARD_ATTR_CODE:
		case WARD_ATTR_FLAGS:
		case WARD_ATTR_PID:
		case WARD_ATTR_DEPTH:
		case WARD_ATTR_LIMIT:
		case WARD_ATTR_COUNT: {
			uint32_t x;

			if (alen != 4)
				FAIL("integer attribute is not 4 bytes");
			x = get32(v);
			if (tag == WARD_ATTR_CODE)
				m->code = x;
			else if (tag == WARD_ATTR_FLAGS)
				m->flags = x;
			else if (tag == WARD_ATTR_PID)
				m->pid = x;
			else if (tag == WARD_ATTR_DEPTH)
				m->depth = x;
			else if (tag == WARD_ATTR_LIMIT)
				m->limit = x;
			else
				m->count = x;
			break;
		}
		default:
			FAIL("unknown attribute");
		}
	}
	need = required(m->type);
	if ((m->present & need) != need)
		FAIL("a required attribute is missing");
	*why = NULL;
	return 0;
#undef FAIL
}

void ward_proto_begin(struct ward_proto_buf *b, void *mem, size_t cap, uint16_t type, uint32_t id)
{
	b->p = mem;
	b->cap = cap;
	b->len = WARD_PROTO_HDR_SIZE;
	b->overflow = cap < WARD_PROTO_HDR_SIZE;
	if (b->overflow)
		return;
	put16(b->p, WARD_PROTO_VERSION);
	put16(b->p + 2, type);
	put32(b->p + 4, id);
	put32(b->p + 8, 0);
}

void ward_proto_put(struct ward_proto_buf *b, uint16_t tag, const void *v, size_t len)
{
	if (b->overflow || len > UINT32_MAX || b->cap - b->len < WARD_PROTO_ATTR_HDR + len) {
		b->overflow = true;
		return;
	}
	put16(b->p + b->len, tag);
	put16(b->p + b->len + 2, 0);
	put32(b->p + b->len + 4, (uint32_t)len);
	if (len)
		memcpy(b->p + b->len + WARD_PROTO_ATTR_HDR, v, len);
	b->len += WARD_PROTO_ATTR_HDR + len;
}

void ward_proto_put_str(struct ward_proto_buf *b, uint16_t tag, const char *s)
{
	ward_proto_put(b, tag, s, strlen(s));
}

void ward_proto_put_u32(struct ward_proto_buf *b, uint16_t tag, uint32_t v)
{
	uint8_t x[4];

	put32(x, v);
	ward_proto_put(b, tag, x, sizeof(x));
}

long ward_proto_end(struct ward_proto_buf *b)
{
	if (b->overflow || b->len > WARD_PROTO_MAX_PACKET)
		return -1;
	put32(b->p + 8, (uint32_t)(b->len - WARD_PROTO_HDR_SIZE));
	return (long)b->len;
}
