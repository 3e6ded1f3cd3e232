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

/* ---- USB devices by where they are plugged in ----------------------------
 *
 * libvirt's <hostdev type='usb'> names a device by bus and *device number*,
 * which changes on every re-plug; vmctl's spec names it by bus and port.
 * A domain made from such an entry keeps the port in vmctl's mark
 * (<vmctl:usb index='I' bus='B' port='P'/> in <metadata>) and its hostdev
 * (alias ua-usb-hostI) gets the device number the port has at each start,
 * read from the host's usb_device node devices: their <path> (sysfs)
 * ends in the kernel's BUS-PORT name ("3-1.2"), their capability says
 * <bus> and <device>.
 */

/* One usb_device node device: port NULL for a root hub ("usb3"). */
struct lvnodedev_usb {
	unsigned bus, device;
	char *port;                  /* "1.2" */
	unsigned vendor_id, product_id;
};

/* Parse one node device's XML: 0, or -1 when it is no usb_device with
 * a bus and device number (*out cleared). */
int lvnodedev_parse_usb(const char *xml, size_t len,
			struct lvnodedev_usb *out);
void lvnodedev_usb_clear(struct lvnodedev_usb *dev);

/* A spec entry by port, as vmctl's mark keeps it: usb[index]. */
struct lvnodedev_usb_port {
	unsigned index;
	unsigned bus;
	char *port;
};

/*
 * Which device number each port has now, from the node devices' XML
 * documents docs[0..n_docs) (any capability; the others are skipped):
 * devices[i] for ports[i].  Refused: a port with nothing plugged in
 * (69, "URI: usb[I]: nothing plugged in at bus B port P on that host"),
 * two entries at one port (65).
 */
int lvnodedev_usb_resolve(const char *const *docs, size_t n_docs,
			  const struct lvnodedev_usb_port *ports,
			  size_t n_ports, const char *uri, unsigned *devices,
			  struct vmctl_error **err);

/* The ports vmctl's mark in a domain's XML lists (*out to free with
 * lvnodedev_usb_ports_free, NULL when none).  -1: not a <domain>. */
int lvnodedev_domain_usb_ports(const char *xml, size_t len,
			       struct lvnodedev_usb_port **out, size_t *n);
void lvnodedev_usb_ports_free(struct lvnodedev_usb_port *ports, size_t n);

/*
 * The domain's XML with the hostdev of each port (alias ua-usb-hostI) at
 * <address bus='B' device='devices[i]'/>: 1 with *out (a new document)
 * when that changed anything, 0 when it was so already, -1 when the text
 * is not a <domain> or a port's hostdev is missing.
 */
int lvnodedev_domain_usb_set(const char *xml, size_t len,
			     const struct lvnodedev_usb_port *ports,
			     const unsigned *devices, size_t n, char **out);

#endif
