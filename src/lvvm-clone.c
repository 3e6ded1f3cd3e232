// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `clone SRC DST` on a libvirt host (lvvm.h): SRC stopped, DST made as
 * create makes a VM from SRC's spec (kept here with its keys, lvvm-ssh.h)
 * renamed, with a new UUID, keys, seed (a new cloud-init instance-id),
 * MAC (from its name), VNC password, serial log and UEFI variables from
 * the template.  DST's overlay is SRC's overlay file carried through this
 * machine (virStorageVolDownload, then upload): its header names the same
 * base, so DST stands on SRC's base and on nothing of SRC's.  (libvirt's
 * virStorageVolCreateXMLFrom flattens the chain and drops the backing
 * file: a full copy of the base for every clone.)  What a failed clone
 * made is removed before the error returns; DST is left stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "vmctl/cmd.h"
#include "vmctl/firmware.h"
#include "vmctl/fsutil.h"
#include "vmctl/interrupt.h"
#include "vmctl/lazylib.h"
#include "vmctl/lvclone.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvstore.h"
#include "vmctl/lvvm-console.h"
#include "vmctl/lvvm-devices.h"
#include "vmctl/lvvm-ssh.h"
#include "vmctl/lvvm.h"
#include "vmctl/view.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

struct clone_ctx {
	const struct vmctl_env *env;
	const char *src_name, *dst;
	virConnectPtr conn;
	char *uri;
	virDomainPtr src;
	struct libvirt_meta meta;    /* SRC's mark */
	struct lvvm_info src_info;
	struct lvclone_src files;    /* what SRC's domain names */
	struct vmctl_spec *spec;     /* SRC's, renamed DST */
	virStoragePoolPtr pool;
	char uuid[VIR_UUID_STRING_BUFLEN];   /* DST's */
	struct lvvm_keys keys;
	struct lvvm_devices dev;
	struct firmware_ovmf fw;
	char *scratch;               /* the overlay's local copy */
	/* made on the host, undone on failure */
	bool made_disk, made_seed, made_log;
	virDomainPtr dom;            /* DST, defined */
	/* the facts' strings */
	char *overlay, *seed, *serial_log, *nvram, *vnc_password, *created;
};

static void clone_ctx_clear(struct clone_ctx *c)
{
	struct vmctl_error *ignored = NULL;

	if (c->scratch != NULL)
		fs_remove_tree(c->scratch, &ignored);
	vmctl_error_free(ignored);
	if (c->dom != NULL)
		sym_virDomainFree(c->dom);
	if (c->src != NULL)
		sym_virDomainFree(c->src);
	if (c->pool != NULL)
		sym_virStoragePoolFree(c->pool);
	lvconn_close(c->conn);
	libvirt_meta_clear(&c->meta);
	lvvm_info_clear(&c->src_info);
	lvclone_src_clear(&c->files);
	spec_free(c->spec);
	lvvm_keys_clear(&c->keys);
	lvvm_devices_clear(&c->dev);
	firmware_ovmf_clear(&c->fw);
	free(c->uri);
	free(c->scratch);
	free(c->overlay);
	free(c->seed);
	free(c->serial_log);
	free(c->nvram);
	free(c->vnc_password);
	free(c->created);
}

static void undo(struct clone_ctx *c)
{
	struct vmctl_error *ignored = NULL;
	cleanup_free char *disk = lvstore_disk_name(c->dst);
	cleanup_free char *seed = lvstore_seed_name(c->dst);

	if (c->dom != NULL)
		sym_virDomainUndefineFlags(c->dom, VIR_DOMAIN_UNDEFINE_NVRAM);
	if (c->made_disk)
		lvstore_delete(c->pool, c->uri, disk, &ignored);
	vmctl_error_free(ignored);
	ignored = NULL;
	if (c->made_seed)
		lvstore_delete(c->pool, c->uri, seed, &ignored);
	vmctl_error_free(ignored);
	ignored = NULL;
	if (c->made_log)
		lvvm_console_delete_logs(c->pool, c->uri, c->dst, &ignored);
	vmctl_error_free(ignored);
	lvvm_keys_undo(&c->keys);
	sym_virResetLastError();
}

/* One of DST's volumes that exists already (a new string), or NULL. */
static char *dst_volume_taken(struct clone_ctx *c)
{
	char *names[] = { lvstore_disk_name(c->dst), lvstore_seed_name(c->dst),
			  lvvm_console_log_name(c->dst) };
	char *taken = NULL;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		virStorageVolPtr v = sym_virStorageVolLookupByName(c->pool,
								   names[i]);

		if (v != NULL) {
			sym_virStorageVolFree(v);
			if (taken == NULL)
				taken = steal_pointer(&names[i]);
		}
		free(names[i]);
	}
	sym_virResetLastError();
	return taken;
}

