/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_ENV_H
#define VMCTL_ENV_H

#include <stdbool.h>

/*
 * Where vmctl looks at and changes the system.  Every module that reads or
 * writes the host takes its paths from here, never from a literal, so tests
 * point vmctl at fake trees.  main() fills it from options and environment:
 *
 *   state_dir  --state-dir, VMCTL_STATE_DIR; /var/lib/vmctl for root,
 *              $XDG_DATA_HOME/vmctl (~/.local/share/vmctl) otherwise
 *   sysfs      --sysfs-root, VMCTL_SYSFS_ROOT, default /sys
 *   proc       VMCTL_PROC_ROOT, default /proc
 *   dev        VMCTL_DEV_ROOT, default /dev
 *   root       the filesystem holding /etc and /usr/share, default /
 */
struct vmctl_env {
	char *state_dir;
	char *sysfs;
	char *proc;
	char *dev;
	char *root;
	bool json;
	int verbosity;   /* -1 quiet, 0 normal, 1+ verbose */
};

#endif
