// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup's bootloader planning: detect the bootloader of the target
 * root and put the kernel arguments where it reads them (GRUB's defaults,
 * grubby, systemd-boot's entries and /etc/kernel/cmdline, kernelstub).
 * Reads the root; writes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "vmctl/hostsetup-boot.h"
#include "vmctl/hostsetup-root.h"
#include "vmctl/kcmdline.h"
#include "vmctl/xalloc.h"

#define GRUB_DEFAULT "/etc/default/grub"
#define KERNEL_CMDLINE "/etc/kernel/cmdline"
#define KERNELSTUB_CONF "/etc/kernelstub/configuration"

enum hs_boot hostsetup_detect_boot(const char *root)
{
	struct strv entries = { 0 };
	bool have_entries;

	if (hs_exists(root, KERNELSTUB_CONF))
		return HS_BOOT_KERNELSTUB;
	if (hs_exists(root, "/usr/sbin/grubby") ||
	    hs_exists(root, "/usr/bin/grubby"))
		return HS_BOOT_GRUBBY;
	hs_loader_entries(root, &entries);
	have_entries = entries.n > 0;
	strv_clear(&entries);
	if (hs_exists(root, GRUB_DEFAULT))
		return HS_BOOT_GRUB;
	if (hs_exists(root, KERNEL_CMDLINE) || have_entries)
		return HS_BOOT_SDBOOT;
	return HS_BOOT_NONE;
}

/* The commands that rebuild boot files from their configuration. */
void hs_regen_boot(const char *root, enum hs_boot boot,
			  struct strv **cmds, size_t *n)
{
	if (boot != HS_BOOT_GRUB)
		return;   /* the others boot from the files vmctl edits */
	if (hs_exists(root, "/usr/sbin/update-grub")) {
		static const char *const c[] = { "update-grub", NULL };

		hs_add_command(cmds, n, root, c);
	} else {
		const char *const c[] = {
			hs_exists(root, "/usr/sbin/grub2-mkconfig")
			? "grub2-mkconfig" : "grub-mkconfig", "-o",
			hs_exists(root, "/boot/grub2")
			? "/boot/grub2/grub.cfg" : "/boot/grub/grub.cfg",
			NULL };

		hs_add_command(cmds, n, root, c);
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
static char *stale_kernelstub_options(const char *text,
				      const struct karg *kargs, size_t nk)
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
			cleanup_free char *want = xasprintf("%s=%s",
				kargs[i].key, kargs[i].value);
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

int hs_plan_boot(const char *root, struct hs_plan *plan,
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

		if (hs_read(root, GRUB_DEFAULT, &text, &mode,
					err) < 0)
			return -1;
		if (text != NULL) {
			next = bootcfg_edit_grub(text, var, kargs, nk);
			changed = hs_add_edit(plan, GRUB_DEFAULT,
							  text, next, mode) > 0;
		}
		if (plan->boot == HS_BOOT_GRUB) {
			if (changed)
				hs_regen_boot(root, plan->boot,
						     &plan->commands,
						     &plan->n_commands);
			return 0;
		}
		/* grubby: the BLS entries, for the kernels installed now. */
		{
			struct strv entries = { 0 };
			bool all = true;

			hs_loader_entries(root, &entries);
			for (size_t i = 0; i < entries.n && all; i++) {
				cleanup_free char *e = NULL;

				if (hs_read(root, entries.v[i], &e,
							NULL, err) < 0) {
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
				hs_add_command(&plan->commands,
							   &plan->n_commands,
							   root, c);
			}
			strv_clear(&entries);
		}
		return 0;
	}
	case HS_BOOT_SDBOOT: {
		struct strv entries = { 0 };

		if (hs_read(root, KERNEL_CMDLINE, &text, &mode,
					err) < 0)
			return -1;
		if (text != NULL)
			hs_add_edit(plan, KERNEL_CMDLINE, text,
				 bootcfg_edit_cmdline(text, kargs, nk), mode);
		hs_loader_entries(root, &entries);
		for (size_t i = 0; i < entries.n; i++) {
			char *e = NULL;

			if (hs_read(root, entries.v[i], &e, &mode,
					err) < 0) {
				strv_clear(&entries);
				return -1;
			}
			hs_add_edit(plan, entries.v[i], e,
				 bootcfg_edit_entry(e, kargs, nk), mode);
		}
		strv_clear(&entries);
		return 0;
	}
	case HS_BOOT_KERNELSTUB:
		if (hs_read(root, KERNELSTUB_CONF, &text, NULL,
					err) < 0)
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
				hs_add_command(&plan->commands,
							   &plan->n_commands,
							   root, d);
			}
			hs_add_command(&plan->commands,
						   &plan->n_commands, root, c);
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
		hs_loader_entries(root, paths);
	if (boot == HS_BOOT_KERNELSTUB)
		strv_push(paths, KERNELSTUB_CONF);
}
