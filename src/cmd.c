// SPDX-License-Identifier: GPL-2.0-or-later
/* Flag parsing shared by every subcommand. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/cmd.h"
#include "vmctl/xalloc.h"

enum {
	OPT_STATE_DIR = 0x100,
	OPT_SYSFS_ROOT,
	OPT_JSON,
	OPT_HELP,
	OPT_CONNECT,
};

static const struct option global_options[] = {
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, OPT_HELP },
};

/* Global options and exit codes: printed by usage() and the man page. */
const struct cmd_doc cmd_global_docs[] = {
	{ "--state-dir DIR", "VM state (env VMCTL_STATE_DIR; default "
	  "/var/lib/vmctl\nfor root, $XDG_DATA_HOME/vmctl otherwise)" },
	{ "--sysfs-root DIR", "read sysfs here (env VMCTL_SYSFS_ROOT; default "
	  "/sys)" },
	{ "--connect HOST", "a libvirt URI (qemu+ssh://host/system) or a name "
	  "from\nthe hosts file (env VMCTL_CONNECT, VMCTL_HOSTS_FILE)" },
	{ "--json", "machine-readable output" },
	{ "-v, --verbose", "say more; -q, --quiet: say only errors" },
	{ "-h, --help", "this help; `vmctl help COMMAND` for one command" },
	{ "--version", "print the version" },
	{ NULL, NULL },
};

const struct cmd_doc cmd_exit_docs[] = {
	{ "0", "success" },
	{ "1", "the operation failed" },
	{ "64", "usage error (bad command line)" },
	{ "65", "invalid spec" },
	{ "66", "spec file missing or unreadable" },
	{ "69", "a required program or device is unavailable, or a libvirt "
	  "host\n(--connect) cannot be reached" },
	{ "77", "permission denied" },
	{ NULL, NULL },
};

#define N_GLOBAL (sizeof(global_options) / sizeof(global_options[0]))

int cmd_global_option(struct vmctl_env *env, int opt, const char *arg)
{
	switch (opt) {
	case OPT_STATE_DIR:
		free(env->state_dir);
		env->state_dir = xstrdup(arg);
		return 1;
	case OPT_SYSFS_ROOT:
		free(env->sysfs);
		env->sysfs = xstrdup(arg);
		return 1;
	case OPT_JSON:
		env->json = true;
		return 1;
	case OPT_CONNECT:
		free(env->connect);
		env->connect = *arg != '\0' ? xstrdup(arg) : NULL;
		return 1;
	case 'v':
		env->verbosity++;
		return 1;
	case 'q':
		env->verbosity = -1;
		return 1;
	default:
		return 0;
	}
}

int cmd_getopt(const struct cmd_entry *cmd, struct vmctl_env *env, int argc,
	       char **argv, const char *shortopts,
	       const struct option *longopts)
{
	size_t n = 0;
	struct option *all;
	cleanup_free char *shorts = xasprintf("%svqh", shortopts);
	int opt;

	while (longopts != NULL && longopts[n].name != NULL)
		n++;
	all = xcalloc(n + N_GLOBAL + 1, sizeof(*all));
	if (n > 0)
		memcpy(all, longopts, n * sizeof(*all));
	memcpy(all + n, global_options, sizeof(global_options));
	opterr = 0;
	do
		opt = getopt_long(argc, argv, shorts, all, NULL);
	while (cmd_global_option(env, opt, optarg));
	free(all);
	if (opt == -1)
		env_finish(env);
	/* Only what has a libvirt path may run with --connect: the rest
	 * would act on this machine instead of the host asked for. */
	if (opt == -1 && env->connect != NULL && !cmd->remote) {
		fprintf(stderr, "vmctl %s: --connect (VMCTL_CONNECT) is not "
			"supported by this command\n", cmd->name);
		return CMD_OPT_USAGE;
	}
	if (opt == 'h' || opt == OPT_HELP) {
		cmd_print_help(cmd, stdout);
		return CMD_OPT_EXIT;
	}
	if (opt == '?' || opt == ':') {
		if (optopt != 0)
			fprintf(stderr, "vmctl %s: %s -%c\n", cmd->name,
				opt == ':' ? "missing argument for"
					   : "unknown option", optopt);
		else
			fprintf(stderr, "vmctl %s: unknown option or missing "
				"argument: %s\n", cmd->name, argv[optind - 1]);
		fprintf(stderr, "usage: vmctl %s %s\n", cmd->name, cmd->usage);
		return CMD_OPT_USAGE;
	}
	return opt;
}

void cmd_print_help(const struct cmd_entry *cmd, FILE *out)
{
	fprintf(out, "usage: vmctl %s %s\n\n%s\n", cmd->name, cmd->usage,
		cmd->summary);
	if (cmd->help != NULL && *cmd->help != '\0')
		fprintf(out, "\n%s", cmd->help);
}

int cmd_usage_error(const struct cmd_entry *cmd, struct vmctl_error **err,
		    const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
			       "%s: %s\nusage: vmctl %s %s", cmd->name, msg,
			       cmd->name, cmd->usage);
}

int cmd_require_full_name(const struct cmd_entry *cmd, const char *typed,
			  const char *why, struct vmctl_error **err)
{
	if (strcmp(typed, cmd->name) == 0)
		return 0;
	return cmd_usage_error(cmd, err, "\"%s\": type %s in full (%s)",
			       typed, cmd->name, why);
}

void cmd_print_error(const struct vmctl_error *err)
{
	if (err->located)
		fprintf(stderr, "%s\n", err->message);
	else
		fprintf(stderr, "vmctl: %s\n", err->message);
}

int cmd_parse_name(const struct cmd_entry *cmd, struct vmctl_env *env,
		   int argc, char **argv, const char **name,
		   struct vmctl_error **err)
{
	int opt;

	while ((opt = cmd_getopt(cmd, env, argc, argv, "", NULL)) != -1)
		return opt == CMD_OPT_EXIT ? CMD_OPT_EXIT : CMD_OPT_USAGE;
	if (argc - optind != 1)
		return cmd_usage_error(cmd, err, argc - optind == 0
				       ? "no VM name given"
				       : "one VM name only");
	*name = argv[optind];
	return 0;
}

int cmd_parse_seconds(const struct cmd_entry *cmd, const char *opt,
		      const char *arg, int *out, struct vmctl_error **err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 0 || v > 86400)
		return cmd_usage_error(cmd, err, "%s wants seconds (0 to "
				       "86400), not \"%s\"", opt, arg);
	*out = (int)v;
	return 0;
}

const struct cmd_entry *cmd_find(const struct cmd_entry *const *table,
				 const char *name)
{
	const struct cmd_entry *found = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; table[i] != NULL; i++) {
		if (strcmp(table[i]->name, name) == 0)
			return table[i];
		if (strncmp(table[i]->name, name, len) == 0) {
			if (found != NULL)
				return NULL;
			found = table[i];
		}
	}
	return found;
}
