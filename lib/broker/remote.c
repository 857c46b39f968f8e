/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mailboxes across hosts, the pure half (remote.h): signed frames, the
 * replay window, the remote configuration.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bundle/bundle.h"
#include "../util.h"
#include "broker.h"
#include "remote.h"

/* ---- the frame ----
 *
 *   magic "WARDMQ1\0" | u8 kind
 *   | u32 len, from_host | u32 len, from_name | u32 len, to_host | u32 len, to_name
 *   | id[16] | u64 timestamp (ms) | u32 len, body | signature[64]
 *
 * Little-endian; every variable field carries its length, so no two
 * different tuples encode to the same bytes (the signature covers exactly
 * what the receiver acts on).  The magic separates these signatures from
 * every other use of the same key (bundles are signed over BLAKE2b hashes
 * in minisign's format, never over bytes that start with it).  A notice's
 * body is: ref[16] | u32 code | u32 len, text | u32 len, entitlement.
 */

struct wbuf {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
};

static void wput(struct wbuf *w, const void *v, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	if (n)
		memcpy(w->p + w->len, v, n);
	w->len += n;
}

static void wput32(struct wbuf *w, uint32_t v)
{
	v = htole32(v);
	wput(w, &v, 4);
}

static void wput64(struct wbuf *w, uint64_t v)
{
	v = htole64(v);
	wput(w, &v, 8);
}

static void wstr(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);

	wput32(w, (uint32_t)n);
	wput(w, s, n);
}

size_t ward_remote_encode(const struct ward_remote_frame *f, const uint8_t sk[WARD_REMOTE_SK_BYTES],
			  uint8_t *out, size_t cap)
{
	struct wbuf w = {.p = out, .cap = cap};

	if (strlen(f->from_host) > WARD_PROTO_MAX_NAME ||
	    strlen(f->from_name) > WARD_PROTO_MAX_NAME ||
	    strlen(f->to_host) > WARD_PROTO_MAX_NAME || strlen(f->to_name) > WARD_PROTO_MAX_NAME)
		return 0;
	wput(&w, WARD_REMOTE_MAGIC, WARD_REMOTE_MAGIC_LEN);
	wput(&w, &f->kind, 1);
	wstr(&w, f->from_host);
	wstr(&w, f->from_name);
	wstr(&w, f->to_host);
	wstr(&w, f->to_name);
	wput(&w, f->id, WARD_REMOTE_ID_BYTES);
	wput64(&w, f->ts_ms);
	if (f->kind == WARD_REMOTE_NOTICE) {
		size_t tl = strnlen(f->text, WARD_PROTO_MAX_TEXT), el = strlen(f->ent);

		wput32(&w, (uint32_t)(WARD_REMOTE_ID_BYTES + 4 + 4 + tl + 4 + el));
		wput(&w, f->ref, WARD_REMOTE_ID_BYTES);
		wput32(&w, f->code);
		wput32(&w, (uint32_t)tl);
		wput(&w, f->text, tl);
		wstr(&w, f->ent);
	} else {
		if (f->body_len > WARD_PROTO_MAX_DATA)
			return 0;
		wput32(&w, f->body_len);
		wput(&w, f->body, f->body_len);
	}
	if (w.overflow || w.cap - w.len < WARD_REMOTE_SIG_BYTES)
		return 0;
	crypto_sign_detached(w.p + w.len, NULL, w.p, w.len, sk);
	return w.len + WARD_REMOTE_SIG_BYTES;
}

struct rbuf {
	const uint8_t *p;
	size_t len, off;
};

static bool rget(struct rbuf *r, void *v, size_t n)
{
	if (n > r->len - r->off)
		return false;
	memcpy(v, r->p + r->off, n);
	r->off += n;
	return true;
}

static bool rget32(struct rbuf *r, uint32_t *v)
{
	if (!rget(r, v, 4))
		return false;
	*v = le32toh(*v);
	return true;
}

