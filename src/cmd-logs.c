// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl logs NAME [-f] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/cmd.h"
#include "vmctl/spec.h"
#include "vmctl/state.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

static int copy_out(int fd)
{
	char buf[65536];
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)r, stdout) != (size_t)r)
			return -1;
	fflush(stdout);
	return r < 0 ? -1 : 0;
}

static int cmd_logs_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	static const struct option options[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	cleanup_free char *path = NULL;
	cleanup_close int fd = -1;
	bool follow = false;
	int opt;

	while ((opt = cmd_getopt(&cmd_logs_entry, env, argc, argv, "f",
				 options)) != -1) {
		if (opt != 'f')
			return cmd_done(opt);
		follow = true;
	}
	if (argc - optind != 1)
		return cmd_usage_error(&cmd_logs_entry, err,
				       "give one VM name");
	if (!spec_name_valid(argv[optind]))
		return cmd_usage_error(&cmd_logs_entry, err,
				       "invalid VM name \"%s\"", argv[optind]);
	if (!state_vm_exists(env, argv[optind]))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT,
				       "no VM named \"%s\"", argv[optind]);
	path = state_vm_file(env, argv[optind], VMDIR_SERIAL_LOG);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && !(errno == ENOENT && follow))
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 path);
	for (;;) {
		if (fd >= 0 && copy_out(fd) < 0)
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE,
						 errno, "%s", path);
		if (!follow)
			return VMCTL_EXIT_OK;
		/* Like tail -f: poll for growth until interrupted. */
		usleep(200000);
		if (fd < 0)
			fd = open(path, O_RDONLY | O_CLOEXEC);
	}
}

const struct cmd_entry cmd_logs_entry = {
	.name = "logs",
	.usage = "NAME [-f]",
	.summary = "print the VM's serial log (-f: follow it)",
	.help = "Everything the guest wrote to its serial console, kept across "
		"restarts.\n",
	.exec = cmd_logs_exec,
};
