// SPDX-License-Identifier: GPL-2.0-or-later
/* When a VM is ready (guest-ready.c): --wait's argument and what
 * `cloud-init status --format json` answers. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/guest-ready.h"

static void test_wait_arg(void)
{
	static const struct {
		const char *arg;
		int ret;
		enum wait_until until;
		int timeout_s;
	} cases[] = {
		{ NULL, 0, WAIT_UNTIL_READY, WAIT_DEFAULT_S },
		{ "600", 0, WAIT_UNTIL_READY, 600 },
		{ "0", 0, WAIT_UNTIL_READY, 0 },
		{ "86400", 0, WAIT_UNTIL_READY, 86400 },
		{ "ready", 0, WAIT_UNTIL_READY, WAIT_DEFAULT_S },
		{ "ssh", 0, WAIT_UNTIL_SSH, WAIT_DEFAULT_S },
		{ "ssh,60", 0, WAIT_UNTIL_SSH, 60 },
		{ "ready,900", 0, WAIT_UNTIL_READY, 900 },
		{ "", -1, 0, 0 },
		{ "86401", -1, 0, 0 },
		{ "-5", -1, 0, 0 },
		{ "+5", -1, 0, 0 },
		{ "5s", -1, 0, 0 },
		{ "SSH", -1, 0, 0 },
		{ "ssh,", -1, 0, 0 },
		{ ",60", -1, 0, 0 },
		{ "boot,60", -1, 0, 0 },
		{ "ssh,60,1", -1, 0, 0 },
		{ "60,ssh", -1, 0, 0 },
		{ "ssh, 60", -1, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wait_arg w;
		const char *why = NULL;
		int ret = wait_arg_parse(cases[i].arg, &w, &why);

		if (cases[i].ret == 0)
			ok(ret == 0 && w.until == cases[i].until &&
			   w.timeout_s == cases[i].timeout_s,
			   "--wait=%s: until %d, %d s", cases[i].arg,
			   (int)w.until, w.timeout_s);
		else
			ok(ret == -1 && why != NULL && *why,
			   "--wait=%s refused: %s", cases[i].arg,
			   why ? why : "(no reason)");
	}
}

/* Debian 12's cloud-init 22.4.2: a runcmd that exited 1. */
static const char ci22_error[] =
	"{\n"
	"  \"_schema_version\": \"1\",\n"
	"  \"boot_status_code\": \"enabled-by-generator\",\n"
	"  \"datasource\": \"nocloud\",\n"
	"  \"detail\": \"('scripts-user', RuntimeError('Runparts: 1 failures "
	"(runcmd) in 1 attempted commands'))\",\n"
	"  \"errors\": [\n"
	"    \"('scripts-user', RuntimeError('Runparts: 1 failures (runcmd) "
	"in 1 attempted commands'))\"\n"
	"  ],\n"
	"  \"last_update\": \"Thu, 03 Dec 2026 13:40:02 +0000\",\n"
	"  \"schemas\": {\n"
	"    \"1\": {\n"
	"      \"boot_status_code\": \"enabled-by-generator\",\n"
	"      \"datasource\": \"nocloud\",\n"
	"      \"detail\": \"x\",\n"
	"      \"errors\": [],\n"
	"      \"last_update\": \"\",\n"
	"      \"status\": \"done\"\n"
	"    }\n"
	"  },\n"
	"  \"status\": \"error\"\n"
	"}\n";

/* A later release (24.x): done with recoverable errors, exit 2. */
static const char ci24_degraded[] =
	"{\n"
	"  \"boot_status_code\": \"enabled-by-generator\",\n"
	"  \"datasource\": \"nocloud\",\n"
	"  \"detail\": \"DataSourceNoCloud [seed=/dev/vdb]\",\n"
	"  \"errors\": [],\n"
	"  \"extended_status\": \"degraded done\",\n"
	"  \"recoverable_errors\": {\n"
	"    \"WARNING\": [\"Skipping module named x, no schema\"]\n"
	"  },\n"
	"  \"status\": \"done\"\n"
	"}\n";

