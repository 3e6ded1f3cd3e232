// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fleet (lvfleet.h): every host of the hosts file read in parallel,
 * and the commands that show it (list --all-hosts, host --all-hosts) or
 * place on it (create --host).  Placement itself is lvfleet-place.c.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "vmctl/broker.h"
#include "vmctl/cmd.h"
#include "vmctl/gpu.h"
#include "vmctl/lazylib.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvfleet.h"
#include "vmctl/view.h"
#include "vmctl/xalloc.h"

/* The label of the direct backend's rows in `list --all-hosts`: no host
 * name can hold parentheses (hosts.h), so it never reads as one. */
#define DIRECT_LABEL "(direct)"

/* ---- reading the hosts --------------------------------------------------- */

/* A driver that tells no free memory (libvirt's test driver with a
 * host file): the total less what running domains may use. */
static uint64_t estimate_free(virConnectPtr conn, uint64_t total)
{
	virDomainPtr *doms = NULL;
	int n = sym_virConnectListAllDomains(conn, &doms,
					     VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	uint64_t used = 0;

	for (int i = 0; i < n; i++) {
		used += (uint64_t)sym_virDomainGetMaxMemory(doms[i]) << 10;
		sym_virDomainFree(doms[i]);
	}
	free(doms);
	sym_virResetLastError();
	return used < total ? total - used : 0;
}

/* Free memory as the kernel's MemAvailable sees it (free, buffers and
 * page cache), or plain free memory where the driver has no stats. */
static int read_memory(virConnectPtr conn, struct lvfleet_host *h)
{
	virNodeInfo info;
	int n = 0;
	virNodeMemoryStatsPtr st = NULL;
	uint64_t avail = 0;
	bool have = false;

	if (sym_virNodeGetInfo(conn, &info) < 0)
		return lvconn_error(&h->error, h->uri, false, "node info");
	h->cpus = info.cpus;
	h->mem_total = (uint64_t)info.memory << 10;
	if (sym_virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, NULL,
				      &n, 0) == 0 && n > 0) {
		st = xcalloc((size_t)n, sizeof(*st));
		if (sym_virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS,
					      st, &n, 0) == 0) {
			for (int i = 0; i < n; i++) {
				const char *f = st[i].field;

				/* nodeinfo's memory can be less than the
				 * kernel's MemTotal: the stats' is the same */
				if (strcmp(f, VIR_NODE_MEMORY_STATS_TOTAL) == 0)
					h->mem_total = st[i].value << 10;
				if (strcmp(f, VIR_NODE_MEMORY_STATS_FREE) == 0 ||
				    strcmp(f, VIR_NODE_MEMORY_STATS_BUFFERS) == 0 ||
				    strcmp(f, VIR_NODE_MEMORY_STATS_CACHED) == 0) {
					avail += st[i].value << 10;
					have = true;
				}
			}
		}
		free(st);
	}
	sym_virResetLastError();
	if (!have) {
		avail = sym_virNodeGetFreeMemory(conn);
		have = avail != 0;
		sym_virResetLastError();
	}
	h->mem_free = have ? avail : estimate_free(conn, h->mem_total);
	return 0;
}

static int read_resources(virConnectPtr conn, struct lvfleet_host *h)
{
	if (read_memory(conn, h) < 0 ||
	    lvconn_pci_host_read(conn, h->uri, &h->pci, &h->error) < 0 ||
	    lvvm_holders_read(conn, h->uri, &h->holders, &h->error) < 0)
		return -1;
	h->huge_free[0] = lvvm_free_pages(conn, HOSTINV_HUGE_2M >> 10);
	h->huge_free[1] = lvvm_free_pages(conn, HOSTINV_HUGE_1G >> 10);
	return 0;
}

struct job {
	struct lvfleet_host *host;
	unsigned want;
	pthread_t thread;
	bool started;
};

/* One host, in its own thread: its own connection, errors kept. */
static void *read_host(void *arg)
{
	struct job *j = arg;
	struct lvfleet_host *h = j->host;
	virConnectPtr conn = NULL;

	if (lvconn_open(h->uri, LVCONN_READ_ONLY, &conn, &h->error) < 0)
		return NULL;
	if (j->want & LVFLEET_VMS)
		(void)lvvm_list_read(conn, h->uri, &h->vms, &h->n_vms,
				     &h->error);
	if (h->error == NULL && (j->want & LVFLEET_RESOURCES))
		(void)read_resources(conn, h);
	lvconn_close(conn);
	return NULL;
}

void lvfleet_read(const struct hosts *hosts, unsigned want,
		  struct lvfleet *out)
{
	struct job *jobs = xcalloc(hosts->n + 1, sizeof(*jobs));

