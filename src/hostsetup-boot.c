// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup's bootloader planning: detect the bootloader of the target
 * root and put the kernel arguments where it reads them (GRUB's defaults,
 * grubby, systemd-boot's entries and /etc/kernel/cmdline, kernelstub).
 * Reads the root; writes nothing.
 */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/hostsetup-boot.h"
#include "vmctl/hostsetup-grub.h"
#include "vmctl/hostsetup-root.h"
#include "vmctl/hostsetup-sdboot.h"
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

/* The words of every "options" line of a loader entry. */
void hs_entry_words(const char *text, struct strv *words)
{
	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n");
		const char *p = l + strspn(l, " \t");

		if (strncmp(p, "options", 7) == 0 &&
		    (p[7] == ' ' || p[7] == '\t')) {
			cleanup_free char *rest = xstrndup(p + 8,
				n - (size_t)(p + 8 - l));

			kcmdline_split(rest, words);
		}
		l += n + (l[n] == '\n');
	}
}

/* kernelstub's own options: user.kernel_options in its JSON. */
static void kernelstub_words(const char *text, struct strv *words)
{
	cJSON *conf = cJSON_Parse(text), *opt;
	cJSON *user = cJSON_GetObjectItem(conf, "user");

	cJSON_ArrayForEach(opt, cJSON_GetObjectItem(user, "kernel_options"))
		if (cJSON_IsString(opt))
			strv_push(words, opt->valuestring);
	cJSON_Delete(conf);
}

int hs_boot_words(const char *root, enum hs_boot boot, struct strv *words,
		  struct vmctl_error **err)
{
	struct strv entries = { 0 };
	char *text = NULL;

	switch (boot) {
	case HS_BOOT_GRUB:
		return hs_grub_words(root, words, err);
	case HS_BOOT_KERNELSTUB:
		if (hs_read(root, KERNELSTUB_CONF, &text, NULL, err) < 0)
			return -1;
		if (text != NULL)
			kernelstub_words(text, words);
		free(text);
		return 0;
	case HS_BOOT_SDBOOT:
		if (hs_read(root, KERNEL_CMDLINE, &text, NULL, err) < 0)
			return -1;
		if (text != NULL)
			kcmdline_split(text, words);
		free(text);
		break;
	case HS_BOOT_GRUBBY:
		break;
	case HS_BOOT_NONE:
		return 0;
	}
	/* grubby and systemd-boot: every loader entry's options too */
	hs_loader_entries(root, &entries);
	for (size_t i = 0; i < entries.n; i++) {
		if (hs_read(root, entries.v[i], &text, NULL, err) < 0) {
			strv_clear(&entries);
			return -1;
		}
		if (text != NULL)
			hs_entry_words(text, words);
		free(text);
	}
	strv_clear(&entries);
	return 0;
}

/* The words kernelstub holds that set one of our keys to another value,
 * space-separated, for --delete-options. */
static char *stale_kernelstub_options(const struct strv *have,
				      const struct strv *want)
{
	struct strv stale = { 0 };
	char *out;

	for (size_t w = 0; w < have->n; w++)
		for (size_t i = 0; i < want->n; i++)
			if (kcmdline_same_key(have->v[w], want->v[i]) &&
			    !kcmdline_same_word(have->v[w], want->v[i]) &&
			    !strv_contains(&stale, have->v[w]))
				strv_push(&stale, have->v[w]);
	out = kcmdline_join(&stale);
	strv_clear(&stale);
	return out;
}

static int plan_grub(const char *root, struct hs_plan *plan,
		     struct vmctl_error **err)
{
	return hs_plan_grub(root, plan, plan->boot == HS_BOOT_GRUB
			    ? "GRUB_CMDLINE_LINUX_DEFAULT"
			    : "GRUB_CMDLINE_LINUX", err) < 0 ? -1 : 0;
}

