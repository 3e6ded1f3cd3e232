// SPDX-License-Identifier: GPL-2.0-or-later
/* Host settings (hostconf.c): the reserve's syntax and arithmetic,
 * host.json's parsing, and read/write in a temporary state dir. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"
#include "vmctl/broker.h"
#include "vmctl/fsutil.h"
#include "vmctl/hostconf.h"
#include "vmctl/xalloc.h"

#define GiB (UINT64_C(1) << 30)
#define MiB (UINT64_C(1) << 20)

static void test_syntax(void)
{
	static const char *const bad[] = {
		"-1", "95%", "91%", "abc", "4X", "", "4", "%", "15 %", "15%%",
		"1.5%", "4G ", "Default", "0x10G", "1000%", "-5%",
	};
	static const struct {
		const char *in, *out;
	} round[] = {
		{ "4G", "4G" }, { "4096M", "4G" }, { "1536M", "1536M" },
		{ "2T", "2T" }, { "512K", "512K" }, { "0G", "0G" },
		{ "15%", "15%" }, { "0%", "0%" }, { "90%", "90%" },
		{ "default", "default" }, { "4GiB", "4G" },
	};
	struct hostconf_reserve r;

	ok(hostconf_reserve_parse("4G", &r) == 0 &&
	   r.kind == HOSTCONF_RESERVE_BYTES && r.value == 4 * GiB, "4G");
	ok(hostconf_reserve_parse("15%", &r) == 0 &&
	   r.kind == HOSTCONF_RESERVE_PERCENT && r.value == 15, "15%%");
	ok(hostconf_reserve_parse("default", &r) == 0 &&
	   r.kind == HOSTCONF_RESERVE_DEFAULT, "default");
	ok(hostconf_reserve_parse("90%", &r) == 0 && r.value == 90,
	   "90%% is the most");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(hostconf_reserve_parse(bad[i], &r) < 0, "refused: \"%s\"",
		   bad[i]);
	for (size_t i = 0; i < sizeof(round) / sizeof(round[0]); i++) {
		char *s;

		ok(hostconf_reserve_parse(round[i].in, &r) == 0, "parse %s",
		   round[i].in);
		s = hostconf_reserve_format(&r);
		is_str(s, round[i].out, "format %s", round[i].in);
		free(s);
	}
	is_str(hostconf_source_name(HOSTCONF_FROM_DEFAULT), "default",
	       "source default");
	is_str(hostconf_source_name(HOSTCONF_FROM_FILE), "file",
	       "source file");
	is_str(hostconf_source_name(HOSTCONF_FROM_ENV), "env", "source env");
}

static uint64_t reserve_of(enum hostconf_reserve_kind kind, uint64_t v,
			   uint64_t total)
{
	struct hostconf c = { .reserve = { kind, v } };

	return hostconf_reserve(&c, total);
}

static void test_arithmetic(void)
{
	ok(reserve_of(HOSTCONF_RESERVE_DEFAULT, 0, 256 * GiB) ==
	   broker_reserve_default(256 * GiB) &&
	   reserve_of(HOSTCONF_RESERVE_DEFAULT, 0, 256 * GiB) ==
	   256 * GiB / 10, "default: 10 %% of 256 GiB");
	ok(reserve_of(HOSTCONF_RESERVE_DEFAULT, 0, 8 * GiB) == 2 * GiB,
	   "default: at least 2 GiB");
	ok(reserve_of(HOSTCONF_RESERVE_DEFAULT, 0, 1 * GiB) == 1 * GiB,
	   "default: never more than total");
	ok(reserve_of(HOSTCONF_RESERVE_BYTES, 4 * GiB, 256 * GiB) == 4 * GiB,
	   "4G of 256 GiB");
	ok(reserve_of(HOSTCONF_RESERVE_BYTES, 4 * GiB, 3 * GiB) == 3 * GiB,
	   "4G of 3 GiB: all of it, no more");
	ok(reserve_of(HOSTCONF_RESERVE_BYTES, 0, 3 * GiB) == 0, "0G: none");
	ok(reserve_of(HOSTCONF_RESERVE_PERCENT, 15, 100 * GiB) ==
	   15 * GiB, "15%% of 100 GiB");
	ok(reserve_of(HOSTCONF_RESERVE_PERCENT, 15, 1000) == 150,
	   "15%% of 1000 bytes");
	ok(reserve_of(HOSTCONF_RESERVE_PERCENT, 15, 999) == 149,
	   "15%% of 999 bytes rounds down");
	ok(reserve_of(HOSTCONF_RESERVE_PERCENT, 0, 64 * GiB) == 0,
	   "0%%: none");
	ok(reserve_of(HOSTCONF_RESERVE_PERCENT, 90, UINT64_MAX) ==
	   UINT64_MAX / 100 * 90 + UINT64_MAX % 100 * 90 / 100,
	   "90%% of the largest total: no overflow");
	ok(reserve_of(HOSTCONF_RESERVE_PERCENT, 250, 8 * GiB) == 8 * GiB,
	   "a share above 100 %% (hand-made): never more than total");
	ok(reserve_of(HOSTCONF_RESERVE_PERCENT, 50, 0) == 0 &&
	   reserve_of(HOSTCONF_RESERVE_BYTES, GiB, 0) == 0,
	   "no RAM: no reserve");
}

static int parse(const char *text, struct hostconf *c, char **msg)
{
	struct vmctl_error *err = NULL;
	int ret = hostconf_parse(text, strlen(text), "S/host.json", c, &err);

	*msg = err ? xstrdup(err->message) : NULL;
	vmctl_error_free(err);
	return ret;
}

static void test_parse(void)
{
	struct hostconf c;
	char *msg;

	ok(parse("{}", &c, &msg) == 0 &&
	   c.reserve.kind == HOSTCONF_RESERVE_DEFAULT &&
	   c.reserve_from == HOSTCONF_FROM_DEFAULT, "{}: the default");
	ok(parse("{\"reserve\": \"15%\", \"later\": [1]}", &c, &msg) == 0 &&
	   c.reserve.kind == HOSTCONF_RESERVE_PERCENT &&
	   c.reserve.value == 15 && c.reserve_from == HOSTCONF_FROM_FILE,
	   "15%% from the file, other keys ignored");
	ok(parse("{\"reserve\": \"95%\"}", &c, &msg) < 0 && msg &&
	   strstr(msg, "S/host.json: reserve: \"95%\"") != NULL,
	   "95%%: an error naming the file and the value");
	free(msg);
	ok(parse("{\"reserve\": 4}", &c, &msg) < 0 && msg &&
	   strstr(msg, "S/host.json") != NULL, "a number: an error");
	free(msg);
	ok(parse("[1]", &c, &msg) < 0 && msg &&
	   strstr(msg, "S/host.json: not a JSON object") != NULL,
	   "not an object");
	free(msg);
	ok(parse("{\"reserve\": \"4G\"", &c, &msg) < 0 && msg != NULL,
	   "truncated JSON");
	free(msg);
}

/* read and write in a temporary state dir, the environment over it */
static void test_state(void)
{
	static const char other[] = "{\"other\": true, \"reserve\": \"1G\"}";
	char dir[] = "/tmp/vmctl-test-hostconf.XXXXXX";
	struct vmctl_env env = { 0 };
	struct vmctl_error *err = NULL;
	struct hostconf c;
	struct hostconf_reserve r;
	char *path, *text = NULL;
	size_t len;

	ok(mkdtemp(dir) != NULL, "temp dir");
	env.state_dir = xasprintf("%s/state", dir);
	ok(hostconf_read(&env, &c, &err) == 0 &&
	   c.reserve.kind == HOSTCONF_RESERVE_DEFAULT &&
	   c.reserve_from == HOSTCONF_FROM_DEFAULT,
	   "no state dir, no file: the default");

	hostconf_reserve_parse("4G", &r);
	ok(hostconf_write_reserve(&env, &r, &err) == 0, "write 4G");
	ok(hostconf_read(&env, &c, &err) == 0 &&
	   c.reserve.kind == HOSTCONF_RESERVE_BYTES &&
	   c.reserve.value == 4 * GiB && c.reserve_from == HOSTCONF_FROM_FILE,
	   "read 4G back");

	path = hostconf_path(&env);
	fs_write_atomic(env.state_dir, HOSTCONF_FILE, other, strlen(other),
			0644, &err);
	hostconf_reserve_parse("15%", &r);
	ok(hostconf_write_reserve(&env, &r, &err) == 0, "write 15%%");
	ok(fs_read_file(path, 4096, &text, &len, 1, &err) == 0 &&
	   strstr(text, "\"other\"") != NULL &&
	   strstr(text, "\"15%\"") != NULL, "other keys kept");
	free(text);

	env.host_reserve = xstrdup("8G");
	ok(hostconf_read(&env, &c, &err) == 0 &&
	   c.reserve.kind == HOSTCONF_RESERVE_BYTES &&
	   c.reserve.value == 8 * GiB && c.reserve_from == HOSTCONF_FROM_ENV,
	   "VMCTL_HOST_RESERVE over the file");
	free(env.host_reserve);
	env.host_reserve = xstrdup("95%");
	ok(hostconf_read(&env, &c, &err) < 0 && err &&
	   err->status == VMCTL_EXIT_USAGE &&
	   strstr(err->message, "VMCTL_HOST_RESERVE") != NULL,
	   "a bad VMCTL_HOST_RESERVE: a usage error naming it");
	vmctl_error_free(err);
	err = NULL;
	free(env.host_reserve);
	env.host_reserve = NULL;

	hostconf_reserve_parse("default", &r);
	ok(hostconf_write_reserve(&env, &r, &err) == 0 &&
	   hostconf_read(&env, &c, &err) == 0 &&
	   c.reserve_from == HOSTCONF_FROM_DEFAULT, "default removes it");

	fs_write_atomic(env.state_dir, HOSTCONF_FILE, "nonsense", 8, 0644,
			&err);
	ok(hostconf_read(&env, &c, &err) < 0 && err &&
	   strstr(err->message, path) != NULL, "malformed: error names it");
	vmctl_error_free(err);
	err = NULL;
	ok(hostconf_write_reserve(&env, &r, &err) < 0 && err,
	   "a malformed file is not overwritten");
	vmctl_error_free(err);
	err = NULL;

	free(path);
	fs_remove_tree(dir, &err);
	free(env.state_dir);
}

int main(void)
{
	test_syntax();
	test_arithmetic();
	test_parse();
	test_state();
	return tap_done();
}
