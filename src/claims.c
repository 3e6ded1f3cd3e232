// SPDX-License-Identifier: GPL-2.0-or-later
/* Claims of running VMs, from the state dir (include/vmctl/claims.h). */
#include <stdlib.h>

#include "vmctl/claims.h"
#include "vmctl/gpu.h"
#include "vmctl/proc.h"
#include "vmctl/spec.h"
#include "vmctl/state.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

static void claim_gpus(const struct pci_host *pci, const struct hostinv *inv,
		       const struct vmctl_spec *spec, struct broker_claim *c)
{
	for (size_t i = 0; i < spec->n_gpus; i++) {
		const struct spec_gpu *g = &spec->gpus[i];
		struct pci_addr *fns = NULL;
		struct vmctl_error *e = NULL;
		size_t n = 0;

		/* A card gone from the host is still the VM's. */
		if (gpu_resolve_or_given(pci, g, &fns, &n, &e) == 0)
			broker_claim_add_functions(c, inv, fns, n);
		vmctl_error_free(e);
		free(fns);
	}
}

/*
 * A VM holds its claim while its QEMU lives, and while the vmctl that
 * recorded it (a start before QEMU is up, a stop giving it back) does.
 */
static bool holds(const struct vmctl_env *env, const struct vm_state *st)
{
	if (proc_alive(env, &st->qemu))
		return true;
	return st->qemu.pid == 0 && st->claim.recorded &&
	       proc_alive(env, &st->claim.owner);
}

static void read_one(const struct vmctl_env *env, const struct pci_host *pci,
		     const struct hostinv *inv, const char *name,
		     struct broker_claims *out)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_SPEC);
	struct vm_state st;
	struct vmctl_spec *spec = NULL;
	struct vmctl_error *e = NULL;
	struct broker_claim *c;

	if (state_read(env, name, &st, &e) < 0) {
		vmctl_error_free(e);
		return;
	}
	if (!holds(env, &st)) {
		/* nothing */
	} else if (st.claim.recorded) {
		c = broker_claims_add(out, name);
		c->memory = st.claim.memory;
		broker_claim_add_functions(c, inv, st.claim.gpus,
					   st.claim.n_gpus);
		for (size_t i = 0; i < st.claim.cpus.n; i++)
			cpulist_add(&c->cpus, st.claim.cpus.v[i]);
		c->exclusive = st.claim.cpus.n > 0;
		c->hugepage_size = st.claim.hugepage_size;
		c->hugepages = st.claim.hugepages;
		c->hugepage_node = st.claim.hugepage_node;
		strv_copy(&c->usb, &st.claim.usb);
		/* No QEMU yet: its hugepages are not taken from the
		 * kernel's free count. */
		c->pending = st.qemu.pid == 0;
	} else if (spec_load_file(path, &spec, &e) == 0) {
		/* Started before claims were recorded: its spec says. */
		c = broker_claims_add(out, name);
		c->memory = spec->memory;
		claim_gpus(pci, inv, spec, c);
	}
	vmctl_error_free(e);
	spec_free(spec);
	state_clear(&st);
}

int claims_read_running(const struct vmctl_env *env,
			const struct pci_host *pci, const struct hostinv *inv,
			struct broker_claims *out, struct vmctl_error **err)
{
	struct strv names = { 0 };

	if (state_list(env, &names, err) < 0)
		return -1;
	for (size_t i = 0; i < names.n; i++)
		read_one(env, pci, inv, names.v[i], out);
	strv_clear(&names);
	return 0;
}
