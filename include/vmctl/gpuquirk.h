/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_GPUQUIRK_H
#define VMCTL_GPUQUIRK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "vmctl/gpu.h"
#include "vmctl/pci.h"

/*
 * What users of GPU passthrough trip over that the verdict does not show:
 * pure judgements over a GPU's functions (gpu list, host-check).
 *
 *   reset-bug  an AMD card that does not come back from a reset (Polaris,
 *              Vega, Navi 10/12/14): a VM's second start finds it hung,
 *              unless the vendor-reset module resets it and reset_method
 *              says device_specific;
 *   bar-hole64 64-bit BARs (Resizable BAR: 16, 32, 64 GiB) larger than
 *              the 64-bit PCI hole QEMU's q35 gives the guest by default,
 *              so the guest's firmware cannot map them.
 */

enum gpuquirk_kind { GPUQUIRK_RESET_BUG, GPUQUIRK_BAR_HOLE64 };

/* QEMU q35's default pci-hole64-size (hw/pci-host/q35.c,
 * Q35_PCI_HOST_HOLE64_SIZE_DEFAULT; QEMU 7.2's `-device
 * q35-pcihost,help` says 34359738368). */
#define GPUQUIRK_Q35_HOLE64 (UINT64_C(32) << 30)

struct gpuquirk {
	enum gpuquirk_kind kind;
	const struct pci_function *fn;   /* borrowed */
	char *message;                   /* one line */
	char *fix;                       /* one line */
};

struct gpuquirk_list {
	struct gpuquirk *v;
	size_t n;
};

/* The AMD family with the reset bug ("Polaris 10", "Navi 10"), or NULL. */
const char *gpuquirk_reset_family(unsigned vendor_id, unsigned device_id);

/* The 64-bit memory BARs of the slot's functions together, bytes. */
uint64_t gpuquirk_bar64_total(const struct gpu_info *g);

/* The quirks of one GPU (its slot's functions), appended to out. */
void gpuquirk_judge(const struct gpu_info *g, struct gpuquirk_list *out);
void gpuquirk_list_clear(struct gpuquirk_list *list);

const char *gpuquirk_kind_name(enum gpuquirk_kind kind);
/* {"kind", "address", "message", "fix"} (docs/json.md). */
cJSON *gpuquirk_json(const struct gpuquirk *q);

#endif
