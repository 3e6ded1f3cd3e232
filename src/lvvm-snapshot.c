// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Snapshots and save/restore on a libvirt host (lvvm-snapshot.h):
 * internal qcow2 snapshots with libvirt's metadata as the tree, and
 * libvirt's managed save.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vmctl/lazylib.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvsnapshot.h"
#include "vmctl/lvvm-snapshot.h"
#include "vmctl/lvvm.h"
#include "vmctl/view.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/xalloc.h"

/* The VM an operation works on. */
struct snapctx {
	virConnectPtr conn;
	char *uri;
	virDomainPtr dom;
	struct snapshot_vm vm;
	bool uefi;           /* a pflash variable store */
	bool saved;          /* a managed save image is there */
};

static void ctx_close(struct snapctx *c)
{
	if (c->dom != NULL)
		sym_virDomainFree(c->dom);
	lvconn_close(c->conn);
	free(c->uri);
	*c = (struct snapctx){ 0 };
}

/* Opened, and *uri given the URI (also on failure, once known). */
static int ctx_open(struct snapctx *c, const struct vmctl_env *env,
		    const char *name, unsigned flags, char **uri,
		    struct vmctl_error **err)
{
	char *xml;

	*c = (struct snapctx){ 0 };
	if (lvvm_open_vm(env, name, flags, &c->conn, &c->uri, &c->dom,
			 err) < 0)
		return -1;
	if (uri != NULL)
		*uri = xstrdup(c->uri);
	c->vm.name = name;
	c->vm.running = sym_virDomainIsActive(c->dom) == 1;
	c->saved = !c->vm.running &&
		   sym_virDomainHasManagedSaveImage(c->dom, 0) == 1;
	xml = sym_virDomainGetXMLDesc(c->dom, 0);
	if (xml == NULL)
		return lvconn_error(err, c->uri, false, name);
	if (lvsnapshot_domain_facts(xml, &c->vm.gpu, &c->uefi) < 0) {
		free(xml);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s: "
				       "the domain's XML does not parse",
				       c->uri, name);
	}
	free(xml);
	sym_virResetLastError();
	return 0;
}

/* The snapshot `snap`, or the error naming it unknown. */
static virDomainSnapshotPtr lookup(const struct snapctx *c, const char *snap,
				   struct vmctl_error **err)
{
	virDomainSnapshotPtr s = sym_virDomainSnapshotLookupByName(c->dom, snap,
								   0);
	virErrorPtr e;

	if (s != NULL)
		return s;
	e = sym_virGetLastError();
	if (e != NULL && e->code == VIR_ERR_NO_DOMAIN_SNAPSHOT) {
		sym_virResetLastError();
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT, "%s: VM %s has "
				"no snapshot \"%s\" (see vmctl snapshot list "
				"%s)", c->uri, c->vm.name, snap, c->vm.name);
	} else {
		lvconn_error(err, c->uri, false, snap);
	}
	return NULL;
}

static int read_snapshot(const struct snapctx *c, virDomainSnapshotPtr s,
			 struct lvsnapshot *out, struct vmctl_error **err)
{
	char *xml = sym_virDomainSnapshotGetXMLDesc(s, 0);
	int ret;

	if (xml == NULL)
		return lvconn_error(err, c->uri, false,
				    sym_virDomainSnapshotGetName(s));
	ret = lvsnapshot_parse(xml, out, err);
	free(xml);
	if (ret < 0)
		vmctl_error_wrap(err, "%s: VM %s", c->uri, c->vm.name);
	return ret;
}

/* A rule's refusal, said with the URI. */
static int plan(const struct snapctx *c, enum snapshot_op op,
		struct vmctl_error **err)
{
	if (lvsnapshot_plan(op, &c->vm, c->uefi, err) < 0)
		return vmctl_error_wrap(err, "%s", c->uri);
	return 0;
}

int lvvm_snapshot_create(const struct vmctl_env *env, const char *name,
			 const char *snap, bool memory, char **uri,
			 struct vmctl_error **err)
{
	struct snapctx c;
	virDomainSnapshotPtr s;
	cleanup_free char *xml = NULL;
	int ret = -1;

