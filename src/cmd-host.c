// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl host [--json]: the inventory the broker plans on, and who holds
 * what of it; `host ksm` and `host reserve` are in cmd-host-ksm.c and
 * cmd-host-reserve.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/broker.h"
#include "vmctl/claims.h"
#include "vmctl/cmd.h"
#include "vmctl/hostconf.h"
#include "vmctl/hostinv.h"
#include "vmctl/ksm.h"
#include "vmctl/lvfleet.h"
#include "vmctl/pci.h"
#include "vmctl/view.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/xalloc.h"

static const char *const huge_names[HOSTINV_N_HUGE] = { "2M", "1G" };

struct host_view {
	struct pci_host pci;
	struct hostinv inv;
	struct broker_claims held;
	struct hostconf conf;
	bool have_ksm;               /* false: no SYSFS/kernel/mm/ksm */
	struct ksm_status ksm;
	uint64_t reserve, held_memory, free_memory;
};

static void host_view_clear(struct host_view *v)
{
	broker_claims_clear(&v->held);
	hostinv_clear(&v->inv);
	pci_host_clear(&v->pci);
}

/* The VM pinning CPU `cpu`'s core, or NULL. */
static const char *cpu_holder(const struct host_view *v, unsigned cpu)
{
	const struct broker_claim *c =
		broker_cpu_holder(&v->inv, &v->held, cpu, NULL);

	return c ? c->vm : NULL;
}

/* The VM holding a GPU: any of its slot's functions or their groups. */
static const char *gpu_holder(const struct host_view *v,
			      const struct hostinv_gpu *g)
{
	for (size_t i = 0; i < g->n_functions; i++) {
		const struct broker_claim *c = broker_gpu_holder(
			&v->held, &g->functions[i].addr,
			g->functions[i].iommu_group, NULL);

		if (c != NULL)
			return c->vm;
	}
	return NULL;
}

/* A node's online CPUs no VM pins. */
static void node_free_cpus(const struct host_view *v, int node,
			   struct cpulist *out)
{
	for (size_t i = 0; i < v->inv.n_cpus; i++) {
		const struct hostinv_cpu *c = &v->inv.cpus[i];

		if (c->node == node && c->online && !cpu_holder(v, c->id))
			cpulist_add(out, c->id);
	}
}

static cJSON *cpus_json(const struct cpulist *l)
{
	cleanup_free char *s = cpulist_format(l->v, l->n);

	return cJSON_CreateString(s);
}

static cJSON *nullable_string(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *node_json(const struct host_view *v,
			const struct hostinv_node *n)
{
	cJSON *o = cJSON_CreateObject(), *cores, *huge, *mem;
	struct cpulist free_cpus = { 0 };

	cJSON_AddNumberToObject(o, "id", n->id);
	cJSON_AddItemToObject(o, "cpus", cpus_json(&n->cpus));
	node_free_cpus(v, n->id, &free_cpus);
	cJSON_AddItemToObject(o, "free_cpus", cpus_json(&free_cpus));
	cpulist_clear(&free_cpus);
	cores = cJSON_AddArrayToObject(o, "cores");
	for (size_t i = 0; i < v->inv.n_cpus; i++) {
		const struct hostinv_cpu *c = &v->inv.cpus[i];
		struct cpulist threads = { 0 };
		bool online = true;
		cJSON *x;

		/* a lone offline CPU: the kernel hides its core */
		if (c->node != n->id || c->id != c->core || !c->online)
			continue;
		for (size_t j = 0; j < v->inv.n_cpus; j++)
			if (v->inv.cpus[j].core == c->core) {
				cpulist_add(&threads, v->inv.cpus[j].id);
				online &= v->inv.cpus[j].online;
			}
		x = cJSON_CreateObject();
		cJSON_AddItemToObject(x, "cpus", cpus_json(&threads));
		cJSON_AddNumberToObject(x, "package", c->package);
		cJSON_AddNumberToObject(x, "core_id", c->core_id);
		cJSON_AddBoolToObject(x, "online", online);
		cJSON_AddItemToObject(x, "held_by",
				      nullable_string(cpu_holder(v, c->id)));
		cJSON_AddItemToArray(cores, x);
		cpulist_clear(&threads);
	}
	mem = cJSON_AddObjectToObject(o, "memory");
	cJSON_AddNumberToObject(mem, "total", (double)n->mem_total);
	cJSON_AddNumberToObject(mem, "free", (double)n->mem_free);
	huge = cJSON_AddArrayToObject(o, "hugepages");
	for (int k = 0; k < HOSTINV_N_HUGE; k++) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "size", huge_names[k]);
		cJSON_AddNumberToObject(x, "total", (double)n->huge[k].total);
		cJSON_AddNumberToObject(x, "free", (double)n->huge[k].free);
		cJSON_AddItemToArray(huge, x);
	}
	return o;
}