/* A name field: a local name ([a-z0-9._-]{1,64}), or empty when allowed. */
static bool rname(struct rbuf *r, char out[WARD_PROTO_MAX_NAME + 1], bool may_be_empty)
{
	uint32_t n;

	if (!rget32(r, &n) || n > WARD_PROTO_MAX_NAME || n > r->len - r->off)
		return false;
	if (n == 0 && !may_be_empty)
		return false;
	if (n && !ward_proto_local_name_ok((const char *)r->p + r->off, n))
		return false;
	memcpy(out, r->p + r->off, n);
	out[n] = '\0';
	r->off += n;
	return true;
}

static bool no_nul(const uint8_t *p, size_t n)
{
	return memchr(p, '\0', n) == NULL;
}

int ward_remote_decode(const uint8_t *p, size_t len, struct ward_remote_frame *f, const char **why)
{
	struct rbuf r = {.p = p, .len = len};
	uint8_t magic[WARD_REMOTE_MAGIC_LEN];
	uint32_t blen;
	uint64_t ts;

#define FAIL(s)             \
	do {                \
		*why = (s); \
		return -1;  \
	} while (0)
	memset(f, 0, sizeof(*f));
	if (len > WARD_REMOTE_MAX_FRAME)
		FAIL("frame larger than the largest message");
	if (len < WARD_REMOTE_SIG_BYTES)
		FAIL("frame shorter than a signature");
	r.len = len - WARD_REMOTE_SIG_BYTES;
	if (!rget(&r, magic, sizeof(magic)) || memcmp(magic, WARD_REMOTE_MAGIC, sizeof(magic)) != 0)
		FAIL("not a ward frame (bad magic)");
	if (!rget(&r, &f->kind, 1) ||
	    (f->kind != WARD_REMOTE_MESSAGE && f->kind != WARD_REMOTE_NOTICE))
		FAIL("unknown frame kind");
	if (!rname(&r, f->from_host, false))
		FAIL("invalid sending host");
	/* A notice comes from the broker itself: no sending environment. */
	if (!rname(&r, f->from_name, f->kind == WARD_REMOTE_NOTICE))
		FAIL("invalid sender name");
	if (!rname(&r, f->to_host, false))
		FAIL("invalid receiving host");
	if (!rname(&r, f->to_name, false))
		FAIL("invalid receiver name");
	if (!rget(&r, f->id, WARD_REMOTE_ID_BYTES) || !rget(&r, &ts, 8))
		FAIL("truncated frame");
	f->ts_ms = le64toh(ts);
	if (!rget32(&r, &blen) || blen > WARD_PROTO_MAX_DATA || blen != r.len - r.off)
		FAIL("body length does not match the frame");
	f->body = p + r.off;
	f->body_len = blen;
	if (f->kind == WARD_REMOTE_NOTICE) {
		struct rbuf b = {.p = f->body, .len = blen};
		uint32_t tl, el;

		if (!rget(&b, f->ref, WARD_REMOTE_ID_BYTES) || !rget32(&b, &f->code) ||
		    !rget32(&b, &tl) || tl > WARD_PROTO_MAX_TEXT || tl > b.len - b.off ||
		    !no_nul(b.p + b.off, tl))
			FAIL("malformed notice");
		memcpy(f->text, b.p + b.off, tl);
		f->text[tl] = '\0';
		b.off += tl;
		if (!rget32(&b, &el) || el >= sizeof(f->ent) || el != b.len - b.off ||
		    !no_nul(b.p + b.off, el))
			FAIL("malformed notice");
		memcpy(f->ent, b.p + b.off, el);
		f->ent[el] = '\0';
	}
	*why = NULL;
	return 0;
#undef FAIL
}

bool ward_remote_verify(const uint8_t *p, size_t len, const uint8_t pk[WARD_REMOTE_PK_BYTES])
{
	if (len < WARD_REMOTE_SIG_BYTES)
		return false;
	return crypto_sign_verify_detached(p + len - WARD_REMOTE_SIG_BYTES, p,
					   len - WARD_REMOTE_SIG_BYTES, pk) == 0;
}

