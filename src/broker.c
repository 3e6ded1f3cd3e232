// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The resource broker's planner (include/vmctl/broker.h): inventory +
 * claims + request in, a plan or a refusal out.  No I/O.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/broker.h"
#include "vmctl/xalloc.h"

#define GiB (UINT64_C(1) << 30)
#define MiB (UINT64_C(1) << 20)

/* ---- claims ------------------------------------------------------------- */

struct broker_claim *broker_claims_add(struct broker_claims *claims,
				       const char *vm)
{
	struct broker_claim *c;

	claims->v = xreallocarray(claims->v, claims->n + 1,
				  sizeof(*claims->v));
	c = &claims->v[claims->n++];
	*c = (struct broker_claim){ .vm = xstrdup(vm), .hugepage_node = -1 };
	return c;
}

void broker_claim_clear(struct broker_claim *claim)
{
	free(claim->vm);
	free(claim->gpu_functions);
	free(claim->iommu_groups);
	cpulist_clear(&claim->cpus);
	strv_clear(&claim->usb);
	*claim = (struct broker_claim){ .hugepage_node = -1 };
}

void broker_claims_clear(struct broker_claims *claims)
{
	for (size_t i = 0; i < claims->n; i++)
		broker_claim_clear(&claims->v[i]);
	free(claims->v);
	*claims = (struct broker_claims){ 0 };
}

void broker_plan_clear(struct broker_plan *plan)
{
	broker_claim_clear(&plan->claim);
	free(plan->vcpu_cpus);
	cpulist_clear(&plan->emulator_cpus);
	*plan = (struct broker_plan){ .node = -1 };
}

static bool other(const struct broker_claim *c, const char *except_vm)
{
	return except_vm == NULL || strcmp(c->vm, except_vm) != 0;
}

uint64_t broker_reserve_default(uint64_t total)
{
	uint64_t r = total / 10 > 2 * GiB ? total / 10 : 2 * GiB;

	return r < total ? r : total;
}

uint64_t broker_memory_held(const struct broker_claims *held,
			    const char *except_vm)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < held->n; i++)
		if (other(&held->v[i], except_vm))
			sum += held->v[i].memory;
	return sum;
}

const struct broker_claim *broker_gpu_holder(const struct broker_claims *held,
					     const struct pci_addr *fn,
					     int group, const char *except_vm)
{
	for (size_t i = 0; i < held->n; i++) {
		const struct broker_claim *c = &held->v[i];

		if (!other(c, except_vm))
			continue;
		for (size_t j = 0; j < c->n_gpu_functions; j++)
			if (pci_addr_cmp(&c->gpu_functions[j], fn) == 0)
				return c;
		for (size_t j = 0; group >= 0 && j < c->n_iommu_groups; j++)
			if (c->iommu_groups[j] == group)
				return c;
	}
	return NULL;
}

const struct broker_claim *broker_usb_holder(const struct broker_claims *held,
					     const char *name,
					     const char *except_vm)
{
	for (size_t i = 0; i < held->n; i++)
		if (other(&held->v[i], except_vm) &&
		    strv_contains(&held->v[i].usb, name))
			return &held->v[i];
	return NULL;
}

/* The physical core of a CPU: the lowest of its SMT siblings. */
static unsigned core_of(const struct hostinv *inv, unsigned cpu)
{
	const struct hostinv_cpu *c = hostinv_cpu(inv, cpu);

	return c ? c->core : cpu;
}

const struct broker_claim *broker_cpu_holder(const struct hostinv *inv,
					     const struct broker_claims *held,
					     unsigned cpu,
					     const char *except_vm)
{
	unsigned core = core_of(inv, cpu);

	for (size_t i = 0; i < held->n; i++) {
		const struct broker_claim *c = &held->v[i];

		if (!c->exclusive || !other(c, except_vm))
			continue;
		for (size_t j = 0; j < c->cpus.n; j++)
			if (core_of(inv, c->cpus.v[j]) == core)
				return c;
	}
	return NULL;
}

/* ---- sizes and hugepages ------------------------------------------------ */

char *broker_size_format(uint64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	int u = 3;

	/* The largest unit not above it: whole, or with one decimal. */
	while (u >= 0 && bytes < (UINT64_C(1) << (10 * (u + 1))))
		u--;
	if (u < 0)
		return xasprintf("%" PRIu64 " bytes", bytes);
	if (bytes % (UINT64_C(1) << (10 * (u + 1))) == 0)
		return xasprintf("%" PRIu64 " %s", bytes >> (10 * (u + 1)),
				 units[u]);
	return xasprintf("%.1f %s",
			 (double)bytes / (double)(UINT64_C(1) << (10 * (u + 1))),
			 units[u]);
}

