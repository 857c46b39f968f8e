/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward broker, ward ps, ward msg: the broker's daemon and the operator's
 * view of it (docs/broker.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/remote.h"
#include "cli.h"
#include "util.h"

int cmd_broker(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_msg(int argc, char **argv);
/* `ward ps CONTAINER` is the OCI runtime's (src/oci), when it is there. */
int cmd_oci(int argc, char **argv) __attribute__((weak));
/* The environments of spaces (src/space.c), after the broker's: in JSON
 * elements of the same array (with a "space" key), as text a table of its
 * own (none when no space is up).  Returns how many it printed. */
size_t space_ps_print(const char *state_dir, bool json, size_t n_before);

static int fail(ward_error_t *err)
{
	int st = ward_error_print(err);

	return st < 2 ? 1 : st;
}

/* ---- ward broker ---- */

static void broker_usage(FILE *f)
{
	fprintf(f,
		"usage: ward broker [--foreground] [--state-dir DIR] [--queue-depth N] [--log-max "
		"SIZE]\n"
		"       ward broker --stop [--state-dir DIR]\n"
		"\n"
		"The broker through which environments talk (docs/broker.md).  `ward run` starts\n"
		"it on demand; without --foreground it detaches and logs to DIR/broker.log.\n"
		"\n"
		"      --foreground      stay attached and log to stderr\n"
		"      --state-dir DIR   its socket, lock, pid file and log (default "
		"$WARD_STATE_DIR,\n"
		"                        else /run/ward, or $XDG_RUNTIME_DIR/ward when not root)\n"
		"      --queue-depth N   messages a mailbox holds before senders are refused "
		"(default %u)\n"
		"      --log-max SIZE    rename DIR/broker.log to broker.log.1 when it would pass\n"
		"                        SIZE (default %uM; at least 4K)\n"
		"      --stop            stop the broker serving DIR (environments see their\n"
		"                        descriptor close)\n"
		"      --on-demand       exit quietly if a broker already serves DIR\n"
		"\n"
		"Mailboxes on other hosts (NAME@HOST), through a RabbitMQ node (docs/remote.md):\n"
		"      --host NAME           this host's name among its peers\n"
		"      --host-key FILE       its Ed25519 key (ward key generate --out FILE "
		"--no-password)\n"
		"      --amqp URL            amqp://USER:PASSWORD@HOST:PORT/VHOST, or amqps://\n"
		"      --amqp-cacert FILE    amqps: the CA that signed the node's certificate\n"
		"      --amqp-cert FILE --amqp-key FILE   amqps: this host's client certificate\n"
		"      --peer NAME=PUBKEY    trust host NAME with this public key (a .pub file or\n"
		"                            the key itself); repeatable\n"
		"      --peer-allow NAME=PATTERN[,PATTERN]  local mailboxes NAME's environments\n"
		"                            may send to (none unless listed)\n"
		"      --replay-window SECS  how old a remote message may be (default %u)\n"
		"      --max-inflight N      messages sent and not confirmed by RabbitMQ before\n"
		"                            senders wait or get EAGAIN (default 1024)\n"
		"      --config FILE         the same settings as lines \"host a\", \"peer b "
		"b.pub\",\n"
		"                            \"allow b inventory\"...; DIR/broker.conf is read "
		"when\n"
		"                            no such option is given\n",
		WARD_BROKER_DEFAULT_DEPTH, WARD_BROKER_LOG_MAX >> 20, WARD_REMOTE_WINDOW_S);
}

static int stop_broker(const char *dir)
{
	cleanup_free char *pid_path = ward_xasprintf("%s/" WARD_BROKER_PID, dir);
	cleanup_free char *sock = ward_xasprintf("%s/" WARD_BROKER_SOCK, dir);
	cleanup_free char *text = NULL;
	cleanup_free char *cmdline = NULL;
	cleanup_free char *cpath = NULL;
	ward_error_t err = NULL;
	cleanup_close int pfd = -1;
	uint64_t pid;
	size_t len;

	/* A pid file in a directory others may write is not believed. */
	if (access(dir, F_OK) == 0 && ward_broker_dir_check(dir, &err) < 0)
		return fail(&err);
	if (ward_read_file(pid_path, &text, &len) < 0) {
		fprintf(stderr, "ward: no broker is running for %s\n", dir);
		return 1;
	}
	text[strcspn(text, "\n")] = '\0';
	if (ward_parse_u64(text, &pid) < 0 || pid < 2 || pid > 4194304) {
		fprintf(stderr, "ward: %s: not a pid\n", pid_path);
		return 1;
	}
	/* A pidfd first, then the check: the process checked is the one
	 * signalled, even if the pid is reused in between. */
	pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	/* Only a ward process: the pid file may be stale and the pid reused. */
	cpath = ward_xasprintf("/proc/%llu/cmdline", (unsigned long long)pid);
	if (pfd < 0 || ward_read_file(cpath, &cmdline, &len) < 0 || len < 1 ||
	    memmem(cmdline, len, "broker", 6) == NULL) {
		fprintf(stderr, "ward: no broker is running for %s (stale pid file)\n", dir);
		return 1;
	}
	if (syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0) < 0) {
		fprintf(stderr, "ward: cannot stop the broker (pid %llu): %s\n",
			(unsigned long long)pid, strerror(errno));
		return 1;
	}
	/* The pidfd turns readable when the broker has exited.  Its parent is
	 * the host's init, which may take a while to reap it: a zombie has
	 * stopped (kill(pid, 0) would still find it). */
	{
		struct pollfd pf = {.fd = pfd, .events = POLLIN};
		int r;

		while ((r = poll(&pf, 1, 5000)) < 0 && errno == EINTR)
			;
		if (r > 0)
			return 0;
	}
	fprintf(stderr, "ward: the broker (pid %llu) did not stop within 5 s\n",
		(unsigned long long)pid);
	return 1;
}

int cmd_broker(int argc, char **argv)
{
	static const struct option opts[] = {
		{"foreground", no_argument, NULL, 'f'},
		{"state-dir", required_argument, NULL, 'S'},
		{"queue-depth", required_argument, NULL, 'Q'},
		{"on-demand", no_argument, NULL, 'o'},
		{"log-max", required_argument, NULL, 'L'},
		{"stop", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"host", required_argument, NULL, 1000},
		{"host-key", required_argument, NULL, 1001},
		{"amqp", required_argument, NULL, 1002},
		{"amqp-cacert", required_argument, NULL, 1003},
		{"amqp-cert", required_argument, NULL, 1004},
		{"amqp-key", required_argument, NULL, 1005},
		{"peer", required_argument, NULL, 1006},
		{"peer-allow", required_argument, NULL, 1007},
		{"replay-window", required_argument, NULL, 1008},
		{"max-inflight", required_argument, NULL, 1009},
		{"config", required_argument, NULL, 1010},
		{NULL, 0, NULL, 0},
	};
	static const char *const remote_keys[] = {
		"host",	    "host-key", "amqp",	      "amqp-cacert",   "amqp-cert",
		"amqp-key", "peer",	"peer-allow", "replay-window", "max-inflight",
	};
	struct ward_remote_config rc;
	bool remote_given = false;
	int idx = -1;
	struct ward_broker_options o = {0};
	cleanup_free char *dir = NULL;
	const char *state_dir = NULL;
	ward_error_t err = NULL;
	bool detached, already, stop = false;
	int c;

	ward_remote_config_init(&rc);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+fh", opts, &idx)) != -1) {
		switch (c) {
		case 1000 ... 1009: {
			char where[32];

			snprintf(where, sizeof(where), "--%s", remote_keys[c - 1000]);
			remote_given = true;
			if (ward_remote_config_set(&rc, remote_keys[c - 1000], optarg, where,
						   &err) < 0) {
				ward_remote_config_free(&rc);
				return fail(&err);
			}
			break;
		}
		case 1010:
			remote_given = true;
			if (ward_remote_config_load(&rc, optarg, &err) < 0) {
				ward_remote_config_free(&rc);
				return fail(&err);
			}
			break;
		case 'f':
			o.foreground = true;
			break;
		case 'S':
			state_dir = optarg;
			break;
		case 'Q': {
			uint64_t v;

			if (ward_parse_u64(optarg, &v) < 0 || v == 0 || v > 65536)
				return usage_error("broker",
						   "--queue-depth %s: expected 1 to 65536 messages",
						   optarg);
			o.queue_depth = (unsigned)v;
			break;
		}
		case 'o':
			o.on_demand = true;
			break;
		case 'L': {
			uint64_t v;

			if (ward_parse_size(optarg, &v) < 0 || v < 4096 || v > (1ULL << 40))
				return usage_error("broker",
						   "--log-max %s: expected a size from 4K to 1T",
						   optarg);
			o.log_max = (size_t)v;
			break;
		}
		case 's':
			stop = true;
			break;
		case 'h':
			broker_usage(stdout);
			return 0;
		default:
			return usage_error("broker", "unknown option or missing value: %s",
					   argv[optind - 1]);
		}
	}
	if (optind < argc) {
		ward_remote_config_free(&rc);
		return usage_error("broker", "unexpected argument \"%s\"", argv[optind]);
	}
	dir = ward_broker_dir(state_dir);
	if (stop) {
		ward_remote_config_free(&rc);
		return stop_broker(dir);
	}
	/* A broker started on demand (by ward run) joins other hosts when
	 * its directory has a broker.conf (the directory is the operator's:
	 * ward_broker_serve checks that nobody else can write it). */
	if (!remote_given) {
		cleanup_free char *conf = ward_xasprintf("%s/broker.conf", dir);

		if (access(conf, F_OK) == 0 && ward_broker_dir_check(dir, &err) == 0 &&
		    ward_remote_config_load(&rc, conf, &err) < 0) {
			ward_remote_config_free(&rc);
			return fail(&err);
		}
		if (err) {
			ward_remote_config_free(&rc);
			return fail(&err);
		}
	}
	if (ward_remote_config_finish(&rc, &err) < 0) {
		ward_remote_config_free(&rc);
		return fail(&err);
	}
	o.dir = dir;
	o.remote = &rc;
	if (ward_broker_serve(&o, &detached, &already, &err) < 0) {
		ward_remote_config_free(&rc);
		return fail(&err);
	}
	return 0;
}

