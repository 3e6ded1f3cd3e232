/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_DOWNLOAD_H
#define VMCTL_DOWNLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "vmctl/error.h"

/*
 * HTTP(S) and file:// transfers through libcurl: redirects followed (to
 * http/https only), stalled transfers abandoned, HTTP errors reported with
 * their status.
 */

/* Download `url` into `path`, appending to what is there when `resume`
 * (a server that ignores the range makes it start over).  `progress`
 * draws a bar on stderr. */
int download_file(const char *url, const char *path, bool resume,
		  bool progress, struct vmctl_error **err);

/* A small document (a checksum list) into memory, at most `max` bytes. */
int download_text(const char *url, size_t max, char **out,
		  struct vmctl_error **err);

#endif
