/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVVM_SNAPSHOT_H
#define VMCTL_LVVM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/snapshot-tree.h"

/*
 * Snapshots and save/restore of a VM on a libvirt host (--connect),
 * vm-snapshot.h's operations through libvirt's API (lvsnapshot.h has
 * the pure rules): internal snapshots by virDomainSnapshotCreateXML,
 * the tree from libvirt's snapshot metadata, revert and delete by
 * virDomainRevertToSnapshot and virDomainSnapshotDelete; save is
 * libvirt's managed save, which the next virDomainCreate (start,
 * restore) resumes.  Each returns 0 or -1 with *err naming the URI, and
 * gives the URI it used in *uri (the caller frees it).
 */

int lvvm_snapshot_create(const struct vmctl_env *env, const char *name,
			 const char *snap, bool memory, char **uri,
			 struct vmctl_error **err);
/* A --memory snapshot: a running VM resumes it now, a stopped one at
 * its next start (libvirt's managed save of the reverted state). */
int lvvm_snapshot_revert(const struct vmctl_env *env, const char *name,
			 const char *snap, bool *resumes, char **uri,
			 struct vmctl_error **err);
int lvvm_snapshot_delete(const struct vmctl_env *env, const char *name,
			 const char *snap, char **uri,
			 struct vmctl_error **err);
/* The tree as snapshot_rows() takes it; rec->saved: a managed save
 * image is there. */
int lvvm_snapshot_list(const struct vmctl_env *env, const char *name,
		       struct snapshot_record *rec,
		       struct snapshot_image **img, size_t *n_img, char **uri,
		       struct vmctl_error **err);

/* vmctl save and restore with --connect: act and print (the direct
 * backend's forms, "backend" and "host" in the JSON). */
int lvvm_cmd_save(const struct vmctl_env *env, const char *name,
		  struct vmctl_error **err);
/* save --discard: libvirt's managed save image removed. */
int lvvm_cmd_save_discard(const struct vmctl_env *env, const char *name,
			  struct vmctl_error **err);
int lvvm_cmd_restore(const struct vmctl_env *env, const char *name,
		     struct vmctl_error **err);

/* For migrate and move (lvmigrate.c), before anything is done: refused
 * (status 1) when the VM has snapshots (libvirt's metadata of them stays
 * at the source; libvirt refuses to migrate or undefine the domain) or a
 * saved state (the managed save image stays at the source). */
int lvvm_snapshot_movable(virDomainPtr dom, const char *uri,
			  const char *name, struct vmctl_error **err);

#endif
