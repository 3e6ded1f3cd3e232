/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VM_SNAPSHOT_H
#define VMCTL_VM_SNAPSHOT_H

#include <stdbool.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/qmp.h"
#include "vmctl/spec.h"
#include "vmctl/snapshot-tree.h"

/*
 * Snapshots and save/restore of a direct-backend VM (snapshot-tree.h has
 * the pure rules): qemu-img on a stopped VM, QMP on a running one, the
 * tree in the VM's snapshots.json, all under the VM's lock.
 */

int vm_snapshot_create(const struct vmctl_env *env, const char *name,
		       const char *snap, bool memory,
		       struct vmctl_error **err);
/* *resumes: the VM's RAM comes back (now when it runs, at its next start
 * when stopped). */
int vm_snapshot_revert(const struct vmctl_env *env, const char *name,
		       const char *snap, bool *resumes,
		       struct vmctl_error **err);
int vm_snapshot_delete(const struct vmctl_env *env, const char *name,
		       const char *snap, struct vmctl_error **err);
/* The record and what the qcow2 holds (snapshot_rows() joins them). */
int vm_snapshot_list(const struct vmctl_env *env, const char *name,
		     struct snapshot_record *rec, struct snapshot_image **img,
		     size_t *n_img, struct vmctl_error **err);

/* vmctl save: the running VM's state into SNAPSHOT_SAVED_TAG, QEMU quit. */
int vm_save(const struct vmctl_env *env, const char *name,
	    struct vmctl_error **err);
/* save --discard: a stopped VM's saved state deleted (from its disk and
 * UEFI variables); its next start boots afresh. */
int vm_save_discard(const struct vmctl_env *env, const char *name,
		    struct vmctl_error **err);
/* The VM holds a saved state (the caller holds its lock or accepts a
 * snapshot). */
bool vm_snapshot_saved(const struct vmctl_env *env, const char *name);
/* For a start (lock held): the snapshot whose RAM it resumes, or NULL. */
char *vm_snapshot_loadvm(const struct vmctl_env *env, const char *name);
/* The start's resume, on its QEMU held before the first instruction (-S):
 * a snapshot-load job of `tag` from the disk and the UEFI variables (not
 * -loadvm, which would look for the RAM in the first node that can hold
 * snapshots: the variable store). */
int vm_snapshot_load(const struct vmctl_env *env, const char *name,
		     const struct vmctl_spec *spec, struct qmp *q,
		     const char *tag, struct vmctl_error **err);
/* After a start that resumed `loadvm`: a saved state is deleted (the next
 * start boots afresh), the record forgets the pending resume. */
int vm_snapshot_resumed(const struct vmctl_env *env, const char *name,
			const struct vmctl_spec *spec,
			struct vmctl_error **err);

#endif
