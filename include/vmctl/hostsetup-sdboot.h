/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTSETUP_SDBOOT_H
#define VMCTL_HOSTSETUP_SDBOOT_H

#include <stddef.h>

#include "vmctl/bootcfg.h"
#include "vmctl/hostsetup.h"

/*
 * systemd-boot: Boot Loader Specification entries (type #1), whose
 * options lines vmctl edits, and unified kernel images (type #2: kernel,
 * initramfs and command line in one EFI binary under ESP/EFI/Linux),
 * which read /etc/kernel/cmdline only when they are built.  A host uses
 * UKIs when /etc/kernel/install.conf says layout=uki, /etc/kernel/uki.conf
 * exists, an ESP holds EFI/Linux/NAME.efi, or a mkinitcpio preset builds one
 * (_uki=); ukify being installed alone does not say it.
 */

#define HS_SDBOOT_TRY "vmctl-try.conf"

enum hs_uki {
	HS_UKI_NONE,
	HS_UKI_KERNEL_INSTALL,   /* kernel-install add KVER IMAGE, each kernel */
	HS_UKI_MKINITCPIO,       /* mkinitcpio -P (presets with _uki=) */
};

/* Whether ROOT boots UKIs and which tool builds them; *why: what says so. */
enum hs_uki hs_uki_detect(const char *root, char **why);

/* The commands that rebuild the UKIs; an error when ROOT has UKIs but no
 * tool or no kernel to rebuild them from. */
int hs_regen_uki(const char *root, struct strv **cmds, size_t *n,
		 struct vmctl_error **err);

/*
 * /etc/kernel/cmdline and every loader entry's options.  HS_MODE_ONESHOT
 * leaves those alone and writes vmctl-try.conf beside the default entry
 * (loader.conf's `default` glob): a copy of it with the arguments, which
 * `bootctl set-oneshot vmctl-try.conf` boots once.  Without a default
 * (a new entry could become it), or with unified kernel images, there is
 * no one-shot (hs_no_oneshot).  HS_MODE_PERMANENT removes the copy.
 */
int hs_plan_sdboot(const char *root, struct hs_plan *plan,
		   const struct karg *kargs, size_t nk,
		   struct vmctl_error **err);

/*
 * Last, once every other planner has run: a host with UKIs gets them
 * rebuilt when anything they hold changed (the command line, or what goes
 * into their initramfs).  And a plan that changes /etc/kernel/cmdline
 * must make something read it: edit a loader entry, or rebuild what is
 * built from it; otherwise it is refused, since the next boot would not
 * see the change.
 */
int hs_plan_rebuild(const char *root, struct hs_plan *plan,
		    struct vmctl_error **err);

#endif
