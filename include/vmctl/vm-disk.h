/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VM_DISK_H
#define VMCTL_VM_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include "vmctl/env.h"
#include "vmctl/error.h"

/*
 * vmctl disk resize NAME SIZE on the direct backend (media.h has the
 * pure rules), under the VM's lock: grow only; a running VM's disk
 * through QMP block_resize on its qcow2 node (the guest sees the new size
 * at once on virtio), a stopped one's overlay with qemu-img resize.  The
 * new size becomes the spec's disk.size in spec.json.
 */

struct vm_disk_result {
	uint64_t before, after;   /* bytes */
	bool online;              /* the running VM was resized */
};

/* `size`: SIZE or +SIZE (media_resize_target). */
int vm_disk_resize(const struct vmctl_env *env, const char *name,
		   const char *size, struct vm_disk_result *out,
		   struct vmctl_error **err);

#endif
