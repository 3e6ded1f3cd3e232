// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host inventory (include/vmctl/hostinv.h): NUMA nodes, CPUs and their
 * topology, memory, hugepages and GPUs, read through the roots.  Absent
 * attributes are answers (an old kernel, a host without NUMA); malformed
 * ones are errors, since the broker would plan on nonsense.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/fsutil.h"
#include "vmctl/gpu.h"
#include "vmctl/hostinv.h"
#include "vmctl/sysfs.h"
#include "vmctl/xalloc.h"

#define PROC_FILE_MAX (16 << 20)

static const char *const huge_dirs[HOSTINV_N_HUGE] = {
	"hugepages-2048kB", "hugepages-1048576kB",
};
static const uint64_t huge_sizes[HOSTINV_N_HUGE] = {
	HOSTINV_HUGE_2M, HOSTINV_HUGE_1G,
};

int hostinv_huge_index(uint64_t size)
{
	for (int i = 0; i < HOSTINV_N_HUGE; i++)
		if (huge_sizes[i] == size)
			return i;
	return -1;
}

int hostinv_meminfo_value(const char *text, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);

	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *next = strchr(line, '\n');
		const char *k = line;
		unsigned long long v;
		char unit[8] = "";

		/* "Node 1 MemTotal:" in a node's meminfo */
		if (strncmp(k, "Node ", 5) == 0) {
			k += 5;
			while (*k >= '0' && *k <= '9')
				k++;
			while (*k == ' ')
				k++;
		}
		if (strncmp(k, key, klen) == 0 && k[klen] == ':') {
			int got = sscanf(k + klen + 1, "%llu %7s", &v, unit);

			if (got < 1)
				return -1;
			*out = strcmp(unit, "kB") == 0 ? (uint64_t)v << 10
						       : (uint64_t)v;
			return 0;
		}
		line = next ? next + 1 : NULL;
	}
	return -1;
}

