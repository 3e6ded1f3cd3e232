/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_SYSFS_H
#define VMCTL_SYSFS_H

#include <stdbool.h>

#include "vmctl/spec.h"
#include "vmctl/strv.h"

/*
 * Reading sysfs (and proc) attributes.  Callers build paths from the roots
 * in struct vmctl_env; nothing here names /sys.  Nothing here writes.
 * Failures return -1 with errno set (ENOENT: the attribute is absent),
 * because an absent attribute is an answer ("no driver", "old kernel"),
 * not an error, for most callers.
 */

/* DIR/NAME as text (a sysfs attribute is at most a page), trailing
 * whitespace removed. */
int sysfs_read_attr(const char *dir, const char *name, char **out);

/* An integer attribute as the kernel writes it: "0x10de", "-1", "1". */
int sysfs_read_long(const char *dir, const char *name, long *out);

/* The last component of the target of the symlink DIR/NAME: the name of
 * a device's `driver` or its `iommu_group`. */
int sysfs_link_name(const char *dir, const char *name, char **out);

/* The target of the symlink DIR/NAME as written (relative, usually). */
int sysfs_read_link(const char *dir, const char *name, char **out);

/* PATH with every symlink resolved (realpath), or NULL. */
char *sysfs_resolve(const char *path);

/* The entries of a directory but "." and "..", sorted. */
int sysfs_list_dir(const char *dir, struct strv *out);

/* Pure: a PCI function name as sysfs spells it, "0000:01:00.0" exactly. */
bool sysfs_parse_pci_name(const char *name, struct pci_addr *out);

/* Pure: the last component of a device path that names a PCI function:
 * ".../pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1" gives
 * 0000:3d:00.0.  False when no component does (a virtual device). */
bool sysfs_path_last_pci(const char *path, struct pci_addr *out);

#endif
