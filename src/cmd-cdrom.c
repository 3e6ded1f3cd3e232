// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl cdrom NAME insert ISO | vmctl cdrom NAME eject */
#include <stdio.h>
#include <string.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm-media.h"
#include "vmctl/view.h"
#include "vmctl/vm-cdrom.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/xalloc.h"

/* uri: the libvirt host's (--connect), or NULL. */
static void print_done(const struct vmctl_env *env, const char *name,
		       const struct vm_cdrom_result *r, bool insert,
		       const char *uri)
{
	const char *when = r->running ? "now" : "from its next start";

	if (env->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "action", insert ? "insert"
							    : "eject");
		if (r->medium != NULL)
			cJSON_AddStringToObject(o, "medium", r->medium);
		else
			cJSON_AddNullToObject(o, "medium");
		cJSON_AddBoolToObject(o, "running", r->running);
		if (uri != NULL) {
			cJSON_AddStringToObject(o, "backend", "libvirt");
			cJSON_AddStringToObject(o, "host", uri);
		}
		view_print_json(o);
		cJSON_Delete(o);
	} else if (env->verbosity < 0) {
		return;
	} else if (insert) {
		printf("Inserted %s into VM %s's CD-ROM drive (%s%s)\n",
		       r->medium, name, when, r->added_drive
		       ? ": the drive is new" : "");
	} else if (r->was_empty) {
		printf("VM %s's CD-ROM drive is empty already\n", name);
	} else {
		printf("Ejected the CD-ROM of VM %s (%s)\n", name, when);
	}
}

static int cmd_cdrom_exec(struct vmctl_env *env, int argc, char **argv,
			  struct vmctl_error **err)
{
	const struct cmd_entry *cmd = &cmd_cdrom_entry;
	struct vm_cdrom_result r = { 0 };
	cleanup_free char *uri = NULL;   /* --connect's */
	const char *name, *sub;
	bool insert;
	int opt, ret;

	while ((opt = cmd_getopt(cmd, env, argc, argv, "", NULL)) != -1)
		return cmd_done(opt);
	if (argc - optind < 2)
		return cmd_usage_error(cmd, err, "a VM name, then insert ISO "
				       "or eject");
	name = argv[optind];
	sub = argv[optind + 1];
	insert = strcmp(sub, "insert") == 0;
	if (!insert && strcmp(sub, "eject") != 0)
		return cmd_usage_error(cmd, err, "unknown subcommand %s", sub);
	if (argc - optind != (insert ? 3 : 2))
		return cmd_usage_error(cmd, err, insert ? "insert takes one ISO"
				       : "eject takes nothing more");
	if (env->connect != NULL)
		ret = insert ? lvvm_cdrom_insert(env, name, argv[optind + 2],
						 &r, &uri, err)
			     : lvvm_cdrom_eject(env, name, &r, &uri, err);
	else if (vm_require(env, name, err) < 0)
		return -1;
	else
		ret = insert ? vm_cdrom_insert(env, name, argv[optind + 2], &r,
					       err)
			     : vm_cdrom_eject(env, name, &r, err);
	if (ret == 0)
		print_done(env, name, &r, insert, uri);
	vm_cdrom_result_clear(&r);
	return ret < 0 ? -1 : VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_cdrom_entry = {
	.name = "cdrom",
	.usage = "NAME insert ISO | NAME eject",
	.summary = "put an ISO into a VM's CD-ROM drive, or take it out",
	.help = "A running VM's guest sees the change at once (its tray opens "
		"and closes);\na stopped VM has it from its next start.  The "
		"medium is kept in the VM's\nspec (its `cdrom`), so it stays "
		"in across stops and starts; vmctl status\nshows it.  A VM "
		"gets a drive from its spec (`cdrom: PATH` or `cdrom: empty`)"
		"\nor from an insert while stopped; a running VM without one "
		"is refused.\nISO: an existing, readable regular file "
		"(relative to the current directory),\nattached read-only as "
		"raw.  Not for a VM holding a saved state (start it\nfirst).\n"
		"With --connect: the ISO is uploaded to the host once (a "
		"volume of vmctl's\npool named by its digest) and the "
		"domain's drive changed through libvirt;\na domain gets a "
		"drive only from its spec at create.\n",
	.remote = true,
	.exec = cmd_cdrom_exec,
};
