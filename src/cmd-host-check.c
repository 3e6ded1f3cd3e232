// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl host-check [--json] */
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/hostcheck.h"
#include "vmctl/view.h"

static int cmd_host_check_exec(struct vmctl_env *env, int argc, char **argv,
			       struct vmctl_error **err)
{
	struct hostcheck_facts facts = { 0 };
	struct hostcheck_report report = { 0 };
	bool passed;
	int opt;

	while ((opt = cmd_getopt(&cmd_host_check_entry, env, argc, argv, "",
				 NULL)) != -1)
		return cmd_done(opt);
	if (optind < argc)
		return cmd_usage_error(&cmd_host_check_entry, err,
				       "takes no arguments");
	if (hostcheck_gather(env, &facts, err) < 0)
		return -1;
	hostcheck_judge(&facts, &report);
	passed = hostcheck_passed(&report);
	if (env->json) {
		cJSON *j = hostcheck_report_json(&report);

		view_print_json(j);
		cJSON_Delete(j);
	} else {
		for (size_t i = 0; i < report.n; i++) {
			const struct hostcheck_item *it = &report.items[i];

			if (env->verbosity < 0 && it->status == HOSTCHECK_OK)
				continue;
			printf("%-5s %-20s %s\n",
			       hostcheck_status_name(it->status), it->name,
			       it->message);
			if (it->fix)
				printf("%-5s %-20s fix: %s\n", "", "", it->fix);
		}
		if (env->verbosity >= 0)
			printf("%s\n", passed ? "this host can run a VM with a "
			       "GPU passed through"
			       : "this host cannot run a VM with a GPU passed "
			       "through yet");
	}
	hostcheck_report_clear(&report);
	hostcheck_facts_clear(&facts);
	return passed ? VMCTL_EXIT_OK : VMCTL_EXIT_FAILURE;
}

const struct cmd_entry cmd_host_check_entry = {
	.name = "host-check",
	.usage = "[--json]",
	.summary = "check that this host can pass a GPU through to a VM",
	.help = "One line per check (ok, warn or fail) and a one-line fix "
		"for each warn or\nfail: CPU virtualization, /dev/kvm, IOMMU "
		"groups, interrupt remapping, the\nkernel command line in "
		"effect, vfio modules, hugepages, OVMF, QEMU, tmux,\nwhether "
		"a GPU can be passed through (see `vmctl gpu list`) and the "
		"GPU quirks\nthat get in the way (the AMD reset bug, BARs "
		"past q35's 64-bit hole).\n"
		"After `vmctl host-setup` (its manifest in the state dir) and "
		"a reboot, also\nwhether what it set took: setup, setup-args "
		"(the kernel arguments, and the\nfile that carries them), "
		"setup-driver (its functions on vfio-pci, or why not:\n"
		"softdep, initramfs, built-in driver), setup-group (their "
		"IOMMU groups viable).\n"
		"Exit status 0 when no check fails, 1 otherwise.  Reads sysfs, "
		"proc and /dev\nunder their roots; writes nothing.  --json: "
		"docs/json.md.\n",
	.exec = cmd_host_check_exec,
};
