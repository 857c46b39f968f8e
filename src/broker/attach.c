/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward run --name: register the environment with the broker, and explain
 * the broker's refusals on stderr as denied system calls are explained. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker_cli.h"
#include "util.h"

/* A small process, not a thread: the launcher clones with the raw clone3
 * system call, and a lock another thread held at that moment (malloc's,
 * stdio's) would stay locked forever in the child. */
static pid_t start_printer(struct broker_attach *a)
{
	pid_t pid = fork();
	char line[2 * WARD_PROTO_MAX_TEXT];

	if (pid != 0)
		return pid;
	/* It must not keep the environment registered, nor outlive ward run. */
	close(a->env_fd);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	signal(SIGINT, SIG_IGN);
	/* The line quotes what the environment asked for (a path, a name):
	 * ward_broker_next_denial() has escaped and cut each of them
	 * (ward_escape), so it stays one line that cannot drive the terminal;
	 * escaping it again here would double every backslash. */
	while (ward_broker_next_denial(a->ctl, line, sizeof(line)) > 0)
		fprintf(stderr, "ward: %s\n", line);
	_exit(0);
}

bool broker_cli_name_ok(const char *name)
{
	return ward_proto_local_name_ok(name, strlen(name));
}

int broker_cli_attach(struct broker_attach *a, const char *state_dir, const char *name,
		      const struct ward_policy *p, bool quiet, ward_error_t *err)
{
	cleanup_free char *dir = ward_broker_dir(state_dir);

	a->ctl = a->env_fd = -1;
	a->name = NULL;
	a->printer = 0;
	a->ctl = ward_broker_connect(dir, "/proc/self/exe", err);
	if (a->ctl < 0)
		return ward_error_wrap(err, "the broker");
	if (a->ctl == WARD_BROKER_FD) {
		/* Keep fd 3 free for the environment's descriptor. */
		int moved = fcntl(a->ctl, F_DUPFD_CLOEXEC, WARD_BROKER_FD + 1);

		if (moved < 0) {
			ward_error_sys(err, "fcntl");
			broker_cli_detach(a);
			return -1;
		}
		close(a->ctl);
		a->ctl = moved;
	}
	if (ward_broker_register(a->ctl, name, p, getpid(), &a->env_fd, &a->name, err) < 0) {
		close(a->ctl);
		a->ctl = -1;
		return -1;
	}
	/* The environment's descriptor is 3 inside; have it at 3 here already
	 * so that nothing the launcher opens later sits there (launch.h). */
	if (a->env_fd != WARD_BROKER_FD) {
		if (dup3(a->env_fd, WARD_BROKER_FD, O_CLOEXEC) < 0) {
			ward_error_sys(err, "cannot place the broker descriptor at fd 3");
			broker_cli_detach(a);
			return -1;
		}
		close(a->env_fd);
		a->env_fd = WARD_BROKER_FD;
	}
	if (!quiet)
		a->printer = start_printer(a);
	return 0;
}

void broker_cli_detach(struct broker_attach *a)
{
	/* Closing our copy of the environment's descriptor unregisters it once
	 * the program's copies are gone too. */
	if (a->env_fd >= 0)
		close(a->env_fd);
	a->env_fd = -1;
	/* Our side only: the broker closes the connection once it has removed
	 * the environment, after its last notices (how many refusals it did not
	 * show), which the printer still prints. */
	if (a->ctl >= 0)
		shutdown(a->ctl, a->printer > 0 ? SHUT_WR : SHUT_RDWR);
	if (a->printer > 0) {
		int i;

		/* Not forever: a copy of the environment's descriptor left
		 * somewhere would keep it registered. */
		for (i = 0; i < 500; i++) {
			struct timespec ts = {0, 10 * 1000 * 1000};
			pid_t r = waitpid(a->printer, NULL, WNOHANG);

			if (r == a->printer || (r < 0 && errno != EINTR))
				break;
			nanosleep(&ts, NULL);
		}
		if (i == 500) {
			kill(a->printer, SIGKILL);
			while (waitpid(a->printer, NULL, 0) < 0 && errno == EINTR)
				;
		}
	}
	a->printer = 0;
	if (a->ctl >= 0)
		close(a->ctl);
	a->ctl = -1;
	free(a->name);
	a->name = NULL;
}