/* SRC found, read, and the clone allowed. */
static int check(struct clone_ctx *c, bool linked, struct vmctl_error **err)
{
	cleanup_free char *taken = NULL;
	virDomainPtr d;
	int n_snap;
	struct lvclone_check chk = {
		.src = c->src_name, .dst = c->dst, .linked = linked,
	};

	/* --linked: a usage error, before any host is reached */
	chk.uri = c->env->connect;
	if (linked)
		return lvclone_check(&chk, err);
	if (lvconn_open_env(c->env, 0, &c->conn, &c->uri, err) < 0)
		return -1;
	chk.uri = c->uri;
	if (lvvm_find(c->conn, c->uri, c->src_name, &c->src, &c->meta,
		      err) < 0 ||
	    lvvm_domain_info(c->src, c->uri, &c->src_info, err) < 0 ||
	    lvstore_pool(c->conn, c->uri, &c->pool, err) < 0)
		return -1;
	chk.state = c->src_info.state;
	n_snap = sym_virDomainSnapshotNum(c->src, 0);
	if (n_snap < 0)
		return lvconn_error(err, c->uri, false, c->src_name);
	chk.n_snapshots = (size_t)n_snap;
	d = spec_name_valid(c->dst) ? sym_virDomainLookupByName(c->conn, c->dst)
				    : NULL;
	chk.dst_domain = d != NULL;
	if (d != NULL)
		sym_virDomainFree(d);
	sym_virResetLastError();
	if (spec_name_valid(c->dst))
		taken = dst_volume_taken(c);
	chk.dst_volume = taken;
	return lvclone_check(&chk, err);
}

/* SRC's spec as create kept it here, and what its domain names. */
static int read_src(struct clone_ctx *c, struct vmctl_error **err)
{
	char uuid[VIR_UUID_STRING_BUFLEN];
	cleanup_free char *dir = NULL, *path = NULL, *xml = NULL;

	if (sym_virDomainGetUUIDString(c->src, uuid) < 0)
		return lvconn_error(err, c->uri, false, c->src_name);
	dir = lvvm_keys_dir(c->env, uuid);
	path = xasprintf("%s/%s", dir, VMDIR_SPEC);
	if (access(path, F_OK) < 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, errno, "%s: VM "
				       "%s: its spec is not kept on this machine "
				       "(%s): clone it from the machine that "
				       "created it", c->uri, c->src_name, dir);
	if (spec_load_file(path, &c->spec, err) < 0 ||
	    vm_spec_rename(c->spec, c->dst, err) < 0)
		return -1;
	xml = sym_virDomainGetXMLDesc(c->src, VIR_DOMAIN_XML_INACTIVE);
	if (xml == NULL)
		return lvconn_error(err, c->uri, false, c->src_name);
	if (lvclone_src_parse(xml, &c->files, err) < 0)
		return vmctl_error_wrap(err, "%s: %s", c->uri, c->src_name);
	if (c->spec->disk.image != NULL && (c->files.overlay == NULL ||
					    c->files.base == NULL))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s: "
				       "its domain names no overlay over a base",
				       c->uri, c->src_name);
	return 0;
}

/* DST's overlay: SRC's overlay file, byte for byte (its header names the
 * same base), through a local scratch file. */
static int copy_disk(struct clone_ctx *c, struct vmctl_error **err)
{
	cleanup_free char *parent = xasprintf("%s/" LVVM_KEYS_DIR,
					      c->env->state_dir);
	cleanup_free char *src_vol = lvstore_disk_name(c->src_name);
	cleanup_free char *dst_vol = lvstore_disk_name(c->dst);
	cleanup_free char *local = NULL;

	if (fs_mkdir_p(parent, 0700, err) < 0)
		return -1;
	/* (hidden, ".new-PID-": swept as a create's stage if we die) */
	c->scratch = xasprintf("%s/.clone-%s.new-%ld-XXXXXX", parent, c->dst,
			       (long)getpid());
	if (mkdtemp(c->scratch) == NULL) {
		free(c->scratch);
		c->scratch = NULL;
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 parent);
	}
	local = xasprintf("%s/%s", c->scratch, dst_vol);
	if (lvstore_download_file(c->pool, c->uri, src_vol, local, err) < 0)
		return -1;
	if (lvstore_upload(c->pool, c->uri, dst_vol, local, &c->overlay,
			   err) < 0)
		return -1;
	c->made_disk = true;
	return 0;
}

static int make_facts(struct clone_ctx *c, struct libvirt_facts *f,
		      struct vmctl_error **err)
{
	const struct vmctl_spec *spec = c->spec;

