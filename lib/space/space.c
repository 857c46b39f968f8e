/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Space files (space.h): a small subset of TOML read by hand, then checked as
 * a whole.
 *
 * Two passes.  The first reads the syntax into environments and remembers
 * where each key was written.  The second needs the whole space: every
 * environment's entitlements go through the resolver (exactly as --allow
 * would), talk-to and network.connect peers are checked against the ports
 * they listen on, published host ports must be unique, and the start order
 * must exist (no cycle).  Every error names "FILE:LINE" and the fix.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../entitlements.h"
#include "../policy.h"
#include "../util.h"
#include "space.h"

#define MAX_SPACE_BYTES	     (1u << 20)
#define MAX_ENVS	     256u
#define MAX_ITEMS	     4096u /* per array */
#define DEFAULT_WAIT_TIMEOUT 30u
#define MAX_WAIT_TIMEOUT     3600u

#define NAME_RULE                                                                             \
	"names are lower case letters, digits and '-', start with a letter and have at most " \
	"31 characters"

_Static_assert(WARD_SPACE_MAX_NAME == 31, "NAME_RULE spells the limit out");

enum key {
	K_COMMAND,
	K_ALLOW,
	K_TALK_TO,
	K_PUBLISH,
	K_ENV,
	K_ROOTFS,
	K_BUNDLE,
	K_MANIFEST,
	K_CHDIR,
	K_WAIT,
	K_WAIT_TIMEOUT,
	K_COUNT
};

enum vtype { V_STRING = 1, V_INTEGER = 2, V_BOOLEAN = 4, V_ARRAY = 8 };

static const struct {
	const char *name;
	unsigned types; /* V_* accepted */
	const char *example;
} keys[K_COUNT] = {
	[K_COMMAND] = {"command", V_STRING | V_ARRAY,
		       "command = \"prog arg\" or [\"prog\", \"arg\"]"},
	[K_ALLOW] = {"allow", V_ARRAY, "allow = [\"network.listen=8080\"]"},
	[K_TALK_TO] = {"talk-to", V_ARRAY, "talk-to = [\"db:5432\"]"},
	[K_PUBLISH] = {"publish", V_ARRAY, "publish = [\"8080:80\"]"},
	[K_ENV] = {"env", V_ARRAY, "env = [\"KEY=VALUE\"]"},
	[K_ROOTFS] = {"rootfs", V_STRING, "rootfs = \"rootfs/\""},
	[K_BUNDLE] = {"bundle", V_STRING, "bundle = \"app.ward\""},
	[K_MANIFEST] = {"manifest", V_STRING, "manifest = \"app.ent\""},
	[K_CHDIR] = {"chdir", V_STRING, "chdir = \"/srv\""},
	[K_WAIT] = {"wait", V_STRING, "wait = \"listen\""},
	[K_WAIT_TIMEOUT] = {"wait-timeout", V_INTEGER, "wait-timeout = 30"},
};

struct value {
	enum vtype type;
	char *str;
	long long num;
	bool boolean;
	struct ward_space_item *items;
	size_t n;
};

/* A connection from one environment to another, and where it was written. */
struct edge {
	size_t peer;
	unsigned line;
};

/* What the first pass records beside each environment. */
struct env_info {
	unsigned key_line[K_COUNT]; /* 0: not set */
	struct ward_space_item *talk;
	size_t n_talk;
	struct edge *edges;
	size_t n_edges;
	/* Parallel to env->allow: the allow items, then talk-to expansions. */
	struct ward_request_list req;
	size_t n_written; /* allow items as written (before the expansions) */
};

struct parser {
	const char *path; /* escaped (ward_escape), for messages */
	const char *raw_path;
	const char *dir;
	const char *p, *end;
	unsigned line;
	ward_error_t *err;
	struct ward_space s;
	struct env_info *info; /* parallel to s.envs */
	unsigned name_line;
	/* ward_space_load: the owner of the space file, whose files it may
	 * name; NULL for ward_space_parse, which reads nothing but the text. */
	const uid_t *owner;
};

struct buf {
	char *s;
	size_t n, cap;
};

static void buf_add(struct buf *b, char c)
{
	if (b->n + 2 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 32;
		b->s = ward_xrealloc(b->s, b->cap);
	}
	b->s[b->n++] = c;
	b->s[b->n] = '\0';
}

static void buf_adds(struct buf *b, const char *s)
{
	while (*s)
		buf_add(b, *s++);
}

/* Take the string out of b (an empty string when nothing was added). */
static char *buf_steal(struct buf *b)
{
	char *s = b->s ? b->s : ward_xstrdup("");

	b->s = NULL;
	b->n = b->cap = 0;
	return s;
}

static int perr(struct parser *ps, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A message as ward_escape() would show it, but for backslashes, which stay
 * as they are (messages spell out TOML escapes such as \\n for the reader). */
static char *escape_message(const char *msg)
{
	struct buf b = {0};
	const char *p = msg;

	for (;;) {
		size_t n = strcspn(p, "\\");
		cleanup_free char *seg = ward_escape_mem(p, n, 0);

		buf_adds(&b, seg);
		if (p[n] == '\0')
			break;
		buf_add(&b, '\\');
		p += n + 1;
	}
	return buf_steal(&b);
}

/* "PATH:LINE: message" (or "PATH: message" when line is 0).  The message
 * quotes text of the space file, which may be someone else's: it is escaped
 * as a whole (no control character, no bidirectional override, no invalid
 * UTF-8 reaches the terminal or a log), so every message is one line. */
static int perr(struct parser *ps, unsigned line, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	cleanup_free char *safe = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		abort();
	safe = escape_message(msg);
	if (line)
		return ward_error_set(ps->err, EINVAL, "%s:%u: %s", ps->path, line, safe);
	return ward_error_set(ps->err, EINVAL, "%s: %s", ps->path, safe);
}

static bool name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > WARD_SPACE_MAX_NAME || s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 1; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	}
	return true;
}

static void item_free(struct ward_space_item *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(items[i].text);
	free(items);
}

static void value_free(struct value *v)
{
	free(v->str);
	item_free(v->items, v->n);
	memset(v, 0, sizeof(*v));
}

static const char *vtype_name(enum vtype t)
{
	switch (t) {
	case V_STRING:
		return "a string";
	case V_INTEGER:
		return "an integer";
	case V_BOOLEAN:
		return "a boolean";
	case V_ARRAY:
		return "an array";
	default:
		return "a value";
	}
}

/* Length of the rest of the line from p, at most max (for quoting in messages). */
static int snippet(const struct parser *ps, const char *p, size_t max)
{
	size_t n = 0;

	while (p + n < ps->end && p[n] != '\n' && p[n] != '\r' && n < max)
		n++;
	return (int)n;
}

/* ---- Lexing ---- */

