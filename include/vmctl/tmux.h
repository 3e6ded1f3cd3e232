/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_TMUX_H
#define VMCTL_TMUX_H

#include <stdbool.h>
#include <sys/types.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/strv.h"

/*
 * Each VM's QEMU runs in its own session ("vmctl-NAME", with '.' written
 * '+': see tmux_session_name()) of vmctl's private
 * tmux server (`tmux -L SOCKET`, see env->tmux_socket), which reads only
 * STATE_DIR/tmux.conf.  QEMU is handed to tmux as separate arguments, which
 * tmux execs directly: no shell.  remain-on-exit keeps a dead QEMU's pane,
 * so its exit status and last words stay readable.
 */

char *tmux_session_name(const char *vm);

/* Pure argv builders. */
void tmux_argv_base(const struct vmctl_env *env, struct strv *argv);
void tmux_argv_new_session(const struct vmctl_env *env, const char *vm,
			   const struct strv *command, struct strv *argv);

struct tmux_pane {
	bool exists;      /* the session is there */
	bool dead;        /* its command has exited (remain-on-exit) */
	int status;       /* exit status when dead, -1 if unknown */
	int signal;       /* terminating signal when dead, 0 if none */
	pid_t pid;        /* the pane's process: QEMU */
	pid_t server;     /* the tmux server, the pane process's parent */
};

/* What tmux said it started: its session id ("$N") and the pane's pid. */
struct tmux_started {
	char *session_id;
	pid_t pane_pid;
	pid_t server;
};
void tmux_started_clear(struct tmux_started *t);

/* Write STATE_DIR/tmux.conf and start the session. */
int tmux_start(const struct vmctl_env *env, const char *vm,
	       const struct strv *command, struct tmux_started *out,
	       struct vmctl_error **err);
/* Kill a session by its id (for one that is not where its name says). */
int tmux_kill_id(const struct vmctl_env *env, const char *session_id,
		 struct vmctl_error **err);
int tmux_query(const struct vmctl_env *env, const char *vm,
	       struct tmux_pane *pane, struct vmctl_error **err);
/*
 * Every session on vmctl's tmux socket, with one list-sessions (none when
 * no server runs), for a listing of many VMs: tmux_sessions_has() then
 * says whether VM's session was among them.
 */
int tmux_sessions_read(const struct vmctl_env *env, struct strv *names,
		       struct vmctl_error **err);
bool tmux_sessions_has(const struct strv *names, const char *vm);
/* The pane's last `lines` lines of text. */
int tmux_capture(const struct vmctl_env *env, const char *vm, int lines,
		 char **text, struct vmctl_error **err);
/* Kill the session if it exists. */
int tmux_kill(const struct vmctl_env *env, const char *vm,
	      struct vmctl_error **err);
/* Replace vmctl with `tmux attach` to the VM's session. */
int tmux_attach(const struct vmctl_env *env, const char *vm,
		struct vmctl_error **err);

#endif