	*out = (struct lvfleet){ 0 };
	out->v = xcalloc(hosts->n + 1, sizeof(*out->v));
	out->n = hosts->n;
	/* libvirt set up once, before any thread opens a connection (each
	 * host's lvconn_open() says so if libvirt cannot be opened) */
	lvconn_init(NULL);
	for (size_t i = 0; i < hosts->n; i++) {
		out->v[i].name = hosts->v[i].name;
		out->v[i].uri = hosts->v[i].uri;
		jobs[i] = (struct job){ &out->v[i], want, 0, false };
		jobs[i].started = pthread_create(&jobs[i].thread, NULL,
						 read_host, &jobs[i]) == 0;
		if (!jobs[i].started)
			/* no thread to spare: read it here */
			read_host(&jobs[i]);
	}
	for (size_t i = 0; i < hosts->n; i++)
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
	free(jobs);
}

void lvfleet_clear(struct lvfleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct lvfleet_host *h = &f->v[i];

		vmctl_error_free(h->error);
		for (size_t k = 0; k < h->n_vms; k++)
			lvvm_info_clear(&h->vms[k]);
		free(h->vms);
		pci_host_clear(&h->pci);
		lvvm_holders_clear(&h->holders);
	}
	free(f->v);
	*f = (struct lvfleet){ 0 };
}

/* The hosts file, or an error; with `note`, an absent or empty one is
 * said on stderr (there is nothing to read beyond this machine). */
static int load_hosts(const struct vmctl_env *env, bool note,
		      struct hosts *hosts, struct vmctl_error **err)
{
	int missing = 0;

	if (hosts_load_file(env->hosts_file, hosts, &missing, err) < 0)
		return -1;
	if (hosts->n == 0 && note && env->verbosity >= 0)
		fprintf(stderr, "vmctl: %s: %s\n", env->hosts_file, missing
			? "no hosts file: no libvirt host to read"
			: "no hosts in it");
	return 0;
}

/* A host that could not be read: one line on stderr, naming it. */
static void report_down(const struct lvfleet_host *h)
{
	fprintf(stderr, "vmctl: host %s (%s): %s\n", h->name,
		lvfleet_status_name(h->error), h->error->message);
}

static cJSON *host_entry_json(const char *name, const char *uri,
			      const char *backend,
			      const struct vmctl_error *e)
{
	cJSON *o = cJSON_CreateObject();

	if (name != NULL)
		cJSON_AddStringToObject(o, "name", name);
	else
		cJSON_AddNullToObject(o, "name");
	if (uri != NULL)
		cJSON_AddStringToObject(o, "uri", uri);
	else
		cJSON_AddNullToObject(o, "uri");
	cJSON_AddStringToObject(o, "backend", backend);
	cJSON_AddStringToObject(o, "status", lvfleet_status_name(e));
	if (e != NULL)
		cJSON_AddStringToObject(o, "error", e->message);
	else
		cJSON_AddNullToObject(o, "error");
	return o;
}

/* ---- list --all-hosts ---------------------------------------------------- */

int lvfleet_cmd_list(struct vmctl_env *env, lvfleet_direct_fn direct,
		     struct vmctl_error **err)
{
	struct hosts hosts = { 0 };
	struct lvfleet f = { 0 };
	struct vmctl_error *derr = NULL;
	cJSON *root = NULL, *vms = NULL, *entries = NULL, *entry;
	int n_direct, status = VMCTL_EXIT_OK;

	if (load_hosts(env, true, &hosts, err) < 0)
		return -1;
	lvfleet_read(&hosts, LVFLEET_VMS, &f);
	if (env->json) {
		root = cJSON_CreateObject();
		vms = cJSON_AddArrayToObject(root, "vms");
		entries = cJSON_AddArrayToObject(root, "hosts");
	} else {
		lvvm_list_header(true);
	}
	n_direct = direct(env, vms, DIRECT_LABEL, &derr);
	if (entries != NULL) {
		entry = host_entry_json(NULL, NULL, "direct", derr);
		cJSON_AddNumberToObject(entry, "vms", n_direct < 0 ? 0
							       : n_direct);
		cJSON_AddItemToArray(entries, entry);
	}
	if (derr != NULL) {
		vmctl_error_wrap(&derr, "%s", DIRECT_LABEL);
		cmd_print_error(derr);
		vmctl_error_free(derr);
		status = VMCTL_EXIT_UNAVAILABLE;
	}
	for (size_t i = 0; i < f.n; i++) {
		const struct lvfleet_host *h = &f.v[i];

		for (size_t k = 0; k < h->n_vms; k++) {
			cJSON *j;

			if (vms == NULL) {
				lvvm_list_row(&h->vms[k], h->name);
				continue;
			}
			j = lvvm_info_json(&h->vms[k], h->uri, false);
			cJSON_AddStringToObject(j, "host_name", h->name);
			cJSON_AddItemToArray(vms, j);
		}
		if (entries != NULL) {
			entry = host_entry_json(h->name, h->uri, "libvirt",
						h->error);
			cJSON_AddNumberToObject(entry, "vms", (double)h->n_vms);
			cJSON_AddItemToArray(entries, entry);
		}
		if (h->error != NULL) {
			report_down(h);
			status = VMCTL_EXIT_UNAVAILABLE;
		}
	}
	if (root != NULL) {
		view_print_json(root);
		cJSON_Delete(root);
	}
	lvfleet_clear(&f);
	hosts_clear(&hosts);
	return status;
}

