/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_JOB_H
#define VMCTL_JOB_H

#include <pthread.h>
#include <stdbool.h>

#include "vmctl/error.h"

/*
 * One step run beside the caller, for independent work that mostly waits
 * on a child process (qemu-img, tmux, a libvirt upload): the
 * caller goes on, then joins it and gets its result and error.  Where no
 * thread can be made the step runs at once, in the caller.
 *
 * The step may only touch what the caller leaves alone until the join.
 */
typedef int (*job_fn)(void *arg, struct vmctl_error **err);

struct job {
	job_fn fn;
	void *arg;
	pthread_t thread;
	bool running;
	int ret;
	struct vmctl_error *err;
};

void job_start(struct job *j, job_fn fn, void *arg);
/* Wait for the step: its return value; its error goes to *err unless
 * *err already holds one (then it is dropped).  `err` may be NULL.
 * Joining a job that was never started, or twice, returns 0. */
int job_join(struct job *j, struct vmctl_error **err);

#endif
