// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup's module planning: /etc/modprobe.d/vfio.conf, and the
 * initramfs system that must load vfio-pci before the GPU's drivers
 * (initramfs-tools, dracut, mkinitcpio).  Reads the root; writes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/bootcfg.h"
#include "vmctl/hostsetup-initrd.h"
#include "vmctl/hostsetup-root.h"
#include "vmctl/kcmdline.h"
#include "vmctl/xalloc.h"

#define MODPROBE_DIR "/etc/modprobe.d"
#define MODPROBE_CONF "/etc/modprobe.d/vfio.conf"
#define ITOOLS_MODULES "/etc/initramfs-tools/modules"
#define ITOOLS_HOOK "/etc/initramfs-tools/scripts/init-top/vmctl-vfio"
#define DRACUT_CONF "/etc/dracut.conf.d/10-vmctl-vfio.conf"
#define MKINITCPIO_CONF "/etc/mkinitcpio.conf"

/* The vfio modules an initramfs must carry, vfio_pci first. */
static const char *const vfio_modules[] = {
	"vfio_pci", "vfio", "vfio_iommu_type1", NULL,
};

enum hs_initrd hostsetup_detect_initrd(const char *root)
{
	if (hs_exists(root, MKINITCPIO_CONF))
		return HS_INITRD_MKINITCPIO;
	if (hs_exists(root, "/etc/initramfs-tools"))
		return HS_INITRD_TOOLS;
	if (hs_exists(root, "/etc/dracut.conf.d") ||
	    hs_exists(root, "/etc/dracut.conf"))
		return HS_INITRD_DRACUT;
	return HS_INITRD_NONE;
}

void hs_regen_initrd(const char *root, enum hs_initrd initrd,
			    struct strv **cmds, size_t *n)
{
	static const char *const tools[] = { "update-initramfs", "-u", "-k",
					     "all", NULL };
	static const char *const dracut[] = { "dracut", "-f",
					      "--regenerate-all", NULL };
	static const char *const mkinitcpio[] = { "mkinitcpio", "-P", NULL };

	switch (initrd) {
	case HS_INITRD_TOOLS:
		hs_add_command(cmds, n, root, tools);
		break;
	case HS_INITRD_DRACUT:
		hs_add_command(cmds, n, root, dracut);
		break;
	case HS_INITRD_MKINITCPIO:
		hs_add_command(cmds, n, root, mkinitcpio);
		break;
	case HS_INITRD_NONE:
		break;
	}
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

/* The module an `options` or `softdep` line is about, normalised ('-'
 * as '_'), and where the rest of the line starts; NULL if another. */
static char *line_module(const char *line, const char *keyword,
			 const char **rest)
{
	const char *p = line + strspn(line, " \t"), *m;
	size_t kl = strlen(keyword), n;
	char *mod;

	if (strncmp(p, keyword, kl) != 0 || (p[kl] != ' ' && p[kl] != '\t'))
		return NULL;
	p += kl;
	p += strspn(p, " \t");
	m = p;
	n = strcspn(m, " \t");
	mod = xstrndup(m, n);
	for (char *c = mod; *c; c++)
		if (*c == '-')
			*c = '_';
	*rest = m + n;
	return mod;
}

/* TEXT with ids= of every `options vfio-pci ... ids=` line set to IDS;
 * *found when there was one.  The rest of each line stays. */
static char *set_option_ids(const char *text, const char *ids, bool *found)
{
	const struct karg want = { "ids", ids };
	char *out = xstrdup("");

	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n");
		cleanup_free char *line = xstrndup(l, n);
		cleanup_free char *mod = NULL, *edited = NULL;
		const char *rest = NULL;
		struct strv words = { 0 };
		char *more;

		mod = line_module(line, "options", &rest);
		if (mod != NULL && strcmp(mod, "vfio_pci") == 0) {
			kcmdline_split(rest, &words);
			if (kcmdline_get(&words, "ids") != NULL) {
				cleanup_free char *r = bootcfg_edit_words(
					rest, &want, 1);

				edited = xasprintf("%.*s%s",
						   (int)(rest - line), line, r);
				*found = true;
			}
			strv_clear(&words);
		}
		more = xasprintf("%s%s%s", out, edited ? edited : line,
				 l[n] == '\n' ? "\n" : "");
		free(out);
		out = more;
		l += n + (l[n] == '\n');
	}
	return out;
}

