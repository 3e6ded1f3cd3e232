// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl stop NAME [--timeout S], and vmctl restart NAME [--timeout S] */
#include <stdio.h>
#include <string.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm.h"
#include "vmctl/view.h"
#include "vmctl/vm.h"
#include "vmctl/xalloc.h"

#define DEFAULT_TIMEOUT 60

static const char *describe(enum vm_stop_step how)
{
	switch (how) {
	case VM_STOP_POWERDOWN:
		return "the guest shut down (ACPI power button)";
	case VM_STOP_QUIT:
		return "QEMU quit (the guest did not shut down in time)";
	case VM_STOP_KILL:
		return "QEMU killed (SIGKILL)";
	case VM_STOP_NOT_RUNNING:
		break;
	}
	return "it was not running";
}

static const struct option options[] = {
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

static int stop_or_restart(const struct cmd_entry *cmd, bool restart,
			   struct vmctl_env *env, int argc, char **argv,
			   struct vmctl_error **err)
{
	enum vm_stop_step how;
	int opt, timeout = DEFAULT_TIMEOUT;
	const char *name;

	while ((opt = cmd_getopt(cmd, env, argc, argv, "t:", options)) != -1) {
		if (opt != 't')
			return cmd_done(opt);
		if (cmd_parse_seconds(cmd, "--timeout", optarg, &timeout,
				      err) < 0)
			return -1;
	}
	if (argc - optind != 1)
		return cmd_usage_error(cmd, err, "give one VM name");
	name = argv[optind];
	if (env->connect != NULL)
		return restart ? lvvm_cmd_restart(env, name, timeout, err)
			       : lvvm_cmd_stop(env, name, timeout, err);
	if (vm_stop(env, name, timeout, &how, err) < 0)
		return -1;
	view_stop_result(env, env->json && !restart, name, how, describe(how),
			 NULL);
	if (restart) {
		struct vm_info vm = { 0 };

		if (vm_start(env, name, &(struct vm_start_opts){ 0 }, &vm,
			     err) < 0)
			return -1;
		{
			cleanup_free char *headline = xasprintf("Started VM %s",
								name);

			view_vm_result(env, &vm, headline);
		}
		vm_info_clear(&vm);
	}
	return VMCTL_EXIT_OK;
}

static int cmd_stop_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	return stop_or_restart(&cmd_stop_entry, false, env, argc, argv, err);
}

static int cmd_restart_exec(struct vmctl_env *env, int argc, char **argv,
			    struct vmctl_error **err)
{
	return stop_or_restart(&cmd_restart_entry, true, env, argc, argv, err);
}

const struct cmd_entry cmd_stop_entry = {
	.name = "stop",
	.usage = "NAME [--timeout SECONDS]",
	.summary = "shut a VM down: ACPI power button, then QMP quit, then "
		   "SIGKILL",
	.help = "Presses the guest's power button (QMP system_powerdown) and "
		"waits up to\nSECONDS (default 60) for QEMU to exit; then asks "
		"QEMU to quit; then kills it.\nSays which step stopped it; "
		"--json prints {\"name\", \"stopped_by\"}.\n",
	.remote = true,
	.options = options,
	.exec = cmd_stop_exec,
};

const struct cmd_entry cmd_restart_entry = {
	.name = "restart",
	.usage = "NAME [--timeout SECONDS]",
	.summary = "stop a VM, then start it again",
	.help = "`vmctl stop NAME` followed by `vmctl start NAME`.\n",
	.remote = true,
	.options = options,
	.exec = cmd_restart_exec,
};
