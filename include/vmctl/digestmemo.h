/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_DIGESTMEMO_H
#define VMCTL_DIGESTMEMO_H

#include <sys/stat.h>

#include "vmctl/env.h"
#include "vmctl/error.h"

/*
 * The SHA-256 of a local file the spec names without a digest (a base
 * image, a kernel, an initrd, an ISO), which names its volume on a
 * libvirt host, remembered in STATE_DIR/digests.json by the file's
 * identity: path, device, inode, size, mtime and ctime (which no user can
 * set back), as git's index remembers what it hashed.  A file that
 * changed in any of those is hashed again, so a 2 GB image is hashed once,
 * not at every create.  The memo is a cache: a lost or unreadable one
 * costs a hash, never an error; it keeps the DIGESTMEMO_MAX files used
 * last.
 */
#define DIGESTMEMO_MAX 64

/* The file's digest ("sha256:HEX"), from the memo or hashed now. */
int digestmemo_sha256(const struct vmctl_env *env, const char *path,
		      char **digest, struct vmctl_error **err);

/* Pure: the remembered "sha256:HEX" of `path` with identity `st` in the
 * memo's text, or NULL. */
char *digestmemo_lookup(const char *json, const char *path,
			const struct stat *st);
/* Pure: the memo's text with `path` (identity `st`) remembered as
 * `digest`, first, and the older entries after it (at most
 * DIGESTMEMO_MAX in all; other paths kept, this path's old ones dropped).
 * `json` may be NULL or not a memo: a new one. */
char *digestmemo_update(const char *json, const char *path,
			const struct stat *st, const char *digest);

#endif
