/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_FSUTIL_H
#define VMCTL_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "vmctl/error.h"

/* Read fd to its end (at most max bytes) into a NUL-terminated buffer;
 * errors name `what` and carry `status`. */
int fs_read_fd(int fd, const char *what, size_t max, char **out,
	       size_t *len, int status, struct vmctl_error **err);

/* Read a whole file (at most max bytes) into a NUL-terminated buffer.
 * Errors carry `missing_status` when the file cannot be opened. */
int fs_read_file(const char *path, size_t max, char **out, size_t *len,
		 int missing_status, struct vmctl_error **err);

/* A path with "." and "x/.." components and repeated slashes removed,
 * lexically (no symlinks resolved). */
char *fs_path_clean(const char *path);

/* Directory part of a path, made absolute against the working directory. */
char *fs_abs_dirname(const char *path);

/*
 * Replace DIR/NAME with `data` atomically: write DIR/.NAME.XXXXXX (unique),
 * fsync, rename over NAME, fsync DIR.  A crash leaves the old file or the
 * new one, never a torn one (and perhaps a stray temporary file, which
 * fs_remove_temps() clears).
 */
int fs_write_atomic(const char *dir, const char *name, const void *data,
		    size_t len, mode_t mode, struct vmctl_error **err);

/*
 * Write `value` to an existing attribute file (sysfs, procfs) in one
 * write(2), as a shell redirection does: the kernel takes one write per
 * value.  EACCES/EPERM give status 77, ENOENT 69.
 */
int fs_write_attr(const char *path, const char *value,
		  struct vmctl_error **err);

/* Remove DIR/.NAME.XXXXXX files left by writes that were killed. */
void fs_remove_temps(const char *dir, const char *name);

/* mkdir -p with `mode` for the directories it creates. */
int fs_mkdir_p(const char *path, mode_t mode, struct vmctl_error **err);

/* rm -rf, not following symlinks; a missing path is not an error. */
int fs_remove_tree(const char *path, struct vmctl_error **err);

/* Copy a file (for OVMF variables), atomically, with `mode`. */
int fs_copy_file(const char *from, const char *dir, const char *name,
		 mode_t mode, struct vmctl_error **err);

/*
 * What tells one file's content from another's without reading it: device,
 * inode, size and modification time.  A file rewritten in place or
 * replaced (renamed over) gets another identity, so a digest recorded with
 * an identity stays trustworthy while the identity holds.
 */
struct fs_file_id {
	uint64_t dev, ino, size;
	int64_t mtime_sec;
	long mtime_nsec;
};

void fs_file_id_from_stat(const struct stat *st, struct fs_file_id *id);
bool fs_file_id_same(const struct fs_file_id *a, const struct fs_file_id *b);
/* Pure: "size 1 -> 2, modified, replaced" (what differs), for messages. */
char *fs_file_id_describe_change(const struct fs_file_id *was,
				 const struct fs_file_id *now);

/* fsync a directory (after a rename into it). */
int fs_sync_dir(const char *dir, struct vmctl_error **err);

#endif
