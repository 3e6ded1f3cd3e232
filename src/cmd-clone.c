// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl clone SRC DST [--linked] */
#include <stdio.h>
#include <unistd.h>

#include "vmctl/cmd.h"
#include "vmctl/interrupt.h"
#include "vmctl/lvvm.h"
#include "vmctl/view.h"
#include "vmctl/vm-clone.h"
#include "vmctl/xalloc.h"

static void print_result(const struct vmctl_env *env, const char *src,
			 const struct vm_info *vm, bool linked)
{
	if (env->json) {
		cJSON *j = view_vm_json(env, vm, false);
		cJSON *c = cJSON_AddObjectToObject(j, "clone");

		cJSON_AddStringToObject(c, "source", src);
		cJSON_AddBoolToObject(c, "linked", linked);
		if (vm->st.layers.n > 0)
			cJSON_AddStringToObject(c, "layer",
						vm->st.layers.v[0]);
		else
			cJSON_AddNullToObject(c, "layer");
		view_print_json(j);
		cJSON_Delete(j);
	} else if (env->verbosity >= 0) {
		printf("Cloned VM %s into %s (%s; vmctl start %s)\n", src,
		       vm->name, linked ? "linked: both stand on the frozen "
		       "disk" : "a full copy over the same base",
		       vm->name);
		if (linked && vm->st.layers.n > 0)
			printf("  layer: %s\n", vm->st.layers.v[0]);
	}
}

static const struct option options[] = {
	{ "linked", no_argument, NULL, 'l' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_clone_exec(struct vmctl_env *env, int argc, char **argv,
			  struct vmctl_error **err)
{
	struct vm_clone_opts opts = { 0 };
	struct vm_info vm = { 0 };
	int opt;

	while ((opt = cmd_getopt(&cmd_clone_entry, env, argc, argv, "",
				 options)) != -1) {
		if (opt == 'l')
			opts.linked = true;
		else
			return cmd_done(opt);
	}
	if (argc - optind != 2)
		return cmd_usage_error(&cmd_clone_entry, err,
				       "give SRC and DST");
	interrupt_catch();
	if (env->connect != NULL)
		return lvvm_cmd_clone(env, argv[optind], argv[optind + 1],
				      opts.linked, err);
	opts.progress = isatty(STDERR_FILENO) && env->verbosity >= 0 &&
			!opts.linked;
	if (vm_clone(env, argv[optind], argv[optind + 1], &opts, &vm,
		     err) < 0)
		return -1;
	print_result(env, argv[optind], &vm, opts.linked);
	vm_info_clear(&vm);
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_clone_entry = {
	.name = "clone",
	.usage = "SRC DST [--linked]",
	.options = options,
	.summary = "copy a stopped VM into a new one with its own identity",
	.help = "A full clone is a new overlay over SRC's base holding SRC's "
		"current disk (not\nits snapshots).  --linked freezes SRC's "
		"disk as a read-only layer under\nSTATE_DIR/layers that SRC "
		"(on a fresh overlay) and DST both stand on: nothing\nis "
		"copied; the layer goes when the last VM on it is destroyed.  "
		"Refused for a\nrunning or saved SRC, and --linked for one with "
		"snapshots.  DST gets its own\nMAC, SSH keys (pinned), "
		"cloud-init instance-id (so cloud-init runs again:\nhostname "
		"DST), VNC password, and ports when it starts; it is left "
		"stopped.\nWith --connect: on the libvirt host, SRC's overlay "
		"is carried through this\nmachine: a full clone's overlay, or "
		"with --linked a layer volume\n(layer_SRC-HEX.qcow2) that SRC "
		"(its domain redefined) and DST stand on;\nrefused for a SRC "
		"with snapshots.\n",
	.remote = true,
	.exec = cmd_clone_exec,
};
