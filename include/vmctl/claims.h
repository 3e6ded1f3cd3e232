/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_CLAIMS_H
#define VMCTL_CLAIMS_H

#include "vmctl/broker.h"
#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/hostinv.h"
#include "vmctl/pci.h"

/*
 * What running VMs hold, from the state dir: the broker's `held` input.
 * A VM holds the claim its start recorded in vm.json (struct vm_claim)
 * while its QEMU is alive (pid and start time, proc_alive()), or, before
 * QEMU is up or while a stop gives it back, while the vmctl at work on it
 * is.  A VM started before claims were recorded holds, while its QEMU is
 * alive, its spec's memory and the slots of its spec's GPUs (resolved on
 * `pci`).  IOMMU groups come from `inv`; no CPUs are pinned yet.  A VM
 * whose state or spec cannot be read holds nothing.  Reads only; takes no
 * lock (callers that decide on it hold the state-wide one).
 */
int claims_read_running(const struct vmctl_env *env,
			const struct pci_host *pci, const struct hostinv *inv,
			struct broker_claims *out, struct vmctl_error **err);

#endif
