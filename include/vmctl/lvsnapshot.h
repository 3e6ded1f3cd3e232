/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVSNAPSHOT_H
#define VMCTL_LVSNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <cJSON.h>

#include "vmctl/error.h"
#include "vmctl/snapshot-tree.h"

/*
 * Snapshots and save/restore on a libvirt host, the pure half
 * (lvvm-snapshot.c does the calls): the <domainsnapshot> XML vmctl
 * sends, libvirt's snapshot XML read back into snapshot-tree.h's record
 * (libvirt's metadata is the tree there: parent, creation time, state),
 * what a domain's XML says for the rules (a host device, UEFI), and the
 * rules libvirt 9 adds to snapshot_plan()'s.
 *
 * libvirt 9 and internal (qcow2) snapshots: a stopped domain's disks by
 * qemu-img; a running domain's only with its memory (HMP savevm, the
 * guest paused while RAM is written; "live" is for external snapshots
 * only), so a disk-only snapshot of a running VM is refused here; none
 * at all of a domain with a pflash (UEFI) variable store.
 */

/* One snapshot as libvirt's XML (virDomainSnapshotGetXMLDesc) has it. */
struct lvsnapshot {
	char *name;
	char *parent;        /* NULL: a root */
	time_t created;
	bool memory;         /* state running or paused: the RAM is in it */
};

void lvsnapshot_clear(struct lvsnapshot *s);
/* Parse one <domainsnapshot>; status 1 with the reason when it is not
 * one. */
int lvsnapshot_parse(const char *xml, struct lvsnapshot *out,
		     struct vmctl_error **err);

/* The <domainsnapshot> for virDomainSnapshotCreateXML: `name`, with the
 * memory internal (a running domain, --memory) or none (a stopped
 * domain's disks); the disks take libvirt's defaults (qcow2 internal,
 * read-only ones left out).  The name is snapshot_name_valid(). */
char *lvsnapshot_create_xml(const char *name, bool memory);

/* What the rules need from a domain's XML: a passed-through device
 * (<hostdev>, <interface type='hostdev'>) and a pflash (UEFI) loader.
 * -1 when the XML does not parse. */
int lvsnapshot_domain_facts(const char *domain_xml, bool *gpu, bool *uefi);

/* snapshot_plan()'s refusals (status 1, one line) with libvirt's own:
 * UEFI takes no snapshot, a running VM only --memory ones; `save` of a
 * UEFI VM is allowed (libvirt's managed save keeps the variable store).
 * 0 when op may go on. */
int lvsnapshot_plan(enum snapshot_op op, const struct snapshot_vm *vm,
		    bool uefi, struct vmctl_error **err);

/* The record snapshot_rows() takes, from libvirt's snapshots (moved out
 * of v, which is freed) and the current one's name (or NULL); *img
 * names each one, so no row has a problem (libvirt's metadata is the
 * only record). */
void lvsnapshot_record(struct lvsnapshot *v, size_t n, const char *current,
		       bool saved, struct snapshot_record *rec,
		       struct snapshot_image **img, size_t *n_img);

/* snapshot_rows_json()'s array as --connect prints it: vm_state_size
 * null (libvirt does not tell it), "backend": "libvirt", "host": uri. */
void lvsnapshot_json_remote(cJSON *rows, const char *uri);

#endif
