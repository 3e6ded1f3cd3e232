/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_PCI_H
#define VMCTL_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/spec.h"
#include "vmctl/strv.h"

/*
 * The host's PCI devices as the kernel shows them: what libpci reads
 * (ids, class, header type, names from pci.ids) plus the sysfs attributes
 * it does not give (driver, driver_override, iommu_group, boot_vga,
 * reset_method), the IOMMU groups, and the devices the host itself runs
 * on (the root filesystem's controller, the default-route NIC).  Read
 * through the roots in struct vmctl_env; nothing here writes.
 *
 * Names: libpci owns pci_init, pci_alloc, struct pci_dev...; ours are
 * pci_host_*, pci_function_* and pci_needs_*.
 */

/* A BAR as the kernel assigned it (SYSFS/.../resource). */
struct pci_bar {
	uint64_t size;           /* 0: unused or unassigned */
	bool io;                 /* an I/O port range, not memory */
	bool mem64, prefetch;    /* a 64-bit, prefetchable memory BAR */
};

#define PCI_NUM_BARS 6

/* One PCI function. */
struct pci_function {
	struct pci_addr addr;
	unsigned vendor_id, device_id;
	unsigned subsys_vendor_id, subsys_device_id;  /* 0 when unknown */
	unsigned class_code;     /* 0xCCSSPP: class, subclass, prog-if */
	unsigned revision;
	bool bridge;             /* header type 1 or 2: a bridge or port */
	char *vendor_name;       /* from pci.ids; NULL when unknown */
	char *device_name;
	char *class_name;        /* "VGA compatible controller" */
	char *driver;            /* bound driver, NULL when none */
	char *driver_override;   /* NULL when unset */
	int iommu_group;         /* -1: none */
	int numa_node;           /* -1: none or unknown */
	int boot_vga;            /* 1 or 0; -1 when there is no attribute */
	char *reset_method;      /* NULL: no attribute (old kernel) */
	bool has_parent;         /* the upstream bridge is a PCI function */
	struct pci_addr parent;
	struct pci_bar bars[PCI_NUM_BARS];   /* the `resource` file */
	uint64_t rom_size;       /* the expansion ROM BAR; 0: none */
	/* Read in full.  With PCI_HOST_GPU_SCOPE only the functions a GPU
	 * verdict looks at are; the others have address, ids and class,
	 * and the fields above at their "none" values. */
	bool detailed;
};

/* A device the host itself needs, and why. */
enum pci_need_kind { PCI_NEED_ROOT_FS, PCI_NEED_ROUTE_NIC };

struct pci_need {
	struct pci_addr addr;
	enum pci_need_kind kind;
	char *detail;            /* "/dev/nvme0n1p2", "eno1" */
};

/* A member of an IOMMU group that is not a PCI function. */
struct pci_group_extra {
	int group;
	char *name;
};

struct pci_host {
	struct pci_function *fns;   /* sorted by address */
	size_t n;
	bool iommu;                 /* SYSFS/kernel/iommu_groups holds groups */
	size_t n_groups;
	struct pci_group_extra *extras;
	size_t n_extras;
	struct pci_need *needs;
	size_t n_needs;
	struct strv needs_notes;    /* what could not be traced, and why */
};

enum {
	PCI_HOST_NAMES = 1 << 0,    /* look names up in pci.ids */
	PCI_HOST_NEEDS = 1 << 1,    /* find the root fs and route devices */
	/* Read in full only the slots of display functions and the members
	 * of their IOMMU groups (all a GPU verdict needs; much less I/O on
	 * a big server).  Every function still has address, ids, class. */
	PCI_HOST_GPU_SCOPE = 1 << 2,
};

/*
 * Read the host under env->sysfs (and env->proc, env->dev for the needs).
 * A sysfs without bus/pci reads as a host without PCI devices.
 */
int pci_host_read(const struct vmctl_env *env, unsigned flags,
		  struct pci_host *out, struct vmctl_error **err);
void pci_host_clear(struct pci_host *host);
/* Free a function's strings (a function outside a host's array). */
void pci_function_clear(struct pci_function *fn);

/* Pure helpers. */
const struct pci_function *pci_host_find(const struct pci_host *host,
					 const struct pci_addr *addr);
int pci_addr_cmp(const struct pci_addr *a, const struct pci_addr *b);
bool pci_addr_same_slot(const struct pci_addr *a, const struct pci_addr *b);
/* "0000:01:00.0" into a buffer of at least PCI_ADDR_STRLEN bytes. */
#define PCI_ADDR_STRLEN 16
const char *pci_addr_format(const struct pci_addr *a,
			    char buf[PCI_ADDR_STRLEN]);
/* PCI class 0x03: VGA, XGA, 3D or other display controller. */
bool pci_function_is_display(const struct pci_function *fn);
/* Bound to a driver that leaves the device to userspace: vfio-pci or
 * pci-stub, or bound to nothing (the kernel's VFIO viability rule). */
bool pci_function_released(const struct pci_function *fn);
bool pci_function_on_vfio(const struct pci_function *fn);
const char *pci_need_kind_name(enum pci_need_kind kind);

/* Pure: the BARs and ROM size of a `resource` file ("START END FLAGS"
 * lines, BARs 0-5 then the ROM). */
void pci_parse_resource(const char *text, struct pci_function *fn);

/* What the host runs on: filled into host->needs by pci_host_read() with
 * PCI_HOST_NEEDS (pci-needs.c). */
void pci_needs_read(const struct vmctl_env *env, struct pci_host *host);

/* Pure parsers behind pci_needs_read(), for tests.  The root mount of a
 * PROC/self/mountinfo text: its device number and source. */
int pci_needs_parse_mountinfo(const char *text, unsigned *major,
			      unsigned *minor, char **source, char **fstype);
/* Interfaces of the default routes in PROC/net/route and ipv6_route. */
void pci_needs_parse_route(const char *text, struct strv *ifaces);
void pci_needs_parse_ipv6_route(const char *text, struct strv *ifaces);

#endif
