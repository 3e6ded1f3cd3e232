// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl destroy NAME [--force] */
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm.h"
#include "vmctl/sysunit.h"
#include "vmctl/vm.h"

static const struct option options[] = {
	{ "force", no_argument, NULL, 'f' },
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_destroy_exec(struct vmctl_env *env, int argc, char **argv,
			    struct vmctl_error **err)
{
	bool force = false;
	int opt, timeout = 60;

	while ((opt = cmd_getopt(&cmd_destroy_entry, env, argc, argv, "ft:",
				 options)) != -1) {
		if (opt == 'f')
			force = true;
		else if (opt == 't') {
			if (cmd_parse_seconds(&cmd_destroy_entry, "--timeout",
					      optarg, &timeout, err) < 0)
				return -1;
		} else
			return cmd_done(opt);
	}
	if (argc - optind != 1)
		return cmd_usage_error(&cmd_destroy_entry, err,
				       "give one VM name");
	if (env->connect != NULL)
		return lvvm_cmd_destroy(env, argv[optind], force, timeout,
					err);
	if (vm_destroy(env, argv[optind], force, timeout, err) < 0)
		return -1;
	if (env->verbosity >= 0)
		printf("Destroyed VM %s\n", argv[optind]);
	/* A unit that would start a VM no longer there: gone with it. */
	switch (sysunit_forget(env, argv[optind], err)) {
	case 0:
		if (env->verbosity >= 0)
			printf("Disabled vmctl@%s.service\n", argv[optind]);
		break;
	case -1:
		return vmctl_error_wrap(err, "VM %s destroyed, but its unit "
					"is still enabled", argv[optind]);
	}
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_destroy_entry = {
	.name = "destroy",
	.usage = "NAME [--force] [--timeout SECONDS]",
	.summary = "stop a VM and delete it with its disk overlay",
	.help = "Stops the VM as `vmctl stop` does (--force: without waiting "
		"for the guest),\nthen removes its state directory: overlay, "
		"UEFI variables, logs. The base\nimage is not touched. A VM "
		"enabled at boot (vmctl enable) is disabled.\n",
	.full_name = true,
	.remote = true,
	.options = options,
	.exec = cmd_destroy_exec,
};