/* ---- host --all-hosts ---------------------------------------------------- */

static bool held_by_vmctl(const struct lvfleet_host *h,
			  const struct lvvm_holder *holder)
{
	return holder != NULL && h->holders.vmctl != NULL &&
	       h->holders.vmctl[holder - h->holders.v];
}

static cJSON *resources_json(const struct lvfleet_host *h,
			     const struct gpu_list *gpus)
{
	cJSON *o = host_entry_json(h->name, h->uri, "libvirt", h->error);
	cJSON *mem, *huge, *arr;

	if (h->error != NULL)
		return o;
	cJSON_AddNumberToObject(o, "cpus", h->cpus);
	mem = cJSON_AddObjectToObject(o, "memory");
	cJSON_AddNumberToObject(mem, "total", (double)h->mem_total);
	cJSON_AddNumberToObject(mem, "free", (double)h->mem_free);
	huge = cJSON_AddArrayToObject(o, "hugepages");
	for (int k = 0; k < HOSTINV_N_HUGE; k++) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "size", k == 0 ? "2M" : "1G");
		cJSON_AddNumberToObject(x, "free", (double)h->huge_free[k]);
		cJSON_AddItemToArray(huge, x);
	}
	arr = cJSON_AddArrayToObject(o, "gpus");
	for (size_t i = 0; i < gpus->n; i++) {
		cJSON *g = gpu_info_json(&gpus->v[i]);
		const struct lvvm_holder *holder = lvvm_holder_of_gpu(
			&gpus->v[i], h->holders.v, h->holders.n);

		if (holder != NULL)
			cJSON_AddStringToObject(g, "held_by", holder->domain);
		else
			cJSON_AddNullToObject(g, "held_by");
		cJSON_AddBoolToObject(g, "held_by_vmctl",
				      held_by_vmctl(h, holder));
		cJSON_AddItemToArray(arr, g);
	}
	return o;
}

#define HOST_ROW "%-12s %-6s %5s %10s %10s %8s %8s  %s\n"
#define GPU_ROW "%-12s %-13s %-9s %-6s %-9s %-10s %-16s %s\n"

static void print_host_row(const struct lvfleet_host *h)
{
	cleanup_free char *cpus = NULL, *total = NULL, *mfree = NULL,
			  *h2 = NULL, *h1 = NULL;

	if (h->error != NULL) {
		printf(HOST_ROW, h->name, lvfleet_status_name(h->error), "-",
		       "-", "-", "-", "-", h->uri);
		return;
	}
	cpus = xasprintf("%u", h->cpus);
	total = broker_size_format(h->mem_total);
	mfree = broker_size_format(h->mem_free);
	h2 = xasprintf("%" PRIu64, h->huge_free[0]);
	h1 = xasprintf("%" PRIu64, h->huge_free[1]);
	printf(HOST_ROW, h->name, "ok", cpus, total, mfree, h2, h1, h->uri);
}

static void print_gpu_rows(const struct lvfleet_host *h,
			   const struct gpu_list *gpus)
{
	for (size_t i = 0; i < gpus->n; i++) {
		const struct gpu_info *g = &gpus->v[i];
		const struct pci_function *fn = g->gpu;
		const struct lvvm_holder *holder = lvvm_holder_of_gpu(
			g, h->holders.v, h->holders.n);
		char a[PCI_ADDR_STRLEN];
		cleanup_free char *ids = xasprintf("%04x:%04x", fn->vendor_id,
						   fn->device_id);
		cleanup_free char *group = fn->iommu_group >= 0
			? xasprintf("%d", fn->iommu_group) : xstrdup("-");
		cleanup_free char *held = holder == NULL ? xstrdup("-")
			: xasprintf("%s%s", holder->domain,
				    held_by_vmctl(h, holder) ? " (vmctl)" : "");
		cleanup_free char *name = xasprintf(
			"%s%s%s", fn->vendor_name ? fn->vendor_name : "",
			fn->vendor_name && fn->device_name ? " " : "",
			fn->device_name ? fn->device_name : "");

		printf(GPU_ROW, h->name, pci_addr_format(&fn->addr, a), ids,
		       group, gpu_verdict_name(g->verdict),
		       fn->driver ? fn->driver : "-", held,
		       *name ? name : "-");
	}
}

