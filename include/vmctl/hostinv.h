/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTINV_H
#define VMCTL_HOSTINV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmctl/cpulist.h"
#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/pci.h"

/*
 * What the host has for VMs to hold: NUMA nodes with their CPUs, memory
 * and hugepages, CPUs with their core and package, total memory, and the
 * GPUs with their node and IOMMU group.  hostinv_read() reads it through
 * the roots in struct vmctl_env (executor); the broker (broker.c) plans on
 * it purely, and tests build one by hand.
 */

/* The hugepage sizes vmctl knows, in bytes. */
#define HOSTINV_HUGE_2M  (UINT64_C(2) << 20)
#define HOSTINV_HUGE_1G  (UINT64_C(1) << 30)
#define HOSTINV_N_HUGE   2   /* [0]: 2M, [1]: 1G */

struct hostinv_hugepages {
	uint64_t size;       /* bytes per page */
	uint64_t total;      /* nr_hugepages */
	uint64_t free;       /* free_hugepages */
};

struct hostinv_node {
	int id;
	struct cpulist cpus;
	uint64_t mem_total, mem_free;      /* bytes; 0 when unknown */
	struct hostinv_hugepages huge[HOSTINV_N_HUGE];
};

struct hostinv_cpu {
	unsigned id;
	int node;            /* its NUMA node's id */
	int package;         /* physical_package_id; -1 unknown */
	int core_id;         /* topology core_id; -1 unknown */
	/* The lowest CPU of its thread_siblings_list: CPUs with the same
	 * `core` share one physical core (SMT threads). */
	unsigned core;
	bool online;
};

/* One PCI function of a GPU's slot. */
struct hostinv_function {
	struct pci_addr addr;
	int iommu_group;     /* -1: none */
};

struct hostinv_gpu {
	struct pci_addr addr;             /* the display function */
	struct hostinv_function *functions;  /* the slot, function 0 first */
	size_t n_functions;
	int node;            /* NUMA node; -1 unknown */
	int iommu_group;     /* the display function's; -1 none */
	char *name;          /* "NVIDIA Corporation GA102 ..." or ids */
	char *driver;        /* NULL: none */
	const char *verdict; /* gpu_verdict_name() */
};

struct hostinv {
	bool numa;           /* SYSFS/devices/system/node had nodes */
	struct hostinv_node *nodes;   /* by id */
	size_t n_nodes;
	struct hostinv_cpu *cpus;     /* by id */
	size_t n_cpus;
	uint64_t mem_total;  /* PROC/meminfo MemTotal, bytes */
	uint64_t mem_free;   /* MemAvailable (MemFree without it) */
	struct hostinv_gpu *gpus;
	size_t n_gpus;
};

/*
 * Read the inventory: SYSFS/devices/system/node/nodeN/{cpulist,meminfo,
 * hugepages/hugepages-*kB/{nr,free}_hugepages},
 * SYSFS/devices/system/cpu/{online,cpuN/topology/{core_id,...}}, PROC/meminfo, and
 * the GPUs through pci_host_read() (when `pci` is NULL; else from it).
 * A host without node directories is one node 0 holding every CPU and
 * all memory (its hugepages from SYSFS/kernel/mm/hugepages); a host
 * without cpu directories has the CPUs PROC/cpuinfo counts, each a core.
 */
int hostinv_read(const struct vmctl_env *env, const struct pci_host *pci,
		 struct hostinv *out, struct vmctl_error **err);
void hostinv_clear(struct hostinv *inv);
/* PROC/meminfo's MemTotal alone, in bytes. */
int hostinv_read_mem_total(const struct vmctl_env *env, uint64_t *out,
			   struct vmctl_error **err);

/* Pure helpers. */
const struct hostinv_node *hostinv_node(const struct hostinv *inv, int id);
const struct hostinv_cpu *hostinv_cpu(const struct hostinv *inv,
				      unsigned id);
const struct hostinv_gpu *hostinv_gpu_of(const struct hostinv *inv,
					 const struct pci_addr *fn);
/* The index in huge[] of a page size; -1 for a size vmctl does not use. */
int hostinv_huge_index(uint64_t size);
/* "MemTotal:  32768000 kB" in a meminfo text (PROC/meminfo, or a node's
 * "Node 0 MemTotal: ..." lines): bytes, or -1 when the key is absent. */
int hostinv_meminfo_value(const char *text, const char *key, uint64_t *out);
/* Build the GPU list of an inventory from a PCI host (gpu.c's view). */
void hostinv_gpus_from_pci(struct hostinv *inv, const struct pci_host *pci);

#endif
