/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_FIRMWARE_H
#define VMCTL_FIRMWARE_H

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/spec.h"

/* An OVMF build: read-only code and the template for per-VM variables. */
struct firmware_ovmf {
	char *code;
	char *vars;
};

/* Find OVMF under ROOT (Debian, Fedora and Arch layouts, 4M builds first).
 * Returns 0, or -1 when none is installed. */
int firmware_find_ovmf(const struct vmctl_env *env, struct firmware_ovmf *out);
/* The OVMF build a spec's firmware (uefi, uefi-secure) boots: 0, or -1
 * and a one-line error (69) naming the package that provides it. */
int firmware_find(const struct vmctl_env *env, enum spec_firmware fw,
		  struct firmware_ovmf *out, struct vmctl_error **err);
void firmware_ovmf_clear(struct firmware_ovmf *fw);

#endif
