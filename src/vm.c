// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM lifecycle's front: inspect, stop, kill, destroy, SSH.  The
 * other steps have files of their own: vm-create.c (a VM's files),
 * vm-start.c (the start sequence), vm-runtime.c (the bookkeeping they
 * share).  Plans come from the pure modules; these carry them out, in
 * order, undoing what they did when a step fails.
 *
 * Locking: STATE_DIR/lock is held only while a VM's claim or ports are
 * chosen and recorded, so parallel starts never collide; each VM's own
 * lock is held for the whole of any command that changes it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/qmp.h"
#include "vmctl/termsafe.h"
#include "vmctl/vm.h"
#include "vmctl/vm-clone.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

const char *vm_run_state_name(enum vm_run_state s)
{
	switch (s) {
	case VM_RUNNING: return "running";
	case VM_CRASHED: return "crashed";
	case VM_CREATING: return "creating";
	case VM_INCOMPLETE: return "incomplete";
	case VM_SAVED: return "saved";
	case VM_STOPPED: break;
	}
	return "stopped";
}

const char *vm_stop_step_name(enum vm_stop_step s)
{
	switch (s) {
	case VM_STOP_POWERDOWN: return "powerdown";
	case VM_STOP_QUIT: return "quit";
	case VM_STOP_KILL: return "kill";
	case VM_STOP_NOT_RUNNING: break;
	}
	return "not-running";
}

void vm_info_clear(struct vm_info *info)
{
	free(info->name);
	state_clear(&info->st);
	spec_free(info->spec);
	free(info->qmp_status);
	free(info->vnc_password);
	*info = (struct vm_info){ 0 };
}


static int fill_info(const struct vmctl_env *env, const char *name,
		     const char *qmp_status, struct vm_info *out,
		     struct vmctl_error **err)
{
	struct vm_info info = { .name = xstrdup(name) };

	if (state_read(env, name, &info.st, err) < 0) {
		/* Between mkdir and the first state write of a create. */
		if (!vm_create_unfinished(env, name)) {
			vm_info_clear(&info);
			return -1;
		}
		vmctl_error_free(*err);
		*err = NULL;
		info.state = VM_CREATING;
		*out = info;
		return 0;
	}
	info.state = vm_state_of(env, name, &info.st);
	if (info.state != VM_CREATING && vm_load_spec(env, name, &info.spec,
						      err) < 0) {
		vm_info_clear(&info);
		return -1;
	}
	info.vnc_password = vm_read_vnc_password(env, name);
	if (info.state == VM_RUNNING && qmp_status != NULL) {
		info.qmp_status = xstrdup(qmp_status);
	} else if (info.state == VM_RUNNING) {
		cleanup_free char *sock = state_vm_file(env, name, VMDIR_QMP);
		struct qmp *q = NULL;
		struct vmctl_error *ignored = NULL;

		if (qmp_open(sock, VM_QMP_TIMEOUT_MS, &q, &ignored) == 0)
			qmp_query_status(q, &info.qmp_status, &ignored);
		vmctl_error_free(ignored);
		qmp_close(q);
	}
	*out = info;
	return 0;
}

int vm_fill_info(const struct vmctl_env *env, const char *name,
		 struct vm_info *out, struct vmctl_error **err)
{
	return fill_info(env, name, NULL, out, err);
}

int vm_fill_info_launched(const struct vmctl_env *env, const char *name,
			  const char *qmp_status, struct vm_info *out,
			  struct vmctl_error **err)
{
	return fill_info(env, name, qmp_status, out, err);
}

int vm_inspect(const struct vmctl_env *env, const char *name,
	       struct vm_info *out, struct vmctl_error **err)
{
	return vm_inspect_known(env, name, NULL, out, err);
}

int vm_inspect_known(const struct vmctl_env *env, const char *name,
		     const struct strv *sessions, struct vm_info *out,
		     struct vmctl_error **err)
{
	struct vm_state st;
	struct vmctl_error *busy = NULL;
	int lock;

	if (vm_require(env, name, err) < 0)
		return -1;
	/* Clean up after a dead QEMU if nobody else is busy with the VM;
	 * otherwise just report what is there. */
	lock = state_lock_vm(env, name, false, &busy);
	vmctl_error_free(busy);
	if (lock >= 0) {
		struct vmctl_error *ignored = NULL;
		cleanup_free char *marker = state_vm_file(env, name,
							  VMDIR_CREATING);

		if (!vm_file_exists(marker) &&
		    state_read(env, name, &st, &ignored) == 0) {
			vm_refresh_known(env, name, &st, sessions, &ignored);
			state_clear(&st);
		}
		vmctl_error_free(ignored);
	}
	if (vm_fill_info(env, name, out, err) < 0) {
		if (lock >= 0)
			close(lock);
		return -1;
	}
	/* Creating, yet nobody holds its lock: that create is dead. */
	if (lock >= 0 && out->state == VM_CREATING)
		out->state = VM_INCOMPLETE;
	if (lock >= 0)
		close(lock);
	return 0;
}

/* ---- start / stop / kill / destroy ------------------------------------- */


/* Stop a running QEMU: powerdown, then quit, then SIGKILL. */
static int stop_locked(const struct vmctl_env *env, const char *name,
		       struct vm_state *st, int timeout_s,
		       enum vm_stop_step *how, struct vmctl_error **err)
{
	cleanup_free char *sock = state_vm_file(env, name, VMDIR_QMP);
	struct qmp *q = NULL;
	struct vmctl_error *qerr = NULL;

	*how = VM_STOP_NOT_RUNNING;
	if (st->qemu.pid == 0)
		return 0;
	if (qmp_open(sock, 5000, &q, &qerr) == 0) {
		if (timeout_s > 0 &&
		    qmp_execute(q, "system_powerdown", NULL, NULL, &qerr) == 0 &&
		    vm_wait_gone(env, &st->qemu, (long long)timeout_s * 1000)) {
			*how = VM_STOP_POWERDOWN;
		} else {
			vmctl_error_free(qerr);
			qerr = NULL;
			/* quit's reply may race QEMU's exit; the wait says. */
			qmp_execute(q, "quit", NULL, NULL, &qerr);
			if (vm_wait_gone(env, &st->qemu, VM_QUIT_TIMEOUT_MS))
				*how = VM_STOP_QUIT;
		}
	} else if (proc_signal(env, &st->qemu, SIGTERM) == 0 &&
		   vm_wait_gone(env, &st->qemu, VM_QUIT_TIMEOUT_MS)) {
		/* No QMP: SIGTERM is QEMU's other orderly "quit". */
		*how = VM_STOP_QUIT;
	}
	vmctl_error_free(qerr);
	qmp_close(q);
	if (*how == VM_STOP_NOT_RUNNING) {
		if (proc_alive(env, &st->qemu))
			proc_signal(env, &st->qemu, SIGKILL);
		if (!vm_wait_gone(env, &st->qemu, VM_KILL_TIMEOUT_MS))
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "QEMU (pid %d) survived SIGKILL",
					       (int)st->qemu.pid);
		*how = VM_STOP_KILL;
	}
	return vm_record_stop(env, name, st, vm_stop_step_name(*how), err);
}

