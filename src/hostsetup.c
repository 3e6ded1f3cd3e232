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
#include "vmctl/fsutil.h"
#include "vmctl/hostsetup-boot.h"
#include "vmctl/hostsetup-facts.h"
#include "vmctl/hostsetup-initrd.h"
#include "vmctl/hostsetup-root.h"
#include "vmctl/hostsetup-sdboot.h"
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
	struct vmctl_error *ignored = NULL;

	hs_regen_boot(root, boot, cmds, n);
	hs_regen_initrd(root, initrd, cmds, n);
	/* what cannot be rebuilt was refused when the plan was made */
	if (hs_regen_uki(root, cmds, n, &ignored) < 0)
		vmctl_error_free(ignored);
}

int hs_add_edit(struct hs_plan *plan, const char *path, char *old_text,
		char *new_text, mode_t mode)
{
	if ((old_text == NULL && new_text == NULL) ||
	    (old_text != NULL && new_text != NULL &&
	     strcmp(old_text, new_text) == 0)) {
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

int hs_no_oneshot(const struct hs_plan *plan, const char *why,
		  struct vmctl_error **err)
{
	return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "the new kernel "
			       "arguments cannot be tried for one boot first "
			       "on this %s host (%s): pass --permanent to "
			       "write them for good at once", hs_boot_name(
				       plan->boot), why);
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

void hs_ids_merge(struct strv *ids, const char *list)
{
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		char *id = xstrndup(p, n);

		for (char *c = id; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		if (*id != '\0' && !strv_contains(ids, id))
			strv_take(ids, id);
		else
			free(id);
		p += n + (p[n] == ',');
	}
}

/*
 * Which functions go by address: those whose vendor:device pair a device
 * the host keeps shares (vfio-pci.ids would take that one too).
 */
static bool mark_by_address(const struct pci_host *host,
			    const struct pci_function *const *fns, size_t n,
			    bool *by_address, struct strv *notes)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		const struct pci_function *f = fns[i];

		for (size_t h = 0; h < host->n && !by_address[i]; h++) {
			bool selected = false;

			if (host->fns[h].vendor_id != f->vendor_id ||
			    host->fns[h].device_id != f->device_id)
				continue;
			for (size_t s = 0; s < n; s++)
				if (pci_addr_cmp(&host->fns[h].addr,
						 &fns[s]->addr) == 0)
					selected = true;
			by_address[i] = !selected;
		}
		if (by_address[i]) {
			char a[PCI_ADDR_STRLEN];

			any = true;
			strv_pushf(notes, "%s (%04x:%04x) shares its ids with "
				   "a device the host keeps: bound by address, "
				   "not through vfio-pci.ids",
				   pci_addr_format(&f->addr, a), f->vendor_id,
				   f->device_id);
		}
	}
	return any;
}

/* The modules that must wait for vfio-pci: for each selected function,
 * its driver now and every module the installed kernels would load for
 * it (an HDMI audio function whose driver had not loaded yet has none
 * now, and would get one at the next boot). */
static void held_modules(const struct vmctl_env *env, const char *root,
			 const struct pci_function *const *fns, size_t n,
			 struct strv *modules)
{
	for (size_t i = 0; i < n; i++) {
		const char *d = fns[i]->driver;
		char a[PCI_ADDR_STRLEN];

		if (d != NULL && strcmp(d, "vfio-pci") != 0 &&
		    strcmp(d, "pci-stub") != 0) {
			char *m = hostsetup_driver_module(env, d);

			if (!strv_contains(modules, m))
				strv_take(modules, m);
			else
				free(m);
		}
		hostsetup_alias_modules(env, root,
					pci_addr_format(&fns[i]->addr, a),
					modules);
	}
}

/* KEY's comma-separated values in every word that sets it. */
static void comma_values(const struct strv *words, const char *key,
			 struct strv *values)
{
	for (size_t w = 0; w < words->n; w++) {
		const char *eq = strchr(words->v[w], '=');

		if (eq == NULL || !kcmdline_same_key(words->v[w], key))
			continue;
		for (const char *p = eq + 1; *p;) {
			size_t len = strcspn(p, ",");
			char *v = xstrndup(p, len);

			if (*v && !strv_contains(values, v))
				strv_take(values, v);
			else
				free(v);
			p += len + (p[len] == ',');
		}
	}
}

static char *join_commas(const struct strv *v)
{
	char *out = xstrdup("");

	for (size_t i = 0; i < v->n; i++) {
		char *more = xasprintf("%s%s%s", out, i ? "," : "", v->v[i]);

		free(out);
		out = more;
	}
	return out;
}

/*
 * The kernel arguments, merged with what the command line has: the
 * IOMMU on (intel_iommu= keeps its other options), passthrough mode,
 * and vfio-pci.ids= as the union of the ids there, in modprobe.d and
 * ours (plan->ids becomes that union too).
 */
