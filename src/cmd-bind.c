// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl bind SELECTOR..., vmctl release SELECTOR...: runtime vfio-pci. */
#include <stdio.h>
#include <unistd.h>

#include "vmctl/claims.h"
#include "vmctl/cmd.h"
#include "vmctl/gpu.h"
#include "vmctl/gpusel.h"
#include "vmctl/hostinv.h"
#include "vmctl/pci.h"
#include "vmctl/state.h"
#include "vmctl/vfio.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/xalloc.h"

/*
 * A function a running VM holds (it, or its IOMMU group) is that VM's:
 * refused, or with --force done with a warning.  The caller holds the
 * state-wide lock, so no start claims it meanwhile.
 */
static int check_holders(const struct vmctl_env *env,
			 const struct pci_host *host, const struct gpusel *sel,
			 bool bind, bool force, struct vmctl_error **err)
{
	struct hostinv inv = { 0 };
	struct broker_claims held = { 0 };
	int ret = 0;

	hostinv_gpus_from_pci(&inv, host);
	if (claims_read_running(env, host, &inv, &held, err) < 0) {
		hostinv_clear(&inv);
		return -1;
	}
	for (size_t i = 0; i < sel->n_fns && ret == 0; i++) {
		const struct pci_function *fn = sel->fns[i];
		const struct broker_claim *h = broker_gpu_holder(
			&held, &fn->addr, fn->iommu_group, NULL);
		char a[PCI_ADDR_STRLEN];

		if (h == NULL)
			continue;
		pci_addr_format(&fn->addr, a);
		if (!force) {
			ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					      "GPU %s is in use by VM \"%s\": "
					      "stop it first (--force to %s it "
					      "anyway)", a, h->vm,
					      bind ? "bind" : "release");
		} else if (env->verbosity >= 0) {
			fprintf(stderr, "vmctl: warning: GPU %s is in use by "
				"VM \"%s\"; %s it anyway (--force)\n", a,
				h->vm, bind ? "binding" : "releasing");
		}
	}
	broker_claims_clear(&held);
	hostinv_clear(&inv);
	return ret;
}

static const struct option options[] = {
	{ "force", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

static int run(const struct cmd_entry *cmd, bool bind, struct vmctl_env *env,
	       int argc, char **argv, struct vmctl_error **err)
{
	struct pci_host host = { 0 };
	struct gpu_list gpus = { 0 };
	struct gpusel sel = { 0 };
	struct vfio_plan plan = { 0 };
	bool force = false;
	size_t released = 0;
	int opt, lock = -1, ret = -1;

	while ((opt = cmd_getopt(cmd, env, argc, argv, "f", options)) != -1) {
		if (opt != 'f')
			return cmd_done(opt);
		force = true;
	}
	if (optind >= argc)
		return cmd_usage_error(cmd, err, "which GPUs? (see vmctl gpu "
				       "list)");
	/* A crashed VM's card goes back before the host is read. */
	vm_reconcile_all(env);
	if (pci_host_read(env, PCI_HOST_NEEDS, &host, err) < 0)
		return -1;
	gpu_list_build(&host, &gpus);
	if (gpusel_select(&gpus, argv + optind, (size_t)(argc - optind), &sel,
			  err) < 0)
		goto out;
	lock = state_lock_global(env, err);
	if (lock < 0 || check_holders(env, &host, &sel, bind, force, err) < 0)
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
	if (lock >= 0)
		close(lock);
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
		"every function goes back to the driver it had.\nA function "
		"a running VM holds is refused (--force: done, with a "
		"warning).\n",
	.options = options,
	.exec = cmd_bind_exec,
};

const struct cmd_entry cmd_release_entry = {
	.name = "release",
	.usage = "SELECTOR... [--force]",
	.summary = "give GPUs on vfio-pci back to their own drivers",
	.help = "Clears driver_override and re-probes each function, so it "
		"returns to the\ndriver recorded when it was bound.  A "
		"function a running VM holds is\nrefused (--force: released, "
		"with a warning).\n",
	.options = options,
	.exec = cmd_release_exec,
};
