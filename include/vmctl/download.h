/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_DOWNLOAD_H
#define VMCTL_DOWNLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "vmctl/error.h"

/*
 * HTTP(S) and file:// transfers through libcurl: redirects followed (https
 * only to https, http to http or https), stalled transfers abandoned, HTTP
 * errors reported with their status.
 */

/* Pure: the protocols a redirect from `url` may go to, for
 * CURLOPT_REDIR_PROTOCOLS_STR ("" for none). */
const char *download_redirect_protocols(const char *url);

/* Download `url` into `path`, appending to what is there when `resume`
 * (a server that ignores the range makes it start over), and fsync it.
 * `progress` draws a bar on stderr.  A failed write (ENOSPC) is reported
 * with its errno in (*err)->errnum. */
int download_file(const char *url, const char *path, bool resume,
		  bool progress, struct vmctl_error **err);

/* A small document (a checksum list) into memory, at most `max` bytes. */
int download_text(const char *url, size_t max, char **out,
		  struct vmctl_error **err);

#endif