static void skip_blanks(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

static void skip_comment(struct parser *ps)
{
	if (ps->p < ps->end && *ps->p == '#')
		while (ps->p < ps->end && *ps->p != '\n')
			ps->p++;
}

/* Blanks, comments and line ends (inside arrays and between statements). */
static void skip_space(struct parser *ps)
{
	for (;;) {
		skip_blanks(ps);
		skip_comment(ps);
		if (ps->p + 1 < ps->end && ps->p[0] == '\r' && ps->p[1] == '\n')
			ps->p++;
		if (ps->p < ps->end && *ps->p == '\n') {
			ps->p++;
			ps->line++;
			continue;
		}
		return;
	}
}

/* After a statement: blanks and a comment, then the end of the line or file.
 * Consumes the line end when it returns true. */
static bool end_of_statement(struct parser *ps)
{
	skip_blanks(ps);
	skip_comment(ps);
	if (ps->p == ps->end)
		return true;
	if (ps->p + 1 < ps->end && ps->p[0] == '\r' && ps->p[1] == '\n')
		ps->p++;
	if (*ps->p == '\n') {
		ps->p++;
		ps->line++;
		return true;
	}
	return false;
}

static bool bare_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* A string at ps->p ("..." with escapes, or '...' taken literally). */
static int parse_string(struct parser *ps, const char *key, char **out)
{
	char q = *ps->p++;
	struct buf b = {0};

	if (ps->p + 1 < ps->end && ps->p[0] == q && ps->p[1] == q)
		return perr(ps, ps->line,
			    "multi-line strings (%c%c%c) are not supported in a space file; write "
			    "the value of \"%s\" on one line (use \\n for a newline)",
			    q, q, q, key);
	for (;;) {
		char c;

		if (ps->p == ps->end || *ps->p == '\n' || *ps->p == '\r') {
			free(b.s);
			return perr(ps, ps->line,
				    "unterminated string in the value of \"%s\": add the closing "
				    "%c (strings end on the line they start)",
				    key, q);
		}
		c = *ps->p++;
		if (c == q)
			break;
		if (q == '"' && c == '\\') {
			char e = ps->p < ps->end ? *ps->p : '\0';

			switch (e) {
			case '"':
			case '\\':
				c = e;
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			default:
				free(b.s);
				if (e < 0x20 || e == 0x7f)
					return perr(ps, ps->line,
						    "a backslash ends the string in the value of "
						    "\"%s\"; write \\\\ for a backslash",
						    key);
				return perr(
					ps, ps->line,
					"unknown escape \"\\%c\" in the value of \"%s\" (known: "
					"\\\" \\\\ \\n \\t); write \\\\ for a backslash, or use "
					"'...' where backslashes are literal",
					e, key);
			}
			ps->p++;
		} else if (((unsigned char)c < 0x20 && c != '\t') || c == 0x7f) {
			free(b.s);
			return perr(ps, ps->line,
				    "control character 0x%02x in the value of \"%s\"; write \\n or "
				    "\\t in a \"...\" string",
				    (unsigned)(unsigned char)c, key);
		}
		buf_add(&b, c);
	}
	*out = buf_steal(&b);
	return 0;
}

static int parse_array(struct parser *ps, const char *key, struct value *v)
{
	unsigned start = ps->line;

	ps->p++; /* '[' */
	v->type = V_ARRAY;
	for (;;) {
		char *text = NULL;
		unsigned line;

		skip_space(ps);
		if (ps->p == ps->end)
			return perr(
				ps, start,
				"unterminated array in the value of \"%s\": add the closing ']'",
				key);
		if (*ps->p == ']')
			break;
		line = ps->line;
		if (*ps->p != '"' && *ps->p != '\'') {
			if (*ps->p == '[' && line != start)
				return perr(ps, start,
					    "unterminated array in the value of \"%s\": add the "
					    "closing ']' (line %u starts a table)",
					    key, line);
			return perr(
				ps, line,
				"expected a string in the array of \"%s\", found \"%.*s\": items "
				"are \"...\" or '...', separated by commas",
				key, snippet(ps, ps->p, 40), ps->p);
		}
		if (v->n >= MAX_ITEMS)
			return perr(ps, line, "more than %u items in the array of \"%s\"",
				    MAX_ITEMS, key);
		if (parse_string(ps, key, &text) < 0)
			return -1;
		v->items = ward_xrealloc(v->items, (v->n + 1) * sizeof(*v->items));
		v->items[v->n].text = text;
		v->items[v->n].line = line;
		v->n++;
		skip_space(ps);
		if (ps->p == ps->end)
			return perr(
				ps, start,
				"unterminated array in the value of \"%s\": add the closing ']'",
				key);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == ']')
			break;
		if (*ps->p == '[' && ps->line != start)
			return perr(
				ps, start,
				"unterminated array in the value of \"%s\": add the closing ']' "
				"(line %u starts a table)",
				key, ps->line);
		return perr(ps, ps->line,
			    "expected ',' or ']' after an item in the array of \"%s\", found "
			    "\"%.*s\"",
			    key, snippet(ps, ps->p, 40), ps->p);
	}
	ps->p++; /* ']' */
	return 0;
}

static int parse_value(struct parser *ps, const char *key, struct value *v)
{
	const char *tok = ps->p;
	size_t n = 0, i;
	bool neg = false;
	unsigned long long num = 0;

	memset(v, 0, sizeof(*v));
	if (ps->p == ps->end || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '#')
		return perr(ps, ps->line, "missing value after \"%s =\"", key);
	if (*ps->p == '"' || *ps->p == '\'') {
		v->type = V_STRING;
		return parse_string(ps, key, &v->str);
	}
	if (*ps->p == '[')
		return parse_array(ps, key, v);
	if (*ps->p == '{')
		return perr(ps, ps->line,
			    "inline tables ({...}) are not supported in a space file; the value "
			    "of \"%s\" is a string, a number, true/false or an array of strings",
			    key);
	while (tok + n < ps->end && (bare_char(tok[n]) || tok[n] == '+' || tok[n] == '.'))
		n++;
	if (n == 0)
		return perr(ps, ps->line, "unexpected \"%.*s\" as the value of \"%s\"",
			    snippet(ps, tok, 40), tok, key);
	ps->p += n;
	if (n == 4 && memcmp(tok, "true", 4) == 0) {
		v->type = V_BOOLEAN;
		v->boolean = true;
		return 0;
	}
	if (n == 5 && memcmp(tok, "false", 5) == 0) {
		v->type = V_BOOLEAN;
		return 0;
	}
	i = 0;
	if (tok[0] == '+' || tok[0] == '-') {
		neg = tok[0] == '-';
		i = 1;
	}
	if (i < n) {
		size_t j;

		for (j = i; j < n; j++) {
			if (tok[j] < '0' || tok[j] > '9')
				break;
			if (num > 100000000000ULL)
				return perr(ps, ps->line, "the number %.*s is too large", (int)n,
					    tok);
			num = num * 10 + (unsigned)(tok[j] - '0');
		}
		if (j == n) {
			v->type = V_INTEGER;
			v->num = neg ? -(long long)num : (long long)num;
			return 0;
		}
	}
	if ((tok[0] >= '0' && tok[0] <= '9') || tok[0] == '+' || tok[0] == '-')
		return perr(ps, ps->line,
			    "invalid number %.*s for \"%s\": numbers in a space file are whole "
			    "decimal numbers, e.g. 30",
			    (int)n, tok, key);
	return perr(ps, ps->line,
		    "invalid value %.*s for \"%s\": put strings in quotes (\"%.*s\"); a value is "
		    "\"...\", '...', a number, true/false or an array [\"...\"]",
		    (int)n, tok, key, (int)n, tok);
}

/* ---- The first pass: statements ---- */

static void free_info(struct env_info *info)
{
	item_free(info->talk, info->n_talk);
	free(info->edges);
	ward_request_list_free(&info->req);
	memset(info, 0, sizeof(*info));
}