	if (snapshot_check_name(snap, err) < 0)
		return -1;
	if (ctx_open(&c, env, name, 0, uri, err) < 0)
		goto out;
	s = sym_virDomainSnapshotLookupByName(c.dom, snap, 0);
	if (s != NULL) {
		sym_virDomainSnapshotFree(s);
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST, "%s: VM %s "
				"already has a snapshot \"%s\"", c.uri, name,
				snap);
		goto out;
	}
	sym_virResetLastError();
	c.vm.memory = memory;
	if (plan(&c, SNAPSHOT_CREATE, err) < 0)
		goto out;
	/* Running: libvirt pauses the guest for QEMU's savevm only (an
	 * internal snapshot cannot be live), and resumes it. */
	xml = lvsnapshot_create_xml(snap, memory);
	s = sym_virDomainSnapshotCreateXML(c.dom, xml, 0);
	if (s == NULL) {
		lvconn_error(err, c.uri, false, "taking the snapshot");
		goto out;
	}
	sym_virDomainSnapshotFree(s);
	ret = 0;
out:
	ctx_close(&c);
	return ret;
}

int lvvm_snapshot_revert(const struct vmctl_env *env, const char *name,
			 const char *snap, bool *resumes, char **uri,
			 struct vmctl_error **err)
{
	struct snapctx c;
	virDomainSnapshotPtr s = NULL;
	struct lvsnapshot info = { 0 };
	unsigned flags = 0;
	int ret = -1;

	*resumes = false;
	if (snapshot_check_name(snap, err) < 0)
		return -1;
	if (ctx_open(&c, env, name, 0, uri, err) < 0 ||
	    (s = lookup(&c, snap, err)) == NULL ||
	    read_snapshot(&c, s, &info, err) < 0)
		goto out;
	c.vm.memory = info.memory;
	if (plan(&c, SNAPSHOT_REVERT, err) < 0)
		goto out;
	/* A saved state is of the disk about to be replaced: it goes
	 * (libvirt refuses the revert while it is there). */
	if (c.saved && sym_virDomainManagedSaveRemove(c.dom, 0) < 0) {
		lvconn_error(err, c.uri, false, "removing the saved state");
		goto out;
	}
	/* RAM reverted on a stopped VM is kept for its next start, as on
	 * the direct backend: reverted paused, then managed-saved. */
	if (info.memory)
		flags = c.vm.running ? VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING
				     : VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED;
	if (sym_virDomainRevertToSnapshot(s, flags) < 0) {
		lvconn_error(err, c.uri, false, "reverting");
		goto out;
	}
	if (info.memory && !c.vm.running &&
	    sym_virDomainManagedSave(c.dom, VIR_DOMAIN_SAVE_RUNNING) < 0) {
		lvconn_error(err, c.uri, false, "keeping the reverted memory "
			     "for the next start");
		/* stopped again, its disk at the snapshot */
		sym_virDomainDestroy(c.dom);
		sym_virResetLastError();
		goto out;
	}
	*resumes = info.memory;
	ret = 0;
out:
	if (s != NULL)
		sym_virDomainSnapshotFree(s);
	lvsnapshot_clear(&info);
	ctx_close(&c);
	return ret;
}

int lvvm_snapshot_delete(const struct vmctl_env *env, const char *name,
			 const char *snap, char **uri,
			 struct vmctl_error **err)
{
	struct snapctx c;
	virDomainSnapshotPtr s = NULL;
	int ret = -1;

	if (snapshot_check_name(snap, err) < 0)
		return -1;
	if (ctx_open(&c, env, name, 0, uri, err) < 0 ||
	    (s = lookup(&c, snap, err)) == NULL ||
	    plan(&c, SNAPSHOT_DELETE, err) < 0)
		goto out;
	/* its children move to its parent */
	if (sym_virDomainSnapshotDelete(s, 0) < 0) {
		lvconn_error(err, c.uri, false, "deleting the snapshot");
		goto out;
	}
	ret = 0;
out:
	if (s != NULL)
		sym_virDomainSnapshotFree(s);
	ctx_close(&c);
	return ret;
}

int lvvm_snapshot_list(const struct vmctl_env *env, const char *name,
		       struct snapshot_record *rec,
		       struct snapshot_image **img, size_t *n_img, char **uri,
		       struct vmctl_error **err)
{
	struct snapctx c;
	virDomainSnapshotPtr *snaps = NULL;
	struct lvsnapshot *v = NULL;
	cleanup_free char *current = NULL;
	int n = 0, k = 0, ret = -1;

	if (ctx_open(&c, env, name, LVCONN_READ_ONLY, uri, err) < 0)
		goto out;
	n = sym_virDomainListAllSnapshots(c.dom, &snaps,
				     VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL);
	if (n < 0) {
		lvconn_error(err, c.uri, false, "listing snapshots");
		goto out;
	}
	v = xcalloc((size_t)n + 1, sizeof(*v));
	for (k = 0; k < n; k++) {
		if (read_snapshot(&c, snaps[k], &v[k], err) < 0)
			goto out;
		if (current == NULL &&
		    sym_virDomainSnapshotIsCurrent(snaps[k], 0) == 1)
			current = xstrdup(v[k].name);
	}
	sym_virResetLastError();
	lvsnapshot_record(v, (size_t)n, current, c.saved, rec, img, n_img);
	v = NULL;
	ret = 0;
out:
	for (int i = 0; i < n; i++)
		sym_virDomainSnapshotFree(snaps[i]);
	free(snaps);
	for (int i = 0; v != NULL && i < k; i++)
		lvsnapshot_clear(&v[i]);
	free(v);
	ctx_close(&c);
	return ret;
}

