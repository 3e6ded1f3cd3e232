// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl host-setup [SELECTOR...] [--dry-run] [--now] [--permanent] [--yes]
 *                  [--force] [--root DIR]
 * vmctl host-setup --confirm | --undo [--force] [--root DIR] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/cmd.h"
#include "vmctl/fsutil.h"
#include "vmctl/gpu.h"
#include "vmctl/gpusel.h"
#include "vmctl/hostsetup.h"
#include "vmctl/kcmdline.h"
#include "vmctl/pci.h"
#include "vmctl/vfio.h"
#include "vmctl/xalloc.h"

struct options {
	bool dry_run, now, undo, yes, force, permanent, confirm;
	const char *root;
};

static bool confirm(void)
{
	char answer[16];

	fputs("Apply these changes? [y/N] ", stderr);
	fflush(stderr);
	if (fgets(answer, sizeof(answer), stdin) == NULL)
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

static int undo(struct vmctl_env *env, const struct options *o,
		struct vmctl_error **err)
{
	bool nothing;

	if (hostsetup_undo(env, o->root, o->force, &nothing, err) < 0)
		return -1;
	if (env->verbosity >= 0)
		puts(nothing ? "Nothing to undo: host-setup has not changed "
			       "this host."
			     : "Took out everything host-setup put in and "
			       "rebuilt the boot files. Reboot to return to "
			       "the old kernel arguments.");
	return VMCTL_EXIT_OK;
}

/*
 * --confirm: the selectors are the slots host-setup recorded, and the
 * arguments it tried must be in effect on this boot (the one-shot boot
 * came up), unless --force.  *selectors: one address a slot.
 */
static int confirm_selectors(const struct vmctl_env *env,
			     const struct options *o, struct strv *selectors,
			     bool *done, struct vmctl_error **err)
{
	struct hs_state st = { 0 };
	struct strv running = { 0 };
	int ret = -1;

	*done = false;
	if (hostsetup_state_read(env, o->root, &st, err) < 0)
		return -1;
	if (!st.exists) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "nothing to "
				"confirm: host-setup has not changed %s",
				o->root);
		goto out;
	}
	if (!st.oneshot) {
		if (env->verbosity >= 0)
			puts("Nothing to confirm: the kernel arguments are "
			     "permanent already.");
		*done = true;
		ret = 0;
		goto out;
	}
	{
		cleanup_free char *path = xasprintf("%s/cmdline", env->proc);
		cleanup_free char *text = NULL;
		struct vmctl_error *ignored = NULL;
		size_t len;

		if (fs_read_file(path, 1u << 20, &text, &len,
				 VMCTL_EXIT_FAILURE, &ignored) == 0)
			kcmdline_split(text, &running);
		vmctl_error_free(ignored);
	}
	if (!o->force && !kcmdline_has_all(&running, &st.tried)) {
		cleanup_free char *want = kcmdline_join(&st.tried);

		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "the kernel "
				"arguments host-setup tries (%s) are not in "
				"effect on this boot: reboot once (the next "
				"boot tries them), check it with `vmctl "
				"host-check`, then --confirm (--force keeps "
				"them without that)", want);
		goto out;
	}
	for (size_t i = 0; i < st.addresses.n; i++) {
		const char *a = st.addresses.v[i];
		bool seen = false;

		/* one address a slot: "DDDD:BB:DD." */
		for (size_t k = 0; k < selectors->n; k++)
			seen |= strncmp(selectors->v[k], a,
					strcspn(a, ".")) == 0;
		if (!seen)
			strv_push(selectors, a);
	}
	ret = 0;
out:
	strv_clear(&running);
	hostsetup_state_clear(&st);
	return ret;
}

