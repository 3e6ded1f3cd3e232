/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_KSM_H
#define VMCTL_KSM_H

#include <stddef.h>
#include <stdint.h>

#include "vmctl/error.h"

/*
 * Kernel samepage merging: SYSFS/kernel/mm/ksm/.  The kernel merges
 * identical pages of memory offered to it (QEMU offers a guest's RAM when
 * the spec's memory.merge is true) while `run` is 1; 0 stops merging and
 * keeps what is merged; 2 gives every merged page its own copy again.
 *
 * Parsing an attribute and planning a switch are pure; ksm_read() and
 * ksm_apply() are the executor, under the sysfs root they are given.
 */

enum ksm_run {
	KSM_STOPPED = 0,
	KSM_RUNNING = 1,
	KSM_UNMERGING = 2,
};

struct ksm_status {
	enum ksm_run run;
	uint64_t pages_shared;     /* pages merged into */
	uint64_t pages_sharing;    /* pages merged away: the saving */
	uint64_t pages_unshared;
	uint64_t pages_volatile;
	uint64_t full_scans;
	uint64_t sleep_millisecs;
	uint64_t pages_to_scan;
	int merge_across_nodes;    /* 0, 1; -1: absent (no NUMA) */
	uint64_t page_size;        /* bytes: sysconf(_SC_PAGESIZE) */
};

/* "stopped", "running", "unmerging". */
const char *ksm_run_name(enum ksm_run run);

/*
 * Pure: set the field of attribute `name` from its text as sysfs gives it
 * (trailing newline removed).  -1 for an attribute vmctl does not read or
 * a value that is not one it can have.
 */
int ksm_status_set(struct ksm_status *st, const char *name, const char *text);

/* Bytes KSM saves now: pages_sharing × page size. */
uint64_t ksm_saved(const struct ksm_status *st);

/*
 * Read SYSFS/kernel/mm/ksm.  Without that directory (a kernel without
 * CONFIG_KSM): status 69 (VMCTL_EXIT_UNAVAILABLE), errno ENOENT.  A
 * counter a kernel lacks reads 0; a malformed one, or no `run`, is an
 * error.
 */
int ksm_read(const char *sysfs, struct ksm_status *out,
	     struct vmctl_error **err);

enum ksm_action {
	KSM_ON,          /* run = 1 */
	KSM_OFF,         /* run = 0: stop merging, keep merged pages */
	KSM_UNMERGE,     /* run = 2: unmerge everything */
};

/* One write: VALUE to SYSFS/kernel/mm/ksm/ATTR. */
struct ksm_write {
	const char *attr;
	const char *value;
};

struct ksm_plan {
	struct ksm_write *v;
	size_t n;                 /* 0: KSM already is as asked */
	enum ksm_run from, to;
	/* KSM_UNMERGE: the memory the merged pages take again */
	uint64_t unmerge_bytes;
};

/* Pure: the writes that take KSM from `now` to what `action` asks. */
void ksm_plan_build(const struct ksm_status *now, enum ksm_action action,
		    struct ksm_plan *plan);
/* A dry run's text: "# KSM: stopped -> running\n" and a line per write,
 * "  write 1 > SYSFS/kernel/mm/ksm/run\n". */
char *ksm_plan_render(const char *sysfs, const struct ksm_plan *plan);
/* Do the writes.  Not root: status 77. */
int ksm_apply(const char *sysfs, const struct ksm_plan *plan,
	      struct vmctl_error **err);
void ksm_plan_clear(struct ksm_plan *plan);

#endif
