// SPDX-License-Identifier: GPL-2.0-or-later
/* GPUs, their slots and IOMMU groups, verdicts and selectors: pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmctl/gpu.h"
#include "vmctl/xalloc.h"

const char *gpu_verdict_name(enum gpu_verdict v)
{
	switch (v) {
	case GPU_READY:
		return "ready";
	case GPU_BINDABLE:
		return "bindable";
	case GPU_UNSAFE:
		return "unsafe";
	case GPU_NO_IOMMU:
		return "no-iommu";
	}
	return "?";
}

const char *gpu_block_kind_name(enum gpu_block_kind k)
{
	switch (k) {
	case GPU_BLOCK_ROOT_FS:
		return "root-filesystem";
	case GPU_BLOCK_ROUTE_NIC:
		return "default-route";
	case GPU_BLOCK_BOOT_DISPLAY:
		return "boot-display";
	case GPU_BLOCK_FOREIGN:
		return "foreign-device";
	case GPU_BLOCK_NON_PCI:
		return "non-pci-device";
	}
	return "?";
}

bool gpu_is_boot_display(const struct pci_function *fn)
{
	return fn->boot_vga == 1 &&
	       !(fn->driver != NULL && (strcmp(fn->driver, "vfio-pci") == 0 ||
					strcmp(fn->driver, "pci-stub") == 0));
}

bool gpu_vendor_matches(const char *vendor, unsigned vendor_id)
{
	if (strcasecmp(vendor, "NVIDIA") == 0)
		return vendor_id == 0x10de;
	if (strcasecmp(vendor, "AMD") == 0)   /* ATI's id, and AMD's own */
		return vendor_id == 0x1002 || vendor_id == 0x1022;
	if (strcasecmp(vendor, "Intel") == 0)
		return vendor_id == 0x8086;
	return false;
}

/* host->fns is sorted, so a slot is a run of entries; [*first, *end). */
static void slot_range(const struct pci_host *host, size_t i, size_t *first,
		       size_t *end)
{
	size_t a = i, b = i + 1;

	while (a > 0 && pci_addr_same_slot(&host->fns[a - 1].addr,
					   &host->fns[i].addr))
		a--;
	while (b < host->n && pci_addr_same_slot(&host->fns[b].addr,
						 &host->fns[i].addr))
		b++;
	*first = a;
	*end = b;
}

/* The first display function of its slot stands for the card. */
static bool is_card(const struct pci_host *host, size_t i)
{
	size_t first, end;

	if (!pci_function_is_display(&host->fns[i]))
		return false;
	slot_range(host, i, &first, &end);
	for (size_t j = first; j < i; j++)
		if (pci_function_is_display(&host->fns[j]))
			return false;
	return true;
}

static const char *drv(const struct pci_function *fn)
{
	return fn->driver ? fn->driver : "no driver";
}

