// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pure rules of `vmctl cdrom` and `vmctl disk` (media.h).
 */
#include <inttypes.h>
#include <string.h>

#include "vmctl/broker.h"
#include "vmctl/media.h"
#include "vmctl/xalloc.h"

bool media_cdrom_first(const struct vmctl_spec *spec, bool booted,
		       bool resuming)
{
	return spec->boot == SPEC_BOOT_CDROM_ONCE && spec->cdrom_drive &&
	       spec->cdrom != NULL && !booted && !resuming;
}

size_t media_boot_swap_paths(const char *cdrom, const char *disk,
			     struct media_qom_set out[3])
{
	out[0] = (struct media_qom_set){ cdrom, -1 };
	out[1] = (struct media_qom_set){ disk, 1 };
	out[2] = (struct media_qom_set){ cdrom, 2 };
	return 3;
}

size_t media_boot_swap(struct media_qom_set out[3])
{
	return media_boot_swap_paths(MEDIA_QOM_PREFIX MEDIA_CDROM_ID,
				     MEDIA_QOM_PREFIX MEDIA_DISK_ID, out);
}

cJSON *media_qom_set_args(const struct media_qom_set *step)
{
	cJSON *a = cJSON_CreateObject();

	cJSON_AddStringToObject(a, "path", step->path);
	cJSON_AddStringToObject(a, "property", "bootindex");
	cJSON_AddNumberToObject(a, "value", step->value);
	return a;
}

const char *media_cdrom_node(const char *current)
{
	return current != NULL && strcmp(current, "cdrom0") == 0 ? "cdrom1"
								 : "cdrom0";
}

cJSON *media_cdrom_file_node(const char *node, long fdset)
{
	cJSON *a = cJSON_CreateObject();
	cleanup_free char *file = xasprintf("%s-file", node);
	cleanup_free char *path = xasprintf("/dev/fdset/%ld", fdset);

	cJSON_AddStringToObject(a, "driver", "file");
	cJSON_AddStringToObject(a, "node-name", file);
	cJSON_AddStringToObject(a, "filename", path);
	cJSON_AddTrueToObject(a, "read-only");
	return a;
}

cJSON *media_cdrom_raw_node(const char *node)
{
	cJSON *a = cJSON_CreateObject();
	cleanup_free char *file = xasprintf("%s-file", node);

	cJSON_AddStringToObject(a, "driver", "raw");
	cJSON_AddStringToObject(a, "node-name", node);
	cJSON_AddStringToObject(a, "file", file);
	cJSON_AddTrueToObject(a, "read-only");
	return a;
}

cJSON *media_cdrom_args(const char *node)
{
	cJSON *a = cJSON_CreateObject();

	cJSON_AddStringToObject(a, "id", MEDIA_CDROM_ID);
	if (node != NULL)
		cJSON_AddStringToObject(a, "node-name", node);
	return a;
}

int media_resize_target(const char *name, const char *arg, uint64_t current,
			uint64_t *out, struct vmctl_error **err)
{
	bool relative = arg[0] == '+';
	uint64_t size;
	cleanup_free char *now = broker_size_format(current);

	if (spec_parse_size(arg + relative, &size) < 0)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "disk resize: "
				       "SIZE is a size such as 40G, or +10G "
				       "to grow by, not \"%s\"", arg);
	if (relative && size > UINT64_MAX - current)
		return vmctl_error_set(err, VMCTL_EXIT_SPEC, 0, "VM %s: %s "
				       "more than %s is too large", name,
				       arg + 1, now);
	if (relative)
		size += current;
	if (size <= current)
		return vmctl_error_set(err, VMCTL_EXIT_SPEC, 0, "VM %s: its "
				       "disk is %s (%" PRIu64 " bytes): disk "
				       "resize only grows it, and %s is not "
				       "larger", name, now, current, arg);
	*out = size;
	return 0;
}

void media_resize_argv(const char *overlay, uint64_t size, struct strv *argv)
{
	strv_push(argv, "qemu-img");
	strv_push(argv, "resize");
	strv_push(argv, "-q");
	strv_push(argv, "-f");
	strv_push(argv, "qcow2");
	strv_push(argv, overlay);
	strv_pushf(argv, "%" PRIu64, size);
}

cJSON *media_block_resize_args(uint64_t size)
{
	cJSON *a = cJSON_CreateObject();

	cJSON_AddStringToObject(a, "node-name", MEDIA_DISK_ID);
	cJSON_AddNumberToObject(a, "size", (double)size);
	return a;
}

void media_status_json(cJSON *o, const struct vmctl_spec *spec, bool booted)
{
	cJSON *b;

	if (spec->cdrom_drive) {
		cJSON *c = cJSON_AddObjectToObject(o, "cdrom");

		if (spec->cdrom != NULL)
			cJSON_AddStringToObject(c, "medium", spec->cdrom);
		else
			cJSON_AddNullToObject(c, "medium");
	} else {
		cJSON_AddNullToObject(o, "cdrom");
	}
	b = cJSON_AddObjectToObject(o, "boot");
	cJSON_AddStringToObject(b, "order", spec_boot_name(spec->boot));
	cJSON_AddBoolToObject(b, "cdrom_booted",
			      spec->boot == SPEC_BOOT_CDROM_ONCE && booted);
}

char *media_status_text(const struct vmctl_spec *spec, bool booted)
{
	cleanup_free char *cdrom = NULL;

	if (spec->cdrom_drive)
		cdrom = xasprintf("cdrom:      %s\n", spec->cdrom != NULL
				  ? spec->cdrom : "(empty)");
	return xasprintf("%s%s", cdrom != NULL ? cdrom : "",
			 spec->boot != SPEC_BOOT_CDROM_ONCE ? ""
			 : booted ? "boot:       cdrom-once (done: the disk "
				    "boots first now)\n"
				  : "boot:       cdrom-once (the next start "
				    "boots the CD-ROM first)\n");
}