static cJSON *gpu_json(const struct host_view *v, const struct hostinv_gpu *g)
{
	cJSON *o = cJSON_CreateObject(), *fns;
	char a[PCI_ADDR_STRLEN];

	cJSON_AddStringToObject(o, "address", pci_addr_format(&g->addr, a));
	cJSON_AddStringToObject(o, "name", g->name);
	if (g->node >= 0)
		cJSON_AddNumberToObject(o, "numa_node", g->node);
	else
		cJSON_AddNullToObject(o, "numa_node");
	if (g->iommu_group >= 0)
		cJSON_AddNumberToObject(o, "iommu_group", g->iommu_group);
	else
		cJSON_AddNullToObject(o, "iommu_group");
	fns = cJSON_AddArrayToObject(o, "functions");
	for (size_t i = 0; i < g->n_functions; i++)
		cJSON_AddItemToArray(fns, cJSON_CreateString(
			pci_addr_format(&g->functions[i].addr, a)));
	cJSON_AddItemToObject(o, "driver", nullable_string(g->driver));
	cJSON_AddStringToObject(o, "verdict", g->verdict);
	cJSON_AddItemToObject(o, "held_by", nullable_string(gpu_holder(v, g)));
	return o;
}

static cJSON *claim_json(const struct broker_claim *c)
{
	cJSON *o = cJSON_CreateObject(), *fns, *groups;
	char a[PCI_ADDR_STRLEN];

	cJSON_AddStringToObject(o, "vm", c->vm);
	cJSON_AddNumberToObject(o, "memory", (double)c->memory);
	fns = cJSON_AddArrayToObject(o, "gpu_functions");
	for (size_t i = 0; i < c->n_gpu_functions; i++)
		cJSON_AddItemToArray(fns, cJSON_CreateString(
			pci_addr_format(&c->gpu_functions[i], a)));
	groups = cJSON_AddArrayToObject(o, "iommu_groups");
	for (size_t i = 0; i < c->n_iommu_groups; i++)
		cJSON_AddItemToArray(groups,
				     cJSON_CreateNumber(c->iommu_groups[i]));
	cJSON_AddItemToObject(o, "cpus", cpus_json(&c->cpus));
	cJSON_AddBoolToObject(o, "exclusive", c->exclusive);
	groups = cJSON_AddArrayToObject(o, "usb");
	for (size_t i = 0; i < c->usb.n; i++)
		cJSON_AddItemToArray(groups, cJSON_CreateString(c->usb.v[i]));
	return o;
}

