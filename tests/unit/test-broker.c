// SPDX-License-Identifier: GPL-2.0-or-later
/* The resource broker's planner (broker.c), CPU lists (cpulist.c) and the
 * inventory's pure parsers (hostinv.c), on inventories built by hand. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/broker.h"
#include "vmctl/cpulist.h"
#include "vmctl/hostinv.h"
#include "vmctl/xalloc.h"

#define GiB (UINT64_C(1) << 30)

/* ---- building inventories ----------------------------------------------- */

/*
 * `nodes` nodes of `cores` cores each, numbered as Linux does: first
 * thread of every core (node 0's cores first), then with SMT the second
 * threads in the same order, so CPU c and c + nodes*cores are siblings.
 */
static void inv_make(struct hostinv *inv, unsigned nodes, unsigned cores,
		     bool smt, uint64_t mem)
{
	unsigned ncore = nodes * cores, ncpu = smt ? 2 * ncore : ncore;

	*inv = (struct hostinv){ .numa = nodes > 1, .mem_total = mem };
	inv->nodes = xcalloc(nodes, sizeof(*inv->nodes));
	inv->n_nodes = nodes;
	for (unsigned n = 0; n < nodes; n++) {
		inv->nodes[n].id = (int)n;
		inv->nodes[n].mem_total = mem / nodes;
		inv->nodes[n].huge[0].size = HOSTINV_HUGE_2M;
		inv->nodes[n].huge[1].size = HOSTINV_HUGE_1G;
	}
	inv->cpus = xcalloc(ncpu, sizeof(*inv->cpus));
	inv->n_cpus = ncpu;
	for (unsigned c = 0; c < ncpu; c++) {
		unsigned core = c % ncore;
		unsigned node = core / cores;

		inv->cpus[c] = (struct hostinv_cpu){
			.id = c, .node = (int)node, .package = (int)node,
			.core_id = (int)(core % cores), .core = core,
			.online = true,
		};
		cpulist_add(&inv->nodes[node].cpus, c);
	}
}

static struct pci_addr A(unsigned bus, unsigned fn)
{
	return (struct pci_addr){ .bus = bus, .func = fn };
}

/* A GPU at BUS:00.0 with `nfn` functions, all in `group`. */
static void inv_gpu(struct hostinv *inv, unsigned bus, unsigned nfn,
		    int node, int group)
{
	struct hostinv_gpu *g;

	inv->gpus = xreallocarray(inv->gpus, inv->n_gpus + 1,
				  sizeof(*inv->gpus));
	g = &inv->gpus[inv->n_gpus++];
	*g = (struct hostinv_gpu){ .addr = A(bus, 0), .node = node,
				   .iommu_group = group,
				   .name = xstrdup("test GPU") };
	g->functions = xcalloc(nfn, sizeof(*g->functions));
	g->n_functions = nfn;
	for (unsigned i = 0; i < nfn; i++)
		g->functions[i] = (struct hostinv_function){ A(bus, i), group };
}

static void hold_cpus(struct broker_claims *held, const char *vm,
		      const char *list, bool exclusive, uint64_t mem)
{
	struct broker_claim *c = broker_claims_add(held, vm);

	if (cpulist_parse(list, &c->cpus) < 0)
		abort();
	c->exclusive = exclusive;
	c->memory = mem;
}

static void hold_gpu(struct broker_claims *held, const char *vm,
		     struct pci_addr fn, int group, uint64_t mem)
{
	struct broker_claim *c = broker_claims_add(held, vm);

	c->gpu_functions = xmalloc(sizeof(*c->gpu_functions));
	c->gpu_functions[0] = fn;
	c->n_gpu_functions = 1;
	c->iommu_groups = xmalloc(sizeof(*c->iommu_groups));
	c->iommu_groups[0] = group;
	c->n_iommu_groups = 1;
	c->memory = mem;
}

static struct broker_request req_make(const char *vm, unsigned cpus,
				      uint64_t mem)
{
	return (struct broker_request){
		.vm = vm, .cpus = cpus, .memory = mem,
		.pin = SPEC_PIN_AUTO, .reserve = BROKER_RESERVE_DEFAULT,
	};
}

static char *vcpus(const struct broker_plan *p)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < p->n_vcpus; i++) {
		char *n = xasprintf("%s%s%u", s, i ? " " : "",
				    p->vcpu_cpus[i]);

		free(s);
		s = n;
	}
	return s;
}

