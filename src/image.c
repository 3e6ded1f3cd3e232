// SPDX-License-Identifier: GPL-2.0-or-later
/* Disk images through qemu-img: format detection and qcow2 overlays. */
#include <cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/image.h"
#include "vmctl/proc.h"
#include "vmctl/xalloc.h"

void image_argv_overlay(const char *base, const char *base_format,
			const char *overlay, uint64_t size, struct strv *argv)
{
	strv_push(argv, "qemu-img");
	strv_push(argv, "create");
	strv_push(argv, "-q");
	strv_push(argv, "-f");
	strv_push(argv, "qcow2");
	strv_push(argv, "-F");
	strv_push(argv, base_format);
	strv_push(argv, "-b");
	strv_push(argv, base);
	strv_push(argv, overlay);
	if (size != 0)
		strv_pushf(argv, "%" PRIu64, size);
}

int image_info(const char *path, struct image_info *info,
	       struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;
	cJSON *o, *fmt, *size;
	int ret = -1;

	*info = (struct image_info){ 0 };
	strv_push(&argv, "qemu-img");
	strv_push(&argv, "info");
	strv_push(&argv, "--output=json");
	strv_push(&argv, path);
	if (proc_run(&argv, &r, err) < 0) {
		strv_clear(&argv);
		return vmctl_error_wrap(err, "reading image %s", path);
	}
	strv_clear(&argv);
	if (r.status != 0) {
		cleanup_free char *why = proc_result_summary(&r);

		proc_result_clear(&r);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "cannot read image %s: %s", path, why);
	}
	o = cJSON_Parse(r.out);
	fmt = cJSON_GetObjectItem(o, "format");
	size = cJSON_GetObjectItem(o, "virtual-size");
	if (cJSON_IsString(fmt) && cJSON_IsNumber(size)) {
		info->format = xstrdup(fmt->valuestring);
		info->virtual_size = (uint64_t)size->valuedouble;
		ret = 0;
	} else {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				"qemu-img info %s: unexpected output", path);
	}
	cJSON_Delete(o);
	proc_result_clear(&r);
	return ret;
}

void image_info_clear(struct image_info *info)
{
	free(info->format);
	*info = (struct image_info){ 0 };
}

int image_create_overlay(const char *base, const char *base_format,
			 const char *overlay, uint64_t size,
			 struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;
	int ret = 0;

	image_argv_overlay(base, base_format, overlay, size, &argv);
	if (proc_run(&argv, &r, err) < 0) {
		strv_clear(&argv);
		return -1;
	}
	strv_clear(&argv);
	if (r.status != 0) {
		cleanup_free char *why = proc_result_summary(&r);

		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				      "qemu-img create: %s", why);
	}
	proc_result_clear(&r);
	return ret;
}
