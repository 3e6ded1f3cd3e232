// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl balloon NAME SIZE [--timeout S] [--json] */
#include <stdio.h>

#include "vmctl/broker.h"
#include "vmctl/cmd.h"
#include "vmctl/spec.h"
#include "vmctl/view.h"
#include "vmctl/vm-balloon.h"
#include "vmctl/xalloc.h"

#define DEFAULT_TIMEOUT 10

static const struct option options[] = {
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_balloon_exec(struct vmctl_env *env, int argc, char **argv,
			    struct vmctl_error **err)
{
	int opt, timeout = DEFAULT_TIMEOUT;
	uint64_t target, memory = 0, before = 0, actual = 0;
	cleanup_free char *now = NULL, *of = NULL;
	const char *name;

	while ((opt = cmd_getopt(&cmd_balloon_entry, env, argc, argv, "t:",
				 options)) != -1) {
		if (opt != 't')
			return cmd_done(opt);
		if (cmd_parse_seconds(&cmd_balloon_entry, "--timeout", optarg,
				      &timeout, err) < 0)
			return -1;
	}
	if (argc - optind != 2)
		return cmd_usage_error(&cmd_balloon_entry, err,
				       "give a VM name and a size");
	name = argv[optind];
	if (spec_parse_size(argv[optind + 1], &target) < 0)
		return cmd_usage_error(&cmd_balloon_entry, err,
				       "invalid size \"%s\" (an integer with "
				       "K, M, G or T, e.g. 512M or 2G)",
				       argv[optind + 1]);
	if (vm_balloon_set(env, name, target, &memory, &before, err) < 0 ||
	    vm_balloon_wait(env, name, target, before, timeout, &actual,
			    err) < 0)
		return -1;
	if (env->json) {
		cJSON *j = cJSON_CreateObject();

		cJSON_AddStringToObject(j, "name", name);
		cJSON_AddNumberToObject(j, "memory", (double)memory);
		cJSON_AddNumberToObject(j, "target", (double)target);
		cJSON_AddNumberToObject(j, "balloon", (double)actual);
		view_print_json(j);
		cJSON_Delete(j);
	} else if (env->verbosity >= 0) {
		now = broker_size_format(actual);
		of = broker_size_format(memory);
		printf("VM %s: the guest has %s of its %s\n", name, now, of);
	}
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_balloon_entry = {
	.name = "balloon",
	.usage = "NAME SIZE [--timeout SECONDS] [--json]",
	.summary = "take RAM back from a running guest, or give it back",
	.help = "Sets the VM's balloon so that the guest keeps SIZE of its "
		"memory (QMP\nballoon), then waits up to SECONDS (default 10) "
		"until the guest has\nmoved it, and prints the guest's memory "
		"now.  SIZE is at least 64M and\nat most the VM's memory "
		"(which gives everything back).  The VM needs\n"
		"memory.balloon (the default without a GPU) and a guest with "
		"the\nvirtio_balloon driver.\n\n"
		"Exit status: 0 when the guest got there; 1 when the VM is not "
		"running,\nhas no balloon, or the guest did not move in time; "
		"64 for a SIZE out\nof range.\n",
	.options = options,
	.exec = cmd_balloon_exec,
};