int vm_stop(const struct vmctl_env *env, const char *name, int timeout_s,
	    enum vm_stop_step *how, struct vmctl_error **err)
{
	struct vm_state st;
	int lock, ret;

	if (vm_open(env, name, &lock, &st, err) < 0)
		return -1;
	ret = stop_locked(env, name, &st, timeout_s, how, err);
	state_clear(&st);
	close(lock);
	return ret;
}

int vm_kill(const struct vmctl_env *env, const char *name,
	    enum vm_stop_step *how, struct vmctl_error **err)
{
	struct vm_state st;
	int lock, ret = 0;

	if (vm_open(env, name, &lock, &st, err) < 0)
		return -1;
	*how = VM_STOP_NOT_RUNNING;
	if (st.qemu.pid > 0) {
		proc_signal(env, &st.qemu, SIGKILL);
		if (!vm_wait_gone(env, &st.qemu, VM_KILL_TIMEOUT_MS)) {
			ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					      "QEMU (pid %d) survived SIGKILL",
					      (int)st.qemu.pid);
		} else {
			*how = VM_STOP_KILL;
			ret = vm_record_stop(env, name, &st, "kill", err);
		}
	}
	state_clear(&st);
	close(lock);
	return ret;
}

int vm_destroy(const struct vmctl_env *env, const char *name, bool force,
	       int timeout_s, struct vmctl_error **err)
{
	cleanup_free char *marker = NULL;
	struct vm_state st = { 0 };
	enum vm_stop_step how;
	int lock, ret = 0;

	if (vm_require(env, name, err) < 0)
		return -1;
	marker = state_vm_file(env, name, VMDIR_CREATING);
	lock = state_lock_vm(env, name, !vm_file_exists(marker), err);
	if (lock < 0)
		return vmctl_error_wrap(err, "VM %s", name);
	if (state_read(env, name, &st, err) == 0) {
		if (vm_file_exists(marker) && st.qemu.pid > 0 &&
		    proc_alive(env, &st.qemu))
			proc_signal(env, &st.qemu, SIGKILL);
		ret = vm_refresh(env, name, &st, err);
		if (ret == 0)
			ret = stop_locked(env, name, &st, force ? 0 : timeout_s,
					  &how, err);
	} else {
		/* No state yet (an interrupted create): nothing runs. */
		vmctl_error_free(*err);
		*err = NULL;
	}
	if (ret == 0) {
		vm_clear_runtime(env, name, &st);
		ret = vm_remove_dir(env, name, err);
	}
	close(lock);
	if (ret == 0) {
		/* The last VM standing on a layer takes it along. */
		vm_layers_release(env, &st.layers);
		state_sweep(env);
	}
	state_clear(&st);
	return ret;
}