static int read_u64(const char *dir, const char *name, uint64_t *out)
{
	long v;

	if (sysfs_read_long(dir, name, &v) < 0 || v < 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/* DIR/hugepages-SIZEkB/{nr,free}_hugepages for both sizes. */
static void read_hugepages(const char *dir, struct hostinv_node *node)
{
	for (int i = 0; i < HOSTINV_N_HUGE; i++) {
		cleanup_free char *d = xasprintf("%s/%s", dir, huge_dirs[i]);
		struct hostinv_hugepages *h = &node->huge[i];

		h->size = huge_sizes[i];
		if (read_u64(d, "nr_hugepages", &h->total) < 0)
			h->total = 0;
		if (read_u64(d, "free_hugepages", &h->free) < 0)
			h->free = 0;
	}
}

static int read_cpulist(const char *dir, const char *name,
			struct cpulist *out, bool *present,
			struct vmctl_error **err)
{
	cleanup_free char *text = NULL;

	*present = false;
	if (sysfs_read_attr(dir, name, &text) < 0) {
		if (errno == ENOENT)
			return 0;
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "%s/%s", dir, name);
	}
	if (cpulist_parse(text, out) < 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s/%s: not a CPU list: \"%s\"", dir,
				       name, text);
	*present = true;
	return 0;
}

static int cmp_node(const void *a, const void *b)
{
	const struct hostinv_node *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int read_nodes(const struct vmctl_env *env, struct hostinv *inv,
		      struct vmctl_error **err)
{
	cleanup_free char *base = xasprintf("%s/devices/system/node",
					    env->sysfs);
	struct strv names = { 0 };
	int ret = 0;

	if (sysfs_list_dir(base, &names) < 0)
		return 0;
	for (size_t i = 0; i < names.n && ret == 0; i++) {
		const char *s = names.v[i];
		cleanup_free char *dir = NULL, *meminfo = NULL;
		struct hostinv_node *node;
		char *end;
		long id;
		bool present;

		if (strncmp(s, "node", 4) != 0 || s[4] < '0' || s[4] > '9')
			continue;
		id = strtol(s + 4, &end, 10);
		if (*end != '\0' || id > 65535)
			continue;
		dir = xasprintf("%s/%s", base, s);
		inv->nodes = xreallocarray(inv->nodes, inv->n_nodes + 1,
					   sizeof(*inv->nodes));
		node = &inv->nodes[inv->n_nodes++];
		*node = (struct hostinv_node){ .id = (int)id };
		ret = read_cpulist(dir, "cpulist", &node->cpus, &present, err);
		if (sysfs_read_attr(dir, "meminfo", &meminfo) == 0) {
			if (hostinv_meminfo_value(meminfo, "MemTotal",
						  &node->mem_total) < 0)
				node->mem_total = 0;
			if (hostinv_meminfo_value(meminfo, "MemFree",
						  &node->mem_free) < 0)
				node->mem_free = 0;
		}
		free(dir);
		dir = xasprintf("%s/%s/hugepages", base, s);
		read_hugepages(dir, node);
	}
	strv_clear(&names);
	if (inv->n_nodes > 1)
		qsort(inv->nodes, inv->n_nodes, sizeof(*inv->nodes), cmp_node);
	inv->numa = inv->n_nodes > 0;
	return ret;
}

static int cmp_cpu(const void *a, const void *b)
{
	const struct hostinv_cpu *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static void add_cpu(struct hostinv *inv, unsigned id)
{
	inv->cpus = xreallocarray(inv->cpus, inv->n_cpus + 1,
				  sizeof(*inv->cpus));
	inv->cpus[inv->n_cpus++] = (struct hostinv_cpu){
		.id = id, .node = 0, .package = -1, .core_id = -1,
		.core = id, .online = true,
	};
}

/* One CPU's topology: its core (the lowest of its SMT siblings), core_id
 * and package; online from the host's online list or its own file. */
static int read_cpu(const char *dir, const struct cpulist *online,
		    bool have_online, struct hostinv_cpu *cpu,
		    struct vmctl_error **err)
{
	cleanup_free char *topo = xasprintf("%s/topology", dir);
	struct cpulist siblings = { 0 };
	bool present;
	long v;

	if (have_online)
		cpu->online = cpulist_contains(online, cpu->id);
	else if (sysfs_read_long(dir, "online", &v) == 0)
		cpu->online = v != 0;
	if (sysfs_read_long(topo, "core_id", &v) == 0)
		cpu->core_id = (int)v;
	if (sysfs_read_long(topo, "physical_package_id", &v) == 0)
		cpu->package = (int)v;
	if (read_cpulist(topo, "thread_siblings_list", &siblings, &present,
			 err) < 0)
		return -1;
	if (present && siblings.n > 0 && siblings.v[0] < cpu->id)
		cpu->core = siblings.v[0];
	cpulist_clear(&siblings);
	return 0;
}

/* PROC/cpuinfo's "processor" lines, for hosts without cpu directories. */
static int count_cpuinfo(const struct vmctl_env *env, unsigned *n)
{
	cleanup_free char *path = xasprintf("%s/cpuinfo", env->proc);
	cleanup_free char *text = NULL;
	struct vmctl_error *e = NULL;
	size_t len;

	*n = 0;
	if (fs_read_file(path, PROC_FILE_MAX, &text, &len, 1, &e) < 0) {
		vmctl_error_free(e);
		return 0;
	}
	for (const char *p = text; (p = strstr(p, "processor")) != NULL; p++)
		if (p == text || p[-1] == '\n')
			(*n)++;
	return 0;
}

static int read_cpus(const struct vmctl_env *env, struct hostinv *inv,
		     struct vmctl_error **err)
{
	cleanup_free char *base = xasprintf("%s/devices/system/cpu",
					    env->sysfs);
	struct cpulist online = { 0 };
	struct strv names = { 0 };
	bool have_online = false;
	int ret = 0;

	if (sysfs_list_dir(base, &names) == 0) {
		ret = read_cpulist(base, "online", &online, &have_online, err);
		for (size_t i = 0; i < names.n && ret == 0; i++) {
			const char *s = names.v[i];
			cleanup_free char *dir = NULL;
			char *end;
			unsigned long id;

			if (strncmp(s, "cpu", 3) != 0 || s[3] < '0' ||
			    s[3] > '9')
				continue;
			id = strtoul(s + 3, &end, 10);
			if (*end != '\0' || id > CPULIST_MAX)
				continue;
			dir = xasprintf("%s/%s", base, s);
			add_cpu(inv, (unsigned)id);
			ret = read_cpu(dir, &online, have_online,
				       &inv->cpus[inv->n_cpus - 1], err);
		}
		strv_clear(&names);
		cpulist_clear(&online);
		if (ret < 0)
			return -1;
	}
	if (inv->n_cpus == 0) {
		unsigned n;

		count_cpuinfo(env, &n);
		for (unsigned i = 0; i < n; i++)
			add_cpu(inv, i);
	}
	if (inv->n_cpus > 1)
		qsort(inv->cpus, inv->n_cpus, sizeof(*inv->cpus), cmp_cpu);
	return 0;
}

/* Without node directories: node 0 holds every CPU and all memory. */
static void one_node(const struct vmctl_env *env, struct hostinv *inv,
		     const char *meminfo)
{
	cleanup_free char *mm = xasprintf("%s/kernel/mm/hugepages",
					  env->sysfs);
	struct hostinv_node *node;
	uint64_t size, v;

	inv->nodes = xcalloc(1, sizeof(*inv->nodes));
	inv->n_nodes = 1;
	node = &inv->nodes[0];
	node->mem_total = inv->mem_total;
	if (hostinv_meminfo_value(meminfo, "MemFree", &node->mem_free) < 0)
		node->mem_free = 0;
	for (size_t i = 0; i < inv->n_cpus; i++)
		cpulist_add(&node->cpus, inv->cpus[i].id);
	read_hugepages(mm, node);
	/* No SYSFS/kernel/mm/hugepages: the default size's counts from
	 * PROC/meminfo. */
	if (hostinv_meminfo_value(meminfo, "Hugepagesize", &size) == 0 &&
	    hostinv_huge_index(size) >= 0) {
		struct hostinv_hugepages *h =
			&node->huge[hostinv_huge_index(size)];

		if (h->total == 0 &&
		    hostinv_meminfo_value(meminfo, "HugePages_Total", &v) == 0)
			h->total = v;
		if (h->free == 0 &&
		    hostinv_meminfo_value(meminfo, "HugePages_Free", &v) == 0)
			h->free = v;
	}
}

static char *gpu_name(const struct pci_function *fn)
{
	if (fn->vendor_name && fn->device_name)
		return xasprintf("%s %s", fn->vendor_name, fn->device_name);
	return xasprintf("%04x:%04x", fn->vendor_id, fn->device_id);
}

void hostinv_gpus_from_pci(struct hostinv *inv, const struct pci_host *pci)
{
	struct gpu_list list = { 0 };

	gpu_list_build(pci, &list);
	inv->gpus = xcalloc(list.n ? list.n : 1, sizeof(*inv->gpus));
	inv->n_gpus = list.n;
	for (size_t i = 0; i < list.n; i++) {
		const struct gpu_info *g = &list.v[i];
		struct hostinv_gpu *out = &inv->gpus[i];

		out->addr = g->gpu->addr;
		out->node = g->gpu->numa_node;
		out->iommu_group = g->gpu->iommu_group;
		out->name = gpu_name(g->gpu);
		out->driver = g->gpu->driver ? xstrdup(g->gpu->driver) : NULL;
		out->verdict = gpu_verdict_name(g->verdict);
		out->functions = xcalloc(g->n_slot, sizeof(*out->functions));
		out->n_functions = g->n_slot;
		for (size_t j = 0; j < g->n_slot; j++)
			out->functions[j] = (struct hostinv_function){
				.addr = g->slot[j]->addr,
				.iommu_group = g->slot[j]->iommu_group,
			};
	}
	gpu_list_clear(&list);
}

/* PROC/meminfo's text and its MemTotal, which every host has. */
static int read_meminfo(const struct vmctl_env *env, char **text,
			uint64_t *total, struct vmctl_error **err)
{
	cleanup_free char *path = xasprintf("%s/meminfo", env->proc);
	size_t len;

	if (fs_read_file(path, PROC_FILE_MAX, text, &len, VMCTL_EXIT_FAILURE,
			 err) < 0)
		return -1;
	if (hostinv_meminfo_value(*text, "MemTotal", total) < 0) {
		free(*text);
		*text = NULL;
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s: no MemTotal", path);
	}
	return 0;
}

int hostinv_read_mem_total(const struct vmctl_env *env, uint64_t *out,
			   struct vmctl_error **err)
{
	cleanup_free char *meminfo = NULL;

	return read_meminfo(env, &meminfo, out, err);
}

int hostinv_read(const struct vmctl_env *env, const struct pci_host *pci,
		 struct hostinv *out, struct vmctl_error **err)
{
	cleanup_free char *meminfo = NULL;
	struct hostinv inv = { 0 };
	struct pci_host own = { 0 };

	if (read_meminfo(env, &meminfo, &inv.mem_total, err) < 0)
		return -1;
	if (hostinv_meminfo_value(meminfo, "MemAvailable", &inv.mem_free) < 0 &&
	    hostinv_meminfo_value(meminfo, "MemFree", &inv.mem_free) < 0)
		inv.mem_free = 0;
	if (read_cpus(env, &inv, err) < 0 || read_nodes(env, &inv, err) < 0)
		goto fail;
	if (inv.n_nodes == 0) {
		one_node(env, &inv, meminfo);
	} else {
		/* Each CPU on the node whose cpulist names it. */
		for (size_t i = 0; i < inv.n_cpus; i++) {
			inv.cpus[i].node = inv.nodes[0].id;
			for (size_t j = 0; j < inv.n_nodes; j++)
				if (cpulist_contains(&inv.nodes[j].cpus,
						     inv.cpus[i].id))
					inv.cpus[i].node = inv.nodes[j].id;
		}
	}
	if (pci == NULL) {
		if (pci_host_read(env, PCI_HOST_NAMES | PCI_HOST_NEEDS |
				  PCI_HOST_GPU_SCOPE, &own, err) < 0)
			goto fail;
		pci = &own;
	}
	hostinv_gpus_from_pci(&inv, pci);
	pci_host_clear(&own);
	hostinv_clear(out);
	*out = inv;
	return 0;
fail:
	pci_host_clear(&own);
	hostinv_clear(&inv);
	return -1;
}

void hostinv_clear(struct hostinv *inv)
{
	for (size_t i = 0; i < inv->n_nodes; i++)
		cpulist_clear(&inv->nodes[i].cpus);
	free(inv->nodes);
	free(inv->cpus);
	for (size_t i = 0; i < inv->n_gpus; i++) {
		free(inv->gpus[i].functions);
		free(inv->gpus[i].name);
		free(inv->gpus[i].driver);
	}
	free(inv->gpus);
	*inv = (struct hostinv){ 0 };
}

const struct hostinv_node *hostinv_node(const struct hostinv *inv, int id)
{
	for (size_t i = 0; i < inv->n_nodes; i++)
		if (inv->nodes[i].id == id)
			return &inv->nodes[i];
	return NULL;
}

const struct hostinv_cpu *hostinv_cpu(const struct hostinv *inv,
				      unsigned id)
{
	for (size_t i = 0; i < inv->n_cpus; i++)
		if (inv->cpus[i].id == id)
			return &inv->cpus[i];
	return NULL;
}

const struct hostinv_gpu *hostinv_gpu_of(const struct hostinv *inv,
					 const struct pci_addr *fn)
{
	for (size_t i = 0; i < inv->n_gpus; i++)
		for (size_t j = 0; j < inv->gpus[i].n_functions; j++)
			if (pci_addr_cmp(&inv->gpus[i].functions[j].addr,
					 fn) == 0)
				return &inv->gpus[i];
	return NULL;
}