static bool in_groups(const int *groups, size_t n, int g)
{
	for (size_t i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

static void add_blocker(struct gpu_info *g, enum gpu_block_kind kind,
			const struct pci_function *fn, const char *detail)
{
	g->blockers = xreallocarray(g->blockers, g->n_blockers + 1,
				    sizeof(*g->blockers));
	g->blockers[g->n_blockers++] = (struct gpu_blocker){
		.kind = kind, .fn = fn, .detail = detail };
}

/* What the host needs among these functions, in the order the reason
 * should name them: its disk, its network, its display, then the rest. */
static void find_blockers(const struct pci_host *host, struct gpu_info *g,
			  const struct pci_function **members, size_t n,
			  const int *groups, size_t n_groups)
{
	static const enum pci_need_kind order[] = { PCI_NEED_ROOT_FS,
						    PCI_NEED_ROUTE_NIC };

	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < host->n_needs; j++)
				if (host->needs[j].kind == order[k] &&
				    pci_addr_cmp(&host->needs[j].addr,
						 &members[i]->addr) == 0)
					add_blocker(g, k == 0
						    ? GPU_BLOCK_ROOT_FS
						    : GPU_BLOCK_ROUTE_NIC,
						    members[i],
						    host->needs[j].detail);
	for (size_t i = 0; i < n; i++)
		if (gpu_is_boot_display(members[i]))
			add_blocker(g, GPU_BLOCK_BOOT_DISPLAY, members[i], NULL);
	/* Foreign endpoints: group members outside the slot that a host
	 * driver holds.  Bridges and ports may stay on theirs. */
	for (size_t i = 0; i < g->n_group; i++) {
		const struct pci_function *m = g->group[i];
		bool listed = false;

		if (m->bridge || pci_function_released(m))
			continue;
		for (size_t b = 0; b < g->n_blockers; b++)
			listed |= g->blockers[b].fn == m;
		if (!listed)
			add_blocker(g, GPU_BLOCK_FOREIGN, m, NULL);
	}
	for (size_t i = 0; i < host->n_extras; i++)
		if (in_groups(groups, n_groups, host->extras[i].group))
			add_blocker(g, GPU_BLOCK_NON_PCI, NULL,
				    host->extras[i].name);
}

static char *describe_blocker(const struct gpu_info *g,
			      const struct gpu_blocker *b)
{
	char a[PCI_ADDR_STRLEN];
	const struct pci_function *fn = b->fn;

	switch (b->kind) {
	case GPU_BLOCK_ROOT_FS:
		return xasprintf("%s [%s] in group %d holds the root "
				 "filesystem (%s)", pci_addr_format(&fn->addr, a),
				 drv(fn), fn->iommu_group, b->detail);
	case GPU_BLOCK_ROUTE_NIC:
		return xasprintf("%s [%s] in group %d carries the default "
				 "route (%s)", pci_addr_format(&fn->addr, a),
				 drv(fn), fn->iommu_group, b->detail);
	case GPU_BLOCK_BOOT_DISPLAY:
		if (fn == g->gpu)
			return xasprintf("it is the host's boot display [%s]",
					 drv(fn));
		return xasprintf("%s [%s] in group %d is the host's boot "
				 "display", pci_addr_format(&fn->addr, a),
				 drv(fn), fn->iommu_group);
	case GPU_BLOCK_FOREIGN:
		return xasprintf("group %d also holds %s%s%s [%s], which would "
				 "have to leave the host too", fn->iommu_group,
				 pci_addr_format(&fn->addr, a),
				 fn->class_name ? " " : "",
				 fn->class_name ? fn->class_name : "", drv(fn));
	case GPU_BLOCK_NON_PCI:
		return xasprintf("its group also holds %s, which is no PCI "
				 "device", b->detail);
	}
	return xstrdup("?");
}

static char *group_names(const int *groups, size_t n)
{
	char *s = xasprintf("group%s %d", n > 1 ? "s" : "", groups[0]);

	for (size_t i = 1; i < n; i++) {
		char *t = xasprintf("%s, %d", s, groups[i]);

		free(s);
		s = t;
	}
	return s;
}

static void judge(const struct pci_host *host, struct gpu_info *g,
		  const int *groups, size_t n_groups)
{
	char a[PCI_ADDR_STRLEN];
	const struct pci_function **members;
	size_t n = 0;

	if (!host->iommu) {
		g->verdict = GPU_NO_IOMMU;
		g->reason = xstrdup("the host has no IOMMU groups (IOMMU off "
				    "or unsupported)");
		return;
	}
	for (size_t i = 0; i < g->n_slot; i++)
		if (g->slot[i]->iommu_group < 0) {
			g->verdict = GPU_NO_IOMMU;
			g->reason = xasprintf("%s is in no IOMMU group",
					      pci_addr_format(&g->slot[i]->addr,
							      a));
			return;
		}
	members = xcalloc(g->n_slot + g->n_group, sizeof(*members));
	for (size_t i = 0; i < g->n_slot; i++)
		members[n++] = g->slot[i];
	for (size_t i = 0; i < g->n_group; i++)
		members[n++] = g->group[i];
	find_blockers(host, g, members, n, groups, n_groups);
	free(members);
	if (g->n_blockers > 0) {
		char *first = describe_blocker(g, &g->blockers[0]);

		g->verdict = GPU_UNSAFE;
		if (g->n_blockers == 1)
			g->reason = first;
		else {
			g->reason = xasprintf("%s (and %zu more)", first,
					      g->n_blockers - 1);
			free(first);
		}
		return;
	}
	g->to_bind = xcalloc(g->n_slot, sizeof(*g->to_bind));
	for (size_t i = 0; i < g->n_slot; i++)
		if (!pci_function_on_vfio(g->slot[i]))
			g->to_bind[g->n_to_bind++] = g->slot[i];
	if (g->n_to_bind == 0) {
		cleanup_free char *gn = group_names(groups, n_groups);

		g->verdict = GPU_READY;
		g->reason = xasprintf("%s on vfio-pci, %s viable",
				      g->n_slot == 1 ? "its function is"
				      : "all its functions are", gn);
		return;
	}
	g->verdict = GPU_BINDABLE;
	g->reason = xstrdup("bind to vfio-pci:");
	for (size_t i = 0; i < g->n_to_bind; i++) {
		char *t = xasprintf("%s%s %s [%s]", g->reason, i ? "," : "",
				    pci_addr_format(&g->to_bind[i]->addr, a),
				    drv(g->to_bind[i]));

		free(g->reason);
		g->reason = t;
	}
}

static void build_one(const struct pci_host *host, size_t i,
		      struct gpu_info *g)
{
	size_t first, end, n_groups = 0;
	int *groups;

	*g = (struct gpu_info){ .gpu = &host->fns[i] };
	slot_range(host, i, &first, &end);
	g->n_slot = end - first;
	g->slot = xcalloc(g->n_slot, sizeof(*g->slot));
	groups = xcalloc(g->n_slot, sizeof(*groups));
	for (size_t j = first; j < end; j++) {
		g->slot[j - first] = &host->fns[j];
		if (host->fns[j].iommu_group >= 0 &&
		    !in_groups(groups, n_groups, host->fns[j].iommu_group))
			groups[n_groups++] = host->fns[j].iommu_group;
	}
	for (size_t j = 0; j < host->n; j++)
		if ((j < first || j >= end) &&
		    host->fns[j].iommu_group >= 0 &&
		    in_groups(groups, n_groups, host->fns[j].iommu_group)) {
			g->group = xreallocarray(g->group, g->n_group + 1,
						 sizeof(*g->group));
			g->group[g->n_group++] = &host->fns[j];
		}
	for (size_t j = 0; j < host->n_extras; j++)
		if (in_groups(groups, n_groups, host->extras[j].group)) {
			g->group_extra = xreallocarray(g->group_extra,
						       g->n_group_extra + 1,
						       sizeof(*g->group_extra));
			g->group_extra[g->n_group_extra++] =
				host->extras[j].name;
		}
	g->boot_display = gpu_is_boot_display(g->gpu);
	judge(host, g, groups, n_groups);
	free(groups);
}

void gpu_list_build(const struct pci_host *host, struct gpu_list *out)
{
	*out = (struct gpu_list){ 0 };
	for (size_t i = 0; i < host->n; i++) {
		if (!is_card(host, i))
			continue;
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		build_one(host, i, &out->v[out->n++]);
	}
}

void gpu_list_clear(struct gpu_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		struct gpu_info *g = &list->v[i];

		free(g->slot);
		free(g->group);
		free(g->group_extra);
		free(g->reason);
		free(g->to_bind);
		free(g->blockers);
	}
	free(list->v);
	*list = (struct gpu_list){ 0 };
}

