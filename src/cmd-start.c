// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl start NAME [--overcommit] */
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm.h"
#include "vmctl/view.h"
#include "vmctl/vm.h"
#include "vmctl/xalloc.h"

static const struct option options[] = {
	{ "overcommit", no_argument, NULL, 'O' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_start_exec(struct vmctl_env *env, int argc, char **argv,
			  struct vmctl_error **err)
{
	struct vm_start_opts opts = { 0 };
	struct vm_info vm = { 0 };
	const char *name;
	int opt, ret;

	while ((opt = cmd_getopt(&cmd_start_entry, env, argc, argv, "",
				 options)) != -1) {
		if (opt != 'O')
			return cmd_done(opt);
		opts.overcommit = true;
	}
	if (argc - optind != 1)
		return cmd_usage_error(&cmd_start_entry, err, "one VM name");
	name = argv[optind];
	if (env->connect != NULL)
		return opts.overcommit
			? vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "--connect: "
					  "--overcommit is not yet supported on "
					  "a libvirt host")
			: lvvm_cmd_start(env, name, err);
	ret = vm_start(env, name, &opts, &vm, err);
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
	.usage = "NAME [--overcommit]",
	.summary = "start a stopped VM from its saved state",
	.help = "Same disk, same spec; the same SSH and VNC ports when they "
		"are still free.\n\n"
		"  --overcommit  start it even past the host's free memory, "
		"as the spec's\n                `overcommit: true` (never "
		"with a GPU)\n",
	.remote = true,
	.options = options,
	.exec = cmd_start_exec,
};