static int table_header(struct parser *ps)
{
	unsigned line = ps->line;
	const char *start, *close;
	cleanup_free char *raw = NULL;
	size_t n;
	char *name;
	struct ward_space_env *env;
	size_t i;

	ps->p++; /* '[' */
	if (ps->p < ps->end && *ps->p == '[')
		return perr(ps, line,
			    "arrays of tables ([[...]]) are not supported in a space file; write "
			    "one [env.NAME] table per environment");
	start = ps->p;
	close = start;
	while (close < ps->end && *close != ']' && *close != '\n')
		close++;
	if (close == ps->end || *close != ']')
		return perr(ps, line, "missing ']' at the end of the table header \"[%.*s\"",
			    snippet(ps, start, 40), start);
	ps->p = close + 1;
	while (start < close && (*start == ' ' || *start == '\t'))
		start++;
	n = (size_t)(close - start);
	while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t'))
		n--;
	raw = strndup(start, n);
	if (raw == NULL)
		abort();
	if (!end_of_statement(ps))
		return perr(ps, line, "unexpected text after [%s]: \"%.*s\"", raw,
			    snippet(ps, ps->p, 40), ps->p);
	if (strchr(raw, '"') || strchr(raw, '\''))
		return perr(ps, line, "quoted table names are not supported: write [env.NAME] (%s)",
			    NAME_RULE);
	if (strcmp(raw, "env") == 0)
		return perr(ps, line, "[env] needs a name: write [env.NAME], e.g. [env.web]");
	if (strncmp(raw, "env.", 4) != 0)
		return perr(ps, line,
			    "unknown table [%s]: a space file holds name = \"...\" at the top and "
			    "one [env.NAME] table per environment",
			    raw);
	name = raw + 4;
	while (*name == ' ' || *name == '\t')
		name++;
	if (!name_ok(name))
		return perr(ps, line, "invalid environment name \"%s\" in [%s]: %s", name, raw,
			    NAME_RULE);
	for (i = 0; i < ps->s.n_envs; i++) {
		if (strcmp(ps->s.envs[i].name, name) == 0)
			return perr(ps, line,
				    "[env.%s] appears twice (first at line %u); merge the two "
				    "tables or rename one",
				    name, ps->s.envs[i].line);
	}
	if (ps->s.n_envs >= MAX_ENVS)
		return perr(ps, line, "more than %u environments in one space", MAX_ENVS);
	ps->s.envs = ward_xrealloc(ps->s.envs, (ps->s.n_envs + 1) * sizeof(*ps->s.envs));
	ps->info = ward_xrealloc(ps->info, (ps->s.n_envs + 1) * sizeof(*ps->info));
	env = &ps->s.envs[ps->s.n_envs];
	memset(env, 0, sizeof(*env));
	memset(&ps->info[ps->s.n_envs], 0, sizeof(*ps->info));
	env->name = ward_xstrdup(name);
	env->line = line;
	env->wait_timeout = DEFAULT_WAIT_TIMEOUT;
	ps->s.n_envs++;
	return 0;
}

static void argv_push(char ***argv, size_t *argc, char *word)
{
	*argv = ward_xrealloc(*argv, (*argc + 2) * sizeof(**argv));
	(*argv)[(*argc)++] = word;
	(*argv)[*argc] = NULL;
}

static void argv_free(char **argv)
{
	char **a;

	if (argv == NULL)
		return;
	for (a = argv; *a; a++)
		free(*a);
	free(argv);
}

/* Split a command string into words like a shell would, without running one:
 * blanks separate words, '...' is literal, "..." honours \" \\ \$ \`, a
 * backslash outside quotes takes the next character literally.  Characters a
 * shell would interpret are refused rather than passed on as words. */
static int split_command(struct parser *ps, struct ward_space_env *env, const char *cmd,
			 unsigned line)
{
	struct buf w = {0};
	bool in_word = false;
	const char *c = cmd;
	const char *why = NULL;
	char bad = 0;

	while (*c) {
		if (*c == ' ' || *c == '\t' || *c == '\n') {
			if (in_word)
				argv_push(&env->argv, &env->argc, buf_steal(&w));
			in_word = false;
			c++;
			continue;
		}
		in_word = true;
		if (*c == '\'') {
			for (c++; *c && *c != '\''; c++)
				buf_add(&w, *c);
			if (*c == '\0') {
				why = "unterminated ' (add the closing quote)";
				break;
			}
			c++;
		} else if (*c == '"') {
			for (c++; *c && *c != '"'; c++) {
				if (*c == '\\' && c[1] && strchr("\"\\$`", c[1]))
					c++;
				else if (*c == '$' || *c == '`') {
					bad = *c;
					break;
				}
				buf_add(&w, *c);
			}
			if (bad)
				break;
			if (*c == '\0') {
				why = "unterminated \" (add the closing quote)";
				break;
			}
			c++;
		} else if (*c == '\\') {
			if (c[1] == '\0') {
				why = "it ends with a backslash";
				break;
			}
			buf_add(&w, c[1]);
			c += 2;
		} else if (strchr("|&;<>()$`", *c)) {
			bad = *c;
			break;
		} else {
			buf_add(&w, *c++);
		}
	}
	if (why || bad) {
		free(w.s);
		if (bad)
			return perr(ps, line,
				    "command of [env.%s]: '%c' needs a shell, and ward runs the "
				    "command without one; quote it ('%c') to pass it as is, or "
				    "write command = [\"sh\", \"-c\", \"...\"]",
				    env->name, bad, bad);
		return perr(ps, line,
			    "command of [env.%s]: %s; or write the command as an array: command "
			    "= [\"prog\", \"arg\"]",
			    env->name, why);
	}
	if (in_word)
		argv_push(&env->argv, &env->argc, buf_steal(&w));
	if (env->argc == 0)
		return perr(ps, line, "empty command in [env.%s]: %s", env->name,
			    keys[K_COMMAND].example);
	return 0;
}

/* A relative path is taken from the space file's directory. */
static char *join_dir(const char *dir, const char *rel)
{
	if (rel[0] == '/')
		return ward_xstrdup(rel);
	while (rel[0] == '.' && rel[1] == '/') {
		rel += 2;
		while (*rel == '/')
			rel++;
	}
	if (*rel == '\0' || strcmp(rel, ".") == 0)
		return ward_xstrdup(dir);
	if (strcmp(dir, "/") == 0)
		return ward_xasprintf("/%s", rel);
	return ward_xasprintf("%s/%s", dir, rel);
}

static int check_env_items(struct parser *ps, struct ward_space_env *env, struct value *v)
{
	size_t i, j;

	for (i = 0; i < v->n; i++) {
		const char *t = v->items[i].text;
		const char *eq = strchr(t, '=');
		size_t k;

		if (eq == NULL || eq == t)
			return perr(ps, v->items[i].line,
				    "env item \"%s\" in [env.%s]: write KEY=VALUE, e.g. "
				    "\"MODE=prod\"",
				    t, env->name);
		for (k = 0; t + k < eq; k++) {
			char c = t[k];

			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
			      (k > 0 && c >= '0' && c <= '9')))
				return perr(ps, v->items[i].line,
					    "env item \"%s\" in [env.%s]: the variable name "
					    "\"%.*s\" may hold letters, digits and '_', and not "
					    "start with a digit",
					    t, env->name, (int)(eq - t), t);
		}
		for (j = 0; j < i; j++) {
			const char *o = v->items[j].text;

			if (strncmp(o, t, (size_t)(eq - t) + 1) == 0)
				return perr(ps, v->items[i].line,
					    "env item \"%s\" in [env.%s] sets %.*s again (first "
					    "at line %u); keep one",
					    t, env->name, (int)(eq - t), t, v->items[j].line);
		}
	}
	return 0;
}