static const struct option options[] = {
	{ "dry-run", no_argument, NULL, 'n' },
	{ "now", no_argument, NULL, 'N' },
	{ "undo", no_argument, NULL, 'u' },
	{ "yes", no_argument, NULL, 'y' },
	{ "force", no_argument, NULL, 'f' },
	{ "permanent", no_argument, NULL, 'P' },
	{ "confirm", no_argument, NULL, 'C' },
	{ "root", required_argument, NULL, 'r' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_host_setup_exec(struct vmctl_env *env, int argc, char **argv,
			       struct vmctl_error **err)
{
	struct options o = { .root = "/" };
	cleanup_free char *root_real = NULL;
	struct pci_host host = { 0 };
	struct gpu_list gpus = { 0 };
	struct hs_plan plan = { 0 };
	struct vfio_plan bind = { 0 };
	struct gpusel sel = { 0 };
	struct strv selectors = { 0 };
	const struct pci_function *const *fns = NULL;
	size_t n_fns = 0;
	int opt, ret = -1;

	while ((opt = cmd_getopt(&cmd_host_setup_entry, env, argc, argv, "ny",
				 options)) != -1) {
		switch (opt) {
		case 'n': o.dry_run = true; break;
		case 'N': o.now = true; break;
		case 'u':
			/* Undoing is not a thing to do by a slip either. */
			if (strcmp(argv[optind - 1], "--undo") != 0)
				return cmd_usage_error(&cmd_host_setup_entry,
						       err, "\"%s\": type "
						       "--undo in full",
						       argv[optind - 1]);
			o.undo = true;
			break;
		case 'y': o.yes = true; break;
		case 'f': o.force = true; break;
		case 'P': o.permanent = true; break;
		case 'C': o.confirm = true; break;
		case 'r': o.root = optarg; break;
		default: return cmd_done(opt);
		}
	}
	/* One spelling of the root, so --undo finds what --yes recorded. */
	if (strcmp(o.root, "/") != 0) {
		root_real = realpath(o.root, NULL);
		if (root_real == NULL)
			return vmctl_error_errno(err, VMCTL_EXIT_USAGE, errno,
						 "--root %s", o.root);
		o.root = root_real;
	}
	if (o.undo) {
		if (cmd_require_full_name(&cmd_host_setup_entry, argv[0],
					  "--undo is never abbreviated, nor "
					  "its command", err) < 0)
			return -1;
		if (optind < argc)
			return cmd_usage_error(&cmd_host_setup_entry, err,
					       "--undo takes no selector");
		return undo(env, &o, err);
	}
	if (o.confirm) {
		bool done;

		if (optind < argc)
			return cmd_usage_error(&cmd_host_setup_entry, err,
					       "--confirm takes no selector: "
					       "it keeps what host-setup "
					       "tried");
		if (confirm_selectors(env, &o, &selectors, &done, err) < 0)
			return -1;
		if (done)
			return VMCTL_EXIT_OK;
		o.permanent = true;
	} else {
		if (optind >= argc)
			return cmd_usage_error(&cmd_host_setup_entry, err,
					       "which GPUs? (NVIDIA, AMD, "
					       "Intel, VVVV:DDDD or an "
					       "address; see vmctl gpu list)");
		for (int i = optind; i < argc; i++)
			strv_push(&selectors, argv[i]);
	}
	if (pci_host_read(env, PCI_HOST_NAMES | PCI_HOST_NEEDS, &host,
			  err) < 0) {
		strv_clear(&selectors);
		return -1;
	}
	gpu_list_build(&host, &gpus);
	if (gpusel_select(&gpus, selectors.v, selectors.n, &sel, err) < 0)
		goto out;
	for (size_t g = 0; g < sel.n_gpus; g++) {
		const struct gpu_info *gi = sel.gpus[g];

		if (gi->verdict == GPU_UNSAFE && !o.force) {
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					"refusing: %s (--force to do it "
					"anyway)", gi->reason);
			goto out;
		}
		if (gi->verdict == GPU_UNSAFE)
			fprintf(stderr, "vmctl: warning: %s (going on: "
				"--force)\n", gi->reason);
		if (gi->boot_display)
			fprintf(stderr, "vmctl: warning: a selected GPU is "
				"the host's boot display: the host loses its "
				"console on it\n");
	}
	fns = sel.fns;
	n_fns = sel.n_fns;
	if (hostsetup_plan(env, o.root, &host, fns, n_fns, o.permanent
			   ? HS_MODE_PERMANENT : HS_MODE_ONESHOT, &plan,
			   err) < 0)
		goto out;
	if (o.now && vfio_plan_bind(env, &host, fns, n_fns, &bind, err) < 0)
		goto out;
	if (plan.n_edits == 0 && plan.n_commands == 0 && bind.n == 0) {
		if (env->verbosity >= 0) {
			puts("Already configured: nothing to change.");
			for (size_t i = 0; i < plan.notes.n; i++)
				printf("note: %s\n", plan.notes.v[i]);
		}
		ret = VMCTL_EXIT_OK;
		goto out;
	}
	{
		cleanup_free char *text = hostsetup_plan_render(&plan);
		cleanup_free char *btext = vfio_plan_render(&bind);

		fputs(text, stdout);
		fputs(btext, stdout);
		fflush(stdout);
	}
	if (o.dry_run) {
		ret = VMCTL_EXIT_OK;
		goto out;
	}
	if (!o.yes) {
		if (!isatty(STDIN_FILENO)) {
			vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
					"not a terminal: pass --yes to apply "
					"(or --dry-run)");
			goto out;
		}
		if (!confirm()) {
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					"nothing changed");
			goto out;
		}
	}
	if (hostsetup_apply(env, &plan, err) < 0)
		goto out;
	if (o.now && vfio_bind(env, &bind, err) < 0) {
		vmctl_error_wrap(err, "the boot configuration is in place, "
				 "but binding now failed (devices are back "
				 "on their drivers)");
		goto out;
	}
	if (env->verbosity >= 0) {
		printf("Done.%s\n", o.now ? " The functions are on vfio-pci "
		       "now." : "");
		if (plan.tried.n > 0)
			printf("The new kernel arguments are armed for the "
			       "next boot only (a one-shot).\nNext: reboot. If "
			       "that boot hangs, power-cycle: the boot after it "
			       "has the old\ncommand line. If it comes up, "
			       "`vmctl host-check` shows the arguments in\n"
			       "effect and `vmctl gpu list` the GPU \"ready\"; "
			       "then `vmctl host-setup --confirm`\nkeeps them "
			       "for good (`vmctl host-setup --undo` takes "
			       "everything out).\n");
		else
			printf("Next: reboot, then run `vmctl host-check` and "
			       "`vmctl gpu list`:\nthe GPU should be "
			       "\"ready\".\n");
		if (strcmp(o.root, "/") != 0)
			printf("(Changes were made under %s.)\n", o.root);
	}
	ret = VMCTL_EXIT_OK;