int lvvm_snapshot_movable(virDomainPtr dom, const char *uri,
			  const char *name, struct vmctl_error **err)
{
	int n = sym_virDomainSnapshotNum(dom, 0);

	if (n < 0)
		return lvconn_error(err, uri, false, "counting snapshots");
	if (n > 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s "
				       "has %d snapshot%s: libvirt's record of "
				       "them would not go with it (vmctl "
				       "snapshot delete them first)", uri,
				       name, n, n == 1 ? "" : "s");
	if (sym_virDomainHasManagedSaveImage(dom, 0) == 1)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s "
				       "holds a saved state, which would not go "
				       "with it (vmctl start %s first)", uri,
				       name, name);
	sym_virResetLastError();
	return 0;
}

/* ---- save / restore ------------------------------------------------------ */

int lvvm_cmd_save(const struct vmctl_env *env, const char *name,
		  struct vmctl_error **err)
{
	struct snapctx c;
	int ret = -1;

	if (ctx_open(&c, env, name, 0, NULL, err) < 0 ||
	    plan(&c, SNAPSHOT_SAVE, err) < 0)
		goto out;
	if (sym_virDomainManagedSave(c.dom, VIR_DOMAIN_SAVE_RUNNING) < 0) {
		lvconn_error(err, c.uri, false, "saving the VM");
		goto out;
	}
	if (env->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "state",
					vm_run_state_name(VM_SAVED));
		cJSON_AddStringToObject(o, "backend", "libvirt");
		cJSON_AddStringToObject(o, "host", c.uri);
		view_print_json(o);
		cJSON_Delete(o);
	} else if (env->verbosity >= 0) {
		printf("Saved VM %s on %s (vmctl --connect %s start %s resumes "
		       "it)\n", name, c.uri, c.uri, name);
	}
	ret = VMCTL_EXIT_OK;
out:
	ctx_close(&c);
	return ret;
}

int lvvm_cmd_save_discard(const struct vmctl_env *env, const char *name,
			  struct vmctl_error **err)
{
	struct snapctx c;
	int ret = -1;

	if (ctx_open(&c, env, name, 0, NULL, err) < 0)
		goto out;
	if (!c.saved) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT, "%s: VM %s "
				"holds no saved state", c.uri, name);
		goto out;
	}
	if (sym_virDomainManagedSaveRemove(c.dom, 0) < 0) {
		lvconn_error(err, c.uri, false, "discarding the saved state");
		goto out;
	}
	if (env->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "state",
					vm_run_state_name(VM_STOPPED));
		cJSON_AddBoolToObject(o, "discarded", true);
		cJSON_AddStringToObject(o, "backend", "libvirt");
		cJSON_AddStringToObject(o, "host", c.uri);
		view_print_json(o);
		cJSON_Delete(o);
	} else if (env->verbosity >= 0) {
		printf("Discarded the saved state of VM %s on %s (its next "
		       "start boots afresh)\n", name, c.uri);
	}
	ret = VMCTL_EXIT_OK;
out:
	ctx_close(&c);
	return ret;
}

int lvvm_cmd_restore(const struct vmctl_env *env, const char *name,
		     struct vmctl_error **err)
{
	struct snapctx c;
	struct lvvm_info info = { 0 };
	int ret = -1;

	if (ctx_open(&c, env, name, 0, NULL, err) < 0)
		goto out;
	if (!c.saved) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT, "%s: VM %s "
				"holds no saved state (vmctl start %s boots "
				"it)", c.uri, name, name);
		goto out;
	}
	/* libvirt resumes the managed save image */
	if (sym_virDomainCreate(c.dom) < 0) {
		lvconn_error(err, c.uri, false, name);
		goto out;
	}
	if (lvvm_domain_info(c.dom, c.uri, &info, err) < 0)
		goto out;
	{
		cleanup_free char *headline = xasprintf("Restored VM %s", name);

		lvvm_print_result(env, c.uri, &info, headline);
	}
	ret = VMCTL_EXIT_OK;
out:
	lvvm_info_clear(&info);
	ctx_close(&c);
	return ret;
}
