/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTFACTS_H
#define VMCTL_HOSTFACTS_H

#include "vmctl/env.h"
#include "vmctl/firmware.h"
#include "vmctl/ports.h"
#include "vmctl/qemu-argv.h"
#include "vmctl/spec.h"

/*
 * The host side of a plan: everything a spec leaves to the machine it runs
 * on (accelerator for `auto`, free ports, firmware files, the PCI functions
 * of each GPU, the hugepage size for `auto` and the NUMA node of the RAM),
 * read through the roots in env.  It only reads.
 */
struct hostfacts {
	struct qemu_host qemu;
	char *vm_dir;
	struct firmware_ovmf ovmf;
	char *accel_reason;   /* why `auto` chose TCG, or NULL */
};

/*
 * Ports other VMs hold and the ports a VM had before (start keeps them
 * when they are still free).  NULL: only the spec and the host decide.
 */
struct hostfacts_want {
	const struct port_set *taken;
	unsigned ssh_port;      /* 0: none preferred */
	int vnc_display;        /* -1: none preferred */
};

int hostfacts_gather(const struct vmctl_env *env,
		     const struct vmctl_spec *spec,
		     const struct hostfacts_want *want, struct hostfacts *out,
		     struct vmctl_error **err);
void hostfacts_clear(struct hostfacts *facts);

#endif
