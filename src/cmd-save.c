// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl save [--discard] NAME, and vmctl restore NAME */
#include <errno.h>
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm-snapshot.h"
#include "vmctl/view.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vm-snapshot.h"
#include "vmctl/xalloc.h"

static const struct option options[] = {
	{ "discard", no_argument, NULL, 'd' },
	{ NULL, 0, NULL, 0 },
};

static void print_saved(const struct vmctl_env *env, const char *name,
			bool discarded)
{
	if (env->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "state", vm_run_state_name(
			discarded ? VM_STOPPED : VM_SAVED));
		cJSON_AddBoolToObject(o, "discarded", discarded);
		view_print_json(o);
		cJSON_Delete(o);
	} else if (env->verbosity >= 0 && discarded) {
		printf("Discarded the saved state of VM %s (its next start "
		       "boots afresh)\n", name);
	} else if (env->verbosity >= 0) {
		printf("Saved VM %s (vmctl start %s resumes it)\n", name, name);
	}
}

static int cmd_save_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	const struct cmd_entry *cmd = &cmd_save_entry;
	bool discard = false;
	const char *name;
	int opt;

	while ((opt = cmd_getopt(cmd, env, argc, argv, "", options)) != -1) {
		if (opt != 'd')
			return cmd_done(opt);
		discard = true;
	}
	if (argc - optind != 1)
		return cmd_usage_error(cmd, err, "give one VM name");
	name = argv[optind];
	if (env->connect != NULL)
		return discard ? lvvm_cmd_save_discard(env, name, err)
			       : lvvm_cmd_save(env, name, err);
	if (vm_require(env, name, err) < 0 ||
	    (discard ? vm_save_discard(env, name, err)
		     : vm_save(env, name, err)) < 0)
		return -1;
	print_saved(env, name, discard);
	return VMCTL_EXIT_OK;
}

static int cmd_restore_exec(struct vmctl_env *env, int argc, char **argv,
			    struct vmctl_error **err)
{
	struct vm_info vm = { 0 };
	const char *name;
	int ret = cmd_parse_name(&cmd_restore_entry, env, argc, argv, &name,
				 err);

	if (ret != 0)
		return cmd_done(ret);
	if (env->connect != NULL)
		return lvvm_cmd_restore(env, name, err);
	if (vm_require(env, name, err) < 0)
		return -1;
	if (!vm_snapshot_saved(env, name))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT,
				       "VM %s holds no saved state (vmctl "
				       "start %s boots it)", name, name);
	if (vm_start(env, name, &(struct vm_start_opts){ 0 }, &vm, err) < 0)
		return -1;
	{
		cleanup_free char *headline = xasprintf("Restored VM %s", name);

		view_vm_result(env, &vm, headline);
	}
	vm_info_clear(&vm);
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_save_entry = {
	.name = "save",
	.usage = "[--discard] NAME",
	.options = options,
	.summary = "save a running VM's state to its disk and stop it",
	.help = "QEMU pauses the guest, writes its RAM and device state into "
		"the VM's disk\n(a qcow2 internal snapshot that `snapshot list` "
		"does not show) and quits.\nThe VM's state is then \"saved\"; "
		"`vmctl start NAME` (or restore) resumes it\nwhere it was, "
		"once: the next start after that boots afresh.  Refused for "
		"a\nVM with a passed-through GPU (VFIO device state cannot be "
		"saved).  A UEFI VM's\nvariables are saved with it.  With "
		"--connect: libvirt's managed save, which\nthe next start "
		"resumes.\n\n--discard drops a stopped VM's saved state "
		"instead: its next start boots\nafresh.\n",
	.remote = true,
	.exec = cmd_save_exec,
};

const struct cmd_entry cmd_restore_entry = {
	.name = "restore",
	.usage = "NAME",
	.summary = "resume a saved VM (vmctl start, for a saved VM only)",
	.help = "Refused when the VM holds no saved state.\n",
	.remote = true,
	.exec = cmd_restore_exec,
};