int broker_huge_parse(const char *s, enum spec_hugepages *out)
{
	static const struct { const char *name; enum spec_hugepages h; } t[] = {
		{ "none", SPEC_HUGE_NONE }, { "2M", SPEC_HUGE_2M },
		{ "1G", SPEC_HUGE_1G }, { "auto", SPEC_HUGE_AUTO },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
		if (strcmp(s, t[i].name) == 0) {
			*out = t[i].h;
			return 0;
		}
	return -1;
}

const char *broker_huge_name(enum spec_hugepages h)
{
	switch (h) {
	case SPEC_HUGE_2M: return "2M";
	case SPEC_HUGE_1G: return "1G";
	case SPEC_HUGE_AUTO: return "auto";
	case SPEC_HUGE_NONE: break;
	}
	return "none";
}

int broker_hugepages_pick(enum spec_hugepages mode, uint64_t memory,
			  uint64_t free_1g, uint64_t *size, uint64_t *pages,
			  struct vmctl_error **err)
{
	uint64_t sz;

	switch (mode) {
	case SPEC_HUGE_NONE:
		*size = 0;
		*pages = 0;
		return 0;
	case SPEC_HUGE_1G:
		sz = HOSTINV_HUGE_1G;
		break;
	case SPEC_HUGE_AUTO:
		sz = memory % HOSTINV_HUGE_1G == 0 && memory > 0 &&
		     free_1g >= memory / HOSTINV_HUGE_1G ? HOSTINV_HUGE_1G
							 : HOSTINV_HUGE_2M;
		break;
	default:
		sz = HOSTINV_HUGE_2M;
		break;
	}
	if (memory == 0 || memory % sz != 0) {
		cleanup_free char *m = broker_size_format(memory);

		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "memory %s is not a whole number of "
				       "%s hugepages", m,
				       sz == HOSTINV_HUGE_1G ? "1G" : "2M");
	}
	*size = sz;
	*pages = memory / sz;
	return 0;
}

/* ---- planning ----------------------------------------------------------- */

static int function_group(const struct hostinv *inv,
			  const struct pci_addr *fn)
{
	const struct hostinv_gpu *g = hostinv_gpu_of(inv, fn);

	for (size_t i = 0; g != NULL && i < g->n_functions; i++)
		if (pci_addr_cmp(&g->functions[i].addr, fn) == 0)
			return g->functions[i].iommu_group;
	return -1;
}

void broker_claim_add_functions(struct broker_claim *c,
				const struct hostinv *inv,
				const struct pci_addr *fns, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int group = function_group(inv, &fns[i]);
		bool seen = false;

		c->gpu_functions = xreallocarray(c->gpu_functions,
						 c->n_gpu_functions + 1,
						 sizeof(*c->gpu_functions));
		c->gpu_functions[c->n_gpu_functions++] = fns[i];
		for (size_t j = 0; j < c->n_iommu_groups; j++)
			seen |= c->iommu_groups[j] == group;
		if (group >= 0 && !seen) {
			c->iommu_groups = xreallocarray(c->iommu_groups,
							c->n_iommu_groups + 1,
							sizeof(*c->iommu_groups));
			c->iommu_groups[c->n_iommu_groups++] = group;
		}
	}
}

static int plan_gpus(const struct hostinv *inv,
		     const struct broker_claims *held,
		     const struct broker_request *req, struct broker_plan *p,
		     struct vmctl_error **err)
{
	for (size_t i = 0; i < req->n_gpu_functions; i++) {
		const struct pci_addr *fn = &req->gpu_functions[i];
		const struct hostinv_gpu *g = hostinv_gpu_of(inv, fn);
		const struct broker_claim *h = broker_gpu_holder(
			held, fn, function_group(inv, fn), req->vm);
		char a[PCI_ADDR_STRLEN];

		if (h != NULL)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "GPU %s is in use by VM \"%s\"",
					       pci_addr_format(fn, a), h->vm);
		if (p->node < 0 && g != NULL && g->node >= 0 &&
		    hostinv_node(inv, g->node) != NULL)
			p->node = g->node;
	}
	broker_claim_add_functions(&p->claim, inv, req->gpu_functions,
				   req->n_gpu_functions);
	return 0;
}

