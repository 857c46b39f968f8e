// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench/tcpbench: TCP throughput between two processes (bench/net.sh).
 *
 *   tcpbench server PORT        accept one connection, read until EOF, close
 *   tcpbench client HOST PORT MIB
 *                               send MIB MiB, half-close, wait for the
 *                               server's close; print "MiB/s" (from connect
 *                               to the server's close, so every byte was read)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int server(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	static char buf[CHUNK];
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0), c;

	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0) {
		perror("tcpbench server");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	c = accept(s, NULL, NULL);
	if (c < 0) {
		perror("accept");
		return 1;
	}
	while (read(c, buf, sizeof(buf)) > 0)
		;
	close(c);
	return 0;
}

static int client(const char *host, int port, long mib)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	static char buf[CHUNK];
	long long left = mib * 1024LL * 1024LL;
	double t0;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "tcpbench client: bad address %s\n", host);
		return 1;
	}
	memset(buf, 'x', sizeof(buf));
	t0 = now();
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("connect");
		return 1;
	}
	while (left > 0) {
		ssize_t w = write(s, buf, left < CHUNK ? (size_t)left : CHUNK);

		if (w <= 0) {
			perror("write");
			return 1;
		}
		left -= w;
	}
	shutdown(s, SHUT_WR);
	while (read(s, buf, sizeof(buf)) > 0)
		;
	printf("%.1f\n", (double)mib / (now() - t0));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return server(atoi(argv[2]));
	if (argc == 5 && strcmp(argv[1], "client") == 0)
		return client(argv[2], atoi(argv[3]), atol(argv[4]));
	fprintf(stderr, "usage: tcpbench server PORT | tcpbench client HOST PORT MIB\n");
	return 2;
}
