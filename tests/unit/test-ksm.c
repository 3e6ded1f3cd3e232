// SPDX-License-Identifier: GPL-2.0-or-later
/* KSM (ksm.c): attribute parsing, the saving, plans of writes, and the
 * executor on a fake SYSFS/kernel/mm/ksm. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"
#include "vmctl/fsutil.h"
#include "vmctl/ksm.h"
#include "vmctl/xalloc.h"

static void test_parse(void)
{
	struct ksm_status st = { .merge_across_nodes = -1 };
	static const char *const bad[][2] = {
		{ "run", "3" }, { "run", "-1" }, { "run", "" }, { "run", "1x" },
		{ "run", " 1" }, { "merge_across_nodes", "2" },
		{ "pages_sharing", "0x10" },
		{ "pages_sharing", "99999999999999999999" },
		{ "advisor_mode", "1" }, { "use_zero_pages", "0" },
	};

	ok(ksm_status_set(&st, "run", "1") == 0 && st.run == KSM_RUNNING,
	   "run 1: running");
	ok(ksm_status_set(&st, "run", "2") == 0 && st.run == KSM_UNMERGING,
	   "run 2: unmerging");
	ok(ksm_status_set(&st, "run", "0") == 0 && st.run == KSM_STOPPED,
	   "run 0: stopped");
	ok(ksm_status_set(&st, "pages_sharing", "262144") == 0 &&
	   st.pages_sharing == 262144, "pages_sharing");
	ok(ksm_status_set(&st, "pages_shared", "4096") == 0 &&
	   st.pages_shared == 4096, "pages_shared");
	ok(ksm_status_set(&st, "pages_unshared", "7") == 0 &&
	   st.pages_unshared == 7 && ksm_status_set(&st, "pages_volatile",
						    "8") == 0 &&
	   st.pages_volatile == 8, "pages_unshared, pages_volatile");
	ok(ksm_status_set(&st, "full_scans", "37") == 0 &&
	   st.full_scans == 37 && ksm_status_set(&st, "sleep_millisecs",
						 "200") == 0 &&
	   st.sleep_millisecs == 200 && ksm_status_set(&st, "pages_to_scan",
						       "1000") == 0 &&
	   st.pages_to_scan == 1000, "full_scans, sleep_millisecs, "
	   "pages_to_scan");
	ok(st.merge_across_nodes == -1 &&
	   ksm_status_set(&st, "merge_across_nodes", "0") == 0 &&
	   st.merge_across_nodes == 0, "merge_across_nodes");
	ok(ksm_status_set(&st, "pages_sharing", "18446744073709551615") == 0 &&
	   st.pages_sharing == UINT64_MAX, "the largest counter");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(ksm_status_set(&st, bad[i][0], bad[i][1]) < 0,
		   "refused: %s = \"%s\"", bad[i][0], bad[i][1]);
	is_str(ksm_run_name(KSM_STOPPED), "stopped", "name of 0");
	is_str(ksm_run_name(KSM_RUNNING), "running", "name of 1");
	is_str(ksm_run_name(KSM_UNMERGING), "unmerging", "name of 2");

	st = (struct ksm_status){ .pages_sharing = 262144, .page_size = 4096 };
	ok(ksm_saved(&st) == UINT64_C(1) << 30, "saved: 262144 x 4 KiB");
	st.page_size = 65536;
	ok(ksm_saved(&st) == UINT64_C(16) << 30, "saved: 64 KiB pages");
}

static void test_plan(void)
{
	static const struct {
		enum ksm_run now;
		enum ksm_action action;
		const char *value;   /* NULL: nothing to write */
	} cases[] = {
		{ KSM_STOPPED, KSM_ON, "1" },
		{ KSM_RUNNING, KSM_ON, NULL },
		{ KSM_UNMERGING, KSM_ON, "1" },
		{ KSM_RUNNING, KSM_OFF, "0" },
		{ KSM_STOPPED, KSM_OFF, NULL },
		{ KSM_UNMERGING, KSM_OFF, "0" },
		{ KSM_RUNNING, KSM_UNMERGE, "2" },
		{ KSM_STOPPED, KSM_UNMERGE, "2" },
		{ KSM_UNMERGING, KSM_UNMERGE, NULL },
	};
	struct ksm_status st = { .pages_sharing = 1000, .page_size = 4096 };
	struct ksm_plan plan;
	char *text;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st.run = cases[i].now;
		ksm_plan_build(&st, cases[i].action, &plan);
		if (cases[i].value == NULL)
			ok(plan.n == 0, "case %zu: nothing to write", i);
		else
			ok(plan.n == 1 && strcmp(plan.v[0].attr, "run") == 0 &&
			   strcmp(plan.v[0].value, cases[i].value) == 0,
			   "case %zu: write %s to run", i, cases[i].value);
		ok(plan.from == cases[i].now, "case %zu: from", i);
		ksm_plan_clear(&plan);
	}

	st.run = KSM_RUNNING;
	ksm_plan_build(&st, KSM_UNMERGE, &plan);
	ok(plan.to == KSM_UNMERGING && plan.unmerge_bytes == 4096000,
	   "unmerge: the memory the merged pages take back");
	text = ksm_plan_render("/fake/sys", &plan);
	is_str(text, "# KSM: running -> unmerging\n"
	       "  write 2 > /fake/sys/kernel/mm/ksm/run\n", "render");
	free(text);
	ksm_plan_clear(&plan);
	ksm_plan_build(&st, KSM_OFF, &plan);
	ok(plan.unmerge_bytes == 0 && plan.to == KSM_STOPPED,
	   "off keeps the merged pages");
	ksm_plan_clear(&plan);
}

