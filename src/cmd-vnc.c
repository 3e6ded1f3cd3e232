// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl vnc NAME [--json] */
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm-vnc.h"
#include "vmctl/state.h"
#include "vmctl/view.h"
#include "vmctl/vm.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

static int cmd_vnc_exec(struct vmctl_env *env, int argc, char **argv,
			struct vmctl_error **err)
{
	struct vm_info vm = { 0 };
	const char *name;
	int ret = cmd_parse_name(&cmd_vnc_entry, env, argc, argv, &name, err);

	if (ret != 0)
		return cmd_done(ret);
	if (env->connect != NULL)
		/* the live domain's <graphics> (lvvm-vnc.c) */
		return lvvm_cmd_vnc(env, name, err);
	if (vm_inspect(env, name, &vm, err) < 0)
		return -1;
	if (vm.spec != NULL && vm.spec->vnc.enabled && !vm.spec->vnc.password) {
		/* VNC without a password: a UNIX socket in the VM's
		 * directory. */
		cleanup_free char *sock = state_vm_file(env, vm.name,
							VMDIR_VNC_SOCKET);

		view_vnc_result(env, &(struct view_vnc){
			.name = vm.name, .socket = sock, .state = vm.state });
	} else if (vm.spec == NULL || !vm.spec->vnc.enabled ||
		   vm.st.vnc_display < 0) {
		vm_info_clear(&vm);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s has no VNC server", name);
	} else {
		unsigned port = 5900 + (unsigned)vm.st.vnc_display;
		cleanup_free char *ep = view_endpoint(vm.spec->vnc.listen, port);

		view_vnc_result(env, &(struct view_vnc){
			.name = name, .endpoint = ep, .port = port,
			.password = vm.vnc_password, .state = vm.state });
	}
	vm_info_clear(&vm);
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_vnc_entry = {
	.name = "vnc",
	.usage = "NAME [--json]",
	.summary = "print the VM's VNC endpoint and password",
	.help = "Connect a VNC viewer to HOST:PORT (display N is port "
		"5900+N). With --connect:\nthe port and password of the "
		"running domain (libvirt picks an automatic port\nat start).\n",
	.remote = true,
	.exec = cmd_vnc_exec,
};
