// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What host-setup's manifest says of the plan behind it (hostsetup-txn.h):
 * written at the end of each run (the kernel arguments wanted, whether
 * they are only tried once yet, the functions and how each is bound, the
 * commands undo runs), and read back for --confirm and for a rerun after
 * a killed one.  host-check reads the same fields.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/hostsetup.h"
#include "vmctl/hostsetup-txn.h"
#include "vmctl/xalloc.h"

static cJSON *strings(const struct strv *v)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < v->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v->v[i]));
	return a;
}

static void set_item(cJSON *o, const char *name, cJSON *item)
{
	cJSON_DeleteItemFromObject(o, name);
	cJSON_AddItemToObject(o, name, item);
}

/*
 * What the plan meant, for --confirm, host-check and people: the kernel
 * arguments wanted and whether they are only tried once yet, where they
 * live, the functions and how each is bound, the commands undo runs.
 */
void hs_record_plan(cJSON *m, const struct hs_plan *plan)
{
	cJSON *fns = cJSON_CreateArray();
	bool oneshot = plan->tried.n > 0;

	set_item(m, "kargs", strings(&plan->kargs));
	set_item(m, "mode", cJSON_CreateString(oneshot ? "one-shot"
						       : "permanent"));
	set_item(m, "tried", strings(&plan->tried));
	set_item(m, "oneshot", oneshot && plan->oneshot
		 ? cJSON_CreateString(plan->oneshot) : cJSON_CreateNull());
	set_item(m, "kargs_file", plan->kargs_file
		 ? cJSON_CreateString(plan->kargs_file) : cJSON_CreateNull());
	set_item(m, "cmdline", plan->cmdline
		 ? cJSON_CreateString(plan->cmdline) : cJSON_CreateNull());
	set_item(m, "ids", plan->ids ? cJSON_CreateString(plan->ids)
				     : cJSON_CreateNull());
	for (size_t i = 0; i < plan->n_fns; i++) {
		const struct hs_function *f = &plan->fns[i];
		cJSON *o = cJSON_CreateObject();
		char id[16];

		cJSON_AddStringToObject(o, "address", f->addr);
		snprintf(id, sizeof(id), "%04x:%04x", f->vendor_id,
			 f->device_id);
		cJSON_AddStringToObject(o, "id", id);
		snprintf(id, sizeof(id), "%04x:%04x", f->subsys_vendor_id,
			 f->subsys_device_id);
		cJSON_AddStringToObject(o, "subsystem", id);
		cJSON_AddStringToObject(o, "bound_by", f->by_address
					? "address" : "ids");
		cJSON_AddBoolToObject(o, "boot_display", f->boot_display);
		cJSON_AddItemToArray(fns, o);
	}
	set_item(m, "functions", fns);
}

bool hostsetup_regen_pending(const struct vmctl_env *env, const char *root)
{
	cleanup_free char *path = xasprintf("%s/host-setup/manifest.json",
					    env->state_dir);
	cleanup_free char *text = NULL;
	struct vmctl_error *ignored = NULL;
	size_t len;
	cJSON *m;
	bool pending = false;

	if (fs_read_file(path, 16u << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return false;
	}
	m = cJSON_ParseWithLength(text, len);
	if (cJSON_IsTrue(cJSON_GetObjectItem(m, "regen_pending")) &&
	    cJSON_IsString(cJSON_GetObjectItem(m, "root")) &&
	    strcmp(cJSON_GetObjectItem(m, "root")->valuestring, root) == 0)
		pending = true;
	cJSON_Delete(m);
	return pending;
}

void hs_record_undo_commands(cJSON *m, const struct hs_plan *plan)
{
	cJSON *have = cJSON_GetObjectItem(m, "undo_commands");
	cJSON *all = cJSON_IsArray(have) ? cJSON_Duplicate(have, 1)
					 : cJSON_CreateArray();
	cJSON *add = hs_commands_to_json(plan->undo_commands,
					 plan->n_undo_commands), *c;

	/* every one any run asked for, once */
	cJSON_ArrayForEach(c, add) {
		cJSON *h;
		bool dup = false;

		cJSON_ArrayForEach(h, all)
			dup |= cJSON_Compare(h, c, 1);
		if (!dup)
			cJSON_AddItemToArray(all, cJSON_Duplicate(c, 1));
	}
	cJSON_Delete(add);
	set_item(m, "undo_commands", all);
}

int hostsetup_state_read(const struct vmctl_env *env, const char *root,
			 struct hs_state *st, struct vmctl_error **err)
{
	cleanup_free char *path = xasprintf("%s/host-setup/manifest.json",
					    env->state_dir);
	cleanup_free char *text = NULL;
	const cJSON *v;
	cJSON *m;
	size_t len;

	*st = (struct hs_state){ 0 };
	if (access(path, F_OK) < 0)
		return 0;
	if (fs_read_file(path, 16u << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 err) < 0)
		return -1;
	m = cJSON_ParseWithLength(text, len);
	if (hs_manifest_root(m, root, err) < 0) {
		cJSON_Delete(m);
		return -1;
	}
	st->exists = true;
	st->oneshot = cJSON_IsString(cJSON_GetObjectItem(m, "mode")) &&
		strcmp(cJSON_GetObjectItem(m, "mode")->valuestring,
		       "one-shot") == 0;
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(m, "tried"))
		if (cJSON_IsString(v))
			strv_push(&st->tried, v->valuestring);
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(m, "functions")) {
		const char *a = cJSON_GetStringValue(
			cJSON_GetObjectItem(v, "address"));

		if (a != NULL)
			strv_push(&st->addresses, a);
	}
	cJSON_Delete(m);
	return 0;
}

void hostsetup_state_clear(struct hs_state *st)
{
	strv_clear(&st->tried);
	strv_clear(&st->addresses);
	*st = (struct hs_state){ 0 };
}
