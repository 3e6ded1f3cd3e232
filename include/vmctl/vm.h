/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VM_H
#define VMCTL_VM_H

#include <stdbool.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/guest-ready.h"
#include "vmctl/spec.h"
#include "vmctl/ssh.h"
#include "vmctl/state.h"

/*
 * The VM lifecycle: the executing layer over the pure planners.  Each
 * operation takes the VM's lock, first cleans up after a QEMU that died
 * on its own (recording how), then acts.  Nothing here prints; results
 * come back in structs for the cmd-*.c front ends.
 */

/* Everything `list` and `status` show about one VM. */
struct vm_info {
	char *name;
	enum vm_run_state state;
	struct vm_state st;
	struct vmctl_spec *spec;     /* NULL while being created */
	char *qmp_status;            /* query-status, when running */
	char *vnc_password;          /* NULL when none */
};

void vm_info_clear(struct vm_info *info);
const char *vm_run_state_name(enum vm_run_state s);

/* How to start: what the command line adds to the spec. */
struct job;

struct vm_start_opts {
	bool overcommit;      /* --overcommit: as the spec's `overcommit` */
	const char *loadvm;   /* vm_start's: the snapshot whose RAM it resumes */
	struct job *files;    /* create's: the VM's files, still being made;
			       * QEMU starts once they are (vm-start.c) */
};

struct vm_create_opts {
	const char *name;     /* overrides spec->name, or NULL */
	bool no_start;
	bool progress;        /* draw download progress on stderr */
	struct vm_start_opts start;
};

/* create --name: the spec renamed (NULL name: kept), or a usage error
 * for an invalid name. */
int vm_spec_rename(struct vmctl_spec *spec, const char *name,
		   struct vmctl_error **err);
int vm_create(const struct vmctl_env *env, struct vmctl_spec *spec,
	      const struct vm_create_opts *opts, struct vm_info *out,
	      struct vmctl_error **err);
/* 0 started, 1 already running, -1 error. */
int vm_start(const struct vmctl_env *env, const char *name,
	     const struct vm_start_opts *opts, struct vm_info *out,
	     struct vmctl_error **err);

enum vm_stop_step {
	VM_STOP_NOT_RUNNING,
	VM_STOP_POWERDOWN,    /* the guest shut down on the ACPI power button */
	VM_STOP_QUIT,         /* QMP quit after the timeout */
	VM_STOP_KILL,         /* SIGKILL */
};

const char *vm_stop_step_name(enum vm_stop_step s);

/* timeout_s: how long the guest gets to power off; 0 skips to quit. */
int vm_stop(const struct vmctl_env *env, const char *name, int timeout_s,
	    enum vm_stop_step *how, struct vmctl_error **err);
int vm_kill(const struct vmctl_env *env, const char *name,
	    enum vm_stop_step *how, struct vmctl_error **err);
int vm_destroy(const struct vmctl_env *env, const char *name, bool force,
	       int timeout_s, struct vmctl_error **err);
int vm_inspect(const struct vmctl_env *env, const char *name,
	       struct vm_info *out, struct vmctl_error **err);
/* vm_inspect() for a listing: `sessions` from tmux_sessions_read(), so
 * tmux is asked once for all VMs (vm_refresh_known). */
int vm_inspect_known(const struct vmctl_env *env, const char *name,
		     const struct strv *sessions, struct vm_info *out,
		     struct vmctl_error **err);

/*
 * Where and as whom to SSH into a running VM with cloud-init.  `host` is
 * the address to connect to from here; strings point into `vm`.
 */
int vm_ssh_target(const struct vmctl_env *env, const struct vm_info *vm,
		  char **vm_dir, struct ssh_target *t,
		  struct vmctl_error **err);

/* Wait until SSH accepts the VM's key (see ssh_wait) and, for
 * WAIT_UNTIL_READY, cloud-init is done (ssh_wait_ready); on a timeout
 * the error carries the serial log's last lines.  rep: seconds from the
 * wait's start to each stage. */
int vm_wait_ssh(const struct vmctl_env *env, const char *name,
		enum wait_until until, int timeout_s, bool progress,
		struct wait_report *rep, struct vmctl_error **err);

/* The last `lines` lines of the VM's serial log, or of the log at
 * `path` ("" when it cannot be read), made safe for a terminal. */
char *vm_serial_tail(const struct vmctl_env *env, const char *name,
		     int lines);
char *vm_log_tail(const char *path, int lines);
/* A wait that failed for a reason the guest may tell (a timeout, a
 * stop): *err says "waiting for SSH" (or, once SSH was up, "waiting for
 * cloud-init") and ends with the last lines of the serial log at `log`
 * (NULL: none readable here). */
void vm_wait_ssh_failed(struct vmctl_error **err, const char *log,
			bool ssh_ok);

#endif
