/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_ENV_H
#define VMCTL_ENV_H

#include <stdbool.h>
#include <stdint.h>

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
 *   systemd_root  VMCTL_SYSTEMD_ROOT, default /: where `enable` and
 *              `disable` write systemd's links (sysunit.h)
 *   tmux_socket  VMCTL_TMUX_SOCKET; "vmctl" for the default state dir,
 *              "vmctl-HASH" for any other, so state dirs never share VMs
 *   serial_log_max  VMCTL_SERIAL_LOG_MAX (a size, e.g. 64M): where the
 *              serial log is rotated; 0 for the default
 *   host_reserve  VMCTL_HOST_RESERVE as given (4G, 15%, default): the
 *              broker's host reserve over STATE_DIR/host.json's; NULL
 *              when unset.  hostconf_read() checks it.
 *   qemu_user  the unprivileged user QEMU runs as (VMCTL_QEMU_USER,
 *              default "vmctl-qemu" when vmctl runs as root); NULL: QEMU
 *              keeps vmctl's own user (not root, or VMCTL_QEMU_USER=root)
 *   connect    --connect, VMCTL_CONNECT as given: a libvirt URI, or a name
 *              from the hosts file (hosts.h); NULL: the direct QEMU+tmux
 *              backend on this machine
 *   hosts_file VMCTL_HOSTS_FILE; /etc/vmctl/hosts.yaml for root,
 *              $XDG_CONFIG_HOME/vmctl/hosts.yaml (~/.config/vmctl/...)
 *              otherwise
 *   image_mirror  VMCTL_IMAGE_MIRROR as given: where the default spec's
 *              image comes from instead of cloud.debian.org
 *              (spec_load_default() checks it); NULL when unset
 */
struct vmctl_env {
	char *state_dir;
	char *sysfs;
	char *proc;
	char *dev;
	char *root;
	char *systemd_root;
	char *tmux_socket;
	char *qemu_user;
	char *host_reserve;
	char *connect;
	char *hosts_file;
	char *image_mirror;
	uint64_t serial_log_max;
	bool json;
	int verbosity;   /* -1 quiet, 0 normal, 1+ verbose */
};

/* The state dir of vmctl run as root (the systemd unit's). */
#define ENV_ROOT_STATE_DIR "/var/lib/vmctl"

void env_init(struct vmctl_env *env);
/* Derive what depends on the final options (the tmux socket); called when
 * a command's options are parsed. */
void env_finish(struct vmctl_env *env);
void env_clear(struct vmctl_env *env);

#endif
