// SPDX-License-Identifier: GPL-2.0-or-later
/* The lifecycle's claim steps (include/vmctl/vm-claims.h). */
#include <stdlib.h>
#include <unistd.h>

#include "vmctl/broker.h"
#include "vmctl/claims.h"
#include "vmctl/gpu.h"
#include "vmctl/hostconf.h"
#include "vmctl/hostinv.h"
#include "vmctl/pci.h"
#include "vmctl/pcirom.h"
#include "vmctl/proc.h"
#include "vmctl/usb.h"
#include "vmctl/vfio.h"
#include "vmctl/vm-claims.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

/* Every function of the spec's GPUs' slots, function 0 first. */
static int resolve_gpus(const struct pci_host *pci,
			const struct vmctl_spec *spec, struct pci_addr **out,
			size_t *n_out, struct vmctl_error **err)
{
	for (size_t i = 0; i < spec->n_gpus; i++) {
		const struct spec_gpu *g = &spec->gpus[i];
		struct pci_addr *fns = NULL;
		size_t n = 0;

		if (gpu_resolve_or_given(pci, g, &fns, &n, err) < 0)
			return vmctl_error_wrap(err, "gpu[%zu]", i);
		*out = xreallocarray(*out, *n_out + n, sizeof(**out));
		for (size_t f = 0; f < n; f++)
			(*out)[(*n_out)++] = fns[f];
		free(fns);
	}
	return 0;
}

void vm_claims_own(const struct vmctl_env *env, struct vm_state *st)
{
	if (proc_identify(env, getpid(), &st->claim.owner) < 0)
		st->claim.owner = (struct proc_id){ 0 };
}

/* Record what the plan says this VM holds. */
static void claim_record(const struct broker_plan *plan, struct vm_claim *c)
{
	vm_claim_clear(c);
	c->recorded = true;
	c->memory = plan->claim.memory;
	c->gpus = xmemdup(plan->claim.gpu_functions,
			  plan->claim.n_gpu_functions * sizeof(*c->gpus));
	c->n_gpus = plan->claim.n_gpu_functions;
	for (size_t i = 0; i < plan->claim.cpus.n; i++)
		cpulist_add(&c->cpus, plan->claim.cpus.v[i]);
	c->vcpu_cpus = xmemdup(plan->vcpu_cpus,
			       plan->n_vcpus * sizeof(*c->vcpu_cpus));
	c->n_vcpus = plan->n_vcpus;
	for (size_t i = 0; i < plan->emulator_cpus.n; i++)
		cpulist_add(&c->emulator_cpus, plan->emulator_cpus.v[i]);
	c->node = plan->node;
	c->hugepage_size = plan->claim.hugepage_size;
	c->hugepages = plan->claim.hugepages;
	c->hugepage_node = plan->claim.hugepage_node;
	strv_copy(&c->usb, &plan->claim.usb);
}

/* The host USB devices the spec's usb: entries mean (usb_resolve()), as
 * the broker's request names them: "BUS-PORT", and for refusals how a
 * user knows them. */
static int resolve_usb(const struct vmctl_env *env,
		       const struct vmctl_spec *spec, struct strv *names,
		       struct strv *what, struct vmctl_error **err)
{
	struct usb_host host = { 0 };
	size_t *idx = NULL;

	if (spec->n_usb == 0)
		return 0;
	if (usb_host_read(env, &host, err) < 0 ||
	    usb_resolve(spec, &host, &idx, err) < 0) {
		usb_host_clear(&host);
		return -1;
	}
	for (size_t i = 0; i < spec->n_usb; i++) {
		strv_push(names, host.v[idx[i]].name);
		strv_take(what, usb_device_describe(&host.v[idx[i]]));
	}
	free(idx);
	usb_host_clear(&host);
	return 0;
}

static int plan_locked(const struct vmctl_env *env, const char *name,
		       const struct vmctl_spec *spec, bool overcommit,
		       struct vm_state *st, struct vmctl_error **err)
{
	struct pci_host pci = { 0 };
	struct hostinv inv = { 0 };
	struct broker_claims held = { 0 };
	struct broker_plan plan = { .node = -1 };
	struct pci_addr *fns = NULL;
	struct hostconf conf;
	struct strv usb = { 0 }, usb_what = { 0 };
	size_t n_fns = 0;
	int ret = -1;

