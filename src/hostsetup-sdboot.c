// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup for systemd-boot: loader entries and /etc/kernel/cmdline,
 * unified kernel images and the tool that rebuilds them (see
 * hostsetup-sdboot.h).  Reads the root; writes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "vmctl/hostsetup-root.h"
#include "vmctl/hostsetup-sdboot.h"
#include "vmctl/kcmdline.h"
#include "vmctl/xalloc.h"

#define KERNEL_CMDLINE "/etc/kernel/cmdline"

static const char *const esps[] = { "/boot", "/efi", "/boot/efi" };

/* VALUE of the last uncommented KEY=VALUE line of TEXT (quotes
 * dropped), or NULL: kernel-install's install.conf format. */
static char *conf_value(const char *text, const char *key)
{
	size_t kl = strlen(key);
	char *value = NULL;

	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n");
		const char *p = l + strspn(l, " \t");

		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			const char *v = p + kl + 1;
			size_t vl = (size_t)(l + n - v);

			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= 2 && (*v == '"' || *v == '\'') &&
			    v[vl - 1] == *v)
				v++, vl -= 2;
			free(value);
			value = xstrndup(v, vl);
		}
		l += n + (l[n] == '\n');
	}
	return value;
}

/* Does a mkinitcpio preset build a UKI (an uncommented PRESET_uki=)? */
static bool mkinitcpio_uki(const char *root)
{
	struct strv presets = { 0 };
	bool uki = false;

	hs_list(root, "/etc/mkinitcpio.d", ".preset", &presets);
	for (size_t i = 0; i < presets.n && !uki; i++) {
		cleanup_free char *path = xasprintf("/etc/mkinitcpio.d/%s",
						    presets.v[i]);
		cleanup_free char *text = NULL;
		struct vmctl_error *ignored = NULL;

		if (hs_read(root, path, &text, NULL, &ignored) < 0 ||
		    text == NULL) {
			vmctl_error_free(ignored);
			continue;
		}
		for (const char *l = text; *l && !uki;) {
			size_t n = strcspn(l, "\n");
			const char *p = l + strspn(l, " \t");
			cleanup_free char *line = xstrndup(p, n - (size_t)(p - l));

			uki = *p != '#' && strstr(line, "_uki=") != NULL;
			l += n + (l[n] == '\n');
		}
	}
	strv_clear(&presets);
	return uki;
}

enum hs_uki hs_uki_detect(const char *root, char **why)
{
	cleanup_free char *conf = NULL, *layout = NULL;
	struct vmctl_error *ignored = NULL;

	*why = NULL;
	if (mkinitcpio_uki(root)) {
		*why = xstrdup("a mkinitcpio preset builds unified kernel "
			       "images (_uki=)");
		return HS_UKI_MKINITCPIO;
	}
	if (hs_read(root, "/etc/kernel/install.conf", &conf, NULL,
		    &ignored) < 0)
		vmctl_error_free(ignored);
	if (conf != NULL)
		layout = conf_value(conf, "layout");
	if (layout != NULL && strcmp(layout, "uki") == 0)
		*why = xstrdup("/etc/kernel/install.conf says layout=uki");
	else if (hs_exists(root, "/etc/kernel/uki.conf"))
		*why = xstrdup("/etc/kernel/uki.conf configures them");
	for (size_t i = 0; *why == NULL && i < 3; i++) {
		cleanup_free char *dir = xasprintf("%s/EFI/Linux", esps[i]);
		struct strv efis = { 0 };

		hs_list(root, dir, ".efi", &efis);
		if (efis.n > 0)
			*why = xasprintf("%s/%s is one", dir, efis.v[0]);
		strv_clear(&efis);
	}
	return *why ? HS_UKI_KERNEL_INSTALL : HS_UKI_NONE;
}

/* The kernel image of version KVER, or NULL. */
static char *kernel_image(const char *root, const char *kver)
{
	char *const forms[] = {
		xasprintf("/usr/lib/modules/%s/vmlinuz", kver),
		xasprintf("/lib/modules/%s/vmlinuz", kver),
		xasprintf("/boot/vmlinuz-%s", kver),
	};
	char *found = NULL;

	for (size_t i = 0; i < 3; i++) {
		if (found == NULL && hs_exists(root, forms[i]))
			found = forms[i];
		else
			free(forms[i]);
	}
	return found;
}

int hs_regen_uki(const char *root, struct strv **cmds, size_t *n,
		 struct vmctl_error **err)
{
	static const char *const mods[] = { "/usr/lib/modules",
					    "/lib/modules" };
	cleanup_free char *why = NULL;
	struct strv kvers = { 0 };
	size_t before = *n;

