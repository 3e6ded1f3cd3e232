// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl save NAME, and vmctl restore NAME */
#include <errno.h>
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm-snapshot.h"
#include "vmctl/view.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vm-snapshot.h"
#include "vmctl/xalloc.h"

static int cmd_save_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	const char *name;
	int ret = cmd_parse_name(&cmd_save_entry, env, argc, argv, &name, err);

	if (ret != 0)
		return cmd_done(ret);
	if (env->connect != NULL)
		return lvvm_cmd_save(env, name, err);
	if (vm_require(env, name, err) < 0 || vm_save(env, name, err) < 0)
		return -1;
	if (env->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "state",
					vm_run_state_name(VM_SAVED));
		view_print_json(o);
		cJSON_Delete(o);
	} else if (env->verbosity >= 0) {
		printf("Saved VM %s (vmctl start %s resumes it)\n", name, name);
	}
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
	.usage = "NAME",
	.summary = "save a running VM's state to its disk and stop it",
	.help = "QEMU pauses the guest, writes its RAM and device state into "
		"the VM's disk\n(a qcow2 internal snapshot that `snapshot list` "
		"does not show) and quits.\nThe VM's state is then \"saved\"; "
		"`vmctl start NAME` (or restore) resumes it\nwhere it was, "
		"once: the next start after that boots afresh.  Refused for "
		"a\nVM with a passed-through GPU (VFIO device state cannot be "
		"saved) or UEFI\nfirmware.  With --connect: libvirt's managed "
		"save (a UEFI VM too),\nwhich the next start resumes.\n",
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
