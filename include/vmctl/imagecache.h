/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_IMAGECACHE_H
#define VMCTL_IMAGECACHE_H

#include <stdbool.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/spec.h"

/*
 * Base images, verified before use.  A URL is downloaded into
 * STATE_DIR/images/ (shared by every VM), resumed if a partial download is
 * there, and checked against disk.sha256, disk.sha512 or the checksum
 * list at disk.checksum_url; a mismatch deletes the download.  A verified
 * image is never downloaded again.  A local path with a checksum in the
 * spec is verified too.
 */
struct imagecache_result {
	char *path;          /* the local, verified (or unverifiable) image */
	bool downloaded;     /* this call fetched it */
	bool verified;       /* its digest was checked (now or before) */
};

int imagecache_get(const struct vmctl_env *env, const struct spec_disk *disk,
		   bool progress, struct imagecache_result *out,
		   struct vmctl_error **err);
void imagecache_result_clear(struct imagecache_result *r);

/* Pure: the cache file name for a URL: "<16 hex of sha256(url)>-<basename>". */
char *imagecache_name(const char *url);

#endif
