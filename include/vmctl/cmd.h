/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_CMD_H
#define VMCTL_CMD_H

#include <getopt.h>
#include <stdbool.h>

#include "vmctl/env.h"
#include "vmctl/error.h"

/*
 * One entry per subcommand (the OpenBSD vmctl / tmux model): usage and help
 * come from this table, and each cmd-<verb>.c only parses its own flags and
 * calls the engine.  exec returns an exit status (>= 0), or a negative
 * number with *err set, which main() prints and maps to the exit code.
 */
struct cmd_entry {
	const char *name;
	const char *usage;     /* arguments after the name */
	const char *summary;   /* one line for `vmctl --help` */
	const char *help;      /* the rest of `vmctl help NAME` */
	bool full_name;        /* deletes or kills: never abbreviated */
	bool remote;           /* takes --connect (a libvirt host) */
	/* The command's own long options, the table its parser hands
	 * cmd_getopt(); man pages and shell completion read them here. */
	const struct option *options;
	int (*exec)(struct vmctl_env *env, int argc, char **argv,
		    struct vmctl_error **err);
};

/* A term and its text ('\n' between lines) for usage() and man pages. */
struct cmd_doc {
	const char *term;
	const char *text;
};
extern const struct cmd_doc cmd_global_docs[];   /* global options */
extern const struct cmd_doc cmd_exit_docs[];     /* exit statuses */

/* Every command, in `vmctl --help` order, NULL-terminated (main.c). */
extern const struct cmd_entry *const cmd_table[];

extern const struct cmd_entry cmd_validate_entry;
extern const struct cmd_entry cmd_cmdline_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_create_entry;
extern const struct cmd_entry cmd_start_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_kill_entry;
extern const struct cmd_entry cmd_restart_entry;
extern const struct cmd_entry cmd_destroy_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_attach_entry;
extern const struct cmd_entry cmd_console_entry;
extern const struct cmd_entry cmd_logs_entry;
extern const struct cmd_entry cmd_vnc_entry;
extern const struct cmd_entry cmd_balloon_entry;
extern const struct cmd_entry cmd_ssh_entry;
extern const struct cmd_entry cmd_ssh_config_entry;
extern const struct cmd_entry cmd_cp_entry;
extern const struct cmd_entry cmd_wait_entry;
extern const struct cmd_entry cmd_snapshot_entry;
extern const struct cmd_entry cmd_save_entry;
extern const struct cmd_entry cmd_restore_entry;
extern const struct cmd_entry cmd_clone_entry;
extern const struct cmd_entry cmd_cdrom_entry;
extern const struct cmd_entry cmd_disk_entry;
extern const struct cmd_entry cmd_image_entry;
extern const struct cmd_entry cmd_host_setup_entry;
extern const struct cmd_entry cmd_bind_entry;
extern const struct cmd_entry cmd_release_entry;
extern const struct cmd_entry cmd_gpu_entry;
extern const struct cmd_entry cmd_host_entry;
extern const struct cmd_entry cmd_host_check_entry;
extern const struct cmd_entry cmd_migrate_entry;
extern const struct cmd_entry cmd_move_entry;
extern const struct cmd_entry cmd_completion_entry;
extern const struct cmd_entry cmd_enable_entry;
extern const struct cmd_entry cmd_disable_entry;

/*
 * `vmctl host ksm ...` (cmd-host-ksm.c) and `vmctl host reserve ...`
 * (cmd-host-reserve.c): argv holds the words after "ksm" or "reserve";
 * cmd-host.c has parsed the options of the whole line into `opts`.
 */
struct cmd_host_opts {
	bool dry_run;
	bool unmerge;
};

int cmd_host_ksm(struct vmctl_env *env, const struct cmd_host_opts *opts,
		 int argc, char **argv, struct vmctl_error **err);
int cmd_host_reserve(struct vmctl_env *env, const struct cmd_host_opts *opts,
		     int argc, char **argv, struct vmctl_error **err);

/*
 * getopt_long for a subcommand, which also takes the global options
 * (--json, -v, -q, --state-dir, --sysfs-root, --connect) anywhere on its
 * line and answers --help; --connect (or VMCTL_CONNECT) with a command
 * that is not `remote` is a usage error.  Returns the next option the command must handle itself,
 * -1 at the end of options, or CMD_OPT_EXIT/CMD_OPT_USAGE when the command
 * should return at once with status 0 or 64.
 */
#define CMD_OPT_EXIT  (-2)
#define CMD_OPT_USAGE (-3)
int cmd_getopt(const struct cmd_entry *cmd, struct vmctl_env *env, int argc,
	       char **argv, const char *shortopts,
	       const struct option *longopts);

/*
 * 0 when `typed`, the word that named the command (its exec's argv[0]), is
 * the command's full name; otherwise a usage error saying why it must be
 * (main() for full_name commands; host-setup for --undo).
 */
int cmd_require_full_name(const struct cmd_entry *cmd, const char *typed,
			  const char *why, struct vmctl_error **err);

/* Print "usage: vmctl NAME USAGE" and the help of one command. */
void cmd_print_help(const struct cmd_entry *cmd, FILE *out);
int cmd_usage_error(const struct cmd_entry *cmd, struct vmctl_error **err,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * For commands whose only operand is a VM name: parse the (global) options
 * and take exactly one NAME.  Returns 0 to go on; otherwise the command
 * returns cmd_done() of the result (--help printed, usage error, *err).
 */
int cmd_parse_name(const struct cmd_entry *cmd, struct vmctl_env *env,
		   int argc, char **argv, const char **name,
		   struct vmctl_error **err);

static inline int cmd_done(int parsed)
{
	return parsed == CMD_OPT_EXIT ? VMCTL_EXIT_OK
	       : parsed == CMD_OPT_USAGE ? VMCTL_EXIT_USAGE : parsed;
}

/* Parse a non-negative number of seconds for an option. */
int cmd_parse_seconds(const struct cmd_entry *cmd, const char *opt,
		      const char *arg, int *out, struct vmctl_error **err);

/* Apply a global option; shared by main() and cmd_getopt(). */
int cmd_global_option(struct vmctl_env *env, int opt, const char *arg);

/* The command `name` names in `table`: its full name, or a prefix only
 * one command starts with; NULL if none or several. */
const struct cmd_entry *cmd_find(const struct cmd_entry *const *table,
				 const char *name);

/* Print an error the way every vmctl error reads. */
void cmd_print_error(const struct vmctl_error *err);

#endif
