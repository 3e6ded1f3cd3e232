// SPDX-License-Identifier: GPL-2.0-or-later
/* The start sequence's pin step (include/vmctl/vm-pin.h). */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/sysfs.h"
#include "vmctl/vm-pin.h"
#include "vmctl/xalloc.h"

void pin_plan_clear(struct pin_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		cpulist_clear(&plan->v[i].cpus);
	free(plan->v);
	*plan = (struct pin_plan){ 0 };
}

static bool has_task(const pid_t *tasks, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (tasks[i] == tid)
			return true;
	return false;
}

static const struct pin_vcpu *vcpu_of(const struct pin_vcpu *vcpus,
				      size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (vcpus[i].tid == tid)
			return &vcpus[i];
	return NULL;
}

int vm_pin_plan(const struct vm_claim *claim, const struct pin_vcpu *vcpus,
		size_t n_vcpus, const pid_t *tasks, size_t n_tasks,
		struct pin_plan *out, struct vmctl_error **err)
{
	struct pin_plan p = { 0 };

	if (n_vcpus != claim->n_vcpus)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "QEMU reports %zu vCPUs, %zu were "
				       "planned", n_vcpus, claim->n_vcpus);
	for (size_t i = 0; i < n_vcpus; i++) {
		if (vcpus[i].index >= claim->n_vcpus)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "QEMU reports vCPU %u, which "
					       "no CPU was planned for",
					       vcpus[i].index);
		/* Single-threaded TCG runs every vCPU on one thread: it
		 * cannot be on two CPUs at once. */
		for (size_t j = 0; j < i; j++)
			if (vcpus[j].tid == vcpus[i].tid)
				return vmctl_error_set(err,
						VMCTL_EXIT_FAILURE, 0,
						"vCPUs %u and %u share thread "
						"%d: they cannot be pinned "
						"apart", vcpus[j].index,
						vcpus[i].index,
						(int)vcpus[i].tid);
		if (!has_task(tasks, n_tasks, vcpus[i].tid))
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "vCPU %u's thread %d is not "
					       "QEMU's", vcpus[i].index,
					       (int)vcpus[i].tid);
	}
	p.v = xcalloc(n_tasks, sizeof(*p.v));
	for (size_t i = 0; i < n_tasks; i++) {
		const struct pin_vcpu *v = vcpu_of(vcpus, n_vcpus, tasks[i]);
		struct pin_thread *t = &p.v[p.n++];

		t->tid = tasks[i];
		t->vcpu = v ? (int)v->index : -1;
		if (v != NULL) {
			cpulist_add(&t->cpus, claim->vcpu_cpus[v->index]);
		} else {
			for (size_t c = 0; c < claim->emulator_cpus.n; c++)
				cpulist_add(&t->cpus,
					    claim->emulator_cpus.v[c]);
		}
	}
	*out = p;
	return 0;
}

int vm_pin_parse_cpus(const cJSON *reply, struct pin_vcpu **out, size_t *n,
		      struct vmctl_error **err)
{
	const cJSON *x;

	*out = NULL;
	*n = 0;
	if (!cJSON_IsArray(reply))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "query-cpus-fast: not a list");
	cJSON_ArrayForEach(x, reply) {
		const cJSON *idx = cJSON_GetObjectItem(x, "cpu-index");
		const cJSON *tid = cJSON_GetObjectItem(x, "thread-id");

		if (!cJSON_IsNumber(idx) || !cJSON_IsNumber(tid) ||
		    idx->valuedouble < 0 || idx->valuedouble > CPULIST_MAX ||
		    tid->valuedouble <= 0 || tid->valuedouble > INT32_MAX) {
			free(*out);
			*out = NULL;
			*n = 0;
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "query-cpus-fast: a CPU "
					       "without cpu-index or "
					       "thread-id");
		}
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = (struct pin_vcpu){
			.index = (unsigned)idx->valuedouble,
			.tid = (pid_t)tid->valuedouble,
		};
	}
	return 0;
}

/* QEMU's threads, from PROC/PID/task. */
static int list_tasks(const struct vmctl_env *env, pid_t pid, pid_t **out,
		      size_t *n, struct vmctl_error **err)
{
	cleanup_free char *dir = xasprintf("%s/%d/task", env->proc, (int)pid);
	struct strv names = { 0 };

	*out = NULL;
	*n = 0;
	if (sysfs_list_dir(dir, &names) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 dir);
	*out = xcalloc(names.n, sizeof(**out));
	for (size_t i = 0; i < names.n; i++) {
		char *end;
		long v = strtol(names.v[i], &end, 10);

		if (*end == '\0' && v > 0 && v <= INT32_MAX)
			(*out)[(*n)++] = (pid_t)v;
	}
	strv_clear(&names);
	return 0;
}

static int set_affinity(const struct pin_thread *t, struct vmctl_error **err)
{
	cpu_set_t *set, *got;
	size_t size;
	unsigned max = 0;
	int ret = 0;

	for (size_t i = 0; i < t->cpus.n; i++)
		if (t->cpus.v[i] > max)
			max = t->cpus.v[i];
	set = CPU_ALLOC(max + 1);
	got = CPU_ALLOC(max + 1);
	size = CPU_ALLOC_SIZE(max + 1);
	CPU_ZERO_S(size, set);
	for (size_t i = 0; i < t->cpus.n; i++)
		CPU_SET_S(t->cpus.v[i], size, set);
	if (sched_setaffinity(t->tid, size, set) < 0 ||
	    sched_getaffinity(t->tid, size, got) < 0) {
		/* A thread that ended meanwhile needs no pinning. */
		if (errno != ESRCH || t->vcpu >= 0)
			ret = vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
						"pinning QEMU thread %d",
						(int)t->tid);
	} else if (!CPU_EQUAL_S(size, set, got)) {
		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				      "QEMU thread %d did not keep the CPUs "
				      "it was pinned to", (int)t->tid);
	}
	CPU_FREE(set);
	CPU_FREE(got);
	return ret;
}

int vm_pin_apply(const struct vmctl_env *env, struct qmp *q, pid_t qemu,
		 const struct vm_claim *claim, struct vmctl_error **err)
{
	struct pin_plan plan = { 0 };
	struct pin_vcpu *vcpus = NULL;
	pid_t *tasks = NULL;
	size_t n_vcpus = 0, n_tasks = 0;
	cJSON *reply = NULL;
	int ret = -1;

	if (claim->n_vcpus == 0)
		return 0;
	if (qmp_execute(q, "query-cpus-fast", NULL, &reply, err) < 0 ||
	    vm_pin_parse_cpus(reply, &vcpus, &n_vcpus, err) < 0 ||
	    list_tasks(env, qemu, &tasks, &n_tasks, err) < 0 ||
	    vm_pin_plan(claim, vcpus, n_vcpus, tasks, n_tasks, &plan,
			err) < 0)
		goto out;
	for (size_t i = 0; i < plan.n; i++)
		if (set_affinity(&plan.v[i], err) < 0)
			goto out;
	ret = 0;
out:
	if (ret < 0)
		vmctl_error_wrap(err, "pinning VM CPUs");
	pin_plan_clear(&plan);
	free(tasks);
	free(vcpus);
	cJSON_Delete(reply);
	return ret;
}
