// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl bind SELECTOR..., vmctl release SELECTOR...: runtime vfio-pci. */
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/gpu.h"
#include "vmctl/gpusel.h"
#include "vmctl/pci.h"
#include "vmctl/vfio.h"
#include "vmctl/xalloc.h"

static int run(const struct cmd_entry *cmd, bool bind, struct vmctl_env *env,
	       int argc, char **argv, struct vmctl_error **err)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct pci_host host = { 0 };
	struct gpu_list gpus = { 0 };
	struct gpusel sel = { 0 };
	struct vfio_plan plan = { 0 };
	bool force = false;
	size_t released = 0;
	int opt, ret = -1;

	while ((opt = cmd_getopt(cmd, env, argc, argv, "f", options)) != -1) {
		if (opt != 'f')
			return cmd_done(opt);
		force = true;
	}
	if (optind >= argc)
		return cmd_usage_error(cmd, err, "which GPUs? (see vmctl gpu "
				       "list)");
	if (pci_host_read(env, PCI_HOST_NEEDS, &host, err) < 0)
		return -1;
	gpu_list_build(&host, &gpus);
	if (gpusel_select(&gpus, argv + optind, (size_t)(argc - optind), &sel,
			  err) < 0)
		goto out;
	if (!bind) {
		if (vfio_release(env, sel.fns, sel.n_fns, &released, err) < 0)
			goto out;
		if (env->verbosity >= 0)
			printf("Released %zu function%s to their drivers\n",
			       released, released == 1 ? "" : "s");
		ret = VMCTL_EXIT_OK;
		goto out;
	}
	for (size_t g = 0; g < sel.n_gpus; g++) {
		if (sel.gpus[g]->verdict == GPU_NO_IOMMU) {
			vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
					"no IOMMU groups: enable the IOMMU "
					"first (vmctl host-setup)");
			goto out;
		}
		if (sel.gpus[g]->verdict == GPU_UNSAFE && !force) {
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					"refusing: %s (--force to do it "
					"anyway)", sel.gpus[g]->reason);
			goto out;
		}
	}
	if (vfio_plan_bind(env, &host, sel.fns, sel.n_fns, &plan, err) < 0)
		goto out;
	if (env->verbosity > 0) {
		cleanup_free char *text = vfio_plan_render(&plan);

		fputs(text, stdout);
	}
	if (vfio_bind(env, &plan, err) < 0)
		goto out;
	if (env->verbosity >= 0 && plan.n == 0)
		printf("Already on vfio-pci\n");
	else if (env->verbosity >= 0)
		printf("Bound %zu function%s to vfio-pci\n", plan.n,
		       plan.n == 1 ? "" : "s");
	ret = VMCTL_EXIT_OK;
out:
	vfio_plan_clear(&plan);
	gpusel_clear(&sel);
	gpu_list_clear(&gpus);
	pci_host_clear(&host);
	return ret;
}

static int cmd_bind_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	return run(&cmd_bind_entry, true, env, argc, argv, err);
}

static int cmd_release_exec(struct vmctl_env *env, int argc, char **argv,
			    struct vmctl_error **err)
{
	return run(&cmd_release_entry, false, env, argc, argv, err);
}

const struct cmd_entry cmd_bind_entry = {
	.name = "bind",
	.usage = "SELECTOR... [--force]",
	.summary = "move GPUs to vfio-pci now (all functions of each slot)",
	.help = "For each function: driver_override=vfio-pci, unbind, "
		"drivers_probe; then\nwait for /dev/vfio/GROUP. The drivers "
		"they had are recorded for `release`;\nif any step fails, "
		"every function goes back to the driver it had.\n",
	.exec = cmd_bind_exec,
};

const struct cmd_entry cmd_release_entry = {
	.name = "release",
	.usage = "SELECTOR...",
	.summary = "give GPUs on vfio-pci back to their own drivers",
	.help = "Clears driver_override and re-probes each function, so it "
		"returns to the\ndriver recorded when it was bound.\n",
	.exec = cmd_release_exec,
};