	/* Without a GPU to place, the PCI tree is not needed: others'
	 * GPUs cannot collide with it. */
	if (spec->n_gpus > 0 &&
	    pci_host_read(env, PCI_HOST_GPU_SCOPE, &pci, err) < 0)
		goto out;
	if (hostinv_read(env, &pci, &inv, err) < 0 ||
	    hostconf_read(env, &conf, err) < 0 ||
	    resolve_gpus(&pci, spec, &fns, &n_fns, err) < 0 ||
	    resolve_usb(env, spec, &usb, &usb_what, err) < 0 ||
	    claims_read_running(env, &pci, &inv, &held, err) < 0)
		goto out;
	{
		const struct broker_request req = {
			.vm = name,
			.memory = spec->memory,
			.hugepages = spec->hugepages,
			.cpus = spec_cpu_count(spec),
			.pin = spec->cpus.pin,
			.pin_list = &spec->cpus.pin_list,
			.gpu_functions = fns,
			.n_gpu_functions = n_fns,
			.usb = (const char *const *)usb.v,
			.usb_what = (const char *const *)usb_what.v,
			.n_usb = usb.n,
			.overcommit = spec->overcommit || overcommit,
			.reserve = hostconf_reserve(&conf, inv.mem_total),
		};

		if (broker_plan(&inv, &held, &req, &plan, err) < 0)
			goto out;
	}
	claim_record(&plan, &st->claim);
	vm_claims_own(env, st);
	if (state_write(env, name, st, err) < 0) {
		vm_claim_clear(&st->claim);
		goto out;
	}
	ret = 0;
out:
	free(fns);
	strv_clear(&usb);
	strv_clear(&usb_what);
	broker_plan_clear(&plan);
	broker_claims_clear(&held);
	hostinv_clear(&inv);
	pci_host_clear(&pci);
	return ret;
}

int vm_claims_take(const struct vmctl_env *env, const char *name,
		   const struct vmctl_spec *spec, bool overcommit,
		   struct vm_state *st, struct vmctl_error **err)
{
	int lock, ret;

	/* What crashed VMs bound goes back first (their claims no longer
	 * count, but their cards are still on vfio-pci). */
	vm_reconcile_all(env);
	lock = state_lock_global(env, err);
	if (lock < 0)
		return -1;
	ret = plan_locked(env, name, spec, overcommit, st, err);
	close(lock);
	return ret;
}

/* The GPU whose slot holds `fn`. */
static const struct gpu_info *gpu_of(const struct gpu_list *list,
				     const struct pci_addr *fn)
{
	for (size_t k = 0; k < list->n; k++)
		for (size_t f = 0; f < list->v[k].n_slot; f++)
			if (pci_addr_cmp(&list->v[k].slot[f]->addr, fn) == 0)
				return &list->v[k];
	return NULL;
}

/*
 * gpu[i].rom: a PCI option ROM image (pcirom.c's checks: signature,
 * PCIR structure, lengths, chain) with an image for the card's vendor.
 * Another device id of that vendor is accepted: vendors build one ROM
 * for related cards.  A ROM for another vendor's card is refused.
 */
static int check_rom(const struct spec_gpu *g, size_t i,
		     const struct pci_function *fn0, struct vmctl_error **err)
{
	struct pcirom_info rom = { 0 };
	bool vendor = false;

	if (g->rom == NULL)
		return 0;
	if (pcirom_check_file(g->rom, &rom, err) < 0)
		return vmctl_error_wrap(err, "gpu[%zu].rom", i);
	for (size_t k = 0; k < rom.n; k++)
		vendor |= rom.images[k].vendor_id == fn0->vendor_id;
	if (!vendor) {
		cleanup_free char *what = pcirom_describe(&rom);

		pcirom_info_clear(&rom);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "gpu[%zu].rom: %s is for another card "
				       "(%s), not %04x:%04x", i, g->rom, what,
				       fn0->vendor_id, fn0->device_id);
	}
	pcirom_info_clear(&rom);
	return 0;
}

int vm_claims_bind(const struct vmctl_env *env, const char *name,
		   const struct vmctl_spec *spec, struct vm_state *st,
		   struct vmctl_error **err)
{
	struct pci_host host = { 0 };
	struct gpu_list list = { 0 };
	struct vfio_plan plan = { 0 };
	const struct pci_function **bind = NULL;
	size_t n_bind = 0;
	int ret = -1;

