/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_FSUTIL_H
#define VMCTL_FSUTIL_H

#include <stddef.h>

#include "vmctl/error.h"

/* Read a whole file (at most max bytes) into a NUL-terminated buffer.
 * Errors carry `missing_status` when the file cannot be opened. */
int fs_read_file(const char *path, size_t max, char **out, size_t *len,
		 int missing_status, struct vmctl_error **err);

/* Directory part of a path, made absolute against the working directory. */
char *fs_abs_dirname(const char *path);

#endif
