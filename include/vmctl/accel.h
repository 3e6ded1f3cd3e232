/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_ACCEL_H
#define VMCTL_ACCEL_H

#include "vmctl/env.h"

enum accel_kvm_state {
	ACCEL_KVM_USABLE,
	ACCEL_KVM_ABSENT,      /* no /dev/kvm */
	ACCEL_KVM_NO_ACCESS,   /* /dev/kvm exists, we may not open it */
	ACCEL_KVM_BROKEN,      /* opens, but the API or KVM_CREATE_VM fails */
	ACCEL_KVM_PVM_ONLY,    /* kvm_pvm: runs only PVM-enabled guests */
};

struct accel_probe {
	enum accel_kvm_state state;
	int api_version;       /* KVM_GET_API_VERSION, or -1 */
	char *reason;          /* one line for users; NULL when usable */
};

/*
 * Can QEMU use KVM for an ordinary guest here?  Opens DEV/kvm, checks the
 * API version and creates (and drops) a VM; then looks for the PVM-only
 * flavour of KVM in PROC/modules and SYSFS/module, which passes all of
 * that but hangs standard guest kernels.  `accel: auto` and host-check
 * both use this.
 */
void accel_probe_kvm(const struct vmctl_env *env, struct accel_probe *out);
void accel_probe_clear(struct accel_probe *p);

#endif
