/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * api.attest: an environment asks for a quote over its own launch event,
 * with a nonce it got from a remote verifier (docs/attestation.md).
 *
 * The broker checks the entitlement and finds the environment's launch
 * event (recorded by its ward run under <state>/attest/env/NAME with the
 * supervisor's pid, which is the pid the broker registered: a record of
 * another launch of the same name does not match).  A quote takes tens of
 * milliseconds of TPM time, which the event loop must not wait for: the
 * answer is OK with the read end of a pipe, and a worker process writes
 * the attestation into it (lib/attest/quote.c: ward_quote_write_stream).
 * The worker is a grandchild, so the broker has no child to reap; it
 * closes every descriptor of the broker's but the pipe and dies after 30
 * seconds whatever happens (an environment that never reads).  The
 * qualifying data binds the nonce to the event, so an environment cannot
 * pass its quote off as another's.
 *
 * Requests are rate limited (per environment and overall): each one is a
 * root process and TPM time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../attest/attest.h"
#include "../util.h"
#include "internal.h"

#define PER_ENV_BURST 4u
#define PER_ENV_RATE  2u /* a second */
#define ALL_BURST     16u
#define ALL_RATE      8u
#define SLOTS	      64u

static char *state_dir;

struct bucket {
	uint64_t serial;
	uint64_t milli, last_ms;
};

static struct bucket per_env[SLOTS], all;

void bk_attest_config(const char *dir)
{
	free(state_dir);
	state_dir = dir ? ward_xstrdup(dir) : NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool take(struct bucket *b, unsigned burst, unsigned rate)
{
	uint64_t t = now_ms();

	if (b->last_ms == 0)
		b->milli = burst * 1000u;
	else
		b->milli += (t - b->last_ms) * rate;
	if (b->milli > burst * 1000u)
		b->milli = burst * 1000u;
	b->last_ms = t;
	if (b->milli < 1000u)
		return false;
	b->milli -= 1000u;
	return true;
}

static void worker(int wfd, const char *name, uint64_t seq, const uint8_t *nonce, size_t n)
{
	struct ward_attest_config c;
	struct ward_quote q;
	ward_error_t err = NULL;
	char *dir = state_dir;

	alarm(30);
	signal(SIGPIPE, SIG_DFL);
	if (wfd != 3 && dup2(wfd, 3) < 0)
		_exit(1);
	syscall(SYS_close_range, 4, ~0U, 0);
	if (ward_attest_config_load(dir, NULL, &c, &err) < 0 ||
	    ward_attest_quote(&c, nonce, n, name, true, seq, &q, &err) < 0) {
		dprintf(3, "ward-attestation 1\nerror %s\n", err ? err->msg : "failed");
		_exit(1);
	}
	ward_quote_write_stream(&q, 3);
	_exit(0);
}

void bk_do_attest(struct conn *c, struct env *e, const struct ward_proto_msg *m)
{
	struct bucket *b = &per_env[e->serial % SLOTS];
	cleanup_free char *dir = NULL;
	ward_error_t err = NULL;
	uint8_t nonce[WARD_ATTEST_NONCE_MAX];
	uint64_t seq;
	int p[2];
	pid_t pid;

	if (!ward_broker_allows(e->pol.broker, e->pol.n_broker, WARD_BROKER_ATTEST, NULL)) {
		bk_deny(c, e, m->id, "attest", "api.attest");
		return;
	}
	if (m->data_len < WARD_ATTEST_NONCE_MIN || m->data_len > WARD_ATTEST_NONCE_MAX) {
		bk_reply_error(c, m->id, EINVAL, NULL,
			       "the nonce is %u to %u bytes (a fresh random value from the "
			       "verifier)",
			       WARD_ATTEST_NONCE_MIN, WARD_ATTEST_NONCE_MAX);
		return;
	}
	if (b->serial != e->serial) {
		memset(b, 0, sizeof(*b));
		b->serial = e->serial;
	}
	if (!take(b, PER_ENV_BURST, PER_ENV_RATE) || !take(&all, ALL_BURST, ALL_RATE)) {
		bk_reply_error(c, m->id, EAGAIN, NULL,
			       "too many attestation requests (each one is TPM time): at most %u "
			       "a second, try again",
			       PER_ENV_RATE);
		return;
	}
	dir = ward_xasprintf("%s/attest", state_dir ? state_dir : "/run/ward");
	if (ward_attest_env_lookup(dir, e->name, e->pid, &seq, &err) < 0) {
		bk_reply_error(c, m->id, ENOENT, NULL, "%s", err->msg);
		ward_error_free(&err);
		return;
	}
	memcpy(nonce, m->data, m->data_len);
	if (pipe2(p, O_CLOEXEC) < 0) {
		bk_reply_error(c, m->id, errno, NULL, "pipe2: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		if (fork() == 0)
			worker(p[1], e->name, seq, nonce, m->data_len);
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		bk_reply_error(c, m->id, errno, NULL, "fork: %s", strerror(errno));
		return;
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	bk_log("attestation for \"%s\" (pid %d): event %llu", e->name, (int)e->pid,
	       (unsigned long long)seq);
	bk_reply_ok(c, m->id, p[0]);
	close(p[0]);
}
