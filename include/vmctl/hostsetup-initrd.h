/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTSETUP_INITRD_H
#define VMCTL_HOSTSETUP_INITRD_H

#include <stdbool.h>
#include <stddef.h>

#include "vmctl/hostsetup.h"
#include "vmctl/pci.h"

/*
 * host-setup's module part: /etc/modprobe.d (vfio-pci's ids, and softdeps
 * so vfio-pci loads before the drivers of the selected functions), and
 * the initramfs system that must carry vfio-pci (initramfs-tools, with a
 * hook binding functions by address where ids cannot tell them apart,
 * dracut, mkinitcpio).
 */

/* The commands that rebuild the initramfs images. */
void hs_regen_initrd(const char *root, enum hs_initrd initrd,
			    struct strv **cmds, size_t *n);

/* The ids vfio-pci's `options ... ids=` lines in /etc/modprobe.d give. */
void hs_modprobe_ids(const char *root, struct strv *ids);

/*
 * /etc/modprobe.d: plan->ids (already the union with what is there) in
 * every `options vfio-pci ids=` line, or in vfio.conf when there is none,
 * and a softdep loading vfio-pci first for each of `modules` that lacks
 * one.  Other lines and options stay.  *changed: a file changes.
 */
int hs_plan_modprobe(const char *root, struct hs_plan *plan,
		     const struct strv *modules, bool *changed,
		     struct vmctl_error **err);

/* The initramfs: vfio modules, the by-address hook for the functions
 * marked in `by_address`, and its rebuild when anything it holds changed
 * (modprobe_changed: the modprobe.d files it copies). */
int hs_plan_initrd(const char *root,
			  const struct pci_function *const *fns, size_t n,
			  const bool *by_address, bool any_by_address,
			  struct hs_plan *plan, bool modprobe_changed,
			  struct vmctl_error **err);

#endif
