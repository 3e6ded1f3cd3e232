/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_GPU_H
#define VMCTL_GPU_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "vmctl/error.h"
#include "vmctl/pci.h"
#include "vmctl/spec.h"

/*
 * The host's GPUs and whether each can be passed through: pure, from a
 * struct pci_host (pci.c reads it; tests build one by hand).  The rules
 * are in docs/ARCHITECTURE.md ("GPU verdicts").
 */

enum gpu_verdict {
	GPU_READY,      /* every function on vfio-pci, the group viable */
	GPU_BINDABLE,   /* viable once the listed functions move to vfio-pci */
	GPU_UNSAFE,     /* the group holds something the host needs */
	GPU_NO_IOMMU,   /* no IOMMU groups: nothing can be passed through */
};

enum gpu_block_kind {
	GPU_BLOCK_ROOT_FS,       /* the root filesystem's controller */
	GPU_BLOCK_ROUTE_NIC,     /* the default route's NIC */
	GPU_BLOCK_BOOT_DISPLAY,  /* the host's active boot display */
	GPU_BLOCK_FOREIGN,       /* another endpoint, on a host driver */
	GPU_BLOCK_NON_PCI,       /* a group member that is no PCI function */
};

/* Why a GPU is unsafe: one per offending device and reason. */
struct gpu_blocker {
	enum gpu_block_kind kind;
	const struct pci_function *fn;   /* NULL for GPU_BLOCK_NON_PCI */
	const char *detail;              /* borrowed: "/dev/sda2", "eno1" */
};

struct gpu_info {
	const struct pci_function *gpu;  /* the display function */
	/* Every function of its slot, function 0 first (the GPU included). */
	const struct pci_function **slot;
	size_t n_slot;
	/* The other members of the slot's IOMMU groups. */
	const struct pci_function **group;
	size_t n_group;
	const char **group_extra;        /* non-PCI members, borrowed */
	size_t n_group_extra;
	bool boot_display;               /* the host's active boot display */
	enum gpu_verdict verdict;
	char *reason;                    /* one line */
	/* GPU_BINDABLE: the slot's functions not on vfio-pci yet. */
	const struct pci_function **to_bind;
	size_t n_to_bind;
	struct gpu_blocker *blockers;    /* GPU_UNSAFE */
	size_t n_blockers;
};

struct gpu_list {
	struct gpu_info *v;
	size_t n;
};

/* One entry per slot holding a display function (PCI class 0x03), in
 * address order.  Borrows from host, which must outlive the list. */
void gpu_list_build(const struct pci_host *host, struct gpu_list *out);
void gpu_list_clear(struct gpu_list *list);

const char *gpu_verdict_name(enum gpu_verdict v);

/* A GPU as `gpu list --json` shows it (docs/json.md), and a function. */
cJSON *gpu_info_json(const struct gpu_info *g);
cJSON *gpu_function_json(const struct pci_function *fn);
const char *gpu_block_kind_name(enum gpu_block_kind k);

/* The host's active boot display: boot_vga set and not handed over to
 * vfio-pci or pci-stub. */
bool gpu_is_boot_display(const struct pci_function *fn);

/* A vendor name as the spec spells it (NVIDIA, AMD, Intel; any case)
 * matches a PCI vendor id. */
bool gpu_vendor_matches(const char *vendor, unsigned vendor_id);

/*
 * The functions a spec `gpu:` entry selects, function 0 first: every
 * function of the chosen card's slot.  vendor: the vendor's GPUs but the
 * host's boot display; id: every card with those ids; `index` counts
 * among them in address order.  address: the slot of that function,
 * whatever its class.  Fails with status 69 when nothing matches.
 */
int gpu_resolve(const struct pci_host *host, const struct spec_gpu *sel,
		struct pci_addr **functions, size_t *n,
		struct vmctl_error **err);

/*
 * gpu_resolve(), but an `address` the host does not show is kept as given
 * (one function): a plan can be made for another machine, a VM keeps its
 * claim on a card that left the host, and QEMU or the bind step says what
 * is wrong with it.
 */
int gpu_resolve_or_given(const struct pci_host *host,
			 const struct spec_gpu *sel, struct pci_addr **functions,
			 size_t *n, struct vmctl_error **err);

#endif
