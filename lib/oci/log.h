/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The OCI runtime's log: runc's --log FILE and --log-format text|json.
 *
 * Engines read this file when the runtime fails (podman shows the last
 * "error" line), so every error is written here as well as on stderr.
 * Without --log, warnings go to stderr and debug lines nowhere.
 */
#ifndef WARD_OCI_LOG_H
#define WARD_OCI_LOG_H

#include <stdbool.h>

enum ward_log_level { WARD_LOG_DEBUG, WARD_LOG_INFO, WARD_LOG_WARN, WARD_LOG_ERROR };

/* file NULL: stderr only.  Returns -1 (errno) when the file cannot be opened. */
int ward_oci_log_open(const char *file, bool json, bool debug);
void ward_oci_log(enum ward_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A message fit for a terminal or a log line: ward_escape()d when it holds
 * anything but printable ASCII (a config string that reached it raw). */
char *ward_oci_clean_msg(const char *msg);
/* The descriptor of the log file (-1 without one); kept open across exec of hooks. */
int ward_oci_log_fd(void);

#endif
