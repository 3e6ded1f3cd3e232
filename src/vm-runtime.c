// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A VM's runtime bookkeeping (include/vmctl/vm-runtime.h): the QEMU that
 * runs it, how it ended, catching up with one that died on its own, and
 * the VM's directory.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/tmux.h"
#include "vmctl/tpm.h"
#include "vmctl/vm-claims.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vm-snapshot.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

long long vm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vm_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}


bool vm_file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void unlink_vm_file(const struct vmctl_env *env, const char *name,
			   const char *file)
{
	cleanup_free char *path = state_vm_file(env, name, file);

	unlink(path);
}

int vm_load_spec(const struct vmctl_env *env, const char *name,
		 struct vmctl_spec **spec, struct vmctl_error **err)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_SPEC);

	if (spec_load_file(path, spec, err) < 0)
		return vmctl_error_wrap(err, "VM %s: saved spec", name);
	return 0;
}

int vm_write_spec(const struct vmctl_env *env, const char *name,
		  const struct vmctl_spec *spec, struct vmctl_error **err)
{
	cleanup_free char *dir = state_vm_dir(env, name);
	cJSON *json = spec_to_json(spec);
	cleanup_free char *text = cJSON_Print(json);

	cJSON_Delete(json);
	return fs_write_atomic(dir, VMDIR_SPEC, text, strlen(text), 0600, err);
}

int vm_require(const struct vmctl_env *env, const char *name,
	       struct vmctl_error **err)
{
	if (!spec_name_valid(name))
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				       "invalid VM name \"%s\"", name);
	if (!state_vm_exists(env, name))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT,
				       "no VM named \"%s\" (see vmctl list)",
				       name);
	return 0;
}

/* ---- runtime bookkeeping --------------------------------------------- */

bool vm_wait_gone(const struct vmctl_env *env, const struct proc_id *id,
		  long long timeout_ms)
{
	long long deadline = vm_now_ms() + timeout_ms;

	while (proc_alive(env, id)) {
		if (vm_now_ms() >= deadline)
			return false;
		vm_sleep_ms(50);
	}
	return true;
}

/* Forget a QEMU that is gone: its session, sockets and pidfile (a QEMU
 * that gave up root could not remove them), and its swtpm. */
void vm_forget_qemu(const struct vmctl_env *env, const char *name,
		    struct vm_state *st)
{
	struct vmctl_error *ignored = NULL;

	tmux_kill(env, name, &ignored);
	vmctl_error_free(ignored);
	unlink_vm_file(env, name, VMDIR_QMP);
	unlink_vm_file(env, name, VMDIR_VNC_SOCKET);
	unlink_vm_file(env, name, VMDIR_PIDFILE);
	st->qemu = (struct proc_id){ 0 };
	/* Its swtpm goes with it (it exits by itself when QEMU closes the
	 * socket; not when QEMU never connected, or it is stuck). */
	tpm_stop(env, name, &st->swtpm);
}

/* ...and give back what it claimed (the caller writes the state). */
void vm_clear_runtime(const struct vmctl_env *env, const char *name,
		      struct vm_state *st)
{
	bool had_qemu = st->qemu.pid > 0;

	vm_forget_qemu(env, name, st);
	/* QEMU is gone: what its start moved to vfio-pci goes back. */
	if (had_qemu || st->claim.recorded)
		vm_claims_release(env, name, st);
}

static void record_exit(const struct vmctl_env *env, const char *name,
			struct vm_state *st, const char *stopped_by)
{
	struct tmux_pane pane;
	struct vmctl_error *ignored = NULL;

	cleanup_free char *pidfile = state_vm_file(env, name, VMDIR_PIDFILE);

	free(st->last_exit.stopped_by);
	st->last_exit = (struct vm_exit){
		.known = true, .status = -1, .time = time(NULL),
	};
	/* QEMU can be gone (a zombie) before tmux has seen its pane die:
	 * give tmux a moment to collect the status. */
	for (int i = 0; i < 50; i++) {
		if (tmux_query(env, name, &pane, &ignored) < 0 || !pane.exists)
			break;
		if (pane.dead && (pane.status >= 0 || pane.signal > 0)) {
			st->last_exit.status = pane.status;
			st->last_exit.signal = pane.signal;
			break;
		}
		vm_sleep_ms(20);
	}
	vmctl_error_free(ignored);
	/* Without tmux's word: QEMU removes its pidfile when it exits
	 * cleanly, never when it is killed or crashes.  (A QEMU that gave
	 * up root for env->qemu_user cannot remove it from the VM's 0700
	 * directory, so its pidfile says nothing.) */
	if (st->last_exit.status < 0 && st->last_exit.signal == 0 &&
	    env->qemu_user == NULL && !vm_file_exists(pidfile))
		st->last_exit.status = 0;
	if (stopped_by != NULL)
		st->last_exit.stopped_by = xstrdup(stopped_by);
	else if (st->last_exit.status == 0 && st->last_exit.signal == 0)
		st->last_exit.stopped_by = xstrdup("guest");
}

