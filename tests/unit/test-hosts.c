// SPDX-License-Identifier: GPL-2.0-or-later
/* The hosts file (hosts.c): parsing, bad input located FILE:LINE:COL,
 * resolution of --connect NAME, a missing file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/hosts.h"
#include "vmctl/xalloc.h"

static void test_parse(void)
{
	static const char text[] =
		"# lab machines\n"
		"hosts:\n"
		"  gpu1: qemu+ssh://root@gpu1.lab/system\n"
		"  local: \"qemu:///system\"\n";
	static const char json[] =
		"{\"hosts\": {\"a.b-c_d\": \"qemu+tls://a/system\"}}";
	struct hosts h;
	struct vmctl_error *err = NULL;
	char *uri;

	ok(hosts_parse("h.yaml", text, strlen(text), &h, &err) == 0 &&
	   h.n == 2, "two hosts");
	is_str(hosts_lookup(&h, "gpu1"), "qemu+ssh://root@gpu1.lab/system",
	       "gpu1");
	is_str(hosts_lookup(&h, "local"), "qemu:///system", "local");
	ok(hosts_lookup(&h, "gpu2") == NULL, "no gpu2");
	ok(hosts_resolve(&h, "h.yaml", "gpu1", &uri, &err) == 0, "resolve");
	is_str(uri, "qemu+ssh://root@gpu1.lab/system", "name to URI");
	free(uri);
	ok(hosts_resolve(&h, "h.yaml", "qemu+ssh://gpu1/system", &uri,
			 &err) == 0, "a URI resolves");
	is_str(uri, "qemu+ssh://gpu1/system", "a URI as given");
	free(uri);
	ok(hosts_resolve(&h, "h.yaml", "gpu2", &uri, &err) < 0 && err &&
	   err->status == VMCTL_EXIT_USAGE && uri == NULL,
	   "unknown name: usage error");
	ok(err && strstr(err->message, "h.yaml") &&
	   strstr(err->message, "did you mean \"gpu1\""),
	   "names the file and the closest: %s", err ? err->message : "");
	vmctl_error_free(err);
	err = NULL;
	hosts_clear(&h);

	ok(hosts_parse("h.json", json, strlen(json), &h, &err) == 0 &&
	   h.n == 1, "JSON");
	is_str(hosts_lookup(&h, "a.b-c_d"), "qemu+tls://a/system", "JSON host");
	hosts_clear(&h);
	ok(hosts_parse("e", "", 0, &h, &err) == 0 && h.n == 0, "empty file");
	ok(hosts_parse("e", "hosts:\n", 7, &h, &err) == 0 && h.n == 0,
	   "hosts: null");
	hosts_clear(&h);
}

static void test_bad(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "host:\n  a: qemu:///system\n",
		  "f:1:1: host: unknown key (did you mean \"hosts\"?)" },
		{ "hosts:\n  a: qemu:///system\n  b: gpu1\n",
		  "f:3:6: hosts: b: \"gpu1\" is no URI" },
		{ "hosts:\n  a: qemu:///system\n  a: qemu:///session\n",
		  "f:3:3: hosts: a: named twice" },
		{ "hosts:\n  \"x:y\": qemu:///system\n",
		  "f:2:3: hosts: \"x:y\": a host name is" },
		{ "hosts:\n  - a\n", "f:2:3: hosts: expected a mapping" },
		{ "hosts:\n  a: [1]\n", "f:2:6: hosts: a: expected a URI string, "
		  "got a list" },
		{ "hosts:\n  a:\n", "f:2:5: hosts: a: expected a URI string, "
		  "got null" },
		{ "- a\n", "f:1:1: expected a mapping" },
		{ "hosts: {a: b\n", "f:" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hosts h;
		struct vmctl_error *err = NULL;
		int rc = hosts_parse("f", bad[i].text, strlen(bad[i].text), &h,
				     &err);

		ok(rc < 0 && err && err->located &&
		   err->status == VMCTL_EXIT_SPEC &&
		   strncmp(err->message, bad[i].want,
			   strlen(bad[i].want)) == 0 && h.n == 0,
		   "refused: %s", err ? err->message : "(accepted)");
		if (err && strncmp(err->message, bad[i].want,
				   strlen(bad[i].want)) != 0)
			printf("#   want: %s\n", bad[i].want);
		vmctl_error_free(err);
	}
}

static void test_missing(void)
{
	struct hosts h;
	struct vmctl_error *err = NULL;
	int missing = 0;

	ok(hosts_load_file("/nonexistent/vmctl/hosts.yaml", &h, &missing,
			   &err) == 0 && missing && h.n == 0,
	   "a missing file is no hosts");
	ok(hosts_load_file("/", &h, &missing, &err) < 0 && err != NULL,
	   "a directory is an error");
	vmctl_error_free(err);
}

int main(void)
{
	test_parse();
	test_bad();
	test_missing();
	return tap_done();
}
