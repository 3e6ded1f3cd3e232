// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl list [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm.h"
#include "vmctl/view.h"
#include "vmctl/vm.h"
#include "vmctl/xalloc.h"

static char *human_uptime(time_t secs)
{
	if (secs >= 86400)
		return xasprintf("%lldd%lldh", (long long)secs / 86400,
				 (long long)secs % 86400 / 3600);
	if (secs >= 3600)
		return xasprintf("%lldh%lldm", (long long)secs / 3600,
				 (long long)secs % 3600 / 60);
	if (secs >= 60)
		return xasprintf("%lldm%llds", (long long)secs / 60,
				 (long long)secs % 60);
	return xasprintf("%llds", (long long)secs);
}

static void print_row(const struct vm_info *vm)
{
	const struct vmctl_spec *s = vm->spec;
	bool running = vm->state == VM_RUNNING;
	cleanup_free char *pid = running ? xasprintf("%d", (int)vm->st.qemu.pid)
					 : xstrdup("-");
	cleanup_free char *mem = s ? xasprintf("%lluM", (unsigned long long)
					       (s->memory >> 20)) : xstrdup("-");
	cleanup_free char *cpus = s ? xasprintf("%u", spec_cpu_count(s))
				    : xstrdup("-");
	cleanup_free char *ssh = vm->st.ssh_port
		? xasprintf("%u", vm->st.ssh_port) : xstrdup("-");
	cleanup_free char *vnc = s && s->vnc.enabled && vm->st.vnc_display >= 0
		? view_endpoint(s->vnc.listen, 5900 + (unsigned)vm->st.vnc_display)
		: xstrdup("-");
	cleanup_free char *up = running
		? human_uptime(time(NULL) - vm->st.started) : xstrdup("-");

	printf("%-20s %-9s %-8s %4s %7s %5s  %-21s %s\n", vm->name,
	       vm_run_state_name(vm->state), pid, cpus, mem, ssh, vnc, up);
}

static int cmd_list_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	struct strv names = { 0 };
	cJSON *arr = NULL;
	int opt;

	while ((opt = cmd_getopt(&cmd_list_entry, env, argc, argv, "",
				 NULL)) != -1)
		return cmd_done(opt);
	if (optind < argc)
		return cmd_usage_error(&cmd_list_entry, err,
				       "takes no arguments");
	if (env->connect != NULL)
		return lvvm_cmd_list(env, err);
	if (state_list(env, &names, err) < 0)
		return -1;
	if (env->json)
		arr = cJSON_CreateArray();
	else
		printf("%-20s %-9s %-8s %4s %7s %5s  %-21s %s\n", "NAME",
		       "STATE", "PID", "CPUS", "MEMORY", "SSH", "VNC",
		       "UPTIME");
	for (size_t i = 0; i < names.n; i++) {
		struct vm_info vm = { 0 };
		struct vmctl_error *e = NULL;

		/* One broken VM must not hide the others. */
		if (vm_inspect(env, names.v[i], &vm, &e) < 0) {
			cmd_print_error(e);
			vmctl_error_free(e);
			continue;
		}
		if (arr != NULL)
			cJSON_AddItemToArray(arr, view_vm_json(env, &vm, false));
		else
			print_row(&vm);
		vm_info_clear(&vm);
	}
	if (arr != NULL) {
		view_print_json(arr);
		cJSON_Delete(arr);
	}
	strv_clear(&names);
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.usage = "[--json]",
	.summary = "list VMs: state, pid, CPUs, memory, SSH port, VNC, uptime",
	.help = "States: running, stopped, crashed (QEMU died without being "
		"asked to),\ncreating. --json prints an array; docs/json.md "
		"describes its fields.\n",
	.remote = true,
	.exec = cmd_list_exec,
};
