// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl create [SPEC] [--name N] [--no-start] [--wait[=UNTIL]]
 *              [--overcommit] [--host NAME|auto] */
#include <stdio.h>
#include <unistd.h>

#include "vmctl/cmd.h"
#include "vmctl/guest-ready.h"
#include "vmctl/lvfleet.h"
#include "vmctl/lvvm.h"
#include "vmctl/interrupt.h"
#include "vmctl/view.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vm.h"
#include "vmctl/xalloc.h"

static const struct option options[] = {
	{ "name", required_argument, NULL, 'n' },
	{ "no-start", no_argument, NULL, 'N' },
	{ "wait", optional_argument, NULL, 'w' },
	{ "overcommit", no_argument, NULL, 'O' },
	{ "host", required_argument, NULL, 'H' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_create_exec(struct vmctl_env *env, int argc, char **argv,
			   struct vmctl_error **err)
{
	struct vm_create_opts opts = { 0 };
	struct vmctl_spec *spec = NULL;
	struct vm_info vm = { 0 };
	const char *host = NULL, *why = NULL;
	struct wait_arg wait = { 0 };
	bool do_wait = false, tty = isatty(STDERR_FILENO);
	long long start_ms = vm_now_ms();
	int opt, ret;

	while ((opt = cmd_getopt(&cmd_create_entry, env, argc, argv, "n:",
				 options)) != -1) {
		switch (opt) {
		case 'n':
			opts.name = optarg;
			break;
		case 'N':
			opts.no_start = true;
			break;
		case 'O':
			opts.start.overcommit = true;
			break;
		case 'H':
			host = optarg;
			break;
		case 'w':
			do_wait = true;
			if (wait_arg_parse(optarg, &wait, &why) < 0)
				return cmd_usage_error(&cmd_create_entry, err,
						       "--wait %s, not \"%s\"",
						       why, optarg);
			break;
		default:
			return cmd_done(opt);
		}
	}
	if (argc - optind > 1)
		return cmd_usage_error(&cmd_create_entry, err,
				       "one spec at most");
	ret = optind < argc ? spec_load_file(argv[optind], &spec, err)
			    : spec_load_default(env->image_mirror, &spec, err);
	if (ret < 0)
		return -1;
	/* --host NAME is --connect NAME; --host auto places (lvfleet.h) */
	if (host != NULL &&
	    lvfleet_create_target(env, spec, host, err) < 0) {
		spec_free(spec);
		return -1;
	}
	/* The spec's own host (backend: libvirt, connect: HOST), unless the
	 * command line or VMCTL_CONNECT named one. */
	if (env->connect == NULL && spec->backend == SPEC_BACKEND_LIBVIRT)
		env->connect = xstrdup(spec->connect ? spec->connect
						     : LVVM_DEFAULT_URI);
	if (env->verbosity >= 0 && !env->json)
		fprintf(stderr, "Creating VM %s...\n",
			opts.name ? opts.name : spec->name);
	opts.progress = tty && env->verbosity >= 0;
	/* Ctrl-C undoes a half-made VM instead of leaving it behind. */
	interrupt_catch();
	if (do_wait && opts.no_start)
		return cmd_usage_error(&cmd_create_entry, err, "--wait needs "
				       "the VM started (drop --no-start)");
	if (env->connect != NULL) {
		/* the libvirt host's lifecycle (lvvm.c) */
		ret = opts.start.overcommit
			? vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "--connect: "
					  "--overcommit is not yet supported "
					  "on a libvirt host")
			: lvvm_cmd_create(env, spec, &opts, err);
		if (ret == VMCTL_EXIT_OK && do_wait)
			ret = guest_ready_wait(env, spec->name, &wait,
					       opts.progress, start_ms, true,
					       err);
		spec_free(spec);
		return ret;
	}
	ret = vm_create(env, spec, &opts, &vm, err);
	spec_free(spec);
	if (ret < 0)
		return -1;
	{
		cleanup_free char *headline = xasprintf(
			"Created VM %s (%s%s%s)", vm.name,
			vm_run_state_name(vm.state), vm.st.accel ? ", " : "",
			vm.st.accel ? vm.st.accel : "");

		view_vm_result(env, &vm, headline);
	}
	if (do_wait && guest_ready_wait(env, vm.name, &wait, opts.progress,
					start_ms, true, err) < 0) {
		vm_info_clear(&vm);
		return -1;
	}
	vm_info_clear(&vm);
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_create_entry = {
	.name = "create",
	.usage = "[SPEC] [--name NAME] [--no-start] [--wait[=UNTIL]] "
		 "[--overcommit] [--host NAME|auto]",
	.summary = "create a VM from a spec (default: the embedded one) and "
		   "start it",
	.help = "Validates SPEC, makes the VM's state directory, a qcow2 "
		"overlay over its disk\nimage (the image itself is never "
		"written), picks free ports, and starts QEMU\nin a tmux "
		"session. Returns once QEMU reports the VM running, printing "
		"how\nto reach it. On any failure nothing is left behind.\n\n"
		"  --name NAME   use NAME instead of the spec's name\n"
		"  --no-start    prepare the VM without starting it\n"
		"  --wait[=UNTIL]\n                then wait, as `vmctl wait` "
		"does, until the VM is ready for work:\n                SSH "
		"accepts the VM's key and cloud-init is done (the spec's\n"
		"                packages and runcmd in place; a cloud-init "
		"error fails it\n                with cloud-init's lines, "
		"1). UNTIL: ready (that, the default),\n                ssh "
		"(SSH only), SECONDS (the limit, default 600), or\n"
		"                ready,SECONDS or ssh,SECONDS. -v: the time to "
		"each stage\n"
		"  --overcommit  start it even past the host's free memory, "
		"as the spec's\n                `overcommit: true` (never "
		"with a GPU)\n"
		"  --host NAME   create on that host of the hosts file (as "
		"--connect NAME)\n"
		"  --host auto   on the host of the hosts file with the spec's "
		"GPUs free and\n                the most free memory; says "
		"why, or why no host fits (69)\n",
	.remote = true,
	.options = options,
	.exec = cmd_create_exec,
};
