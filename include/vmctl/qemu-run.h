/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_QEMU_RUN_H
#define VMCTL_QEMU_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmctl/cpulist.h"
#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/strv.h"

/*
 * How QEMU is started in its tmux pane: through `vmctl __run-qemu`, a few
 * lines of vmctl that set up what QEMU cannot do for itself, then exec
 * QEMU in place (so the pane's process is QEMU, and tmux sees its exit):
 *
 *   - the serial log: QEMU writes it into a pipe (fd QEMU_RUN_LOG_FD,
 *     `-add-fd` + `logfile=/dev/fdset/N`); a small keeper process drains
 *     the pipe into STATE_DIR/vms/NAME/serial.log and rotates it to
 *     serial.log.1 at `log_max` bytes, so a chatty guest cannot fill the
 *     disk.  The keeper holds no other file and exits when QEMU does
 *     (end of file on the pipe); it never blocks QEMU.
 *   - RLIMIT_MEMLOCK, raised to cover guest RAM when a GPU is passed
 *     through: QEMU runs as an unprivileged user (`-runas`), and VFIO
 *     accounts the pinned guest memory against this limit.
 *   - the CPUs QEMU's threads start on (its emulator CPUs, for a pinned
 *     VM): sched_setaffinity before the exec, inherited by every thread.
 *   - the gate (create): tmux, the session and the launcher start as soon
 *     as the VM's directory exists, while create still claims, picks
 *     ports and makes the VM's disk, keys and seed.  The launcher's
 *     command is then only `--gate PATH`: it waits on that socket, and
 *     create's go is the rest of its words (the options above, "--" and
 *     QEMU's argv, each NUL-terminated, to the end of the stream), sent
 *     only to the pane's own process.  On anything else (create failing
 *     or gone, the stream closed empty) it exits without starting QEMU.
 *
 * No shell anywhere: tmux execs vmctl with these words, vmctl execs QEMU.
 */
#define QEMU_RUN_LOG_FD 3
#define QEMU_RUN_LOG_FDSET 1
#define QEMU_RUN_LOG_MAX_DEFAULT (8ull << 20)

struct qemu_run_opts {
	const char *log;       /* serial log path, NULL for none */
	uint64_t log_max;      /* rotate at this size */
	uint64_t memlock;      /* RLIMIT_MEMLOCK for QEMU, 0 to leave it */
	const struct cpulist *cpus;   /* run QEMU on these CPUs (its
				       * emulator threads'), or NULL */
};

/* The most a launcher takes through the gate. */
#define QEMU_RUN_GATE_MAX (1u << 20)

/* Pure: the launcher's words, `OPTIONS... -- QEMU-ARGV...`. */
void qemu_run_words(const struct qemu_run_opts *o, const struct strv *qemu,
		    struct strv *words);
/* Pure: the pane's command, `self __run-qemu WORDS...`. */
void qemu_run_argv(const char *self, const struct strv *words,
		   struct strv *argv);
/* Pure: the pane's command at a gate, `self __run-qemu --gate PATH`. */
void qemu_run_gated_argv(const char *self, const char *gate,
			 struct strv *argv);

/* Create's side of the gate: listening at `path` (a stale socket there is
 * replaced); the fd, or -1. */
int qemu_run_gate_open(const char *path, struct vmctl_error **err);
/* Let the launcher (process `launcher`) through with its words: 1 when it
 * connected within wait_ms and was sent them, 0 when it did not (a
 * connection from any other process is closed unanswered). */
int qemu_run_gate_pass(int gate, pid_t launcher, const struct strv *words,
		       int wait_ms);

/* `vmctl __run-qemu` itself: returns only on failure (an exit status). */
int qemu_run_main(int argc, char **argv);

/* The path of the running vmctl binary, for qemu_run_opts.self. */
char *qemu_run_self(void);

/*
 * Make sure the unprivileged user QEMU runs as exists: a system user with
 * no home and no login shell, created with useradd(8) when missing.
 */
int qemu_run_ensure_user(const char *user, struct vmctl_error **err);

#endif
