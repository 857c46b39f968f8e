/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One broker packet in or out of a SOCK_SEQPACKET socket, with at most one
 * descriptor beside it (SCM_RIGHTS).  libc only: the client library inside
 * environments compiles this file too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "broker.h"

ssize_t ward_wire_send(int sock, const void *buf, size_t len, int pass_fd, int flags)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t r;

	if (pass_fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = sizeof(u.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	do
		r = sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r;
}

ssize_t ward_wire_recv(int sock, void *buf, size_t cap, int *fd_out, bool *truncated, int flags)
{
	/* Room for a few descriptors: a peer that sends more than one gets
	 * all of them closed, none leaks into this process. */
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 8)];
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;
	ssize_t r;
	int got = -1;

	if (fd_out)
		*fd_out = -1;
	if (truncated)
		*truncated = false;
	mh.msg_control = u.b;
	mh.msg_controllen = sizeof(u.b);
	do
		r = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return r;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t i, nfd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (got < 0 && fd_out)
				got = fd;
			else
				close(fd);
		}
	}
	if (fd_out)
		*fd_out = got;
	if (truncated && (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		*truncated = true;
	return r;
}