static char *slurp(const char *path)
{
	struct vmctl_error *err = NULL;
	char *text = NULL;
	size_t len;

	if (fs_read_file(path, 4096, &text, &len, 1, &err) < 0) {
		vmctl_error_free(err);
		return NULL;
	}
	return text;
}

/* The executor on a fake tree: read, switch, a missing directory. */
static void test_fake_tree(void)
{
	char root[] = "/tmp/vmctl-test-ksm.XXXXXX";
	struct vmctl_error *err = NULL;
	struct ksm_status st;
	struct ksm_plan plan;
	char *dir, *run, *got;

	ok(mkdtemp(root) != NULL, "temp dir");
	ok(ksm_read(root, &st, &err) < 0 && err != NULL &&
	   err->status == VMCTL_EXIT_UNAVAILABLE,
	   "no kernel/mm/ksm: unavailable (69)");
	vmctl_error_free(err);
	err = NULL;

	dir = xasprintf("%s/kernel/mm/ksm", root);
	ok(fs_mkdir_p(dir, 0755, &err) == 0, "mkdir");
	ok(ksm_read(root, &st, &err) < 0 && err != NULL &&
	   err->status != VMCTL_EXIT_OK, "no run file: an error");
	vmctl_error_free(err);
	err = NULL;
	ok(fs_write_atomic(dir, "run", "0\n", 2, 0644, &err) == 0 &&
	   fs_write_atomic(dir, "pages_sharing", "300\n", 4, 0644, &err) == 0,
	   "write the attributes");
	ok(ksm_read(root, &st, &err) == 0 && st.run == KSM_STOPPED &&
	   st.pages_sharing == 300 && st.pages_shared == 0 &&
	   st.merge_across_nodes == -1 && st.page_size > 0,
	   "read: absent counters 0, merge_across_nodes absent");

	ksm_plan_build(&st, KSM_ON, &plan);
	ok(ksm_apply(root, &plan, &err) == 0, "apply on");
	ksm_plan_clear(&plan);
	run = xasprintf("%s/run", dir);
	got = slurp(run);
	is_str(got, "1", "run is 1");
	free(got);

	ok(fs_write_atomic(dir, "pages_volatile", "x\n", 2, 0644, &err) == 0,
	   "a malformed counter");
	ok(ksm_read(root, &st, &err) < 0 && err != NULL &&
	   strstr(err->message, "pages_volatile") != NULL,
	   "malformed: an error naming the file");
	vmctl_error_free(err);
	err = NULL;

	fs_remove_tree(root, &err);
	free(run);
	free(dir);
}

int main(void)
{
	test_parse();
	test_plan();
	test_fake_tree();
	return tap_done();
}
