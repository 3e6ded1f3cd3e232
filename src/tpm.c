// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM's swtpm (include/vmctl/tpm.h): its argv (pure), and starting
 * and stopping it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/state.h"
#include "vmctl/tpm.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

#define TPM_READY_TIMEOUT_MS 5000
#define TPM_TERM_TIMEOUT_MS 2000

void tpm_swtpm_argv(const char *vm_dir, struct strv *argv)
{
	strv_push(argv, "swtpm");
	strv_push(argv, "socket");
	strv_push(argv, "--tpm2");
	strv_push(argv, "--tpmstate");
	strv_pushf(argv, "dir=%s/%s,mode=0600", vm_dir, VMDIR_TPM_STATE);
	/* The control channel QEMU's tpm-emulator backend talks to; it
	 * hands swtpm the data channel over it. */
	strv_push(argv, "--ctrl");
	strv_pushf(argv, "type=unixio,path=%s/%s,mode=0600", vm_dir,
		   VMDIR_SWTPM_SOCK);
	strv_push(argv, "--pid");
	strv_pushf(argv, "file=%s/%s", vm_dir, VMDIR_SWTPM_PID);
	strv_push(argv, "--log");
	strv_pushf(argv, "file=%s/%s", vm_dir, VMDIR_SWTPM_LOG);
	/* Gone when QEMU is: exit once the control connection closes. */
	strv_push(argv, "--terminate");
	strv_push(argv, "--daemon");
}

/* The swtpm VMDIR/swtpm.pid names, if its command line names that very
 * pidfile. */
static int pidfile_swtpm(const struct vmctl_env *env, const char *name,
			 struct proc_id *id)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_SWTPM_PID);
	cleanup_free char *arg = xasprintf("file=%s", path);

	return proc_pidfile_names(env, path, arg, id);
}

/* SIGTERM (and SIGCONT, so a stopped one gets it), then SIGKILL. */
static void end_process(const struct vmctl_env *env,
			const struct proc_id *id)
{
	if (proc_signal(env, id, SIGTERM) < 0)
		return;
	proc_signal(env, id, SIGCONT);
	if (vm_wait_gone(env, id, TPM_TERM_TIMEOUT_MS))
		return;
	proc_signal(env, id, SIGKILL);
	vm_wait_gone(env, id, VM_KILL_TIMEOUT_MS);
}

static void unlink_file(const struct vmctl_env *env, const char *name,
			const char *file)
{
	cleanup_free char *path = state_vm_file(env, name, file);

	unlink(path);
}

void tpm_stop(const struct vmctl_env *env, const char *name,
	      struct proc_id *id)
{
	struct proc_id named;

	if (id->pid > 0)
		end_process(env, id);
	if (pidfile_swtpm(env, name, &named) == 0)
		end_process(env, &named);
	unlink_file(env, name, VMDIR_SWTPM_SOCK);
	unlink_file(env, name, VMDIR_SWTPM_PID);
	*id = (struct proc_id){ 0 };
}

static int failed(const struct vmctl_env *env, const char *name,
		  const char *what, struct vmctl_error **err)
{
	/* the last line of swtpm's log: where it says why */
	cleanup_free char *log = state_vm_file(env, name, VMDIR_SWTPM_LOG);
	cleanup_free char *why = vm_log_tail(log, 1);

	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s: swtpm %s%s%s",
			       name, what, *why ? ": " : "", why);
}

int tpm_start(const struct vmctl_env *env, const char *name,
	      struct proc_id *out, struct vmctl_error **err)
{
	cleanup_free char *dir = state_vm_dir(env, name);
	cleanup_free char *tpmdir = state_vm_file(env, name, VMDIR_TPM_STATE);
	cleanup_free char *sock = state_vm_file(env, name, VMDIR_SWTPM_SOCK);
	struct strv argv = { 0 };
	struct proc_result r = { 0 };
	long long deadline;
	int ret;

	*out = (struct proc_id){ 0 };
	/* swtpm's options are KEY=VALUE lists: a comma would split a path. */
	if (strchr(dir, ',') != NULL)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				       "VM %s: swtpm cannot take the path %s "
				       "(it has a comma): use another "
				       "--state-dir", name, dir);
	if (fs_mkdir_p(tpmdir, 0700, err) < 0)
		return -1;
	/* Leftovers of an earlier start. */
	tpm_stop(env, name, out);
	tpm_swtpm_argv(dir, &argv);
	ret = proc_run(&argv, &r, err);
	strv_clear(&argv);
	if (ret < 0)
		return vmctl_error_wrap(err, "VM %s has tpm: true, and swtpm "
					"cannot run (Debian: apt-get install "
					"swtpm)", name);
	ret = r.status;
	proc_result_clear(&r);
	if (ret != 0)
		return failed(env, name, "did not start", err);
	/* The daemon writes its pidfile and listens right after the fork
	 * its parent exits from. */
	deadline = vm_now_ms() + TPM_READY_TIMEOUT_MS;
	for (;;) {
		if (pidfile_swtpm(env, name, out) == 0 && vm_file_exists(sock))
			return 0;
		if (vm_now_ms() >= deadline)
			break;
		vm_sleep_ms(20);
	}
	tpm_stop(env, name, out);
	return failed(env, name, "did not come up", err);
}
