/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The broker's log: one line per event, with a timestamp, on stderr (the
 * log file when detached). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../util.h"
#include "internal.h"

void bk_log(const char *fmt, ...)
{
	char ts[32];
	struct timespec t;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &t);
	localtime_r(&t.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s ward-broker: ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}