static int check_publish_item(struct parser *ps, struct ward_space_env *env,
			      const struct ward_space_item *it, uint16_t *host, uint16_t *port)
{
	const char *colon = strchr(it->text, ':');

	if (colon == NULL || strchr(colon + 1, ':'))
		return perr(ps, it->line,
			    "publish \"%s\" in [env.%s]: write HOSTPORT:PORT, e.g. \"8080:80\" "
			    "(host port 8080 to port 80 of the environment)",
			    it->text, env->name);
	if (ward_parse_port(it->text, (size_t)(colon - it->text), host) ||
	    ward_parse_port(colon + 1, strlen(colon + 1), port))
		return perr(ps, it->line,
			    "publish \"%s\" in [env.%s]: ports are numbers from 1 to 65535 (write "
			    "HOSTPORT:PORT, e.g. \"8080:80\")",
			    it->text, env->name);
	return 0;
}

static int set_path(struct parser *ps, struct ward_space_env *env, enum key k, char **dst,
		    const char *value, unsigned line)
{
	if (value[0] == '\0')
		return perr(ps, line, "empty %s in [env.%s]: %s", keys[k].name, env->name,
			    keys[k].example);
	*dst = join_dir(ps->dir, value);
	return 0;
}

static int env_key(struct parser *ps, const char *key, struct value *v, unsigned line)
{
	struct ward_space_env *env = &ps->s.envs[ps->s.n_envs - 1];
	struct env_info *info = &ps->info[ps->s.n_envs - 1];
	int k, best = -1;
	unsigned best_d = 3;
	size_t i;

	for (k = 0; k < K_COUNT; k++)
		if (strcmp(keys[k].name, key) == 0)
			break;
	if (k == K_COUNT) {
		if (strcmp(key, "name") == 0)
			return perr(ps, line,
				    "name = \"...\" names the space and belongs at the top of the "
				    "file, before the first [env.NAME]; an environment's name is "
				    "the one in its header ([env.%s])",
				    env->name);
		for (k = 0; k < K_COUNT; k++) {
			unsigned d = ward_edit_distance(key, keys[k].name, 2);

			if (d < best_d) {
				best_d = d;
				best = k;
			}
		}
		if (best >= 0)
			return perr(ps, line,
				    "unknown key \"%s\" in [env.%s] (did you mean \"%s\"?)", key,
				    env->name, keys[best].name);
		return perr(ps, line,
			    "unknown key \"%s\" in [env.%s] (known keys: command, allow, talk-to, "
			    "publish, env, rootfs, bundle, manifest, chdir, wait, wait-timeout)",
			    key, env->name);
	}
	if (info->key_line[k])
		return perr(ps, line,
			    "duplicate key \"%s\" in [env.%s] (first set at line %u); set it once",
			    key, env->name, info->key_line[k]);
	info->key_line[k] = line;
	if (!(keys[k].types & v->type))
		return perr(ps, line, "\"%s\" in [env.%s] takes %s, not %s: write %s", key,
			    env->name,
			    keys[k].types == V_ARRAY	 ? "an array of strings"
			    : keys[k].types == V_INTEGER ? "an integer"
			    : keys[k].types == V_STRING	 ? "a string"
							 : "a string or an array of strings",
			    vtype_name(v->type), keys[k].example);

	switch ((enum key)k) {
	case K_COMMAND:
		if (v->type == V_STRING)
			return split_command(ps, env, v->str, line);
		if (v->n == 0 || v->items[0].text[0] == '\0')
			return perr(ps, line,
				    "empty command in [env.%s]: the first word names the program "
				    "(%s)",
				    env->name, keys[K_COMMAND].example);
		for (i = 0; i < v->n; i++)
			argv_push(&env->argv, &env->argc, steal_pointer(&v->items[i].text));
		return 0;
	case K_ALLOW:
		for (i = 0; i < v->n; i++) {
			cleanup_free char *origin =
				ward_xasprintf("%s:%u", ps->path, v->items[i].line);

			if (ward_parse_allow(&info->req, v->items[i].text, origin, ps->err) < 0)
				return -1;
		}
		env->allow = steal_pointer(&v->items);
		env->n_allow = v->n;
		info->n_written = v->n;
		v->n = 0;
		return 0;
	case K_TALK_TO:
		info->talk = steal_pointer(&v->items);
		info->n_talk = v->n;
		v->n = 0;
		return 0;
	case K_PUBLISH:
		for (i = 0; i < v->n; i++) {
			uint16_t host, port;

			if (check_publish_item(ps, env, &v->items[i], &host, &port) < 0)
				return -1;
		}
		env->publish = steal_pointer(&v->items);
		env->n_publish = v->n;
		v->n = 0;
		return 0;
	case K_ENV:
		if (check_env_items(ps, env, v) < 0)
			return -1;
		env->env = ward_xcalloc(v->n + 1, sizeof(*env->env));
		for (i = 0; i < v->n; i++)
			env->env[i] = steal_pointer(&v->items[i].text);
		env->n_env = v->n;
		return 0;
	case K_ROOTFS:
		return set_path(ps, env, K_ROOTFS, &env->rootfs, v->str, line);
	case K_BUNDLE:
		return set_path(ps, env, K_BUNDLE, &env->bundle, v->str, line);
	case K_MANIFEST:
		return set_path(ps, env, K_MANIFEST, &env->manifest, v->str, line);
	case K_CHDIR:
		if (v->str[0] != '/')
			return perr(ps, line,
				    "chdir \"%s\" in [env.%s] must be absolute (a directory inside "
				    "the environment, e.g. \"/srv\")",
				    v->str, env->name);
		env->chdir = steal_pointer(&v->str);
		return 0;
	case K_WAIT:
		if (strcmp(v->str, "listen") == 0)
			env->wait_listen = true;
		else if (strcmp(v->str, "none") == 0)
			env->wait_listen = false;
		else
			return perr(
				ps, line,
				"wait = \"%s\" in [env.%s]: write \"listen\" (ward up waits until "
				"its network.listen ports accept connections) or \"none\"",
				v->str, env->name);
		return 0;
	case K_WAIT_TIMEOUT:
		if (v->num < 1 || v->num > (long long)MAX_WAIT_TIMEOUT)
			return perr(
				ps, line,
				"wait-timeout = %lld in [env.%s]: write a number of seconds from "
				"1 to %u",
				v->num, env->name, MAX_WAIT_TIMEOUT);
		env->wait_timeout = (unsigned)v->num;
		return 0;
	case K_COUNT:
	default:
		break;
	}
	return perr(ps, line, "internal error: key \"%s\"", key);
}

static int top_key(struct parser *ps, const char *key, struct value *v, unsigned line)
{
	int k;

	if (strcmp(key, "name") != 0) {
		for (k = 0; k < K_COUNT; k++)
			if (strcmp(keys[k].name, key) == 0)
				return perr(ps, line,
					    "\"%s\" belongs to an environment: put it after an "
					    "[env.NAME] header",
					    key);
		return perr(ps, line,
			    "unknown key \"%s\" at the top of the file (the top holds only name = "
			    "\"...\"; environments go in [env.NAME] tables)",
			    key);
	}
	if (ps->name_line)
		return perr(ps, line, "duplicate key \"name\" (first set at line %u); set it once",
			    ps->name_line);
	ps->name_line = line;
	if (v->type != V_STRING)
		return perr(ps, line, "name takes a string, not %s: write name = \"myspace\"",
			    vtype_name(v->type));
	if (!name_ok(v->str))
		return perr(ps, line, "invalid space name \"%s\": %s", v->str, NAME_RULE);
	ps->s.name = steal_pointer(&v->str);
	return 0;
}

