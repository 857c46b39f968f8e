/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

static int error_setv(ward_error_t *err, int code, const char *fmt, va_list ap, int append_errno)
{
	struct ward_error *e;
	char *msg;

	if (err == NULL)
		return -1;
	msg = vformat(fmt, ap);
	if (msg && append_errno && code) {
		char *full = NULL;

		if (asprintf(&full, "%s: %s", msg, strerror(code)) >= 0) {
			free(msg);
			msg = full;
		}
	}
	ward_error_free(err);
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		free(msg);
		/* Out of memory while reporting: keep a static-free marker. */
		return -1;
	}
	e->code = code;
	e->status = 1;
	e->msg = msg ? msg : strdup("out of memory");
	*err = e;
	return -1;
}

int ward_error_set(ward_error_t *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_setv(err, code, fmt, ap, 0);
	va_end(ap);
	return -1;
}

int ward_error_sys(ward_error_t *err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	error_setv(err, saved, fmt, ap, 1);
	va_end(ap);
	errno = saved;
	return -1;
}

int ward_error_wrap(ward_error_t *err, const char *fmt, ...)
{
	char *ctx, *full = NULL;
	va_list ap;

	if (err == NULL || *err == NULL)
		return -1;
	va_start(ap, fmt);
	ctx = vformat(fmt, ap);
	va_end(ap);
	if (ctx == NULL)
		return -1;
	if (asprintf(&full, "%s: %s", ctx, (*err)->msg ? (*err)->msg : "") >= 0) {
		free((*err)->msg);
		(*err)->msg = full;
	}
	free(ctx);
	return -1;
}

void ward_error_free(ward_error_t *err)
{
	if (err == NULL || *err == NULL)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

int ward_error_print(ward_error_t *err)
{
	int status = 1;

	if (err && *err) {
		fprintf(stderr, "ward: %s\n", (*err)->msg ? (*err)->msg : "unknown error");
		status = (*err)->status ? (*err)->status : 1;
		ward_error_free(err);
	}
	return status;
}