static cJSON *host_json(const struct host_view *v)
{
	cJSON *o = cJSON_CreateObject(), *mem, *arr;
	struct cpulist online = { 0 };
	cleanup_free char *reserve = NULL;

	cJSON_AddBoolToObject(o, "numa", v->inv.numa);
	mem = cJSON_AddObjectToObject(o, "memory");
	cJSON_AddNumberToObject(mem, "total", (double)v->inv.mem_total);
	cJSON_AddNumberToObject(mem, "available", (double)v->inv.mem_free);
	cJSON_AddNumberToObject(mem, "reserve", (double)v->reserve);
	reserve = hostconf_reserve_format(&v->conf.reserve);
	cJSON_AddStringToObject(mem, "reserve_setting", reserve);
	cJSON_AddStringToObject(mem, "reserve_source",
				hostconf_source_name(v->conf.reserve_from));
	cJSON_AddNumberToObject(mem, "held", (double)v->held_memory);
	cJSON_AddNumberToObject(mem, "free", (double)v->free_memory);
	if (v->have_ksm) {
		cJSON *ksm = cJSON_AddObjectToObject(o, "ksm");

		cJSON_AddStringToObject(ksm, "state", ksm_run_name(v->ksm.run));
		cJSON_AddNumberToObject(ksm, "saved",
					(double)ksm_saved(&v->ksm));
	} else {
		cJSON_AddNullToObject(o, "ksm");
	}
	for (size_t i = 0; i < v->inv.n_cpus; i++)
		if (v->inv.cpus[i].online)
			cpulist_add(&online, v->inv.cpus[i].id);
	cJSON_AddItemToObject(o, "online_cpus", cpus_json(&online));
	cpulist_clear(&online);
	arr = cJSON_AddArrayToObject(o, "nodes");
	for (size_t i = 0; i < v->inv.n_nodes; i++)
		cJSON_AddItemToArray(arr, node_json(v, &v->inv.nodes[i]));
	arr = cJSON_AddArrayToObject(o, "gpus");
	for (size_t i = 0; i < v->inv.n_gpus; i++)
		cJSON_AddItemToArray(arr, gpu_json(v, &v->inv.gpus[i]));
	arr = cJSON_AddArrayToObject(o, "claims");
	for (size_t i = 0; i < v->held.n; i++)
		cJSON_AddItemToArray(arr, claim_json(&v->held.v[i]));
	return o;
}

#define NODE_ROW "%-5s %-18s %-6s %-18s %-10s %-10s %-14s %s\n"
#define GPU_ROW "%-13s %-5s %-6s %-10s %-9s %-10s %s\n"

static void print_nodes(const struct host_view *v)
{
	printf(NODE_ROW, "NODE", "CPUS", "CORES", "FREE CPUS", "MEMORY",
	       "FREE", "2M FREE/ALL", "1G FREE/ALL");
	for (size_t i = 0; i < v->inv.n_nodes; i++) {
		const struct hostinv_node *n = &v->inv.nodes[i];
		struct cpulist free_cpus = { 0 };
		cleanup_free char *cpus = cpulist_format(n->cpus.v, n->cpus.n);
		cleanup_free char *fc = NULL, *mem = NULL, *mfree = NULL;
		cleanup_free char *h0 = NULL, *h1 = NULL, *id = NULL,
				  *cores = NULL;
		size_t n_cores = 0;

		node_free_cpus(v, n->id, &free_cpus);
		fc = cpulist_format(free_cpus.v, free_cpus.n);
		cpulist_clear(&free_cpus);
		for (size_t j = 0; j < v->inv.n_cpus; j++)
			n_cores += v->inv.cpus[j].node == n->id &&
				   v->inv.cpus[j].id == v->inv.cpus[j].core &&
				   v->inv.cpus[j].online;
		mem = broker_size_format(n->mem_total);
		mfree = broker_size_format(n->mem_free);
		h0 = xasprintf("%" PRIu64 "/%" PRIu64, n->huge[0].free,
			       n->huge[0].total);
		h1 = xasprintf("%" PRIu64 "/%" PRIu64, n->huge[1].free,
			       n->huge[1].total);
		id = xasprintf("%d", n->id);
		cores = xasprintf("%zu", n_cores);
		printf(NODE_ROW, id, cpus, cores, *fc ? fc : "-", mem, mfree,
		       h0, h1);
	}
}

static void print_memory(const struct host_view *v)
{
	cleanup_free char *total = broker_size_format(v->inv.mem_total);
	cleanup_free char *reserve = broker_size_format(v->reserve);
	cleanup_free char *held = broker_size_format(v->held_memory);
	cleanup_free char *free_mem = broker_size_format(v->free_memory);
	cleanup_free char *setting = hostconf_reserve_format(
		&v->conf.reserve);

	printf("memory: %s, %s reserved for the host (%s%s), %s held by "
	       "running VMs, %s free\n", total, reserve, setting,
	       v->conf.reserve_from == HOSTCONF_FROM_ENV
	       ? ", VMCTL_HOST_RESERVE" : "",
	       v->held_memory ? held : "none", free_mem);
	for (size_t i = 0; i < v->held.n; i++) {
		const struct broker_claim *c = &v->held.v[i];
		cleanup_free char *m = broker_size_format(c->memory);
		cleanup_free char *cpus = cpulist_format(c->cpus.v, c->cpus.n);
		cleanup_free char *usb = strv_join(&c->usb, ", ");

		printf("  %-20s %s%s%s%s%s\n", c->vm, m, *cpus ? ", CPUs " : "",
		       cpus, *usb ? ", USB " : "", usb);
	}
}