/*
 * A QEMU that vmctl stopped is gone: put how on record, then clear its
 * session and files.  In that order: a vmctl killed in between leaves a
 * stopped VM and a dead session for the next command to clean, where the
 * other order would leave a QEMU that vanished without a word (crashed).
 */
int vm_record_stop(const struct vmctl_env *env, const char *name,
		   struct vm_state *st, const char *how,
		   struct vmctl_error **err)
{
	struct proc_id qemu = st->qemu;
	int ret;

	record_exit(env, name, st, how);
	st->qemu = (struct proc_id){ 0 };
	/* The claim counts until it is given back: this vmctl holds it. */
	vm_claims_own(env, st);
	ret = state_write(env, name, st, err);
	st->qemu = qemu;   /* so clear_runtime gives the claim back */
	vm_clear_runtime(env, name, st);
	if (ret == 0)
		ret = state_write(env, name, st, err);
	return ret;
}

/* Kill a pane's process (and wait for it), only while it is still the
 * tmux server's child: a pid tmux reported may have been reused since. */
void vm_kill_pane(const struct vmctl_env *env, pid_t pid, pid_t server)
{
	struct proc_id id;

	if (pid > 0 && proc_identify(env, pid, &id) == 0 && id.ppid == server) {
		proc_signal(env, &id, SIGKILL);
		vm_wait_gone(env, &id, VM_KILL_TIMEOUT_MS);
	}
}

/*
 * The QEMU this VM's pidfile names, if it is one: a live process whose
 * command line holds this very pidfile path (every QEMU vmctl starts
 * names its own), so a stale pidfile never gets another process killed.
 */
int vm_pidfile_qemu(const struct vmctl_env *env, const char *name,
			struct proc_id *id)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_PIDFILE);

	return proc_pidfile_names(env, path, path, id);
}

void vm_kill_by_pidfile(const struct vmctl_env *env, const char *name)
{
	struct proc_id id;

	if (vm_pidfile_qemu(env, name, &id) == 0) {
		proc_signal(env, &id, SIGKILL);
		vm_wait_gone(env, &id, VM_KILL_TIMEOUT_MS);
	}
}

/*
 * Catch up with a QEMU that died on its own (killed, crashed, the guest
 * powered off): record how, and clean its leftovers.  Needs the VM lock.
 */
int vm_refresh_known(const struct vmctl_env *env, const char *name,
		     struct vm_state *st, const struct strv *sessions,
		     struct vmctl_error **err)
{
	struct tmux_pane pane;

	if (st->qemu.pid > 0 && !proc_alive(env, &st->qemu)) {
		record_exit(env, name, st, NULL);
		vm_clear_runtime(env, name, st);
		return state_write(env, name, st, err);
	}
	/* tmux is asked about this VM only if it may have a session. */
	if (st->qemu.pid == 0 &&
	    (sessions == NULL || tmux_sessions_has(sessions, name)) &&
	    tmux_query(env, name, &pane, err) == 0 && pane.exists) {
		/* A session no launch finished with: vmctl was killed. */
		if (!pane.dead)
			vm_kill_pane(env, pane.pid, pane.server);
		vm_kill_by_pidfile(env, name);
		vm_clear_runtime(env, name, st);
	}
	if (st->qemu.pid == 0 && st->swtpm.pid > 0) {
		/* A swtpm no QEMU uses: its start was killed. */
		tpm_stop(env, name, &st->swtpm);
		if (state_write(env, name, st, err) < 0)
			return -1;
	}
	if (st->qemu.pid == 0 && st->claim.recorded) {
		/* A claim no QEMU holds, under our lock: the start or stop
		 * that held it was killed. */
		vm_claims_release(env, name, st);
		return state_write(env, name, st, err);
	}
	return 0;
}

int vm_refresh(const struct vmctl_env *env, const char *name,
	       struct vm_state *st, struct vmctl_error **err)
{
	return vm_refresh_known(env, name, st, NULL, err);
}

