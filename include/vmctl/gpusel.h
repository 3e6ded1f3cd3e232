/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_GPUSEL_H
#define VMCTL_GPUSEL_H

#include <stdbool.h>
#include <stddef.h>

#include "vmctl/error.h"
#include "vmctl/gpu.h"

/*
 * Command-line GPU selectors (host-setup, bind, release): NVIDIA, AMD or
 * Intel (that vendor's GPUs but the host's boot display), VVVV:DDDD, or a
 * PCI address (the GPU whose slot holds it).  Pure.
 */
struct gpusel {
	const struct gpu_info **gpus;       /* the GPUs selected */
	size_t n_gpus;
	const struct pci_function **fns;    /* every function of their slots */
	size_t n_fns;
};

/* Fails with 64 for a malformed selector, 69 when nothing matches. */
int gpusel_select(const struct gpu_list *list, char *const *selectors,
		  size_t n, struct gpusel *out, struct vmctl_error **err);
void gpusel_clear(struct gpusel *sel);

#endif