/* Plan; on success "vcpus | claimed | emulator | node", else the error. */
static char *plan_str(const struct hostinv *inv,
		      const struct broker_claims *held,
		      const struct broker_request *req)
{
	struct broker_plan p = { .node = -1 };
	struct vmctl_error *e = NULL;
	char *s;

	if (broker_plan(inv, held, req, &p, &e) < 0) {
		s = xstrdup(e->message);
		vmctl_error_free(e);
	} else {
		cleanup_free char *v = vcpus(&p);
		cleanup_free char *c = cpulist_format(p.claim.cpus.v,
						      p.claim.cpus.n);
		cleanup_free char *m = cpulist_format(p.emulator_cpus.v,
						      p.emulator_cpus.n);

		s = xasprintf("%s | %s | %s | node %d", v, c, m, p.node);
	}
	broker_plan_clear(&p);
	return s;
}

#define PLAN(want, inv, held, req, ...)                                      \
	do {                                                                 \
		char *got_ = plan_str(inv, held, req);                       \
		is_str(got_, want, __VA_ARGS__);                             \
		free(got_);                                                  \
	} while (0)

/* ---- tests -------------------------------------------------------------- */

static void test_cpulist(void)
{
	struct cpulist l = { 0 };
	cleanup_free char *f = NULL;

	ok(cpulist_parse("0-3,8,10-11\n", &l) == 0 && l.n == 7,
	   "cpulist parses ranges and singles");
	f = cpulist_format(l.v, l.n);
	is_str(f, "0-3,8,10-11", "cpulist formats back");
	ok(cpulist_contains(&l, 10) && !cpulist_contains(&l, 9),
	   "cpulist membership");
	ok(cpulist_parse("", &l) == 0 && l.n == 0, "empty cpulist");
	ok(cpulist_parse("3-1", &l) < 0 && cpulist_parse("1,", &l) < 0 &&
	   cpulist_parse("a", &l) < 0 && cpulist_parse("1-", &l) < 0 &&
	   cpulist_parse("99999", &l) < 0, "malformed cpulists refused");
	ok(cpulist_parse("5,1,3,1", &l) == 0 && l.n == 3 && l.v[0] == 1 &&
	   l.v[2] == 5, "cpulist sorted, without duplicates");
	cpulist_clear(&l);
}

static void test_meminfo(void)
{
	uint64_t v = 0;

	ok(hostinv_meminfo_value("MemTotal:       32768000 kB\nMemFree: 1 kB\n",
				 "MemTotal", &v) == 0 &&
	   v == UINT64_C(32768000) * 1024, "MemTotal in kB");
	ok(hostinv_meminfo_value("Node 1 MemTotal:  1024 kB\nNode 1 MemFree: "
				 "512 kB\n", "MemFree", &v) == 0 &&
	   v == 512 * 1024, "a node's meminfo");
	ok(hostinv_meminfo_value("HugePages_Free:       7\n", "HugePages_Free",
				 &v) == 0 && v == 7, "a count has no unit");
	ok(hostinv_meminfo_value("MemTotal: 1 kB\n", "MemFree", &v) < 0,
	   "an absent key");
	ok(hostinv_huge_index(HOSTINV_HUGE_1G) == 1 &&
	   hostinv_huge_index(4096) == -1, "hugepage size index");
}

static void test_sizes(void)
{
	cleanup_free char *a = broker_size_format(16 * GiB);
	cleanup_free char *b = broker_size_format(512 << 20);
	cleanup_free char *c = broker_size_format(6871947674ULL);
	cleanup_free char *d = broker_size_format(0);

	is_str(a, "16 GiB", "whole GiB");
	is_str(b, "512 MiB", "whole MiB");
	is_str(c, "6.4 GiB", "one decimal");
	is_str(d, "0 bytes", "zero");
	ok(broker_reserve_default(64 * GiB) == 64 * GiB / 10,
	   "reserve: 10 %% of a large host");
	ok(broker_reserve_default(8 * GiB) == 2 * GiB,
	   "reserve: at least 2 GiB");
	ok(broker_reserve_default(1 * GiB) == 1 * GiB,
	   "reserve: never more than the host");
}

