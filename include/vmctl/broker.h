/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_BROKER_H
#define VMCTL_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmctl/cpulist.h"
#include "vmctl/error.h"
#include "vmctl/hostinv.h"
#include "vmctl/spec.h"
#include "vmctl/strv.h"

/*
 * The resource broker's planner: pure.  What the host has (struct
 * hostinv) and what running VMs hold (their claims) in, a request out of
 * a VM's spec in; out comes the claim to record and how to pin, or a
 * refusal: an error (status 1) whose message says what collides and with
 * whom.  Rules (docs/ARCHITECTURE.md, "Resource broker"):
 *
 *   GPUs     every function of a slot and the IOMMU groups they are in
 *            belong to one VM
 *   memory   running VMs' RAM + the host reserve <= host RAM, unless the
 *            request overcommits; a VM with a GPU never does (its RAM is
 *            pinned for DMA)
 *   CPUs     `auto` pins vCPUs to whole cores of the GPU's NUMA node (the
 *            node with most free cores without a GPU), SMT siblings
 *            together; QEMU's other threads get the free CPUs beside
 *            them; a core pinned exclusively belongs to one VM
 *   hugepages  the pages must be free on that node now
 */


/* What one VM holds. */
struct broker_claim {
	char *vm;
	struct pci_addr *gpu_functions;   /* every function of its GPUs' slots */
	size_t n_gpu_functions;
	int *iommu_groups;                /* the groups those are in */
	size_t n_iommu_groups;
	struct cpulist cpus;     /* host CPUs its vCPUs are pinned to */
	bool exclusive;          /* their cores are the VM's alone */
	uint64_t memory;         /* bytes */
	uint64_t hugepage_size;  /* bytes per page; 0: ordinary memory */
	uint64_t hugepages;
	int hugepage_node;       /* -1 when hugepage_size is 0 */
	bool pending;            /* its QEMU is not up yet: its hugepages
				  * still count as free in the inventory */
	struct strv usb;         /* host USB devices, "BUS-PORT" (usb.h) */
};

struct broker_claims {
	struct broker_claim *v;
	size_t n;
};

/* A new, empty claim for `vm` at the end of the list. */
struct broker_claim *broker_claims_add(struct broker_claims *claims,
				       const char *vm);
/* Add PCI functions (a GPU's slot, as gpu_resolve() gives it) and the
 * IOMMU groups the inventory puts them in. */
void broker_claim_add_functions(struct broker_claim *claim,
				const struct hostinv *inv,
				const struct pci_addr *fns, size_t n);
void broker_claim_clear(struct broker_claim *claim);
void broker_claims_clear(struct broker_claims *claims);

#define BROKER_RESERVE_DEFAULT UINT64_MAX

struct broker_request {
	const char *vm;
	uint64_t memory;                  /* bytes */
	enum spec_hugepages hugepages;
	unsigned cpus;                    /* vCPUs */
	enum spec_pin pin;
	const struct cpulist *pin_list;   /* SPEC_PIN_LIST: host CPUs */
	const struct pci_addr *gpu_functions;  /* resolved slots (gpu.c) */
	size_t n_gpu_functions;
	/* Host USB devices ("BUS-PORT") and how a refusal names each. */
	const char *const *usb;
	const char *const *usb_what;
	size_t n_usb;
	bool overcommit;
	uint64_t reserve;    /* bytes kept for the host (the configured
			      * one: hostconf_reserve()), or
			      * BROKER_RESERVE_DEFAULT: max(10 %, 2 GiB) */
};

struct broker_plan {
	struct broker_claim claim;        /* what to record */
	unsigned *vcpu_cpus;              /* vCPU i on host CPU vcpu_cpus[i] */
	size_t n_vcpus;                   /* 0: not pinned */
	struct cpulist emulator_cpus;     /* QEMU's other threads */
	int node;                         /* the NUMA node chosen; -1 none */
};

/*
 * Plan a request against what `held` holds (claims of `req->vm` itself
 * are ignored: they are stale).  0 and *plan filled, or -1 with the
 * refusal in *err.
 */
int broker_plan(const struct hostinv *inv, const struct broker_claims *held,
		const struct broker_request *req, struct broker_plan *plan,
		struct vmctl_error **err);
void broker_plan_clear(struct broker_plan *plan);

/* max(total / 10, 2 GiB), never more than total. */
uint64_t broker_reserve_default(uint64_t total);
/* The RAM held by every claim but `except_vm`'s (NULL: all). */
uint64_t broker_memory_held(const struct broker_claims *held,
			    const char *except_vm);
/* The claim holding PCI function `fn`, or its IOMMU group (-1: none). */
const struct broker_claim *broker_gpu_holder(const struct broker_claims *held,
					     const struct pci_addr *fn,
					     int group, const char *except_vm);
/* The claim holding host USB device `name` ("3-1.2"). */
const struct broker_claim *broker_usb_holder(const struct broker_claims *held,
					     const char *name,
					     const char *except_vm);
/* The claim pinning CPU `cpu`'s core exclusively. */
const struct broker_claim *broker_cpu_holder(const struct hostinv *inv,
					     const struct broker_claims *held,
					     unsigned cpu,
					     const char *except_vm);

/* Hugepages: "2M", "1G", "auto" (and "none"); -1 for anything else. */
int broker_huge_parse(const char *s, enum spec_hugepages *out);
const char *broker_huge_name(enum spec_hugepages h);
/*
 * The page size and count for `memory`: 2M and 1G as asked; auto picks 1G
 * when memory is a multiple of 1 GiB and `free_1g` pages cover it, else
 * 2M.  Refused (status 1) when memory is not a multiple of the size.
 */
int broker_hugepages_pick(enum spec_hugepages mode, uint64_t memory,
			  uint64_t free_1g, uint64_t *size, uint64_t *pages,
			  struct vmctl_error **err);
/* "16 GiB", "512 MiB", "6.2 GiB": for messages. */
char *broker_size_format(uint64_t bytes);

#endif
