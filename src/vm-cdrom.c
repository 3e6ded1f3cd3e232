// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmctl cdrom NAME insert ISO | eject, and the boot order of boot:
 * cdrom-once once QEMU runs (vm-cdrom.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/media.h"
#include "vmctl/vm-cdrom.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vm-snapshot.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

#define QMP_TIMEOUT_MS 30000

void vm_cdrom_result_clear(struct vm_cdrom_result *r)
{
	free(r->medium);
	*r = (struct vm_cdrom_result){ 0 };
}

int vm_cdrom_iso_open(const char *iso, char **abs, int *fd,
		      struct vmctl_error **err)
{
	cleanup_free char *cwd = NULL, *joined = NULL;
	struct stat sb;

	if (*iso == '\0')
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				       "cdrom insert: the ISO's path is empty");
	if (iso[0] != '/') {
		cwd = getcwd(NULL, 0);
		if (cwd == NULL)
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
						 "the current directory");
		joined = xasprintf("%s/%s", cwd, iso);
	}
	*abs = fs_path_clean(joined != NULL ? joined : iso);
	/* (non-blocking: a FIFO must not hang the open; cleared below) */
	*fd = open(*abs, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (*fd < 0)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_NOINPUT), errno, "ISO %s",
				*abs);
	if (fstat(*fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(*fd);
		*fd = -1;
		return vmctl_error_set(err, VMCTL_EXIT_NOINPUT, 0, "ISO %s is "
				       "not a regular file", *abs);
	}
	if (fcntl(*fd, F_SETFL, 0) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "ISO %s", *abs);
	return 0;
}

/* ---- the VM ---------------------------------------------------------- */

struct cdctx {
	const struct vmctl_env *env;
	const char *name;
	int lock;
	struct vm_state st;
	struct vmctl_spec *spec;
	struct qmp *q;
};

static void ctx_close(struct cdctx *c)
{
	qmp_close(c->q);
	spec_free(c->spec);
	state_clear(&c->st);
	if (c->lock >= 0)
		close(c->lock);
}

static int ctx_open(struct cdctx *c, const struct vmctl_env *env,
		    const char *name, bool inserting, struct vmctl_error **err)
{
	*c = (struct cdctx){ .env = env, .name = name, .lock = -1 };
	if (vm_open(env, name, &c->lock, &c->st, err) < 0 ||
	    vm_load_spec(env, name, &c->spec, err) < 0)
		return -1;
	/* The saved state's devices must come back as they were saved. */
	if (c->st.qemu.pid <= 0 && vm_snapshot_saved(env, name))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s holds "
				       "a saved state: vmctl start %s resumes "
				       "it, then change its CD-ROM", name,
				       name);
	if (!c->spec->cdrom_drive && (!inserting || c->st.qemu.pid > 0))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s has "
				       "no CD-ROM drive%s", name, !inserting
				       ? "" : " (a running VM gets none): stop "
				       "it, and cdrom insert gives it one from "
				       "its next start");
	if (c->st.qemu.pid > 0) {
		cleanup_free char *sock = state_vm_file(env, name, VMDIR_QMP);

		if (qmp_open(sock, QMP_TIMEOUT_MS, &c->q, err) < 0)
			return vmctl_error_wrap(err, "VM %s", name);
	}
	return 0;
}

static int qmp_do(struct cdctx *c, const char *cmd, cJSON *args,
		  struct vmctl_error **err)
{
	if (qmp_execute(c->q, cmd, args, NULL, err) < 0)
		return vmctl_error_wrap(err, "VM %s", c->name);
	return 0;
}

/* The node of the medium in the drive now (NULL: empty), from
 * query-block. */
static int current_node(struct cdctx *c, char **node,
			struct vmctl_error **err)
{
	cJSON *blocks = NULL;
	const cJSON *b;
	bool found = false;

	*node = NULL;
	if (qmp_execute(c->q, "query-block", NULL, &blocks, err) < 0)
		return vmctl_error_wrap(err, "VM %s", c->name);
	cJSON_ArrayForEach(b, blocks) {
		const cJSON *qdev = cJSON_GetObjectItem(b, "qdev");
		const cJSON *ins = cJSON_GetObjectItem(b, "inserted");
		const cJSON *nn = cJSON_GetObjectItem(ins, "node-name");

		if (!cJSON_IsString(qdev) ||
		    (strcmp(qdev->valuestring, MEDIA_CDROM_ID) != 0 &&
		     strcmp(qdev->valuestring, MEDIA_QOM_PREFIX
			    MEDIA_CDROM_ID) != 0))
			continue;
		found = true;
		if (cJSON_IsString(nn))
			*node = xstrdup(nn->valuestring);
	}
	cJSON_Delete(blocks);
	if (!found)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s: QEMU "
				       "has no drive %s", c->name,
				       MEDIA_CDROM_ID);
	return 0;
}

/* blockdev-del of a medium's nodes (the raw one, then its file node);
 * what is not there is no error. */
static void del_nodes(struct cdctx *c, const char *node)
{
	cleanup_free char *file = xasprintf("%s-file", node);
	const char *nodes[] = { node, file };

	for (size_t i = 0; i < 2; i++) {
		cJSON *a = cJSON_CreateObject();

		cJSON_AddStringToObject(a, "node-name", nodes[i]);
		qmp_execute(c->q, "blockdev-del", a, NULL, NULL);
	}
}

