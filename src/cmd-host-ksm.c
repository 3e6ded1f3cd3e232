// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl host ksm on | off [--unmerge] | status [--json]: kernel samepage
 * merging (ksm.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/broker.h"
#include "vmctl/cmd.h"
#include "vmctl/ksm.h"
#include "vmctl/view.h"
#include "vmctl/xalloc.h"

static cJSON *status_json(const struct ksm_status *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "run", st->run);
	cJSON_AddStringToObject(o, "state", ksm_run_name(st->run));
	cJSON_AddNumberToObject(o, "pages_shared", (double)st->pages_shared);
	cJSON_AddNumberToObject(o, "pages_sharing", (double)st->pages_sharing);
	cJSON_AddNumberToObject(o, "pages_unshared",
				(double)st->pages_unshared);
	cJSON_AddNumberToObject(o, "pages_volatile",
				(double)st->pages_volatile);
	cJSON_AddNumberToObject(o, "full_scans", (double)st->full_scans);
	cJSON_AddNumberToObject(o, "sleep_millisecs",
				(double)st->sleep_millisecs);
	cJSON_AddNumberToObject(o, "pages_to_scan", (double)st->pages_to_scan);
	if (st->merge_across_nodes >= 0)
		cJSON_AddNumberToObject(o, "merge_across_nodes",
					st->merge_across_nodes);
	else
		cJSON_AddNullToObject(o, "merge_across_nodes");
	cJSON_AddNumberToObject(o, "page_size", (double)st->page_size);
	cJSON_AddNumberToObject(o, "saved", (double)ksm_saved(st));
	return o;
}

static void print_status(const struct ksm_status *st)
{
	cleanup_free char *saved = broker_size_format(ksm_saved(st));
	cleanup_free char *page = broker_size_format(st->page_size);
	const struct {
		const char *name;
		uint64_t value;
	} rows[] = {
		{ "pages_shared", st->pages_shared },
		{ "pages_sharing", st->pages_sharing },
		{ "pages_unshared", st->pages_unshared },
		{ "pages_volatile", st->pages_volatile },
		{ "full_scans", st->full_scans },
		{ "sleep_millisecs", st->sleep_millisecs },
		{ "pages_to_scan", st->pages_to_scan },
	};

	printf("KSM: %s (run %d)\n", ksm_run_name(st->run), (int)st->run);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		printf("  %-20s %" PRIu64 "\n", rows[i].name, rows[i].value);
	if (st->merge_across_nodes >= 0)
		printf("  %-20s %d\n", "merge_across_nodes",
		       st->merge_across_nodes);
	printf("saved: %s (%" PRIu64 " sharing pages of %s)\n",
	       st->pages_sharing ? saved : "nothing", st->pages_sharing, page);
}

static int ksm_switch(struct vmctl_env *env, enum ksm_action action,
		      bool dry_run, struct vmctl_error **err)
{
	struct ksm_status now;
	struct ksm_plan plan;
	cleanup_free char *text = NULL;

	if (ksm_read(env->sysfs, &now, err) < 0)
		return vmctl_error_wrap(err, "host ksm");
	ksm_plan_build(&now, action, &plan);
	if (plan.n == 0) {
		printf("KSM is %s already\n", ksm_run_name(now.run));
		ksm_plan_clear(&plan);
		return VMCTL_EXIT_OK;
	}
	if (plan.to == KSM_UNMERGING) {
		cleanup_free char *back =
			broker_size_format(plan.unmerge_bytes);

		if (plan.unmerge_bytes > 0)
			fprintf(stderr, "vmctl: warning: unmerging gives every "
				"merged page its own copy again: the host "
				"needs %s more memory\n", back);
		else
			fprintf(stderr, "vmctl: warning: unmerging gives every "
				"merged page its own copy again (none is "
				"merged now)\n");
	}
	text = ksm_plan_render(env->sysfs, &plan);
	if (dry_run) {
		printf("%s", text);
	} else if (ksm_apply(env->sysfs, &plan, err) < 0) {
		ksm_plan_clear(&plan);
		return vmctl_error_wrap(err, "host ksm");
	} else {
		printf("KSM: %s -> %s\n", ksm_run_name(plan.from),
		       ksm_run_name(plan.to));
	}
	ksm_plan_clear(&plan);
	return VMCTL_EXIT_OK;
}

static int ksm_status(struct vmctl_env *env, struct vmctl_error **err)
{
	struct ksm_status st;

	if (ksm_read(env->sysfs, &st, err) < 0)
		return vmctl_error_wrap(err, "host ksm");
	if (env->json) {
		cJSON *o = status_json(&st);

		view_print_json(o);
		cJSON_Delete(o);
	} else {
		print_status(&st);
	}
	return VMCTL_EXIT_OK;
}

int cmd_host_ksm(struct vmctl_env *env, const struct cmd_host_opts *opts,
		 int argc, char **argv, struct vmctl_error **err)
{
	const char *sub = argc > 0 ? argv[0] : NULL;

	if (argc != 1)
		return cmd_usage_error(&cmd_host_entry, err, argc == 0
				       ? "ksm: on, off or status?"
				       : "ksm %s: one word only", sub);
	if (opts->unmerge && strcmp(sub, "off") != 0)
		return cmd_usage_error(&cmd_host_entry, err, "--unmerge is "
				       "for ksm off");
	if (strcmp(sub, "status") == 0) {
		if (opts->dry_run)
			return cmd_usage_error(&cmd_host_entry, err, "ksm "
					       "status changes nothing: no "
					       "--dry-run");
		return ksm_status(env, err);
	}
	if (strcmp(sub, "on") == 0)
		return ksm_switch(env, KSM_ON, opts->dry_run, err);
	if (strcmp(sub, "off") == 0)
		return ksm_switch(env, opts->unmerge ? KSM_UNMERGE : KSM_OFF,
				  opts->dry_run, err);
	return cmd_usage_error(&cmd_host_entry, err, "ksm %s: on, off or "
			       "status?", sub);
}