/* ---- the replay window ----
 *
 * A hash set of ids, and a list of them in the order they were added.  Ids
 * older than the window are forgotten from the front of the list (the list
 * is in arrival order, not timestamp order: an id may stay longer than its
 * window, which only catches more replays).  A message older than the
 * window cannot be checked against ids that were forgotten, so it is
 * refused as too old; so is one older than an id forgotten early because
 * the set was full (the floor).
 */

static size_t seen_hash(const struct ward_seen *s, const uint8_t id[WARD_REMOTE_ID_BYTES])
{
	uint64_t h;

	/* Ids are random (the sending broker's randombytes): their bytes are
	 * a hash already.  A hostile peer choosing ids can only lengthen its
	 * own chains, within the set's bound. */
	memcpy(&h, id, sizeof(h));
	return (size_t)(h % s->n_buckets);
}

void ward_seen_init(struct ward_seen *s, uint64_t window_ms, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->window_ms = window_ms;
	s->cap = cap ? cap : WARD_REMOTE_SEEN_MAX;
	s->n_buckets = s->cap;
	s->buckets = ward_xcalloc(s->n_buckets, sizeof(*s->buckets));
}

void ward_seen_free(struct ward_seen *s)
{
	while (s->head) {
		struct ward_seen_ent *e = s->head;

		s->head = e->next;
		free(e);
	}
	free(s->buckets);
	memset(s, 0, sizeof(*s));
}

static void seen_drop_head(struct ward_seen *s)
{
	struct ward_seen_ent *e = s->head, **pp;

	for (pp = &s->buckets[seen_hash(s, e->id)]; *pp; pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	s->head = e->next;
	if (s->head == NULL)
		s->tail = NULL;
	s->n--;
	free(e);
}

enum ward_seen_verdict ward_seen_check(struct ward_seen *s, const uint8_t id[WARD_REMOTE_ID_BYTES],
				       uint64_t ts_ms, uint64_t now_ms)
{
	struct ward_seen_ent *e;

	for (e = s->buckets[seen_hash(s, id)]; e; e = e->hnext)
		if (memcmp(e->id, id, WARD_REMOTE_ID_BYTES) == 0)
			return WARD_SEEN_DUPLICATE;
	if (ts_ms > now_ms + WARD_REMOTE_SKEW_MS)
		return WARD_SEEN_FUTURE;
	if (ts_ms < s->floor_ms || (now_ms > s->window_ms && ts_ms < now_ms - s->window_ms))
		return WARD_SEEN_TOO_OLD;
	return WARD_SEEN_FRESH;
}

void ward_seen_add(struct ward_seen *s, const uint8_t id[WARD_REMOTE_ID_BYTES], uint64_t ts_ms)
{
	struct ward_seen_ent *e;
	size_t h;

	while (s->n >= s->cap) {
		if (s->head->ts_ms + 1 > s->floor_ms)
			s->floor_ms = s->head->ts_ms + 1;
		seen_drop_head(s);
	}
	e = ward_xcalloc(1, sizeof(*e));
	memcpy(e->id, id, WARD_REMOTE_ID_BYTES);
	e->ts_ms = ts_ms;
	h = seen_hash(s, id);
	e->hnext = s->buckets[h];
	s->buckets[h] = e;
	if (s->tail)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
	s->n++;
}

void ward_seen_expire(struct ward_seen *s, uint64_t now_ms)
{
	while (s->head && now_ms > s->window_ms && s->head->ts_ms < now_ms - s->window_ms)
		seen_drop_head(s);
}

/* ---- configuration ---- */

void ward_remote_config_init(struct ward_remote_config *c)
{
	memset(c, 0, sizeof(*c));
	c->window_s = WARD_REMOTE_WINDOW_S;
	c->max_inflight = 1024;
}

void ward_remote_config_free(struct ward_remote_config *c)
{
	size_t i, k;

	for (i = 0; i < c->n_peers; i++)
		for (k = 0; k < c->peers[i].n_allow; k++)
			free(c->peers[i].allow[k]);
	free(c->key_path);
	free(c->amqp_url);
	free(c->amqp_cacert);
	free(c->amqp_cert);
	free(c->amqp_certkey);
	sodium_memzero(c->sk, sizeof(c->sk));
	memset(c, 0, sizeof(*c));
}

const struct ward_remote_peer *ward_remote_peer_find(const struct ward_remote_config *c,
						     const char *name)
{
	size_t i;

	for (i = 0; i < c->n_peers; i++)
		if (strcmp(c->peers[i].name, name) == 0)
			return &c->peers[i];
	return NULL;
}

const char *ward_remote_peer_allows(const struct ward_remote_peer *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_allow; i++)
		if (strchr(name, '@') == NULL && ward_broker_name_match(p->allow[i], name))
			return p->allow[i];
	return NULL;
}