/* Does TEXT hold a softdep that loads vfio-pci before MODULE? */
static bool has_softdep(const char *text, const char *module)
{
	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n");
		cleanup_free char *line = xstrndup(l, n);
		cleanup_free char *mod = NULL;
		const char *rest = NULL;

		mod = line_module(line, "softdep", &rest);
		if (mod != NULL && strcmp(mod, module) == 0 &&
		    (strstr(rest, " vfio-pci") || strstr(rest, " vfio_pci")))
			return true;
		l += n + (l[n] == '\n');
	}
	return false;
}

void hs_modprobe_ids(const char *root, struct strv *ids)
{
	struct strv paths = { 0 }, texts = { 0 };

	hs_texts(root, MODPROBE_DIR, ".conf", &paths, &texts);
	for (size_t i = 0; i < texts.n; i++) {
		for (const char *l = texts.v[i]; *l;) {
			size_t n = strcspn(l, "\n");
			cleanup_free char *line = xstrndup(l, n);
			cleanup_free char *mod = NULL;
			const char *rest = NULL, *v;
			struct strv words = { 0 };

			mod = line_module(line, "options", &rest);
			if (mod != NULL && strcmp(mod, "vfio_pci") == 0) {
				kcmdline_split(rest, &words);
				v = kcmdline_get(&words, "ids");
				if (v != NULL)
					hs_ids_merge(ids, v);
				strv_clear(&words);
			}
			l += n + (l[n] == '\n');
		}
	}
	strv_clear(&paths);
	strv_clear(&texts);
}

int hs_plan_modprobe(const char *root, struct hs_plan *plan,
		     const struct strv *modules, bool *changed,
		     struct vmctl_error **err)
{
	struct strv names = { 0 };
	char *conf = NULL, *all = xstrdup("");
	bool found = false, existed;

	*changed = false;
	/* ids= wherever vfio-pci's options already set them */
	hs_list(root, MODPROBE_DIR, ".conf", &names);
	for (size_t i = 0; i < names.n; i++) {
		cleanup_free char *path = xasprintf("%s/%s", MODPROBE_DIR,
						    names.v[i]);
		char *text = NULL, *more;
		mode_t mode = 0644;

		if (hs_read(root, path, &text, &mode, err) < 0)
			goto fail;
		if (text == NULL)
			continue;
		more = xasprintf("%s%s\n", all, text);
		free(all);
		all = more;
		if (strcmp(path, MODPROBE_CONF) == 0) {
			conf = text;
			continue;
		}
		if (plan->ids == NULL) {
			free(text);
			continue;
		}
		*changed |= hs_add_edit(plan, path, text,
					set_option_ids(text, plan->ids,
						       &found), mode) > 0;
	}
	strv_clear(&names);
	existed = conf != NULL;
	if (conf == NULL)
		conf = xstrdup("# Written by vmctl host-setup: these PCI "
			       "functions go to vfio-pci at boot.\n"
			       "# `vmctl host-setup --undo` puts the host "
			       "back as it was.\n");
	{
		char *next = plan->ids ? set_option_ids(conf, plan->ids, &found)
				       : xstrdup(conf);

		if (plan->ids != NULL && !found) {
			char *more = xasprintf("%s%soptions vfio-pci ids=%s\n",
				next, *next && next[strlen(next) - 1] != '\n'
				? "\n" : "", plan->ids);

			free(next);
			next = more;
		}
		for (size_t k = 0; k < modules->n; k++) {
			char *more;

			if (has_softdep(all, modules->v[k]))
				continue;
			more = xasprintf("%ssoftdep %s pre: vfio-pci\n", next,
					 modules->v[k]);
			free(next);
			next = more;
		}
		*changed |= hs_add_edit(plan, MODPROBE_CONF,
					existed ? conf : NULL, next, 0644) > 0;
		if (!existed)
			free(conf);
	}
	free(all);
	return 0;
fail:
	strv_clear(&names);
	free(conf);
	free(all);
	return -1;
}

/*
 * The init-top script that binds functions by address.  It is a /bin/sh
 * script the initramfs runs (vmctl runs no shell).  An address is only a
 * place: each is bound only while the device there has the vendor,
 * device and subsystem ids host-setup saw, so a card moved to another
 * slot, or another device in its place (the root disk's controller), is
 * left to its driver.  VMCTL_HOOK_SYSFS points it at a fake sysfs in the
 * tests; the initramfs never sets it.
 */