/* Every function of the slot of host->fns[i], function 0 first. */
static void slot_functions(const struct pci_host *host, size_t i,
			   struct pci_addr **functions, size_t *n)
{
	size_t first, end;

	slot_range(host, i, &first, &end);
	*n = end - first;
	*functions = xcalloc(*n, sizeof(**functions));
	for (size_t j = first; j < end; j++)
		(*functions)[j - first] = host->fns[j].addr;
}

static char *selector_text(const struct spec_gpu *sel)
{
	if (sel->selector == SPEC_GPU_VENDOR)
		return xasprintf("vendor %s", sel->vendor);
	return xasprintf("id %04x:%04x", sel->vendor_id, sel->device_id);
}

int gpu_resolve(const struct pci_host *host, const struct spec_gpu *sel,
		struct pci_addr **functions, size_t *n,
		struct vmctl_error **err)
{
	char a[PCI_ADDR_STRLEN];
	cleanup_free char *what = NULL;
	cleanup_free char *skipped = NULL;
	size_t count = 0;

	*functions = NULL;
	*n = 0;
	if (sel->selector == SPEC_GPU_ADDRESS) {
		const struct pci_function *fn = pci_host_find(host,
							      &sel->address);

		if (fn == NULL)
			return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
					       "no PCI device at %s on this "
					       "host", pci_addr_format(
						       &sel->address, a));
		slot_functions(host, (size_t)(fn - host->fns), functions, n);
		return 0;
	}
	for (size_t i = 0; i < host->n; i++) {
		const struct pci_function *fn = &host->fns[i];
		bool match;

		if (!is_card(host, i))
			continue;
		if (sel->selector == SPEC_GPU_VENDOR)
			match = gpu_vendor_matches(sel->vendor, fn->vendor_id);
		else
			match = fn->vendor_id == sel->vendor_id &&
				fn->device_id == sel->device_id;
		if (!match)
			continue;
		if (sel->selector == SPEC_GPU_VENDOR &&
		    gpu_is_boot_display(fn)) {
			free(skipped);
			skipped = xstrdup(pci_addr_format(&fn->addr, a));
			continue;
		}
		if (count++ == sel->index) {
			slot_functions(host, i, functions, n);
			return 0;
		}
	}
	what = selector_text(sel);
	if (count == 0 && skipped != NULL)
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
				       "no GPU matches %s but %s, the host's "
				       "boot display (give its address to pass "
				       "it anyway)", what, skipped);
	if (count == 0)
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
				       "no GPU matches %s on this host", what);
	return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
			       "index %u, but only %zu GPU%s match%s %s%s",
			       sel->index, count, count > 1 ? "s" : "",
			       count > 1 ? "" : "es", what,
			       skipped ? " (the host's boot display is not "
			       "counted)" : "");
}

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_int_or_null(cJSON *o, const char *key, int v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_hex(cJSON *o, const char *key, unsigned v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%04x", v);
	cJSON_AddStringToObject(o, key, buf);
}

/* reset_method is a space-separated list: ["flr", "bus"]; null when the
 * kernel has no such attribute (before 5.15, or no method at all). */
static void add_reset(cJSON *o, const char *methods)
{
	cJSON *arr;

	if (methods == NULL) {
		cJSON_AddNullToObject(o, "reset_method");
		return;
	}
	arr = cJSON_AddArrayToObject(o, "reset_method");
	for (const char *p = methods; *p != '\0';) {
		size_t len = strcspn(p, " ");

		if (len > 0) {
			cleanup_free char *m = xstrndup(p, len);

			cJSON_AddItemToArray(arr, cJSON_CreateString(m));
		}
		p += len;
		while (*p == ' ')
			p++;
	}
}

cJSON *gpu_function_json(const struct pci_function *fn)
{
	cJSON *o = cJSON_CreateObject();
	char a[PCI_ADDR_STRLEN];

	cJSON_AddStringToObject(o, "address", pci_addr_format(&fn->addr, a));
	add_hex(o, "vendor_id", fn->vendor_id);
	add_hex(o, "device_id", fn->device_id);
	add_hex(o, "class", fn->class_code >> 8);
	add_str_or_null(o, "vendor", fn->vendor_name);
	add_str_or_null(o, "device", fn->device_name);
	add_str_or_null(o, "class_name", fn->class_name);
	if (fn->subsys_vendor_id != 0 || fn->subsys_device_id != 0) {
		char s[16];

		snprintf(s, sizeof(s), "%04x:%04x", fn->subsys_vendor_id,
			 fn->subsys_device_id);
		cJSON_AddStringToObject(o, "subsystem", s);
	} else {
		cJSON_AddNullToObject(o, "subsystem");
	}
	cJSON_AddBoolToObject(o, "bridge", fn->bridge);
	add_str_or_null(o, "driver", fn->driver);
	add_str_or_null(o, "driver_override", fn->driver_override);
	add_int_or_null(o, "iommu_group", fn->iommu_group);
	add_int_or_null(o, "numa_node", fn->numa_node);
	add_reset(o, fn->reset_method);
	return o;
}

cJSON *gpu_info_json(const struct gpu_info *g)
{
	cJSON *o = gpu_function_json(g->gpu);
	cJSON *arr;
	char a[PCI_ADDR_STRLEN];

	cJSON_AddBoolToObject(o, "boot_vga", g->gpu->boot_vga == 1);
	cJSON_AddBoolToObject(o, "boot_display", g->boot_display);
	arr = cJSON_AddArrayToObject(o, "functions");
	for (size_t i = 0; i < g->n_slot; i++)
		cJSON_AddItemToArray(arr, gpu_function_json(g->slot[i]));
	arr = cJSON_AddArrayToObject(o, "group_members");
	for (size_t i = 0; i < g->n_group; i++)
		cJSON_AddItemToArray(arr, gpu_function_json(g->group[i]));
	arr = cJSON_AddArrayToObject(o, "group_non_pci");
	for (size_t i = 0; i < g->n_group_extra; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(g->group_extra[i]));
	cJSON_AddStringToObject(o, "verdict", gpu_verdict_name(g->verdict));
	cJSON_AddStringToObject(o, "reason", g->reason);
	arr = cJSON_AddArrayToObject(o, "to_bind");
	for (size_t i = 0; i < g->n_to_bind; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(
			pci_addr_format(&g->to_bind[i]->addr, a)));
	arr = cJSON_AddArrayToObject(o, "blockers");
	for (size_t i = 0; i < g->n_blockers; i++) {
		const struct gpu_blocker *b = &g->blockers[i];
		cJSON *bo = cJSON_CreateObject();
		cleanup_free char *why = describe_blocker(g, b);

		cJSON_AddStringToObject(bo, "kind", gpu_block_kind_name(b->kind));
		add_str_or_null(bo, "address", b->fn ? pci_addr_format(
					&b->fn->addr, a) : NULL);
		add_str_or_null(bo, "detail", b->detail);
		cJSON_AddStringToObject(bo, "reason", why);
		cJSON_AddItemToArray(arr, bo);
	}
	return o;
}

int gpu_resolve_or_given(const struct pci_host *host,
			 const struct spec_gpu *sel, struct pci_addr **functions,
			 size_t *n, struct vmctl_error **err)
{
	if (sel->selector == SPEC_GPU_ADDRESS &&
	    pci_host_find(host, &sel->address) == NULL) {
		*functions = xmalloc(sizeof(**functions));
		(*functions)[0] = sel->address;
		*n = 1;
		return 0;
	}
	return gpu_resolve(host, sel, functions, n, err);
}
