/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTSETUP_BOOT_H
#define VMCTL_HOSTSETUP_BOOT_H

#include <stddef.h>

#include "vmctl/bootcfg.h"
#include "vmctl/hostsetup.h"

/*
 * host-setup's bootloader part: which bootloader the target root uses, and
 * the edits and commands that put the kernel arguments where it reads them.
 */

/* The commands that rebuild the bootloader's files from its
 * configuration (GRUB's grub.cfg); none for the others. */
void hs_regen_boot(const char *root, enum hs_boot boot,
			  struct strv **cmds, size_t *n);

/* The words of every "options" line of a loader entry. */
void hs_entry_words(const char *text, struct strv *words);

/* The words of the kernel command line(s) the bootloader's
 * configuration gives now (GRUB's two variables, every loader entry's
 * options, kernelstub's own options). */
int hs_boot_words(const char *root, enum hs_boot boot, struct strv *words,
		  struct vmctl_error **err);

/* Add to `plan` what puts `kargs` (also in plan->kargs) on the kernel
 * command line of plan->boot. */
int hs_plan_boot(const char *root, struct hs_plan *plan,
			const struct karg *kargs, size_t nk,
			struct vmctl_error **err);

#endif
