// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl list [--all-hosts] [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vmctl/cmd.h"
#include "vmctl/lvfleet.h"
#include "vmctl/lvvm.h"
#include "vmctl/sysunit.h"
#include "vmctl/tmux.h"
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

/* host: the HOST column of `list --all-hosts` (then an ADDRESS column
 * too, as libvirt rows have), or NULL. */
static void print_row(const struct vmctl_env *env, const struct vm_info *vm,
		      const char *host)
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

	if (host != NULL)
		printf("%-12s %-20s %-9s %-8s %4s %7s %5s  %-21s %-6s -\n",
		       host, vm->name, vm_run_state_name(vm->state), pid, cpus,
		       mem, ssh, vnc, up);
	else
		printf("%-20s %-9s %-8s %4s %7s %5s  %-21s %-8s %s\n",
		       vm->name, vm_run_state_name(vm->state), pid, cpus, mem,
		       ssh, vnc, up, sysunit_enabled(env, vm->name) ? "yes"
								    : "-");
}

/* The direct backend's VMs: into arr (JSON), else printed (label: the
 * HOST column, or NULL).  Returns how many, or -1 with *err. */
static int list_direct(struct vmctl_env *env, cJSON *arr, const char *label,
		       struct vmctl_error **err)
{
	struct strv names = { 0 }, sessions = { 0 };
	int n = 0;

	if (state_list(env, &names, err) < 0)
		return -1;
	/* tmux asked once for every VM's session, not once per VM */
	if (names.n > 0 && tmux_sessions_read(env, &sessions, err) < 0) {
		strv_clear(&names);
		return -1;
	}
	for (size_t i = 0; i < names.n; i++) {
		struct vm_info vm = { 0 };
		struct vmctl_error *e = NULL;

		/* One broken VM must not hide the others. */
		if (vm_inspect_known(env, names.v[i], &sessions, &vm,
				     &e) < 0) {
			cmd_print_error(e);
			vmctl_error_free(e);
			continue;
		}
		if (arr != NULL) {
			cJSON *j = view_vm_json(env, &vm, false);

			cJSON_AddBoolToObject(j, "enabled",
					      sysunit_enabled(env, vm.name));
			if (label != NULL)
				cJSON_AddNullToObject(j, "host_name");
			cJSON_AddItemToArray(arr, j);
		} else {
			print_row(env, &vm, label);
		}
		vm_info_clear(&vm);
		n++;
	}
	strv_clear(&names);
	strv_clear(&sessions);
	return n;
}

enum { OPT_ALL_HOSTS = 0x300 };
static const struct option options[] = {
	{ "all-hosts", no_argument, NULL, OPT_ALL_HOSTS },
	{ NULL, 0, NULL, 0 },
};

static int cmd_list_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	cJSON *arr = NULL;
	bool all_hosts = false;
	int opt, n;

	while ((opt = cmd_getopt(&cmd_list_entry, env, argc, argv, "",
				 options)) != -1) {
		if (opt != OPT_ALL_HOSTS)
			return cmd_done(opt);
		all_hosts = true;
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_list_entry, err,
				       "takes no arguments");
	if (all_hosts && env->connect != NULL)
		return cmd_usage_error(&cmd_list_entry, err, "--all-hosts "
				       "lists every host of the hosts file: "
				       "no --connect");
	if (all_hosts)
		return lvfleet_cmd_list(env, list_direct, err);
	if (env->connect != NULL)
		return lvvm_cmd_list(env, err);
	if (env->json)
		arr = cJSON_CreateArray();
	else
		printf("%-20s %-9s %-8s %4s %7s %5s  %-21s %-8s %s\n",
		       "NAME", "STATE", "PID", "CPUS", "MEMORY", "SSH", "VNC",
		       "UPTIME", "ENABLED");
	n = list_direct(env, arr, NULL, err);
	if (arr != NULL) {
		if (n >= 0)
			view_print_json(arr);
		cJSON_Delete(arr);
	}
	return n < 0 ? -1 : VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.usage = "[--all-hosts] [--json]",
	.summary = "list VMs: state, pid, CPUs, memory, SSH port, VNC, uptime, "
		   "enabled",
	.help = "States: running, stopped, crashed (QEMU died without being "
		"asked to),\ncreating. ENABLED: yes when started at boot "
		"(vmctl enable).\n--json prints an array; docs/json.md "
		"describes its fields.\n\n"
		"  --all-hosts  every host of the hosts file (VMCTL_HOSTS_FILE) "
		"and this\n               machine's direct VMs (host "
		"\"(direct)\"), in a HOST column;\n               hosts are "
		"read in parallel, each bounded; one that is down is\n"
		"               named on stderr and the rest listed, exit 69. "
		"--json: an\n               object {vms, hosts} "
		"(docs/json.md)\n",
	.remote = true,
	.options = options,
	.exec = cmd_list_exec,
};
