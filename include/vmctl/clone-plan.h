/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_CLONE_PLAN_H
#define VMCTL_CLONE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "vmctl/error.h"
#include "vmctl/state.h"
#include "vmctl/strv.h"

/*
 * `vmctl clone SRC DST [--linked]`, the pure part (vm-clone.h executes):
 * what is refused and why, the names and argv it uses, and which layers
 * a destroyed VM leaves without anyone standing on them.
 */

/* What the executor found out about SRC (under its lock). */
struct clone_source {
	const char *name;
	enum vm_run_state state;
	bool has_disk;          /* an overlay over a base (disk.image) */
	size_t n_snapshots;     /* in snapshots.json */
	bool saved;             /* holds `vmctl save`'s state */
};

/*
 * 0, or -1 with the reason: DST not a valid name (64) or SRC itself (64),
 * DST taken (1, EEXIST), SRC not stopped (running, being created, saved),
 * and for a linked clone SRC without a disk or with snapshots.
 */
int clone_plan_check(const struct clone_source *src, const char *dst,
		     bool dst_exists, bool linked, struct vmctl_error **err);

/* The file name of a new layer under STATE_DIR/layers: "SRC-HEX.qcow2"
 * (4 random bytes, so a layer never takes a name twice). */
char *clone_layer_name(const char *src, const unsigned char rnd[4]);

/* DST's chain for a linked clone: the new layer, then SRC's layers. */
void clone_linked_chain(const char *layer, const struct strv *src_layers,
			struct strv *out);

/*
 * A full clone's copy: DST's overlay is first made over SRC's (SRC's
 * current state, not its internal snapshots), then rebased onto the base
 * in qemu-img's safe mode, which writes into it whatever SRC's chain (its
 * layers and overlay) reads differently from the base.  (`qemu-img
 * convert -B BASE` would copy only the top overlay's clusters, losing a
 * layer's.)  `-p` draws progress (on stdout) when `progress`.
 */
void clone_rebase_argv(const char *dst_overlay, const char *base,
		       const char *base_format, bool progress,
		       struct strv *argv);

/* The layers of `chain` that no entry of `in_use` names (every remaining
 * VM's layers together): a destroyed VM's chain, what may go now. */
void clone_layers_unused(const struct strv *chain, const struct strv *in_use,
			 struct strv *out);

#endif
