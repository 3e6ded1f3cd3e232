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
	/* NULL, or an ssh_config file the jump reads instead of the user's:
	 * the jump host's own keys (lvvm_ssh_jump_config()); proxy_jump is
	 * then the host it names (ProxyCommand ssh -F CONFIG -W ... HOST) */
	const char *config;
};

/* Point t's strings at copies kept in *hold (strv_clear() it after):
 * a target that outlives what it was read from. */
void ssh_target_keep(struct ssh_target *t, struct strv *hold);

/*
 * The ssh_config options that reach a target, keyword and value, and
 * each value as written for ssh to read it (ssh_config_quote(); the
 * ProxyCommand and ProxyJump ssh takes as they stand).  One list for every way
 * vmctl hands them to OpenSSH: `-o KEY=VALUE` for ssh and scp
 * (ssh_argv(), ssh_scp_argv()) and `KEY VALUE` lines for `ssh-config`
 * (ssh_config_block()), so what `vmctl ssh` runs and what the printed
 * config says cannot drift apart.
 */
struct ssh_opts {
	struct strv keys;
	struct strv values;      /* what ssh is to use */
	struct strv written;     /* as an ssh_config line or -o writes it */
};

/* Pure: the options for `t`; batch adds BatchMode and a ConnectTimeout. */
void ssh_options(const struct ssh_target *t, bool batch, struct ssh_opts *o);
void ssh_opts_clear(struct ssh_opts *o);

/*
 * Pure: `value` as an ssh_config (or -o) argument reads it back: bare
 * when it is plain, else in double quotes with '"' and '\\' escaped;
 * with `tokens` (IdentityFile, UserKnownHostsFile, HostName: ssh expands
 * %-tokens there) each '%' doubled.
 */
char *ssh_config_quote(const char *value, bool tokens);

/*
 * Pure: a `Host ALIAS` block with the options for `t` (not batch), for
 * `ssh -F FILE ALIAS` or an Include.  NULL with *why when a value holds a
 * control character (an ssh_config line cannot) or ALIAS is not a plain
 * host name.
 */
char *ssh_config_block(const char *alias, const struct ssh_target *t,
		       char **why);

/* The known_hosts line pinning `host_pub` for VM `vm`. */
char *ssh_known_hosts_line(const char *vm, const char *host_pub);

/* Pure: the ssh argv for a target; `command` (may be NULL or empty) is
 * quoted for the remote shell so its words arrive as given. */
void ssh_argv(const struct ssh_target *t, bool batch,
	      const struct strv *command, struct strv *argv);
/* The same with `flags` (NULL-terminated; may be NULL) right after
 * "ssh", before the options, which take the first value given. */
void ssh_argv_flags(const struct ssh_target *t, bool batch,
		    const char *const *flags, const struct strv *command,
		    struct strv *argv);

/*
 * Pure: the scp argv copying `src` to `dst` (recursively, in SFTP mode:
 * no remote shell reads the paths).  The one marked remote is a path in
 * the guest (empty: the user's home); a remote source has its glob
 * characters escaped, as scp expands them there.  A local operand that
 * could read as an option or as HOST:PATH gets "./" in front.
 */
void ssh_scp_argv(const struct ssh_target *t, const char *src, bool src_remote,
		  const char *dst, bool dst_remote, struct strv *argv);

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
