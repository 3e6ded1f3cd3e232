/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVCLONE_H
#define VMCTL_LVCLONE_H

#include <stdbool.h>
#include <stddef.h>

#include "vmctl/error.h"
#include "vmctl/state.h"

/*
 * `vmctl clone SRC DST` with --connect, the pure part (lvvm-clone.c
 * executes): what is refused, and what SRC's domain XML says DST stands
 * on (its overlay's base, the uploaded kernel, initrd and cdrom), so that
 * DST's domain is the one create would define from SRC's spec.
 */

/* Files named by SRC's domain (<domain> XML); NULL where it has none. */
struct lvclone_src {
	char *overlay;               /* the disk's source file */
	char *base, *base_format;    /* its <backingStore> */
	char *kernel, *initrd;       /* <os><kernel>, <os><initrd> */
	char *cdrom;                 /* the cdrom's source file */
};

/* 0, or -1 with *err when the XML does not parse. */
int lvclone_src_parse(const char *xml, struct lvclone_src *out,
		      struct vmctl_error **err);
void lvclone_src_clear(struct lvclone_src *s);

/* What lvvm-clone.c found out about SRC and DST on the host. */
struct lvclone_check {
	const char *src, *dst, *uri;
	enum vm_run_state state;     /* VM_SAVED: a managed save */
	size_t n_snapshots;
	bool dst_domain;             /* a domain named DST exists */
	const char *dst_volume;      /* one of DST's volumes that exists */
	bool linked;
};

/* 0, or -1 with the reason (clone_plan_check()'s, then the libvirt
 * backend's own: snapshots, DST's volumes, --linked). */
int lvclone_check(const struct lvclone_check *c, struct vmctl_error **err);

#endif
