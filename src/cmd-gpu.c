// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl gpu list [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/cmd.h"
#include "vmctl/gpu.h"
#include "vmctl/gpuquirk.h"
#include "vmctl/pci.h"
#include "vmctl/view.h"
#include "vmctl/xalloc.h"

#define ROW "%-13s %-10s %-5s %-14s %-6s %-5s %-9s %s\n"

static char *fn_name(const struct pci_function *fn)
{
	if (fn->vendor_name && fn->device_name)
		return xasprintf("%s %s", fn->vendor_name, fn->device_name);
	if (fn->vendor_name)
		return xasprintf("%s device %04x", fn->vendor_name,
				 fn->device_id);
	return xasprintf("device %04x:%04x", fn->vendor_id, fn->device_id);
}

static char *int_or_dash(int v)
{
	return v >= 0 ? xasprintf("%d", v) : xstrdup("-");
}

/* An indented line for another function of the slot or the group. */
static void print_member(const char *label, const struct pci_function *fn)
{
	char a[PCI_ADDR_STRLEN];
	cleanup_free char *name = fn_name(fn);

	printf("  %-6s %-13s %04x:%04x  %04x  %-14s %s%s%s%s\n", label,
	       pci_addr_format(&fn->addr, a), fn->vendor_id, fn->device_id,
	       fn->class_code >> 8, fn->driver ? fn->driver : "-",
	       fn->class_name ? fn->class_name : "",
	       fn->class_name ? ": " : "", name,
	       fn->bridge ? " (a bridge: keeps its driver)" : "");
}

static void print_gpu(const struct gpu_info *g,
		      const struct gpuquirk_list *quirks)
{
	const struct pci_function *fn = g->gpu;
	char a[PCI_ADDR_STRLEN], id[16], cls[8];
	cleanup_free char *name = fn_name(fn);
	cleanup_free char *group = int_or_dash(fn->iommu_group);
	cleanup_free char *numa = int_or_dash(fn->numa_node);

	snprintf(id, sizeof(id), "%04x:%04x", fn->vendor_id, fn->device_id);
	snprintf(cls, sizeof(cls), "%04x", fn->class_code >> 8);
	printf(ROW, pci_addr_format(&fn->addr, a), id, cls,
	       fn->driver ? fn->driver : "-", group, numa,
	       gpu_verdict_name(g->verdict), name);
	for (size_t i = 0; i < g->n_slot; i++)
		if (g->slot[i] != fn)
			print_member("slot", g->slot[i]);
	for (size_t i = 0; i < g->n_group; i++)
		print_member("group", g->group[i]);
	for (size_t i = 0; i < g->n_group_extra; i++)
		printf("  %-6s %s (not a PCI device)\n", "group",
		       g->group_extra[i]);
	printf("  %-6s %s%s%s%s\n", "reset",
	       fn->reset_method == NULL ? "unknown (no reset_method)"
	       : *fn->reset_method ? fn->reset_method : "none",
	       fn->boot_vga == 1 ? "; boot_vga" : "",
	       fn->driver_override ? "; driver_override " : "",
	       fn->driver_override ? fn->driver_override : "");
	printf("  %-6s %s\n", "why", g->reason);
	for (size_t i = 0; i < quirks->n; i++) {
		printf("  %-6s %s\n", "quirk", quirks->v[i].message);
		printf("  %-6s %s\n", "fix", quirks->v[i].fix);
	}
}

static int gpu_list(struct vmctl_env *env, struct vmctl_error **err)
{
	struct pci_host host = { 0 };
	struct gpu_list list = { 0 };

	if (pci_host_read(env, PCI_HOST_NAMES | PCI_HOST_NEEDS |
			  PCI_HOST_GPU_SCOPE, &host, err) < 0)
		return vmctl_error_wrap(err, "gpu list");
	gpu_list_build(&host, &list);
	if (env->json) {
		cJSON *arr = cJSON_CreateArray();

		for (size_t i = 0; i < list.n; i++) {
			cJSON *o = gpu_info_json(&list.v[i]);
			cJSON *qa = cJSON_AddArrayToObject(o, "quirks");
			struct gpuquirk_list q = { 0 };

			gpuquirk_judge(&list.v[i], &q);
			for (size_t k = 0; k < q.n; k++)
				cJSON_AddItemToArray(qa, gpuquirk_json(&q.v[k]));
			gpuquirk_list_clear(&q);
			cJSON_AddItemToArray(arr, o);
		}
		view_print_json(arr);
		cJSON_Delete(arr);
	} else if (list.n == 0) {
		printf("no GPU (PCI display controller) on this host\n");
	} else {
		printf(ROW, "ADDRESS", "ID", "CLASS", "DRIVER", "GROUP",
		       "NUMA", "VERDICT", "NAME");
		for (size_t i = 0; i < list.n; i++) {
			struct gpuquirk_list q = { 0 };

			gpuquirk_judge(&list.v[i], &q);
			print_gpu(&list.v[i], &q);
			gpuquirk_list_clear(&q);
		}
	}
	if (!env->json && env->verbosity >= 0)
		for (size_t i = 0; i < host.needs_notes.n; i++)
			printf("note: %s\n", host.needs_notes.v[i]);
	gpu_list_clear(&list);
	pci_host_clear(&host);
	return VMCTL_EXIT_OK;
}

static int cmd_gpu_exec(struct vmctl_env *env, int argc, char **argv,
			struct vmctl_error **err)
{
	const char *sub;
	int opt;

	while ((opt = cmd_getopt(&cmd_gpu_entry, env, argc, argv, "",
				 NULL)) != -1)
		return cmd_done(opt);
	sub = optind < argc ? argv[optind] : "list";
	if (strcmp(sub, "list") == 0) {
		if (optind + 1 < argc)
			return cmd_usage_error(&cmd_gpu_entry, err, "list "
					       "takes no arguments");
		return gpu_list(env, err);
	}
	return cmd_usage_error(&cmd_gpu_entry, err, "unknown subcommand %s",
			       sub);
}

const struct cmd_entry cmd_gpu_entry = {
	.name = "gpu",
	.usage = "list [--json]",
	.summary = "list GPUs, their IOMMU groups and whether each can be "
		   "passed through",
	.help = "One entry per GPU (PCI class 03): its slot's other functions "
		"(audio, USB,\nUCSI), the other members of its IOMMU group, "
		"and a verdict:\n"
		"  ready     every function on vfio-pci, the group viable\n"
		"  bindable  viable once the listed functions are bound to "
		"vfio-pci\n"
		"  unsafe    the group holds a device the host needs (root "
		"filesystem,\n"
		"            default route, boot display) or another device "
		"on a host driver\n"
		"  no-iommu  the host has no IOMMU groups\n"
		"and what is known to go wrong with it: an AMD card with the "
		"reset bug (it\nneeds vendor-reset and reset_method "
		"device_specific), 64-bit BARs past the\n32 GiB QEMU's q35 "
		"maps by default (Resizable BAR).  Reads sysfs under\n"
		"--sysfs-root and proc under VMCTL_PROC_ROOT; writes "
		"nothing.\n"
		"--json: docs/json.md.\n",
	.exec = cmd_gpu_exec,
};
