// SPDX-License-Identifier: GPL-2.0-or-later
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmctl/fsutil.h"
#include "vmctl/proc.h"
#include "vmctl/tmux.h"
#include "vmctl/xalloc.h"

#define TMUX_CONF "tmux.conf"

static const char tmux_conf[] =
	"# vmctl's private tmux server: one session per VM, QEMU in its pane.\n"
	"# Written by vmctl; edits are overwritten.\n"
	"set-option -g remain-on-exit on\n"
	"set-option -g history-limit 10000\n"
	"set-option -g status-right \"vmctl | Ctrl-b d detaches\"\n";

char *tmux_session_name(const char *vm)
{
	return xasprintf("vmctl-%s", vm);
}

void tmux_argv_base(const struct vmctl_env *env, struct strv *argv)
{
	strv_push(argv, "tmux");
	strv_push(argv, "-L");
	strv_push(argv, env->tmux_socket);
}

void tmux_argv_new_session(const struct vmctl_env *env, const char *vm,
			   const struct strv *command, struct strv *argv)
{
	tmux_argv_base(env, argv);
	strv_push(argv, "-f");
	strv_pushf(argv, "%s/%s", env->state_dir, TMUX_CONF);
	strv_push(argv, "new-session");
	strv_push(argv, "-d");
	strv_push(argv, "-s");
	strv_take(argv, tmux_session_name(vm));
	strv_push(argv, "-c");
	strv_push(argv, "/");
	strv_push(argv, "-x");
	strv_push(argv, "160");
	strv_push(argv, "-y");
	strv_push(argv, "48");
	strv_push(argv, "--");
	strv_extend(argv, command);
}

/* "=NAME:": tmux's exact-match target (session, its current window and
 * pane), so VM "a" never finds session "vmctl-ab". */
static char *target(const char *vm)
{
	return xasprintf("=vmctl-%s:", vm);
}

static int run_tmux(const struct strv *argv, struct proc_result *r,
		    struct vmctl_error **err)
{
	if (proc_run(argv, r, err) < 0)
		return vmctl_error_wrap(err, "tmux");
	return 0;
}

int tmux_start(const struct vmctl_env *env, const char *vm,
	       const struct strv *command, struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;
	int ret;

	if (fs_write_atomic(env->state_dir, TMUX_CONF, tmux_conf,
			    sizeof(tmux_conf) - 1, 0644, err) < 0)
		return -1;
	tmux_argv_new_session(env, vm, command, &argv);
	ret = run_tmux(&argv, &r, err);
	strv_clear(&argv);
	if (ret < 0)
		return -1;
	if (r.status != 0) {
		cleanup_free char *why = proc_result_summary(&r);

		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				"tmux new-session: %s", why);
		ret = -1;
	}
	proc_result_clear(&r);
	return ret;
}

static int query_once(const struct vmctl_env *env, const char *vm,
		      struct tmux_pane *pane, pid_t *server,
		      struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;
	*pane = (struct tmux_pane){ .status = -1 };
	tmux_argv_base(env, &argv);
	strv_push(&argv, "list-panes");
	strv_push(&argv, "-t");
	strv_take(&argv, target(vm));
	strv_push(&argv, "-F");
	strv_push(&argv, "#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}|"
			 "#{pane_pid}|#{pid}");
	if (run_tmux(&argv, &r, err) < 0) {
		strv_clear(&argv);
		return -1;
	}
	strv_clear(&argv);
	/* No server or no session: tmux says so and exits 1.  Fields may be
	 * empty (no status yet), so split on '|' rather than scanf. */
	if (r.status == 0) {
		char *fields[5], *line = r.out;
		size_t n = 0;

		line[strcspn(line, "\n")] = '\0';
		for (char *f = line; n < 5; n++) {
			fields[n] = f;
			f = strchr(f, '|');
			if (f == NULL) {
				n++;
				break;
			}
			*f++ = '\0';
		}
		if (n == 5) {
			pane->exists = true;
			pane->dead = atoi(fields[0]) != 0;
			if (*fields[1])
				pane->status = atoi(fields[1]);
			if (*fields[2])
				pane->signal = atoi(fields[2]);
			pane->pid = atoi(fields[3]);
			*server = atoi(fields[4]);
		}
	}
	proc_result_clear(&r);
	return 0;
}

int tmux_query(const struct vmctl_env *env, const char *vm,
	       struct tmux_pane *pane, struct vmctl_error **err)
{
	pid_t server = 0;

	if (query_once(env, vm, pane, &server, err) < 0)
		return -1;
	/*
	 * A pane can be dead before tmux has its exit status: tmux sees the
	 * pty close before SIGCHLD, and with libutempter (Debian's tmux) a
	 * SIGCHLD can be lost altogether, leaving QEMU a zombie (tmux issue
	 * 311).  Nudging the server with SIGCHLD makes it reap; ask again.
	 */
	for (int i = 0; i < 20 && pane->exists && pane->dead &&
			pane->status < 0 && pane->signal == 0 && server > 0;
	     i++) {
		struct timespec ts = { 0, 20 * 1000000L };

		kill(server, SIGCHLD);
		nanosleep(&ts, NULL);
		if (query_once(env, vm, pane, &server, err) < 0)
			return -1;
	}
	return 0;
}

int tmux_capture(const struct vmctl_env *env, const char *vm, int lines,
		 char **text, struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;

	tmux_argv_base(env, &argv);
	strv_push(&argv, "capture-pane");
	strv_push(&argv, "-p");
	strv_push(&argv, "-J");
	strv_push(&argv, "-t");
	strv_take(&argv, target(vm));
	strv_push(&argv, "-S");
	strv_pushf(&argv, "-%d", lines);
	if (run_tmux(&argv, &r, err) < 0) {
		strv_clear(&argv);
		return -1;
	}
	strv_clear(&argv);
	*text = steal_pointer(&r.out);
	proc_result_clear(&r);
	return 0;
}

int tmux_kill(const struct vmctl_env *env, const char *vm,
	      struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;
	int ret;

	tmux_argv_base(env, &argv);
	strv_push(&argv, "kill-session");
	strv_push(&argv, "-t");
	strv_take(&argv, target(vm));
	ret = run_tmux(&argv, &r, err);
	strv_clear(&argv);
	if (ret == 0)
		proc_result_clear(&r);
	return ret;
}

int tmux_attach(const struct vmctl_env *env, const char *vm,
		struct vmctl_error **err)
{
	struct strv argv = { 0 };

	tmux_argv_base(env, &argv);
	strv_push(&argv, "attach-session");
	strv_push(&argv, "-t");
	strv_take(&argv, target(vm));
	proc_exec(&argv, err);
	strv_clear(&argv);
	return -1;
}