/* A USB device belongs to one VM, as a GPU does. */
static int plan_usb(const struct broker_claims *held,
		    const struct broker_request *req, struct broker_plan *p,
		    struct vmctl_error **err)
{
	for (size_t i = 0; i < req->n_usb; i++) {
		const struct broker_claim *h =
			broker_usb_holder(held, req->usb[i], req->vm);

		if (h != NULL)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "USB device %s is in use by VM "
					       "\"%s\"", req->usb_what
					       ? req->usb_what[i] : req->usb[i],
					       h->vm);
		strv_push(&p->claim.usb, req->usb[i]);
	}
	return 0;
}

static int plan_memory(const struct hostinv *inv,
		       const struct broker_claims *held,
		       const struct broker_request *req,
		       struct vmctl_error **err)
{
	uint64_t total = inv->mem_total;
	uint64_t reserve = req->reserve == BROKER_RESERVE_DEFAULT
			   ? broker_reserve_default(total) : req->reserve;
	uint64_t others = broker_memory_held(held, req->vm);
	uint64_t used = others + reserve;
	uint64_t left = used < total ? total - used : 0;
	bool gpu = req->n_gpu_functions > 0;
	cleanup_free char *ask = NULL, *h = NULL, *r = NULL, *t = NULL,
			  *l = NULL;

	if (req->memory <= left || (req->overcommit && !gpu))
		return 0;
	ask = broker_size_format(req->memory);
	h = broker_size_format(others);
	r = broker_size_format(reserve);
	t = broker_size_format(total);
	l = broker_size_format(left);
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
			       "VM \"%s\" asks for %s of memory, but running "
			       "VMs hold %s and %s is reserved for the host, "
			       "of %s: %s is left (%s)", req->vm, ask, h, r, t,
			       l, gpu ? "a VM with a passed-through GPU cannot "
			       "be overcommitted: all its memory is pinned"
			       : "overcommit: true allows it");
}

/* A core the request may take: online, every thread online, pinned by
 * no other VM. */
static bool core_free(const struct hostinv *inv,
		      const struct broker_claims *held,
		      const struct broker_request *req, unsigned core)
{
	for (size_t i = 0; i < inv->n_cpus; i++) {
		const struct hostinv_cpu *c = &inv->cpus[i];

		if (c->core != core)
			continue;
		if (!c->online ||
		    broker_cpu_holder(inv, held, c->id, req->vm) != NULL)
			return false;
	}
	return true;
}

/* The free cores of a node, ascending. */
static void free_cores(const struct hostinv *inv,
		       const struct broker_claims *held,
		       const struct broker_request *req, int node,
		       struct cpulist *cores)
{
	for (size_t i = 0; i < inv->n_cpus; i++) {
		const struct hostinv_cpu *c = &inv->cpus[i];

		if (c->node == node && c->id == c->core &&
		    core_free(inv, held, req, c->core))
			cpulist_add(cores, c->core);
	}
}

static size_t count_cores(const struct hostinv *inv, int node)
{
	size_t n = 0;

	for (size_t i = 0; i < inv->n_cpus; i++)
		n += inv->cpus[i].node == node &&
		     inv->cpus[i].id == inv->cpus[i].core &&
		     inv->cpus[i].online;
	return n;
}

/* The VMs pinning cores of a node, for a refusal: "VMs "a", "b"". */
static char *node_holders(const struct hostinv *inv,
			  const struct broker_claims *held,
			  const struct broker_request *req, int node)
{
	char *s = xstrdup("");
	size_t n = 0;

	for (size_t i = 0; i < held->n; i++) {
		const struct broker_claim *c = &held->v[i];
		bool on = false;

		if (!c->exclusive || !other(c, req->vm))
			continue;
		for (size_t j = 0; j < c->cpus.n && !on; j++) {
			const struct hostinv_cpu *cpu =
				hostinv_cpu(inv, c->cpus.v[j]);

			on = cpu != NULL && cpu->node == node;
		}
		if (on) {
			char *next = xasprintf("%s%s\"%s\"", s, n ? ", " : "",
					       c->vm);

			free(s);
			s = next;
			n++;
		}
	}
	if (n == 0) {
		free(s);
		return xstrdup("");
	}
	{
		char *full = xasprintf(", the others are pinned by VM%s %s",
				       n > 1 ? "s" : "", s);

		free(s);
		return full;
	}
}