	if (spec->n_gpus == 0)
		return 0;
	if (pci_host_read(env, PCI_HOST_NEEDS, &host, err) < 0)
		return -1;
	gpu_list_build(&host, &list);
	bind = xcalloc(host.n ? host.n : 1, sizeof(*bind));
	for (size_t i = 0; i < spec->n_gpus; i++) {
		const struct spec_gpu *g = &spec->gpus[i];
		struct pci_addr *fns = NULL;
		const struct gpu_info *info;
		size_t n = 0;

		if (gpu_resolve(&host, g, &fns, &n, err) < 0) {
			vmctl_error_wrap(err, "gpu[%zu]", i);
			goto out;
		}
		info = n > 0 ? gpu_of(&list, &fns[0]) : NULL;
		free(fns);
		if (info == NULL) {
			vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
					"gpu[%zu]: not a GPU slot", i);
			goto out;
		}
		if (check_rom(g, i, info->slot[0], err) < 0)
			goto out;
		switch (info->verdict) {
		case GPU_READY:
			break;
		case GPU_BINDABLE:
			if (!g->managed) {
				vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
						"gpu[%zu]: %s; run `vmctl "
						"host-setup` and reboot, `vmctl "
						"bind`, or set gpu[%zu].managed: "
						"true", i, info->reason, i);
				goto out;
			}
			for (size_t f = 0; f < info->n_to_bind; f++)
				bind[n_bind++] = info->to_bind[f];
			break;
		case GPU_UNSAFE:
		case GPU_NO_IOMMU:
			vmctl_error_set(err, info->verdict == GPU_NO_IOMMU
					? VMCTL_EXIT_UNAVAILABLE
					: VMCTL_EXIT_FAILURE, 0, "gpu[%zu]: %s",
					i, info->reason);
			goto out;
		}
	}
	if (n_bind > 0 &&
	    (vfio_plan_bind(env, &host, bind, n_bind, &plan, err) < 0 ||
	     vfio_bind(env, &plan, err) < 0))
		goto out;
	/* What this start moved, and so what its stop gives back. */
	free(st->claim.bound);
	st->claim.bound = xcalloc(plan.n ? plan.n : 1,
				  sizeof(*st->claim.bound));
	st->claim.n_bound = plan.n;
	for (size_t i = 0; i < plan.n; i++)
		st->claim.bound[i] = plan.v[i].addr;
	ret = plan.n > 0 ? state_write(env, name, st, err) : 0;
out:
	vfio_plan_clear(&plan);
	free(bind);
	gpu_list_clear(&list);
	pci_host_clear(&host);
	return ret;
}

/* Give `n` functions on vfio-pci back to their drivers; all or none
 * (one the host no longer shows stops the lot). */
static void release_functions(const struct vmctl_env *env,
			      const struct pci_host *host,
			      const struct pci_addr *fns, size_t n)
{
	const struct pci_function **sel = xcalloc(n ? n : 1, sizeof(*sel));
	struct vmctl_error *ignored = NULL;
	size_t released;

	for (size_t f = 0; f < n; f++)
		sel[f] = pci_host_find(host, &fns[f]);
	for (size_t f = 0; f < n; f++)
		if (sel[f] == NULL)
			n = 0;
	vfio_release(env, sel, n, &released, &ignored);
	vmctl_error_free(ignored);
	free(sel);
}

/* A VM started before claims were recorded: every function of its
 * managed GPUs goes back, as vmctl did then. */
static void release_legacy(const struct vmctl_env *env, const char *name,
			   const struct pci_host *host)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_SPEC);
	struct vmctl_spec *spec = NULL;
	struct vmctl_error *ignored = NULL;

	if (spec_load_file(path, &spec, &ignored) == 0)
		for (size_t i = 0; i < spec->n_gpus; i++) {
			struct pci_addr *fns = NULL;
			size_t n = 0;

			if (spec->gpus[i].managed &&
			    gpu_resolve(host, &spec->gpus[i], &fns, &n,
					&ignored) == 0)
				release_functions(env, host, fns, n);
			free(fns);
		}
	vmctl_error_free(ignored);
	spec_free(spec);
}

static bool any_managed(const struct vmctl_env *env, const char *name)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_SPEC);
	struct vmctl_spec *spec = NULL;
	struct vmctl_error *ignored = NULL;
	bool any = false;

	if (spec_load_file(path, &spec, &ignored) == 0)
		for (size_t i = 0; i < spec->n_gpus; i++)
			any |= spec->gpus[i].managed;
	vmctl_error_free(ignored);
	spec_free(spec);
	return any;
}

void vm_claims_release(const struct vmctl_env *env, const char *name,
		       struct vm_state *st)
{
	struct pci_host host = { 0 };
	struct vmctl_error *ignored = NULL;
	bool legacy = !st->claim.recorded;

	if ((legacy ? any_managed(env, name) : st->claim.n_bound > 0) &&
	    pci_host_read(env, 0, &host, &ignored) == 0) {
		if (legacy)
			release_legacy(env, name, &host);
		else
			release_functions(env, &host, st->claim.bound,
					  st->claim.n_bound);
	}
	vmctl_error_free(ignored);
	pci_host_clear(&host);
	vm_claim_clear(&st->claim);
}