static int key_value(struct parser *ps)
{
	unsigned line = ps->line;
	const char *k = ps->p;
	cleanup_free char *key = NULL;
	struct value v = {0};
	int r;

	while (ps->p < ps->end && bare_char(*ps->p))
		ps->p++;
	if (ps->p == k) {
		if (*k == '"' || *k == '\'')
			return perr(ps, line,
				    "quoted keys are not supported: write the key bare (command = "
				    "...)");
		if (*k == '=')
			return perr(ps, line, "missing key before '='");
		return perr(ps, line, "expected KEY = VALUE or [env.NAME], found \"%.*s\"",
			    snippet(ps, k, 40), k);
	}
	key = strndup(k, (size_t)(ps->p - k));
	if (key == NULL)
		abort();
	skip_blanks(ps);
	if (ps->p < ps->end && *ps->p == '.')
		return perr(ps, line,
			    "dotted keys are not supported: put \"%s\" in an [env.NAME] table",
			    key);
	if (ps->p == ps->end || *ps->p != '=')
		return perr(ps, line, "expected '=' after \"%s\" (write KEY = VALUE)", key);
	ps->p++;
	skip_blanks(ps);
	if (parse_value(ps, key, &v) < 0) {
		value_free(&v);
		return -1;
	}
	if (!end_of_statement(ps)) {
		r = perr(ps, line,
			 "unexpected text after the value of \"%s\": \"%.*s\" (one KEY = VALUE per "
			 "line; '#' starts a comment)",
			 key, snippet(ps, ps->p, 40), ps->p);
		value_free(&v);
		return r;
	}
	if (ps->s.n_envs == 0)
		r = top_key(ps, key, &v, line);
	else
		r = env_key(ps, key, &v, line);
	value_free(&v);
	return r;
}

static int parse_statements(struct parser *ps)
{
	for (;;) {
		skip_space(ps);
		if (ps->p == ps->end)
			return 0;
		if (*ps->p == '[') {
			if (table_header(ps) < 0)
				return -1;
		} else if (key_value(ps) < 0) {
			return -1;
		}
	}
}

/* ---- The second pass: the space as a whole ---- */

static bool listens_on(const struct ward_space_env *env, uint16_t port)
{
	size_t i;

	for (i = 0; i < env->n_listen; i++)
		if (env->listen[i] == port)
			return true;
	return false;
}

static char *port_list(const struct ward_space_env *env)
{
	struct buf b = {0};
	size_t i;

	for (i = 0; i < env->n_listen; i++) {
		char num[8];

		snprintf(num, sizeof(num), "%u", (unsigned)env->listen[i]);
		if (i)
			buf_adds(&b, ", ");
		buf_adds(&b, num);
	}
	return buf_steal(&b);
}

/* "PEER does not listen on PORT ...", prefixed with what was written. */
static int not_listening(struct parser *ps, unsigned line, const char *what,
			 const struct ward_space_env *env, const struct ward_space_env *peer,
			 uint16_t port)
{
	cleanup_free char *ports = NULL;

	if (peer->n_listen == 0)
		return perr(ps, line,
			    "%s in [env.%s]: %s does not listen on any port (it has no "
			    "network.listen entitlement); add network.listen=%u to the allow of "
			    "[env.%s] or fix the port",
			    what, env->name, peer->name, (unsigned)port, peer->name);
	ports = port_list(peer);
	return perr(ps, line,
		    "%s in [env.%s]: %s does not listen on %u (its network.listen ports: %s); add "
		    "network.listen=%u to [env.%s] or fix the port",
		    what, env->name, peer->name, (unsigned)port, ports, (unsigned)port, peer->name);
}

static char *env_names(const struct ward_space *s)
{
	struct buf b = {0};
	size_t i;

	for (i = 0; i < s->n_envs; i++) {
		if (i)
			buf_adds(&b, ", ");
		buf_adds(&b, s->envs[i].name);
	}
	return buf_steal(&b);
}

static int resolve_env(struct parser *ps, struct ward_space_env *env, struct env_info *info)
{
	struct ward_policy pol = {0};
	struct ward_resolve_ctx ctx = {.physical_memory = 0, .home = getenv("HOME")};

	if (ward_resolve(&info->req, &ctx, &pol, ps->err) < 0)
		return -1;
	env->broker = pol.n_broker > 0;
	ward_policy_free(&pol);
	return 0;
}

/* The listen ports of an environment: its network.listen=N items. */
static int derive_listen(struct parser *ps, struct ward_space_env *env, struct env_info *info)
{
	size_t i, j;

	for (i = 0; i < info->req.n; i++) {
		const struct ward_request *r = &info->req.items[i];
		uint16_t port;

		if (strcmp(r->name, "network.listen") != 0)
			continue;
		if (r->value == NULL || ward_parse_port(r->value, strlen(r->value), &port))
			return ward_error_set(ps->err, EINVAL,
					      "%s: network.listen=%s: the port is a number from 1 "
					      "to 65535",
					      r->origin, r->value ? r->value : "");
		for (j = 0; j < env->n_listen && env->listen[j] < port; j++)
			;
		if (j < env->n_listen && env->listen[j] == port)
			continue;
		env->listen = ward_xrealloc(env->listen, (env->n_listen + 1) * sizeof(uint16_t));
		memmove(env->listen + j + 1, env->listen + j,
			(env->n_listen - j) * sizeof(uint16_t));
		env->listen[j] = port;
		env->n_listen++;
	}
	return 0;
}

static void add_edge(struct env_info *info, size_t peer, unsigned line)
{
	info->edges = ward_xrealloc(info->edges, (info->n_edges + 1) * sizeof(*info->edges));
	info->edges[info->n_edges].peer = peer;
	info->edges[info->n_edges].line = line;
	info->n_edges++;
}

/* Add network.connect=PEER:PORT for a talk-to item, unless already allowed. */
static int add_connect(struct parser *ps, struct ward_space_env *env, struct env_info *info,
		       const char *peer, uint16_t port, unsigned line)
{
	cleanup_free char *value = ward_xasprintf("%s:%u", peer, (unsigned)port);
	cleanup_free char *origin = NULL;
	size_t i;

	for (i = 0; i < info->req.n; i++) {
		const struct ward_request *r = &info->req.items[i];

		if (strcmp(r->name, "network.connect") == 0 && r->value &&
		    strcmp(r->value, value) == 0)
			return 0;
	}
	origin = ward_xasprintf("%s:%u", ps->path, line);
	env->allow = ward_xrealloc(env->allow, (env->n_allow + 1) * sizeof(*env->allow));
	env->allow[env->n_allow].text = ward_xasprintf("network.connect=%s", value);
	env->allow[env->n_allow].line = line;
	env->n_allow++;
	return ward_parse_allow(&info->req, env->allow[env->n_allow - 1].text, origin, ps->err);
}

