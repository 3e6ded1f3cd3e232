/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VM_BALLOON_H
#define VMCTL_VM_BALLOON_H

#include <stdint.h>

#include "vmctl/env.h"
#include "vmctl/error.h"

/*
 * The balloon of a running VM (memory.balloon: a virtio-balloon device):
 * QMP `balloon` sets how much RAM the guest should keep, `query-balloon`
 * says how much it has (`actual`: its RAM less what the balloon holds).
 * Executes: talks to the VM's QMP socket.
 */

/* The smallest target: below it a guest kernel thrashes or kills rather
 * than runs. */
#define VM_BALLOON_MIN (UINT64_C(64) << 20)
/* How close `actual` must come to a target: the guest moves 4 KiB pages,
 * in batches. */
#define VM_BALLOON_SLACK (UINT64_C(1) << 20)

/*
 * Ask the guest of VM `name` to keep `target` bytes, under the VM's lock.
 * Refused when the VM is not running or has no balloon (status 1), or
 * when `target` is above its memory or below VM_BALLOON_MIN (64).
 * *memory gets the VM's RAM, *before the balloon's size before the change.
 */
int vm_balloon_set(const struct vmctl_env *env, const char *name,
		   uint64_t target, uint64_t *memory, uint64_t *before,
		   struct vmctl_error **err);

/* query-balloon's `actual` of a running VM, in bytes. */
int vm_balloon_query(const struct vmctl_env *env, const char *name,
		     uint64_t *actual, struct vmctl_error **err);

/*
 * Poll query-balloon until `actual` is `target`, for up to timeout_s
 * seconds (at the deadline, within VM_BALLOON_SLACK of it will do).  *actual gets the last size read; on
 * timeout the error (status 1) says where the balloon stands, and when it
 * has not moved from `before`, that the guest seems to lack its driver.
 */
int vm_balloon_wait(const struct vmctl_env *env, const char *name,
		    uint64_t target, uint64_t before, int timeout_s,
		    uint64_t *actual, struct vmctl_error **err);

#endif
