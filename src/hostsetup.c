// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup planning: which bootloader and initramfs system the target
 * root uses, and what each of their files must say so the selected
 * functions are on vfio-pci from boot.  Reads the root; writes nothing
 * (hostsetup-txn.c carries plans out).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/bootcfg.h"
#include "vmctl/diff.h"
#include "vmctl/fsutil.h"
#include "vmctl/hostsetup.h"
#include "vmctl/kcmdline.h"
#include "vmctl/quote.h"
#include "vmctl/xalloc.h"

#define MODPROBE_CONF "/etc/modprobe.d/vfio.conf"
#define GRUB_DEFAULT "/etc/default/grub"
#define KERNEL_CMDLINE "/etc/kernel/cmdline"
#define ITOOLS_MODULES "/etc/initramfs-tools/modules"
#define ITOOLS_HOOK "/etc/initramfs-tools/scripts/init-top/vmctl-vfio"
#define DRACUT_CONF "/etc/dracut.conf.d/10-vmctl-vfio.conf"
#define MKINITCPIO_CONF "/etc/mkinitcpio.conf"
#define KERNELSTUB_CONF "/etc/kernelstub/configuration"

/* The vfio modules an initramfs must carry, vfio_pci first. */
static const char *const vfio_modules[] = {
	"vfio_pci", "vfio", "vfio_iommu_type1", NULL,
};

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

static char *at_root(const char *root, const char *path)
{
	size_t len = strlen(root);

	if (strcmp(root, "/") == 0)
		return xstrdup(path);
	return xasprintf("%.*s%s", (int)(len && root[len - 1] == '/'
					 ? len - 1 : len), root, path);
}

static bool exists(const char *root, const char *path)
{
	cleanup_free char *p = at_root(root, path);
	struct stat st;

	return stat(p, &st) == 0;
}

/* A file's content, or NULL when it does not exist. */
static int read_target(const char *root, const char *path, char **out,
		       mode_t *mode, struct vmctl_error **err)
{
	cleanup_free char *p = at_root(root, path);
	size_t len;
	struct stat st;

	*out = NULL;
	if (stat(p, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 p);
	}
	if (mode != NULL)
		*mode = st.st_mode & 07777;
	return fs_read_file(p, 4u << 20, out, &len, VMCTL_EXIT_FAILURE, err);
}

/* The loader entries of a systemd-boot / BLS system, sorted. */
static void loader_entries(const char *root, struct strv *paths)
{
	static const char *const dirs[] = {
		"/boot/loader/entries", "/efi/loader/entries",
		"/boot/efi/loader/entries",
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		cleanup_free char *d = at_root(root, dirs[i]);
		DIR *dir = opendir(d);
		struct dirent *de;
		size_t first = paths->n;

		if (dir == NULL)
			continue;
		while ((de = readdir(dir)) != NULL) {
			size_t l = strlen(de->d_name);

			if (l > 5 && strcmp(de->d_name + l - 5, ".conf") == 0)
				strv_pushf(paths, "%s/%s", dirs[i],
					   de->d_name);
		}
		closedir(dir);
		for (size_t a = first; a < paths->n; a++)
			for (size_t b = a + 1; b < paths->n; b++)
				if (strcmp(paths->v[a], paths->v[b]) > 0) {
					char *t = paths->v[a];

					paths->v[a] = paths->v[b];
					paths->v[b] = t;
				}
	}
}

static enum hs_boot detect_boot(const char *root)
{
	struct strv entries = { 0 };
	bool have_entries;

	if (exists(root, KERNELSTUB_CONF))
		return HS_BOOT_KERNELSTUB;
	if (exists(root, "/usr/sbin/grubby") || exists(root, "/usr/bin/grubby"))
		return HS_BOOT_GRUBBY;
	loader_entries(root, &entries);
	have_entries = entries.n > 0;
	strv_clear(&entries);
	if (exists(root, GRUB_DEFAULT))
		return HS_BOOT_GRUB;
	if (exists(root, KERNEL_CMDLINE) || have_entries)
		return HS_BOOT_SDBOOT;
	return HS_BOOT_NONE;
}

static enum hs_initrd detect_initrd(const char *root)
{
	if (exists(root, MKINITCPIO_CONF))
		return HS_INITRD_MKINITCPIO;
	if (exists(root, "/etc/initramfs-tools"))
		return HS_INITRD_TOOLS;
	if (exists(root, "/etc/dracut.conf.d") || exists(root, "/etc/dracut.conf"))
		return HS_INITRD_DRACUT;
	return HS_INITRD_NONE;
}

