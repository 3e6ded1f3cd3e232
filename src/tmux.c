// SPDX-License-Identifier: GPL-2.0-or-later
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmctl/fsutil.h"
#include "vmctl/proc.h"
#include "vmctl/tmux.h"
#include "vmctl/utf8locale.h"
#include "vmctl/xalloc.h"

extern char **environ;

#define TMUX_CONF "tmux.conf"

static const char tmux_conf[] =
	"# vmctl's private tmux server: one session per VM, QEMU in its pane.\n"
	"# Written by vmctl; edits are overwritten.\n"
	"set-option -g remain-on-exit on\n"
	"set-option -g history-limit 10000\n"
	"set-option -g status-right \"vmctl | Ctrl-b d detaches\"\n"
	"# The guest writes to the pane: it must not reach the clipboard of\n"
	"# whoever attaches (OSC 52), nor rename windows behind vmctl's back.\n"
	"set-option -g set-clipboard off\n"
	"set-option -g allow-rename off\n"
	"set-option -g set-titles off\n";

/*
 * tmux turns '.' and ':' in a session name into '_' (they separate window
 * and pane in targets), so "web.1" and "web_1" would share a session and
 * "web.1" would never be found by its own name.  VM names are lower case
 * letters, digits, '.', '_' and '-'; '.' becomes '+', which no VM name
 * holds, so every name has a session of its own.
 */
char *tmux_session_name(const char *vm)
{
	char *s = xasprintf("vmctl-%s", vm);

	for (char *p = s; *p; p++)
		if (*p == '.')
			*p = '+';
	return s;
}

/*
 * The environment tmux runs in: vmctl's, plus LOCPATH where this host has
 * no UTF-8 locale of its own (see utf8locale.h).  NULL: vmctl's as it is.
 */
static int tmux_environ(const struct vmctl_env *env, char ***envp,
			struct vmctl_error **err)
{
	cleanup_free char *locpath = NULL;
	size_t n = 0, k = 0;
	char **v;

	*envp = NULL;
	if (utf8locale_path(env, &locpath, err) < 0)
		return -1;
	if (locpath == NULL)
		return 0;
	while (environ[n] != NULL)
		n++;
	v = xcalloc(n + 2, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LOCPATH=", 8) != 0)
			v[k++] = xstrdup(environ[i]);
	v[k++] = xasprintf("LOCPATH=%s", locpath);
	*envp = v;
	return 0;
}

static void environ_free(char **envp)
{
	for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
		free(envp[i]);
	free(envp);
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
	strv_push(argv, "-P");
	strv_push(argv, "-F");
	strv_push(argv, "#{session_id} #{pane_pid} #{pid}");
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
	cleanup_free char *session = tmux_session_name(vm);

	return xasprintf("=%s:", session);
}

static int run_tmux(const struct vmctl_env *env, const struct strv *argv,
		    struct proc_result *r, struct vmctl_error **err)
{
	char **envp = NULL;
	int ret;