char *vm_serial_tail(const struct vmctl_env *env, const char *name,
		     int lines)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_SERIAL_LOG);

	return vm_log_tail(path, lines);
}

char *vm_log_tail(const char *path, int lines)
{
	cleanup_free char *raw = NULL, *text = NULL;
	struct vmctl_error *ignored = NULL;
	size_t len;
	const char *p;
	int seen = 0;

	if (fs_read_file(path, 64u << 20, &raw, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return xstrdup("");
	}
	/* The guest wrote these bytes: no escape sequence of theirs reaches
	 * a terminal (or the JSON), and CR LF becomes plain lines. */
	text = termsafe_string(raw, len);
	len = strlen(text);
	while (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	for (p = text + len; p > text; p--)
		if (p[-1] == '\n' && ++seen == lines)
			break;
	return xstrdup(p);
}

int vm_ssh_target(const struct vmctl_env *env, const struct vm_info *vm,
		  char **vm_dir, struct ssh_target *t,
		  struct vmctl_error **err)
{
	if (vm->state != VM_RUNNING)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s is %s", vm->name,
				       vm_run_state_name(vm->state));
	if (vm->spec == NULL || !vm->spec->cloud_init.enabled)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s has no cloud-init, so vmctl "
				       "holds no key for it", vm->name);
	*vm_dir = state_vm_dir(env, vm->name);
	*t = (struct ssh_target){
		.vm = vm->name,
		.vm_dir = *vm_dir,
		.user = vm->spec->cloud_init.user,
		/* A forward on all addresses is reached on loopback here. */
		.host = strcmp(vm->spec->network.ssh_listen, "0.0.0.0") == 0
			? "127.0.0.1" : vm->spec->network.ssh_listen,
		.port = vm->st.ssh_port,
	};
	return 0;
}

struct alive_check {
	const struct vmctl_env *env;
	struct proc_id id;
};

static bool still_alive(void *data)
{
	struct alive_check *a = data;

	return proc_alive(a->env, &a->id);
}

int vm_wait_ssh(const struct vmctl_env *env, const char *name,
		enum wait_until until, int timeout_s, bool progress,
		struct wait_report *rep, struct vmctl_error **err)
{
	long long start = vm_now_ms();
	struct vm_info vm = { 0 };
	struct ssh_target t;
	struct alive_check alive = { .env = env };
	cleanup_free char *dir = NULL;
	int ret;

	if (vm_inspect(env, name, &vm, err) < 0)
		return -1;
	ret = vm_ssh_target(env, &vm, &dir, &t, err);
	if (ret == 0) {
		alive.id = vm.st.qemu;
		ret = ssh_wait_ready(&t, until, timeout_s, start, progress,
				     still_alive, &alive, rep, err);
	}
	if (ret < 0 && vm.name != NULL) {
		cleanup_free char *log = state_vm_file(env, name,
						       VMDIR_SERIAL_LOG);

		vm_wait_ssh_failed(err, log, rep->ssh_ok);
	}
	vm_info_clear(&vm);
	return ret;
}

void vm_wait_ssh_failed(struct vmctl_error **err, const char *log,
			bool ssh_ok)
{
	cleanup_free char *tail = NULL;

	/* not for a refused host key (errnum 0): the log has no say */
	if (err == NULL || *err == NULL || (*err)->errnum == 0)
		return;
	vmctl_error_wrap(err, "%s", ssh_ok ? "waiting for cloud-init"
					    : "waiting for SSH");
	tail = log != NULL ? vm_log_tail(log, 15) : xstrdup("");
	if (*tail) {
		char *msg = xasprintf("%s\nlast lines of the serial log:\n%s",
				      (*err)->message, tail);

		free((*err)->message);
		(*err)->message = msg;
	}
}

