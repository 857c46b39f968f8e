/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How long the kernel takes to install a seccomp filter: FILE holds a BPF
 * program (struct sock_filter records; TRAILER bytes at its end are skipped,
 * 32 for a file of ward's cache, /run/ward/seccomp/KEY.bpf), or, with -n N, a
 * made-up program of N instructions (loads and compares that never match,
 * then allow).  Each try forks a child that sets no_new_privs and times the
 * seccomp(2) call alone.  docs/bench.md, "Sixth pass".
 *
 *   cc -O2 -o seccomp_install bench/seccomp_install.c
 *   ./seccomp_install /run/ward/seccomp/KEY.bpf 32
 *   ./seccomp_install -n 50
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRIES 8

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	static struct sock_filter insns[BPF_MAXINSNS + 64];
	struct sock_fprog prog = {0, insns};
	size_t n = 0;
	int i;

	if (argc == 3 && strcmp(argv[1], "-n") == 0) {
		n = strtoul(argv[2], NULL, 10);
		if (n < 3 || n > BPF_MAXINSNS) {
			fprintf(stderr, "seccomp_install: -n takes 3..%d\n", BPF_MAXINSNS);
			return 2;
		}
		insns[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0);
		for (i = 1; i < (int)n - 1; i++)
			insns[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
								100000u + (unsigned)i, 0, 0);
		insns[n - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	} else if (argc == 2 || argc == 3) {
		size_t trailer = argc == 3 ? strtoul(argv[2], NULL, 10) : 0;
		int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
		ssize_t got = fd < 0 ? -1 : read(fd, insns, sizeof(insns));

		if (got < 0) {
			perror(argv[1]);
			return 1;
		}
		if ((size_t)got <= trailer || ((size_t)got - trailer) % sizeof(insns[0]) != 0) {
			fprintf(stderr, "seccomp_install: %s is not a BPF program (%zd bytes)\n",
				argv[1], got);
			return 1;
		}
		n = ((size_t)got - trailer) / sizeof(insns[0]);
		close(fd);
	} else {
		fprintf(stderr, "usage: seccomp_install FILE [TRAILER] | -n N\n");
		return 2;
	}
	prog.len = (unsigned short)n;
	for (i = 0; i < TRIES; i++) {
		int status;
		pid_t child = fork();

		if (child < 0) {
			perror("fork");
			return 1;
		}
		if (child == 0) {
			double t0, t1;

			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
				_exit(1);
			t0 = now_us();
			if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
				perror("seccomp");
				_exit(1);
			}
			t1 = now_us();
			printf("%zu instructions: installed in %.0f us\n", n, t1 - t0);
			fflush(stdout);
			_exit(0);
		}
		if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			return 1;
	}
	return 0;
}
