/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ward-msg: the broker from a shell inside a ward environment.
 *
 *   ward-msg whoami
 *   ward-msg send [--wait] NAME [TEXT]      (standard input without TEXT)
 *   ward-msg recv [--timeout MS] [--count N] [--from]
 *   ward-msg lookup NAME
 *   ward-msg open [--write|--append|--create] PATH
 *   ward-msg connect SERVICE                (relays standard input and output)
 *   ward-msg provide SERVICE                (accepts one connection and relays)
 *   ward-msg attest NONCE [DIR]             (api.attest: the quote's files into DIR)
 *
 * Exit status: 0; 1 when the broker refused or failed (the reason and the
 * missing entitlement on stderr); 2 for a bad command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward/client.h"

#define MAXMSG 65536

static int usage(void)
{
	fputs("usage: ward-msg whoami | send [--wait] NAME [TEXT] | recv [--timeout MS] "
	      "[--count N] [--from]\n"
	      "       | lookup NAME | open [--write|--append|--create] PATH | connect SERVICE\n"
	      "       | provide SERVICE | attest NONCE [DIR]\n",
	      stderr);
	return 2;
}

static int fail(struct ward_client *c, const char *what, int r)
{
	const char *text = c ? ward_client_strerror(c) : "";
	const char *miss = c ? ward_client_missing(c) : "";

	/* The broker's answer says what was refused and which entitlement
	 * would allow it; otherwise the system's error. */
	if (text && *text)
		fprintf(stderr, "ward-msg: %s\n", text);
	else
		fprintf(stderr, "ward-msg: %s: %s\n", what, strerror(-r));
	(void)miss;
	return 1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy between standard input/output and a connected socket until both
 * directions end. */
static int relay(int sock)
{
	char buf[65536];
	bool in_open = true;

	for (;;) {
		struct pollfd p[2] = {{.fd = sock, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
		ssize_t n;

		if (poll(p, in_open ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents) {
			n = read(sock, buf, sizeof(buf));
			if (n <= 0)
				return 0;
			if (write_all(1, buf, (size_t)n) < 0)
				return 1;
		}
		if (in_open && p[1].revents) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				in_open = false;
				shutdown(sock, SHUT_WR);
			} else if (write_all(sock, buf, (size_t)n) < 0) {
				return 1;
			}
		}
	}
}

/* One line of at most max bytes, without its newline; -1 at the end. */
static int read_line(int fd, char *buf, size_t max)
{
	size_t n = 0;

	while (n + 1 < max) {
		ssize_t r = read(fd, buf + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

/* ward-msg attest NONCE [DIR]: the broker's attestation stream, written
 * as files of DIR.  Only the names the stream format knows are written,
 * beneath DIR, never through a link. */
static int attest(struct ward_client *c, const char *hex, const char *dir)
{
	static const char *const names[] = {"quote.msg", "quote.sig",  "quote.pcrs", "eventlog",
					    "kind",	 "qualifying", "event"};
	unsigned char nonce[64];
	size_t n = strlen(hex), i;
	char line[1100];
	int fd, dfd;

	if (n % 2 || n / 2 < 8 || n / 2 > 64) {
		fprintf(stderr, "ward-msg: attest: the nonce is 8 to 64 bytes in hex\n");
		return 2;
	}
	for (i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			fprintf(stderr, "ward-msg: attest: the nonce is hex\n");
			return 2;
		}
		nonce[i] = (unsigned char)v;
	}
	fd = ward_attest(c, nonce, n / 2);
	if (fd < 0)
		return fail(c, "attest", fd);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "ward-msg: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || read_line(fd, line, sizeof(line)) < 0 ||
	    strcmp(line, "ward-attestation 1") != 0) {
		fprintf(stderr, "ward-msg: attest: no attestation from the broker\n");
		return 1;
	}
	for (;;) {
		char name[32];
		size_t len, got = 0;
		const char *known = NULL;
		int out;

		if (read_line(fd, line, sizeof(line)) < 0)
			break;
		if (strcmp(line, "end") == 0)
			return 0;
		if (strncmp(line, "error ", 6) == 0) {
			fprintf(stderr, "ward-msg: attest: %s\n", line + 6);
			return 1;
		}
		if (sscanf(line, "file %31s %zu", name, &len) != 2)
			break;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(name, names[i]) == 0)
				known = names[i];
		if (known == NULL)
			break;
		out = openat(dfd, known, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			     0644);
		if (out < 0) {
			fprintf(stderr, "ward-msg: %s/%s: %s\n", dir, known, strerror(errno));
			return 1;
		}
		while (got < len) {
			char buf[65536];
			size_t want = len - got < sizeof(buf) ? len - got : sizeof(buf);
			ssize_t r = read(fd, buf, want);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0 || write_all(out, buf, (size_t)r) < 0) {
				close(out);
				goto cut;
			}
			got += (size_t)r;
		}
		close(out);
	}
cut:
	fprintf(stderr, "ward-msg: attest: the attestation stream was cut or malformed\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct ward_client *c;
	const char *cmd;
	int r;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	c = ward_client_open();
	if (c == NULL) {
		fprintf(stderr,
			"ward-msg: no broker descriptor (run inside `ward run --name NAME` "
			"or with a broker entitlement): %s\n",
			strerror(errno));
		return 1;
	}
	if (strcmp(cmd, "whoami") == 0) {
		char name[128];

		r = ward_whoami(c, name, sizeof(name));
		if (r < 0)
			return fail(c, "whoami", r);
		printf("%s\n", name);
		return 0;
	}
	if (strcmp(cmd, "send") == 0) {
		int i = 2;
		bool wait = false;
		char *data;
		size_t len = 0;

		if (i < argc && strcmp(argv[i], "--wait") == 0) {
			wait = true;
			i++;
		}
		if (i >= argc)
			return usage();
		if (i + 1 < argc) {
			data = argv[i + 1];
			len = strlen(data);
		} else {
			ssize_t n;

			data = malloc(MAXMSG + 1);
			if (data == NULL)
				return 1;
			while (len <= MAXMSG && (n = read(0, data + len, MAXMSG + 1 - len)) > 0)
				len += (size_t)n;
			if (len > MAXMSG) {
				fprintf(stderr, "ward-msg: a message holds at most %d bytes\n",
					MAXMSG);
				return 1;
			}
		}
		r = wait ? ward_send_wait(c, argv[i], data, len) : ward_send(c, argv[i], data, len);
		if (r < 0) {
			char what[160];

			snprintf(what, sizeof(what), "send to \"%s\"", argv[i]);
			return fail(c, what, r);
		}
		return 0;
	}
	if (strcmp(cmd, "recv") == 0) {
		int timeout = -1, count = 1, i;
		bool show_from = false;
		static char buf[MAXMSG + 1];

		for (i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
				timeout = atoi(argv[++i]);
			else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
				count = atoi(argv[++i]);
			else if (strcmp(argv[i], "--from") == 0)
				show_from = true;
			else
				return usage();
		}
		for (i = 0; i < count; i++) {
			char from[128];
			ssize_t n = ward_recv(c, buf, MAXMSG, from, sizeof(from), timeout);

			if (n < 0)
				return fail(c, "recv", (int)n);
			if (show_from)
				printf("%s\t", from[0] ? from : "(host)");
			fwrite(buf, 1, (size_t)n, stdout);
			putchar('\n');
			fflush(stdout);
		}
		return 0;
	}
	if (strcmp(cmd, "lookup") == 0) {
		unsigned flags = 0, depth = 0;

		if (argc != 3)
			return usage();
		r = ward_lookup(c, argv[2], &flags, &depth);
		if (r < 0)
			return fail(c, "lookup", r);
		printf("%s%s%s\n", argv[2], (flags & WARD_LOOKUP_MAILBOX) ? " mailbox" : "",
		       (flags & WARD_LOOKUP_SERVICE) ? " service" : "");
		return 0;
	}
	if (strcmp(cmd, "open") == 0) {
		int flags = O_RDONLY, i = 2, fd;
		char buf[65536];
		ssize_t n;

		for (; i < argc - 1; i++) {
			if (strcmp(argv[i], "--write") == 0)
				flags = O_RDWR | O_TRUNC | (flags & O_CREAT);
			else if (strcmp(argv[i], "--append") == 0)
				flags = O_RDWR | O_APPEND | (flags & O_CREAT);
			else if (strcmp(argv[i], "--create") == 0)
				flags |= O_RDWR | O_CREAT;
			else
				return usage();
		}
		if (i != argc - 1)
			return usage();
		fd = ward_open(c, argv[i], flags);
		if (fd < 0) {
			char what[4200];

			snprintf(what, sizeof(what), "open %s", argv[i]);
			return fail(c, what, fd);
		}
		if ((flags & O_ACCMODE) == O_RDONLY) {
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				if (write_all(1, buf, (size_t)n) < 0)
					return 1;
		} else {
			while ((n = read(0, buf, sizeof(buf))) > 0)
				if (write_all(fd, buf, (size_t)n) < 0) {
					perror("ward-msg: write");
					return 1;
				}
		}
		return n < 0 ? 1 : 0;
	}
	if (strcmp(cmd, "attest") == 0) {
		if (argc != 3 && argc != 4)
			return usage();
		return attest(c, argv[2], argc == 4 ? argv[3] : ".");
	}
	if (strcmp(cmd, "connect") == 0 || strcmp(cmd, "provide") == 0) {
		int fd;

		if (argc != 3)
			return usage();
		if (cmd[0] == 'c') {
			fd = ward_connect(c, argv[2], 0);
			if (fd < 0)
				return fail(c, "connect", fd);
		} else {
			char from[128];
			int pfd = ward_provide(c, argv[2]);

			if (pfd < 0)
				return fail(c, "provide", pfd);
			fprintf(stderr, "ward-msg: providing %s\n", argv[2]);
			fd = ward_accept(pfd, from, sizeof(from));
			if (fd < 0)
				return fail(NULL, "accept", fd);
			close(pfd);
		}
		return relay(fd);
	}
	return usage();
}
