/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VM_RUNTIME_H
#define VMCTL_VM_RUNTIME_H

#include <stdbool.h>
#include <sys/types.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/proc.h"
#include "vmctl/spec.h"
#include "vmctl/state.h"
#include "vmctl/vm.h"

/*
 * A VM's runtime bookkeeping, shared by the lifecycle's files (vm.c,
 * vm-create.c, vm-start.c): the QEMU that runs it (found, waited for,
 * killed only once identified), how it ended, catching up with one that
 * died on its own, and the VM's directory.  Callers hold the VM's lock.
 */

#define VM_LAUNCH_TIMEOUT_MS 30000
/* How often a launch looks for QEMU's QMP socket (a stat and a /proc
 * read, some 30 us: cheap enough to keep the wait short; QEMU is asked
 * on average half of this after the socket appears). */
#define VM_LAUNCH_POLL_MS 2
#define VM_QUIT_TIMEOUT_MS 10000
/* Each QMP read of the lifecycle (a QEMU that answers at all answers
 * within it). */
#define VM_QMP_TIMEOUT_MS 2000
#define VM_KILL_TIMEOUT_MS 5000

long long vm_now_ms(void);
void vm_sleep_ms(long ms);
bool vm_file_exists(const char *path);

/* A new VNC password: 8 characters (VNC's most). */
char *vm_random_password(void);

/* Into DIR: the VM's SSH keys (vmdir.h's names), its pinned known_hosts
 * and the cloud-init seed (VMDIR_SEED).  vm-create.c; the libvirt
 * backend uploads the seed from a scratch DIR. */
int vm_cloud_init_files(const char *dir, const char *name,
			const struct vmctl_spec *spec,
			struct vmctl_error **err);

/* vm-create.c: the VM's directory, appearing whole with its `creating`
 * marker and locked (*lock, to close); the caller holds the state-wide
 * lock. */
int vm_make_dir(const struct vmctl_env *env, const char *name, int *lock,
		struct vmctl_error **err);
/* vm-create.c: a VM's own files but its disk: spec.json, cloud-init's
 * keys and seed (a new instance-id), UEFI variables as qcow2 (the current
 * state of `vars_from`, format `vars_format`, or the firmware's template
 * when NULL), a VNC password. */
int vm_identity_files(const struct vmctl_env *env, const char *name,
		      const struct vmctl_spec *spec, const char *vars_from,
		      const char *vars_format, struct vmctl_error **err);

/* The VM's saved spec (spec.json). */
int vm_load_spec(const struct vmctl_env *env, const char *name,
		 struct vmctl_spec **spec, struct vmctl_error **err);
/* Replace the VM's saved spec (spec.json, atomically): create, and the
 * commands that change a VM (cdrom, disk resize). */
int vm_write_spec(const struct vmctl_env *env, const char *name,
		  const struct vmctl_spec *spec, struct vmctl_error **err);
/* A valid name of an existing VM, or an error saying which it is not. */
int vm_require(const struct vmctl_env *env, const char *name,
	       struct vmctl_error **err);
/* Open the VM: its lock (the caller closes *lock), its state, caught up
 * with a QEMU that died (vm_refresh). */
int vm_open(const struct vmctl_env *env, const char *name, int *lock,
	    struct vm_state *st, struct vmctl_error **err);

bool vm_wait_gone(const struct vmctl_env *env, const struct proc_id *id,
		  long long timeout_ms);
/* Kill a pane's process, only while it is still the tmux server's child. */
void vm_kill_pane(const struct vmctl_env *env, pid_t pid, pid_t server);
/* The QEMU the VM's pidfile names, if its command line names that very
 * pidfile: 0 and *id, or -1. */
int vm_pidfile_qemu(const struct vmctl_env *env, const char *name,
		    struct proc_id *id);
void vm_kill_by_pidfile(const struct vmctl_env *env, const char *name);

/* A QEMU that is gone: drop its session, sockets and pidfile. */
void vm_forget_qemu(const struct vmctl_env *env, const char *name,
		    struct vm_state *st);
/* vm_forget_qemu(), and give back what the VM claimed (the caller writes
 * the state). */
void vm_clear_runtime(const struct vmctl_env *env, const char *name,
		      struct vm_state *st);
/* A QEMU vmctl stopped `how` is gone: record it, clear, write. */
int vm_record_stop(const struct vmctl_env *env, const char *name,
		   struct vm_state *st, const char *how,
		   struct vmctl_error **err);
/* Catch up with a QEMU that died on its own, a session or a claim that a
 * killed vmctl left behind. */
int vm_refresh(const struct vmctl_env *env, const char *name,
	       struct vm_state *st, struct vmctl_error **err);
/* vm_refresh() where `sessions` (tmux_sessions_read(), taken before the
 * VM's lock) says which VMs may have a tmux session: one without is not
 * asked about (a launch killed after that listing is caught by the next
 * command, as any killed launch is). */
int vm_refresh_known(const struct vmctl_env *env, const char *name,
		     struct vm_state *st, const struct strv *sessions,
		     struct vmctl_error **err);
/*
 * Catch up with every VM whose QEMU died or whose claim's owner did
 * (vm_refresh under its lock, never waiting for one): what a crashed VM
 * claimed and bound is given back by whichever command runs next.
 */
void vm_reconcile_all(const struct vmctl_env *env);
enum vm_run_state vm_state_of(const struct vmctl_env *env, const char *name,
			      const struct vm_state *st);

char *vm_read_vnc_password(const struct vmctl_env *env, const char *name);
/* A create that has not finished (its marker, or no state yet). */
bool vm_create_unfinished(const struct vmctl_env *env, const char *name);
/* Remove the VM's directory: renamed away first, then emptied. */
int vm_remove_dir(const struct vmctl_env *env, const char *name,
		  struct vmctl_error **err);

/* vm_info for a VM (the caller holds its lock or accepts a snapshot). */
int vm_fill_info(const struct vmctl_env *env, const char *name,
		 struct vm_info *out, struct vmctl_error **err);
/* vm_fill_info() by the launch that has just seen QEMU say `qmp_status`
 * (create, start): QEMU is not asked again. */
int vm_fill_info_launched(const struct vmctl_env *env, const char *name,
			  const char *qmp_status, struct vm_info *out,
			  struct vmctl_error **err);

/* vm-start.c: socket paths must fit a sockaddr_un. */
/* vm-launch-wait.c: until QEMU answers on QMP in the session its name
 * says (pane_pid: the pane's process as new-session reported it); until
 * it says running; the last line a QEMU that failed left in its pane. */
struct qmp;
int vm_wait_qmp(const struct vmctl_env *env, const char *name,
		pid_t pane_pid, struct qmp **out, struct vmctl_error **err);
int vm_wait_running(struct qmp *q, struct vmctl_error **err);
char *vm_qemu_error(const struct vmctl_env *env, const char *name);

int vm_check_socket_paths(const struct vmctl_env *env, const char *name,
			  struct vmctl_error **err);
/* vm-start.c: the start sequence for a VM whose files are in place. */
int vm_launch(const struct vmctl_env *env, const char *name,
	      const struct vmctl_spec *spec, struct vm_state *st,
	      const struct vm_start_opts *opts, struct vmctl_error **err);

#endif
