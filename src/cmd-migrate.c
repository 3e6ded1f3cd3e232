// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl migrate NAME --to HOST, and vmctl move NAME --to HOST */
#include <stdio.h>

#include "vmctl/cmd.h"
#include "vmctl/interrupt.h"
#include "vmctl/lvmigrate.h"

#define DEFAULT_TIMEOUT 60

static const struct option options[] = {
	{ "to", required_argument, NULL, 'T' },
	{ "migrate-uri", required_argument, NULL, 'M' },
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

static int migrate_or_move(const struct cmd_entry *cmd, bool live,
			   struct vmctl_env *env, int argc, char **argv,
			   struct vmctl_error **err)
{
	struct lvmigrate_opts opts = { .timeout_s = DEFAULT_TIMEOUT };
	int opt;

	while ((opt = cmd_getopt(cmd, env, argc, argv, "t:", options)) != -1) {
		switch (opt) {
		case 'T':
			opts.to = optarg;
			break;
		case 'M':
			if (!live)
				return cmd_usage_error(cmd, err, "--migrate-uri"
						       " is for migrate");
			opts.migrate_uri = optarg;
			break;
		case 't':
			if (live)
				return cmd_usage_error(cmd, err, "--timeout is "
						       "for move");
			if (cmd_parse_seconds(cmd, "--timeout", optarg,
					      &opts.timeout_s, err) < 0)
				return -1;
			break;
		default:
			return cmd_done(opt);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(cmd, err, "give one VM name");
	if (opts.to == NULL || *opts.to == '\0')
		return cmd_usage_error(cmd, err, "--to HOST is required");
	if (env->connect == NULL)
		return cmd_usage_error(cmd, err, "--connect HOST (the libvirt "
				       "host the VM is on) is required");
	/* Ctrl-C fails the move or migration (aborting libvirt's job), and
	 * what it made on the destination is removed, instead of leaving
	 * it behind. */
	interrupt_catch();
	if (live)
		return lvmigrate_cmd_migrate(env, argv[optind], &opts, err);
	return lvmigrate_cmd_move(env, argv[optind], &opts, err);
}

static int cmd_migrate_exec(struct vmctl_env *env, int argc, char **argv,
			    struct vmctl_error **err)
{
	return migrate_or_move(&cmd_migrate_entry, true, env, argc, argv, err);
}

static int cmd_move_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	return migrate_or_move(&cmd_move_entry, false, env, argc, argv, err);
}

const struct cmd_entry cmd_migrate_entry = {
	.name = "migrate",
	.usage = "NAME --to HOST [--migrate-uri URI] --connect HOST",
	.summary = "live-migrate a running VM to another libvirt host",
	.help = "Moves the running VM from --connect to --to (a hosts-file "
		"name or a libvirt URI)\nwhile the guest runs: its base is "
		"uploaded there first (from the local verified\nimage cache), "
		"QEMU copies its disk's own layer and memory, and libvirt "
		"defines\nit there and undefines it here; its volumes here "
		"are then deleted.  The\ndestination's QEMU listens on "
		"tcp://HOST of a remote --to, or on --migrate-uri\n"
		"(tcp://ADDRESS the source can reach).  A VM with a "
		"passed-through device (VFIO)\ncannot migrate: `vmctl move` "
		"it.  On failure what was made there is removed and\nthe VM "
		"keeps running here.  --json prints {\"name\", \"from\", "
		"\"to\", \"state\",\n\"seconds\"}.\n",
	.full_name = true,
	.remote = true,
	.options = options,
	.exec = cmd_migrate_exec,
};

const struct cmd_entry cmd_move_entry = {
	.name = "move",
	.usage = "NAME --to HOST [--timeout SECONDS] --connect HOST",
	.summary = "move a VM to another libvirt host, stopped (cold)",
	.help = "Stops the VM (its power button, then libvirt's destroy "
		"after SECONDS, default\n60), carries its overlay and seed "
		"through this machine to --to (its base from\nthe local "
		"verified image cache, unless there already), defines it there "
		"and\nstarts it if it was running; only then is it undefined "
		"here and its volumes\ndeleted.  On failure what was made "
		"there is removed and the VM stays here\n(started again if "
		"it was running).  Works for VMs with passed-through devices\n"
		"where the destination has them.  --json as migrate's.\n",
	.full_name = true,
	.remote = true,
	.options = options,
	.exec = cmd_move_exec,
};