static int plan_auto(const struct hostinv *inv,
		     const struct broker_claims *held,
		     const struct broker_request *req, struct broker_plan *p,
		     struct vmctl_error **err)
{
	struct cpulist cores = { 0 };
	size_t got = 0;

	if (p->node < 0) {
		/* No GPU to follow: the node with the most free cores. */
		size_t best = 0;

		for (size_t i = 0; i < inv->n_nodes; i++) {
			struct cpulist f = { 0 };

			free_cores(inv, held, req, inv->nodes[i].id, &f);
			if (p->node < 0 || f.n > best) {
				p->node = inv->nodes[i].id;
				best = f.n;
			}
			cpulist_clear(&f);
		}
	}
	free_cores(inv, held, req, p->node, &cores);
	p->vcpu_cpus = xcalloc(req->cpus, sizeof(*p->vcpu_cpus));
	for (size_t i = 0; i < cores.n && got < req->cpus; i++)
		for (size_t j = 0; j < inv->n_cpus; j++) {
			const struct hostinv_cpu *c = &inv->cpus[j];

			if (c->core != cores.v[i])
				continue;
			cpulist_add(&p->claim.cpus, c->id);
			if (got < req->cpus)
				p->vcpu_cpus[got++] = c->id;
		}
	if (got < req->cpus) {
		size_t n_free = cores.n;
		cleanup_free char *who = node_holders(inv, held, req, p->node);

		cpulist_clear(&cores);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM \"%s\" asks for %u vCPUs pinned on "
				       "NUMA node %d%s, but only %zu of its "
				       "%zu cores are free%s (ask for fewer "
				       "CPUs, or cpus.pin: none)", req->vm,
				       req->cpus, p->node,
				       req->n_gpu_functions ? " (its GPU's)" : "",
				       n_free, count_cores(inv, p->node), who);
	}
	cpulist_clear(&cores);
	p->n_vcpus = req->cpus;
	return 0;
}

static int plan_list(const struct hostinv *inv,
		     const struct broker_claims *held,
		     const struct broker_request *req, struct broker_plan *p,
		     struct vmctl_error **err)
{
	const struct cpulist *l = req->pin_list;

	if (l == NULL || l->n < req->cpus)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "cpus.pin lists %zu host CPU%s for %u "
				       "vCPUs", l ? l->n : 0,
				       l && l->n == 1 ? "" : "s", req->cpus);
	for (size_t i = 0; i < l->n; i++) {
		const struct hostinv_cpu *c = hostinv_cpu(inv, l->v[i]);
		const struct broker_claim *h;

		if (c == NULL || !c->online)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "cpus.pin names CPU %u, which "
					       "is %s on this host", l->v[i],
					       c ? "offline" : "not");
		h = broker_cpu_holder(inv, held, c->id, req->vm);
		if (h != NULL)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "CPU %u is on a core pinned to "
					       "VM \"%s\"", c->id, h->vm);
		cpulist_add(&p->claim.cpus, c->id);
	}
	if (p->node < 0)
		p->node = hostinv_cpu(inv, l->v[0])->node;
	p->vcpu_cpus = xcalloc(req->cpus, sizeof(*p->vcpu_cpus));
	for (size_t i = 0; i < req->cpus; i++)
		p->vcpu_cpus[i] = l->v[i];
	p->n_vcpus = req->cpus;
	return 0;
}

/* QEMU's emulator and I/O threads: the CPUs no VM pins (this one
 * included), on the chosen node if it has any, else anywhere. */
static int plan_emulator(const struct hostinv *inv,
			 const struct broker_claims *held,
			 const struct broker_request *req,
			 struct broker_plan *p, struct vmctl_error **err)
{
	for (int pass = 0; pass < 2 && p->emulator_cpus.n == 0; pass++)
		for (size_t i = 0; i < inv->n_cpus; i++) {
			const struct hostinv_cpu *c = &inv->cpus[i];
			bool mine = false;

			for (size_t j = 0; j < p->claim.cpus.n; j++)
				mine |= core_of(inv, p->claim.cpus.v[j]) ==
					c->core;
			if (c->online && !mine &&
			    (pass == 1 || c->node == p->node) &&
			    broker_cpu_holder(inv, held, c->id, req->vm) == NULL)
				cpulist_add(&p->emulator_cpus, c->id);
		}
	if (p->emulator_cpus.n == 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "pinning VM \"%s\"'s %u vCPUs would "
				       "leave no core for QEMU's emulator and "
				       "I/O threads (ask for fewer CPUs, or "
				       "cpus.pin: none)", req->vm, req->cpus);
	return 0;
}