/* "GenuineIntel", "AuthenticAMD" from PROC/cpuinfo. */
static char *cpu_vendor(const struct vmctl_env *env)
{
	cleanup_free char *path = xasprintf("%s/cpuinfo", env->proc);
	cleanup_free char *text = NULL;
	struct vmctl_error *ignored = NULL;
	const char *p;
	size_t len;

	if (fs_read_file(path, 16u << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return NULL;
	}
	p = strstr(text, "vendor_id");
	if (p == NULL || (p = strchr(p, ':')) == NULL)
		return NULL;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return xstrndup(p, strcspn(p, "\n"));
}

/* The module behind a driver: SYSFS/bus/pci/drivers/D/module, else D. */
static char *driver_module(const struct vmctl_env *env, const char *driver)
{
	cleanup_free char *link = xasprintf("%s/bus/pci/drivers/%s/module",
					    env->sysfs, driver);
	char target[4096];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	char *mod;

	if (n > 0) {
		const char *base;

		target[n] = '\0';
		base = strrchr(target, '/');
		mod = xstrdup(base ? base + 1 : target);
	} else {
		mod = xstrdup(driver);
	}
	for (char *p = mod; *p; p++)
		if (*p == '-')
			*p = '_';
	return mod;
}

/* ---- the plan ----------------------------------------------------------- */

static void add_command(struct strv **list, size_t *n, const char *root,
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

/* The commands that rebuild boot files from their configuration. */
static void regen_boot(const char *root, enum hs_boot boot,
		       struct strv **cmds, size_t *n)
{
	if (boot != HS_BOOT_GRUB)
		return;   /* the others boot from the files vmctl edits */
	if (exists(root, "/usr/sbin/update-grub")) {
		static const char *const c[] = { "update-grub", NULL };

		add_command(cmds, n, root, c);
	} else {
		const char *const c[] = {
			exists(root, "/usr/sbin/grub2-mkconfig")
			? "grub2-mkconfig" : "grub-mkconfig", "-o",
			exists(root, "/boot/grub2") ? "/boot/grub2/grub.cfg"
						    : "/boot/grub/grub.cfg",
			NULL };

		add_command(cmds, n, root, c);
	}
}

static void regen_initrd(const char *root, enum hs_initrd initrd,
			 struct strv **cmds, size_t *n)
{
	static const char *const tools[] = { "update-initramfs", "-u", "-k",
					     "all", NULL };
	static const char *const dracut[] = { "dracut", "-f",
					      "--regenerate-all", NULL };
	static const char *const mkinitcpio[] = { "mkinitcpio", "-P", NULL };

	switch (initrd) {
	case HS_INITRD_TOOLS:
		add_command(cmds, n, root, tools);
		break;
	case HS_INITRD_DRACUT:
		add_command(cmds, n, root, dracut);
		break;
	case HS_INITRD_MKINITCPIO:
		add_command(cmds, n, root, mkinitcpio);
		break;
	case HS_INITRD_NONE:
		break;
	}
}

void hostsetup_regen_commands(const char *root, enum hs_boot boot,
			      enum hs_initrd initrd, struct strv **cmds,
			      size_t *n)
{
	regen_boot(root, boot, cmds, n);
	regen_initrd(root, initrd, cmds, n);
}

enum hs_boot hostsetup_detect_boot(const char *root)
{
	return detect_boot(root);
}

enum hs_initrd hostsetup_detect_initrd(const char *root)
{
	return detect_initrd(root);
}

static int add_edit(struct hs_plan *plan, const char *path, char *old_text,
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

/* Append the lines a list-of-modules file lacks (initramfs-tools). */
static char *ensure_module_lines(const char *text)
{
	cleanup_free char *add = xstrdup("");
	bool need_header = true;

	for (size_t i = 0; vfio_modules[i] != NULL; i++) {
		bool have = false;

		for (const char *l = text; l && *l;) {
			size_t n = strcspn(l, "\n");
			cleanup_free char *line = xstrndup(l, n);
			char *w = line + strspn(line, " \t");

			w[strcspn(w, " \t#")] = '\0';
			for (char *p = w; *p; p++)
				if (*p == '-')
					*p = '_';
			if (strcmp(w, vfio_modules[i]) == 0)
				have = true;
			l += n + (l[n] == '\n');
		}
		if (!have) {
			char *more = xasprintf("%s%s%s\n", add, need_header
				? "# vmctl host-setup: vfio-pci before GPU "
				  "drivers\n" : "", vfio_modules[i]);

			free(add);
			add = more;
			need_header = false;
		}
	}
	if (*add == '\0')
		return xstrdup(text ? text : "");
	return xasprintf("%s%s%s", text ? text : "",
			 text && *text && text[strlen(text) - 1] != '\n'
			 ? "\n" : "", add);
}

/* MODULES=(...) in mkinitcpio.conf gets the vfio modules first. */
static char *ensure_mkinitcpio(const char *text)
{
	const char *line = NULL;

	for (const char *l = text; *l;) {
		if (strncmp(l, "MODULES=(", 9) == 0)
			line = l;
		l += strcspn(l, "\n");
		if (*l == '\n')
			l++;
	}
	if (line == NULL)
		return xasprintf("%s%sMODULES=(vfio_pci vfio vfio_iommu_type1)\n",
				 text, *text && text[strlen(text) - 1] != '\n'
				 ? "\n" : "");
	{
		const char *open = line + 9;
		const char *close = strchr(open, ')');
		cleanup_free char *inner = NULL, *add = xstrdup("");
		struct strv words = { 0 };

		if (close == NULL || close > line + strcspn(line, "\n"))
			return xstrdup(text);
		inner = xstrndup(open, (size_t)(close - open));
		kcmdline_split(inner, &words);
		for (size_t i = 0; vfio_modules[i] != NULL; i++) {
			bool have = false;

			for (size_t w = 0; w < words.n; w++)
				if (strcmp(words.v[w], vfio_modules[i]) == 0)
					have = true;
			if (!have) {
				char *more = xasprintf("%s%s ", add,
						       vfio_modules[i]);

				free(add);
				add = more;
			}
		}
		strv_clear(&words);
		if (*add == '\0')
			return xstrdup(text);
		if (*inner == '\0')
			add[strlen(add) - 1] = '\0';
		return xasprintf("%.*s%s%s", (int)(open - text), text, add,
				 open);
	}
}

static bool has_karg_words(const char *text, const struct strv *kargs)
{
	struct strv words = { 0 };
	bool all = true;

	kcmdline_split(text ? text : "", &words);
	for (size_t i = 0; i < kargs->n && all; i++) {
		bool found = false;

		for (size_t w = 0; w < words.n; w++) {
			/* words may carry quotes or JSON punctuation */
			if (strstr(words.v[w], kargs->v[i]) != NULL)
				found = true;
		}
		all = found;
	}
	strv_clear(&words);
	return all;
}

/*
 * The options in kernelstub's configuration (JSON strings) that set one of
 * our keys to another value, space-separated, for --delete-options.
 */
static char *stale_kernelstub_options(const char *text, const struct karg *kargs,
				      size_t nk)
{
	char *out = xstrdup("");

	for (const char *p = strchr(text, '"'); p != NULL;) {
		const char *end = strchr(p + 1, '"');
		cleanup_free char *word = NULL;

		if (end == NULL)
			break;
		word = xstrndup(p + 1, (size_t)(end - p - 1));
		for (size_t i = 0; i < nk; i++) {
			struct strv one = { 0 };
			cleanup_free char *want = xasprintf("%s=%s", kargs[i].key,
							    kargs[i].value);
			bool same_key, same;

			strv_push(&one, word);
			same_key = kcmdline_get(&one, kargs[i].key) != NULL;
			same = strcmp(word, want) == 0;
			strv_clear(&one);
			if (same_key && !same && !strstr(out, word)) {
				char *more = xasprintf("%s%s%s", out,
						       *out ? " " : "", word);

				free(out);
				out = more;
			}
		}
		p = strchr(end + 1, '"');
	}
	return out;
}

static int plan_boot(const char *root, struct hs_plan *plan,
		     const struct karg *kargs, size_t nk,
		     struct vmctl_error **err)
{
	cleanup_free char *joined = kcmdline_join(&plan->kargs);
	char *text = NULL, *next;
	mode_t mode = 0644;
	bool changed = false;

	switch (plan->boot) {
	case HS_BOOT_GRUB:
	case HS_BOOT_GRUBBY: {
		const char *var = plan->boot == HS_BOOT_GRUB
			? "GRUB_CMDLINE_LINUX_DEFAULT" : "GRUB_CMDLINE_LINUX";

		if (read_target(root, GRUB_DEFAULT, &text, &mode, err) < 0)
			return -1;
		if (text != NULL) {
			next = bootcfg_edit_grub(text, var, kargs, nk);
			changed = add_edit(plan, GRUB_DEFAULT, text, next,
					   mode) > 0;
		}
		if (plan->boot == HS_BOOT_GRUB) {
			if (changed)
				regen_boot(root, plan->boot, &plan->commands,
					   &plan->n_commands);
			return 0;
		}
		/* grubby: the BLS entries, for the kernels installed now. */
		{
			struct strv entries = { 0 };
			bool all = true;

			loader_entries(root, &entries);
			for (size_t i = 0; i < entries.n && all; i++) {
				cleanup_free char *e = NULL;

				if (read_target(root, entries.v[i], &e, NULL,
						err) < 0) {
					strv_clear(&entries);
					return -1;
				}
				all = has_karg_words(e, &plan->kargs);
			}
			if (!all || entries.n == 0) {
				cleanup_free char *args = xasprintf("--args=%s",
								    joined);
				const char *const c[] = {
					"grubby", "--update-kernel=ALL", args,
					NULL };
				add_command(&plan->commands, &plan->n_commands,
					    root, c);
			}
			strv_clear(&entries);
		}
		return 0;
	}
	case HS_BOOT_SDBOOT: {
		struct strv entries = { 0 };

		if (read_target(root, KERNEL_CMDLINE, &text, &mode, err) < 0)
			return -1;
		if (text != NULL)
			add_edit(plan, KERNEL_CMDLINE, text,
				 bootcfg_edit_cmdline(text, kargs, nk), mode);
		loader_entries(root, &entries);
		for (size_t i = 0; i < entries.n; i++) {
			char *e = NULL;

			if (read_target(root, entries.v[i], &e, &mode,
					err) < 0) {
				strv_clear(&entries);
				return -1;
			}
			add_edit(plan, entries.v[i], e,
				 bootcfg_edit_entry(e, kargs, nk), mode);
		}
		strv_clear(&entries);
		return 0;
	}
	case HS_BOOT_KERNELSTUB:
		if (read_target(root, KERNELSTUB_CONF, &text, NULL, err) < 0)
			return -1;
		if (!has_karg_words(text, &plan->kargs)) {
			/* kernelstub appends: other values of our keys must go
			 * first, or the kernel line would carry both. */
			cleanup_free char *stale = stale_kernelstub_options(
				text ? text : "", kargs, nk);
			const char *const c[] = { "kernelstub", "--add-options",
						  joined, NULL };

			if (*stale) {
				const char *const d[] = {
					"kernelstub", "--delete-options", stale,
					NULL };
				add_command(&plan->commands, &plan->n_commands,
					    root, d);
			}
			add_command(&plan->commands, &plan->n_commands, root,
				    c);
		}
		free(text);
		return 0;
	case HS_BOOT_NONE:
		strv_pushf(&plan->notes, "no bootloader configuration found "
			   "under %s: add these kernel arguments yourself: %s",
			   root, joined);
		return 0;
	}
	return 0;
}

void hostsetup_command_files(const char *root, enum hs_boot boot,
			     struct strv *paths)
{
	if (boot == HS_BOOT_GRUBBY || boot == HS_BOOT_KERNELSTUB)
		loader_entries(root, paths);
	if (boot == HS_BOOT_KERNELSTUB)
		strv_push(paths, KERNELSTUB_CONF);
}

static char *hook_script(const struct pci_function *const *fns, size_t n,
			 const bool *by_address)
{
	cleanup_free char *list = xstrdup("");

	for (size_t i = 0; i < n; i++) {
		char a[PCI_ADDR_STRLEN];
		char *more;

		if (!by_address[i])
			continue;
		more = xasprintf("%s %s", list, pci_addr_format(&fns[i]->addr,
								a));
		free(list);
		list = more;
	}
	return xasprintf(
		"#!/bin/sh\n"
		"# Written by vmctl host-setup. These functions share their "
		"ids with devices\n# the host keeps, so vfio-pci gets them by "
		"address, before any driver loads.\n"
		"PREREQ=\"\"\n"
		"prereqs() { echo \"$PREREQ\"; }\n"
		"case \"$1\" in prereqs) prereqs; exit 0 ;; esac\n"
		"pci=/sys/bus/pci\n"
		"for dev in%s; do\n"
		"\td=$pci/devices/$dev\n"
		"\techo vfio-pci > $d/driver_override\n"
		"\t# A driver that loaded first (udev runs early) gives it up.\n"
		"\tif [ -e $d/driver ] && [ \"$(basename \"$(readlink $d/driver)\")\" != vfio-pci ]; then\n"
		"\t\techo $dev > $d/driver/unbind\n"
		"\tfi\n"
		"\techo $dev > $pci/drivers_probe 2>/dev/null || true\n"
		"done\n", list);
}

static int plan_initrd(const struct vmctl_env *env, const char *root,
		       const struct pci_function *const *fns, size_t n,
		       const bool *by_address, bool any_by_address,
		       struct hs_plan *plan, bool modprobe_changed,
		       struct vmctl_error **err)
{
	char *text = NULL;
	mode_t mode = 0644;
	bool changed = modprobe_changed;

	(void)env;
	switch (plan->initrd) {
	case HS_INITRD_TOOLS: {
		if (read_target(root, ITOOLS_MODULES, &text, &mode, err) < 0)
			return -1;
		changed |= add_edit(plan, ITOOLS_MODULES, text,
				    ensure_module_lines(text), mode) > 0;
		if (any_by_address) {
			if (read_target(root, ITOOLS_HOOK, &text, NULL,
					err) < 0)
				return -1;
			changed |= add_edit(plan, ITOOLS_HOOK, text,
					    hook_script(fns, n, by_address),
					    0755) > 0;
		}
		if (changed)
			regen_initrd(root, plan->initrd, &plan->commands,
				     &plan->n_commands);
		return 0;
	}
	case HS_INITRD_DRACUT:
		if (read_target(root, DRACUT_CONF, &text, NULL, err) < 0)
			return -1;
		changed |= add_edit(plan, DRACUT_CONF, text, xstrdup(
			"# Written by vmctl host-setup: vfio-pci in the "
			"initramfs, before GPU drivers.\n"
			"force_drivers+=\" vfio_pci vfio vfio_iommu_type1 \"\n"),
			0644) > 0;
		if (changed)
			regen_initrd(root, plan->initrd, &plan->commands,
				     &plan->n_commands);
		break;
	case HS_INITRD_MKINITCPIO:
		if (read_target(root, MKINITCPIO_CONF, &text, &mode, err) < 0)
			return -1;
		changed |= add_edit(plan, MKINITCPIO_CONF, text,
				    ensure_mkinitcpio(text), mode) > 0;
		if (changed)
			regen_initrd(root, plan->initrd, &plan->commands,
				     &plan->n_commands);
		break;
	case HS_INITRD_NONE:
		strv_pushf(&plan->notes, "no initramfs system found under %s: "
			   "make sure vfio_pci loads before the GPU's driver",
			   root);
		break;
	}
	if (any_by_address)
		strv_pushf(&plan->notes, "binding by address at boot is "
			   "written for initramfs-tools only; on %s run "
			   "`vmctl bind` after boot",
			   hs_initrd_name(plan->initrd));
	return 0;
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
	cleanup_free char *vendor = cpu_vendor(env);
	cleanup_free bool *by_address = xcalloc(n ? n : 1, sizeof(bool));
	struct strv ids = { 0 }, modules = { 0 };
	struct karg *kargs = NULL;
	char *conf = NULL, *old = NULL;
	bool any_by_address = false, modprobe_changed;
	size_t nk = 0;

	plan.boot = detect_boot(root);
	plan.initrd = detect_initrd(root);

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
			cleanup_free char *m = driver_module(env, f->driver);
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
		cleanup_free char *m = driver_module(env, fns[i]->driver);
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

	/* modprobe.d */
	conf = xstrdup("# Written by vmctl host-setup: these PCI functions "
		       "go to vfio-pci at boot.\n"
		       "# `vmctl host-setup --undo` puts the host back as it "
		       "was.\n");
	if (plan.ids != NULL) {
		char *more = xasprintf("%soptions vfio-pci ids=%s\n", conf,
				       plan.ids);

		free(conf);
		conf = more;
	}
	for (size_t k = 0; k < modules.n; k++) {
		char *more = xasprintf("%ssoftdep %s pre: vfio-pci\n", conf,
				       modules.v[k]);

		free(conf);
		conf = more;
	}
	if (read_target(root, MODPROBE_CONF, &old, NULL, err) < 0)
		goto fail;
	/* Functions already on vfio-pci no longer show their own driver:
	 * keep the softdeps an earlier run wrote for them. */
	for (const char *l = old; l != NULL && *l;) {
		size_t len = strcspn(l, "\n");
		char mod[128];

		if (sscanf(l, "softdep %127s pre: vfio-pci", mod) == 1) {
			bool have = false;

			for (size_t k = 0; k < modules.n; k++)
				have |= strcmp(modules.v[k], mod) == 0;
			if (!have) {
				char *more;

				strv_push(&modules, mod);
				more = xasprintf("%ssoftdep %s pre: vfio-pci\n",
						 conf, mod);
				free(conf);
				conf = more;
			}
		}
		l += len + (l[len] == '\n');
	}
	modprobe_changed = add_edit(&plan, MODPROBE_CONF, old, conf, 0644) > 0;
	conf = NULL;

	if (plan_boot(root, &plan, kargs, nk, err) < 0 ||
	    plan_initrd(env, root, fns, n, by_address, any_by_address, &plan,
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
	free(conf);
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
