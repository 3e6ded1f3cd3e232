// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A launch's wait for its QEMU (vm-start.c's confirm and run steps): QMP
 * answering, the session where the VM's name says, "running"; and, for a
 * QEMU that never answered, its own last words from its pane.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/interrupt.h"
#include "vmctl/job.h"
#include "vmctl/qmp.h"
#include "vmctl/termsafe.h"
#include "vmctl/tmux.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

/*
 * QEMU's own words, from its pane, for a QEMU that died before it answered
 * on QMP: its last line, whatever its prefix ("qemu-system-x86_64: ...",
 * "qemu: could not load PC BIOS ...", or vmctl's launcher's "vmctl: ...").
 * The guest has not run yet, so nothing else writes there (but tmux's
 * "Pane is dead" notice, which is skipped).  Control
 * characters are dropped: the text goes to the user's terminal.
 */
char *vm_qemu_error(const struct vmctl_env *env, const char *name)
{
	cleanup_free char *raw = NULL, *text = NULL;
	char *best = NULL, *save = NULL;
	struct vmctl_error *ignored = NULL;

	if (tmux_capture(env, name, 200, &raw, &ignored) < 0) {
		vmctl_error_free(ignored);
		return NULL;
	}
	text = termsafe_string(raw, strlen(raw));
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);

		while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		/* tmux's own remain-on-exit notice is not QEMU's word. */
		if (len > 0 && strncmp(line, "Pane is dead", 12) != 0) {
			free(best);
			best = xstrdup(line);
		}
	}
	return best;
}

/*
 * tmux asked, once, where the VM's session is, beside QEMU's start-up
 * (some 100 ms under TCG): a session a hook renamed or killed is already
 * gone by the time tmux takes a second client's command, and QEMU
 * answering later says its pane still lives.
 */
struct session_check {
	const struct vmctl_env *env;
	const char *name;
	struct tmux_pane pane;
	struct job job;
	bool joined;
};

static int session_check_step(void *arg, struct vmctl_error **err)
{
	struct session_check *c = arg;

	return tmux_query(c->env, c->name, &c->pane, err);
}

/*
 * Until QEMU answers on its QMP socket, or the pane it runs in ends.  The
 * socket is tried every VM_LAUNCH_POLL_MS; while the pane's process lives
 * (read from /proc, no exec) tmux is not asked again: it is asked once
 * that process has ended (or was never known), for how it ended.  QEMU
 * answering counts once the session check says its session is where the
 * VM's name says (one renamed away would leave a QEMU no later command
 * finds).
 */
static int await_qmp(const struct vmctl_env *env, const char *name,
		     pid_t pane_pid, struct session_check *check,
		     struct qmp **out, struct vmctl_error **err)
{
	cleanup_free char *sock = state_vm_file(env, name, VMDIR_QMP);
	long long deadline = vm_now_ms() + VM_LAUNCH_TIMEOUT_MS;
	struct proc_id launched = { 0 };
	bool known = proc_identify(env, pane_pid, &launched) == 0;

	for (;;) {
		struct tmux_pane pane = { .exists = true };
		struct vmctl_error *ignored = NULL;
		bool answered = vm_file_exists(sock) &&
				qmp_open(sock, VM_QMP_TIMEOUT_MS, out,
					 &ignored) == 0;
		int asked = 0;

		vmctl_error_free(ignored);
		if (answered) {
			/* the check's word, or tmux's now if it was spent
			 * on a pane that had not started yet */
			if (!check->joined) {
				check->joined = true;
				asked = job_join(&check->job, err);
				pane = check->pane;
			} else {
				asked = tmux_query(env, name, &pane, err);
			}
			if (asked == 0 && pane.exists && !pane.dead)
				return 0;
			qmp_close(*out);
			*out = NULL;
		} else if (!known || !proc_alive(env, &launched)) {
			check->joined = true;
			job_join(&check->job, NULL);
			asked = tmux_query(env, name, &pane, err);
		}
		if (asked < 0)
			return -1;
		if (!pane.exists) {
			cleanup_free char *session = tmux_session_name(name);

			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "QEMU's tmux session %s is gone",
					       session);
		}
		if (pane.dead) {
			cleanup_free char *why = vm_qemu_error(env, name);

			if (why != NULL)
				return vmctl_error_set(err, VMCTL_EXIT_FAILURE,
						       0, "QEMU failed to "
						       "start: %s", why);
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "QEMU exited at once (status "
					       "%d)", pane.status);
		}
		if (interrupt_pending())
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR,
					       "interrupted");
		if (vm_now_ms() >= deadline)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE,
					       ETIMEDOUT, "QEMU did not answer "
					       "on %s within %d s", sock,
					       VM_LAUNCH_TIMEOUT_MS / 1000);
		vm_sleep_ms(VM_LAUNCH_POLL_MS);
	}
}

int vm_wait_qmp(const struct vmctl_env *env, const char *name,
		pid_t pane_pid, struct qmp **out, struct vmctl_error **err)
{
	struct session_check check = { .env = env, .name = name };
	int ret;

	job_start(&check.job, session_check_step, &check);
	ret = await_qmp(env, name, pane_pid, &check, out, err);
	job_join(&check.job, NULL);
	return ret;
}

int vm_wait_running(struct qmp *q, struct vmctl_error **err)
{
	long long deadline = vm_now_ms() + VM_LAUNCH_TIMEOUT_MS;

	for (;;) {
		cleanup_free char *status = NULL;

		if (qmp_query_status(q, &status, err) < 0)
			return -1;
		if (strcmp(status, "running") == 0)
			return 0;
		if (interrupt_pending())
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR,
					       "interrupted");
		if (vm_now_ms() >= deadline)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "QEMU is %s, not running",
					       status);
		vm_sleep_ms(50);
	}
}
