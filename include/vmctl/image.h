/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_IMAGE_H
#define VMCTL_IMAGE_H

#include <stdint.h>

#include "vmctl/error.h"
#include "vmctl/strv.h"

struct image_info {
	char *format;          /* "qcow2", "raw", ... as qemu-img detects it */
	uint64_t virtual_size;
};

/* Pure: the qemu-img argv for an overlay over `base` (absolute, format
 * explicit, so QEMU never probes); size 0 keeps the base's size. */
void image_argv_overlay(const char *base, const char *base_format,
			const char *overlay, uint64_t size, struct strv *argv);

/* `qemu-img info --output=json`: the format is read, never guessed. */
int image_info(const char *path, struct image_info *info,
	       struct vmctl_error **err);
void image_info_clear(struct image_info *info);

int image_create_overlay(const char *base, const char *base_format,
			 const char *overlay, uint64_t size,
			 struct vmctl_error **err);

#endif