static void test_hugepage_arithmetic(void)
{
	enum spec_hugepages h;
	uint64_t size = 0, pages = 0;
	struct vmctl_error *e = NULL;

	ok(broker_huge_parse("2M", &h) == 0 && h == SPEC_HUGE_2M &&
	   broker_huge_parse("1G", &h) == 0 && h == SPEC_HUGE_1G &&
	   broker_huge_parse("auto", &h) == 0 && h == SPEC_HUGE_AUTO &&
	   broker_huge_parse("4K", &h) < 0, "hugepage settings parse");
	is_str(broker_huge_name(SPEC_HUGE_1G), "1G", "and print");
	ok(broker_hugepages_pick(SPEC_HUGE_2M, 16 * GiB, 0, &size, &pages,
				 &e) == 0 && size == HOSTINV_HUGE_2M &&
	   pages == 8192, "16G in 2M pages: 8192");
	ok(broker_hugepages_pick(SPEC_HUGE_1G, 16 * GiB, 0, &size, &pages,
				 &e) == 0 && size == HOSTINV_HUGE_1G &&
	   pages == 16, "16G in 1G pages: 16");
	ok(broker_hugepages_pick(SPEC_HUGE_AUTO, 16 * GiB, 16, &size,
				 &pages, &e) == 0 && size == HOSTINV_HUGE_1G &&
	   pages == 16, "auto: 1G when 16 are free");
	ok(broker_hugepages_pick(SPEC_HUGE_AUTO, 16 * GiB, 15, &size,
				 &pages, &e) == 0 && size == HOSTINV_HUGE_2M &&
	   pages == 8192, "auto: 2M when 1G pages are short");
	ok(broker_hugepages_pick(SPEC_HUGE_AUTO, 1536ULL << 20, 64, &size,
				 &pages, &e) == 0 && size == HOSTINV_HUGE_2M &&
	   pages == 768, "auto: 2M for 1.5G, not a multiple of 1G");
	ok(broker_hugepages_pick(SPEC_HUGE_1G, 1536ULL << 20, 64, &size,
				 &pages, &e) < 0, "1G pages for 1.5G refused");
	is_str(e ? e->message : NULL,
	       "memory 1.5 GiB is not a whole number of 1G hugepages",
	       "with its reason");
	vmctl_error_free(e);
	ok(broker_hugepages_pick(SPEC_HUGE_NONE, 3, 0, &size, &pages,
				 NULL) == 0 && size == 0 && pages == 0,
	   "no hugepages");
}

static void test_one_node(void)
{
	struct hostinv inv;
	struct broker_claims held = { 0 };
	struct broker_request r = req_make("a", 4, 4 * GiB);

	inv_make(&inv, 1, 8, false, 64 * GiB);
	PLAN("0 1 2 3 | 0-3 | 4-7 | node 0", &inv, &held, &r,
	     "1 node, no SMT: 4 vCPUs on cores 0-3, QEMU's threads beside");
	r.pin = SPEC_PIN_NONE;
	PLAN(" |  |  | node -1", &inv, &held, &r, "pin none claims no CPU");
	r.pin = SPEC_PIN_AUTO;
	r.cpus = 8;
	PLAN("pinning VM \"a\"'s 8 vCPUs would leave no core for QEMU's "
	     "emulator and I/O threads (ask for fewer CPUs, or cpus.pin: "
	     "none)", &inv, &held, &r, "every core pinned: refused");
	hold_cpus(&held, "b", "0-1", true, 0);
	r.cpus = 4;
	PLAN("2 3 4 5 | 2-5 | 6-7 | node 0", &inv, &held, &r,
	     "cores another VM pinned are skipped");
	r.cpus = 7;
	PLAN("VM \"a\" asks for 7 vCPUs pinned on NUMA node 0, but only 6 of "
	     "its 8 cores are free, the others are pinned by VM \"b\" (ask "
	     "for fewer CPUs, or cpus.pin: none)", &inv, &held, &r,
	     "and not enough left: refused, naming who holds them");
	broker_claims_clear(&held);
	hostinv_clear(&inv);
}