static int talk_to(struct parser *ps, size_t self, const struct ward_space_item *it)
{
	struct ward_space_env *env = &ps->s.envs[self];
	struct env_info *info = &ps->info[self];
	const char *colon = strchr(it->text, ':');
	size_t nlen = colon ? (size_t)(colon - it->text) : strlen(it->text);
	cleanup_free char *name = strndup(it->text, nlen);
	const struct ward_space_env *peer;
	uint16_t port;
	int idx;
	size_t i;

	if (name == NULL)
		abort();
	if (nlen == 0)
		return perr(
			ps, it->line,
			"talk-to \"%s\" in [env.%s]: name an environment of the space: \"PEER\" "
			"or \"PEER:PORT\"",
			it->text, env->name);
	idx = ward_space_find(&ps->s, name);
	if (idx < 0) {
		cleanup_free char *names = env_names(&ps->s);

		return perr(ps, it->line,
			    "talk-to \"%s\" in [env.%s]: there is no [env.%s] in this space "
			    "(environments: %s); to reach an address outside the space, allow "
			    "network.connect=HOST:PORT",
			    it->text, env->name, name, names);
	}
	if ((size_t)idx == self)
		return perr(ps, it->line,
			    "talk-to \"%s\" in [env.%s]: an environment does not talk to itself "
			    "through the space; remove the item (it reaches its own ports on "
			    "127.0.0.1)",
			    it->text, env->name);
	peer = &ps->s.envs[idx];
	add_edge(info, (size_t)idx, it->line);
	if (colon) {
		if (ward_parse_port(colon + 1, strlen(colon + 1), &port))
			return perr(ps, it->line,
				    "talk-to \"%s\" in [env.%s]: the port is a number from 1 to "
				    "65535 (write \"%s\" or \"%s:PORT\")",
				    it->text, env->name, name, name);
		if (!listens_on(peer, port)) {
			cleanup_free char *what = ward_xasprintf("talk-to \"%s\"", it->text);

			return not_listening(ps, it->line, what, env, peer, port);
		}
		return add_connect(ps, env, info, name, port, it->line);
	}
	if (peer->n_listen == 0)
		return perr(ps, it->line,
			    "talk-to \"%s\" in [env.%s]: %s does not listen on any port (it has "
			    "no network.listen entitlement); add network.listen=PORT to the allow "
			    "of [env.%s]",
			    it->text, env->name, name, name);
	for (i = 0; i < peer->n_listen; i++)
		if (add_connect(ps, env, info, name, peer->listen[i], it->line) < 0)
			return -1;
	return 0;
}

