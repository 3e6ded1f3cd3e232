// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl clone, the pure half (clone-plan.c): refusals, layer names,
 * chains, the copy's argv, which layers a destroy frees. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/clone-plan.h"
#include "vmctl/xalloc.h"

static char *check(struct clone_source s, const char *dst, bool exists,
		   bool linked)
{
	struct vmctl_error *e = NULL;
	char *out;

	s.name = "src";
	if (clone_plan_check(&s, dst, exists, linked, &e) == 0)
		return xstrdup("ok");
	out = xasprintf("%d %s", e->status, e->message);
	vmctl_error_free(e);
	return out;
}

static void test_rules(void)
{
	struct {
		struct clone_source s;
		const char *dst;
		bool exists, linked;
		const char *want;
	} c[] = {
		{ { .state = VM_STOPPED, .has_disk = true }, "dst", false, false, "ok" },
		{ { .state = VM_STOPPED, .has_disk = true }, "dst", false, true, "ok" },
		{ { .state = VM_CRASHED, .has_disk = true }, "dst", false, true, "ok" },
		{ { .state = VM_STOPPED }, "dst", false, false, "ok" },
		{ { .state = VM_STOPPED }, "bad/name", false, false, "64 invalid VM name \"bad/name\"" },
		{ { .state = VM_STOPPED }, "", false, false, "64 invalid VM name \"\"" },
		{ { .state = VM_STOPPED }, "src", true, false, "64 a clone needs a name of its own (src is the source)" },
		{ { .state = VM_STOPPED }, "dst", true, false, "1 a VM named \"dst\" already exists" },
		{ { .state = VM_RUNNING, .has_disk = true }, "dst", false, false, "1 VM src is running: stop it first (a clone copies a disk nothing is writing)" },
		{ { .state = VM_SAVED, .has_disk = true }, "dst", false, false, "1 VM src holds a saved state (its RAM in its disk): start it and stop it before cloning" },
		{ { .state = VM_STOPPED, .saved = true, .has_disk = true }, "dst", false, true, "1 VM src holds a saved state (its RAM in its disk): start it and stop it before cloning" },
		{ { .state = VM_CREATING }, "dst", false, false, "1 VM src is being created" },
		{ { .state = VM_INCOMPLETE }, "dst", false, false, "1 VM src was never finished (destroy it or create it again)" },
		{ { .state = VM_STOPPED }, "dst", false, true, "1 VM src has no disk image to share: a linked clone stands on its disk (make a full clone)" },
		{ { .state = VM_STOPPED, .has_disk = true, .n_snapshots = 1 }, "dst", false, true, "1 VM src has 1 snapshot: a linked clone freezes its disk as a shared layer, snapshots and all (delete them, or make a full clone)" },
		{ { .state = VM_STOPPED, .has_disk = true, .n_snapshots = 2 }, "dst", false, false, "ok" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *got = check(c[i].s, c[i].dst, c[i].exists, c[i].linked);

		is_str(got, c[i].want, "rule %zu", i);
		free(got);
	}
}

static void test_names_chains(void)
{
	const unsigned char rnd[4] = { 0x01, 0xab, 0x00, 0xff };
	struct strv src = { 0 }, chain = { 0 };
	char *name = clone_layer_name("web", rnd), *s;

	is_str(name, "web-01ab00ff.qcow2", "layer name");
	free(name);
	clone_linked_chain("/s/layers/b", &src, &chain);
	s = strv_join(&chain, " ");
	is_str(s, "/s/layers/b", "first linked clone: one layer");
	free(s);
	strv_clear(&chain);
	strv_push(&src, "/s/layers/a");
	clone_linked_chain("/s/layers/b", &src, &chain);
	s = strv_join(&chain, " ");
	is_str(s, "/s/layers/b /s/layers/a", "clone of a clone: new layer on top");
	free(s);
	strv_clear(&chain);
	strv_clear(&src);
}

static void test_rebase(void)
{
	struct strv argv = { 0 };
	char *s;

	clone_rebase_argv("/v/b/disk.qcow2", "/i/sha256-x", "raw", false,
			  &argv);
	s = strv_join(&argv, " ");
	is_str(s, "qemu-img rebase -f qcow2 -b /i/sha256-x -F raw "
	       "/v/b/disk.qcow2", "rebase argv (safe mode: no -u)");
	free(s);
	strv_clear(&argv);
	clone_rebase_argv("a", "b", "qcow2", true, &argv);
	ok(argv.n > 2 && strcmp(argv.v[2], "-p") == 0, "progress: -p");
	strv_clear(&argv);
}

static void test_unused(void)
{
	struct strv chain = { 0 }, in_use = { 0 }, out = { 0 };
	char *s;

	strv_push(&chain, "L2");
	strv_push(&chain, "L1");
	clone_layers_unused(&chain, &in_use, &out);
	s = strv_join(&out, " ");
	is_str(s, "L2 L1", "nobody left: every layer goes");
	free(s);
	strv_clear(&out);
	strv_push(&in_use, "L1");
	clone_layers_unused(&chain, &in_use, &out);
	s = strv_join(&out, " ");
	is_str(s, "L2", "another VM on L1 keeps it");
	free(s);
	strv_clear(&out);
	strv_push(&in_use, "L2");
	clone_layers_unused(&chain, &in_use, &out);
	ok(out.n == 0, "both in use: nothing goes");
	strv_clear(&out);
	strv_clear(&chain);
	strv_clear(&in_use);
}

int main(void)
{
	test_rules();
	test_names_chains();
	test_rebase();
	test_unused();
	return tap_done();
}