static void test_smt(void)
{
	struct hostinv inv;
	struct broker_claims held = { 0 };
	struct broker_request r = req_make("a", 4, 4 * GiB);

	inv_make(&inv, 1, 4, true, 64 * GiB);
	PLAN("0 4 1 5 | 0-1,4-5 | 2-3,6-7 | node 0", &inv, &held, &r,
	     "SMT: two cores, siblings together");
	r.cpus = 3;
	PLAN("0 4 1 | 0-1,4-5 | 2-3,6-7 | node 0", &inv, &held, &r,
	     "an odd count still takes the whole core");
	hold_cpus(&held, "b", "4", true, 0);
	r.cpus = 2;
	PLAN("1 5 | 1,5 | 2-3,6-7 | node 0", &inv, &held, &r,
	     "a pinned thread holds its sibling too");
	broker_claims_clear(&held);
	hold_cpus(&held, "b", "0-3", false, 0);
	PLAN("0 4 | 0,4 | 1-3,5-7 | node 0", &inv, &held, &r,
	     "a shared (not exclusive) pinning blocks nothing");
	broker_claims_clear(&held);
	hostinv_clear(&inv);
}

static void test_two_nodes(void)
{
	struct hostinv inv;
	struct broker_claims held = { 0 };
	struct pci_addr gpu[2] = { A(0x41, 0), A(0x41, 1) };
	struct broker_request r = req_make("a", 4, 8 * GiB);

	/* node 0: CPUs 0-3,8-11; node 1: 4-7,12-15 */
	inv_make(&inv, 2, 4, true, 128 * GiB);
	inv_gpu(&inv, 0x41, 2, 1, 7);
	PLAN("0 8 1 9 | 0-1,8-9 | 2-3,10-11 | node 0", &inv, &held, &r,
	     "2 nodes, no GPU: the first node with the most free cores");
	r.gpu_functions = gpu;
	r.n_gpu_functions = 2;
	PLAN("4 12 5 13 | 4-5,12-13 | 6-7,14-15 | node 1", &inv, &held, &r,
	     "GPU on node 1: vCPUs on node 1");
	hold_cpus(&held, "b", "12", true, 0);
	PLAN("5 13 6 14 | 5-6,13-14 | 7,15 | node 1", &inv, &held, &r,
	     "cores already held on the GPU's node are skipped");
	r.cpus = 6;
	PLAN("5 13 6 14 7 15 | 5-7,13-15 | 0-3,8-11 | node 1", &inv, &held,
	     &r, "the node full: QEMU's threads on the other node");
	r.cpus = 8;
	PLAN("VM \"a\" asks for 8 vCPUs pinned on NUMA node 1 (its GPU's), "
	     "but only 3 of its 4 cores are free, the others are pinned by "
	     "VM \"b\" (ask for fewer CPUs, or cpus.pin: none)", &inv, &held,
	     &r, "the GPU's node has too few free cores: refused");
	r.gpu_functions = NULL;
	r.n_gpu_functions = 0;
	r.cpus = 2;
	PLAN("0 8 | 0,8 | 1-3,9-11 | node 0", &inv, &held, &r,
	     "without a GPU: the node with the most free cores");
	broker_claims_clear(&held);
	hostinv_clear(&inv);
}

static void test_pin_list(void)
{
	struct hostinv inv;
	struct broker_claims held = { 0 };
	struct broker_request r = req_make("a", 2, 8 * GiB);
	struct cpulist l = { 0 };

	inv_make(&inv, 2, 4, true, 128 * GiB);
	r.pin = SPEC_PIN_LIST;
	r.pin_list = &l;
	cpulist_parse("2-3", &l);
	PLAN("2 3 | 2-3 | 0-1,8-9 | node 0", &inv, &held, &r,
	     "a list: vCPU i on its i-th CPU, QEMU beside on other cores");
	hold_cpus(&held, "b", "11", true, 0);
	PLAN("CPU 3 is on a core pinned to VM \"b\"", &inv, &held, &r,
	     "a listed CPU whose sibling another VM pinned: refused");
	cpulist_parse("99", &l);
	r.cpus = 1;
	PLAN("cpus.pin names CPU 99, which is not on this host", &inv, &held,
	     &r, "a CPU the host lacks");
	inv.cpus[5].online = false;
	cpulist_parse("5", &l);
	PLAN("cpus.pin names CPU 5, which is offline on this host", &inv,
	     &held, &r, "an offline CPU");
	r.cpus = 2;
	PLAN("cpus.pin lists 1 host CPU for 2 vCPUs", &inv, &held, &r,
	     "fewer CPUs than vCPUs");
	cpulist_clear(&l);
	broker_claims_clear(&held);
	hostinv_clear(&inv);
}