	switch (hs_uki_detect(root, &why)) {
	case HS_UKI_NONE:
		return 0;
	case HS_UKI_MKINITCPIO: {
		static const char *const c[] = { "mkinitcpio", "-P", NULL };

		hs_add_command(cmds, n, root, c);
		return 0;
	}
	case HS_UKI_KERNEL_INSTALL:
		break;
	}
	if (!hs_exists(root, "/usr/bin/kernel-install") &&
	    !hs_exists(root, "/bin/kernel-install"))
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
				       "this host boots unified kernel images "
				       "(%s), but has no kernel-install to "
				       "rebuild them with the new command "
				       "line", why);
	for (size_t d = 0; d < 2; d++) {
		struct strv names = { 0 };

		hs_list(root, mods[d], "", &names);
		for (size_t k = 0; k < names.n; k++)
			if (!strv_contains(&kvers, names.v[k]))
				strv_push(&kvers, names.v[k]);
		strv_clear(&names);
	}
	for (size_t k = 0; k < kvers.n; k++) {
		cleanup_free char *image = kernel_image(root, kvers.v[k]);
		const char *c[] = { "kernel-install", "add", kvers.v[k], image,
				    NULL };

		if (image != NULL)
			hs_add_command(cmds, n, root, c);
	}
	strv_clear(&kvers);
	if (*n == before)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "this host boots unified kernel images "
				       "(%s), but no installed kernel (a "
				       "vmlinuz under /usr/lib/modules/KVER "
				       "or /boot) to rebuild them from", why);
	return 0;
}

int hs_plan_sdboot(const char *root, struct hs_plan *plan,
		   const struct karg *kargs, size_t nk,
		   struct vmctl_error **err)
{
	struct strv entries = { 0 };
	mode_t mode = 0644;
	char *text = NULL;

	if (hs_read(root, KERNEL_CMDLINE, &text, &mode, err) < 0)
		return -1;
	if (text != NULL)
		hs_add_edit(plan, KERNEL_CMDLINE, text,
			    bootcfg_edit_cmdline(text, kargs, nk), mode);
	hs_loader_entries(root, &entries);
	for (size_t i = 0; i < entries.n; i++) {
		if (hs_read(root, entries.v[i], &text, &mode, err) < 0) {
			strv_clear(&entries);
			return -1;
		}
		if (text != NULL)
			hs_add_edit(plan, entries.v[i], text,
				    bootcfg_edit_entry(text, kargs, nk), mode);
	}
	strv_clear(&entries);
	return 0;
}

static bool runs(const struct hs_plan *plan, const char *program)
{
	for (size_t i = 0; i < plan->n_commands; i++) {
		const struct strv *c = &plan->commands[i];
		const char *p = c->n > 2 && strcmp(c->v[0], "chroot") == 0
			? c->v[2] : c->v[0];

		if (strcmp(p, program) == 0)
			return true;
	}
	return false;
}

int hs_plan_rebuild(const char *root, struct hs_plan *plan,
		    struct vmctl_error **err)
{
	cleanup_free char *why = NULL;
	enum hs_uki uki = hs_uki_detect(root, &why);
	bool cmdline = false, entry;

	struct strv entries = { 0 };

	/* loader entries read by the bootloader itself: edited by the plan
	 * where they lack the arguments */
	hs_loader_entries(root, &entries);
	entry = entries.n > 0;
	strv_clear(&entries);
	for (size_t i = 0; i < plan->n_edits; i++)
		cmdline |= strcmp(plan->edits[i].path, KERNEL_CMDLINE) == 0;
	if (uki != HS_UKI_NONE && plan->n_edits > 0) {
		struct strv *cmds = NULL;
		size_t n = 0;

		if (hs_regen_uki(root, &cmds, &n, err) < 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			const struct strv *c = &cmds[i];
			const char *prog = c->n > 2 &&
				strcmp(c->v[0], "chroot") == 0 ? c->v[2]
							       : c->v[0];

			if (strcmp(prog, "kernel-install") == 0 ||
			    !runs(plan, prog)) {
				plan->commands = xreallocarray(plan->commands,
					plan->n_commands + 1,
					sizeof(*plan->commands));
				plan->commands[plan->n_commands++] = cmds[i];
			} else {
				strv_clear(&cmds[i]);
			}
		}
		free(cmds);
		strv_pushf(&plan->notes, "unified kernel images (%s): rebuilt "
			   "with %s", why, uki == HS_UKI_MKINITCPIO
			   ? "mkinitcpio -P" : "kernel-install for each "
			   "installed kernel");
	}
	if (cmdline && !entry && !runs(plan, "kernel-install") &&
	    !(uki == HS_UKI_MKINITCPIO && runs(plan, "mkinitcpio")))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s would change, but nothing under %s "
				       "reads it: no loader entry to edit, no "
				       "unified kernel image to rebuild",
				       KERNEL_CMDLINE, root);
	return 0;
}
