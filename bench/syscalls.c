/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * syscalls [N [REPS]]: the cost of one system call, plain or under a seccomp
 * filter.  Times N calls of getppid() (number 110, no argument checked) and
 * N calls of getrandom(buf, 0, 0) (number 318: late in a filter that
 * compares numbers in order, and still cheap: zero bytes asked), REPS times
 * each, interleaved, and prints the median ns per call of each:
 *
 *   getppid 52.1
 *   getrandom 55.3
 *
 * Time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time: on
 * a busy machine the loop is preempted, and wall time would count the other
 * programs' time slices as syscall cost.  The two clock_gettime calls per
 * loop are negligible.  Built statically by bench/bench.sh so that it runs
 * in any sandbox view.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPS 99

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5000000;
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	double ppid[MAX_REPS], rnd[MAX_REPS], t;
	char buf[1];
	long i;
	int r;

	if (n <= 0 || reps <= 0 || reps > MAX_REPS) {
		fprintf(stderr, "usage: syscalls [N [REPS<=%d]]\n", MAX_REPS);
		return 2;
	}
	/* One warm-up pass of each. */
	for (i = 0; i < n / 10; i++) {
		syscall(SYS_getppid);
		syscall(SYS_getrandom, buf, 0, 0);
	}
	for (r = 0; r < reps; r++) {
		t = now_ns();
		for (i = 0; i < n; i++)
			syscall(SYS_getppid);
		ppid[r] = (now_ns() - t) / (double)n;
		t = now_ns();
		for (i = 0; i < n; i++)
			if (syscall(SYS_getrandom, buf, 0, 0) != 0) {
				perror("getrandom");
				return 1;
			}
		rnd[r] = (now_ns() - t) / (double)n;
	}
	qsort(ppid, (size_t)reps, sizeof(double), cmp);
	qsort(rnd, (size_t)reps, sizeof(double), cmp);
	printf("getppid %.1f\ngetrandom %.1f\n", ppid[reps / 2], rnd[reps / 2]);
	return 0;
}
