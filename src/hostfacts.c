// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdlib.h>
#include <string.h>

#include "vmctl/accel.h"
#include "vmctl/broker.h"
#include "vmctl/gpu.h"
#include "vmctl/hostfacts.h"
#include "vmctl/hostinv.h"
#include "vmctl/pci.h"
#include "vmctl/ports.h"
#include "vmctl/state.h"
#include "vmctl/xalloc.h"

#define SSH_PORT_FIRST 2222
#define VNC_PORT_BASE 5900

static enum spec_accel resolve_accel(const struct vmctl_env *env,
				     enum spec_accel asked, char **reason)
{
	struct accel_probe probe;
	enum spec_accel accel;

	if (asked != SPEC_ACCEL_AUTO)
		return asked;
	accel_probe_kvm(env, &probe);
	accel = probe.state == ACCEL_KVM_USABLE ? SPEC_ACCEL_KVM
						: SPEC_ACCEL_TCG;
	*reason = steal_pointer(&probe.reason);
	accel_probe_clear(&probe);
	return accel;
}

/*
 * Each gpu: entry to the functions of one card's slot, through host
 * discovery (gpu.c); an address the host does not show is kept as given
 * (gpu_resolve_or_given()).
 */
static int resolve_gpus(const struct vmctl_spec *spec,
			const struct pci_host *host, struct hostfacts *f,
			struct vmctl_error **err)
{
	f->qemu.gpus = xcalloc(spec->n_gpus, sizeof(*f->qemu.gpus));
	f->qemu.n_gpus = spec->n_gpus;
	for (size_t i = 0; i < spec->n_gpus; i++) {
		const struct spec_gpu *g = &spec->gpus[i];
		struct qemu_gpu *q = &f->qemu.gpus[i];

		q->spec = g;
		if (gpu_resolve_or_given(host, g, &q->functions,
					 &q->n_functions, err) < 0)
			return vmctl_error_wrap(err, "gpu[%zu]", i);
		for (size_t j = 0; j < i; j++)
			if (pci_addr_same_slot(&f->qemu.gpus[j].functions[0],
					       &q->functions[0])) {
				char a[PCI_ADDR_STRLEN];

				return vmctl_error_set(
					err, VMCTL_EXIT_SPEC, 0,
					"gpu[%zu] selects %s, as gpu[%zu] does "
					"(use index to pick another card)", i,
					pci_addr_format(&q->functions[0], a), j);
			}
	}
	return 0;
}

/* The node a spec plainly puts its RAM on, on a host with several: the
 * first GPU's, or the one holding every pinned CPU; else -1. */
static int memory_node(const struct hostinv *inv,
		       const struct vmctl_spec *spec,
		       const struct hostfacts *f)
{
	const struct hostinv_gpu *g = NULL;

	if (inv->n_nodes < 2)
		return -1;
	if (f->qemu.n_gpus > 0 && f->qemu.gpus[0].n_functions > 0)
		g = hostinv_gpu_of(inv, &f->qemu.gpus[0].functions[0]);
	if (g != NULL && g->node >= 0)
		return g->node;
	if (spec->cpus.pin != SPEC_PIN_LIST)
		return -1;
	for (size_t i = 0; i < inv->n_nodes; i++) {
		bool all = true;

		for (size_t j = 0; j < spec->cpus.pin_list.n && all; j++)
			all = cpulist_contains(&inv->nodes[i].cpus,
					       spec->cpus.pin_list.v[j]);
		if (all)
			return inv->nodes[i].id;
	}
	return -1;
}

/*
 * Guest RAM: the hugepage size (auto: 1G pages when enough are free, as
 * broker_hugepages_pick() decides) and the NUMA node to bind it to when
 * the spec makes that plain.  The inventory is read only when it matters.
 * A start takes both from the broker's claim.
 */
static int resolve_memory(const struct vmctl_env *env,
			  const struct vmctl_spec *spec,
			  const struct pci_host *pci, struct hostfacts *f,
			  struct vmctl_error **err)
{
	struct hostinv inv = { 0 };
	uint64_t free_1g = 0, pages;
	int ret;

