// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl: entry point, global options and the command table. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/cmd.h"
#include "vmctl/complete.h"
#include "vmctl/env.h"
#include "vmctl/manpage.h"
#include "vmctl/qemu-run.h"
#include "vmctl/xalloc.h"

const struct cmd_entry *const cmd_table[] = {
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
	&cmd_ssh_config_entry,
	&cmd_cp_entry,
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
	&cmd_enable_entry,
	&cmd_disable_entry,
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
	/* the shell */
	&cmd_completion_entry,
	NULL,
};

/* "  TERM  TEXT", the text's later lines under its first. */
static void print_docs(FILE *out, const struct cmd_doc *docs, int width)
{
	for (const struct cmd_doc *d = docs; d->term != NULL; d++) {
		fprintf(out, "  %-*s ", width, d->term);
		for (const char *p = d->text; *p; p++)
			if (*p == '\n')
				fprintf(out, "\n%*s", width + 3, "");
			else
				fputc(*p, out);
		fputc('\n', out);
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmctl [OPTIONS] COMMAND [ARGS...]\n\n"
		"Run GPU-accelerated QEMU/KVM virtual machines from a YAML or "
		"JSON spec.\n\nCommands:\n");
	for (size_t i = 0; cmd_table[i] != NULL; i++)
		fprintf(out, "  %-11s %s\n", cmd_table[i]->name,
			cmd_table[i]->summary);
	fprintf(out, "\nGlobal options (also accepted after COMMAND):\n");
	print_docs(out, cmd_global_docs, 17);
	fprintf(out, "\nA command may be shortened to a unique prefix, but "
		"destroy, kill and\nhost-setup --undo only run typed in full."
		"\n\nExit status:\n");
	print_docs(out, cmd_exit_docs, 3);
}

static int help_command(const char *name)
{
	const struct cmd_entry *cmd = cmd_find(cmd_table, name);

	if (cmd == NULL) {
		fprintf(stderr, "vmctl: no such command: %s\n", name);
		return VMCTL_EXIT_USAGE;
	}
	cmd_print_help(cmd, stdout);
	return VMCTL_EXIT_OK;
}

/* No command by that name: unknown, or the prefix of several (named; one
 * that deletes or kills is asked for in full, as when it alone matches). */
static void not_found(const char *typed)
{
	const struct cmd_entry *full = NULL;
	char names[256] = "";
	size_t len = strlen(typed), n = 0;

	for (size_t i = 0; cmd_table[i] != NULL; i++) {
		if (strncmp(cmd_table[i]->name, typed, len) != 0)
			continue;
		if (n++ > 0)
			strncat(names, ", ", sizeof(names) - strlen(names) - 1);
		strncat(names, cmd_table[i]->name,
			sizeof(names) - strlen(names) - 1);
		if (cmd_table[i]->full_name && full == NULL)
			full = cmd_table[i];
	}
	if (n == 0)
		fprintf(stderr, "vmctl: unknown command: %s (see vmctl "
			"--help)\n", typed);
	else if (full != NULL)
		fprintf(stderr, "vmctl: ambiguous command: %s (%s); type %s in "
			"full (commands that delete or kill are never "
			"abbreviated)\n", typed, names, full->name);
	else
		fprintf(stderr, "vmctl: ambiguous command: %s (%s)\n", typed,
			names);
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
	/* Internal: the man pages and shell completion (make, completion
	 * scripts). */
	if (strcmp(argv[optind], "__man") == 0 ||
	    strcmp(argv[optind], "__complete") == 0) {
		status = argv[optind][2] == 'm'
			 ? manpage_main(argc - optind, argv + optind)
			 : complete_main(argc - optind, argv + optind);
		env_clear(&env);
		return status;
	}
	if (strcmp(argv[optind], "help") == 0) {
		status = optind + 1 < argc ? help_command(argv[optind + 1])
					   : (usage(stdout), VMCTL_EXIT_OK);
		env_clear(&env);
		return status;
	}
	cmd = cmd_find(cmd_table, argv[optind]);
	if (cmd == NULL) {
		not_found(argv[optind]);
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
