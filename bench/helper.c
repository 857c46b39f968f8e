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
 *   helper maxrss PROG ARG...   run PROG (output discarded) and print the
 *                               "maximum resident set size" in kB of its
 *                               tree, as /usr/bin/time -v does; the fallback
 *                               when /usr/bin/time is not installed.  (Not
 *                               from Python: a child forked from a big process
 *                               inherits its high-water mark across execve.)
 *   helper rewind FD            lseek(FD, 0, SEEK_SET): hyperfine's --prepare
 *                               step for bwrap --seccomp FD, which reads FD to
 *                               its end; the open file is hyperfine's and is
 *                               shared by every run.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
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
	if (argc >= 3 && strcmp(argv[1], "maxrss") == 0) {
		struct rusage ru;
		pid_t pid = fork();
		int st, fd;

		if (pid < 0)
			return 1;
		if (pid == 0) {
			fd = open("/dev/null", O_RDWR);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return 1;
		printf("%ld\n", ru.ru_maxrss);
		return 0;
	}
	fprintf(stderr, "usage: helper idexec PFX PROG ARG... | helper maxrss PROG ARG... | "
			"helper rewind FD\n");
	return 2;
}