/* network.connect=HOST:PORT written in allow: HOST may be an environment. */
static int check_connects(struct parser *ps, size_t self)
{
	struct ward_space_env *env = &ps->s.envs[self];
	struct env_info *info = &ps->info[self];
	size_t i;

	for (i = 0; i < info->n_written; i++) {
		const struct ward_request *r = &info->req.items[i];
		cleanup_free char *host = NULL;
		const char *colon;
		uint16_t port;
		int idx;

		if (strcmp(r->name, "network.connect") != 0 || r->value == NULL)
			continue;
		colon = strrchr(r->value, ':');
		if (colon == NULL)
			continue; /* the resolver has refused it already */
		host = strndup(r->value, (size_t)(colon - r->value));
		if (host == NULL)
			abort();
		/* Host names are not case-sensitive (the resolver lowers them too). */
		for (char *c = host; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		idx = ward_space_find(&ps->s, host);
		if (idx < 0)
			continue; /* an address or host name outside the space */
		if ((size_t)idx == self)
			return perr(ps, env->allow[i].line,
				    "%s in [env.%s]: an environment does not connect to itself "
				    "through the space; remove the item (it reaches its own ports "
				    "on 127.0.0.1)",
				    env->allow[i].text, env->name);
		if (ward_parse_port(colon + 1, strlen(colon + 1), &port))
			return perr(ps, env->allow[i].line,
				    "%s in [env.%s]: the port is a number from 1 to 65535",
				    env->allow[i].text, env->name);
		if (!listens_on(&ps->s.envs[idx], port))
			return not_listening(ps, env->allow[i].line, env->allow[i].text, env,
					     &ps->s.envs[idx], port);
		add_edge(info, (size_t)idx, env->allow[i].line);
	}
	return 0;
}

struct published {
	unsigned line; /* 0: free */
	unsigned env;
};

static int check_publish(struct parser *ps)
{
	cleanup_free struct published *seen = NULL;
	size_t e, i;

	for (e = 0; e < ps->s.n_envs; e++) {
		struct ward_space_env *env = &ps->s.envs[e];

		for (i = 0; i < env->n_publish; i++) {
			const struct ward_space_item *it = &env->publish[i];
			uint16_t host, port;

			if (check_publish_item(ps, env, it, &host, &port) < 0)
				return -1;
			if (!listens_on(env, port)) {
				cleanup_free char *ports = port_list(env);

				return perr(ps, it->line,
					    "publish \"%s\" in [env.%s]: %s does not listen on %u "
					    "(its network.listen ports: %s); add network.listen=%u "
					    "to its allow or fix the port",
					    it->text, env->name, env->name, (unsigned)port,
					    env->n_listen ? ports : "none", (unsigned)port);
			}
			if (seen == NULL)
				seen = ward_xcalloc(65536, sizeof(*seen));
			if (seen[host].line)
				return perr(ps, it->line,
					    "host port %u is published twice (by [env.%s] at line "
					    "%u and by [env.%s] here); choose another host port",
					    (unsigned)host, ps->s.envs[seen[host].env].name,
					    seen[host].line, env->name);
			seen[host].line = it->line;
			seen[host].env = (unsigned)e;
		}
	}
	return 0;
}

static unsigned edge_line(const struct env_info *info, size_t peer)
{
	size_t i;

	for (i = 0; i < info->n_edges; i++)
		if (info->edges[i].peer == peer)
			return info->edges[i].line;
	return 0;
}

/* Explain a cycle among the environments not placed yet. */
static int cycle_error(struct parser *ps, const bool *placed)
{
	size_t n = ps->s.n_envs;
	cleanup_free size_t *pos = ward_xcalloc(n, sizeof(size_t));
	cleanup_free size_t *path = ward_xcalloc(n + 1, sizeof(size_t));
	struct buf envs = {0}, arrows = {0};
	cleanup_free char *es = NULL, *as = NULL;
	size_t len = 0, cur = 0, start, i, k;
	unsigned first_line;

	/* pos[i] = 1 + place on the path; 0: not on it. */
	while (cur < n && placed[cur])
		cur++;
	while (pos[cur] == 0) {
		const struct ward_space_env *env = &ps->s.envs[cur];

		pos[cur] = ++len;
		path[len - 1] = cur;
		for (k = 0; k < env->n_deps; k++)
			if (!placed[env->deps[k]])
				break;
		cur = env->deps[k]; /* unplaced: some dependency is unplaced too */
	}
	start = pos[cur] - 1;
	path[len] = cur;
	for (i = start; i < len; i++) {
		char tmp[128];
		const char *a = ps->s.envs[path[i]].name, *b = ps->s.envs[path[i + 1]].name;

		if (i > start)
			buf_adds(&envs, i + 1 == len ? " and " : ", ");
		buf_adds(&envs, "[env.");
		buf_adds(&envs, a);
		buf_adds(&envs, "]");
		snprintf(tmp, sizeof(tmp), "%s%s -> %s at line %u", i > start ? ", " : "", a, b,
			 edge_line(&ps->info[path[i]], path[i + 1]));
		buf_adds(&arrows, tmp);
	}
	es = buf_steal(&envs);
	as = buf_steal(&arrows);
	first_line = edge_line(&ps->info[path[start]], path[start + 1]);
	if (len - start == 2)
		return perr(ps, first_line,
			    "%s connect to each other (%s); ward up must start one before the "
			    "other: remove one of these connections (talk-to or network.connect)",
			    es, as);
	return perr(ps, first_line,
		    "%s connect in a cycle (%s); ward up must start every environment after the "
		    "ones it connects to: remove one of these connections (talk-to or "
		    "network.connect)",
		    es, as);
}

static int derive_order(struct parser *ps)
{
	size_t n = ps->s.n_envs, e, i, k;
	cleanup_free bool *mark = ward_xcalloc(n, sizeof(bool));
	cleanup_free bool *placed = ward_xcalloc(n, sizeof(bool));

	for (e = 0; e < n; e++) {
		struct ward_space_env *env = &ps->s.envs[e];
		struct env_info *info = &ps->info[e];

		memset(mark, 0, n * sizeof(bool));
		for (i = 0; i < info->n_edges; i++)
			mark[info->edges[i].peer] = true;
		for (i = 0; i < n; i++) {
			if (!mark[i])
				continue;
			env->deps = ward_xrealloc(env->deps, (env->n_deps + 1) * sizeof(size_t));
			env->deps[env->n_deps++] = i;
		}
	}
	/* Kahn's algorithm, taking the first ready environment in file order. */
	ps->s.order = ward_xcalloc(n, sizeof(size_t));
	for (k = 0; k < n; k++) {
		for (e = 0; e < n; e++) {
			const struct ward_space_env *env = &ps->s.envs[e];

			if (placed[e])
				continue;
			for (i = 0; i < env->n_deps; i++)
				if (!placed[env->deps[i]])
					break;
			if (i == env->n_deps)
				break;
		}
		if (e == n)
			return cycle_error(ps, placed);
		placed[e] = true;
		ps->s.order[k] = e;
	}
	return 0;
}

static int check_space(struct parser *ps)
{
	size_t e, i;

	if (ps->s.n_envs == 0)
		return perr(ps, 0,
			    "no environments: add an [env.NAME] table with a command, e.g. "
			    "[env.web] and below it command = \"python3 -m http.server 8000\"");
	for (e = 0; e < ps->s.n_envs; e++) {
		struct ward_space_env *env = &ps->s.envs[e];
		struct env_info *info = &ps->info[e];

		if (info->key_line[K_COMMAND] && info->key_line[K_BUNDLE])
			return perr(ps, info->key_line[K_COMMAND],
				    "[env.%s] sets both command and bundle: a bundle carries its "
				    "command; remove one of them",
				    env->name);
		if (info->key_line[K_ROOTFS] && info->key_line[K_BUNDLE])
			return perr(
				ps, info->key_line[K_ROOTFS],
				"[env.%s] sets both rootfs and bundle: a bundle carries its root "
				"file system; remove one of them",
				env->name);
		if (env->argc == 0 && env->bundle == NULL)
			return perr(ps, env->line,
				    "[env.%s] has no command: add command = \"...\" (or bundle = "
				    "\"app.ward\", which carries its command)",
				    env->name);
		if (env->argv == NULL)
			env->argv = ward_xcalloc(1, sizeof(*env->argv));
		if (resolve_env(ps, env, info) < 0)
			return -1;
		if (derive_listen(ps, env, info) < 0)
			return -1;
		if (env->wait_listen && env->n_listen == 0)
			return perr(ps, info->key_line[K_WAIT],
				    "wait = \"listen\" in [env.%s], but it listens on no port; add "
				    "network.listen=PORT to its allow, or remove wait",
				    env->name);
	}
	for (e = 0; e < ps->s.n_envs; e++) {
		struct env_info *info = &ps->info[e];

		if (check_connects(ps, e) < 0)
			return -1;
		for (i = 0; i < info->n_talk; i++)
			if (talk_to(ps, e, &info->talk[i]) < 0)
				return -1;
		/* Resolve again with the expansions: they may conflict with the rest. */
		if (info->req.n > info->n_written && resolve_env(ps, &ps->s.envs[e], info) < 0)
			return -1;
	}
	if (check_publish(ps) < 0)
		return -1;
	return derive_order(ps);
}

/* ---- What a space file names beside itself (ward_space_load only) ---- */

/*
 * ward up runs as root, and the space file may be someone else's: whoever
 * can write it chooses the files ward up and its ward runs read as root.  So
 * a space file names only files of its own owner (any file when root owns
 * it), reached without symbolic links (a link could be swapped for one to
 * another's file between the check and the use), and ward up reads a
 * manifest itself, once, from the descriptor it checked: its entitlements
 * become allow items, and no later reader (ward run --manifest) could be
 * given another file.  Without this, manifest = "/etc/shadow" put the
 * file's first line into ward up's error (docs/spaces.md).
 */
static int open_ref(struct parser *ps, const struct ward_space_env *env, enum key k,
		    const char *path, unsigned line, uint64_t flags, struct stat *st)
{
	struct open_how how = {
		/* O_PATH takes no other flag but these (openat2 is strict). */
		.flags = flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY),
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	cleanup_free char *q = ward_escape(path, 200);
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	if (fd < 0) {
		if (errno == ELOOP)
			return perr(ps, line,
				    "%s \"%s\" in [env.%s] goes through a symbolic link; a space "
				    "file names files by their real path (ward up runs as root and "
				    "does not follow links in what a space file names)",
				    keys[k].name, q, env->name);
		if (errno == ENOENT)
			return perr(ps, line, "%s \"%s\" in [env.%s] does not exist", keys[k].name,
				    q, env->name);
		return perr(ps, line, "%s \"%s\" in [env.%s]: %s", keys[k].name, q, env->name,
			    strerror(errno));
	}
	if (fstat(fd, st) < 0) {
		int e = errno;

		close(fd);
		return perr(ps, line, "%s \"%s\" in [env.%s]: %s", keys[k].name, q, env->name,
			    strerror(e));
	}
	if (*ps->owner != 0 && st->st_uid != *ps->owner) {
		close(fd);
		return perr(ps, line,
			    "%s \"%s\" in [env.%s] belongs to uid %u, not to uid %u, the owner "
			    "of the space file: a space file names only its owner's files (ward "
			    "up runs as root); copy it next to the space file",
			    keys[k].name, q, env->name, (unsigned)st->st_uid, (unsigned)*ps->owner);
	}
	return fd;
}

/* manifest = "...": read it (checked as above) and add its entitlements to
 * the environment's allow items, with their origin "MANIFEST:LINE". */
static int fold_manifest(struct parser *ps, struct ward_space_env *env, struct env_info *info)
{
	unsigned line = info->key_line[K_MANIFEST];
	struct ward_request_list got = {0};
	cleanup_close int fd = -1;
	cleanup_free char *text = NULL;
	cleanup_free char *name = ward_escape(env->manifest, 200);
	struct stat st;
	ssize_t n;
	size_t i;

	fd = open_ref(ps, env, K_MANIFEST, env->manifest, line, O_RDONLY | O_NONBLOCK, &st);
	if (fd < 0)
		return -1;
	if (!S_ISREG(st.st_mode))
		return perr(ps, line, "manifest \"%s\" in [env.%s] is not a regular file", name,
			    env->name);
	text = ward_xmalloc(MAX_SPACE_BYTES + 1);
	n = ward_read_all(fd, text, MAX_SPACE_BYTES + 1);
	if (n < 0)
		return perr(ps, line, "manifest \"%s\" in [env.%s]: %s", name, env->name,
			    strerror(errno));
	if ((size_t)n > MAX_SPACE_BYTES)
		return perr(ps, line, "manifest \"%s\" in [env.%s] is larger than %u bytes", name,
			    env->name, MAX_SPACE_BYTES);
	if (ward_parse_manifest(&got, text, (size_t)n, name, ps->err) < 0) {
		/* What was parsed before the bad line. */
		ward_request_list_free(&got);
		return -1;
	}
	for (i = 0; i < got.n; i++) {
		struct ward_request *r = &got.items[i];

		env->allow = ward_xrealloc(env->allow, (env->n_allow + 1) * sizeof(*env->allow));
		env->allow[env->n_allow].text = r->value
							? ward_xasprintf("%s=%s", r->name, r->value)
							: ward_xstrdup(r->name);
		env->allow[env->n_allow].line = line;
		env->n_allow++;
		info->req.items = ward_xrealloc(info->req.items,
						(info->req.n + 1) * sizeof(*info->req.items));
		info->req.items[info->req.n++] = *r;
	}
	/* The requests moved into info->req. */
	free(got.items);
	info->n_written = env->n_allow;
	env->manifest_read = true;
	return 0;
}

static int check_refs(struct parser *ps)
{
	size_t e;

	for (e = 0; e < ps->s.n_envs; e++) {
		struct ward_space_env *env = &ps->s.envs[e];
		struct env_info *info = &ps->info[e];
		struct stat st;
		int fd;

		if (env->manifest && fold_manifest(ps, env, info) < 0)
			return -1;
		if (env->rootfs) {
			fd = open_ref(ps, env, K_ROOTFS, env->rootfs, info->key_line[K_ROOTFS],
				      O_PATH | O_DIRECTORY, &st);
			if (fd < 0)
				return -1;
			close(fd);
		}
		if (env->bundle) {
			fd = open_ref(ps, env, K_BUNDLE, env->bundle, info->key_line[K_BUNDLE],
				      O_PATH, &st);
			if (fd < 0)
				return -1;
			close(fd);
		}
	}
	return 0;
}

/* The space's default name: the file's base name without ".toml". */
static int default_name(struct parser *ps)
{
	const char *base = strrchr(ps->raw_path, '/');
	size_t n;
	cleanup_free char *name = NULL;

	base = base ? base + 1 : ps->raw_path;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".toml") == 0)
		n -= 5;
	name = strndup(base, n);
	if (name == NULL)
		abort();
	if (!name_ok(name))
		return perr(ps, 0,
			    "the file name does not make a space name (\"%s\": %s); add name = "
			    "\"...\" at the top of the file",
			    name, NAME_RULE);
	ps->s.name = steal_pointer(&name);
	return 0;
}

