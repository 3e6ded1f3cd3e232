/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVCLONE_H
#define VMCTL_LVCLONE_H

#include <stdbool.h>
#include <stddef.h>

#include "vmctl/error.h"
#include "vmctl/state.h"
#include "vmctl/strv.h"

/*
 * `vmctl clone SRC DST [--linked]` with --connect, the pure part
 * (lvvm-clone.c executes): what is refused, what SRC's domain XML says
 * DST stands on (its overlay's chain: linked clones' layers over a base;
 * the uploaded kernel, initrd and cdrom), so that DST's domain is the one
 * create would define from SRC's spec, and the chain a layer adds.
 */

/* Files named by SRC's domain (<domain> XML); NULL where it has none. */
struct lvclone_src {
	char *overlay;               /* the disk's source file */
	/* its <backingStore> chain: the layers (top first) over the base,
	 * the chain's last file */
	struct strv layers;
	char *base, *base_format;
	char *kernel, *initrd;       /* <os><kernel>, <os><initrd> */
	char *cdrom;                 /* the cdrom's source file */
};

/* 0, or -1 with *err when the XML does not parse. */
int lvclone_src_parse(const char *xml, struct lvclone_src *out,
		      struct vmctl_error **err);
void lvclone_src_clear(struct lvclone_src *s);

/* Every file some disk of the domain stands on (<backingStore>s at any
 * depth) into *out: what a destroy must not take from it.  0, or -1 when
 * the XML does not parse. */
int lvclone_backing_files(const char *xml, struct strv *out);

/*
 * The domain XML with `layer` (a qcow2 file) put between its first disk's
 * source and that disk's <backingStore>: the disk's chain once its
 * overlay stands on the layer.  Everything else is kept as it was.  0 and
 * *out (to free), or -1 with *err (no such disk, or XML that does not
 * parse).
 */
int lvclone_relink_xml(const char *xml, const char *layer, char **out,
		       struct vmctl_error **err);

/* What lvvm-clone.c found out about SRC and DST on the host. */
struct lvclone_check {
	const char *src, *dst, *uri;
	enum vm_run_state state;     /* VM_SAVED: a managed save */
	bool has_disk;               /* an overlay over a base */
	size_t n_snapshots;
	bool dst_domain;             /* a domain named DST exists */
	const char *dst_volume;      /* one of DST's volumes that exists */
	bool linked;
};

/* 0, or -1 with the reason (clone_plan_check()'s, --linked's among
 * them, then the libvirt backend's own: snapshots, DST's volumes). */
int lvclone_check(const struct lvclone_check *c, struct vmctl_error **err);

#endif