/* grubby: the BLS entries of the kernels installed now. */
static int plan_grubby(const char *root, struct hs_plan *plan,
		       struct vmctl_error **err)
{
	struct strv entries = { 0 };
	bool all = true;

	if (plan_grub(root, plan, err) < 0)
		return -1;
	/* what boots is the entries; /etc/default/grub is for grub2-mkconfig */
	free(plan->kargs_file);
	free(plan->cmdline);
	plan->kargs_file = xstrdup("the loader entries, through grubby "
				   "(and /etc/default/grub)");
	plan->cmdline = NULL;
	hs_loader_entries(root, &entries);
	for (size_t i = 0; i < entries.n && all; i++) {
		cleanup_free char *e = NULL;
		struct strv words = { 0 };

		if (hs_read(root, entries.v[i], &e, NULL, err) < 0) {
			strv_clear(&entries);
			return -1;
		}
		hs_entry_words(e ? e : "", &words);
		all = kcmdline_has_all(&words, &plan->kargs);
		strv_clear(&words);
	}
	if ((!all || entries.n == 0) && plan->mode == HS_MODE_ONESHOT) {
		strv_clear(&entries);
		return hs_no_oneshot(plan, "grubby edits every entry for "
				     "good; vmctl has no one-shot entry for "
				     "it", err);
	}
	if (!all || entries.n == 0) {
		cleanup_free char *joined = kcmdline_join(&plan->kargs);
		cleanup_free char *args = xasprintf("--args=%s", joined);
		const char *const c[] = { "grubby", "--update-kernel=ALL",
					  args, NULL };

		hs_add_command(&plan->commands, &plan->n_commands, root, c);
	}
	strv_clear(&entries);
	return 0;
}

static int plan_kernelstub(const char *root, struct hs_plan *plan,
			   struct vmctl_error **err)
{
	cleanup_free char *text = NULL, *stale = NULL, *joined = NULL;
	struct strv have = { 0 };

	if (hs_read(root, KERNELSTUB_CONF, &text, NULL, err) < 0)
		return -1;
	if (text != NULL)
		kernelstub_words(text, &have);
	if (kcmdline_has_all(&have, &plan->kargs)) {
		strv_clear(&have);
		return 0;
	}
	if (plan->mode == HS_MODE_ONESHOT) {
		strv_clear(&have);
		return hs_no_oneshot(plan, "kernelstub writes its entries for "
				     "good", err);
	}
	/* kernelstub appends: other values of our keys must go first, or
	 * the kernel line would carry both. */
	stale = stale_kernelstub_options(&have, &plan->kargs);
	strv_clear(&have);
	joined = kcmdline_join(&plan->kargs);
	if (*stale) {
		const char *const d[] = { "kernelstub", "--delete-options",
					  stale, NULL };

		hs_add_command(&plan->commands, &plan->n_commands, root, d);
	}
	{
		const char *const c[] = { "kernelstub", "--add-options",
					  joined, NULL };

		hs_add_command(&plan->commands, &plan->n_commands, root, c);
	}
	return 0;
}

int hs_plan_boot(const char *root, struct hs_plan *plan,
		 const struct karg *kargs, size_t nk,
		 struct vmctl_error **err)
{
	switch (plan->boot) {
	case HS_BOOT_GRUB:
		return plan_grub(root, plan, err);
	case HS_BOOT_GRUBBY:
		return plan_grubby(root, plan, err);
	case HS_BOOT_SDBOOT:
		return hs_plan_sdboot(root, plan, kargs, nk, err);
	case HS_BOOT_KERNELSTUB:
		return plan_kernelstub(root, plan, err);
	case HS_BOOT_NONE: {
		cleanup_free char *joined = kcmdline_join(&plan->kargs);

		strv_pushf(&plan->notes, "no bootloader configuration found "
			   "under %s: add these kernel arguments yourself: %s",
			   root, joined);
		return 0;
	}
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
