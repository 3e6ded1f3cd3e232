// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl wait NAME [--for ready|ssh] [--timeout S] */
#include <stdio.h>
#include <unistd.h>

#include "vmctl/cmd.h"
#include "vmctl/guest-ready.h"
#include "vmctl/interrupt.h"
#include "vmctl/vm-runtime.h"

static const struct option options[] = {
	{ "for", required_argument, NULL, 'f' },
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_wait_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	struct wait_arg w = { WAIT_UNTIL_READY, WAIT_DEFAULT_S };
	long long start_ms = vm_now_ms();
	bool progress;
	int opt;

	while ((opt = cmd_getopt(&cmd_wait_entry, env, argc, argv, "t:",
				 options)) != -1) {
		switch (opt) {
		case 'f':
			if (wait_until_parse(optarg, &w.until) < 0)
				return cmd_usage_error(&cmd_wait_entry, err,
						       "--for wants ready or "
						       "ssh, not \"%s\"",
						       optarg);
			break;
		case 't':
			if (cmd_parse_seconds(&cmd_wait_entry, "--timeout",
					      optarg, &w.timeout_s, err) < 0)
				return -1;
			break;
		default:
			return cmd_done(opt);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(&cmd_wait_entry, err,
				       "give one VM name");
	interrupt_catch();
	progress = env->verbosity >= 0 && isatty(STDERR_FILENO);
	return guest_ready_wait(env, argv[optind], &w, progress, start_ms,
				false, err);
}

const struct cmd_entry cmd_wait_entry = {
	.name = "wait",
	.usage = "NAME [--for ready|ssh] [--timeout SECONDS]",
	.summary = "wait until a VM is ready: SSH accepts its key, cloud-init "
		   "is done",
	.help = "Polls the forwarded SSH port for a banner, then logs in with "
		"the VM's key\n(host key pinned); then, over that same SSH, "
		"runs `cloud-init status --wait`\nuntil cloud-init is done, "
		"so the spec's packages and runcmd are in place.\nAll within "
		"SECONDS (default 600). A cloud-init error fails the wait "
		"with\ncloud-init's own error lines (1); a guest without "
		"cloud-init (no command) or\nwith it disabled is ready at SSH "
		"(-v says so). On a timeout, prints the\nserial log's last "
		"lines. With --connect: first until the guest has a DHCP\n"
		"lease on libvirt's network `vmctl`, then as above at that "
		"address.\n\n"
		"  --for ready   SSH and cloud-init done (the default)\n"
		"  --for ssh     SSH accepts the VM's key, nothing more\n"
		"  --timeout S   give up after S seconds (default 600)\n"
		"  -v            the time to each stage, on stderr\n",
	.remote = true,
	.options = options,
	.exec = cmd_wait_exec,
};
