/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_SNAPSHOT_TREE_H
#define VMCTL_SNAPSHOT_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cJSON.h>

#include "vmctl/error.h"
#include "vmctl/strv.h"

/*
 * Snapshots of a direct-backend VM, the pure half (vm-snapshot.c does the
 * work): the tree kept in STATE_DIR/vms/NAME/snapshots.json, the rules
 * that refuse an operation, and which tool (qemu-img, a QMP command, a
 * QMP job) does each one.  The snapshots themselves are qcow2 internal
 * snapshots in the VM's overlay, which is the truth for which exist.
 */

#define SNAPSHOT_RECORD "snapshots.json"
/* The internal snapshot `vmctl save` writes; hidden from `snapshot list`,
 * and the reason user names may not start with "vmctl-". */
#define SNAPSHOT_SAVED_TAG "vmctl-saved"
/* The block nodes in QEMU (qemu-argv.c): the disk, and a UEFI VM's
 * variable store (qcow2, so that it holds the snapshots too: a RAM state
 * resumed must find the firmware's variables of the same moment). */
#define SNAPSHOT_DISK_NODE "disk0"
#define SNAPSHOT_VARS_NODE "ovmf-vars"
#define SNAPSHOT_NAME_MAX 63

struct snapshot {
	char *name;
	char *parent;        /* NULL: a root */
	time_t created;
	bool memory;         /* holds the RAM (and device) state */
};

struct snapshot_record {
	struct snapshot *v;
	size_t n;
	char *current;       /* what the disk was last taken or reverted to */
	char *loadvm;        /* the next start resumes this one's RAM */
	bool saved;          /* loadvm is `vmctl save`'s: deleted once resumed */
};

void snapshot_record_clear(struct snapshot_record *r);
/* From snapshots.json's text (NULL or "": an empty record). */
int snapshot_record_parse(const char *text, struct snapshot_record *r,
			  struct vmctl_error **err);
char *snapshot_record_format(const struct snapshot_record *r);

/* A letter, then letters, digits, '.', '_', '-'; at most 63; not
 * "vmctl-..." (reserved).  A leading letter keeps qemu-img from taking a
 * name for a snapshot ID. */
bool snapshot_name_valid(const char *name);
/* 64 with the reason for an invalid name, else 0. */
int snapshot_check_name(const char *name, struct vmctl_error **err);

struct snapshot *snapshot_find(const struct snapshot_record *r,
			       const char *name);
/* A new snapshot, child of the current one, made current. */
void snapshot_add(struct snapshot_record *r, const char *name,
		  time_t created, bool memory);
/* Remove one: its children move to its parent; current moves to its
 * parent when it was current; a pending loadvm of it is dropped. */
void snapshot_remove(struct snapshot_record *r, const char *name);
void snapshot_set_current(struct snapshot_record *r, const char *name);

/* ---- what an operation does, and whether it may --------------------- */

enum snapshot_op {
	SNAPSHOT_CREATE,
	SNAPSHOT_REVERT,
	SNAPSHOT_DELETE,
	SNAPSHOT_SAVE,       /* vmctl save */
};

/* The VM an operation is asked of. */
struct snapshot_vm {
	const char *name;
	bool running;
	bool gpu;            /* passed-through GPUs: VFIO state cannot be saved */
	bool vars;           /* UEFI variables in qcow2: snapshotted with
			      * the disk whenever the RAM is */
	bool vars_raw;       /* UEFI variables in a raw file (a VM made, and
			      * still running, before vars were qcow2):
			      * nothing can hold them with the RAM */
	bool memory;         /* create --memory; revert: the target holds RAM */
};

enum snapshot_tool {
	SNAPSHOT_QEMU_IMG,   /* stopped: qemu-img snapshot -c/-a/-d */
	SNAPSHOT_QMP_SYNC,   /* running: blockdev-snapshot-*-internal-sync */
	SNAPSHOT_QMP_JOB,    /* running: snapshot-save/-load/-delete job */
};

/* Which tool does `op` on `vm`, or the refusal (status 1) saying why. */
int snapshot_plan(enum snapshot_op op, const struct snapshot_vm *vm,
		  enum snapshot_tool *tool, struct vmctl_error **err);

/* qemu-img snapshot's argv for create/revert/delete of `name`. */
void snapshot_qemu_img_argv(enum snapshot_op op, const char *overlay,
			    const char *name, struct strv *argv);
/* The QMP command (returned) and its arguments (*args, the caller's) for
 * op by `tool` on the running `vm`; job_id names a job.  A job names the
 * disk and, for a VM with qcow2 UEFI variables, the variable store (RAM
 * in the disk's image). */
const char *snapshot_qmp_command(const struct snapshot_vm *vm,
				 enum snapshot_op op, enum snapshot_tool tool,
				 const char *name, const char *job_id,
				 cJSON **args);

/* ---- list -------------------------------------------------------------- */

/* One internal snapshot as the qcow2 has it (qemu-img info's). */
struct snapshot_image {
	char *name;
	uint64_t vm_state_size;
	time_t date;
};

/* One row of `snapshot list`: the record and the qcow2 cross-checked. */
struct snapshot_row {
	const char *name;
	const char *parent;
	time_t created;
	bool memory;
	uint64_t vm_state_size;
	bool current;
	const char *problem; /* NULL, or how the record and the qcow2 differ */
	int depth;           /* in the tree, for the human listing */
};

/* Parse qemu-img info --output=json's "snapshots". */
int snapshot_images_parse(const char *json, struct snapshot_image **out,
			  size_t *n, struct vmctl_error **err);
void snapshot_images_free(struct snapshot_image *v, size_t n);
/* Rows in tree order (parents before children), the saved tag left out;
 * the rows point into r and img. */
size_t snapshot_rows(const struct snapshot_record *r,
		     const struct snapshot_image *img, size_t n_img,
		     struct snapshot_row **rows);
cJSON *snapshot_rows_json(const struct snapshot_row *rows, size_t n);

#endif
