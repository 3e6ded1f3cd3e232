/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_SSH_H
#define VMCTL_SSH_H

#include <stdbool.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/strv.h"

/*
 * SSH into VMs with pinned host keys.  At create, vmctl generates the
 * guest's ed25519 host key itself and hands it to cloud-init, and writes a
 * known_hosts that names it under the alias "vmctl-NAME"; ssh then runs
 * with StrictHostKeyChecking=yes against that file alone.  There is no
 * trust on first use, and host-key checking is never turned off.
 */

struct ssh_target {
	const char *vm;          /* VM name */
	const char *vm_dir;      /* its state directory */
	const char *user;
	const char *host;        /* where the forwarded port is reached */
	unsigned port;
	/* NULL, or "[user@]host[:port]" that ssh jumps through (ProxyJump):
	 * a guest on a remote libvirt host's NAT network (lvvm-ssh.h) */
	const char *proxy_jump;
	/* NULL, or an ssh_config file read instead of the user's (-F): the
	 * jump host's own keys (lvvm_ssh_jump_config()) */
	const char *config;
};

/* ssh-keygen -t ed25519 into PATH and PATH.pub (argv, no shell). */
int ssh_keygen(const char *path, const char *comment,
	       struct vmctl_error **err);
/* Two keys at once (the VM's client key and its host key): the second in
 * a thread while this one makes the first.  The first error is returned. */
int ssh_keygen_two(const char *path1, const char *comment1,
		   const char *path2, const char *comment2,
		   struct vmctl_error **err);
/* The known_hosts line pinning `host_pub` for VM `vm`. */
char *ssh_known_hosts_line(const char *vm, const char *host_pub);

/* Pure: the ssh argv for a target; `command` (may be NULL or empty) is
 * quoted for the remote shell so its words arrive as given. */
void ssh_argv(const struct ssh_target *t, bool batch,
	      const struct strv *command, struct strv *argv);

/* Did ssh fail because the host key is not the pinned one? */
bool ssh_stderr_says_key_mismatch(const char *text);

/* Between a wait's tries: true, with *err set, when Ctrl-C came (EINTR)
 * or `alive` (may be NULL) says the VM stopped (ESRCH: "VM NAME stopped
 * while waiting for WHAT"). */
bool ssh_wait_stopped(const char *vm, const char *what,
		      bool (*alive)(void *), void *alive_data,
		      struct vmctl_error **err);
/* The error for a host key that is not the pinned one (errnum 0). */
int ssh_key_refused(const char *vm, struct vmctl_error **err);

/*
 * Wait until the VM's sshd accepts the VM's key: poll the forwarded port
 * for an SSH banner (not through a proxy jump: the port is not reachable
 * from here; a login is tried every second instead), then try a login,
 * until `timeout_s`.  `alive` is
 * asked between attempts (stop early when QEMU died).  Progress on a TTY.
 * *elapsed gets the seconds waited.
 */
int ssh_wait(const struct ssh_target *t, int timeout_s, bool progress,
	     bool (*alive)(void *), void *alive_data, double *elapsed,
	     struct vmctl_error **err);

#endif
