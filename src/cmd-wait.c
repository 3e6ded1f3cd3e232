// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl wait NAME [--timeout S] */
#include <stdio.h>
#include <unistd.h>

#include "vmctl/cmd.h"
#include "vmctl/interrupt.h"
#include "vmctl/lvvm-ssh.h"
#include "vmctl/vm.h"

#define DEFAULT_WAIT 300

static const struct option options[] = {
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_wait_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	int opt, timeout = DEFAULT_WAIT;
	double elapsed;
	bool progress;

	while ((opt = cmd_getopt(&cmd_wait_entry, env, argc, argv, "t:",
				 options)) != -1) {
		if (opt != 't')
			return cmd_done(opt);
		if (cmd_parse_seconds(&cmd_wait_entry, "--timeout", optarg,
				      &timeout, err) < 0)
			return -1;
	}
	if (argc - optind != 1)
		return cmd_usage_error(&cmd_wait_entry, err,
				       "give one VM name");
	interrupt_catch();
	progress = env->verbosity >= 0 && isatty(STDERR_FILENO);
	if ((env->connect != NULL
	     ? lvvm_wait_ssh(env, argv[optind], timeout, progress, &elapsed,
			     err)
	     : vm_wait_ssh(env, argv[optind], timeout, progress, &elapsed,
			   err)) < 0)
		return -1;
	if (env->verbosity >= 0)
		printf("VM %s: SSH ready after %.1f s\n", argv[optind],
		       elapsed);
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_wait_entry = {
	.name = "wait",
	.usage = "NAME [--timeout SECONDS]",
	.summary = "wait until a VM's SSH accepts its key",
	.help = "Polls the forwarded SSH port for a banner, then logs in with "
		"the VM's key\n(host key pinned), until SECONDS (default 300). "
		"On timeout, prints the\nserial log's last lines. With --connect: "
		"first until the guest has a DHCP\nlease on libvirt's network "
		"`vmctl`, then as above at that address.\n",
	.remote = true,
	.options = options,
	.exec = cmd_wait_exec,
};
