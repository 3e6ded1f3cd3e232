// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl gpu list [--json], vmctl gpu rom ADDRESS FILE [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/claims.h"
#include "vmctl/cmd.h"
#include "vmctl/fsutil.h"
#include "vmctl/gpu.h"
#include "vmctl/gpuquirk.h"
#include "vmctl/hostinv.h"
#include "vmctl/lvconn.h"
#include "vmctl/pci.h"
#include "vmctl/pcirom.h"
#include "vmctl/state.h"
#include "vmctl/view.h"
#include "vmctl/vm-runtime.h"
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

/*
 * The PCI devices of this host (sysfs), or of the --connect host (its
 * libvirt node devices): the same struct either way, judged alike.
 * Errors get `what` in front, but for a hosts file's located ones.
 */
static int read_host(const struct vmctl_env *env, unsigned flags,
		     const char *what, struct pci_host *host,
		     struct vmctl_error **err)
{
	virConnectPtr conn = NULL;
	cleanup_free char *uri = NULL;
	int ret;

	if (env->connect == NULL)
		ret = pci_host_read(env, flags, host, err);
	else if (lvconn_open_env(env, LVCONN_READ_ONLY, &conn, &uri,
				 err) < 0)
		ret = -1;
	else
		ret = lvconn_pci_host_read(conn, uri, host, err);
	lvconn_close(conn);
	if (ret < 0 && !(*err)->located)
		vmctl_error_wrap(err, "%s", what);
	return ret;
}

/* `gpu __pci-facts` (for tests): every PCI function, read in full, as
 * gpu_function_json() shows it, and whether the host has IOMMU groups. */
static int gpu_pci_facts(struct vmctl_env *env, struct vmctl_error **err)
{
	struct pci_host host = { 0 };
	cJSON *o, *arr;

	if (read_host(env, 0, "gpu __pci-facts", &host, err) < 0)
		return -1;
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "iommu", host.iommu);
	arr = cJSON_AddArrayToObject(o, "functions");
	for (size_t i = 0; i < host.n; i++)
		cJSON_AddItemToArray(arr, gpu_function_json(&host.fns[i]));
	view_print_json(o);
	cJSON_Delete(o);
	pci_host_clear(&host);
	return VMCTL_EXIT_OK;
}

static int gpu_list(struct vmctl_env *env, struct vmctl_error **err)
{
	struct pci_host host = { 0 };
	struct gpu_list list = { 0 };

	if (read_host(env, PCI_HOST_NAMES | PCI_HOST_NEEDS |
		      PCI_HOST_GPU_SCOPE, "gpu list", &host, err) < 0)
		return -1;
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
		printf("no GPU (PCI display controller) on %s\n",
		       env->connect ? env->connect : "this host");
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

/* The running VM holding FN (it, or its IOMMU group), refused. */
static int check_holder(const struct vmctl_env *env,
			const struct pci_host *host,
			const struct pci_function *fn,
			struct vmctl_error **err)
{
	struct hostinv inv = { 0 };
	struct broker_claims held = { 0 };
	const struct broker_claim *h;
	char a[PCI_ADDR_STRLEN];
	int ret = 0;

	hostinv_gpus_from_pci(&inv, host);
	if (claims_read_running(env, host, &inv, &held, err) < 0) {
		hostinv_clear(&inv);
		return -1;
	}
	h = broker_gpu_holder(&held, &fn->addr, fn->iommu_group, NULL);
	if (h != NULL)
		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "refusing: "
				      "%s is in use by VM \"%s\"",
				      pci_addr_format(&fn->addr, a), h->vm);
	broker_claims_clear(&held);
	hostinv_clear(&inv);
	return ret;
}

static void print_rom(const struct vmctl_env *env,
		      const struct pci_function *fn, const char *file,
		      const struct pcirom_info *info)
{
	bool match = pcirom_matches(info, fn->vendor_id, fn->device_id);
	char a[PCI_ADDR_STRLEN];

	pci_addr_format(&fn->addr, a);
	if (env->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "address", a);
		cJSON_AddStringToObject(o, "file", file);
		cJSON_AddBoolToObject(o, "matches", match);
		cJSON_AddItemToObject(o, "rom", pcirom_info_json(info));
		view_print_json(o);
		cJSON_Delete(o);
		return;
	}
	if (env->verbosity >= 0) {
		cleanup_free char *text = pcirom_describe(info);

		printf("%s: ROM written to %s: %s\n", a, file, text);
		for (size_t i = 0; i < info->notes.n; i++)
			printf("note: %s\n", info->notes.v[i]);
	}
	if (!match)
		fprintf(stderr, "vmctl: warning: the ROM names no image for "
			"%04x:%04x, the card's own ids\n", fn->vendor_id,
			fn->device_id);
}

