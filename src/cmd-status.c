// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl status NAME [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm.h"
#include "vmctl/media.h"
#include "vmctl/view.h"
#include "vmctl/vm-balloon.h"
#include "vmctl/vm.h"
#include "vmctl/xalloc.h"

#define TAIL_LINES 20

static void print_exit(const struct vm_exit *x)
{
	if (x->signal > 0)
		printf("last exit:  killed by signal %d", x->signal);
	else if (x->status >= 0)
		printf("last exit:  status %d", x->status);
	else
		printf("last exit:  unknown status");
	if (x->stopped_by != NULL)
		printf(" (stopped by %s)", x->stopped_by);
	putchar('\n');
}

static int cmd_status_exec(struct vmctl_env *env, int argc, char **argv,
			   struct vmctl_error **err)
{
	struct vm_info vm = { 0 };
	cleanup_free char *tail = NULL;
	const char *name;
	uint64_t actual = 0;
	const uint64_t *balloon = NULL;
	bool has_balloon;
	int ret = cmd_parse_name(&cmd_status_entry, env, argc, argv, &name,
				 err);

	if (ret != 0)
		return cmd_done(ret);
	if (env->connect != NULL)
		return lvvm_cmd_status(env, name, err);
	if (vm_inspect(env, name, &vm, err) < 0)
		return -1;
	if (vm.state == VM_CRASHED)
		tail = vm_serial_tail(env, name, TAIL_LINES);
	/* The balloon's size now, when QEMU tells (unknown otherwise). */
	has_balloon = vm.state == VM_RUNNING && vm.spec != NULL &&
		      vm.spec->balloon;
	if (has_balloon) {
		struct vmctl_error *ignored = NULL;

		if (vm_balloon_query(env, name, &actual, &ignored) == 0)
			balloon = &actual;
		vmctl_error_free(ignored);
	}
	if (env->json) {
		cJSON *j = view_vm_status_json(env, &vm, balloon);

		if (vm.spec != NULL)
			media_status_json(j, vm.spec, vm.st.cdrom_booted);

		if (tail != NULL) {
			cJSON *lines = cJSON_AddArrayToObject(j, "serial_tail");
			char *save = NULL;

			for (char *l = strtok_r(tail, "\n", &save); l;
			     l = strtok_r(NULL, "\n", &save))
				cJSON_AddItemToArray(lines,
						     cJSON_CreateString(l));
		}
		view_print_json(j);
		cJSON_Delete(j);
	} else {
		printf("name:       %s\nstate:      %s\n", vm.name,
		       vm_run_state_name(vm.state));
		if (vm.state == VM_RUNNING)
			printf("pid:        %d\nqmp status: %s\nuptime:     "
			       "%llds\n", (int)vm.st.qemu.pid,
			       vm.qmp_status ? vm.qmp_status : "unknown",
			       (long long)(time(NULL) - vm.st.started));
		if (vm.spec != NULL)
			printf("cpus:       %u\nmemory:     %lluM\n",
			       spec_cpu_count(vm.spec),
			       (unsigned long long)(vm.spec->memory >> 20));
		if (balloon != NULL)
			printf("balloon:    %lluM (the guest's RAM now)\n",
			       (unsigned long long)(*balloon >> 20));
		else if (has_balloon)
			printf("balloon:    unknown (QEMU did not say)\n");
		if (vm.spec != NULL) {
			cleanup_free char *media = media_status_text(
				vm.spec, vm.st.cdrom_booted);

			fputs(media, stdout);
		}
		if (vm.st.accel != NULL)
			printf("accel:      %s\n", vm.st.accel);
		view_claim_print(&vm.st.claim, stdout);
		if (vm.st.last_exit.known && vm.state != VM_RUNNING)
			print_exit(&vm.st.last_exit);
		view_vm_endpoints(env, &vm, stdout);
		if (tail != NULL)
			printf("serial log (last %d lines):\n%s\n", TAIL_LINES,
			       tail);
	}
	vm_info_clear(&vm);
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "NAME [--json]",
	.summary = "one VM in detail: state, QMP run state, endpoints, how it "
		   "last exited",
	.help = "For a crashed VM also its exit status and the last lines of "
		"its serial log.\n",
	.remote = true,
	.exec = cmd_status_exec,
};
