// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host's PCI devices: libpci (pointed at SYSFS/bus/pci through its
 * sysfs.path parameter) for ids, classes, header types and pci.ids names;
 * our own sysfs reader for what libpci does not give; IOMMU groups from
 * SYSFS/kernel/iommu_groups.  Only reads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pci/pci.h>

#include "vmctl/pci.h"
#include "vmctl/sysfs.h"
#include "vmctl/xalloc.h"

/*
 * libpci reports fatal errors through a callback that must not return
 * (its default prints and exits).  Ours jumps back to pci_host_read(),
 * which turns the message into an error value.  A malformed sysfs is the
 * only way to get there, so what libpci leaks on that path is accepted.
 */
static __thread jmp_buf *libpci_jump;
static __thread char libpci_msg[512];

__attribute__((noreturn, format(printf, 1, 2)))
static void libpci_error(char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(libpci_msg, sizeof(libpci_msg), fmt, ap);
	va_end(ap);
	longjmp(*libpci_jump, 1);
}

/* Warnings (a config file we may not read, say) are not ours to print:
 * the caller falls back to sysfs attributes. */
__attribute__((format(printf, 1, 2)))
static void libpci_quiet(char *fmt, ...)
{
	(void)fmt;
}

int pci_addr_cmp(const struct pci_addr *a, const struct pci_addr *b)
{
	if (a->domain != b->domain)
		return a->domain < b->domain ? -1 : 1;
	if (a->bus != b->bus)
		return a->bus < b->bus ? -1 : 1;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->func != b->func)
		return a->func < b->func ? -1 : 1;
	return 0;
}

bool pci_addr_same_slot(const struct pci_addr *a, const struct pci_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev;
}

const char *pci_addr_format(const struct pci_addr *a,
			    char buf[PCI_ADDR_STRLEN])
{
	snprintf(buf, PCI_ADDR_STRLEN, "%04x:%02x:%02x.%x", a->domain & 0xffff,
		 a->bus & 0xff, a->dev & 0x1f, a->func & 7);
	return buf;
}

bool pci_function_is_display(const struct pci_function *fn)
{
	return (fn->class_code >> 16) == 0x03;
}

bool pci_function_on_vfio(const struct pci_function *fn)
{
	return fn->driver != NULL && strcmp(fn->driver, "vfio-pci") == 0;
}

bool pci_function_released(const struct pci_function *fn)
{
	return fn->driver == NULL || pci_function_on_vfio(fn) ||
	       strcmp(fn->driver, "pci-stub") == 0;
}

const char *pci_need_kind_name(enum pci_need_kind kind)
{
	return kind == PCI_NEED_ROOT_FS ? "root-filesystem" : "default-route";
}

static int cmp_fn(const void *a, const void *b)
{
	return pci_addr_cmp(&((const struct pci_function *)a)->addr,
			    &((const struct pci_function *)b)->addr);
}

const struct pci_function *pci_host_find(const struct pci_host *host,
					 const struct pci_addr *addr)
{
	struct pci_function key = { .addr = *addr };

	if (host->n == 0)
		return NULL;
	return bsearch(&key, host->fns, host->n, sizeof(*host->fns), cmp_fn);
}

static char *lookup(struct pci_access *acc, int what, ...)
{
	char buf[256];
	char *name;
	va_list ap;
	unsigned a, b;

	va_start(ap, what);
	a = va_arg(ap, unsigned);
	b = va_arg(ap, unsigned);
	va_end(ap);
	name = pci_lookup_name(acc, buf, sizeof(buf),
			       what | PCI_LOOKUP_NO_NUMBERS |
			       PCI_LOOKUP_NO_HWDB, a, b);
	return name != NULL ? xstrdup(name) : NULL;
}

/* The kernel's resource flags (include/linux/ioport.h). */
#define IORESOURCE_IO       0x00000100ul
#define IORESOURCE_MEM      0x00000200ul
#define IORESOURCE_PREFETCH 0x00002000ul
#define IORESOURCE_MEM_64   0x00100000ul