/* Pages of size index k free on `node` for this request: the kernel's
 * count less those that starts still on their way will take. */
static uint64_t huge_free(const struct hostinv_node *n, int k,
			  const struct broker_claims *held,
			  const struct broker_request *req)
{
	uint64_t free = n->huge[k].free;

	for (size_t i = 0; i < held->n; i++) {
		const struct broker_claim *c = &held->v[i];

		if (c->pending && other(c, req->vm) &&
		    c->hugepage_node == n->id &&
		    hostinv_huge_index(c->hugepage_size) == k)
			free = free > c->hugepages ? free - c->hugepages : 0;
	}
	return free;
}

static int plan_hugepages(const struct hostinv *inv,
			  const struct broker_claims *held,
			  const struct broker_request *req,
			  struct broker_plan *p, struct vmctl_error **err)
{
	const struct hostinv_node *best = NULL;
	uint64_t free_1g = 0, size, pages;
	int k;

	if (req->hugepages == SPEC_HUGE_NONE)
		return 0;
	/* The candidates: the chosen node, or any. */
	for (size_t i = 0; i < inv->n_nodes; i++) {
		const struct hostinv_node *n = &inv->nodes[i];

		if (p->node >= 0 && n->id != p->node)
			continue;
		if (huge_free(n, 1, held, req) > free_1g)
			free_1g = huge_free(n, 1, held, req);
	}
	if (broker_hugepages_pick(req->hugepages, req->memory, free_1g, &size,
				  &pages, err) < 0)
		return -1;
	k = hostinv_huge_index(size);
	for (size_t i = 0; i < inv->n_nodes; i++) {
		const struct hostinv_node *n = &inv->nodes[i];

		if (p->node >= 0 && n->id != p->node)
			continue;
		if (best == NULL || huge_free(n, k, held, req) >
				    huge_free(best, k, held, req))
			best = n;
	}
	if (best == NULL || huge_free(best, k, held, req) < pages) {
		int node = best ? best->id : (p->node >= 0 ? p->node : 0);
		uint64_t free = best ? huge_free(best, k, held, req) : 0;
		uint64_t total = best ? best->huge[k].total : 0;

		/* The path is the one to type on the host, not the root
		 * vmctl read (which tests point elsewhere). */
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM \"%s\" needs %" PRIu64 " hugepages "
				       "of %s on NUMA node %d, but %" PRIu64
				       " of its %" PRIu64 " are free; reserve "
				       "them with: echo %" PRIu64 " > /sys/"
				       "devices/system/node/node%d/hugepages/"
				       "hugepages-%" PRIu64 "kB/nr_hugepages",
				       req->vm, pages, k ? "1G" : "2M", node,
				       free, total, total + pages - free, node,
				       size >> 10);
	}
	p->claim.hugepage_size = size;
	p->claim.hugepages = pages;
	p->claim.hugepage_node = best->id;
	if (p->node < 0)
		p->node = best->id;
	return 0;
}

int broker_plan(const struct hostinv *inv, const struct broker_claims *held,
		const struct broker_request *req, struct broker_plan *plan,
		struct vmctl_error **err)
{
	struct broker_plan p = { .node = -1 };
	int ret = -1;

	p.claim.vm = xstrdup(req->vm);
	p.claim.hugepage_node = -1;
	p.claim.memory = req->memory;
	if (plan_gpus(inv, held, req, &p, err) < 0 ||
	    plan_usb(held, req, &p, err) < 0 ||
	    plan_memory(inv, held, req, err) < 0)
		goto out;
	if (req->pin != SPEC_PIN_NONE && req->cpus > 0) {
		p.claim.exclusive = true;
		if ((req->pin == SPEC_PIN_AUTO
		     ? plan_auto(inv, held, req, &p, err)
		     : plan_list(inv, held, req, &p, err)) < 0 ||
		    plan_emulator(inv, held, req, &p, err) < 0)
			goto out;
	}
	if (plan_hugepages(inv, held, req, &p, err) < 0)
		goto out;
	broker_plan_clear(plan);
	*plan = p;
	p = (struct broker_plan){ .node = -1 };
	ret = 0;
out:
	broker_plan_clear(&p);
	return ret;
}
