/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVNODEDEV_H
#define VMCTL_LVNODEDEV_H

#include <stddef.h>

#include "vmctl/error.h"
#include "vmctl/pci.h"

/*
 * libvirt's node devices (virNodeDeviceGetXMLDesc) as the struct pci_host
 * that sysfs discovery (pci.c) fills, so `gpu list --connect` judges with
 * the same gpu_list_build().  Pure: XML text in, structs out (libxml2).
 *
 * What libvirt tells: address, vendor/device ids and names, class (with
 * prog-if), driver, IOMMU group and its PCI members, NUMA node, bridges
 * (the pci-bridge/cardbus-bridge capability), the parent bridge.  What it
 * does not, left at pci.c's "unknown" values: revision, subsystem ids (0),
 * class name (NULL), driver_override (NULL), boot_vga (-1), reset_method
 * (NULL: "unknown"), BARs and ROM size (0), the IOMMU groups' non-PCI
 * members, and what the host itself runs on (root filesystem, default
 * route: no needs).
 */

/* One PCI node device. */
struct lvnodedev_pci {
	struct pci_function fn;       /* detailed */
	struct pci_addr *group;       /* the members of fn.iommu_group */
	size_t n_group;
};

/* Parse one node device's XML; `name` (its node device name) names it
 * in errors.  A device without a pci capability is an error (status 1). */
int lvnodedev_parse_pci(const char *name, const char *xml, size_t len,
			struct lvnodedev_pci *out, struct vmctl_error **err);
void lvnodedev_pci_clear(struct lvnodedev_pci *dev);

/*
 * The host of devs[0..n): functions sorted by address, the IOMMU facts
 * (iommu when any device has a group, n_groups the distinct groups), and
 * as group extras the members libvirt names that are no listed device.
 * The functions move into *out; devs is left cleared.
 */
void lvnodedev_host_build(struct lvnodedev_pci *devs, size_t n,
			  struct pci_host *out);

/*
 * The host PCI functions a domain's XML passes through: the source
 * address of each <hostdev mode='subsystem' type='pci'> under <devices>,
 * in document order (*out to free, NULL when none).  Returns 0, or -1
 * when the text is not a <domain> document.
 */
int lvnodedev_domain_hostdevs(const char *xml, size_t len,
			      struct pci_addr **out, size_t *n);

#endif
