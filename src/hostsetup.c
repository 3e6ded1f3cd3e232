// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup planning: which functions go to vfio-pci and how (by ids, or
 * by address where a device the host keeps shares them), the kernel
 * arguments, and the plan the bootloader (hostsetup-boot.c) and module
 * (hostsetup-initrd.c) planners fill.  Reads the root; writes nothing
 * (hostsetup-txn.c carries plans out).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/diff.h"
#include "vmctl/hostsetup-boot.h"
#include "vmctl/hostsetup-facts.h"
#include "vmctl/hostsetup-initrd.h"
#include "vmctl/hostsetup-root.h"
#include "vmctl/kcmdline.h"
#include "vmctl/quote.h"
#include "vmctl/xalloc.h"

const char *hs_boot_name(enum hs_boot b)
{
	switch (b) {
	case HS_BOOT_GRUB: return "grub";
	case HS_BOOT_GRUBBY: return "grubby";
	case HS_BOOT_SDBOOT: return "systemd-boot";
	case HS_BOOT_KERNELSTUB: return "kernelstub";
	case HS_BOOT_NONE: break;
	}
	return "none";
}

const char *hs_initrd_name(enum hs_initrd i)
{
	switch (i) {
	case HS_INITRD_TOOLS: return "initramfs-tools";
	case HS_INITRD_DRACUT: return "dracut";
	case HS_INITRD_MKINITCPIO: return "mkinitcpio";
	case HS_INITRD_NONE: break;
	}
	return "none";
}

/* ---- reading the root --------------------------------------------------- */

void hs_add_command(struct strv **list, size_t *n, const char *root,
		    const char *const *argv)
{
	struct strv cmd = { 0 };

	/* Boot files of another tree are rebuilt inside it. */
	if (strcmp(root, "/") != 0) {
		strv_push(&cmd, "chroot");
		strv_push(&cmd, root);
	}
	for (size_t i = 0; argv[i] != NULL; i++)
		strv_push(&cmd, argv[i]);
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	(*list)[(*n)++] = cmd;
}


void hostsetup_regen_commands(const char *root, enum hs_boot boot,
			      enum hs_initrd initrd, struct strv **cmds,
			      size_t *n)
{
	hs_regen_boot(root, boot, cmds, n);
	hs_regen_initrd(root, initrd, cmds, n);
}

int hs_add_edit(struct hs_plan *plan, const char *path, char *old_text,
		char *new_text, mode_t mode)
{
	if (old_text != NULL && strcmp(old_text, new_text) == 0) {
		free(old_text);
		free(new_text);
		return 0;
	}
	plan->edits = xreallocarray(plan->edits, plan->n_edits + 1,
				    sizeof(*plan->edits));
	plan->edits[plan->n_edits++] = (struct hs_edit){
		.path = xstrdup(path), .old_text = old_text,
		.new_text = new_text, .mode = mode,
	};
	return 1;
}

/* An earlier run was killed after changing files but before its
 * regeneration finished: rebuild everything, even if no file changes.
 * The commands that are not regeneration (grubby's, kernelstub's) keep
 * their place first; then every regeneration, in the usual order. */
static void add_missing_regen(struct hs_plan *plan)
{
	struct strv *regen = NULL, *all = NULL;
	size_t n = 0, n_all = 0;

	hostsetup_regen_commands(plan->root, plan->boot, plan->initrd, &regen,
				 &n);
	for (size_t k = 0; k < plan->n_commands; k++) {
		cleanup_free char *b = kcmdline_join(&plan->commands[k]);
		bool is_regen = false;

		for (size_t i = 0; i < n && !is_regen; i++) {
			cleanup_free char *a = kcmdline_join(&regen[i]);

			is_regen = strcmp(a, b) == 0;
		}
		if (is_regen) {
			strv_clear(&plan->commands[k]);
			continue;
		}
		all = xreallocarray(all, n_all + 1, sizeof(*all));
		all[n_all++] = plan->commands[k];
	}
	for (size_t i = 0; i < n; i++) {
		all = xreallocarray(all, n_all + 1, sizeof(*all));
		all[n_all++] = regen[i];
	}
	free(regen);
	free(plan->commands);
	plan->commands = all;
	plan->n_commands = n_all;
	strv_push(&plan->notes, "an earlier host-setup was interrupted before "
		  "its boot files were rebuilt: rebuilding them now");
}

int hostsetup_plan(const struct vmctl_env *env, const char *root,
		   const struct pci_host *host,
		   const struct pci_function *const *fns, size_t n,
		   struct hs_plan *out, struct vmctl_error **err)
{
	struct hs_plan plan = { .root = xstrdup(root) };
	cleanup_free char *vendor = hostsetup_cpu_vendor(env);
	cleanup_free bool *by_address = xcalloc(n ? n : 1, sizeof(bool));
	struct strv ids = { 0 }, modules = { 0 };
	struct karg *kargs = NULL;
	bool any_by_address = false, modprobe_changed;
	size_t nk = 0;

	plan.boot = hostsetup_detect_boot(root);
	plan.initrd = hostsetup_detect_initrd(root);

