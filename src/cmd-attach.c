// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl attach NAME, vmctl console NAME: the VM's tmux session, whose pane
 * is QEMU's stdio: the guest's serial console. */
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm-console.h"
#include "vmctl/tmux.h"
#include "vmctl/vm.h"

static int attach(const struct cmd_entry *cmd, struct vmctl_env *env,
		  int argc, char **argv, struct vmctl_error **err)
{
	struct vm_info vm = { 0 };
	const char *name;
	int ret = cmd_parse_name(cmd, env, argc, argv, &name, err);

	if (ret != 0)
		return cmd_done(ret);
	if (env->connect != NULL)
		return lvvm_console_cmd_console(env, name, err);
	if (vm_inspect(env, name, &vm, err) < 0)
		return -1;
	ret = vm.state == VM_RUNNING;
	vm_info_clear(&vm);
	if (!ret)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s is not running", name);
	if (env->verbosity >= 0)
		fprintf(stderr, "vmctl: attaching to %s's console; Ctrl-b d "
			"detaches\n", name);
	return tmux_attach(env, name, err);
}

static int cmd_attach_exec(struct vmctl_env *env, int argc, char **argv,
			   struct vmctl_error **err)
{
	return attach(&cmd_attach_entry, env, argc, argv, err);
}

static int cmd_console_exec(struct vmctl_env *env, int argc, char **argv,
			    struct vmctl_error **err)
{
	return attach(&cmd_console_entry, env, argc, argv, err);
}

const struct cmd_entry cmd_attach_entry = {
	.name = "attach",
	.usage = "NAME",
	.summary = "attach the VM's tmux session (Ctrl-b d detaches)",
	.help = "The session's pane is QEMU's terminal: the guest's serial "
		"console.\n"
		"With --connect: libvirt's console of the domain; Ctrl-] "
		"(or Ctrl-b d) leaves.\n",
	.remote = true,
	.exec = cmd_attach_exec,
};

const struct cmd_entry cmd_console_entry = {
	.name = "console",
	.usage = "NAME",
	.summary = "open the VM's serial console (Ctrl-b d detaches)",
	.help = "The same pane as `vmctl attach`: the serial console is "
		"QEMU's terminal in\nthe VM's tmux session. Everything it "
		"prints is also in `vmctl logs NAME`.\n"
		"With --connect: libvirt's console of the domain; Ctrl-] "
		"(or Ctrl-b d) leaves.\n",
	.remote = true,
	.exec = cmd_console_exec,
};