int lvfleet_cmd_host(struct vmctl_env *env, struct vmctl_error **err)
{
	struct hosts hosts = { 0 };
	struct lvfleet f = { 0 };
	struct gpu_list *lists;
	cJSON *root = NULL, *arr = NULL;
	size_t n_gpus = 0;
	int status = VMCTL_EXIT_OK;

	if (load_hosts(env, true, &hosts, err) < 0)
		return -1;
	lvfleet_read(&hosts, LVFLEET_RESOURCES, &f);
	lists = xcalloc(f.n + 1, sizeof(*lists));
	for (size_t i = 0; i < f.n; i++) {
		if (f.v[i].error == NULL)
			gpu_list_build(&f.v[i].pci, &lists[i]);
		n_gpus += lists[i].n;
	}
	if (env->json) {
		root = cJSON_CreateObject();
		arr = cJSON_AddArrayToObject(root, "hosts");
	} else {
		printf(HOST_ROW, "HOST", "STATUS", "CPUS", "MEMORY", "FREE",
		       "2M FREE", "1G FREE", "URI");
	}
	for (size_t i = 0; i < f.n; i++) {
		if (arr != NULL)
			cJSON_AddItemToArray(arr, resources_json(&f.v[i],
								 &lists[i]));
		else
			print_host_row(&f.v[i]);
	}
	if (arr == NULL && n_gpus > 0) {
		printf("\n" GPU_ROW, "HOST", "GPU", "IDS", "GROUP", "VERDICT",
		       "DRIVER", "HELD BY", "NAME");
		for (size_t i = 0; i < f.n; i++)
			print_gpu_rows(&f.v[i], &lists[i]);
	}
	for (size_t i = 0; i < f.n; i++)
		if (f.v[i].error != NULL) {
			report_down(&f.v[i]);
			status = VMCTL_EXIT_UNAVAILABLE;
		}
	if (root != NULL) {
		view_print_json(root);
		cJSON_Delete(root);
	}
	for (size_t i = 0; i < f.n; i++)
		gpu_list_clear(&lists[i]);
	free(lists);
	lvfleet_clear(&f);
	hosts_clear(&hosts);
	return status;
}

/* ---- create --host ------------------------------------------------------- */

static void set_connect(struct vmctl_env *env, const char *what)
{
	free(env->connect);
	env->connect = xstrdup(what);
}

int lvfleet_create_target(struct vmctl_env *env,
			  const struct vmctl_spec *spec, const char *what,
			  struct vmctl_error **err)
{
	struct hosts hosts = { 0 };
	struct lvfleet f = { 0 };
	struct lvfleet_placement p = { .chosen = -1 };
	int ret = -1;

	if (env->connect != NULL)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "create: "
				       "--host and --connect both name the "
				       "host; give one");
	if (strcmp(what, "auto") != 0) {
		set_connect(env, what);
		return 0;
	}
	if (load_hosts(env, false, &hosts, err) < 0)
		return -1;
	if (hosts.n == 0) {
		hosts_clear(&hosts);
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0, "create "
				       "--host auto: no host in %s to place "
				       "VM \"%s\" on", env->hosts_file,
				       spec->name);
	}
	lvfleet_read(&hosts, LVFLEET_RESOURCES, &f);
	if (lvfleet_place(spec, f.v, f.n, &p) >= 0) {
		if (env->verbosity >= 0) {
			cleanup_free char *s = lvfleet_placement_summary(&p);

			fprintf(stderr, "%s\n", s);
		}
		set_connect(env, f.v[p.chosen].uri);
		ret = 0;
	} else {
		for (size_t i = 0; i < p.n; i++)
			fprintf(stderr, "vmctl: %s\n", p.why[i]);
		vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0, "create --host "
				"auto: no host fits VM \"%s\" (%zu host%s, "
				"above)", spec->name, f.n, f.n == 1 ? "" : "s");
	}
	lvfleet_placement_clear(&p);
	lvfleet_clear(&f);
	hosts_clear(&hosts);
	return ret;
}
