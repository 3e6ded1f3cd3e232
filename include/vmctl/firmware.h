/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_FIRMWARE_H
#define VMCTL_FIRMWARE_H

#include "vmctl/env.h"

/* An OVMF build: read-only code and the template for per-VM variables. */
struct firmware_ovmf {
	char *code;
	char *vars;
};

/* Find OVMF under ROOT (Debian, Fedora and Arch layouts, 4M builds first).
 * Returns 0, or -1 when none is installed. */
int firmware_find_ovmf(const struct vmctl_env *env, struct firmware_ovmf *out);
void firmware_ovmf_clear(struct firmware_ovmf *fw);

#endif
