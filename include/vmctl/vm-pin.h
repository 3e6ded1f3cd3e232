/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VM_PIN_H
#define VMCTL_VM_PIN_H

#include <stddef.h>
#include <sys/types.h>

#include "vmctl/cpulist.h"
#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/qmp.h"
#include "vmctl/state.h"

/*
 * The start sequence's pin step: QEMU's threads onto the CPUs the broker
 * planned (struct vm_claim).  QEMU is started paused (-S) and its whole
 * process on the emulator CPUs (the launcher's --cpus), so no thread of
 * it ever runs on a core another VM pinned; then each vCPU thread, as
 * QMP's query-cpus-fast names it, goes to its own host CPU, and every
 * other thread of QEMU to the emulator CPUs; then the guest runs.
 */

struct pin_thread {
	pid_t tid;
	int vcpu;                 /* its vCPU index, or -1: not a vCPU */
	struct cpulist cpus;      /* where it goes */
};

struct pin_plan {
	struct pin_thread *v;
	size_t n;
};

/* One vCPU thread as QEMU reports it. */
struct pin_vcpu {
	unsigned index;           /* cpu-index */
	pid_t tid;                /* thread-id */
};

/*
 * Pure: every thread of QEMU (`tasks`, its /proc/PID/task) to its CPUs.
 * Refused when QEMU reports a vCPU the claim has no CPU for, a vCPU
 * thread that is not QEMU's, or not every claimed vCPU.
 */
int vm_pin_plan(const struct vm_claim *claim, const struct pin_vcpu *vcpus,
		size_t n_vcpus, const pid_t *tasks, size_t n_tasks,
		struct pin_plan *out, struct vmctl_error **err);
void pin_plan_clear(struct pin_plan *plan);

/* QMP query-cpus-fast's reply as struct pin_vcpu (pure). */
int vm_pin_parse_cpus(const cJSON *reply, struct pin_vcpu **out, size_t *n,
		      struct vmctl_error **err);

/*
 * The executor: ask QEMU (`q`, pid `qemu`) for its vCPU threads, plan,
 * sched_setaffinity each thread, and read every affinity back.  A thread
 * that cannot be pinned fails the start.
 */
int vm_pin_apply(const struct vmctl_env *env, struct qmp *q, pid_t qemu,
		 const struct vm_claim *claim, struct vmctl_error **err);

#endif
