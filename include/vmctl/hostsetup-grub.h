/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTSETUP_GRUB_H
#define VMCTL_HOSTSETUP_GRUB_H

#include "vmctl/hostsetup.h"

/*
 * GRUB's kernel command line as grub-mkconfig computes it: it sources
 * /etc/default/grub, then (Debian and its derivatives) every
 * /etc/default/grub.d/NAME.cfg in glob order, and writes
 * GRUB_CMDLINE_LINUX GRUB_CMDLINE_LINUX_DEFAULT on the default entries'
 * linux line.  A later file wins: Ubuntu's cloud images set
 * GRUB_CMDLINE_LINUX_DEFAULT in 50-cloudimg-settings.cfg, which an edit
 * of /etc/default/grub never beats.
 *
 * vmctl's arguments go in a line of their own that appends what is
 * missing to the variable:
 *
 *   GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on"
 *
 * in its drop-in /etc/default/grub.d/zz-vmctl.cfg where grub-mkconfig
 * sources grub.d (the target's grub-mkconfig script says so) and the
 * directory is there, else at the end of /etc/default/grub, after a
 * marker comment (vmctl creates no grub.d: without one nothing is
 * sourced after /etc/default/grub).  Either way it is the last
 * word on the variable, and undo removes just that line.  (grubby's
 * hosts get GRUB_CMDLINE_LINUX, which their recovery entries share.)
 */

#define HS_GRUB_DROPIN "/etc/default/grub.d/zz-vmctl.cfg"
#define HS_GRUB_TRY_SCRIPT "/etc/grub.d/01_vmctl"

/* The words of GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT without
 * vmctl's line: what the host has of its own. */
int hs_grub_words(const char *root, struct strv *words,
		  struct vmctl_error **err);

/*
 * Add the edit that puts `plan->kargs` on GRUB's command line (VAR:
 * GRUB_CMDLINE_LINUX_DEFAULT, or GRUB_CMDLINE_LINUX for grubby), and say
 * in plan->kargs_file and plan->cmdline where and what the result is.
 * The result is evaluated again, in the C locale's glob order and in a
 * UTF-8 locale's: if a file sourced after vmctl's line takes an argument
 * away, planning fails naming it.  For GRUB itself, update-grub follows
 * when a file changes.
 *
 * HS_MODE_ONESHOT (GRUB only): the line appends the GRUB variable
 * ${vmctl_once} instead of the arguments, /etc/grub.d/01_vmctl moves
 * GRUB's environment variable vmctl_try into it for one boot (see the
 * script), and `grub-editenv GRUBENV set vmctl_try=ARGS` arms it, unless
 * it is armed already or the arguments are in effect on this boot.
 * --confirm (HS_MODE_PERMANENT) writes the arguments into the line and
 * takes the script and the variable away.  Returns 1 when a file changes.
 */
int hs_plan_grub(const char *root, struct hs_plan *plan, const char *var,
		 struct vmctl_error **err);

#endif