void pci_parse_resource(const char *text, struct pci_function *fn)
{
	const char *line = text;

	for (int i = 0; i <= PCI_NUM_BARS && line != NULL && *line; i++) {
		unsigned long long start, end, flags;

		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) == 3 &&
		    end > start) {
			uint64_t size = (uint64_t)(end - start) + 1;

			if (i == PCI_NUM_BARS) {
				fn->rom_size = size;
			} else {
				bool mem = flags & IORESOURCE_MEM;

				fn->bars[i] = (struct pci_bar){
					.size = size,
					.io = (flags & IORESOURCE_IO) != 0,
					.mem64 = mem &&
						 (flags & IORESOURCE_MEM_64),
					.prefetch = mem &&
						(flags & IORESOURCE_PREFETCH),
				};
			}
		}
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
}

/* The parent bridge from the device's place in the tree: the component
 * before the device's own in "../../../devices/pci0000:00/0000:00:01.0/
 * 0000:01:00.0".  A host bridge ("pci0000:00") is no PCI function. */
static void read_parent(const char *devices_dir, struct pci_function *fn)
{
	char name[PCI_ADDR_STRLEN];
	cleanup_free char *target = NULL;
	char *slash;

	if (sysfs_read_link(devices_dir, pci_addr_format(&fn->addr, name),
			    &target) < 0)
		return;
	slash = strrchr(target, '/');
	if (slash == NULL)
		return;
	*slash = '\0';
	slash = strrchr(target, '/');
	fn->has_parent = sysfs_parse_pci_name(slash ? slash + 1 : target,
					      &fn->parent);
}

/* What libpci does not read: driver, override, group, boot_vga, reset,
 * BAR sizes. */
static void read_extras(const char *devices_dir, struct pci_function *fn)
{
	char name[PCI_ADDR_STRLEN];
	cleanup_free char *dir = xasprintf("%s/%s", devices_dir,
					   pci_addr_format(&fn->addr, name));
	cleanup_free char *group = NULL, *resource = NULL;
	long v;

	if (sysfs_link_name(dir, "driver", &fn->driver) < 0)
		fn->driver = NULL;
	if (sysfs_read_attr(dir, "driver_override", &fn->driver_override) == 0
	    && (strcmp(fn->driver_override, "(null)") == 0 ||
		*fn->driver_override == '\0')) {
		free(fn->driver_override);
		fn->driver_override = NULL;
	}
	fn->iommu_group = -1;
	if (sysfs_link_name(dir, "iommu_group", &group) == 0) {
		char *end;

		v = strtol(group, &end, 10);
		if (*end == '\0' && end != group && v >= 0 && v < 1L << 30)
			fn->iommu_group = (int)v;
	}
	fn->boot_vga = -1;
	if (pci_function_is_display(fn) &&
	    sysfs_read_long(dir, "boot_vga", &v) == 0)
		fn->boot_vga = v != 0;
	if (sysfs_read_attr(dir, "reset_method", &fn->reset_method) < 0)
		fn->reset_method = NULL;
	if (sysfs_read_attr(dir, "resource", &resource) == 0)
		pci_parse_resource(resource, fn);
	read_parent(devices_dir, fn);
}

static bool class_is_bridge(unsigned class_code)
{
	unsigned cls = class_code >> 8;

	return cls == 0x0604 || cls == 0x0607 || cls == 0x0609;
}

/* A function and the libpci device it came from, while reading. */
struct scanned {
	struct pci_function fn;
	struct pci_dev *dev;
};

/* What libpci_read() has allocated, while libpci may longjmp out. */
static __thread struct scanned *scanning;

static int cmp_scanned(const void *a, const void *b)
{
	return pci_addr_cmp(&((const struct scanned *)a)->fn.addr,
			    &((const struct scanned *)b)->fn.addr);
}