/* ---- ward ps ---- */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

int cmd_ps(int argc, char **argv)
{
	struct ward_broker_env_info *v = NULL;
	cleanup_free char *dir = NULL;
	cleanup_free char *remote = NULL;
	cleanup_close int ctl = -1;
	const char *state_dir = NULL;
	ward_error_t err = NULL;
	bool json = false;
	size_t n = 0, i, k;
	int rc =
		ps_options(argc, argv,
			   "The environments registered with the broker: name, pid of their ward "
			   "run,\nmailbox depth, services, entitlements.  Then those of the spaces "
			   "started\nby `ward up`: space, name, pid, address, state.\n",
			   &state_dir, &json);

	if (rc >= 0)
		return rc;
	dir = ward_broker_dir(state_dir);
	ctl = ward_broker_connect(dir, NULL, &err);
	if (ctl < 0) {
		if (err && err->code == ENOENT) {
			/* No broker: no environments. */
			ward_error_free(&err);
			if (json) {
				printf("[");
				n = space_ps_print(dir, true, 0);
				printf("%s]\n", n ? "\n" : "");
			} else {
				printf("NAME  PID  MAILBOX  SERVICES  ENTITLEMENTS\n");
				space_ps_print(dir, false, 1);
			}
			return 0;
		}
		return fail(&err);
	}
	if (ward_broker_ps_remote(ctl, &v, &n, &remote, &err) < 0)
		return fail(&err);
	if (json) {
		printf("[");
		for (i = 0; i < n; i++) {
			printf("%s\n  {\"name\": ", i ? "," : "");
			json_str(v[i].name);
			printf(", \"pid\": %d, \"mailbox\": %s, \"depth\": %u, \"limit\": %u, "
			       "\"services\": [",
			       (int)v[i].pid, v[i].mailbox ? "true" : "false", v[i].depth,
			       v[i].limit);
			for (k = 0; k < v[i].n_services; k++) {
				printf("%s", k ? ", " : "");
				json_str(v[i].services[k]);
			}
			printf("], \"entitlements\": [");
			for (k = 0; k < v[i].n_ents; k++) {
				printf("%s", k ? ", " : "");
				json_str(v[i].ents[k]);
			}
			printf("]}");
		}
		k = space_ps_print(dir, true, n);
		printf("%s]\n", n + k ? "\n" : "");
	} else {
		size_t w = 4;

		for (i = 0; i < n; i++)
			if (strlen(v[i].name) > w)
				w = strlen(v[i].name);
		printf("%-*s  %7s  %-9s  %-12s  %s\n", (int)w, "NAME", "PID", "MAILBOX", "SERVICES",
		       "ENTITLEMENTS");
		for (i = 0; i < n; i++) {
			char mb[32], sv[256] = "-";
			size_t o = 0;

			if (v[i].mailbox)
				snprintf(mb, sizeof(mb), "%u/%u", v[i].depth, v[i].limit);
			else
				snprintf(mb, sizeof(mb), "-");
			for (k = 0; k < v[i].n_services && o < sizeof(sv) - 1; k++) {
				int r = snprintf(sv + o, sizeof(sv) - o, "%s%s", k ? "," : "",
						 v[i].services[k]);
				if (r < 0)
					break;
				o += (size_t)r;
			}
			printf("%-*s  %7d  %-9s  %-12s  ", (int)w, v[i].name, (int)v[i].pid, mb,
			       sv);
			/* Names are names (the decoder checks them); an
			 * api.open path may hold any byte but NUL. */
			for (k = 0; k < v[i].n_ents; k++) {
				cleanup_free char *e = ward_escape(v[i].ents[k], 0);

				printf("%s%s", k ? " " : "", e);
			}
			printf("%s\n", v[i].n_ents ? "" : "-");
		}
	}
	if (!json && remote) {
		/* The broker's own lines: host and peer names are names, the
		 * state comes from ward-mq; each line escaped all the same. */
		putchar('\n');
		for (char *line = remote, *nl; line && *line; line = nl) {
			cleanup_free char *shown = NULL;

			nl = strchr(line, '\n');
			if (nl)
				*nl++ = '\0';
			shown = ward_escape(line, 0);
			printf("%s\n", shown);
		}
	}
	if (!json)
		space_ps_print(dir, false, 1); /* nothing when no space is up */
	ward_broker_env_info_free(v, n);
	return 0;
}