static void test_gpus(void)
{
	struct hostinv inv;
	struct broker_claims held = { 0 };
	struct pci_addr gpu[2] = { A(0x41, 0), A(0x41, 1) };
	struct broker_request r = req_make("gpu-b", 2, 8 * GiB);
	struct broker_plan p = { .node = -1 };
	struct vmctl_error *e = NULL;

	inv_make(&inv, 2, 4, true, 128 * GiB);
	inv_gpu(&inv, 0x41, 2, 1, 7);
	r.pin = SPEC_PIN_NONE;
	r.gpu_functions = gpu;
	r.n_gpu_functions = 2;
	ok(broker_plan(&inv, &held, &r, &p, &e) == 0 &&
	   p.claim.n_gpu_functions == 2 && p.claim.n_iommu_groups == 1 &&
	   p.claim.iommu_groups[0] == 7 && !p.claim.exclusive &&
	   p.claim.memory == 8 * GiB && p.node == 1,
	   "the claim holds every function, their group, the memory");
	broker_plan_clear(&p);
	hold_gpu(&held, "gpu-a", A(0x41, 0), 7, 8 * GiB);
	PLAN("GPU 0000:41:00.0 is in use by VM \"gpu-a\"", &inv, &held, &r,
	     "a GPU another VM holds: refused");
	broker_claims_clear(&held);
	hold_gpu(&held, "gpu-a", A(0x40, 0), 7, 8 * GiB);
	PLAN("GPU 0000:41:00.0 is in use by VM \"gpu-a\"", &inv, &held, &r,
	     "a function of a group another VM holds: refused");
	broker_claims_clear(&held);
	hold_gpu(&held, "gpu-b", A(0x41, 0), 7, 8 * GiB);
	PLAN(" |  |  | node 1", &inv, &held, &r,
	     "the VM's own (stale) claim does not refuse it");
	broker_claims_clear(&held);
	ok(broker_gpu_holder(&held, &gpu[0], 7, NULL) == NULL,
	   "no claims, no holder");
	hostinv_clear(&inv);
}

static void test_memory(void)
{
	struct hostinv inv;
	struct broker_claims held = { 0 };
	struct pci_addr gpu[1] = { A(0x41, 0) };
	struct broker_request r = req_make("a", 2, 20 * GiB);

	inv_make(&inv, 1, 8, false, 64 * GiB);
	inv_gpu(&inv, 0x41, 1, 0, 3);
	r.pin = SPEC_PIN_NONE;
	hold_cpus(&held, "b", "", false, 40 * GiB);
	ok(broker_memory_held(&held, NULL) == 40 * GiB &&
	   broker_memory_held(&held, "b") == 0, "memory held, but by one");
	PLAN("VM \"a\" asks for 20 GiB of memory, but running VMs hold 40 GiB "
	     "and 6.4 GiB is reserved for the host, of 64 GiB: 17.6 GiB is "
	     "left (overcommit: true allows it)", &inv, &held, &r,
	     "more than is left: refused");
	r.overcommit = true;
	PLAN(" |  |  | node -1", &inv, &held, &r, "unless overcommitted");
	r.gpu_functions = gpu;
	r.n_gpu_functions = 1;
	PLAN("VM \"a\" asks for 20 GiB of memory, but running VMs hold 40 GiB "
	     "and 6.4 GiB is reserved for the host, of 64 GiB: 17.6 GiB is "
	     "left (a VM with a passed-through GPU cannot be overcommitted: "
	     "all its memory is pinned)", &inv, &held, &r,
	     "a GPU VM is never overcommitted");
	r.reserve = 0;
	PLAN(" |  |  | node 0", &inv, &held, &r, "a smaller reserve fits it");
	r.reserve = BROKER_RESERVE_DEFAULT;
	r.memory = 17 * GiB;
	PLAN(" |  |  | node 0", &inv, &held, &r, "what is left fits");
	broker_claims_clear(&held);
	hostinv_clear(&inv);
}

static char *huge_str_held(const struct hostinv *inv,
			   const struct broker_claims *held,
			   const struct broker_request *req);

static char *huge_str(const struct hostinv *inv,
		      const struct broker_request *req)
{
	struct broker_claims none = { 0 };

	return huge_str_held(inv, &none, req);
}