	f->qemu.mem_node = -1;
	if (spec->hugepages == SPEC_HUGE_NONE)
		return 0;
	/* 2M or 1G, with no GPU or CPU list to place it by. */
	if (spec->hugepages != SPEC_HUGE_AUTO && spec->n_gpus == 0 &&
	    spec->cpus.pin != SPEC_PIN_LIST)
		return broker_hugepages_pick(spec->hugepages, spec->memory, 0,
					     &f->qemu.hugepage_size, &pages,
					     err);
	if (hostinv_read(env, pci, &inv, err) < 0)
		return vmctl_error_wrap(err, "memory.hugepages");
	f->qemu.mem_node = memory_node(&inv, spec, f);
	for (size_t i = 0; i < inv.n_nodes; i++)
		if ((f->qemu.mem_node < 0 || inv.nodes[i].id == f->qemu.mem_node)
		    && inv.nodes[i].huge[1].free > free_1g)
			free_1g = inv.nodes[i].huge[1].free;
	ret = broker_hugepages_pick(spec->hugepages, spec->memory, free_1g,
				    &f->qemu.hugepage_size, &pages, err);
	hostinv_clear(&inv);
	return ret;
}

int hostfacts_gather(const struct vmctl_env *env,
		     const struct vmctl_spec *spec,
		     const struct hostfacts_want *want, struct hostfacts *out,
		     struct vmctl_error **err)
{
	struct hostfacts f = { 0 };
	struct port_set *used = xcalloc(1, sizeof(*used));
	struct pci_host pci = { 0 };
	int ret = -1;

	f.vm_dir = state_vm_dir(env, spec->name);
	f.qemu.vm_dir = f.vm_dir;
	f.qemu.accel = resolve_accel(env, spec->accel, &f.accel_reason);

	if (want != NULL && want->taken != NULL)
		*used = *want->taken;
	ports_add_listening(env, used);
	for (size_t i = 0; i < spec->network.n_forwards; i++)
		if (strcmp(spec->network.forwards[i].proto, "tcp") == 0)
			port_set_add(used, spec->network.forwards[i].host_port);
	f.qemu.ssh_port = spec->network.ssh_port;
	if (f.qemu.ssh_port == 0 && want != NULL && want->ssh_port != 0 &&
	    !port_set_has(used, want->ssh_port))
		f.qemu.ssh_port = want->ssh_port;
	if (f.qemu.ssh_port == 0)
		f.qemu.ssh_port = ports_first_free(used, SSH_PORT_FIRST, 65535);
	port_set_add(used, f.qemu.ssh_port);
	f.qemu.run_as = env->qemu_user;
	f.qemu.vnc_display = spec->vnc.display;
	if (!spec->vnc.enabled || !spec->vnc.password) {
		/* No VNC, or VNC on a UNIX socket: no TCP port. */
		f.qemu.vnc_display = -1;
	} else if (f.qemu.vnc_display < 0 && want != NULL &&
		   want->vnc_display >= 0 &&
		   !port_set_has(used, VNC_PORT_BASE +
					       (unsigned)want->vnc_display)) {
		f.qemu.vnc_display = want->vnc_display;
	} else if (f.qemu.vnc_display < 0) {
		unsigned p = ports_first_free(used, VNC_PORT_BASE,
					      VNC_PORT_BASE + 99);

		f.qemu.vnc_display = p ? (int)(p - VNC_PORT_BASE) : 0;
	}
	if (f.qemu.ssh_port == 0) {
		vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
				"no free TCP port for SSH from %d up",
				SSH_PORT_FIRST);
		goto out;
	}
	if (spec_firmware_is_uefi(spec->firmware)) {
		if (firmware_find(env, spec->firmware, &f.ovmf, err) < 0)
			goto out;
		f.qemu.ovmf_code = f.ovmf.code;
		f.qemu.ovmf_vars_raw = state_ovmf_vars_raw(env, spec->name);
	}
	if ((spec->n_gpus > 0 &&
	     pci_host_read(env, PCI_HOST_GPU_SCOPE, &pci, err) < 0) ||
	    resolve_gpus(spec, &pci, &f, err) < 0 ||
	    resolve_memory(env, spec, &pci, &f, err) < 0)
		goto out;
	*out = f;
	f = (struct hostfacts){ 0 };
	ret = 0;
out:
	pci_host_clear(&pci);
	free(used);
	hostfacts_clear(&f);
	return ret;
}

void hostfacts_clear(struct hostfacts *f)
{
	for (size_t i = 0; i < f->qemu.n_gpus; i++)
		free(f->qemu.gpus[i].functions);
	free(f->qemu.gpus);
	free(f->vm_dir);
	free(f->accel_reason);
	firmware_ovmf_clear(&f->ovmf);
	*f = (struct hostfacts){ 0 };
}
