// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl: entry point, global options and the command table. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/cmd.h"
#include "vmctl/env.h"
#include "vmctl/qemu-run.h"
#include "vmctl/xalloc.h"

static const struct cmd_entry *const commands[] = {
	/* VMs */
	&cmd_create_entry,
	&cmd_start_entry,
	&cmd_stop_entry,
	&cmd_restart_entry,
	&cmd_kill_entry,
	&cmd_destroy_entry,
	&cmd_list_entry,
	&cmd_status_entry,
	&cmd_attach_entry,
	&cmd_console_entry,
	&cmd_logs_entry,
	&cmd_vnc_entry,
	&cmd_balloon_entry,
	&cmd_ssh_entry,
	&cmd_wait_entry,
	&cmd_snapshot_entry,
	&cmd_save_entry,
	&cmd_restore_entry,
	&cmd_clone_entry,
	&cmd_cdrom_entry,
	&cmd_disk_entry,
	&cmd_image_entry,
	&cmd_migrate_entry,
	&cmd_move_entry,
	/* the host */
	&cmd_gpu_entry,
	&cmd_host_entry,
	&cmd_host_check_entry,
	&cmd_host_setup_entry,
	&cmd_bind_entry,
	&cmd_release_entry,
	/* specs */
	&cmd_validate_entry,
	&cmd_cmdline_entry,
	&cmd_export_entry,
	NULL,
};

static const char exit_codes_help[] =
	"Exit status:\n"
	"  0   success\n"
	"  1   the operation failed\n"
	"  64  usage error (bad command line)\n"
	"  65  invalid spec\n"
	"  66  spec file missing or unreadable\n"
	"  69  a required program or device is unavailable, or a libvirt "
	"host\n      (--connect) cannot be reached\n"
	"  77  permission denied\n";

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmctl [OPTIONS] COMMAND [ARGS...]\n\n"
		"Run GPU-accelerated QEMU/KVM virtual machines from a YAML or "
		"JSON spec.\n\nCommands:\n");
	for (size_t i = 0; commands[i] != NULL; i++)
		fprintf(out, "  %-11s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(out,
		"\nGlobal options (also accepted after COMMAND):\n"
		"  --state-dir DIR   VM state (env VMCTL_STATE_DIR; default "
		"/var/lib/vmctl\n"
		"                    for root, $XDG_DATA_HOME/vmctl otherwise)\n"
		"  --sysfs-root DIR  read sysfs here (env VMCTL_SYSFS_ROOT; "
		"default /sys)\n"
		"  --connect HOST    a libvirt URI (qemu+ssh://host/system) or "
		"a name from\n"
		"                    the hosts file (env VMCTL_CONNECT, "
		"VMCTL_HOSTS_FILE)\n"
		"  --json            machine-readable output\n"
		"  -v, --verbose     say more; -q, --quiet: say only errors\n"
		"  -h, --help        this help; `vmctl help COMMAND` for one "
		"command\n"
		"  --version         print the version\n\n"
		"A command may be shortened to a unique prefix, but destroy, "
		"kill and\nhost-setup --undo only run typed in full.\n\n%s",
		exit_codes_help);
}

/* An exact name, or a prefix only one command starts with. */
static const struct cmd_entry *find_command(const char *name)
{
	const struct cmd_entry *found = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; commands[i] != NULL; i++) {
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
		if (strncmp(commands[i]->name, name, len) == 0) {
			if (found != NULL)
				return NULL;
			found = commands[i];
		}
	}
	return found;
}

static int help_command(const char *name)
{
	const struct cmd_entry *cmd = find_command(name);

	if (cmd == NULL) {
		fprintf(stderr, "vmctl: no such command: %s\n", name);
		return VMCTL_EXIT_USAGE;
	}
	cmd_print_help(cmd, stdout);
	return VMCTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	enum { OPT_VERSION = 0x200 };
	static const struct option options[] = {
		{ "state-dir", required_argument, NULL, 0x100 },
		{ "sysfs-root", required_argument, NULL, 0x101 },
		{ "json", no_argument, NULL, 0x102 },
		{ "connect", required_argument, NULL, 0x104 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct vmctl_env env;
	struct vmctl_error *err = NULL;
	const struct cmd_entry *cmd;
	int opt, status;

	env_init(&env);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+vqh", options, NULL)) != -1) {
		if (cmd_global_option(&env, opt, optarg))
			continue;
		if (opt == 'h') {
			usage(stdout);
			env_clear(&env);
			return VMCTL_EXIT_OK;
		}
		if (opt == OPT_VERSION) {
			printf("vmctl %s\n", VMCTL_VERSION);
			env_clear(&env);
			return VMCTL_EXIT_OK;
		}
		fprintf(stderr, "vmctl: unknown option or missing argument: "
			"%s\n", argv[optind - 1]);
		usage(stderr);
		env_clear(&env);
		return VMCTL_EXIT_USAGE;
	}
	if (optind >= argc) {
		usage(stderr);
		env_clear(&env);
		return VMCTL_EXIT_USAGE;
	}
	/* Internal: what a VM's tmux pane runs before QEMU (qemu-run.h). */
	if (strcmp(argv[optind], "__run-qemu") == 0) {
		env_clear(&env);
		return qemu_run_main(argc - optind, argv + optind);
	}
	if (strcmp(argv[optind], "help") == 0) {
		status = optind + 1 < argc ? help_command(argv[optind + 1])
					   : (usage(stdout), VMCTL_EXIT_OK);
		env_clear(&env);
		return status;
	}
	cmd = find_command(argv[optind]);
	if (cmd == NULL) {
		fprintf(stderr, "vmctl: unknown or ambiguous command: %s "
			"(see vmctl --help)\n", argv[optind]);
		env_clear(&env);
		return VMCTL_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0;   /* glibc: start getopt afresh for the command */
	/* A slip of the keyboard must not delete or kill a VM. */
	status = !cmd->full_name ? 0
		 : cmd_require_full_name(cmd, argv[0], "commands that delete "
					 "or kill are never abbreviated",
					 &err);
	if (status == 0)
		status = cmd->exec(&env, argc, argv, &err);
	if (status < 0) {
		if (err == NULL)
			vmctl_error_set(&err, VMCTL_EXIT_FAILURE, 0,
					"%s failed", cmd->name);
		cmd_print_error(err);
		status = err->status;
		vmctl_error_free(err);
	}
	env_clear(&env);
	return status;
}