static bool strv_has(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

/* Mark what a GPU verdict looks at: every function of a slot holding a
 * display function, and every member of those functions' IOMMU groups
 * (from SYSFS/kernel/iommu_groups/N/devices). */
static void mark_gpu_scope(const struct vmctl_env *env, const char *devices,
			   struct scanned *v, size_t n)
{
	struct strv groups = { 0 };
	size_t *slot = xcalloc(n ? n : 1, sizeof(*slot));
	size_t n_slot = 0;

	for (size_t i = 0; i < n; i++) {
		size_t a = i, b = i + 1;

		if (!pci_function_is_display(&v[i].fn))
			continue;
		while (a > 0 && pci_addr_same_slot(&v[a - 1].fn.addr,
						   &v[i].fn.addr))
			a--;
		while (b < n && pci_addr_same_slot(&v[b].fn.addr,
						   &v[i].fn.addr))
			b++;
		for (size_t j = a; j < b; j++)
			if (!v[j].fn.detailed) {
				v[j].fn.detailed = true;
				slot[n_slot++] = j;
			}
	}
	for (size_t k = 0; k < n_slot; k++) {
		char name[PCI_ADDR_STRLEN];
		cleanup_free char *dir = xasprintf("%s/%s", devices,
				pci_addr_format(&v[slot[k]].fn.addr, name));
		cleanup_free char *group = NULL;
		cleanup_free char *gdir = NULL;
		struct strv members = { 0 };

		if (sysfs_link_name(dir, "iommu_group", &group) < 0 ||
		    strv_has(&groups, group))
			continue;
		strv_push(&groups, group);
		gdir = xasprintf("%s/kernel/iommu_groups/%s/devices",
				 env->sysfs, group);
		if (sysfs_list_dir(gdir, &members) < 0)
			continue;
		for (size_t m = 0; m < members.n; m++) {
			struct scanned key = { 0 };
			struct scanned *hit;

			if (!sysfs_parse_pci_name(members.v[m], &key.fn.addr))
				continue;
			hit = bsearch(&key, v, n, sizeof(*v), cmp_scanned);
			if (hit != NULL)
				hit->fn.detailed = true;
		}
		strv_clear(&members);
	}
	strv_clear(&groups);
	free(slot);
}

/* What libpci gives beyond ids and class, for one function. */
static void libpci_details(struct pci_access *acc, struct pci_dev *d,
			   unsigned flags, struct pci_function *fn)
{
	u8 hdr;

	pci_fill_info(d, PCI_FILL_CLASS_EXT | PCI_FILL_SUBSYS |
		      PCI_FILL_NUMA_NODE);
	fn->class_code = (fn->class_code & ~0xffu) | d->prog_if;
	fn->revision = d->rev_id;
	fn->subsys_vendor_id = d->subsys_vendor_id;
	fn->subsys_device_id = d->subsys_id;
	fn->numa_node = d->numa_node < 0 ? -1 : d->numa_node;
	hdr = pci_read_byte(d, PCI_HEADER_TYPE);
	fn->bridge = hdr == 0xff ? class_is_bridge(fn->class_code)
		   : ((hdr & 0x7f) == PCI_HEADER_TYPE_BRIDGE ||
		      (hdr & 0x7f) == PCI_HEADER_TYPE_CARDBUS);
	if (flags & PCI_HOST_NAMES) {
		fn->vendor_name = lookup(acc, PCI_LOOKUP_VENDOR,
					 fn->vendor_id, 0u);
		fn->device_name = lookup(acc, PCI_LOOKUP_DEVICE,
					 fn->vendor_id, fn->device_id);
		fn->class_name = lookup(acc, PCI_LOOKUP_CLASS,
					fn->class_code >> 8, 0u);
	}
}

/*
 * What libpci tells: the scan, ids and class of every function; then, for
 * the functions read in detail, revision, subsystem, NUMA node, the
 * header type from config space (the kernel's own test for a bridge) and
 * names.  setjmp() is here alone, so no local the jump skips over is live
 * afterwards; host->fns is complete (and sorted) or the call fails.
 */
static int libpci_read(const struct vmctl_env *env, char *bus_dir,
		       const char *devices_dir, unsigned flags,
		       struct pci_host *host, struct vmctl_error **err)
{
	struct pci_access *acc = pci_alloc();
	size_t root_len = strlen(env->root);
	struct scanned *v = NULL;
	size_t n = 0;
	jmp_buf jump;

	while (root_len > 0 && env->root[root_len - 1] == '/')
		root_len--;
	acc->error = libpci_error;
	acc->warning = libpci_quiet;
	acc->debug = libpci_quiet;
	acc->method = PCI_ACCESS_SYS_BUS_PCI;
	if (pci_set_param(acc, (char *)"sysfs.path", bus_dir) < 0) {
		pci_cleanup(acc);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "libpci "
				       "has no sysfs.path parameter");
	}
	/* pci.ids under ROOT; libpci tries the name without ".gz" too. */
	pci_set_name_list_path(acc, xasprintf("%.*s%s/%s", (int)root_len,
					      env->root, PCI_PATH_IDS_DIR,
					      PCI_IDS), 1);
	libpci_jump = &jump;
	if (setjmp(jump) != 0) {
		libpci_jump = NULL;
		pci_cleanup(acc);
		for (size_t i = 0; scanning != NULL && i < host->n; i++) {
			free(scanning[i].fn.vendor_name);
			free(scanning[i].fn.device_name);
			free(scanning[i].fn.class_name);
		}
		free(scanning);
		scanning = NULL;
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "reading PCI devices: %s", libpci_msg);
	}
	pci_init(acc);
	pci_scan_bus(acc);
	for (struct pci_dev *d = acc->devices; d != NULL; d = d->next)
		host->n++;
	/* Kept in a static while libpci may jump, so the error path can
	 * free it. */
	scanning = v = xcalloc(host->n ? host->n : 1, sizeof(*v));
	for (struct pci_dev *d = acc->devices; d != NULL; d = d->next) {
		struct scanned *s = &v[n++];

		pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS);
		s->dev = d;
		s->fn.addr = (struct pci_addr){ (unsigned)d->domain, d->bus,
						d->dev, d->func };
		s->fn.vendor_id = d->vendor_id;
		s->fn.device_id = d->device_id;
		s->fn.class_code = (unsigned)d->device_class << 8;
		s->fn.iommu_group = -1;
		s->fn.numa_node = -1;
		s->fn.boot_vga = -1;
		s->fn.detailed = !(flags & PCI_HOST_GPU_SCOPE);
	}
	qsort(v, n, sizeof(*v), cmp_scanned);
	if (flags & PCI_HOST_GPU_SCOPE)
		mark_gpu_scope(env, devices_dir, v, n);
	for (size_t i = 0; i < n; i++)
		if (v[i].fn.detailed)
			libpci_details(acc, v[i].dev, flags, &v[i].fn);
	libpci_jump = NULL;
	host->fns = xcalloc(n ? n : 1, sizeof(*host->fns));
	for (size_t i = 0; i < n; i++)
		host->fns[i] = v[i].fn;
	free(scanning);
	scanning = NULL;
	pci_cleanup(acc);
	return 0;
}

