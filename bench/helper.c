/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two tiny tools for bench/bench.sh, linked statically so that they cost
 * one short execve and nothing else:
 *
 *   helper idexec PFX PROG ARG...
 *                               exec PROG with every argument "@ID@" replaced
 *                               by "PFX-<pid>": a container id that is unique
 *                               among live processes (crun run needs a fresh
 *                               id per run; hyperfine -N has no {run}).  PROG
 *                               is a full path (no PATH search).
 *   helper rewind FD            lseek(FD, 0, SEEK_SET): hyperfine's --prepare
 *                               step for bwrap --seccomp FD, which reads FD to
 *                               its end; the open file is hyperfine's and is
 *                               shared by every run.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "rewind") == 0)
		return lseek(atoi(argv[2]), 0, SEEK_SET) == 0 ? 0 : 1;
	if (argc >= 4 && strcmp(argv[1], "idexec") == 0) {
		char id[128];
		int i;

		snprintf(id, sizeof(id), "%s-%d", argv[2], (int)getpid());
		for (i = 3; i < argc; i++)
			if (strcmp(argv[i], "@ID@") == 0)
				argv[i] = id;
		execv(argv[3], argv + 3);
		perror(argv[3]);
		return 127;
	}
	fprintf(stderr, "usage: helper idexec PFX PROG ARG... | helper rewind FD\n");
	return 2;
}
