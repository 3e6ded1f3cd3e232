/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VM_CLAIMS_H
#define VMCTL_VM_CLAIMS_H

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/spec.h"
#include "vmctl/state.h"

/*
 * The lifecycle's claim steps (vm.c calls them with the VM's lock held):
 * take the claim, bind what it needs, give it back.  The decisions are
 * the broker's (broker_plan(), pure); these are its executors.
 */

/*
 * Under the state-wide lock, before anything is bound or launched: plan
 * `spec` against what running VMs hold (claims_read_running()) and record
 * the claim in st->claim and vm.json, owned by this process until QEMU is
 * up: its memory, GPUs, pinned cores (vCPU by vCPU, and the CPUs for
 * QEMU's other threads) and hugepages.  `overcommit` adds to the spec's.
 * A refusal (a GPU another VM holds, memory past the host's, cores
 * another VM pinned, hugepages not free) changes nothing and is returned
 * as the broker words it.
 */
int vm_claims_take(const struct vmctl_env *env, const char *name,
		   const struct vmctl_spec *spec, bool overcommit,
		   struct vm_state *st, struct vmctl_error **err);

/*
 * Check every gpu: entry against the host: its `rom` (a valid option ROM
 * with an image for the card's vendor), and the card must be "ready", or
 * "bindable" with managed: true, in which case its functions go to
 * vfio-pci now, and st->claim.bound (written to vm.json) says which.
 * Nothing is bound unless every entry passes.
 */
int vm_claims_bind(const struct vmctl_env *env, const char *name,
		   const struct vmctl_spec *spec, struct vm_state *st,
		   struct vmctl_error **err);

/* Mark this process as the one at work on st->claim (a stop giving it
 * back), so it still counts for others until it is released. */
void vm_claims_own(const struct vmctl_env *env, struct vm_state *st);

/*
 * Give back what st->claim holds once QEMU is gone: the functions this
 * VM's start moved to vfio-pci go back to their drivers (a card that was
 * on vfio-pci before stays); the record is cleared, the caller writes the
 * state.  A VM started before claims were recorded gives back every
 * function of its managed GPUs, as vmctl did then.
 */
void vm_claims_release(const struct vmctl_env *env, const char *name,
		       struct vm_state *st);

#endif