static void test_ci_status(void)
{
	struct ci_status st;

	ci_status_parse(0, "{\"status\": \"done\", \"errors\": []}", "", &st);
	ok(st.state == CI_DONE && !st.degraded && st.errors.n == 0, "done");
	ci_status_clear(&st);
	ci_status_parse(0, "{\"status\": \"running\"}", "", &st);
	ok(st.state == CI_RUNNING, "running");
	ci_status_clear(&st);
	ci_status_parse(0, "{\"status\": \"not run\"}", "", &st);
	ok(st.state == CI_RUNNING, "22.4's not run: wait on");
	ci_status_clear(&st);
	ci_status_parse(0, "{\"status\": \"not started\"}", "", &st);
	ok(st.state == CI_RUNNING, "later releases' not started: wait on");
	ci_status_clear(&st);
	ci_status_parse(0, "{\"status\": \"disabled\"}", "", &st);
	ok(st.state == CI_DISABLED, "disabled");
	ci_status_clear(&st);

	ci_status_parse(1, ci22_error, "", &st);
	ok(st.state == CI_ERROR && st.errors.n == 1, "22.4 error: one line");
	is_str(st.errors.n ? st.errors.v[0] : NULL,
	       "('scripts-user', RuntimeError('Runparts: 1 failures (runcmd) "
	       "in 1 attempted commands'))", "cloud-init's own error line");
	ci_status_clear(&st);
	ci_status_parse(1, "{\"status\": \"error\", \"errors\": [], "
			"\"detail\": \"first\\nsecond\"}", "", &st);
	ok(st.state == CI_ERROR && st.errors.n == 2, "no errors: the detail");
	is_str(st.errors.n == 2 ? st.errors.v[1] : NULL, "second",
	       "the detail, line by line");
	ci_status_clear(&st);
	ci_status_parse(1, "{\"status\": \"error\", \"errors\": "
			"[\"bad \\u001b[31mred\"]}", "", &st);
	ok(st.state == CI_ERROR && st.errors.n == 1 &&
	   strchr(st.errors.v[0], 0x1b) == NULL,
	   "escape sequences in an error are made safe");
	ci_status_clear(&st);
	ci_status_parse(1, "{\"status\": \"error\"}", "", &st);
	ok(st.state == CI_ERROR && st.errors.n == 1, "an error without lines");
	ci_status_clear(&st);

	ci_status_parse(2, ci24_degraded, "", &st);
	ok(st.state == CI_DONE && st.degraded, "degraded done: ready, said");
	ci_status_clear(&st);
	ci_status_parse(0, "{\"status\": \"done\", \"recoverable_errors\": "
			"{\"WARNING\": [\"w\"]}}", "", &st);
	ok(st.state == CI_DONE && st.degraded, "recoverable errors listed");
	ci_status_clear(&st);

	ci_status_parse(127, "", "bash: line 1: cloud-init: command not found\n",
			&st);
	ok(st.state == CI_ABSENT, "no cloud-init command (127)");
	ci_status_clear(&st);
	ci_status_parse(255, "", "ssh: connect to host: Connection refused\n",
			&st);
	ok(st.state == CI_UNKNOWN, "ssh failed (255): ask again");
	ci_status_clear(&st);

	ci_status_parse(2, "", "usage: /usr/bin/cloud-init [-h]\n"
			"cloud-init: error: unrecognized arguments: --format\n",
			&st);
	ok(st.state == CI_BAD && st.errors.n == 1, "no JSON: bad");
	is_str(st.errors.n ? st.errors.v[0] : NULL,
	       "usage: /usr/bin/cloud-init [-h]", "its first line");
	ci_status_clear(&st);
	ci_status_parse(1, "Traceback", "", &st);
	ok(st.state == CI_BAD && st.errors.n == 1, "not JSON");
	ci_status_clear(&st);
	ci_status_parse(0, "{\"status\": \"dancing\"}", "", &st);
	ok(st.state == CI_BAD, "an unknown status");
	ci_status_clear(&st);
	ci_status_parse(0, "{\"errors\": []}", "", &st);
	ok(st.state == CI_BAD, "no status");
	ci_status_clear(&st);
	ci_status_parse(0, "[1, 2]", "", &st);
	ok(st.state == CI_BAD, "not an object");
	ci_status_clear(&st);
	ci_status_parse(0, "{\"status\": ", "", &st);
	ok(st.state == CI_BAD, "cut short");
	ci_status_clear(&st);
	ci_status_parse(0, "", "", &st);
	ok(st.state == CI_BAD && st.errors.n == 1, "nothing at all");
	ci_status_clear(&st);
}

int main(void)
{
	test_wait_arg();
	test_ci_status();
	return tap_done();
}