/*
 * Read the card's ROM (refused for what is no GPU, the host's display, a
 * card on a host driver or one a running VM holds), check it, and write
 * FILE atomically.  A ROM that does not check out is not written.
 */
static int gpu_rom(struct vmctl_env *env, const char *addr_text,
		   const char *file, struct vmctl_error **err)
{
	struct pci_host host = { 0 };
	struct pci_addr addr;
	struct pcirom_info info = { 0 };
	const struct pci_function *fn;
	cleanup_free char *data = NULL, *why = NULL, *dir = NULL;
	cleanup_free char *base = NULL;
	const char *slash;
	size_t len;
	bool enabled;
	int lock = -1, ret = -1;

	if (pci_addr_parse(addr_text, &addr) < 0)
		return cmd_usage_error(&cmd_gpu_entry, err, "%s: not a PCI "
				       "address (0000:01:00.0)", addr_text);
	slash = strrchr(file, '/');
	base = xstrdup(slash ? slash + 1 : file);
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return cmd_usage_error(&cmd_gpu_entry, err, "%s: not a file "
				       "name", file);
	dir = fs_abs_dirname(file);
	vm_reconcile_all(env);
	if (pci_host_read(env, PCI_HOST_GPU_SCOPE, &host, err) < 0)
		return vmctl_error_wrap(err, "gpu rom");
	fn = pci_host_find(&host, &addr);
	if (fn == NULL) {
		char a[PCI_ADDR_STRLEN];

		vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0, "no PCI device "
				"at %s on this host",
				pci_addr_format(&addr, a));
		goto out;
	}
	why = pcirom_dump_refusal(fn);
	if (why != NULL) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "refusing: %s",
				why);
		goto out;
	}
	/* No start takes the card while its ROM is on. */
	lock = state_lock_global(env, err);
	if (lock < 0 || check_holder(env, &host, fn, err) < 0 ||
	    pcirom_dump(env, fn, &data, &len, &enabled, err) < 0)
		goto out;
	close(lock);
	lock = -1;
	if (pcirom_check(data, len, &info, err) < 0) {
		vmctl_error_wrap(err, "the ROM of %s is not usable, not "
				 "written", addr_text);
		goto out;
	}
	if (fs_write_atomic(dir, base, data, len, 0644, err) < 0)
		goto out;
	print_rom(env, fn, file, &info);
	ret = VMCTL_EXIT_OK;
out:
	if (lock >= 0)
		close(lock);
	pcirom_info_clear(&info);
	pci_host_clear(&host);
	return ret;
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
	if (strcmp(sub, "__pci-facts") == 0)
		return gpu_pci_facts(env, err);
	if (env->connect != NULL)
		return cmd_usage_error(&cmd_gpu_entry, err, "%s: not with "
				       "--connect (only list is)", sub);
	if (strcmp(sub, "rom") == 0) {
		if (argc - optind != 3)
			return cmd_usage_error(&cmd_gpu_entry, err, "usage: "
					       "gpu rom ADDRESS FILE");
		return gpu_rom(env, argv[optind + 1], argv[optind + 2], err);
	}
	return cmd_usage_error(&cmd_gpu_entry, err, "unknown subcommand %s",
			       sub);
}

const struct cmd_entry cmd_gpu_entry = {
	.name = "gpu",
	.usage = "list [--json] [--connect HOST] | rom ADDRESS FILE [--json]",
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
		"With --connect HOST: the host's PCI node devices through "
		"libvirt, judged\nthe same way; what libvirt does not tell "
		"(reset method, boot_vga, BARs,\nthe devices the host runs "
		"on) is unknown.\n\n"
		"rom ADDRESS FILE: read the card's option ROM (sysfs rom: on, "
		"read, off),\ncheck it (0x55AA, the PCI data structure, "
		"lengths, the image chain) and\nwrite it to FILE atomically; "
		"refused for what is no GPU, the host's boot\ndisplay, a card "
		"on a host driver and one a running VM holds.  A ROM for\n"
		"other ids than the card's is written with a warning; one "
		"that does not check\nout is not written.\n"
		"--json: docs/json.md.\n",
	.remote = true,
	.exec = cmd_gpu_exec,
};
