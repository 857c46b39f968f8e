/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Error reporting for libward.
 *
 * A function that can fail returns a negative value and fills *err with an
 * errno and a message.  Callers add context on the way up with
 * ward_error_wrap(); main() prints the final message once.  Nothing in the
 * library calls exit().
 */
#ifndef WARD_ERROR_H
#define WARD_ERROR_H

#include <stdarg.h>

struct ward_error {
	int code;   /* errno, or 0 when the error is not a system error */
	int status; /* exit status the CLI should use (default 1) */
	char *msg;
};

typedef struct ward_error *ward_error_t;

/* Set *err (if err is not NULL) and return -1.  code is an errno or 0. */
int ward_error_set(ward_error_t *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like ward_error_set() with code = errno, and ": strerror" appended. */
int ward_error_sys(ward_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the message already in *err with "context: ".  Returns -1. */
int ward_error_wrap(ward_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ward_error_free(ward_error_t *err);
/* Print "ward: message" on stderr, return the exit status to use. */
int ward_error_print(ward_error_t *err);

#endif
