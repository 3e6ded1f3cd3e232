/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTSETUP_ROOT_H
#define VMCTL_HOSTSETUP_ROOT_H

#include <stdbool.h>
#include <sys/types.h>

#include "vmctl/error.h"
#include "vmctl/strv.h"

/*
 * The target root host-setup reads and changes ("/" or --root DIR): paths
 * as the target sees them ("/etc/default/grub") made paths here, and the
 * reads every planner needs.  Symbolic links are followed inside the root:
 * an absolute link target means ROOT/target, never this machine's file.
 */

/* ROOT + PATH ("/" + "/etc/x" is "/etc/x"). */
char *hs_path(const char *root, const char *path);

/* Does PATH exist under ROOT (links followed inside it)? */
bool hs_exists(const char *root, const char *path);

/*
 * PATH with every symbolic link in it followed inside ROOT, as a path of
 * the target ("/etc/default/grub" -> "/etc/grub/defaults" when that is the
 * link's target).  A missing final component is fine (the file may be
 * about to be written); a loop, or more than 40 links, is an error.
 */
int hs_resolve(const char *root, const char *path, char **out,
			   struct vmctl_error **err);

/* A file's content through its links, or *out = NULL when it does not
 * exist; *mode (if not NULL) gets its permission bits. */
int hs_read(const char *root, const char *path, char **out,
			mode_t *mode, struct vmctl_error **err);

/* The names in DIR ending in SUFFIX ("" for all, dot files left out),
 * sorted by strcmp(). */
void hs_list(const char *root, const char *dir,
			 const char *suffix, struct strv *names);

/* The paths and texts of the files hs_list() names (those that cannot be
 * read left out). */
void hs_texts(const char *root, const char *dir, const char *suffix,
	      struct strv *paths, struct strv *texts);

/* The loader entries of a systemd-boot / BLS system (target paths),
 * sorted within each of /boot, /efi and /boot/efi. */
void hs_loader_entries(const char *root, struct strv *paths);

#endif
