/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VM_CDROM_H
#define VMCTL_VM_CDROM_H

#include <stdbool.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/qmp.h"

/*
 * A direct-backend VM's CD-ROM (media.h has the pure rules), under the
 * VM's lock.  The medium is the spec's `cdrom`, kept in the VM's
 * spec.json, so every start has what was inserted last.  Running: QMP
 * (the ISO opened here and handed over with add-fd, since QEMU no longer
 * runs as root; blockdev-add of a raw node; open tray, remove, insert,
 * close).  Stopped: only spec.json changes, and a VM without a drive
 * gets one at its next start.
 */

struct vm_cdrom_result {
	bool running;          /* changed in the running guest too */
	bool added_drive;      /* stopped VM without a drive: one from the
				* next start on */
	bool was_empty;        /* eject: nothing was in the drive */
	char *medium;          /* insert: the ISO's absolute path */
};

void vm_cdrom_result_clear(struct vm_cdrom_result *r);

/* The ISO made absolute (*abs), opened read-only (*fd): an existing,
 * readable regular file.  The caller frees *abs and closes *fd (not -1)
 * also on failure. */
int vm_cdrom_iso_open(const char *iso, char **abs, int *fd,
		      struct vmctl_error **err);

/* `iso`: an existing, readable regular file (relative: to the current
 * directory). */
int vm_cdrom_insert(const struct vmctl_env *env, const char *name,
		    const char *iso, struct vm_cdrom_result *out,
		    struct vmctl_error **err);
int vm_cdrom_eject(const struct vmctl_env *env, const char *name,
		   struct vm_cdrom_result *out, struct vmctl_error **err);

/* vm-start.c, once QEMU answers, when the start boots the CD-ROM first
 * (media_cdrom_first): every later reset boots the disk
 * (media_boot_swap); the start then records the one boot as done
 * (vm_state.cdrom_booted). */
int vm_cdrom_booted(struct qmp *q, struct vmctl_error **err);

#endif
