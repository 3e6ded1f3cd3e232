// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl disk resize NAME SIZE */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vmctl/broker.h"
#include "vmctl/cmd.h"
#include "vmctl/lvvm-media.h"
#include "vmctl/view.h"
#include "vmctl/vm-disk.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/xalloc.h"

static int cmd_disk_exec(struct vmctl_env *env, int argc, char **argv,
			 struct vmctl_error **err)
{
	const struct cmd_entry *cmd = &cmd_disk_entry;
	struct vm_disk_result r;
	cleanup_free char *uri = NULL;   /* --connect's */
	const char *name;
	int opt;

	while ((opt = cmd_getopt(cmd, env, argc, argv, "", NULL)) != -1)
		return cmd_done(opt);
	if (argc - optind < 1 || strcmp(argv[optind], "resize") != 0)
		return cmd_usage_error(cmd, err, argc - optind < 1
				       ? "resize?" : "unknown subcommand %s",
				       argv[optind]);
	if (argc - optind != 3)
		return cmd_usage_error(cmd, err, "resize takes a VM name and "
				       "a size");
	name = argv[optind + 1];
	if (env->connect != NULL
		    ? lvvm_disk_resize(env, name, argv[optind + 2], &r, &uri,
				       err) < 0
		    : vm_require(env, name, err) < 0 ||
		      vm_disk_resize(env, name, argv[optind + 2], &r, err) < 0)
		return -1;
	if (env->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddNumberToObject(o, "before", (double)r.before);
		cJSON_AddNumberToObject(o, "size", (double)r.after);
		cJSON_AddBoolToObject(o, "online", r.online);
		if (uri != NULL) {
			cJSON_AddStringToObject(o, "backend", "libvirt");
			cJSON_AddStringToObject(o, "host", uri);
		}
		view_print_json(o);
		cJSON_Delete(o);
	} else if (env->verbosity >= 0) {
		cleanup_free char *before = broker_size_format(r.before);
		cleanup_free char *after = broker_size_format(r.after);

		printf("Resized VM %s's disk from %s to %s (%" PRIu64 " bytes"
		       "%s)\n", name, before, after, r.after, r.online
		       ? ", while it runs" : "");
	}
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_disk_entry = {
	.name = "disk",
	.usage = "resize NAME SIZE",
	.summary = "grow a VM's disk (SIZE: 40G, or +10G to grow by)",
	.help = "Grow only: a SIZE not larger than the disk is refused (exit "
		"65) and nothing\nchanges.  A running VM's disk grows at once "
		"(QMP block_resize; a virtio\nguest sees the new size, SATA "
		"and SCSI guests after a rescan); a stopped\nVM's overlay "
		"with qemu-img resize.  The partitions and filesystems "
		"inside\nare the guest's to grow (cloud images do it at boot: "
		"cloud-init growpart).\nThe spec's disk.size becomes SIZE.  "
		"Not for a VM holding a saved state\n(start it first), nor "
		"with --connect yet.\n",
	.remote = true,   /* to say why --connect is refused */
	.exec = cmd_disk_exec,
};