void ward_remote_split(const char *addr, char name[WARD_PROTO_MAX_NAME + 1],
		       char host[WARD_PROTO_MAX_NAME + 1])
{
	const char *at = strchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);

	if (n > WARD_PROTO_MAX_NAME)
		n = WARD_PROTO_MAX_NAME;
	memcpy(name, addr, n);
	name[n] = '\0';
	snprintf(host, WARD_PROTO_MAX_NAME + 1, "%s", at ? at + 1 : "");
}

static bool pattern_ok(const char *v)
{
	size_t n = strlen(v);

	if (n && v[n - 1] == '*')
		return n == 1 || ward_proto_local_name_ok(v, n - 1);
	return ward_proto_local_name_ok(v, n);
}

static struct ward_remote_peer *peer_get(struct ward_remote_config *c, const char *name,
					 const char *where, bool create, ward_error_t *err)
{
	struct ward_remote_peer *p = (struct ward_remote_peer *)ward_remote_peer_find(c, name);

	if (p)
		return p;
	if (!ward_proto_local_name_ok(name, strlen(name))) {
		ward_error_set(err, EINVAL,
			       "%s: \"%s\" is not a host name (1 to 64 of a-z 0-9 . _ -)", where,
			       name);
		return NULL;
	}
	if (!create) {
		ward_error_set(
			err, ENOENT,
			"%s: \"%s\" is not a listed peer: list it first with --peer %s=PUBKEY "
			"(or a \"peer %s PUBKEY\" line)",
			where, name, name, name);
		return NULL;
	}
	if (c->n_peers == WARD_REMOTE_MAX_PEERS) {
		ward_error_set(err, E2BIG, "%s: at most %u peers", where, WARD_REMOTE_MAX_PEERS);
		return NULL;
	}
	p = &c->peers[c->n_peers++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

static int read_pubkey(const char *value, const char *where, uint8_t pk[WARD_REMOTE_PK_BYTES],
		       ward_error_t *err)
{
	cleanup_free char *text = NULL;
	struct ward_pubkey k;
	size_t len;

	/* A file (ward key generate's PREFIX.pub), else the base64 key itself. */
	if (strchr(value, '/') || access(value, F_OK) == 0) {
		if (ward_read_file(value, &text, &len) < 0)
			return ward_error_sys(err, "%s: cannot read the public key %s", where,
					      value);
		if (ward_pubkey_parse(text, len, value, &k, err) < 0)
			return -1;
	} else if (ward_pubkey_parse(value, strlen(value), where, &k, err) < 0) {
		return -1;
	}
	memcpy(pk, k.pk, WARD_REMOTE_PK_BYTES);
	return 0;
}

static int set_str(char **dst, const char *value)
{
	free(*dst);
	*dst = ward_xstrdup(value);
	return 0;
}

int ward_remote_config_set(struct ward_remote_config *c, const char *key, const char *value,
			   const char *where, ward_error_t *err)
{
	if (strcmp(key, "host") == 0) {
		if (!ward_proto_local_name_ok(value, strlen(value)))
			return ward_error_set(
				err, EINVAL,
				"%s: \"%s\" is not a host name (1 to 64 of a-z 0-9 . _ "
				"-)",
				where, value);
		snprintf(c->host, sizeof(c->host), "%s", value);
		return 0;
	}
	if (strcmp(key, "host-key") == 0)
		return set_str(&c->key_path, value);
	if (strcmp(key, "amqp") == 0) {
		if (strncmp(value, "amqp://", 7) != 0 && strncmp(value, "amqps://", 8) != 0)
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\" is not an AMQP URL "
					      "(amqp://USER:PASSWORD@HOST:PORT/VHOST, or amqps://)",
					      where, value);
		return set_str(&c->amqp_url, value);
	}
	if (strcmp(key, "amqp-cacert") == 0)
		return set_str(&c->amqp_cacert, value);
	if (strcmp(key, "amqp-cert") == 0)
		return set_str(&c->amqp_cert, value);
	if (strcmp(key, "amqp-key") == 0)
		return set_str(&c->amqp_certkey, value);
	if (strcmp(key, "replay-window") == 0) {
		uint64_t v;

		if (ward_parse_u64(value, &v) < 0 || v < 10 || v > 30 * 86400)
			return ward_error_set(
				err, EINVAL, "%s: replay window %s: expected 10 to 2592000 seconds",
				where, value);
		c->window_s = (uint32_t)v;
		return 0;
	}
	if (strcmp(key, "max-inflight") == 0) {
		uint64_t v;

		if (ward_parse_u64(value, &v) < 0 || v < 1 || v > 65536)
			return ward_error_set(err, EINVAL,
					      "%s: max-inflight %s: expected 1 to 65536 messages",
					      where, value);
		c->max_inflight = (uint32_t)v;
		return 0;
	}
	if (strcmp(key, "peer") == 0 || strcmp(key, "peer-allow") == 0) {
		cleanup_free char *copy = ward_xstrdup(value);
		char *eq = strchr(copy, '=');
		struct ward_remote_peer *p;

		if (eq == NULL)
			return ward_error_set(err, EINVAL, "%s: %s: expected NAME=%s", where, value,
					      key[4] ? "PATTERN[,PATTERN...]" : "PUBKEY");
		*eq = '\0';
		p = peer_get(c, copy, where, key[4] == '\0', err);
		if (p == NULL)
			return -1;
		if (key[4] == '\0') {
			if (c->host[0] && strcmp(c->host, p->name) == 0)
				return ward_error_set(err, EINVAL, "%s: %s is this host", where,
						      p->name);
			return read_pubkey(eq + 1, where, p->pk, err);
		}
		for (char *save = NULL, *pat = strtok_r(eq + 1, ",", &save); pat;
		     pat = strtok_r(NULL, ",", &save)) {
			if (!pattern_ok(pat))
				return ward_error_set(err, EINVAL,
						      "%s: \"%s\" is not a local mailbox pattern "
						      "(a-z 0-9 . _ -, optionally ending in *)",
						      where, pat);
			if (p->n_allow == WARD_REMOTE_MAX_ALLOW)
				return ward_error_set(err, E2BIG,
						      "%s: at most %u patterns per peer", where,
						      WARD_REMOTE_MAX_ALLOW);
			p->allow[p->n_allow++] = ward_xstrdup(pat);
		}
		return 0;
	}
	return ward_error_set(err, EINVAL, "%s: unknown setting \"%s\"", where, key);
}

int ward_remote_config_load(struct ward_remote_config *c, const char *path, ward_error_t *err)
{
	cleanup_free char *text = NULL;
	char *line, *save = NULL;
	size_t len;
	unsigned no = 0;

	if (ward_read_file(path, &text, &len) < 0)
		return ward_error_sys(err, "cannot read the broker's config %s", path);
	if (strlen(text) != len)
		return ward_error_set(err, EINVAL, "%s: a NUL byte in the file", path);
	for (line = text; line; line = save) {
		char where[300], *key, *value, *nl = strchr(line, '\n');

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		no++;
		snprintf(where, sizeof(where), "%s:%u", path, no);
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		key = line + strspn(line, " \t");
		if (*key == '\0')
			continue;
		value = key + strcspn(key, " \t");
		if (*value)
			*value++ = '\0';
		value += strspn(value, " \t");
		while (*value && strchr(" \t\r", value[strlen(value) - 1]))
			value[strlen(value) - 1] = '\0';
		if (*value == '\0')
			return ward_error_set(err, EINVAL, "%s: \"%s\" needs a value", where, key);
		/* "peer NAME PUBKEY" and "allow NAME PATTERN..." read as the
		 * options --peer NAME=PUBKEY and --peer-allow NAME=P,P. */
		if (strcmp(key, "peer") == 0 || strcmp(key, "allow") == 0) {
			cleanup_free char *v = ward_xstrdup(value);
			char *sp = v + strcspn(v, " \t");

			if (*sp == '\0')
				return ward_error_set(err, EINVAL, "%s: expected \"%s NAME %s\"",
						      where, key,
						      key[0] == 'p' ? "PUBKEY" : "PATTERN...");
			*sp++ = '\0';
			sp += strspn(sp, " \t");
			for (char *q = sp; *q; q++)
				if (*q == ' ' || *q == '\t')
					*q = ',';
			{
				cleanup_free char *joined = ward_xasprintf("%s=%s", v, sp);

				if (ward_remote_config_set(c, key[0] == 'p' ? "peer" : "peer-allow",
							   joined, where, err) < 0)
					return -1;
			}
			continue;
		}
		if (ward_remote_config_set(c, key, value, where, err) < 0)
			return -1;
	}
	return 0;
}

int ward_remote_config_finish(struct ward_remote_config *c, ward_error_t *err)
{
	cleanup_free char *text = NULL;
	struct ward_seckey sk;
	struct stat st;
	size_t len;
	bool encrypted;
	int r;

	if (c->host[0] == '\0') {
		if (c->key_path || c->amqp_url || c->n_peers)
			return ward_error_set(err, EINVAL,
					      "remote mailboxes need --host NAME (this host's name "
					      "among its peers)");
		return 0;
	}
	if (c->key_path == NULL)
		return ward_error_set(err, EINVAL,
				      "--host %s needs --host-key FILE (ward key generate --out "
				      "FILE --no-password)",
				      c->host);
	if (c->amqp_url == NULL)
		return ward_error_set(
			err, EINVAL, "--host %s needs --amqp URL (amqp://USER:PASSWORD@HOST:PORT/)",
			c->host);
	for (size_t i = 0; i < c->n_peers; i++)
		if (strcmp(c->peers[i].name, c->host) == 0)
			return ward_error_set(err, EINVAL, "peer %s is this host", c->host);
	/* The host key signs every message this host sends: only its owner
	 * may read it. */
	if (stat(c->key_path, &st) < 0)
		return ward_error_sys(err, "host key %s", c->key_path);
	if (st.st_mode & 077)
		return ward_error_set(err, EPERM,
				      "host key %s is readable by others (mode %04o): chmod 600 it",
				      c->key_path, (unsigned)(st.st_mode & 07777));
	if (ward_read_file(c->key_path, &text, &len) < 0)
		return ward_error_sys(err, "cannot read the host key %s", c->key_path);
	if (ward_seckey_encrypted(text, len, c->key_path, &encrypted, err) < 0)
		return -1;
	if (encrypted)
		return ward_error_set(
			err, EINVAL,
			"host key %s is encrypted: the broker starts unattended; make "
			"it with ward key generate --no-password (and keep it 0600)",
			c->key_path);
	r = ward_seckey_parse(text, len, c->key_path, NULL, &sk, err);
	sodium_memzero(text, len);
	if (r < 0)
		return -1;
	memcpy(c->sk, sk.sk, sizeof(c->sk));
	ward_seckey_wipe(&sk);
	c->have_key = true;
	return 0;
}