	if (tmux_environ(env, &envp, err) < 0)
		return -1;
	ret = proc_run_env(argv, envp, r, err);
	environ_free(envp);
	if (ret < 0)
		return vmctl_error_wrap(err, "tmux");
	return 0;
}

/* STATE/tmux.conf, for the server this start may be the first to need;
 * rewritten only when it is not what this vmctl writes. */
static int write_conf(const struct vmctl_env *env, struct vmctl_error **err)
{
	cleanup_free char *path = xasprintf("%s/%s", env->state_dir,
					    TMUX_CONF);
	cleanup_free char *text = NULL;
	struct vmctl_error *ignored = NULL;
	size_t len = 0;

	if (fs_read_file(path, sizeof(tmux_conf), &text, &len,
			 VMCTL_EXIT_FAILURE, &ignored) == 0 &&
	    len == sizeof(tmux_conf) - 1 &&
	    memcmp(text, tmux_conf, len) == 0)
		return 0;
	vmctl_error_free(ignored);
	return fs_write_atomic(env->state_dir, TMUX_CONF, tmux_conf,
			       sizeof(tmux_conf) - 1, 0644, err);
}

int tmux_start(const struct vmctl_env *env, const char *vm,
	       const struct strv *command, struct tmux_started *out,
	       struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;
	int ret;

	*out = (struct tmux_started){ 0 };
	if (write_conf(env, err) < 0)
		return -1;
	tmux_argv_new_session(env, vm, command, &argv);
	for (int tries = 0;; tries++) {
		ret = run_tmux(env, &argv, &r, err);
		if (ret < 0 || r.status == 0 || tries == 3)
			break;
		/* A session of the name left by an earlier QEMU of this VM
		 * that no one cleared (a new VM's start does not ask
		 * first): replaced.  Killing the server's last session makes
		 * it exit, and a client that reached it meanwhile is told
		 * "server exited unexpectedly": asked again. */
		if (strstr(r.err, "duplicate session") != NULL) {
			proc_result_clear(&r);
			ret = tmux_kill(env, vm, err);
			if (ret < 0)
				break;
		} else if (strstr(r.err, "server exited unexpectedly") != NULL) {
			proc_result_clear(&r);
			nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 },
				  NULL);
		} else {
			break;
		}
	}
	strv_clear(&argv);
	if (ret < 0)
		return -1;
	if (r.status != 0) {
		cleanup_free char *why = proc_result_summary(&r);

		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				"tmux new-session: %s", why);
		ret = -1;
	} else {
		/* -P -F: "$ID PANE-PID SERVER-PID", what to clean up
		 * should the session not be found by its name later. */
		char id[32] = "";
		int pid = 0, server = 0;

		if (sscanf(r.out, "%31s %d %d", id, &pid, &server) == 3 &&
		    id[0] == '$') {
			out->session_id = xstrdup(id);
			out->pane_pid = pid;
			out->server = server;
		}
	}
	proc_result_clear(&r);
	return ret;
}

void tmux_started_clear(struct tmux_started *t)
{
	free(t->session_id);
	*t = (struct tmux_started){ 0 };
}

/* kill-session -t TARGET: a session id ("$3") or an exact-match target. */
int tmux_kill_id(const struct vmctl_env *env, const char *session_id,
		 struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;
	int ret;

	tmux_argv_base(env, &argv);
	strv_push(&argv, "kill-session");
	strv_push(&argv, "-t");
	strv_push(&argv, session_id);
	ret = run_tmux(env, &argv, &r, err);
	strv_clear(&argv);
	if (ret == 0)
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
	if (run_tmux(env, &argv, &r, err) < 0) {
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
			pane->server = *server;
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
		struct proc_id id;

		if (proc_identify(env, server, &id) == 0)
			proc_signal(env, &id, SIGCHLD);
		nanosleep(&ts, NULL);
		if (query_once(env, vm, pane, &server, err) < 0)
			return -1;
	}
	return 0;
}

int tmux_sessions_read(const struct vmctl_env *env, struct strv *names,
		       struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;
	int ret;

	*names = (struct strv){ 0 };
	tmux_argv_base(env, &argv);
	strv_push(&argv, "list-sessions");
	strv_push(&argv, "-F");
	strv_push(&argv, "#{session_name}");
	ret = run_tmux(env, &argv, &r, err);
	strv_clear(&argv);
	if (ret < 0)
		return -1;
	/* No server: tmux says so and exits 1, and there is no session. */
	if (r.status == 0 && r.out != NULL)
		for (char *line = r.out, *nl; *line; line = nl + 1) {
			nl = line + strcspn(line, "\n");
			if (*nl == '\0') {
				strv_push(names, line);
				break;
			}
			*nl = '\0';
			strv_push(names, line);
		}
	proc_result_clear(&r);
	return 0;
}

bool tmux_sessions_has(const struct strv *names, const char *vm)
{
	cleanup_free char *session = tmux_session_name(vm);

	for (size_t i = 0; i < names->n; i++)
		if (strcmp(names->v[i], session) == 0)
			return true;
	return false;
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
	if (run_tmux(env, &argv, &r, err) < 0) {
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
	cleanup_free char *t = target(vm);

	return tmux_kill_id(env, t, err);
}

int tmux_attach(const struct vmctl_env *env, const char *vm,
		struct vmctl_error **err)
{
	struct strv argv = { 0 };

	char **envp = NULL;

	if (tmux_environ(env, &envp, err) < 0)
		return -1;
	tmux_argv_base(env, &argv);
	strv_push(&argv, "attach-session");
	strv_push(&argv, "-t");
	strv_take(&argv, target(vm));
	proc_exec_env(&argv, envp, err);
	strv_clear(&argv);
	environ_free(envp);
	return -1;
}
