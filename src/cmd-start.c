// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl start NAME */
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/view.h"
#include "vmctl/vm.h"
#include "vmctl/xalloc.h"

static int cmd_start_exec(struct vmctl_env *env, int argc, char **argv,
			  struct vmctl_error **err)
{
	struct vm_info vm = { 0 };
	const char *name;
	int ret = cmd_parse_name(&cmd_start_entry, env, argc, argv, &name, err);

	if (ret != 0)
		return cmd_done(ret);
	ret = vm_start(env, name, &vm, err);
	if (ret < 0)
		return -1;
	{
		cleanup_free char *headline = xasprintf(
			ret == 1 ? "VM %s is already running" : "Started VM %s",
			name);

		view_vm_result(env, &vm, headline);
	}
	vm_info_clear(&vm);
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_start_entry = {
	.name = "start",
	.usage = "NAME",
	.summary = "start a stopped VM from its saved state",
	.help = "Same disk, same spec; the same SSH and VNC ports when they "
		"are still free.\n",
	.exec = cmd_start_exec,
};