static void print_ksm(const struct host_view *v)
{
	cleanup_free char *saved = NULL;

	if (!v->have_ksm) {
		printf("KSM: not available (a kernel without CONFIG_KSM)\n");
		return;
	}
	saved = broker_size_format(ksm_saved(&v->ksm));
	printf("KSM: %s, %s saved\n", ksm_run_name(v->ksm.run),
	       v->ksm.pages_sharing ? saved : "nothing");
}

static void print_gpus(const struct host_view *v)
{
	if (v->inv.n_gpus == 0) {
		printf("no GPU (PCI display controller) on this host\n");
		return;
	}
	printf(GPU_ROW, "GPU", "NODE", "GROUP", "DRIVER", "VERDICT",
	       "HELD BY", "NAME");
	for (size_t i = 0; i < v->inv.n_gpus; i++) {
		const struct hostinv_gpu *g = &v->inv.gpus[i];
		const char *holder = gpu_holder(v, g);
		char a[PCI_ADDR_STRLEN];
		cleanup_free char *node = g->node >= 0
					  ? xasprintf("%d", g->node)
					  : xstrdup("-");
		cleanup_free char *group = g->iommu_group >= 0
					   ? xasprintf("%d", g->iommu_group)
					   : xstrdup("-");

		printf(GPU_ROW, pci_addr_format(&g->addr, a), node, group,
		       g->driver ? g->driver : "-", g->verdict,
		       holder ? holder : "-", g->name);
	}
}

static void print_offline(const struct host_view *v)
{
	struct cpulist off = { 0 };
	cleanup_free char *s = NULL;

	for (size_t i = 0; i < v->inv.n_cpus; i++)
		if (!v->inv.cpus[i].online)
			cpulist_add(&off, v->inv.cpus[i].id);
	s = cpulist_format(off.v, off.n);
	if (off.n > 0)
		printf("offline CPUs: %s\n", s);
	if (!v->inv.numa)
		printf("no NUMA nodes in sysfs: one node 0 holds every CPU\n");
	cpulist_clear(&off);
}

/* KSM's state, or none (have_ksm false) on a kernel without it. */
static int read_ksm(const struct vmctl_env *env, struct host_view *v,
		    struct vmctl_error **err)
{
	struct vmctl_error *e = NULL;

	if (ksm_read(env->sysfs, &v->ksm, &e) == 0) {
		v->have_ksm = true;
		return 0;
	}
	if (e->status != VMCTL_EXIT_UNAVAILABLE) {
		*err = e;
		return -1;
	}
	vmctl_error_free(e);
	return 0;
}

static int host_inventory(struct vmctl_env *env, struct vmctl_error **err)
{
	struct host_view v = { 0 };

	/* Holders are who holds now: crashed VMs give back first. */
	vm_reconcile_all(env);
	if (hostconf_read(env, &v.conf, err) < 0 ||
	    pci_host_read(env, PCI_HOST_NAMES | PCI_HOST_NEEDS |
			  PCI_HOST_GPU_SCOPE, &v.pci, err) < 0 ||
	    hostinv_read(env, &v.pci, &v.inv, err) < 0 ||
	    claims_read_running(env, &v.pci, &v.inv, &v.held, err) < 0 ||
	    read_ksm(env, &v, err) < 0) {
		host_view_clear(&v);
		return vmctl_error_wrap(err, "host");
	}
	v.reserve = hostconf_reserve(&v.conf, v.inv.mem_total);
	v.held_memory = broker_memory_held(&v.held, NULL);
	v.free_memory = v.reserve + v.held_memory < v.inv.mem_total
			? v.inv.mem_total - v.reserve - v.held_memory : 0;
	if (env->json) {
		cJSON *o = host_json(&v);

		view_print_json(o);
		cJSON_Delete(o);
	} else {
		print_nodes(&v);
		print_offline(&v);
		print_memory(&v);
		print_ksm(&v);
		print_gpus(&v);
	}
	host_view_clear(&v);
	return VMCTL_EXIT_OK;
}

