// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl kill NAME */
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm.h"
#include "vmctl/vm.h"

static int cmd_kill_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	enum vm_stop_step how;
	const char *name;
	int ret = cmd_parse_name(&cmd_kill_entry, env, argc, argv, &name, err);

	if (ret != 0)
		return cmd_done(ret);
	if (env->connect != NULL)
		return lvvm_cmd_kill(env, name, err);
	if (vm_kill(env, name, &how, err) < 0)
		return -1;
	if (env->verbosity >= 0)
		printf(how == VM_STOP_KILL ? "Killed VM %s\n"
					   : "VM %s was not running\n", name);
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_kill_entry = {
	.name = "kill",
	.usage = "NAME",
	.summary = "stop a VM at once (SIGKILL to QEMU)",
	.help = "Like pulling the plug: the guest gets no chance to shut "
		"down.\n",
	.full_name = true,
	.remote = true,
	.exec = cmd_kill_exec,
};
