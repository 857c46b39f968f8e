/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Landlock's audit records: parsing and the grant each refusal names. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include "denials/audit.h"
#include "policy.h"
#include "seccomp/notify.h"

static void parse(int type, const char *text, struct ward_audit_record *r)
{
	assert_int_equal(ward_audit_parse(type, text, strlen(text), r), 0);
}

static void test_parse(void **state)
{
	struct ward_audit_record r;

	(void)state;
	parse(1423,
	      "audit(1796203879.835:73): domain=1e0132e7c blockers=fs.execute path=\"/tmp/x\" "
	      "dev=\"tmpfs\" ino=2",
	      &r);
	assert_true(r.domain == 0x1e0132e7cULL);
	assert_string_equal(r.blockers, "fs.execute");
	assert_string_equal(r.path, "/tmp/x");
	parse(1424,
	      "audit(1796203879.835:73): domain=1e0132e7c status=allocated mode=enforcing "
	      "pid=16712 uid=1900347392 exe=\"/usr/bin/ward\" comm=\"ward\"",
	      &r);
	assert_true(r.allocated);
	assert_int_equal(r.pid, 16712);
	parse(1424, "audit(1.2:3): domain=1e0132e7c status=deallocated denials=2", &r);
	assert_false(r.allocated);
	/* An untrusted string with a space or a control character: hex. */
	parse(1423, "audit(1.2:3): domain=a blockers=fs.write_file,fs.truncate path=2F6120620A",
	      &r);
	assert_string_equal(r.path, "/a b\n");
	assert_string_equal(r.blockers, "fs.write_file,fs.truncate");
	/* "xpath=" is not "path=". */
	parse(1423, "audit(1.2:3): domain=a blockers=fs.read_file xpath=\"/no\" path=\"/yes\"", &r);
	assert_string_equal(r.path, "/yes");
	/* Not Landlock's, or not a record ward reads. */
	assert_int_equal(ward_audit_parse(1300, "audit(1.2:3): arch=c000003e", 27, &r), -1);
	assert_int_equal(ward_audit_parse(1423, "audit(1.2:3): nothing", 21, &r), -1);
}

static void explain(const struct ward_policy *p, const char *blockers, const char *path,
		    const char *want_op, const char *want_fix)
{
	struct ward_audit_record r;
	const char *op = NULL;
	char fix[512];

	memset(&r, 0, sizeof(r));
	snprintf(r.blockers, sizeof(r.blockers), "%s", blockers);
	snprintf(r.path, sizeof(r.path), "%s", path);
	ward_audit_explain(p, &r, &op, fix, sizeof(fix));
	assert_string_equal(op, want_op);
	if (strstr(fix, want_fix) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", fix, want_fix);
}

static void test_explain(void **state)
{
	struct ward_policy p;

	(void)state;
	memset(&p, 0, sizeof(p));
	explain(&p, "fs.execute", "/tmp/x", "execute", "remove it to allow");
	explain(&p, "fs.execute", "/srv/app/bin/run", "execute", "grant fs.exec=/srv/app/bin");
	p.scratch_exec = true;
	explain(&p, "fs.execute", "/tmp/x", "execute", "grant fs.exec=/tmp ");
	explain(&p, "fs.write_file", "/srv/out/report", "write", "grant fs.write=/srv/out ");
	explain(&p, "fs.make_reg", "/srv/out", "create", "grant fs.write=/srv/out ");
	explain(&p, "fs.remove_file", "/srv/out", "remove", "grant fs.write=/srv/out ");
	explain(&p, "fs.read_file", "/opt/data/x.csv", "read", "grant fs.read=/opt/data/x.csv");
	explain(&p, "fs.read_dir", "/opt", "list", "grant fs.read=/opt ");
	explain(&p, "fs.make_char", "/tmp", "mknod", "no entitlement");
	explain(&p, "fs.ioctl_dev", "/dev/dri/card0", "ioctl", "host.devices=/dev/dri/card0");
	explain(&p, "scope.signal", "", "kill", "no entitlement");
	explain(&p, "scope.abstract_unix_socket", "", "connect", "no entitlement");
	/* A path with a control character is escaped in the hint. */
	explain(&p, "fs.read_file", "/x\n/y", "read", "grant fs.read=/x\\n/y");
}

/* One audit datagram as the kernel sends it to the multicast group. */
static void send_record(int fd, int type, const char *text)
{
	char buf[512];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	size_t len = strlen(text) + 1;

	memset(buf, 0, sizeof(buf));
	h->nlmsg_len = (uint32_t)len; /* the audit subsystem's own quirk */
	h->nlmsg_type = (uint16_t)type;
	memcpy(buf + NLMSG_HDRLEN, text, len);
	assert_int_equal(send(fd, buf, NLMSG_HDRLEN + len, 0), (ssize_t)(NLMSG_HDRLEN + len));
}

/* The supervisor reads at most WARD_AUDIT_READ_MAX records per call, so
 * that a host logging faster than it reads cannot keep it in the loop; what
 * is left comes with the next call.  And the program's refusal (an access
 * record, then its domain's, created by the program's pid) is explained,
 * while another domain's is not. */
static void test_read_bounded_and_matched(void **state)
{
	struct ward_policy p;
	struct ward_denials_options o;
	struct ward_denials *d;
	ward_error_t err = NULL;
	char *out = NULL;
	size_t outlen = 0;
	FILE *human = open_memstream(&out, &outlen);
	int sv[2], i;
	pid_t prog = 4242;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.level = WARD_LEVEL_CONFINED;
	memset(&o, 0, sizeof(o));
	o.human = human;
	o.landlock_audited = true;
	d = ward_denials_new(&p, &o, &err);
	assert_non_null(d);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	{
		int big = 1 << 20;

		(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	}
	/* Another sandbox's refusal: its domain was created by another pid. */
	send_record(sv[0], 1423, "audit(1.2:3): domain=b blockers=fs.make_char path=\"/other\"");
	send_record(sv[0], 1424,
		    "audit(1.2:3): domain=b status=allocated mode=enforcing pid=99 uid=0");
	for (i = 0; i < WARD_AUDIT_READ_MAX + 40; i++)
		send_record(sv[0], 1300, "audit(1.2:4): arch=c000003e syscall=0");
	/* The program's. */
	send_record(sv[0], 1423, "audit(1.2:5): domain=a blockers=fs.make_char path=\"/tmp\"");
	send_record(sv[0], 1424,
		    "audit(1.2:5): domain=a status=allocated mode=enforcing pid=4242 uid=0");

	assert_int_equal(ward_denials_audit(d, sv[1], &prog, 1), WARD_AUDIT_READ_MAX);
	assert_int_equal(ward_denials_audit(d, sv[1], &prog, 1), 2 + 40 + 2);
	assert_int_equal(ward_denials_audit(d, sv[1], &prog, 1), 0);
	fflush(human);
	if (strstr(out, "refused mknod(/tmp) by Landlock") == NULL)
		fail_msg("the program's refusal is not explained: \"%s\"", out);
	if (strstr(out, "/other") != NULL)
		fail_msg("another sandbox's refusal is explained: \"%s\"", out);
	ward_denials_free(d);
	fclose(human);
	free(out);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_read_bounded_and_matched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
