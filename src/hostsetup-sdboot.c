// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup for systemd-boot: loader entries and /etc/kernel/cmdline,
 * unified kernel images and the tool that rebuilds them (see
 * hostsetup-sdboot.h).  Reads the root; writes nothing.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/hostsetup-boot.h"
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
	struct strv paths = { 0 }, texts = { 0 };
	bool uki = false;

	hs_texts(root, "/etc/mkinitcpio.d", ".preset", &paths, &texts);
	for (size_t i = 0; i < texts.n && !uki; i++) {
		for (const char *l = texts.v[i]; *l && !uki;) {
			size_t n = strcspn(l, "\n");
			const char *p = l + strspn(l, " \t");
			cleanup_free char *line = xstrndup(p, n - (size_t)(p - l));

			uki = *p != '#' && strstr(line, "_uki=") != NULL;
			l += n + (l[n] == '\n');
		}
	}
	strv_clear(&paths);
	strv_clear(&texts);
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

/* The entry loader.conf names as the default (its `default` glob, in
 * the ESP of the entries), or *why there is none to copy. */
static char *default_entry(const char *root, const struct strv *entries,
			   char **why)
{
	for (size_t i = 0; i < entries->n; i++) {
		const char *path = entries->v[i];
		const char *cut = strstr(path, "/entries/");
		cleanup_free char *conf = NULL, *text = NULL, *pattern = NULL;
		struct vmctl_error *ignored = NULL;

		conf = xasprintf("%.*s/loader.conf", (int)(cut - path), path);
		if (hs_read(root, conf, &text, NULL, &ignored) < 0)
			vmctl_error_free(ignored);
		for (const char *l = text; l != NULL && *l;) {
			size_t n = strcspn(l, "\n");
			const char *p = l + strspn(l, " \t");

			if (strncmp(p, "default", 7) == 0 &&
			    (p[7] == ' ' || p[7] == '\t')) {
				p += 7 + strspn(p + 7, " \t");
				free(pattern);
				pattern = xstrndup(p, strcspn(p, " \t\n"));
			}
			l += n + (l[n] == '\n');
		}
		if (pattern == NULL) {
			*why = xasprintf("%s names no default entry, so a new "
					 "entry could become the default", conf);
			return NULL;
		}
		if (fnmatch(pattern, HS_SDBOOT_TRY, 0) == 0 ||
		    fnmatch(pattern, "vmctl-try", 0) == 0) {
			*why = xasprintf("%s's default (%s) would take vmctl's "
					 "one-shot entry for good", conf,
					 pattern);
			return NULL;
		}
		for (size_t k = 0; k < entries->n; k++) {
			const char *name = strrchr(entries->v[k], '/') + 1;
			cleanup_free char *bare = xstrndup(name,
				strlen(name) - 5);

			if (strcmp(name, HS_SDBOOT_TRY) != 0 &&
			    (fnmatch(pattern, name, 0) == 0 ||
			     fnmatch(pattern, bare, 0) == 0))
				return xstrdup(entries->v[k]);
		}
		*why = xasprintf("no entry matches %s's default (%s)", conf,
				 pattern);
		return NULL;
	}
	*why = xstrdup("there is no loader entry to copy");
	return NULL;
}

/* The one-shot entry: the default one with the arguments, its title
 * saying so, and no sort-key (it must never sort as the default). */
static char *try_entry(const char *text, const struct karg *kargs, size_t nk)
{
	cleanup_free char *edited = bootcfg_edit_entry(text, kargs, nk);
	char *out = xstrdup("");
	bool titled = false;

	for (const char *l = edited; *l;) {
		size_t n = strcspn(l, "\n");
		const char *p = l + strspn(l, " \t");
		char *more;

		if (strncmp(p, "sort-key", 8) == 0) {
			l += n + (l[n] == '\n');
			continue;
		}
		if (strncmp(p, "title", 5) == 0 && !titled) {
			const char *t = p + 5 + strspn(p + 5, " \t");

			more = xasprintf("%stitle   vmctl: new kernel arguments, "
					 "once (%.*s)\n", out,
					 (int)(l + n - t), t);
			titled = true;
		} else {
			more = xasprintf("%s%.*s\n", out, (int)n, l);
		}
		free(out);
		out = more;
		l += n + (l[n] == '\n');
	}
	if (!titled) {
		char *more = xasprintf("title   vmctl: new kernel arguments, "
				       "once\n%s", out);

		free(out);
		out = more;
	}
	return out;
}