	c->created = xasprintf("%lld", (long long)time(NULL));
	*f = (struct libvirt_facts){
		.name = spec->name,
		.uuid = c->uuid,
		.accel = c->src_info.accel && strcmp(c->src_info.accel,
						     "kvm") == 0
			 ? SPEC_ACCEL_KVM : SPEC_ACCEL_TCG,
		.emulator = NULL,
		.overlay = c->overlay,
		.base = c->files.base,
		.base_format = c->files.base_format ? c->files.base_format
						    : "qcow2",
		.seed = c->seed,
		.serial_log = c->serial_log,
		.network = LVVM_NETWORK,
		.meta_created = c->created,
		.meta_image = c->meta.image ? c->meta.image : spec->disk.image,
		.meta_digest = c->meta.digest,
		.kernel = c->files.kernel,
		.initrd = c->files.initrd,
		.cdrom = c->files.cdrom,
		.hugepage_size = c->dev.hugepage_size,
		.gpus = c->dev.gpus,
		.n_gpus = c->dev.n_gpus,
	};
	/* fresh variables from the template and a password, as create's */
	return lvvm_facts_own(c->env, spec, f, &c->fw, &c->nvram,
			      &c->vnc_password, err);
}

static int clone(struct clone_ctx *c, struct vmctl_error **err)
{
	struct libvirt_facts f;
	cleanup_free char *xml = NULL, *iso = NULL, *emulator = NULL;
	cleanup_free char *seed_vol = lvstore_seed_name(c->dst);

	if (read_src(c, err) < 0 ||
	    lvvm_devices_resolve(c->conn, c->uri, c->spec, &c->dev, err) < 0)
		return -1;
	lvvm_uuid_random(c->uuid);
	/* (each marked made once it is: a clone racing for DST's names
	 * must not remove the other's) */
	if (lvvm_console_make_log(c->pool, c->uri, c->dst, &c->serial_log,
				  err) < 0)
		return -1;
	c->made_log = true;
	if (c->spec->disk.image != NULL && copy_disk(c, err) < 0)
		return -1;
	if (c->spec->cloud_init.enabled) {
		if (lvvm_keys_prepare(c->env, c->uuid, c->spec, &c->keys, &iso,
				      err) < 0)
			return -1;
		if (lvstore_upload(c->pool, c->uri, seed_vol, iso, &c->seed,
				   err) < 0)
			return -1;
		c->made_seed = true;
	}
	if (make_facts(c, &f, err) < 0)
		return -1;
	emulator = strchr(c->spec->qemu.binary, '/')
		   ? xstrdup(c->spec->qemu.binary)
		   : xasprintf(LVVM_EMULATOR_DIR "/%s", c->spec->qemu.binary);
	f.emulator = emulator;
	if (libvirt_xml_build(c->spec, &f, &xml, err) < 0)
		return -1;
	c->dom = sym_virDomainDefineXML(c->conn, xml);
	if (c->dom == NULL)
		return lvconn_error(err, c->uri, false, "defining the domain");
	if (lvvm_keys_commit(c->env, c->uuid, &c->keys, err) < 0)
		return -1;
	if (interrupt_pending())
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR,
				       "interrupted");
	return 0;
}

static void print_result(const struct clone_ctx *c,
			 const struct lvvm_info *info)
{
	if (c->env->json) {
		cJSON *j = lvvm_info_json(info, c->uri, false);
		cJSON *o = cJSON_AddObjectToObject(j, "clone");

		cJSON_AddStringToObject(o, "source", c->src_name);
		cJSON_AddBoolToObject(o, "linked", false);
		cJSON_AddNullToObject(o, "layer");
		view_print_json(j);
		cJSON_Delete(j);
	} else if (c->env->verbosity >= 0) {
		printf("Cloned VM %s into %s (a full copy over the same base; "
		       "vmctl --connect %s start %s)\n  host:    %s\n",
		       c->src_name, c->dst, c->uri, c->dst, c->uri);
	}
}

int lvvm_cmd_clone(const struct vmctl_env *env, const char *src,
		   const char *dst, bool linked, struct vmctl_error **err)
{
	struct clone_ctx c = { .env = env, .src_name = src, .dst = dst };
	struct lvvm_info info = { 0 };
	int ret = -1;

	if (check(&c, linked, err) < 0)
		goto out;
	if (clone(&c, err) < 0) {
		vmctl_error_wrap(err, "cloning VM %s into %s", src, dst);
		undo(&c);
		goto out;
	}
	if (lvvm_domain_info(c.dom, c.uri, &info, err) < 0)
		goto out;
	print_result(&c, &info);
	ret = VMCTL_EXIT_OK;
out:
	lvvm_info_clear(&info);
	clone_ctx_clear(&c);
	return ret;
}