	/* ids, unless another function the host keeps has the same ones */
	for (size_t i = 0; i < n; i++) {
		const struct pci_function *f = fns[i];
		cleanup_free char *id = xasprintf("%04x:%04x", f->vendor_id,
						  f->device_id);
		bool shared = false, seen = false;

		for (size_t h = 0; h < host->n && !shared; h++) {
			bool selected = false;

			if (host->fns[h].vendor_id != f->vendor_id ||
			    host->fns[h].device_id != f->device_id)
				continue;
			for (size_t s = 0; s < n; s++)
				if (pci_addr_cmp(&host->fns[h].addr,
						 &fns[s]->addr) == 0)
					selected = true;
			shared = !selected;
		}
		if (shared) {
			char a[PCI_ADDR_STRLEN];

			by_address[i] = true;
			any_by_address = true;
			strv_pushf(&plan.notes, "%s (%s) shares its ids with a "
				   "device the host keeps: bound by address, "
				   "not through vfio-pci.ids",
				   pci_addr_format(&f->addr, a), id);
			continue;
		}
		for (size_t k = 0; k < ids.n; k++)
			seen |= strcmp(ids.v[k], id) == 0;
		if (!seen)
			strv_push(&ids, id);
		if (f->driver != NULL && strcmp(f->driver, "vfio-pci") != 0 &&
		    strcmp(f->driver, "pci-stub") != 0) {
			cleanup_free char *m = hostsetup_driver_module(env, f->driver);
			bool have = false;

			for (size_t k = 0; k < modules.n; k++)
				have |= strcmp(modules.v[k], m) == 0;
			if (!have)
				strv_push(&modules, m);
		}
	}
	/* Functions bound by address still need their driver held back. */
	for (size_t i = 0; i < n; i++) {
		if (!by_address[i] || fns[i]->driver == NULL ||
		    strcmp(fns[i]->driver, "vfio-pci") == 0)
			continue;
		cleanup_free char *m = hostsetup_driver_module(env, fns[i]->driver);
		bool have = false;

		for (size_t k = 0; k < modules.n; k++)
			have |= strcmp(modules.v[k], m) == 0;
		if (!have)
			strv_push(&modules, m);
	}
	if (ids.n > 0) {
		char *list = xstrdup(ids.v[0]);

		for (size_t k = 1; k < ids.n; k++) {
			char *more = xasprintf("%s,%s", list, ids.v[k]);

			free(list);
			list = more;
		}
		plan.ids = list;
	}

	/* Kernel arguments */
	if (vendor != NULL && strcmp(vendor, "AuthenticAMD") == 0)
		strv_push(&plan.kargs, "amd_iommu=on");
	else
		strv_push(&plan.kargs, "intel_iommu=on");
	if (vendor == NULL)
		strv_pushf(&plan.notes, "CPU vendor unknown (%s/cpuinfo): "
			   "assuming Intel", env->proc);
	strv_push(&plan.kargs, "iommu=pt");
	if (plan.ids != NULL)
		strv_pushf(&plan.kargs, "vfio-pci.ids=%s", plan.ids);
	kargs = xcalloc(plan.kargs.n, sizeof(*kargs));
	for (size_t i = 0; i < plan.kargs.n; i++) {
		char *eq = strchr(plan.kargs.v[i], '=');

		kargs[nk].key = xstrndup(plan.kargs.v[i],
					 (size_t)(eq - plan.kargs.v[i]));
		kargs[nk++].value = eq + 1;
	}

	if (hs_plan_modprobe(root, &plan, &modules, &modprobe_changed,
			     err) < 0)
		goto fail;
	if (hs_plan_boot(root, &plan, kargs, nk, err) < 0 ||
	    hs_plan_initrd(root, fns, n, by_address, any_by_address, &plan,
			   modprobe_changed, err) < 0)
		goto fail;
	if (hostsetup_regen_pending(env, root))
		add_missing_regen(&plan);
	for (size_t i = 0; i < nk; i++)
		free((char *)kargs[i].key);
	free(kargs);
	strv_clear(&ids);
	strv_clear(&modules);
	*out = plan;
	return 0;
fail:
	for (size_t i = 0; i < nk; i++)
		free((char *)kargs[i].key);
	free(kargs);
	strv_clear(&ids);
	strv_clear(&modules);
	hostsetup_plan_clear(&plan);
	return -1;
}

void hostsetup_plan_clear(struct hs_plan *plan)
{
	for (size_t i = 0; i < plan->n_edits; i++) {
		free(plan->edits[i].path);
		free(plan->edits[i].old_text);
		free(plan->edits[i].new_text);
	}
	free(plan->edits);
	for (size_t i = 0; i < plan->n_commands; i++)
		strv_clear(&plan->commands[i]);
	free(plan->commands);
	for (size_t i = 0; i < plan->n_undo_commands; i++)
		strv_clear(&plan->undo_commands[i]);
	free(plan->undo_commands);
	strv_clear(&plan->kargs);
	strv_clear(&plan->notes);
	free(plan->ids);
	free(plan->root);
	*plan = (struct hs_plan){ 0 };
}

char *hostsetup_plan_render(const struct hs_plan *plan)
{
	char *out = xasprintf("# bootloader: %s, initramfs: %s, root: %s\n",
			      hs_boot_name(plan->boot),
			      hs_initrd_name(plan->initrd), plan->root);

	for (size_t i = 0; i < plan->n_edits; i++) {
		cleanup_free char *d = diff_unified(plan->edits[i].path,
						    plan->edits[i].old_text,
						    plan->edits[i].new_text);
		char *more = xasprintf("%s%s", out, d);

		free(out);
		out = more;
	}
	for (size_t i = 0; i < plan->n_commands; i++) {
		cleanup_free char *line = quote_shell_argv(&plan->commands[i]);
		char *more = xasprintf("%s$ %s\n", out, line);

		free(out);
		out = more;
	}
	for (size_t i = 0; i < plan->notes.n; i++) {
		char *more = xasprintf("%snote: %s\n", out, plan->notes.v[i]);

		free(out);
		out = more;
	}
	return out;
}