static int kernel_args(const struct vmctl_env *env, struct hs_plan *plan,
		       struct strv *ours, struct vmctl_error **err)
{
	char *note = NULL;
	enum hs_iommu iommu = hostsetup_iommu(env, &note);
	struct strv words = { 0 };

	if (note != NULL)
		strv_take(&plan->notes, note);
	if (hs_boot_words(plan->root, plan->boot, &words, err) < 0)
		return -1;
	if (iommu == HS_IOMMU_AMD) {
		/* The kernel turns AMD-Vi on whenever IVRS describes it;
		 * amd_iommu= has no "on" (it would log "Unknown option"). */
		strv_push(&plan->notes, "AMD-Vi is on by default: no "
			  "amd_iommu= argument is needed");
		if (kcmdline_get(&words, "amd_iommu") != NULL &&
		    strstr(kcmdline_get(&words, "amd_iommu"), "off"))
			strv_push(&plan->notes, "the command line has "
				  "amd_iommu=off, which turns the IOMMU off: "
				  "remove it");
	} else {
		struct strv opts = { 0 }, kept = { 0 };
		cleanup_free char *list = NULL;

		/* on, and the other options it has (igfx_off, sm_on) */
		strv_push(&opts, "on");
		comma_values(&words, "intel_iommu", &opts);
		for (size_t i = 0; i < opts.n; i++)
			if (i == 0 || (strcmp(opts.v[i], "on") != 0 &&
				       strcmp(opts.v[i], "off") != 0))
				strv_push(&kept, opts.v[i]);
		list = join_commas(&kept);
		strv_pushf(&plan->kargs, "intel_iommu=%s", list);
		strv_clear(&opts);
		strv_clear(&kept);
	}
	strv_push(&plan->kargs, "iommu=pt");
	if (ours->n > 0) {
		struct strv all = { 0 };

		comma_values(&words, "vfio-pci.ids", &all);
		hs_modprobe_ids(plan->root, &all);
		for (size_t i = 0; i < ours->n; i++)
			hs_ids_merge(&all, ours->v[i]);
		plan->ids = join_commas(&all);
		strv_pushf(&plan->kargs, "vfio-pci.ids=%s", plan->ids);
		strv_clear(&all);
	}
	strv_clear(&words);
	return 0;
}

/* Arming the one-shot boot (grub-editenv, bootctl) comes after every
 * other command: a boot is armed only once all it needs is built, and a
 * failing command before leaves nothing armed to take back. */
static void arm_last(struct hs_plan *plan)
{
	struct strv *order = xcalloc(plan->n_commands + 1, sizeof(*order));
	size_t n = 0;

	for (int arming = 0; arming < 2; arming++)
		for (size_t i = 0; i < plan->n_commands; i++) {
			const struct strv *c = &plan->commands[i];
			const char *prog = c->n > 2 &&
				strcmp(c->v[0], "chroot") == 0 ? c->v[2]
							       : c->v[0];
			bool arms = strcmp(prog, "grub-editenv") == 0 ||
				    strcmp(prog, "grub2-editenv") == 0 ||
				    strcmp(prog, "bootctl") == 0;

			if (arms == (arming == 1))
				order[n++] = c[0];
		}
	free(plan->commands);
	plan->commands = order;
}

/* The functions as the plan saw them, for the manifest. */
static void record_functions(struct hs_plan *plan,
			     const struct pci_function *const *fns, size_t n,
			     const bool *by_address)
{
	plan->fns = xcalloc(n ? n : 1, sizeof(*plan->fns));
	plan->n_fns = n;
	for (size_t i = 0; i < n; i++) {
		struct hs_function *f = &plan->fns[i];

		pci_addr_format(&fns[i]->addr, f->addr);
		f->vendor_id = fns[i]->vendor_id;
		f->device_id = fns[i]->device_id;
		f->subsys_vendor_id = fns[i]->subsys_vendor_id;
		f->subsys_device_id = fns[i]->subsys_device_id;
		f->by_address = by_address[i];
		f->boot_display = fns[i]->boot_vga == 1;
	}
}