static char *hook_script(const struct pci_function *const *fns, size_t n,
			 const bool *by_address)
{
	cleanup_free char *calls = xstrdup("");

	for (size_t i = 0; i < n; i++) {
		const struct pci_function *f = fns[i];
		char a[PCI_ADDR_STRLEN];
		char *more;

		if (!by_address[i])
			continue;
		more = xasprintf("%sbind_if_same %s 0x%04x 0x%04x 0x%04x "
				 "0x%04x\n",
				 calls, pci_addr_format(&f->addr, a),
				 f->vendor_id, f->device_id,
				 f->subsys_vendor_id, f->subsys_device_id);
		free(calls);
		calls = more;
	}
	return xasprintf(
		"#!/bin/sh\n"
		"# Written by vmctl host-setup. These functions share their "
		"ids with devices\n# the host keeps, so vfio-pci gets them by "
		"address, before any driver loads,\n# and only while the "
		"device at the address has the ids host-setup saw there:\n"
		"# a card moved to another slot, or another device in its "
		"place, is left alone.\n"
		"PREREQ=\"\"\n"
		"prereqs() { echo \"$PREREQ\"; }\n"
		"case \"$1\" in prereqs) prereqs; exit 0 ;; esac\n"
		"pci=${VMCTL_HOOK_SYSFS:-/sys}/bus/pci\n"
		"# bind_if_same ADDRESS VENDOR DEVICE SUBSYSTEM_VENDOR "
		"SUBSYSTEM_DEVICE\n"
		"bind_if_same() {\n"
		"\td=$pci/devices/$1\n"
		"\tfor want in \"vendor $2\" \"device $3\" \"subsystem_vendor $4\" "
		"\"subsystem_device $5\"; do\n"
		"\t\tfile=${want%%%% *}\n"
		"\t\thave=$(cat \"$d/$file\" 2>/dev/null)\n"
		"\t\tif [ \"$have\" != \"${want#* }\" ]; then\n"
		"\t\t\techo \"vmctl-vfio: $1: $file is ${have:-missing}, not "
		"${want#* }: not the device host-setup saw there; left alone\" "
		">&2\n"
		"\t\t\treturn 0\n"
		"\t\tfi\n"
		"\tdone\n"
		"\techo vfio-pci > \"$d/driver_override\"\n"
		"\t# A driver that loaded first (udev runs early) gives it up.\n"
		"\tif [ -e \"$d/driver\" ] && [ \"$(basename \"$(readlink "
		"\"$d/driver\")\")\" != vfio-pci ]; then\n"
		"\t\techo \"$1\" > \"$d/driver/unbind\"\n"
		"\tfi\n"
		"\techo \"$1\" > \"$pci/drivers_probe\" 2>/dev/null || true\n"
		"}\n"
		"%s", calls);
}

int hs_plan_initrd(const char *root,
			  const struct pci_function *const *fns, size_t n,
			  const bool *by_address, bool any_by_address,
			  struct hs_plan *plan, bool modprobe_changed,
			  struct vmctl_error **err)
{
	char *text = NULL;
	mode_t mode = 0644;
	bool changed = modprobe_changed;

	switch (plan->initrd) {
	case HS_INITRD_TOOLS: {
		if (hs_read(root, ITOOLS_MODULES, &text, &mode, err) < 0)
			return -1;
		changed |= hs_add_edit(plan, ITOOLS_MODULES, text,
				    ensure_module_lines(text), mode) > 0;
		if (any_by_address) {
			if (hs_read(root, ITOOLS_HOOK, &text, NULL,
					err) < 0)
				return -1;
			changed |= hs_add_edit(plan, ITOOLS_HOOK, text,
					    hook_script(fns, n, by_address),
					    0755) > 0;
		}
		if (changed)
			hs_regen_initrd(root, plan->initrd, &plan->commands,
				     &plan->n_commands);
		return 0;
	}
	case HS_INITRD_DRACUT:
		if (hs_read(root, DRACUT_CONF, &text, NULL, err) < 0)
			return -1;
		changed |= hs_add_edit(plan, DRACUT_CONF, text, xstrdup(
			"# Written by vmctl host-setup: vfio-pci in the "
			"initramfs, before GPU drivers.\n"
			"force_drivers+=\" vfio_pci vfio vfio_iommu_type1 \"\n"),
			0644) > 0;
		if (changed)
			hs_regen_initrd(root, plan->initrd, &plan->commands,
				     &plan->n_commands);
		break;
	case HS_INITRD_MKINITCPIO:
		if (hs_read(root, MKINITCPIO_CONF, &text, &mode, err) < 0)
			return -1;
		changed |= hs_add_edit(plan, MKINITCPIO_CONF, text,
				    ensure_mkinitcpio(text), mode) > 0;
		if (changed)
			hs_regen_initrd(root, plan->initrd, &plan->commands,
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