/* The ISO's nodes, on a descriptor handed over with add-fd.  On failure
 * nothing of them is left. */
static int add_nodes(struct cdctx *c, const char *node, int fd,
		     struct vmctl_error **err)
{
	cJSON *args = cJSON_CreateObject(), *reply = NULL;
	const cJSON *id;
	long fdset;
	int ret;

	cJSON_AddStringToObject(args, "opaque", "vmctl-cdrom");
	if (qmp_execute_fd(c->q, "add-fd", args, fd, &reply, err) < 0)
		return vmctl_error_wrap(err, "VM %s", c->name);
	id = cJSON_GetObjectItem(reply, "fdset-id");
	fdset = cJSON_IsNumber(id) ? (long)id->valuedouble : -1;
	cJSON_Delete(reply);
	if (fdset < 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s: QMP "
				       "add-fd gave no fdset-id", c->name);
	del_nodes(c, node);   /* what a killed vmctl may have left */
	ret = qmp_do(c, "blockdev-add", media_cdrom_file_node(node, fdset),
		     err);
	if (ret == 0)
		ret = qmp_do(c, "blockdev-add", media_cdrom_raw_node(node),
			     err);
	if (ret < 0)
		del_nodes(c, node);
	/* The nodes hold a duplicate of their own: the set can go. */
	args = cJSON_CreateObject();
	cJSON_AddNumberToObject(args, "fdset-id", (double)fdset);
	qmp_execute(c->q, "remove-fd", args, NULL, NULL);
	return ret;
}

/* Open the tray (forced: a guest's lock does not hold it), take the
 * medium out, put `node` in (NULL: none), close it. */
static int swap_medium(struct cdctx *c, const char *old, const char *node,
		       struct vmctl_error **err)
{
	cJSON *open = media_cdrom_args(NULL);

	cJSON_AddTrueToObject(open, "force");
	if (qmp_do(c, "blockdev-open-tray", open, err) < 0)
		return -1;
	if (old != NULL && qmp_do(c, "blockdev-remove-medium",
				  media_cdrom_args(NULL), err) < 0)
		return -1;
	if (node != NULL && qmp_do(c, "blockdev-insert-medium",
				   media_cdrom_args(node), err) < 0)
		return -1;
	return qmp_do(c, "blockdev-close-tray", media_cdrom_args(NULL), err);
}

int vm_cdrom_insert(const struct vmctl_env *env, const char *name,
		    const char *iso, struct vm_cdrom_result *out,
		    struct vmctl_error **err)
{
	struct cdctx c;
	cleanup_free char *path = NULL, *old = NULL;
	cleanup_close int fd = -1;
	int ret = -1;

	*out = (struct vm_cdrom_result){ 0 };
	if (vm_cdrom_iso_open(iso, &path, &fd, err) < 0)
		return -1;
	if (ctx_open(&c, env, name, true, err) < 0)
		goto out;
	out->running = c.q != NULL;
	out->added_drive = !c.spec->cdrom_drive;
	if (c.q != NULL) {
		const char *node;

		if (current_node(&c, &old, err) < 0)
			goto out;
		node = media_cdrom_node(old);
		if (add_nodes(&c, node, fd, err) < 0)
			goto out;
		if (swap_medium(&c, old, node, err) < 0) {
			del_nodes(&c, node);   /* unless the drive has it */
			vmctl_error_wrap(err, "inserting %s", path);
			goto out;
		}
		if (old != NULL)
			del_nodes(&c, old);
	}
	free(c.spec->cdrom);
	c.spec->cdrom = xstrdup(path);
	c.spec->cdrom_drive = true;
	if (vm_write_spec(env, name, c.spec, err) < 0)
		goto out;
	out->medium = steal_pointer(&path);
	ret = 0;
out:
	ctx_close(&c);
	return ret;
}

int vm_cdrom_eject(const struct vmctl_env *env, const char *name,
		   struct vm_cdrom_result *out, struct vmctl_error **err)
{
	struct cdctx c;
	cleanup_free char *old = NULL;
	int ret = -1;

	*out = (struct vm_cdrom_result){ 0 };
	if (ctx_open(&c, env, name, false, err) < 0)
		goto out;
	out->running = c.q != NULL;
	if (c.q != NULL) {
		if (current_node(&c, &old, err) < 0)
			goto out;
		if (old != NULL) {
			if (swap_medium(&c, old, NULL, err) < 0)
				goto out;
			del_nodes(&c, old);
		}
	}
	out->was_empty = c.q != NULL ? old == NULL : c.spec->cdrom == NULL;
	free(c.spec->cdrom);
	c.spec->cdrom = NULL;
	ret = vm_write_spec(env, name, c.spec, err);
out:
	ctx_close(&c);
	return ret;
}

int vm_cdrom_booted(struct qmp *q, struct vmctl_error **err)
{
	struct media_qom_set steps[3];
	size_t n = media_boot_swap(steps);

	for (size_t i = 0; i < n; i++) {
		cJSON *a = media_qom_set_args(&steps[i]);

		if (qmp_execute(q, "qom-set", a, NULL, err) < 0)
			return vmctl_error_wrap(err, "boot: cdrom-once: the "
						"disk first after this boot");
	}
	return 0;
}
