/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_PROC_H
#define VMCTL_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/strv.h"

/* What a finished program left behind. */
struct proc_result {
	int status;        /* exit status, or 128 + signal */
	char *out;         /* stdout, NUL-terminated */
	char *err;         /* stderr, NUL-terminated */
	bool timed_out;    /* proc_run_for(): killed at its deadline */
};

/*
 * Run argv (searched on PATH, no shell), feeding it nothing on stdin, and
 * collect its output.  Fails (69) only when the program cannot be started;
 * a non-zero exit is reported in result->status for the caller to judge.
 */
int proc_run(const struct strv *argv, struct proc_result *result,
	     struct vmctl_error **err);
/* The same with an environment of its own (NULL: vmctl's). */
int proc_run_env(const struct strv *argv, char *const envp[],
		 struct proc_result *result, struct vmctl_error **err);
/* proc_run(), but the program is killed (SIGKILL) if it has not
 * finished after timeout_ms: result->timed_out, with what it wrote. */
int proc_run_for(const struct strv *argv, int timeout_ms,
		 struct proc_result *result, struct vmctl_error **err);
/* proc_run() of a program that leaves a process of its own behind on
 * its stdout and stderr (ssh -f): what it wrote until it exited. */
int proc_run_until_exit(const struct strv *argv, struct proc_result *result,
			struct vmctl_error **err);
void proc_result_clear(struct proc_result *r);

/* The last line of stderr (where the error usually is), or the exit
 * status. */
char *proc_result_summary(const struct proc_result *r);
/* proc_run() of a command whose output does not matter: a non-zero exit
 * is an error too (1), "WHAT: " and proc_result_summary(). */
int proc_run_ok(const struct strv *argv, const char *what,
		struct vmctl_error **err);

/* Replace this process with argv (for attach, ssh). Returns only on error. */
int proc_exec(const struct strv *argv, struct vmctl_error **err);
int proc_exec_env(const struct strv *argv, char *const envp[],
		  struct vmctl_error **err);

/*
 * A process we started, known by pid and the kernel's start time for it
 * (PROC/PID/stat field 22), so a recycled pid is never taken for ours.
 */
struct proc_id {
	pid_t pid;
	pid_t ppid;          /* its parent when identified (not persisted) */
	uint64_t starttime;
};

int proc_identify(const struct vmctl_env *env, pid_t pid, struct proc_id *out);
bool proc_alive(const struct vmctl_env *env, const struct proc_id *id);

/*
 * Send `sig` to the process `id` names, and to no other: nothing is sent
 * unless its pid still has the recorded start time, and through a pidfd
 * (where the kernel has them) so that the pid cannot be reused between
 * the check and the signal.  -1 with errno ESRCH when it is gone.
 */
int proc_signal(const struct vmctl_env *env, const struct proc_id *id,
		int sig);

/*
 * The live process a pidfile names, if its command line holds `arg` as
 * one whole argument (the pidfile's own option: every process vmctl starts
 * names its pidfile), so a stale pidfile never gets another process
 * killed.  0 and *id, or -1.
 */
int proc_pidfile_names(const struct vmctl_env *env, const char *pidfile,
		       const char *arg, struct proc_id *id);

#endif
