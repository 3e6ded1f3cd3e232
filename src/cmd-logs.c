// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl logs NAME [-f] [--raw] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/cmd.h"
#include "vmctl/lvvm-console.h"
#include "vmctl/spec.h"
#include "vmctl/state.h"
#include "vmctl/termsafe.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

#define CHUNK 65536

/* Copy what fd has now to stdout; through the filter unless it is NULL. */
static int copy_out(int fd, struct termsafe *ts, char *safe)
{
	char buf[CHUNK];
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		const char *out = buf;
		size_t n = (size_t)r;

		if (ts != NULL) {
			n = termsafe_feed(ts, buf, n, safe);
			out = safe;
		}
		if (fwrite(out, 1, n, stdout) != n)
			return -1;
	}
	fflush(stdout);
	return r < 0 ? -1 : 0;
}

/* The end of the log: what the filter still holds. */
static int finish(struct termsafe *ts, char *safe, struct vmctl_error **err)
{
	size_t n = termsafe_finish(ts, safe);

	if (fwrite(safe, 1, n, stdout) != n || fflush(stdout) != 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "stdout");
	return VMCTL_EXIT_OK;
}

/* The older part of a rotated log (serial.log.1), whole, first. */
static int copy_rotated(const char *path, struct termsafe *ts, char *safe)
{
	cleanup_free char *old = xasprintf("%s.1", path);
	cleanup_close int fd = open(old, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	return copy_out(fd, ts, safe);
}

/* The log keeper rotated the file under us (tail -F): a new inode. */
static bool rotated(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 &&
	       (stat(path, &b) != 0 || a.st_ino != b.st_ino ||
		a.st_dev != b.st_dev);
}

static const struct option options[] = {
	{ "follow", no_argument, NULL, 'f' },
	{ "raw", no_argument, NULL, 'r' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_logs_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	cleanup_free char *path = NULL;
	cleanup_free char *safe = NULL;
	cleanup_close int fd = -1;
	struct termsafe filter = TERMSAFE_INIT, *ts = &filter;
	bool follow = false;
	int opt;

	while ((opt = cmd_getopt(&cmd_logs_entry, env, argc, argv, "f",
				 options)) != -1) {
		if (opt == 'f')
			follow = true;
		else if (opt == 'r')
			ts = NULL;
		else
			return cmd_done(opt);
	}
	if (argc - optind != 1)
		return cmd_usage_error(&cmd_logs_entry, err,
				       "give one VM name");
	if (!spec_name_valid(argv[optind]))
		return cmd_usage_error(&cmd_logs_entry, err,
				       "invalid VM name \"%s\"", argv[optind]);
	if (env->connect != NULL)
		return lvvm_console_cmd_logs(env, argv[optind], follow,
					     ts == NULL, err);
	if (!state_vm_exists(env, argv[optind]))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT,
				       "no VM named \"%s\"", argv[optind]);
	path = state_vm_file(env, argv[optind], VMDIR_SERIAL_LOG);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && !(errno == ENOENT && follow))
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 path);
	if (ts != NULL)
		safe = xmalloc(TERMSAFE_OUT_MAX(CHUNK));
	if (copy_rotated(path, ts, safe) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "%s.1", path);
	for (;;) {
		if (fd >= 0 && copy_out(fd, ts, safe) < 0)
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE,
						 errno, "%s", path);
		if (!follow || !state_vm_exists(env, argv[optind]))
			return ts != NULL ? finish(ts, safe, err)
					  : VMCTL_EXIT_OK;
		/* Like tail -F: poll for growth until interrupted; after a
		 * rotation, finish the old file and go on with the new. */
		if (fd >= 0 && rotated(fd, path)) {
			if (copy_out(fd, ts, safe) < 0)
				return vmctl_error_errno(err,
							 VMCTL_EXIT_FAILURE,
							 errno, "%s", path);
			close(fd);
			fd = -1;
		}
		usleep(200000);
		if (fd < 0)
			fd = open(path, O_RDONLY | O_CLOEXEC);
	}
}

const struct cmd_entry cmd_logs_entry = {
	.name = "logs",
	.usage = "NAME [-f] [--raw]",
	.summary = "print the VM's serial log (-f: follow it)",
	.help = "Everything the guest wrote to its serial console, kept across "
		"restarts, up to\nthe log's cap: serial.log is rotated to "
		"serial.log.1 at 8 MiB\n(VMCTL_SERIAL_LOG_MAX); both are "
		"printed, the older first, and -f follows\nthe log across "
		"rotations.\n\n"
		"The guest controls these bytes, so escape sequences and other "
		"control\ncharacters are removed (CR LF becomes a newline; "
		"invalid UTF-8 becomes\nU+FFFD) before they reach the terminal.\n"
		"\n"
		"  -f, --follow  keep printing what the guest writes until "
		"interrupted\n                (or the VM is destroyed)\n"
		"  --raw         the log's bytes exactly as the guest wrote them "
		"(for a file\n"
		"                or a pipe; a terminal would obey them)\n"
		"\nWith --connect, the log is the volume NAME-serial.log of "
		"the host's vmctl\npool, read through libvirt.\n",
	.remote = true,
	.options = options,
	.exec = cmd_logs_exec,
};
