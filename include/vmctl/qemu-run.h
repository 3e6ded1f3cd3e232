/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_QEMU_RUN_H
#define VMCTL_QEMU_RUN_H

#include <stdbool.h>
#include <stdint.h>

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
 *   - the gate (create): tmux, the session and the launcher start while
 *     create still makes the VM's disk, keys and seed; the launcher waits
 *     on the gate socket until create says go (one byte, 'g'), and exits
 *     without starting QEMU on anything else: create failing or gone.
 *
 * No shell anywhere: tmux execs vmctl with these words, vmctl execs QEMU.
 */
#define QEMU_RUN_LOG_FD 3
#define QEMU_RUN_LOG_FDSET 1
#define QEMU_RUN_LOG_MAX_DEFAULT (8ull << 20)

struct qemu_run_opts {
	const char *self;      /* this vmctl binary */
	const char *log;       /* serial log path, NULL for none */
	uint64_t log_max;      /* rotate at this size */
	uint64_t memlock;      /* RLIMIT_MEMLOCK for QEMU, 0 to leave it */
	const struct cpulist *cpus;   /* run QEMU on these CPUs (its
				       * emulator threads'), or NULL */
	const char *gate;      /* wait here for create's go, or NULL */
};

/* The byte that opens the gate. */
#define QEMU_RUN_GATE_GO 'g'

/* Create's side of the gate: listening at `path` (a stale socket there is
 * replaced); the fd, or -1. */
int qemu_run_gate_open(const char *path, struct vmctl_error **err);
/* Let a launcher waiting at the gate through: 1 when one connected
 * within wait_ms and was told to go, 0 when none did. */
int qemu_run_gate_pass(int gate, int wait_ms);

/* Pure: the pane's command, `self __run-qemu ... -- QEMU-ARGV...`. */
void qemu_run_argv(const struct qemu_run_opts *o, const struct strv *qemu,
		   struct strv *argv);

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