/* ---- ward msg ---- */

static void msg_usage(FILE *f)
{
	fprintf(f, "usage: ward msg send [--wait] [--state-dir DIR] NAME [TEXT]\n"
		   "\n"
		   "Send TEXT (or standard input, at most 64 KiB) to the mailbox NAME with the\n"
		   "operator's rights.  It is acknowledged when queued; a full, unknown or closed\n"
		   "mailbox is an error.  --wait waits for room in a full mailbox.\n");
}

int cmd_msg(int argc, char **argv)
{
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, 'S'},
		{"wait", no_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	cleanup_free char *dir = NULL;
	cleanup_free char *data = NULL;
	cleanup_close int ctl = -1;
	const char *state_dir = NULL, *name;
	ward_error_t err = NULL;
	bool wait = false;
	size_t len = 0;
	int c;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		msg_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "send") != 0)
		return usage_error("msg", "unknown subcommand \"%s\" (ward msg send NAME TEXT)",
				   argv[1]);
	opterr = 0;
	optind = 1;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			state_dir = optarg;
			break;
		case 'w':
			wait = true;
			break;
		case 'h':
			msg_usage(stdout);
			return 0;
		default:
			return usage_error("msg", "unknown option or missing value: %s",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("msg", "name the mailbox: ward msg send NAME TEXT");
	name = argv[optind++];
	if (optind < argc) {
		if (optind + 1 < argc)
			return usage_error("msg", "give the text as one argument (quote it)");
		data = ward_xstrdup(argv[optind]);
		len = strlen(data);
	} else {
		size_t cap = WARD_PROTO_MAX_DATA + 1;
		ssize_t r;

		data = ward_xmalloc(cap);
		while (len < cap && (r = read(0, data + len, cap - len)) > 0)
			len += (size_t)r;
		if (len > WARD_PROTO_MAX_DATA) {
			fprintf(stderr, "ward: a message holds at most %u bytes\n",
				WARD_PROTO_MAX_DATA);
			return 1;
		}
	}
	dir = ward_broker_dir(state_dir);
	ctl = ward_broker_connect(dir, NULL, &err);
	if (ctl < 0)
		return fail(&err);
	if (ward_broker_send(ctl, name, data, len, wait, &err) < 0)
		return fail(&err);
	return 0;
}