static void add_extra(struct pci_host *host, int group, const char *name)
{
	host->extras = xreallocarray(host->extras, host->n_extras + 1,
				     sizeof(*host->extras));
	host->extras[host->n_extras++] = (struct pci_group_extra){
		.group = group, .name = xstrdup(name) };
}

/*
 * Count the groups, and look into the ones that matter (those of the
 * functions in slots holding a display function) for members that are
 * not PCI functions: the kernel's viability rule covers them too.
 */
static void read_groups(const struct vmctl_env *env, struct pci_host *host)
{
	cleanup_free char *dir = xasprintf("%s/kernel/iommu_groups",
					   env->sysfs);
	struct strv groups = { 0 };
	int *seen = xcalloc(host->n ? host->n : 1, sizeof(*seen));
	size_t n_seen = 0;

	if (sysfs_list_dir(dir, &groups) < 0) {
		free(seen);
		return;
	}
	host->n_groups = groups.n;
	host->iommu = groups.n > 0;
	strv_clear(&groups);
	for (size_t i = 0; i < host->n; i++) {
		const struct pci_function *fn = &host->fns[i];
		struct strv members = { 0 };
		cleanup_free char *gdir = NULL;
		bool in_display_slot = false, done = false;

		/* fns is sorted: a slot's functions are neighbours. */
		for (size_t j = i; j < host->n && pci_addr_same_slot(
			     &host->fns[j].addr, &fn->addr); j++)
			in_display_slot |= pci_function_is_display(
				&host->fns[j]);
		for (size_t j = i; j > 0 && pci_addr_same_slot(
			     &host->fns[j - 1].addr, &fn->addr); j--)
			in_display_slot |= pci_function_is_display(
				&host->fns[j - 1]);
		for (size_t k = 0; k < n_seen; k++)
			done |= seen[k] == fn->iommu_group;
		if (!in_display_slot || fn->iommu_group < 0 || done)
			continue;
		seen[n_seen++] = fn->iommu_group;
		gdir = xasprintf("%s/%d/devices", dir, fn->iommu_group);
		if (sysfs_list_dir(gdir, &members) < 0)
			continue;
		for (size_t m = 0; m < members.n; m++) {
			struct pci_addr a;

			if (!sysfs_parse_pci_name(members.v[m], &a) ||
			    pci_host_find(host, &a) == NULL)
				add_extra(host, fn->iommu_group, members.v[m]);
		}
		strv_clear(&members);
	}
	free(seen);
}

