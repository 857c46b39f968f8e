// SPDX-License-Identifier: GPL-2.0-or-later
/* The OCI runtime's log file (see log.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../util.h"
#include "log.h"

static int log_fd = -1;
static bool log_json;
static bool log_debug;

int ward_oci_log_open(const char *file, bool json, bool debug)
{
	log_json = json;
	log_debug = debug;
	if (file == NULL || *file == '\0')
		return 0;
	log_fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	return log_fd < 0 ? -1 : 0;
}

int ward_oci_log_fd(void)
{
	return log_fd;
}

char *ward_oci_clean_msg(const char *msg)
{
	const unsigned char *p;

	/* Most messages are ward's words around strings already escaped
	 * where they were taken from the config; this is the net for those
	 * that were not: anything but printable ASCII is escaped (backslashes
	 * then show doubled, a small price). */
	for (p = (const unsigned char *)msg; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			return ward_escape(msg, 0);
	return ward_xstrdup(msg);
}

static const char *level_name(enum ward_log_level l)
{
	switch (l) {
	case WARD_LOG_DEBUG:
		return "debug";
	case WARD_LOG_INFO:
		return "info";
	case WARD_LOG_WARN:
		return "warning";
	case WARD_LOG_ERROR:
		return "error";
	default:
		return "info";
	}
}

void ward_oci_log(enum ward_log_level level, const char *fmt, ...)
{
	char raw[4096], stamp[64];
	cleanup_free char *msg = NULL;
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level == WARD_LOG_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	msg = ward_oci_clean_msg(raw);
	/* Without a log file, warnings and errors go to stderr (errors are
	 * printed there by the CLI anyway, once). */
	if (log_fd < 0) {
		if (level == WARD_LOG_WARN || (level == WARD_LOG_DEBUG && log_debug))
			fprintf(stderr, "ward: %s: %s\n", level_name(level), msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
	if (log_json) {
		json_t *o = json_pack("{s:s,s:s,s:s}", "level", level_name(level), "msg", msg,
				      "time", stamp);
		char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (line) {
			size_t n = strlen(line);

			line[n] = '\n';
			(void)ward_write_all(log_fd, line, n + 1);
			line[n] = '\0';
		}
		free(line);
		json_decref(o);
	} else {
		char *line = ward_xasprintf("time=\"%s\" level=%s msg=\"%s\"\n", stamp,
					    level_name(level), msg);

		(void)ward_write_all(log_fd, line, strlen(line));
		free(line);
	}
}