static char *huge_str_held(const struct hostinv *inv,
			   const struct broker_claims *held,
			   const struct broker_request *req)
{
	struct broker_plan p = { .node = -1 };
	struct vmctl_error *e = NULL;
	char *s;

	if (broker_plan(inv, held, req, &p, &e) < 0) {
		s = xstrdup(e->message);
		vmctl_error_free(e);
	} else {
		s = xasprintf("%" PRIu64 " x %" PRIu64 "k on node %d",
			      p.claim.hugepages, p.claim.hugepage_size >> 10,
			      p.claim.hugepage_node);
	}
	broker_plan_clear(&p);
	return s;
}

#define HUGE(want, inv, req, ...)                                            \
	do {                                                                 \
		char *got_ = huge_str(inv, req);                             \
		is_str(got_, want, __VA_ARGS__);                             \
		free(got_);                                                  \
	} while (0)

static void test_hugepages(void)
{
	struct hostinv inv;
	struct pci_addr gpu[1] = { A(0x41, 0) };
	struct broker_request r = req_make("a", 2, 16 * GiB);

	inv_make(&inv, 2, 4, true, 128 * GiB);
	inv_gpu(&inv, 0x41, 1, 1, 7);
	inv.nodes[0].huge[1] = (struct hostinv_hugepages){ HOSTINV_HUGE_1G,
							   32, 32 };
	inv.nodes[1].huge[1] = (struct hostinv_hugepages){ HOSTINV_HUGE_1G,
							   4, 4 };
	inv.nodes[1].huge[0] = (struct hostinv_hugepages){ HOSTINV_HUGE_2M,
							   10000, 9000 };
	r.pin = SPEC_PIN_NONE;
	r.hugepages = SPEC_HUGE_1G;
	HUGE("16 x 1048576k on node 0", &inv, &r,
	     "no GPU, not pinned: the node with the pages");
	r.gpu_functions = gpu;
	r.n_gpu_functions = 1;
	HUGE("VM \"a\" needs 16 hugepages of 1G on NUMA node 1, but 4 of its "
	     "4 are free; reserve them with: echo 16 > /sys/devices/system/"
	     "node/node1/hugepages/hugepages-1048576kB/nr_hugepages", &inv,
	     &r, "the GPU's node lacks them: refused, saying how to reserve");
	r.hugepages = SPEC_HUGE_AUTO;
	HUGE("8192 x 2048k on node 1", &inv, &r,
	     "auto: 2M pages when the 1G ones are short");
	inv.nodes[1].huge[1].free = 16;
	HUGE("16 x 1048576k on node 1", &inv, &r, "auto: 1G when free");
	r.hugepages = SPEC_HUGE_2M;
	r.memory = 20 * GiB;
	HUGE("VM \"a\" needs 10240 hugepages of 2M on NUMA node 1, but 9000 of "
	     "its 10000 are free; reserve them with: echo 11240 > /sys/devices/"
	     "system/node/node1/hugepages/hugepages-2048kB/nr_hugepages", &inv,
	     &r, "2M pages short: the count to echo covers what is missing");

	/* A start on its way has pages the kernel still counts as free:
	 * they are not free for this one. */
	{
		struct broker_claims held = { 0 };
		struct broker_claim *c = broker_claims_add(&held, "b");
		char *got;

		r.memory = 16 * GiB;
		r.hugepages = SPEC_HUGE_1G;
		inv.nodes[1].huge[1].total = 16;
		c->hugepage_size = HOSTINV_HUGE_1G;
		c->hugepages = 8;
		c->hugepage_node = 1;
		c->pending = true;
		got = huge_str_held(&inv, &held, &r);
		is_str(got, "VM \"a\" needs 16 hugepages of 1G on NUMA node 1, "
		       "but 8 of its 16 are free; reserve them with: echo 24 > "
		       "/sys/devices/system/node/node1/hugepages/hugepages-"
		       "1048576kB/nr_hugepages", "pages a pending start "
		       "claimed are not free");
		free(got);
		c->pending = false;
		got = huge_str_held(&inv, &held, &r);
		is_str(got, "16 x 1048576k on node 1", "a running VM's pages "
		       "are already out of the free count");
		free(got);
		broker_claims_clear(&held);
	}
	hostinv_clear(&inv);
}

int main(void)
{
	test_cpulist();
	test_meminfo();
	test_sizes();
	test_hugepage_arithmetic();
	test_one_node();
	test_smt();
	test_two_nodes();
	test_pin_list();
	test_gpus();
	test_memory();
	test_hugepages();
	return tap_done();
}
