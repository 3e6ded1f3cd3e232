/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VM_CLONE_H
#define VMCTL_VM_CLONE_H

#include <stdbool.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/strv.h"
#include "vmctl/vm.h"

/*
 * `vmctl clone SRC DST [--linked]` on the direct backend (clone-plan.h
 * has the pure rules).  A full clone is a new overlay over SRC's base
 * holding SRC's current disk; a linked one freezes SRC's overlay as a
 * layer, STATE_DIR/layers/SRC-HEX.qcow2, that SRC (on a fresh overlay)
 * and DST both stand on.  Which VM stands on which layer is recorded in
 * one place, each VM's vm.json (`layers`); a layer goes when the last VM
 * naming it is destroyed.  DST gets its own identity: spec name, MAC
 * (from its name), SSH keys, cloud-init instance-id, VNC password; ports
 * are picked when it starts.  DST is left stopped.
 */

struct vm_clone_opts {
	bool linked;
	bool progress;    /* a full clone's copy draws progress on stderr */
};

int vm_clone(const struct vmctl_env *env, const char *src, const char *dst,
	     const struct vm_clone_opts *opts, struct vm_info *out,
	     struct vmctl_error **err);

/* STATE_DIR/layers */
char *vm_layers_dir(const struct vmctl_env *env);

/* After a VM standing on `chain` was removed: the layers no VM names any
 * more are deleted (under the state-wide lock). */
void vm_layers_release(const struct vmctl_env *env, const struct strv *chain);

#endif