static int plan_try(const char *root, struct hs_plan *plan,
		    const struct strv *entries, const struct karg *kargs,
		    size_t nk, struct vmctl_error **err)
{
	cleanup_free char *why = NULL, *deflt = NULL, *path = NULL;
	cleanup_free char *text = NULL;
	struct strv words = { 0 };
	char *old = NULL;
	mode_t mode = 0644;

	if (hs_uki_detect(root, &why) != HS_UKI_NONE) {
		cleanup_free char *r = xasprintf("unified kernel images carry "
						 "their command line inside "
						 "(%s)", why);

		return hs_no_oneshot(plan, r, err);
	}
	deflt = default_entry(root, entries, &why);
	if (deflt == NULL)
		return hs_no_oneshot(plan, why, err);
	path = xasprintf("%.*s/%s", (int)(strrchr(deflt, '/') - deflt), deflt,
			 HS_SDBOOT_TRY);
	if (hs_read(root, deflt, &text, &mode, err) < 0 ||
	    hs_read(root, path, &old, NULL, err) < 0)
		return -1;
	hs_entry_words(text ? text : "", &words);
	for (size_t i = 0; i < plan->kargs.n; i++) {
		struct strv one = { 0 };

		strv_push(&one, plan->kargs.v[i]);
		if (!kcmdline_has_all(&words, &one))
			strv_push(&plan->tried, plan->kargs.v[i]);
		strv_clear(&one);
	}
	strv_clear(&words);
	free(plan->kargs_file);
	plan->kargs_file = xstrdup(path);
	free(plan->oneshot);
	plan->oneshot = xstrdup("bootctl set-oneshot " HS_SDBOOT_TRY);
	strv_clear(&plan->arm);
	strv_push(&plan->arm, "bootctl");
	strv_push(&plan->arm, "set-oneshot");
	strv_push(&plan->arm, HS_SDBOOT_TRY);
	if (hs_add_edit(plan, path, old, try_entry(text ? text : "", kargs,
						   nk), mode) > 0) {
		static const char *const c[] = { "bootctl", "set-oneshot",
						 HS_SDBOOT_TRY, NULL };

		hs_add_command(&plan->commands, &plan->n_commands, root, c);
		plan->armed = true;
	}
	if (kcmdline_has_all(&plan->running, &plan->tried))
		strv_push(&plan->notes, "the new kernel arguments are in "
			  "effect on this boot (the one-shot entry): if it "
			  "works, `vmctl host-setup --confirm` keeps them");
	else if (!plan->armed)
		strv_push(&plan->notes, "the one-shot entry is in place; "
			  "`bootctl set-oneshot " HS_SDBOOT_TRY "` arms it "
			  "again if its boot has come and gone");
	return 0;
}

int hs_plan_sdboot(const char *root, struct hs_plan *plan,
		   const struct karg *kargs, size_t nk,
		   struct vmctl_error **err)
{
	struct strv entries = { 0 };
	struct hs_plan edits = { 0 };
	mode_t mode = 0644;
	char *text = NULL;
	int ret = -1;

	/* the edits that write them for good, planned aside first */
	if (hs_read(root, KERNEL_CMDLINE, &text, &mode, err) < 0)
		return -1;
	if (text != NULL)
		hs_add_edit(&edits, KERNEL_CMDLINE, text,
			    bootcfg_edit_cmdline(text, kargs, nk), mode);
	hs_loader_entries(root, &entries);
	for (size_t i = 0; i < entries.n; i++) {
		const char *name = strrchr(entries.v[i], '/') + 1;

		if (hs_read(root, entries.v[i], &text, &mode, err) < 0)
			goto out;
		if (strcmp(name, HS_SDBOOT_TRY) == 0)
			hs_add_edit(&edits, entries.v[i], text, NULL, mode);
		else if (text != NULL)
			hs_add_edit(&edits, entries.v[i], text,
				    bootcfg_edit_entry(text, kargs, nk), mode);
	}
	if (plan->mode == HS_MODE_ONESHOT && edits.n_edits > 0 &&
	    !(edits.n_edits == 1 && edits.edits[0].new_text == NULL)) {
		ret = plan_try(root, plan, &entries, kargs, nk, err);
		goto out;
	}
	for (size_t i = 0; i < edits.n_edits; i++) {
		struct hs_edit *e = &edits.edits[i];

		hs_add_edit(plan, e->path, steal_pointer(&e->old_text),
			    steal_pointer(&e->new_text), e->mode);
	}
	ret = 0;
out:
	strv_clear(&entries);
	hostsetup_plan_clear(&edits);
	return ret;
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
