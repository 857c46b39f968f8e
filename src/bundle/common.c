/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers of the bundle commands: passwords, times, safe printing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "bundle_cli.h"
#include "util.h"

#define PASSWORD_MAX 1024

void bundle_cli_password_free(char *pw)
{
	if (pw) {
		sodium_memzero(pw, strlen(pw));
		free(pw);
	}
}

static int ask(int tty, const char *prompt, char *buf, size_t len, ward_error_t *err)
{
	struct termios old, quiet;
	size_t n = 0;
	int rc = 0;

	if (tcgetattr(tty, &old) < 0)
		return ward_error_sys(err, "reading the terminal");
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(tty, TCSAFLUSH, &quiet) < 0)
		return ward_error_sys(err, "setting up the terminal");
	(void)!write(tty, prompt, strlen(prompt));
	for (;;) {
		char c;
		ssize_t r = read(tty, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = '\0';
	(void)!write(tty, "\n", 1);
	if (tcsetattr(tty, TCSAFLUSH, &old) < 0)
		rc = ward_error_sys(err, "restoring the terminal");
	return rc;
}

int bundle_cli_password(const char *file, const char *prompt, bool confirm, bool needed, char **out,
			ward_error_t *err)
{
	char a[PASSWORD_MAX], b[PASSWORD_MAX];
	int tty;

	*out = NULL;
	if (file) {
		char *text = NULL;
		size_t len = 0;

		if (ward_read_small_file(file, PASSWORD_MAX, &text, &len, err) < 0)
			return ward_error_wrap(err, "--password-file");
		text[strcspn(text, "\r\n")] = '\0';
		if (text[0] == '\0' && needed) {
			free(text);
			return ward_error_set(err, EINVAL, "--password-file %s is empty", file);
		}
		if (text[0] == '\0') {
			free(text);
			return 0;
		}
		*out = text;
		return 0;
	}
	/* Only a terminal is asked: in scripts, a password comes from a file. */
	if (!isatty(STDIN_FILENO))
		return needed ? ward_error_set(err, ENOKEY,
					       "%s is encrypted: give --password-file FILE (no "
					       "terminal to ask on)",
					       prompt)
			      : 0;
	tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty < 0)
		return ward_error_sys(err, "opening the terminal");
	{
		cleanup_free char *p1 = ward_xasprintf("Password for %s%s: ", prompt,
						       confirm ? " (empty: not encrypted)" : "");
		int rc = ask(tty, p1, a, sizeof(a), err);

		if (rc == 0 && confirm && a[0]) {
			rc = ask(tty, "Again: ", b, sizeof(b), err);
			if (rc == 0 && strcmp(a, b) != 0)
				rc = ward_error_set(err, EINVAL, "the passwords differ");
		}
		close(tty);
		sodium_memzero(b, sizeof(b));
		if (rc < 0) {
			sodium_memzero(a, sizeof(a));
			return -1;
		}
	}
	if (a[0] == '\0') {
		if (needed)
			return ward_error_set(err, EINVAL, "no password given");
		return 0;
	}
	*out = ward_xstrdup(a);
	sodium_memzero(a, sizeof(a));
	return 0;
}

void bundle_cli_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == 0) {
		snprintf(buf, len, "(no timestamp)");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

void bundle_cli_print_safe(FILE *f, const char *s)
{
	cleanup_free char *e = ward_escape(s, 0);

	fputs(e, f);
}

void bundle_cli_warn_signers(const char *bundle, const struct ward_trust *t,
			     const struct ward_signer *signers, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct ward_signer *s = &signers[i];
		cleanup_free char *b = ward_escape(bundle, 0);

		if (s->status == WARD_SIGNER_MALFORMED)
			fprintf(stderr, "ward: %s: %s is not a signature, ignored: %s\n", b,
				s->file, s->problem ? s->problem : "?");
		else if (s->status == WARD_SIGNER_INVALID && s->key && t)
			fprintf(stderr,
				"ward: %s: %s claims key %s but does not verify with the key of "
				"%s:%u, ignored: %s\n",
				b, s->file, s->keyid, t->path, s->key->line,
				s->problem ? s->problem : "?");
		else if (s->status == WARD_SIGNER_INVALID)
			fprintf(stderr, "ward: %s: %s by key %s does not verify, ignored: %s\n", b,
				s->file, s->keyid, s->problem ? s->problem : "?");
	}
}

const char *bundle_cli_trust_path(const char *opt)
{
	return opt ? opt : ward_trust_default_path();
}