static void read_running(const struct vmctl_env *env, struct strv *words)
{
	cleanup_free char *path = xasprintf("%s/cmdline", env->proc);
	cleanup_free char *text = NULL;
	struct vmctl_error *ignored = NULL;
	size_t len;

	if (fs_read_file(path, 1u << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return;
	}
	kcmdline_split(text, words);
}

/*
 * modprobe.d, but while the arguments are only tried, a selected boot
 * display is bound only by the tried command line's vfio-pci.ids: were
 * modprobe.d to name it, a boot that fell back to the old command line
 * would lose its console to vfio-pci too.  (Any other GPU is left to
 * vfio-pci at once: without the IOMMU on, vfio-pci cannot take a device,
 * its probe fails and the GPU's own driver gets it; with the IOMMU on by
 * default it takes a card the host does not use.)
 */
static int plan_modprobe(struct hs_plan *plan, const struct strv *modules,
			 bool *changed, struct vmctl_error **err)
{
	char *ids = plan->ids;
	int ret;

	for (size_t i = 0; i < plan->n_fns && plan->tried.n > 0; i++) {
		if (!plan->fns[i].boot_display || plan->ids == NULL)
			continue;
		strv_pushf(&plan->notes, "%s is the host's boot display: only "
			   "the tried command line's vfio-pci.ids binds it, "
			   "so a boot that falls back keeps its console; "
			   "modprobe.d binds it once --confirm keeps the "
			   "arguments", plan->fns[i].addr);
		plan->ids = NULL;
		break;
	}
	ret = hs_plan_modprobe(plan->root, plan, modules, changed, err);
	plan->ids = ids;
	return ret;
}

int hostsetup_plan(const struct vmctl_env *env, const char *root,
		   const struct pci_host *host,
		   const struct pci_function *const *fns, size_t n,
		   enum hs_mode mode, struct hs_plan *out,
		   struct vmctl_error **err)
{
	struct hs_plan plan = { .root = xstrdup(root), .mode = mode };
	cleanup_free bool *by_address = xcalloc(n ? n : 1, sizeof(bool));
	struct strv ids = { 0 }, modules = { 0 };
	struct karg *kargs = NULL;
	bool any_by_address, modprobe_changed;
	size_t nk = 0;

	plan.boot = hostsetup_detect_boot(root);
	plan.initrd = hostsetup_detect_initrd(root);
	read_running(env, &plan.running);
	any_by_address = mark_by_address(host, fns, n, by_address,
					 &plan.notes);
	record_functions(&plan, fns, n, by_address);
	for (size_t i = 0; i < n; i++)
		if (!by_address[i])
			strv_pushf(&ids, "%04x:%04x", fns[i]->vendor_id,
				   fns[i]->device_id);
	held_modules(env, root, fns, n, &modules);
	if (kernel_args(env, &plan, &ids, err) < 0)
		goto fail;
	kargs = xcalloc(plan.kargs.n, sizeof(*kargs));
	for (size_t i = 0; i < plan.kargs.n; i++) {
		char *eq = strchr(plan.kargs.v[i], '=');

		kargs[nk].key = xstrndup(plan.kargs.v[i],
					 (size_t)(eq - plan.kargs.v[i]));
		kargs[nk++].value = eq + 1;
	}
	if (hs_plan_boot(root, &plan, kargs, nk, err) < 0 ||
	    plan_modprobe(&plan, &modules, &modprobe_changed, err) < 0 ||
	    hs_plan_initrd(root, fns, n, by_address, any_by_address, &plan,
			   modprobe_changed, err) < 0 ||
	    hs_plan_rebuild(root, &plan, err) < 0)
		goto fail;
	if (hostsetup_regen_pending(env, root)) {
		add_missing_regen(&plan);
		/* the interrupted run may have died before arming */
		if (plan.arm.n > 0 && !plan.armed) {
			hs_add_command(&plan.commands, &plan.n_commands, root,
				       (const char *const *)plan.arm.v);
			plan.armed = true;
		}
	}
	arm_last(&plan);
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
	strv_clear(&plan->tried);
	free(plan->oneshot);
	strv_clear(&plan->arm);
	free(plan->kargs_file);
	free(plan->cmdline);
	strv_clear(&plan->running);
	strv_clear(&plan->notes);
	free(plan->fns);
	free(plan->ids);
	free(plan->root);
	*plan = (struct hs_plan){ 0 };
}

char *hostsetup_plan_render(const struct hs_plan *plan)
{
	char *out = xasprintf("# bootloader: %s, initramfs: %s, root: %s\n",
			      hs_boot_name(plan->boot),
			      hs_initrd_name(plan->initrd), plan->root);

	if (plan->kargs_file != NULL) {
		char *more = xasprintf("%s# kernel arguments in %s%s%s\n", out,
				       plan->kargs_file,
				       plan->cmdline == NULL ? ""
				       : plan->tried.n > 0 ? "; the boot that "
				       "tries them gets:\n#   " : "; the "
				       "default entries' arguments become:"
				       "\n#   ",
				       plan->cmdline ? plan->cmdline : "");

		free(out);
		out = more;
	}
	if (plan->tried.n > 0) {
		cleanup_free char *tried = kcmdline_join(&plan->tried);
		char *more = xasprintf(
			"%s# one-shot: the next boot tries %s; the boots after "
			"it have the old\n# command line until `vmctl "
			"host-setup --confirm` keeps them (--permanent: at "
			"once)\n", out, tried);

		free(out);
		out = more;
	}

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

