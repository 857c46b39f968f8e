/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mkfilter PROFILE OUT: compile bench/docker-profile.txt into a classic BPF
 * program for bwrap --seccomp FD, the way Docker's runtimes do it: libseccomp
 * with its default settings (no binary tree), default action EPERM,
 * architectures x86_64 + x86 + x32.  Names libseccomp does not know are
 * skipped.  Prints one line: "<allow rules> rules, <bytes> bytes of BPF".
 *
 * Built by bench/bench.sh into its temp dir (cc -O2 ... -lseccomp).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TOK 64

static int parse_cond(const char *t, struct scmp_arg_cmp *c)
{
	unsigned idx;
	char *end;

	if (t[0] != 'a' || t[1] < '0' || t[1] > '5')
		return -1;
	idx = (unsigned)(t[1] - '0');
	t += 2;
	memset(c, 0, sizeof(*c));
	c->arg = idx;
	if (strncmp(t, "==", 2) == 0) {
		c->op = SCMP_CMP_EQ;
		c->datum_a = strtoull(t + 2, &end, 0);
	} else if (strncmp(t, "!=", 2) == 0) {
		c->op = SCMP_CMP_NE;
		c->datum_a = strtoull(t + 2, &end, 0);
	} else if (t[0] == '&') {
		c->op = SCMP_CMP_MASKED_EQ;
		c->datum_a = strtoull(t + 1, &end, 0);
		if (strncmp(end, "==", 2) != 0)
			return -1;
		c->datum_b = strtoull(end + 2, &end, 0);
	} else {
		return -1;
	}
	return *end == '\0' ? 0 : -1;
}

int main(int argc, char **argv)
{
	char line[4096];
	unsigned rules = 0, skipped = 0, lineno = 0;
	scmp_filter_ctx ctx;
	struct stat st;
	FILE *f;
	int fd, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: mkfilter PROFILE OUT\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx || seccomp_arch_add(ctx, SCMP_ARCH_X86) < 0 ||
	    seccomp_arch_add(ctx, SCMP_ARCH_X32) < 0) {
		fprintf(stderr, "mkfilter: seccomp_init/arch_add failed\n");
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *tok[MAX_TOK], *save = NULL, *t;
		struct scmp_arg_cmp conds[6];
		unsigned ncond = 0, ntok = 0, i;
		uint32_t action;

		lineno++;
		for (t = strtok_r(line, " \t\n", &save); t && ntok < MAX_TOK;
		     t = strtok_r(NULL, " \t\n", &save))
			tok[ntok++] = t;
		if (ntok == 0 || tok[0][0] == '#')
			continue;
		if (strcmp(tok[0], "allow") == 0)
			action = SCMP_ACT_ALLOW;
		else if (strncmp(tok[0], "errno=", 6) == 0)
			action = SCMP_ACT_ERRNO((uint16_t)atoi(tok[0] + 6));
		else
			goto bad;
		for (i = 1; i < ntok; i++)
			if (tok[i][0] == 'a' && tok[i][1] >= '0' && tok[i][1] <= '5' &&
			    (tok[i][2] == '=' || tok[i][2] == '!' || tok[i][2] == '&')) {
				if (ncond == 6 || parse_cond(tok[i], &conds[ncond++]) < 0)
					goto bad;
			}
		for (i = 1; i < ntok; i++) {
			int nr;

			if (tok[i][0] == 'a' && tok[i][1] >= '0' && tok[i][1] <= '5' &&
			    (tok[i][2] == '=' || tok[i][2] == '!' || tok[i][2] == '&'))
				continue;
			nr = seccomp_syscall_resolve_name(tok[i]);
			if (nr == __NR_SCMP_ERROR) {
				skipped++;
				continue;
			}
			rc = seccomp_rule_add_array(ctx, action, nr, ncond, conds);
			if (rc < 0) {
				skipped++;
				continue;
			}
			rules++;
		}
		continue;
	bad:
		fprintf(stderr, "mkfilter: %s:%u: cannot parse\n", argv[1], lineno);
		return 1;
	}
	fclose(f);
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (rc = seccomp_export_bpf(ctx, fd)) < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "mkfilter: cannot write %s\n", argv[2]);
		return 1;
	}
	close(fd);
	seccomp_release(ctx);
	printf("%u rules (%u names unknown here), %lld bytes of BPF\n", rules, skipped,
	       (long long)st.st_size);
	return 0;
}
