/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVVM_SSH_H
#define VMCTL_LVVM_SSH_H

#include <stdbool.h>

#include <libvirt/libvirt.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/guest-ready.h"
#include "vmctl/spec.h"
#include "vmctl/ssh.h"
#include "vmctl/strv.h"

/*
 * SSH to a VM on a libvirt host (--connect), with its host key pinned as
 * for a direct VM (ssh.h).  The VM's client key, the known_hosts naming
 * its host key as "vmctl-NAME" and the spec it was made from are kept on
 * the machine that runs vmctl, in STATE_DIR/libvirt/UUID/ (the domain's
 * <uuid>, which create chooses), never on the libvirt host.  The guest is
 * on libvirt's NAT network `vmctl` (libvirt 9.0 has no passt, so no port
 * forward): its address is its DHCP lease, reached directly for a local
 * URI and through the libvirt host (OpenSSH ProxyJump) for a remote one.
 */

#define LVVM_KEYS_DIR "libvirt"      /* under STATE_DIR */

/* STATE_DIR/libvirt/UUID */
char *lvvm_keys_dir(const struct vmctl_env *env, const char *uuid);
/* A random (version 4) UUID, as libvirt writes them. */
void lvvm_uuid_random(char out[VIR_UUID_STRING_BUFLEN]);

/*
 * What create makes here: a directory filled under a hidden name
 * (STATE_DIR/libvirt/.UUID.new-PID-XXXXXX, 0700) and renamed into place
 * once the domain is defined, so a create that dies leaves no key
 * directory that looks whole (a later create removes the hidden ones of
 * dead processes).
 */
struct lvvm_keys {
	char *stage;                 /* filled, not yet in place */
	char *dir;                   /* in place */
};

/* The keys, known_hosts, spec and cloud-init seed (vm_cloud_init_files(),
 * as the direct backend makes them) in a new stage; *seed: the seed ISO
 * in it, to upload. */
int lvvm_keys_prepare(const struct vmctl_env *env, const char *uuid,
		      const struct vmctl_spec *spec, struct lvvm_keys *k,
		      char **seed, struct vmctl_error **err);
/* Drop what only the seed needed (the ISO, the guest's private host key)
 * and rename the stage into place. */
int lvvm_keys_commit(const struct vmctl_env *env, const char *uuid,
		     struct lvvm_keys *k, struct vmctl_error **err);
/* A failed create: remove the stage or the directory. */
void lvvm_keys_undo(struct lvvm_keys *k);
void lvvm_keys_clear(struct lvvm_keys *k);
/* destroy: remove STATE_DIR/libvirt/UUID (none is not an error). */
int lvvm_keys_remove(const struct vmctl_env *env, const char *uuid,
		     struct vmctl_error **err);

/* Pure: the ProxyJump for a URI's host: the authority as written
 * ("user@host:port") for ssh transports, the bare host for tcp and tls
 * (their port is libvirtd's), NULL for a local URI. */
char *lvvm_ssh_proxy_jump(const char *uri);

/*
 * Pure: where the libvirt URI names the keys its ssh uses (keyfile=,
 * known_hosts=; no_verify=1), the jump to the guest must use them too:
 * the text of an ssh_config (read with -F) whose host LVVM_SSH_JUMP_HOST
 * is the URI's host, user and port with that identity and those pinned
 * keys.  NULL when the URI names neither (the user's own ssh config then
 * reaches the host, as for libvirt), or with *why when a value cannot be
 * written into an ssh_config.
 */
#define LVVM_SSH_JUMP_HOST "vmctl-jump"
#define LVVM_SSH_JUMP_CONFIG "ssh-jump.conf"
char *lvvm_ssh_jump_config(const char *uri, char **why);

/* Where one ssh goes. */
struct lvvm_ssh_dest {
	const char *uri;             /* the libvirt host */
	const char *vm;              /* VM name */
	const char *keys_dir;        /* lvvm_keys_dir() */
	const char *user;            /* cloud_init.user */
	const char *ip;              /* the guest's lease */
	const char *jump_config;     /* NULL, or lvvm_ssh_jump_config()'s
					file: ProxyJump LVVM_SSH_JUMP_HOST */
};

/* Pure: the ssh argv (ssh_argv() with port 22 and, for a remote URI,
 * ProxyJump); `command` as ssh_argv() takes it. */
void lvvm_ssh_argv(const struct lvvm_ssh_dest *d, bool batch,
		   const struct strv *command, struct strv *argv);

/* `ssh-config NAME` and `cp` with --connect: ssh.c's target for a
 * running VM with a lease and its keys here; the strings it points to
 * are kept in *hold (strv_clear() it after). */
int lvvm_ssh_target(const struct vmctl_env *env, const char *name,
		    struct ssh_target *t, struct strv *hold,
		    struct vmctl_error **err);

/* `ssh NAME` with --connect: the argv to run (the VM running, with a
 * lease and its keys here). */
int lvvm_ssh_command(const struct vmctl_env *env, const char *name,
		     const struct strv *command, struct strv *argv,
		     struct vmctl_error **err);

/* `wait NAME` (and create --wait) with --connect: until the guest has a
 * lease and its sshd accepts the VM's key with the pinned host key and,
 * for WAIT_UNTIL_READY, cloud-init is done (ssh_wait_ready), up to
 * timeout_s; progress on stderr.  rep: seconds to each stage. */
int lvvm_wait_ssh(const struct vmctl_env *env, const char *name,
		  enum wait_until until, int timeout_s, bool progress,
		  struct wait_report *rep, struct vmctl_error **err);

#endif