static int space_parse(struct ward_space *s, const char *path, const char *dir, const char *text,
		       size_t len, const uid_t *owner, ward_error_t *err)
{
	cleanup_free char *qpath = ward_escape(path ? path : "(space)", 0);
	struct parser ps = {
		.path = qpath,
		.raw_path = path ? path : "(space)",
		.dir = dir,
		.p = text,
		.end = text + len,
		.line = 1,
		.err = err,
		.owner = owner,
	};
	const char *nul;
	size_t i, n_envs;
	int r = -1;

	memset(s, 0, sizeof(*s));
	if (dir == NULL || dir[0] != '/')
		return ward_error_set(err, EINVAL,
				      "%s: internal error: the directory of a space file must be "
				      "absolute",
				      ps.path);
	if (len > MAX_SPACE_BYTES)
		return perr(&ps, 0, "larger than %u bytes; is this a space file?", MAX_SPACE_BYTES);
	nul = memchr(text, '\0', len);
	if (nul) {
		unsigned line = 1;
		const char *c;

		for (c = text; c < nul; c++)
			line += *c == '\n';
		return perr(&ps, line, "NUL byte (is this a text file?)");
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3; /* UTF-8 byte order mark */

	ps.s.path = ward_xstrdup(ps.raw_path);
	ps.s.dir = ward_xstrdup(dir);
	if (parse_statements(&ps) < 0)
		goto out;
	if (ps.owner && check_refs(&ps) < 0)
		goto out;
	if (ps.s.name == NULL && default_name(&ps) < 0)
		goto out;
	if (check_space(&ps) < 0)
		goto out;
	r = 0;
out:
	n_envs = ps.s.n_envs;
	for (i = 0; i < n_envs; i++)
		free_info(&ps.info[i]);
	free(ps.info);
	if (r == 0)
		*s = ps.s;
	else
		ward_space_free(&ps.s);
	return r;
}

int ward_space_parse(struct ward_space *s, const char *path, const char *dir, const char *text,
		     size_t len, ward_error_t *err)
{
	return space_parse(s, path, dir, text, len, NULL, err);
}

int ward_space_load(struct ward_space *s, const char *path, ward_error_t *err)
{
	return ward_space_read(s, path, true, err);
}

int ward_space_read(struct ward_space *s, const char *path, bool refs, ward_error_t *err)
{
	cleanup_close int fd = -1;
	cleanup_free char *text = NULL;
	cleanup_free char *copy = NULL;
	char dir[PATH_MAX];
	struct stat st;
	ssize_t n;

	memset(s, 0, sizeof(*s));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return ward_error_set(err, ENOENT,
					      "space file %s does not exist (give the path of a "
					      "space.toml)",
					      path);
		return ward_error_sys(err, "cannot open space file %s", path);
	}
	if (fstat(fd, &st) < 0)
		return ward_error_sys(err, "cannot stat space file %s", path);
	if (S_ISDIR(st.st_mode))
		return ward_error_set(err, EISDIR,
				      "%s is a directory; give the path of the space file in it "
				      "(e.g. %s/space.toml)",
				      path, path);
	text = ward_xmalloc(MAX_SPACE_BYTES + 1);
	n = ward_read_all(fd, text, MAX_SPACE_BYTES + 1);
	if (n < 0)
		return ward_error_sys(err, "cannot read space file %s", path);
	if ((size_t)n > MAX_SPACE_BYTES)
		return ward_error_set(err, EFBIG, "%s: larger than %u bytes; is this a space file?",
				      path, MAX_SPACE_BYTES);
	copy = ward_xstrdup(path);
	if (realpath(dirname(copy), dir) == NULL)
		return ward_error_sys(err, "cannot find the directory of space file %s", path);
	return space_parse(s, path, dir, text, (size_t)n, refs ? &st.st_uid : NULL, err);
}

void ward_space_free(struct ward_space *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_envs; i++) {
		struct ward_space_env *env = &s->envs[i];

		free(env->name);
		argv_free(env->argv);
		item_free(env->allow, env->n_allow);
		item_free(env->publish, env->n_publish);
		argv_free(env->env);
		free(env->rootfs);
		free(env->bundle);
		free(env->manifest);
		free(env->chdir);
		free(env->listen);
		free(env->deps);
	}
	free(s->envs);
	free(s->name);
	free(s->path);
	free(s->dir);
	free(s->order);
	memset(s, 0, sizeof(*s));
}

int ward_space_find(const struct ward_space *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_envs; i++)
		if (strcmp(s->envs[i].name, name) == 0)
			return (int)i;
	return -1;
}
