// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmctl disk resize NAME SIZE (vm-disk.h).
 */
#include <stdlib.h>
#include <unistd.h>

#include "vmctl/image.h"
#include "vmctl/media.h"
#include "vmctl/proc.h"
#include "vmctl/qmp.h"
#include "vmctl/vm-disk.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vm-snapshot.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

#define QMP_TIMEOUT_MS 60000

static int resize_online(const struct vmctl_env *env, const char *name,
			 uint64_t size, struct vmctl_error **err)
{
	cleanup_free char *sock = state_vm_file(env, name, VMDIR_QMP);
	struct qmp *q = NULL;
	int ret = qmp_open(sock, QMP_TIMEOUT_MS, &q, err);

	if (ret == 0)
		ret = qmp_execute(q, "block_resize",
				  media_block_resize_args(size), NULL, err);
	qmp_close(q);
	return ret < 0 ? vmctl_error_wrap(err, "VM %s", name) : 0;
}

static int resize_offline(const char *name, const char *overlay,
			  uint64_t size, struct vmctl_error **err)
{
	struct strv argv = { 0 };
	int ret;

	media_resize_argv(overlay, size, &argv);
	ret = proc_run_ok(&argv, "qemu-img resize", err);
	strv_clear(&argv);
	return ret < 0 ? vmctl_error_wrap(err, "VM %s", name) : 0;
}

int vm_disk_resize(const struct vmctl_env *env, const char *name,
		   const char *size, struct vm_disk_result *out,
		   struct vmctl_error **err)
{
	cleanup_free char *overlay = state_vm_file(env, name, VMDIR_DISK);
	struct vmctl_spec *spec = NULL;
	struct vm_state st;
	int lock, ret = -1;

	*out = (struct vm_disk_result){ 0 };
	if (vm_open(env, name, &lock, &st, err) < 0)
		return -1;
	out->online = st.qemu.pid > 0;
	if (vm_load_spec(env, name, &spec, err) < 0)
		goto out;
	if (spec->disk.image == NULL) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s has no disk",
				name);
		goto out;
	}
	/* The saved devices must come back as they were saved. */
	if (!out->online && vm_snapshot_saved(env, name)) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s holds a "
				"saved state: vmctl start %s resumes it, then "
				"resize its disk", name, name);
		goto out;
	}
	if (image_qcow2_size(overlay, &out->before, err) < 0 ||
	    media_resize_target(name, size, out->before, &out->after,
				err) < 0)
		goto out;
	if ((out->online ? resize_online(env, name, out->after, err)
			 : resize_offline(name, overlay, out->after, err)) < 0)
		goto out;
	spec->disk.size = out->after;
	ret = vm_write_spec(env, name, spec, err);
out:
	spec_free(spec);
	state_clear(&st);
	close(lock);
	return ret;
}
