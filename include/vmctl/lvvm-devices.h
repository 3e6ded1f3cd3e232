/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVVM_DEVICES_H
#define VMCTL_LVVM_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "vmctl/error.h"
#include "vmctl/gpu.h"
#include "vmctl/pci.h"
#include "vmctl/qemu-argv.h"
#include "vmctl/spec.h"

/*
 * What a spec asks of a libvirt host beyond disks: its GPUs and its
 * hugepages, settled before anything is defined so a create that cannot
 * run there leaves nothing behind and says why in one line.
 *
 * GPUs are found through libvirt's node devices (the same verdicts as
 * `gpu list --connect`); each passes through with every function of its
 * slot as <hostdev managed='yes'>, so libvirt moves the functions to
 * vfio-pci when the domain starts and back when it stops.  libvirt is the
 * arbiter of who holds a device on its host (a second domain with the same
 * hostdev does not start); vmctl asks first only to name the holder.
 */

struct lvvm_devices {
	struct pci_host pci;          /* the host's PCI functions, when GPUs */
	struct qemu_gpu *gpus;        /* one per spec->gpus entry */
	size_t n_gpus;
	uint64_t hugepage_size;       /* bytes; 0: ordinary memory */
};

/* A running domain's PCI host devices (for the holder check). */
struct lvvm_holder {
	const char *domain;
	const struct pci_addr *addrs;
	size_t n_addrs;
};

/*
 * Pure: refuse a GPU that cannot be passed through on this host (unsafe,
 * no IOMMU) or that a running domain holds (any function of its slot or
 * another member of its IOMMU group).  `g` is gpu_list_build()'s entry
 * for the card; `what` names it in messages ("gpu[0]").
 */
int lvvm_gpu_check(const struct gpu_info *g,
		   const struct lvvm_holder *holders, size_t n_holders,
		   const char *uri, const char *what,
		   struct vmctl_error **err);

/* Pure: the holder of any function of g's slot or another member of its
 * IOMMU group, or NULL (what `host --all-hosts` shows). */
const struct lvvm_holder *lvvm_holder_of_gpu(const struct gpu_info *g,
			       const struct lvvm_holder *holders,
			       size_t n_holders);

/*
 * Pure: the hugepages a spec needs, against the host's free pages of
 * each size (free_2m, free_1g): the size (auto: 1G when they cover it,
 * else 2M) or a refusal saying how many are needed and free.
 */
int lvvm_hugepages_pick(const struct vmctl_spec *spec, uint64_t free_2m,
			uint64_t free_1g, const char *uri, uint64_t *size,
			struct vmctl_error **err);

/*
 * Pure: the spec's GPUs on a host whose PCI functions are `pci` and whose
 * running domains hold `holders`: one qemu_gpu per spec->gpus entry (the
 * functions of its card's slot), or the first refusal (gpu_resolve()'s,
 * a card two entries select, lvvm_gpu_check()'s), naming `uri`.
 * *out to free with its functions.  `create --host auto` asks it of every
 * host (lvfleet.h), the create on one host through lvvm_devices_resolve().
 */
int lvvm_gpus_match(const struct pci_host *pci,
		    const struct lvvm_holder *holders, size_t n_holders,
		    const struct vmctl_spec *spec, const char *uri,
		    struct qemu_gpu **out, size_t *n_out,
		    struct vmctl_error **err);

/* Every running domain's PCI host devices, as holders. */
struct lvvm_holders {
	struct lvvm_holder *v;
	size_t n;
	char **names;
	struct pci_addr **addrs;
	bool *vmctl;                  /* v[i]'s domain holds vmctl's mark */
};

int lvvm_holders_read(virConnectPtr conn, const char *uri,
		      struct lvvm_holders *out, struct vmctl_error **err);
void lvvm_holders_clear(struct lvvm_holders *h);

/* Free pages of `kib` KiB on the whole host; a size the host does not
 * have has none free. */
uint64_t lvvm_free_pages(virConnectPtr conn, unsigned kib);

/* The executor: node devices, running domains' hostdevs and free pages
 * read from the connection, then the checks above. */
int lvvm_devices_resolve(virConnectPtr conn, const char *uri,
			 const struct vmctl_spec *spec,
			 struct lvvm_devices *out, struct vmctl_error **err);
void lvvm_devices_clear(struct lvvm_devices *d);

/*
 * USB devices by bus/port (lvnodedev.h): lvvm_usb_check() refuses a spec
 * whose ports have nothing plugged in on the host (create that starts,
 * before anything is made); lvvm_usb_refresh(), before each start,
 * rewrites the domain's persistent definition with the device number each
 * port of its mark has now (nothing when they are so already).  Both
 * read the host's usb_device node devices.
 */
int lvvm_usb_check(virConnectPtr conn, const char *uri,
		   const struct vmctl_spec *spec, struct vmctl_error **err);
int lvvm_usb_refresh(virConnectPtr conn, const char *uri, virDomainPtr dom,
		     struct vmctl_error **err);

#endif