out:
	strv_clear(&selectors);
	vfio_plan_clear(&bind);
	hostsetup_plan_clear(&plan);
	gpusel_clear(&sel);
	gpu_list_clear(&gpus);
	pci_host_clear(&host);
	return ret;
}

const struct cmd_entry cmd_host_setup_entry = {
	.name = "host-setup",
	.usage = "[SELECTOR...] [--dry-run] [--now] [--permanent] [--yes] "
		 "[--force] [--root DIR]\n"
		 "       vmctl host-setup --confirm [--yes] [--force] "
		 "[--root DIR]\n"
		 "       vmctl host-setup --undo [--force] [--root DIR]",
	.summary = "prepare the host for GPU passthrough (IOMMU, vfio-pci at "
		   "boot)",
	.help = "SELECTOR: NVIDIA, AMD or Intel (that vendor's GPUs other than "
		"the host's boot\ndisplay), VVVV:DDDD, or a PCI address; every "
		"function of each selected slot\nis included. Prints the plan "
		"(a diff of every file, every command), then\nasks (on a "
		"terminal; --yes to skip). Kernel arguments go where the "
		"host's\nbootloader reads them (GRUB, with its grub.d drop-ins; "
		"grubby; systemd-boot,\nunified kernel images included; "
		"kernelstub); vfio-pci goes into modprobe.d and\nthe initramfs "
		"(initramfs-tools, dracut, mkinitcpio).\n\n"
		"The new kernel arguments are tried for one boot first (GRUB: "
		"its environment\nblock; systemd-boot: a one-shot entry): if "
		"that boot hangs, the next power\ncycle boots the old command "
		"line. After a good boot (`vmctl host-check` shows\nthe "
		"arguments in effect), --confirm keeps them. Where there is no "
		"one-shot\n(grubby, kernelstub, unified kernel images, "
		"systemd-boot without a default\nentry), --permanent is "
		"required.\n\n"
		"  --dry-run    print the plan only\n"
		"  --now        also bind the functions to vfio-pci right away\n"
		"  --permanent  write the kernel arguments for good at once, "
		"without the\n               one-shot boot first\n"
		"  --confirm    keep the arguments the one-shot boot tried; "
		"refused unless they\n               are on this boot's "
		"command line (--force: keep them anyway)\n"
		"  --undo       take out what host-setup put in: a file still "
		"as host-setup\n               left it gets its original back "
		"byte for byte; in one edited\n               since, only "
		"host-setup's lines and arguments go, the edits stay.\n"
		"               A file whose host-setup line or argument "
		"someone changed is left\n               as it is and named "
		"(exit 1); --undo --force then restores it\n"
		"               byte for byte. (Type --undo, and host-setup, "
		"in full.)\n"
		"  --force      go on even if the GPU's IOMMU group holds a "
		"device the host\n               needs\n"
		"  --root DIR   change the filesystem tree at DIR instead of /\n",
	.options = options,
	.exec = cmd_host_setup_exec,
};
