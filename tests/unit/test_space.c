/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Space files: the TOML subset, the checks across environments, and the
 * derived listen ports, dependencies and start order (lib/space/). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "space/space.h"
#include "util.h"

static int parse_as(struct ward_space *s, const char *path, const char *text, ward_error_t *err)
{
	return ward_space_parse(s, path, "/srv/shop", text, strlen(text), err);
}

static int parse(struct ward_space *s, const char *text, ward_error_t *err)
{
	return parse_as(s, "space.toml", text, err);
}

static void parse_ok(struct ward_space *s, const char *text)
{
	ward_error_t err = NULL;

	if (parse(s, text, &err) < 0)
		fail_msg("unexpected error: %s", err->msg);
	assert_null(err);
}

static void expect_error(const char *text, const char *want)
{
	struct ward_space s;
	ward_error_t err = NULL;

	assert_int_equal(parse(&s, text, &err), -1);
	assert_non_null(err);
	if (strstr(err->msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err->msg, want);
	/* Left empty: nothing to free. */
	assert_null(s.envs);
	assert_int_equal(s.n_envs, 0);
	assert_null(s.name);
	assert_null(s.order);
	ward_space_free(&s);
	ward_error_free(&err);
}

static const char full_text[] =
	"# The shop\n"						       /* 1 */
	"name = \"shop\"\n"					       /* 2 */
	"\n"							       /* 3 */
	"[env.db]\n"						       /* 4 */
	"command = \"python3 -m http.server 5432 --bind '0.0.0.0'\"\n" /* 5 */
	"allow = [\"network.listen=5432\", \"process.limit=64\"]\n"    /* 6 */
	"wait = \"listen\"\n"					       /* 7 */
	"wait-timeout = 10\n"					       /* 8 */
	"\n"							       /* 9 */
	"[env.web]  # the site\n"				       /* 10 */
	"command = [\"./srv\", \"--port\", \"80\"]\n"		       /* 11 */
	"rootfs = \"rootfs/\"\n"				       /* 12 */
	"allow = [\n"						       /* 13 */
	"\t\"network.listen=80\",   # the site\n"		       /* 14 */
	"\t\"fs.read=/srv/photos\",\n"				       /* 15 */
	"]\n"							       /* 16 */
	"talk-to = [\"db:5432\"]\n"				       /* 17 */
	"publish = [\"8080:80\"]\n"				       /* 18 */
	"env = [\"MODE=prod\", \"EMPTY=\"]\n"			       /* 19 */
	"chdir = \"/srv\"\n"					       /* 20 */
	"\n"							       /* 21 */
	"[env.worker]\n"					       /* 22 */
	"bundle = \"worker.ward\"\n"				       /* 23 */
	"manifest = '/etc/worker.ent'\n"			       /* 24 */
	"talk-to = [\"db\", \"web:80\"]\n";			       /* 25 */

static void test_full(void **state)
{
	struct ward_space s;
	const struct ward_space_env *db, *web, *worker;

	(void)state;
	parse_ok(&s, full_text);
	assert_string_equal(s.name, "shop");
	assert_string_equal(s.path, "space.toml");
	assert_string_equal(s.dir, "/srv/shop");
	assert_int_equal(s.n_envs, 3);
	db = &s.envs[0];
	web = &s.envs[1];
	worker = &s.envs[2];

	assert_string_equal(db->name, "db");
	assert_int_equal(db->line, 4);
	assert_int_equal(db->argc, 6);
	assert_string_equal(db->argv[0], "python3");
	assert_string_equal(db->argv[3], "5432");
	assert_string_equal(db->argv[5], "0.0.0.0");
	assert_null(db->argv[6]);
	assert_int_equal(db->n_allow, 2);
	assert_string_equal(db->allow[0].text, "network.listen=5432");
	assert_int_equal(db->allow[0].line, 6);
	assert_string_equal(db->allow[1].text, "process.limit=64");
	assert_true(db->wait_listen);
	assert_int_equal(db->wait_timeout, 10);
	assert_int_equal(db->n_listen, 1);
	assert_int_equal(db->listen[0], 5432);
	assert_int_equal(db->n_deps, 0);
	assert_null(db->rootfs);
	assert_null(db->bundle);
	assert_null(db->chdir);
	assert_int_equal(db->n_env, 0);
	assert_int_equal(db->n_publish, 0);

	assert_string_equal(web->name, "web");
	assert_int_equal(web->line, 10);
	assert_int_equal(web->argc, 3);
	assert_string_equal(web->argv[0], "./srv");
	assert_string_equal(web->argv[2], "80");
	assert_null(web->argv[3]);
	assert_string_equal(web->rootfs, "/srv/shop/rootfs/");
	assert_null(web->manifest);
	/* allow as written, then what talk-to adds, with the talk-to line. */
	assert_int_equal(web->n_allow, 3);
	assert_string_equal(web->allow[0].text, "network.listen=80");
	assert_int_equal(web->allow[0].line, 14);
	assert_string_equal(web->allow[1].text, "fs.read=/srv/photos");
	assert_int_equal(web->allow[1].line, 15);
	assert_string_equal(web->allow[2].text, "network.connect=db:5432");
	assert_int_equal(web->allow[2].line, 17);
	assert_int_equal(web->n_publish, 1);
	assert_string_equal(web->publish[0].text, "8080:80");
	assert_int_equal(web->publish[0].line, 18);
	assert_int_equal(web->n_env, 2);
	assert_string_equal(web->env[0], "MODE=prod");
	assert_string_equal(web->env[1], "EMPTY=");
	assert_string_equal(web->chdir, "/srv");
	assert_false(web->wait_listen);
	assert_int_equal(web->wait_timeout, 30);
	assert_int_equal(web->n_listen, 1);
	assert_int_equal(web->listen[0], 80);
	assert_int_equal(web->n_deps, 1);
	assert_int_equal(web->deps[0], 0);

	assert_string_equal(worker->name, "worker");
	assert_int_equal(worker->argc, 0);
	assert_non_null(worker->argv);
	assert_null(worker->argv[0]);
	assert_string_equal(worker->bundle, "/srv/shop/worker.ward");
	assert_string_equal(worker->manifest, "/etc/worker.ent");
	assert_int_equal(worker->n_allow, 2);
	assert_string_equal(worker->allow[0].text, "network.connect=db:5432");
	assert_int_equal(worker->allow[0].line, 25);
	assert_string_equal(worker->allow[1].text, "network.connect=web:80");
	assert_int_equal(worker->n_listen, 0);
	assert_int_equal(worker->n_deps, 2);
	assert_int_equal(worker->deps[0], 0);
	assert_int_equal(worker->deps[1], 1);

	assert_int_equal(s.order[0], 0);
	assert_int_equal(s.order[1], 1);
	assert_int_equal(s.order[2], 2);
	assert_int_equal(ward_space_find(&s, "web"), 1);
	assert_int_equal(ward_space_find(&s, "nope"), -1);
	ward_space_free(&s);
	assert_null(s.envs);
	ward_space_free(&s); /* twice is harmless */
}

static void test_default_name(void **state)
{
	struct ward_space s;
	ward_error_t err = NULL;
	const char *text = "[env.a]\ncommand = \"true\"\n";

	(void)state;
	assert_int_equal(parse_as(&s, "/home/me/my-shop.toml", text, &err), 0);
	assert_string_equal(s.name, "my-shop");
	ward_space_free(&s);
	assert_int_equal(parse_as(&s, "space", text, &err), 0);
	assert_string_equal(s.name, "space");
	ward_space_free(&s);

	/* Not a valid name: ask for name = "...". */
	assert_int_equal(parse_as(&s, "conf/My_Space.toml", text, &err), -1);
	assert_non_null(strstr(err->msg, "conf/My_Space.toml: the file name does not make a "
					 "space name (\"My_Space\""));
	assert_non_null(strstr(err->msg, "add name = \"...\""));
	ward_error_free(&err);
	assert_int_equal(parse_as(&s, "conf/My_Space.toml",
				  "name = \"mine\"\n[env.a]\ncommand = "
				  "\"true\"\n",
				  &err),
			 0);
	assert_string_equal(s.name, "mine");
	ward_space_free(&s);
}

static void test_array_multiline(void **state)
{
	struct ward_space s;

	(void)state;
	parse_ok(&s, "[env.a]\n"
		     "command = [\n"
		     "  'sh',   # a comment\n"
		     "\n"
		     "  '-c', \"echo \\\"hi\\\"\\tthere\\n\",\n"
		     "]\n"
		     "allow = [ # comment after the bracket\n"
		     "  \"process.limit=8\" ,\n"
		     "  \"files.limit=64\"\n"
		     "  ]\n"
		     "env = []\n");
	assert_int_equal(s.envs[0].argc, 3);
	assert_string_equal(s.envs[0].argv[0], "sh");
	assert_string_equal(s.envs[0].argv[2], "echo \"hi\"\tthere\n");
	assert_int_equal(s.envs[0].n_allow, 2);
	assert_int_equal(s.envs[0].allow[0].line, 8);
	assert_int_equal(s.envs[0].allow[1].line, 9);
	assert_int_equal(s.envs[0].n_env, 0);
	ward_space_free(&s);
}

static void test_strings(void **state)
{
	struct ward_space s;

	(void)state;
	/* Literal strings keep backslashes; CRLF line ends and a BOM are fine. */
	parse_ok(&s, "\xef\xbb\xbf"
		     "[env.a]\r\n"
		     "command = ['C:\\dir\\prog', \"a\\\\b\", \"\"]\r\n"
		     "chdir = \"/a b\"\r\n");
	assert_int_equal(s.envs[0].argc, 3);
	assert_string_equal(s.envs[0].argv[0], "C:\\dir\\prog");
	assert_string_equal(s.envs[0].argv[1], "a\\b");
	assert_string_equal(s.envs[0].argv[2], "");
	assert_string_equal(s.envs[0].chdir, "/a b");
	ward_space_free(&s);
}

static void test_command_split(void **state)
{
	struct ward_space s;
	char *const *a;

	(void)state;
	/* After TOML: `  prog<TAB>'one two' "x \"y\" z" a\ b '' c'd'e '|' "\$x"` */
	parse_ok(&s, "[env.a]\n"
		     "command = \"  prog\\t'one two' \\\"x \\\\\\\"y\\\\\\\" z\\\" a\\\\ b '' "
		     "c'd'e '|' \\\"\\\\$x\\\"\"\n");
	a = s.envs[0].argv;
	assert_int_equal(s.envs[0].argc, 8);
	assert_string_equal(a[0], "prog");
	assert_string_equal(a[1], "one two");
	assert_string_equal(a[2], "x \"y\" z");
	assert_string_equal(a[3], "a b");
	assert_string_equal(a[4], "");
	assert_string_equal(a[5], "cde");
	assert_string_equal(a[6], "|");
	assert_string_equal(a[7], "$x");
	assert_null(a[8]);
	ward_space_free(&s);
}

static void test_command_shell(void **state)
{
	(void)state;
	expect_error("[env.a]\ncommand = \"ls | wc\"\n",
		     "space.toml:2: command of [env.a]: '|' needs a shell");
	expect_error("[env.a]\ncommand = \"echo $HOME\"\n", "'$' needs a shell");
	expect_error("[env.a]\ncommand = \"prog > log\"\n",
		     "write command = [\"sh\", \"-c\", \"...\"]");
	expect_error("[env.a]\ncommand = \"echo 'unclosed\"\n",
		     "space.toml:2: command of [env.a]: unterminated '");
	expect_error("[env.a]\ncommand = \"echo \\\"unclosed\"\n", "unterminated \"");
	expect_error("[env.a]\ncommand = \"   \"\n", "space.toml:2: empty command in [env.a]");
	expect_error("[env.a]\ncommand = []\n", "space.toml:2: empty command in [env.a]");
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error("[env.a]\ncommand = \"true\n", "space.toml:2: unterminated string");
	expect_error("[env.a]\ncommand = \"true\"\nallow = [\"process.limit=1\",\n",
		     "space.toml:3: unterminated array in the value of \"allow\"");
	expect_error("[env.a]\ncommand = \"true\"\nallow = [\"process.limit=1\"\n\n[env.b]\n",
		     "space.toml:3: unterminated array in the value of \"allow\": add the "
		     "closing ']' (line 5 starts a table)");
	expect_error("[env.a]\ncommand = \"true\" \"false\"\n",
		     "space.toml:2: unexpected text after the value of \"command\": "
		     "\"\"false\"\"");
	expect_error("[env.a]\ncommand \"true\"\n", "space.toml:2: expected '=' after \"command\"");
	expect_error("[env.a]\ncommand = true-ish\n",
		     "space.toml:2: invalid value true-ish for \"command\": put strings in quotes");
	expect_error("[env.a]\ncommand =\n", "space.toml:2: missing value after \"command =\"");
	expect_error("[env.a]\ncommand = {a = 1}\n", "inline tables");
	expect_error("[env.a]\ncommand = \"\"\"x\"\"\"\n", "multi-line strings");
	expect_error("[env.a]\ncommand = \"a\\qb\"\n",
		     "space.toml:2: unknown escape \"\\q\" in the value of \"command\"");
	expect_error("[env.a]\n\"command\" = \"x\"\n", "space.toml:2: quoted keys");
	expect_error("[env.a]\nallow = [\"a\" \"b\"]\n", "space.toml:2: expected ',' or ']'");
	expect_error("[env.a]\nallow = [\"a\", 5]\n",
		     "space.toml:2: expected a string in the array of \"allow\"");
	expect_error("[env.a]\nallow = [[\"a\"]]\n", "expected a string in the array");
	expect_error("[env.a]\ncommand = \"x\"\n$ = 1\n",
		     "space.toml:3: expected KEY = VALUE or [env.NAME]");
	expect_error("[env.a]\nenv.x = \"1\"\n", "space.toml:2: dotted keys are not supported");
}

static void test_unknown_key(void **state)
{
	(void)state;
	expect_error("[env.db]\ncommand = \"db\"\n\n\ncomand = \"x\"\n",
		     "space.toml:5: unknown key \"comand\" in [env.db] (did you mean "
		     "\"command\"?)");
	expect_error("[env.db]\ntalk_to = []\n", "(did you mean \"talk-to\"?)");
	expect_error("[env.db]\nports = [\"80\"]\n",
		     "space.toml:2: unknown key \"ports\" in [env.db] (known keys: command, "
		     "allow, talk-to, publish");
	expect_error("[env.db]\nname = \"x\"\n",
		     "space.toml:2: name = \"...\" names the space and belongs at the top");
	expect_error("version = 2\n", "space.toml:1: unknown key \"version\" at the top");
	expect_error("command = \"x\"\n",
		     "space.toml:1: \"command\" belongs to an environment: put it after an "
		     "[env.NAME] header");
}

static void test_tables(void **state)
{
	(void)state;
	expect_error("[server]\n", "space.toml:1: unknown table [server]");
	expect_error("\n[env]\n", "space.toml:2: [env] needs a name");
	expect_error("[[env.a]]\n", "space.toml:1: arrays of tables");
	expect_error("[env.a\ncommand = \"x\"\n", "space.toml:1: missing ']'");
	expect_error("[env.Web]\n", "space.toml:1: invalid environment name \"Web\"");
	expect_error("[env.1x]\n", "invalid environment name \"1x\"");
	expect_error("[env.a.b]\n", "invalid environment name \"a.b\"");
	expect_error("[env.\"a\"]\n", "quoted table names");
	expect_error("[env.a] x\n", "space.toml:1: unexpected text after [env.a]");
	expect_error("[env.abcdefghijklmnopqrstuvwxyz012345]\n", "at most 31 characters");
}

static void test_long_name_ok(void **state)
{
	struct ward_space s;

	(void)state;
	parse_ok(&s, "name = \"a-b-c0\"\n[env.abcdefghijklmnopqrstuvwxyz01234]\n"
		     "command = \"x\"\n");
	ward_space_free(&s);
}

static void test_duplicates(void **state)
{
	(void)state;
	expect_error("[env.a]\ncommand = \"x\"\ncommand = \"y\"\n",
		     "space.toml:3: duplicate key \"command\" in [env.a] (first set at line 2)");
	expect_error("[env.a]\ncommand = \"x\"\n[env.b]\ncommand = \"x\"\n[env.a]\n",
		     "space.toml:5: [env.a] appears twice (first at line 1)");
	expect_error("name = \"a\"\nname = \"b\"\n",
		     "space.toml:2: duplicate key \"name\" (first set at line 1)");
	expect_error("[env.a]\ncommand = \"x\"\nenv = [\"A=1\", \"B=2\",\n \"A=3\"]\n",
		     "space.toml:4: env item \"A=3\" in [env.a] sets A again (first at line 3)");
}

static void test_types(void **state)
{
	(void)state;
	expect_error("[env.a]\ncommand = \"x\"\nallow = \"network.listen=80\"\n",
		     "space.toml:3: \"allow\" in [env.a] takes an array of strings, not a string: "
		     "write allow = [\"network.listen=8080\"]");
	expect_error("[env.a]\ncommand = \"x\"\nwait-timeout = \"30\"\n",
		     "space.toml:3: \"wait-timeout\" in [env.a] takes an integer, not a string");
	expect_error(
		"[env.a]\ncommand = 5\n",
		"\"command\" in [env.a] takes a string or an array of strings, not an integer");
	expect_error("[env.a]\ncommand = \"x\"\nrootfs = true\n", "takes a string, not a boolean");
	expect_error("name = 3\n", "space.toml:1: name takes a string, not an integer");
	expect_error("name = \"Shop\"\n", "space.toml:1: invalid space name \"Shop\"");
}

static void test_values(void **state)
{
	(void)state;
	expect_error("[env.a]\ncommand = \"x\"\nwait = \"yes\"\n",
		     "space.toml:3: wait = \"yes\" in [env.a]: write \"listen\"");
	expect_error("[env.a]\ncommand = \"x\"\nwait-timeout = 0\n",
		     "space.toml:3: wait-timeout = 0 in [env.a]: write a number of seconds from 1 "
		     "to 3600");
	expect_error("[env.a]\ncommand = \"x\"\nwait-timeout = 3601\n", "from 1 to 3600");
	expect_error("[env.a]\ncommand = \"x\"\nwait-timeout = -5\n", "wait-timeout = -5");
	expect_error("[env.a]\ncommand = \"x\"\nwait-timeout = 1.5\n",
		     "space.toml:3: invalid number 1.5 for \"wait-timeout\"");
	expect_error("[env.a]\ncommand = \"x\"\nchdir = \"srv\"\n",
		     "space.toml:3: chdir \"srv\" in [env.a] must be absolute");
	expect_error("[env.a]\ncommand = \"x\"\nenv = [\"MODE\"]\n",
		     "space.toml:3: env item \"MODE\" in [env.a]: write KEY=VALUE");
	expect_error("[env.a]\ncommand = \"x\"\nenv = [\"1A=x\"]\n", "the variable name \"1A\"");
	expect_error("[env.a]\ncommand = \"x\"\nrootfs = \"\"\n", "space.toml:3: empty rootfs");
}

static void test_command_or_bundle(void **state)
{
	(void)state;
	expect_error("[env.a]\n\n[env.b]\ncommand = \"x\"\n",
		     "space.toml:1: [env.a] has no command: add command = \"...\"");
	expect_error("[env.a]\ncommand = \"x\"\nbundle = \"a.ward\"\n",
		     "space.toml:2: [env.a] sets both command and bundle");
	expect_error("[env.a]\nrootfs = \"r\"\nbundle = \"a.ward\"\n",
		     "space.toml:2: [env.a] sets both rootfs and bundle");
	expect_error("", "space.toml: no environments: add an [env.NAME] table");
	expect_error("name = \"x\"\n# nothing else\n", "no environments");
}

static void test_paths(void **state)
{
	struct ward_space s;
	ward_error_t err = NULL;
	const char *text = "[env.a]\nbundle = \"b.ward\"\n";

	(void)state;
	parse_ok(&s, "[env.a]\nrootfs = \"./r/fs\"\nmanifest = \"../a.ent\"\ncommand = \"x\"\n"
		     "[env.b]\nbundle = \"/opt/b.ward\"\n");
	assert_string_equal(s.envs[0].rootfs, "/srv/shop/r/fs");
	assert_string_equal(s.envs[0].manifest, "/srv/shop/../a.ent");
	assert_string_equal(s.envs[1].bundle, "/opt/b.ward");
	ward_space_free(&s);

	assert_int_equal(ward_space_parse(&s, "/space.toml", "/", text, strlen(text), &err), 0);
	assert_string_equal(s.envs[0].bundle, "/b.ward");
	ward_space_free(&s);
}

static void test_allow_errors(void **state)
{
	(void)state;
	expect_error("[env.a]\ncommand = \"x\"\nallow = [\n\"process.limit=8\",\n"
		     "\"netwrok.none\"]\n",
		     "space.toml:5: unknown entitlement \"netwrok.none\" (did you mean "
		     "\"network.none\"?)");
	expect_error("[env.a]\ncommand = \"x\"\nallow = [\"fs.read=relative\"]\n",
		     "space.toml:3: fs.read=relative: the path must be absolute");
	expect_error("[env.a]\ncommand = \"x\"\nallow = [\"network.listen=0\"]\n",
		     "space.toml:3: network.listen=0: the port must be a number from 1 to 65535");
	expect_error("[env.a]\ncommand = \"x\"\nallow = [\"\"]\n",
		     "space.toml:3: empty entitlement");
	expect_error(
		"[env.a]\ncommand = \"x\"\nallow = [\"network.none\",\n\"network.listen=80\"]\n",
		"space.toml:4: network.listen=80 conflicts with network.none (space.toml:3)");
}

static void test_listen_ports(void **state)
{
	struct ward_space s;

	(void)state;
	parse_ok(&s,
		 "[env.a]\ncommand = \"x\"\n"
		 "allow = [\"network.listen=8080\", \"network.listen=80\", \"network.listen=443\","
		 " \"network.listen=80\"]\n");
	assert_int_equal(s.envs[0].n_listen, 3);
	assert_int_equal(s.envs[0].listen[0], 80);
	assert_int_equal(s.envs[0].listen[1], 443);
	assert_int_equal(s.envs[0].listen[2], 8080);
	ward_space_free(&s);
}

static void test_talk_to_all_ports(void **state)
{
	struct ward_space s;
	const struct ward_space_env *web;

	(void)state;
	/* web is declared first but connects to db: db starts first. */
	parse_ok(&s, "[env.web]\ncommand = \"x\"\n"
		     "allow = [\"network.connect=db:6379\"]\n"
		     "talk-to = [\"db\"]\n"
		     "[env.db]\ncommand = \"y\"\n"
		     "allow = [\"network.listen=6379\", \"network.listen=5432\"]\n");
	web = &s.envs[0];
	/* db:6379 is already allowed: only db:5432 is added. */
	assert_int_equal(web->n_allow, 2);
	assert_string_equal(web->allow[0].text, "network.connect=db:6379");
	assert_int_equal(web->allow[0].line, 3);
	assert_string_equal(web->allow[1].text, "network.connect=db:5432");
	assert_int_equal(web->allow[1].line, 4);
	assert_int_equal(web->n_deps, 1);
	assert_int_equal(web->deps[0], 1);
	assert_int_equal(s.order[0], 1);
	assert_int_equal(s.order[1], 0);
	ward_space_free(&s);
}

static void test_talk_to_errors(void **state)
{
	(void)state;
	expect_error(
		"[env.web]\ncommand = \"x\"\ntalk-to = [\"cache\"]\n[env.db]\ncommand = \"y\"\n",
		"space.toml:3: talk-to \"cache\" in [env.web]: there is no [env.cache] in this "
		"space (environments: web, db)");
	expect_error("[env.web]\ncommand = \"x\"\ntalk-to = [\"db:22\"]\n"
		     "[env.db]\ncommand = \"y\"\nallow = [\"network.listen=5432\"]\n",
		     "space.toml:3: talk-to \"db:22\" in [env.web]: db does not listen on 22 (its "
		     "network.listen ports: 5432); add network.listen=22 to [env.db] or fix the "
		     "port");
	expect_error("[env.web]\ncommand = \"x\"\ntalk-to = [\"db\"]\n[env.db]\ncommand = \"y\"\n",
		     "space.toml:3: talk-to \"db\" in [env.web]: db does not listen on any port");
	expect_error("[env.web]\ncommand = \"x\"\ntalk-to = [\"db:http\"]\n[env.db]\n"
		     "command = \"y\"\n",
		     "space.toml:3: talk-to \"db:http\" in [env.web]: the port is a number");
	expect_error("[env.web]\ncommand = \"x\"\nallow = [\"network.listen=80\"]\n"
		     "talk-to = [\"web:80\"]\n",
		     "space.toml:4: talk-to \"web:80\" in [env.web]: an environment does not talk "
		     "to itself");
	expect_error("[env.web]\ncommand = \"x\"\ntalk-to = [\"\"]\n",
		     "space.toml:3: talk-to \"\"");
}

static void test_connect_peers(void **state)
{
	struct ward_space s;

	(void)state;
	/* Outside hosts are not checked and make no dependency. */
	parse_ok(&s,
		 "[env.web]\ncommand = \"x\"\n"
		 "allow = [\"network.connect=10.0.0.7:443\", \"network.connect=example.org:80\","
		 " \"network.connect=db:5432\"]\n"
		 "[env.db]\ncommand = \"y\"\nallow = [\"network.listen=5432\"]\n");
	assert_int_equal(s.envs[0].n_allow, 3);
	assert_int_equal(s.envs[0].n_deps, 1);
	assert_int_equal(s.envs[0].deps[0], 1);
	ward_space_free(&s);

	expect_error("[env.web]\ncommand = \"x\"\n\nallow = [\"network.connect=db:22\"]\n"
		     "[env.db]\ncommand = \"y\"\nallow = [\"network.listen=5432\", "
		     "\"network.listen=6379\"]\n",
		     "space.toml:4: network.connect=db:22 in [env.web]: db does not listen on 22 "
		     "(its network.listen ports: 5432, 6379); add network.listen=22 to [env.db]");
	expect_error("[env.web]\ncommand = \"x\"\n"
		     "allow = [\"network.listen=80\", \"network.connect=web:80\"]\n",
		     "space.toml:3: network.connect=web:80 in [env.web]: an environment does not "
		     "connect to itself");
}

static void test_cycle(void **state)
{
	(void)state;
	expect_error("[env.web]\n"			       /* 1 */
		     "command = \"srv\"\n"		       /* 2 */
		     "allow = [\"network.listen=80\"]\n"       /* 3 */
		     "talk-to = [\"db\"]\n"		       /* 4 */
		     "\n"				       /* 5 */
		     "[env.db]\n"			       /* 6 */
		     "command = \"db\"\n"		       /* 7 */
		     "allow = [\"network.listen=5432\",\n"     /* 8 */
		     "         \"network.connect=web:80\"]\n", /* 9 */
		     "space.toml:4: [env.web] and [env.db] connect to each other (web -> db at "
		     "line 4, db -> web at line 9); ward up must start one before the other");
	expect_error("[env.a]\ncommand = \"x\"\nallow = [\"network.listen=1\"]\ntalk-to = [\"b\"]\n"
		     "[env.b]\ncommand = \"x\"\nallow = [\"network.listen=2\"]\ntalk-to = [\"c\"]\n"
		     "[env.c]\ncommand = \"x\"\nallow = [\"network.listen=3\"]\ntalk-to = [\"a\"]\n"
		     "[env.d]\ncommand = \"x\"\n",
		     "space.toml:4: [env.a], [env.b] and [env.c] connect in a cycle (a -> b at "
		     "line 4, b -> c at line 8, c -> a at line 12)");
}

static void test_order_ties(void **state)
{
	struct ward_space s;

	(void)state;
	parse_ok(&s, "[env.a]\ncommand = \"x\"\nallow = [\"network.listen=1\"]\ntalk-to = [\"c\"]\n"
		     "[env.b]\ncommand = \"x\"\n"
		     "[env.c]\ncommand = \"x\"\nallow = [\"network.listen=3\"]\n"
		     "[env.d]\ncommand = \"x\"\ntalk-to = [\"a:1\", \"c:3\"]\n");
	assert_int_equal(s.envs[0].n_deps, 1);
	assert_int_equal(s.envs[0].deps[0], 2);
	assert_int_equal(s.envs[3].n_deps, 2);
	assert_int_equal(s.envs[3].deps[0], 0);
	assert_int_equal(s.envs[3].deps[1], 2);
	assert_int_equal(s.order[0], 1); /* b: the first one ready */
	assert_int_equal(s.order[1], 2); /* c */
	assert_int_equal(s.order[2], 0); /* a, after c */
	assert_int_equal(s.order[3], 3); /* d, after a and c */
	ward_space_free(&s);
}

static void test_publish(void **state)
{
	struct ward_space s;

	(void)state;
	parse_ok(&s, "[env.a]\ncommand = \"x\"\nallow = [\"network.listen=80\"]\n"
		     "publish = [\"8080:80\", \"8443:80\"]\n");
	assert_int_equal(s.envs[0].n_publish, 2);
	assert_string_equal(s.envs[0].publish[1].text, "8443:80");
	ward_space_free(&s);

	expect_error("[env.a]\ncommand = \"x\"\nallow = [\"network.listen=80\"]\n"
		     "publish = [\"8080:81\"]\n",
		     "space.toml:4: publish \"8080:81\" in [env.a]: a does not listen on 81 (its "
		     "network.listen ports: 80); add network.listen=81");
	expect_error("[env.a]\ncommand = \"x\"\npublish = [\"8080:81\"]\n",
		     "(its network.listen ports: none); add network.listen=81");
	expect_error("[env.a]\ncommand = \"x\"\npublish = [\"8080\"]\n",
		     "space.toml:3: publish \"8080\" in [env.a]: write HOSTPORT:PORT");
	expect_error("[env.a]\ncommand = \"x\"\npublish = [\"70000:80\"]\n",
		     "space.toml:3: publish \"70000:80\" in [env.a]: ports are numbers from 1 to "
		     "65535");
	expect_error("[env.a]\ncommand = \"x\"\npublish = [\"0:80\"]\n", "ports are numbers");
	expect_error("[env.a]\ncommand = \"x\"\nallow = [\"network.listen=80\"]\n"
		     "publish = [\"8080:80\"]\n"
		     "[env.b]\ncommand = \"x\"\nallow = [\"network.listen=81\"]\n"
		     "publish = [\n\"9000:81\",\n\"8080:81\"]\n",
		     "space.toml:10: host port 8080 is published twice (by [env.a] at line 4 and "
		     "by [env.b] here); choose another host port");
}

static void test_wait_listen(void **state)
{
	(void)state;
	expect_error("[env.a]\ncommand = \"x\"\nwait = \"listen\"\n",
		     "space.toml:3: wait = \"listen\" in [env.a], but it listens on no port");
}

static void test_nul_and_size(void **state)
{
	struct ward_space s;
	ward_error_t err = NULL;
	const char text[] = "[env.a]\ncommand = \"x\0\"\n";
	char *big;

	(void)state;
	assert_int_equal(ward_space_parse(&s, "space.toml", "/srv", text, sizeof(text) - 1, &err),
			 -1);
	assert_non_null(strstr(err->msg, "space.toml:2: NUL byte"));
	ward_error_free(&err);

	big = calloc(1, (1u << 20) + 2);
	assert_non_null(big);
	memset(big, '#', (1u << 20) + 1);
	assert_int_equal(ward_space_parse(&s, "space.toml", "/srv", big, (1u << 20) + 1, &err), -1);
	assert_non_null(strstr(err->msg, "space.toml: larger than"));
	ward_error_free(&err);
	free(big);
}

static void test_load(void **state)
{
	char tmpl[] = "/tmp/ward-space-XXXXXX";
	char real[PATH_MAX], *dir, *file, *sub;
	FILE *f;
	struct ward_space s;
	ward_error_t err = NULL;
	const char *text = "[env.web]\ncommand = \"./srv\"\nrootfs = \"rootfs\"\n";

	(void)state;
	dir = mkdtemp(tmpl);
	assert_non_null(dir);
	assert_non_null(realpath(dir, real));
	file = ward_xasprintf("%s/shop.toml", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	sub = ward_xasprintf("%s/rootfs", real);
	assert_int_equal(mkdir(sub, 0755), 0);
	free(sub);

	assert_int_equal(ward_space_load(&s, file, &err), 0);
	assert_string_equal(s.name, "shop");
	assert_string_equal(s.path, file);
	assert_string_equal(s.dir, real);
	sub = ward_xasprintf("%s/rootfs", real);
	assert_string_equal(s.envs[0].rootfs, sub);
	free(sub);
	ward_space_free(&s);

	/* Errors name the file. */
	assert_int_equal(ward_space_load(&s, dir, &err), -1);
	assert_non_null(strstr(err->msg, "is a directory"));
	ward_error_free(&err);
	unlink(file);
	assert_int_equal(ward_space_load(&s, file, &err), -1);
	assert_non_null(strstr(err->msg, file));
	assert_non_null(strstr(err->msg, "does not exist"));
	ward_error_free(&err);
	assert_null(s.envs);

	free(file);
	sub = ward_xasprintf("%s/rootfs", real);
	rmdir(sub);
	free(sub);
	rmdir(dir);
}

static char *write_tmp(const char *dir, const char *name, const char *text)
{
	char *path = ward_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* ward_space_load reads a manifest itself, once: its entitlements join
 * allow (with their origin), and the checks see them. */
static void test_load_manifest(void **state)
{
	char tmpl[] = "/tmp/ward-space-XXXXXX";
	char *dir, *file, *ent, *link;
	struct ward_space s;
	ward_error_t err = NULL;

	(void)state;
	dir = mkdtemp(tmpl);
	assert_non_null(dir);
	ent = write_tmp(dir, "db.ent", "# db\nnetwork.listen=5432\nprocess.limit=64\n");
	file = write_tmp(dir, "shop.toml",
			 "[env.db]\ncommand = \"x\"\nmanifest = \"db.ent\"\n"
			 "[env.web]\ncommand = \"y\"\ntalk-to = [\"db:5432\"]\n");
	assert_int_equal(ward_space_load(&s, file, &err), 0);
	assert_true(s.envs[0].manifest_read);
	assert_int_equal(s.envs[0].n_allow, 2);
	assert_string_equal(s.envs[0].allow[0].text, "network.listen=5432");
	assert_int_equal(s.envs[0].allow[0].line, 3);
	assert_string_equal(s.envs[0].allow[1].text, "process.limit=64");
	assert_int_equal(s.envs[0].n_listen, 1);
	ward_space_free(&s);
	/* The pure parser reads nothing: talk-to finds no listen port. */
	assert_int_equal(ward_space_read(&s, file, false, &err), -1);
	assert_non_null(strstr(err->msg, "db does not listen on any port"));
	ward_error_free(&err);
	free(file);

	/* A manifest's error names the manifest's line, escaped. */
	unlink(ent);
	free(ent);
	ent = write_tmp(dir, "db.ent", "network.none\nNet\033]0;X\007work\n");
	file = write_tmp(dir, "shop.toml", "[env.db]\ncommand = \"x\"\nmanifest = \"db.ent\"\n");
	assert_int_equal(ward_space_load(&s, file, &err), -1);
	assert_non_null(strstr(err->msg, "db.ent:2: "));
	assert_non_null(strstr(err->msg, "\\x1b]0;X\\x07"));
	assert_null(strchr(err->msg, '\033'));
	ward_error_free(&err);
	free(file);

	/* No symbolic link in what a space file names. */
	link = ward_xasprintf("%s/link.ent", dir);
	assert_int_equal(symlink(ent, link), 0);
	file = write_tmp(dir, "shop.toml", "[env.db]\ncommand = \"x\"\nmanifest = \"link.ent\"\n");
	assert_int_equal(ward_space_load(&s, file, &err), -1);
	assert_non_null(strstr(err->msg, "shop.toml:3: manifest"));
	assert_non_null(strstr(err->msg, "goes through a symbolic link"));
	ward_error_free(&err);
	unlink(file);
	free(file);
	file = write_tmp(dir, "shop.toml", "[env.db]\ncommand = \"x\"\nrootfs = \"nope\"\n");
	assert_int_equal(ward_space_load(&s, file, &err), -1);
	assert_non_null(strstr(err->msg, "shop.toml:3: rootfs"));
	assert_non_null(strstr(err->msg, "does not exist"));
	ward_error_free(&err);
	/* ward down only needs the name. */
	assert_int_equal(ward_space_read(&s, file, false, &err), 0);
	ward_space_free(&s);

	unlink(file);
	unlink(link);
	unlink(ent);
	free(file);
	free(link);
	free(ent);
	rmdir(dir);
}

/* Messages quote the space file's text escaped: one line, no control
 * character, no override. */
static void test_messages_escaped(void **state)
{
	(void)state;
	expect_error("[env.a]\ncommand = \033[2J\n", "\\x1b[2J");
	expect_error("[env.\033[2J\007]\ncommand = \"x\"\n",
		     "invalid environment name \"\\x1b[2J\\x07\"");
	expect_error("[env.a]\ncommand = \"x\"\npublish = [\"\xe2\x80\xae"
		     "80:80\"]\n",
		     "\\xe2\\x80\\xae80:80");
	expect_error("[env.a]\ncommand = \"x\"\nallow = [\"fs.read=/a\xe2\x80\xae\"]\n",
		     "plain text");
	expect_error("[env.a]\ncommand = \"x\"\nenv = [\"A\xff=1\"]\n", "\\xff");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_load_manifest),
		cmocka_unit_test(test_messages_escaped),
		cmocka_unit_test(test_default_name),
		cmocka_unit_test(test_array_multiline),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_command_split),
		cmocka_unit_test(test_command_shell),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_long_name_ok),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_command_or_bundle),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_allow_errors),
		cmocka_unit_test(test_listen_ports),
		cmocka_unit_test(test_talk_to_all_ports),
		cmocka_unit_test(test_talk_to_errors),
		cmocka_unit_test(test_connect_peers),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_order_ties),
		cmocka_unit_test(test_publish),
		cmocka_unit_test(test_wait_listen),
		cmocka_unit_test(test_nul_and_size),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