enum vm_run_state vm_state_of(const struct vmctl_env *env,
			      const char *name, const struct vm_state *st)
{
	cleanup_free char *marker = state_vm_file(env, name, VMDIR_CREATING);

	if (vm_file_exists(marker))
		return VM_CREATING;
	if (st->qemu.pid > 0)
		return proc_alive(env, &st->qemu) ? VM_RUNNING : VM_CRASHED;
	if (!st->last_exit.known || st->last_exit.stopped_by != NULL)
		return vm_snapshot_saved(env, name) ? VM_SAVED : VM_STOPPED;
	return VM_CRASHED;
}

/* ---- ports ------------------------------------------------------------ */


char *vm_read_vnc_password(const struct vmctl_env *env, const char *name)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_VNC_PASSWORD);
	char *text = NULL;
	size_t len;
	struct vmctl_error *ignored = NULL;

	if (fs_read_file(path, 4096, &text, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return NULL;
	}
	text[strcspn(text, "\n")] = '\0';
	return text;
}


/* A create that has not finished: its marker is there, or it died
 * before even the marker and the first state file were written. */
bool vm_create_unfinished(const struct vmctl_env *env, const char *name)
{
	cleanup_free char *marker = state_vm_file(env, name, VMDIR_CREATING);
	cleanup_free char *state = state_vm_file(env, name, VMDIR_STATE);

	return vm_file_exists(marker) || !vm_file_exists(state);
}

/*
 * Remove a VM's directory: renamed out of the way first, then emptied.
 * Should the rename be impossible, vm.json goes first, so that a vmctl
 * killed halfway leaves what reads as an unfinished create (which list
 * shows as incomplete and create or destroy finish), never a created VM
 * with files missing.
 */
int vm_remove_dir(const struct vmctl_env *env, const char *name,
		  struct vmctl_error **err)
{
	cleanup_free char *dir = state_vm_dir(env, name);
	cleanup_free char *state = state_vm_file(env, name, VMDIR_STATE);
	cleanup_free char *gone = xasprintf("%s/vms/.%s.gone-XXXXXX",
					    env->state_dir, name);

	/* Away at once, by one rename over an empty directory of ours: no
	 * command can see half a VM (a `list` recreating its lock file
	 * inside while it is emptied, say).  A killed vmctl leaves a hidden
	 * directory for state_sweep(). */
	if (mkdtemp(gone) != NULL) {
		if (rename(dir, gone) == 0)
			return fs_remove_tree(gone, err);
		rmdir(gone);
	}
	if (unlink(state) < 0 && errno != ENOENT)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 state);
	return fs_remove_tree(dir, err);
}


/* Open the VM and take its lock; the caller closes *lock. */
int vm_open(const struct vmctl_env *env, const char *name, int *lock,
	    struct vm_state *st, struct vmctl_error **err)
{
	if (vm_require(env, name, err) < 0)
		return -1;
	*lock = state_lock_vm(env, name, true, err);
	if (*lock < 0)
		return -1;
	if (vm_create_unfinished(env, name)) {
		close(*lock);
		*lock = -1;
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s was never fully created (its "
				       "create was interrupted): destroy it "
				       "or create it again", name);
	}
	if (state_read(env, name, st, err) < 0 ||
	    vm_refresh(env, name, st, err) < 0) {
		close(*lock);
		*lock = -1;
		return -1;
	}
	return 0;
}



/* A VM whose runtime state needs catching up with: its QEMU is dead, its
 * swtpm has no QEMU, or its claim has no QEMU and no live owner. */
static bool needs_refresh(const struct vmctl_env *env,
			  const struct vm_state *st)
{
	if (st->qemu.pid > 0)
		return !proc_alive(env, &st->qemu);
	if (st->swtpm.pid > 0)
		return true;
	return st->claim.recorded && !proc_alive(env, &st->claim.owner);
}

static void reconcile_one(const char *name, const struct vm_state *snap,
			  void *data)
{
	const struct vmctl_env *env = data;
	struct vmctl_error *ignored = NULL;
	struct vm_state st;
	int lock;

	if (!needs_refresh(env, snap))
		return;
	/* Never waits: a VM some command is at work on is that command's
	 * to catch up with. */
	lock = state_lock_vm(env, name, false, &ignored);
	if (lock >= 0 && !vm_create_unfinished(env, name) &&
	    state_read(env, name, &st, &ignored) == 0) {
		vm_refresh(env, name, &st, &ignored);
		state_clear(&st);
	}
	vmctl_error_free(ignored);
	if (lock >= 0)
		close(lock);
}

void vm_reconcile_all(const struct vmctl_env *env)
{
	state_each(env, reconcile_one, (void *)env);
}
