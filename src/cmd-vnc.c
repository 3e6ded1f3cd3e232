// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl vnc NAME [--json] */
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/state.h"
#include "vmctl/view.h"
#include "vmctl/vm.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

/* VNC without a password: a UNIX socket in the VM's directory. */
static void print_socket(const struct vmctl_env *env, const struct vm_info *vm)
{
	cleanup_free char *sock = state_vm_file(env, vm->name,
						VMDIR_VNC_SOCKET);

	if (env->json) {
		cJSON *j = cJSON_CreateObject();

		cJSON_AddStringToObject(j, "name", vm->name);
		cJSON_AddStringToObject(j, "socket", sock);
		cJSON_AddNullToObject(j, "password");
		cJSON_AddBoolToObject(j, "running", vm->state == VM_RUNNING);
		view_print_json(j);
		cJSON_Delete(j);
		return;
	}
	printf("socket:   %s (UNIX socket, no password)\n"
	       "from another machine: ssh -L 5900:%s root@THIS-HOST, then "
	       "vnc://localhost:5900\n", sock, sock);
	if (vm->state != VM_RUNNING)
		printf("(VM %s is %s)\n", vm->name,
		       vm_run_state_name(vm->state));
}

static int cmd_vnc_exec(struct vmctl_env *env, int argc, char **argv,
			struct vmctl_error **err)
{
	struct vm_info vm = { 0 };
	const char *name;
	int ret = cmd_parse_name(&cmd_vnc_entry, env, argc, argv, &name, err);

	if (ret != 0)
		return cmd_done(ret);
	if (vm_inspect(env, name, &vm, err) < 0)
		return -1;
	if (vm.spec != NULL && vm.spec->vnc.enabled && !vm.spec->vnc.password) {
		print_socket(env, &vm);
	} else if (vm.spec == NULL || !vm.spec->vnc.enabled ||
		   vm.st.vnc_display < 0) {
		vm_info_clear(&vm);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s has no VNC server", name);
	} else {
		unsigned port = 5900 + (unsigned)vm.st.vnc_display;
		cleanup_free char *ep = view_endpoint(vm.spec->vnc.listen, port);

		if (env->json) {
			cJSON *j = cJSON_CreateObject();
			cleanup_free char *url = xasprintf("vnc://%s", ep);

			cJSON_AddStringToObject(j, "name", name);
			cJSON_AddStringToObject(j, "endpoint", ep);
			cJSON_AddStringToObject(j, "url", url);
			cJSON_AddNumberToObject(j, "port", port);
			if (vm.vnc_password)
				cJSON_AddStringToObject(j, "password",
							vm.vnc_password);
			else
				cJSON_AddNullToObject(j, "password");
			cJSON_AddBoolToObject(j, "running",
					      vm.state == VM_RUNNING);
			view_print_json(j);
			cJSON_Delete(j);
		} else {
			printf("endpoint: %s\nurl:      vnc://%s\n", ep, ep);
			if (vm.vnc_password)
				printf("password: %s\n", vm.vnc_password);
			if (vm.state != VM_RUNNING)
				printf("(VM %s is %s)\n", name,
				       vm_run_state_name(vm.state));
		}
	}
	vm_info_clear(&vm);
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_vnc_entry = {
	.name = "vnc",
	.usage = "NAME [--json]",
	.summary = "print the VM's VNC endpoint and password",
	.help = "Connect a VNC viewer to HOST:PORT (display N is port "
		"5900+N).\n",
	.exec = cmd_vnc_exec,
};
