// SPDX-License-Identifier: GPL-2.0-or-later
/* The pin step's pure parts (vm-pin.c): QMP's vCPU list, and which of
 * QEMU's threads go where. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/vm-pin.h"
#include "vmctl/xalloc.h"

/* A claim pinning vCPU i to vcpu[i], QEMU's other threads to `emu`. */
static void claim_make(struct vm_claim *c, const unsigned *vcpu, size_t n,
		       const char *emu)
{
	*c = (struct vm_claim){ .recorded = true, .node = 0,
				.hugepage_node = -1 };
	c->vcpu_cpus = xmemdup(vcpu, n * sizeof(*vcpu));
	c->n_vcpus = n;
	for (size_t i = 0; i < n; i++)
		cpulist_add(&c->cpus, vcpu[i]);
	cpulist_parse(emu, &c->emulator_cpus);
}

/* "tid:cpus tid:cpus ..." or the error. */
static char *plan_str(const struct vm_claim *c, const struct pin_vcpu *v,
		      size_t nv, const pid_t *tasks, size_t nt)
{
	struct pin_plan p = { 0 };
	struct vmctl_error *e = NULL;
	char *s = xstrdup("");

	if (vm_pin_plan(c, v, nv, tasks, nt, &p, &e) < 0) {
		free(s);
		s = xstrdup(e->message);
		vmctl_error_free(e);
		return s;
	}
	for (size_t i = 0; i < p.n; i++) {
		char *l = cpulist_format(p.v[i].cpus.v, p.v[i].cpus.n);
		char *next = xasprintf("%s%s%d:%s", s, i ? " " : "",
				       (int)p.v[i].tid, l);

		free(l);
		free(s);
		s = next;
	}
	pin_plan_clear(&p);
	return s;
}

#define PLAN(want, c, v, nv, t, nt, ...)                                     \
	do {                                                                 \
		char *got_ = plan_str(c, v, nv, t, nt);                      \
		is_str(got_, want, __VA_ARGS__);                             \
		free(got_);                                                  \
	} while (0)

static void test_plan(void)
{
	static const unsigned vcpu[] = { 3, 1 };
	struct pin_vcpu v[] = { { 0, 101 }, { 1, 102 } };
	pid_t tasks[] = { 100, 101, 102, 103 };
	struct vm_claim c;

	claim_make(&c, vcpu, 2, "0,2");
	PLAN("100:0,2 101:3 102:1 103:0,2", &c, v, 2, tasks, 4,
	     "each vCPU thread on its CPU, every other thread on the "
	     "emulator CPUs");
	v[0].index = 1;
	v[1].index = 0;
	PLAN("100:0,2 101:1 102:3 103:0,2", &c, v, 2, tasks, 4,
	     "by cpu-index, not by the order QEMU lists them");
	PLAN("QEMU reports 1 vCPUs, 2 were planned", &c, v, 1, tasks, 4,
	     "a vCPU count other than planned is refused");
	v[0].index = 2;
	PLAN("QEMU reports vCPU 2, which no CPU was planned for", &c, v, 2,
	     tasks, 4, "an unknown cpu-index is refused");
	v[0] = (struct pin_vcpu){ 0, 999 };
	v[1] = (struct pin_vcpu){ 1, 102 };
	PLAN("vCPU 0's thread 999 is not QEMU's", &c, v, 2, tasks, 4,
	     "a thread id outside QEMU's process is refused");
	v[0] = (struct pin_vcpu){ 0, 101 };
	v[1] = (struct pin_vcpu){ 1, 101 };
	PLAN("vCPUs 0 and 1 share thread 101: they cannot be pinned apart",
	     &c, v, 2, tasks, 4, "one thread for all vCPUs (single-threaded "
	     "TCG) is refused");
	vm_claim_clear(&c);
}

static void test_parse(void)
{
	cJSON *r = cJSON_Parse("[{\"cpu-index\": 0, \"thread-id\": 4242, "
			       "\"qom-path\": \"/machine/unattached/device[0]\","
			       " \"target\": \"x86_64\"}, {\"cpu-index\": 1, "
			       "\"thread-id\": 4243}]");
	struct pin_vcpu *v = NULL;
	struct vmctl_error *e = NULL;
	size_t n = 0;

	ok(vm_pin_parse_cpus(r, &v, &n, &e) == 0 && n == 2 &&
	   v[0].index == 0 && v[0].tid == 4242 && v[1].index == 1 &&
	   v[1].tid == 4243, "query-cpus-fast: cpu-index and thread-id");
	free(v);
	cJSON_Delete(r);
	r = cJSON_Parse("[{\"cpu-index\": 0}]");
	ok(vm_pin_parse_cpus(r, &v, &n, &e) < 0 && n == 0 && v == NULL,
	   "a CPU without thread-id is an error");
	vmctl_error_free(e);
	e = NULL;
	cJSON_Delete(r);
	r = cJSON_Parse("{\"return\": []}");
	ok(vm_pin_parse_cpus(r, &v, &n, &e) < 0, "not a list: an error");
	vmctl_error_free(e);
	cJSON_Delete(r);
}

int main(void)
{
	test_plan();
	test_parse();
	return tap_done();
}
