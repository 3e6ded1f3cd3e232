// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl enable NAME, vmctl disable NAME: start a VM at boot (sysunit.h) */
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/state.h"
#include "vmctl/sysunit.h"
#include "vmctl/view.h"

static int enable_or_disable(const struct cmd_entry *cmd, bool enable,
			     struct vmctl_env *env, int argc, char **argv,
			     struct vmctl_error **err)
{
	const char *name;
	int ret = cmd_parse_name(cmd, env, argc, argv, &name, err);

	if (ret != 0)
		return cmd_done(ret);
	/* Enabling a VM that does not exist would fail at the next boot;
	 * disabling one that is gone is how its leftovers go. */
	if (enable && !state_vm_exists(env, name))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "no VM named %s", name);
	ret = enable ? sysunit_enable(env, name, err)
		     : sysunit_disable(env, name, err);
	if (ret < 0)
		return -1;
	if (env->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddBoolToObject(o, "enabled", enable);
		cJSON_AddBoolToObject(o, "changed", ret == 0);
		view_print_json(o);
		cJSON_Delete(o);
	} else if (env->verbosity >= 0) {
		printf(ret == 1 ? "VM %s was already %s\n"
				: "VM %s %s: vmctl@%s.service\n", name,
		       enable ? ret == 1 ? "enabled" : "will start at boot"
			      : ret == 1 ? "disabled" : "will not start at boot",
		       name);
	}
	return VMCTL_EXIT_OK;
}

static int cmd_enable_exec(struct vmctl_env *env, int argc, char **argv,
			   struct vmctl_error **err)
{
	return enable_or_disable(&cmd_enable_entry, true, env, argc, argv,
				 err);
}

static int cmd_disable_exec(struct vmctl_env *env, int argc, char **argv,
			    struct vmctl_error **err)
{
	return enable_or_disable(&cmd_disable_entry, false, env, argc, argv,
				 err);
}

const struct cmd_entry cmd_enable_entry = {
	.name = "enable",
	.usage = "NAME [--json]",
	.summary = "start a VM at boot (systemd unit vmctl@NAME.service)",
	.help = "Links vmctl@NAME.service into multi-user.target.wants, as "
		"`systemctl enable\nvmctl@NAME` does: at boot the unit runs "
		"`vmctl start NAME` (after local file\nsystems, module loading, "
		"udev and the network), at shutdown `vmctl stop NAME`\n(ACPI, "
		"60 s). A VM outside /var/lib/vmctl gets a drop-in "
		"(vmctl@NAME.service.d/\nvmctl.conf) naming its state dir. "
		"Writes under VMCTL_SYSTEMD_ROOT (default /);\nthe unit "
		"vmctl@.service must be installed there (69 if not). `list` "
		"shows it.\n",
	.exec = cmd_enable_exec,
};

const struct cmd_entry cmd_disable_entry = {
	.name = "disable",
	.usage = "NAME [--json]",
	.summary = "no longer start a VM at boot",
	.help = "Removes what `vmctl enable NAME` wrote: the wants link and "
		"the drop-in.\nThe VM itself is left as it is (running or "
		"not).\n",
	.exec = cmd_disable_exec,
};