int pci_host_read(const struct vmctl_env *env, unsigned flags,
		  struct pci_host *out, struct vmctl_error **err)
{
	cleanup_free char *bus_dir = xasprintf("%s/bus/pci", env->sysfs);
	cleanup_free char *devices_dir = xasprintf("%s/devices", bus_dir);
	struct pci_host host = { 0 };
	struct stat st;

	*out = host;
	if (stat(devices_dir, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			/* No PCI bus here (a container, an empty root). */
			read_groups(env, out);
			if (flags & PCI_HOST_NEEDS)
				pci_needs_read(env, out);
			return 0;
		}
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 devices_dir);
	}
	if (libpci_read(env, bus_dir, devices_dir, flags, &host, err) < 0) {
		host.n = 0;
		pci_host_clear(&host);
		return -1;
	}
	for (size_t i = 0; i < host.n; i++)
		if (host.fns[i].detailed)
			read_extras(devices_dir, &host.fns[i]);
	read_groups(env, &host);
	if (flags & PCI_HOST_NEEDS)
		pci_needs_read(env, &host);
	*out = host;
	return 0;
}

void pci_function_clear(struct pci_function *fn)
{
	free(fn->vendor_name);
	free(fn->device_name);
	free(fn->class_name);
	free(fn->driver);
	free(fn->driver_override);
	free(fn->reset_method);
	*fn = (struct pci_function){ 0 };
}

void pci_host_clear(struct pci_host *host)
{
	for (size_t i = 0; i < host->n; i++)
		pci_function_clear(&host->fns[i]);
	free(host->fns);
	for (size_t i = 0; i < host->n_extras; i++)
		free(host->extras[i].name);
	free(host->extras);
	for (size_t i = 0; i < host->n_needs; i++)
		free(host->needs[i].detail);
	free(host->needs);
	strv_clear(&host->needs_notes);
	*host = (struct pci_host){ 0 };
}