enum { OPT_DRY_RUN = 0x300, OPT_UNMERGE, OPT_ALL_HOSTS };
static const struct option options[] = {
	{ "all-hosts", no_argument, NULL, OPT_ALL_HOSTS },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "unmerge", no_argument, NULL, OPT_UNMERGE },
	{ NULL, 0, NULL, 0 },
};

static int cmd_host_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	struct cmd_host_opts opts = { 0 };
	bool all_hosts = false;
	const char *sub;
	int opt;

	while ((opt = cmd_getopt(&cmd_host_entry, env, argc, argv, "",
				 options)) != -1) {
		if (opt == OPT_DRY_RUN)
			opts.dry_run = true;
		else if (opt == OPT_UNMERGE)
			opts.unmerge = true;
		else if (opt == OPT_ALL_HOSTS)
			all_hosts = true;
		else
			return cmd_done(opt);
	}
	if (all_hosts)
		return optind < argc || opts.dry_run || opts.unmerge
		       ? cmd_usage_error(&cmd_host_entry, err, "--all-hosts "
					 "takes only --json")
		       : lvfleet_cmd_host(env, err);
	if (optind == argc) {
		if (opts.dry_run || opts.unmerge)
			return cmd_usage_error(&cmd_host_entry, err, "%s is "
					       "for ksm or reserve",
					       opts.dry_run ? "--dry-run"
							    : "--unmerge");
		return host_inventory(env, err);
	}
	sub = argv[optind];
	if (strcmp(sub, "ksm") == 0)
		return cmd_host_ksm(env, &opts, argc - optind - 1,
				    argv + optind + 1, err);
	if (strcmp(sub, "reserve") == 0)
		return cmd_host_reserve(env, &opts, argc - optind - 1,
					argv + optind + 1, err);
	return cmd_usage_error(&cmd_host_entry, err, "unknown subcommand %s "
			       "(ksm or reserve)", sub);
}

const struct cmd_entry cmd_host_entry = {
	.name = "host",
	.usage = "[--json] | --all-hosts [--json] |\n       ksm "
		 "on|off|status [--unmerge] [--dry-run] [--json] |\n       "
		 "reserve [SIZE|PERCENT%|default] [--dry-run] [--json]",
	.summary = "the host's NUMA nodes, cores, memory, hugepages and GPUs, "
		   "which VM holds what; KSM; the host reserve",
	.help = "One line per NUMA node (its CPUs, cores, the CPUs no VM pins, "
		"memory, free\nhugepages of each size), the memory running VMs "
		"hold beside the host's\nreserve, KSM's state and what it "
		"saves, and the GPUs with their node, IOMMU\ngroup and the VM "
		"that holds each.\nReads sysfs under --sysfs-root, proc under "
		"VMCTL_PROC_ROOT and the state dir;\nwrites nothing. --json: "
		"docs/json.md.\n"
		"\n"
		"  --all-hosts  each host of the hosts file (libvirt): CPUs, "
		"memory and free\n"
		"               memory, free hugepages, GPUs with their "
		"verdicts and the\n"
		"               domain holding each; a host that is down is "
		"named on stderr,\n"
		"               the rest shown, exit 69\n"
		"  ksm status   KSM (kernel samepage merging): stopped, "
		"running or unmerging,\n"
		"               its counters and the memory it saves\n"
		"  ksm on       start merging: 1 > SYSFS/kernel/mm/ksm/run "
		"(root)\n"
		"  ksm off      stop merging, keep what is merged (0 > run); "
		"--unmerge gives\n"
		"               every merged page its own copy again (2 > "
		"run), which needs\n"
		"               that memory back\n"
		"  reserve      the memory the broker keeps for the host when "
		"VMs start\n"
		"  reserve SIZE|PERCENT%|default\n"
		"               set it in STATE_DIR/host.json: 4G, 15% of RAM "
		"(0% to 90%) or\n"
		"               the default (10 % of RAM, at least 2 GiB); "
		"VMCTL_HOST_RESERVE\n"
		"               (same syntax) overrides the file\n"
		"--dry-run: what ksm on/off or reserve would write; nothing is "
		"written.\nQEMU offers a guest's RAM to KSM only when its spec "
		"says memory.merge: true.\n",
	.options = options,
	.exec = cmd_host_exec,
};
