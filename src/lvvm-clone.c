// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `clone SRC DST [--linked]` on a libvirt host (lvvm.h): SRC stopped, DST
 * made as create makes a VM from SRC's spec (kept here with its keys,
 * lvvm-ssh.h) renamed, with a new UUID, keys, seed (a new cloud-init
 * instance-id), MAC (from its name), VNC password, serial log and UEFI
 * variables from the template.  SRC's overlay file is carried through
 * this machine (virStorageVolDownload, then upload): its header names the
 * same backing file.  (libvirt's virStorageVolCreateXMLFrom flattens the
 * chain and drops the backing file: a full copy of the base for every
 * clone; and no libvirt call renames a volume.)
 *
 * A full clone: the copy is DST's overlay, over SRC's base (and SRC's
 * layers, if SRC is itself a linked clone: DST's domain names them).
 * --linked: the copy is a new layer volume, layer_SRC-HEX.qcow2; DST gets
 * an empty overlay over it, and last SRC does: its volume SRC.qcow2 is
 * deleted and made again as an empty overlay over the layer, and SRC's
 * domain redefined with the layer in its disk's <backingStore> chain.
 * Who stands on a layer is what the domains' chains say (destroy,
 * lvvm_layers_release()).  What a failed clone made is removed before
 * the error returns, SRC's overlay put back from the local copy; DST is
 * left stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "vmctl/clone-plan.h"
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
	bool linked;
	virConnectPtr conn;
	char *uri;
	virDomainPtr src;
	struct libvirt_meta meta;    /* SRC's mark */
	struct lvvm_info src_info;
	char *src_xml;               /* SRC's definition (with secrets) */
	struct lvclone_src files;    /* what SRC's domain names */
	struct vmctl_spec *spec;     /* SRC's, renamed DST */
	virStoragePoolPtr pool;
	char uuid[VIR_UUID_STRING_BUFLEN];   /* DST's */
	struct lvvm_keys keys;
	struct lvvm_devices dev;
	struct firmware_ovmf fw;
	char *scratch;               /* the overlay's local copy: */
	char *local;                 /* SRC's overlay file in it */
	unsigned long long capacity; /* SRC's disk's virtual size */
	/* --linked: the layer (its volume's name and path) and SRC's
	 * definition standing on it */
	char *layer_vol, *layer, *src_xml_new;
	/* made on the host, undone on failure */
	bool made_disk, made_seed, made_log, made_layer;
	/* --linked: SRC's overlay deleted, then made over the layer */
	bool src_disk_gone, src_disk_new;
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
	free(c->src_xml);
	free(c->local);
	free(c->layer_vol);
	free(c->layer);
	free(c->src_xml_new);
	free(c->scratch);
	free(c->overlay);
	free(c->seed);
	free(c->serial_log);
	free(c->nvram);
	free(c->vnc_password);
	free(c->created);
}

/* --linked: SRC's overlay back from the local copy, byte for byte, if
 * it was taken; -1 when it could not be (the layer holds what it held). */
static int undo_src(struct clone_ctx *c, struct vmctl_error **err)
{
	cleanup_free char *disk = lvstore_disk_name(c->src_name);
	cleanup_free char *path = NULL;

	if (c->src_disk_new && lvstore_delete(c->pool, c->uri, disk, err) < 0)
		return -1;
	if (c->src_disk_gone && lvstore_upload(c->pool, c->uri, disk,
					       c->local, &path, err) < 0)
		return -1;
	return 0;
}

static void undo(struct clone_ctx *c, struct vmctl_error **err)
{
	struct vmctl_error *ignored = NULL;
	cleanup_free char *disk = lvstore_disk_name(c->dst);
	cleanup_free char *seed = lvstore_seed_name(c->dst);

	if (undo_src(c, &ignored) < 0) {
		/* SRC's disk is in the layer and the copy here: both stay */
		vmctl_error_wrap(err, "VM %s's disk could not be put back "
				 "(%s): it is in volume %s and in %s",
				 c->src_name, ignored->message, c->layer_vol,
				 c->local);
		free(c->scratch);
		c->scratch = NULL;
		c->made_layer = false;
	}
	vmctl_error_free(ignored);
	ignored = NULL;
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
	ignored = NULL;
	if (c->made_layer)
		lvstore_delete(c->pool, c->uri, c->layer_vol, &ignored);
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
static int check(struct clone_ctx *c, struct vmctl_error **err)
{
	cleanup_free char *taken = NULL;
	virDomainPtr d;
	int n_snap;
	struct lvclone_check chk = {
		.src = c->src_name, .dst = c->dst, .linked = c->linked,
	};

	if (lvconn_open_env(c->env, 0, &c->conn, &c->uri, err) < 0)
		return -1;
	chk.uri = c->uri;
	if (lvvm_find(c->conn, c->uri, c->src_name, &c->src, &c->meta,
		      err) < 0 ||
	    lvvm_domain_info(c->src, c->uri, &c->src_info, err) < 0 ||
	    lvstore_pool(c->conn, c->uri, &c->pool, err) < 0)
		return -1;
	/* with its secrets (the VNC password): --linked redefines it */
	c->src_xml = sym_virDomainGetXMLDesc(c->src, VIR_DOMAIN_XML_INACTIVE |
					     VIR_DOMAIN_XML_SECURE);
	if (c->src_xml == NULL)
		return lvconn_error(err, c->uri, false, c->src_name);
	if (lvclone_src_parse(c->src_xml, &c->files, err) < 0)
		return vmctl_error_wrap(err, "%s: %s", c->uri, c->src_name);
	chk.has_disk = c->files.overlay != NULL && c->files.base != NULL;
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
	cleanup_free char *dir = NULL, *path = NULL;

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
	if (c->spec->disk.image != NULL && (c->files.overlay == NULL ||
					    c->files.base == NULL))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s: "
				       "its domain names no overlay over a base",
				       c->uri, c->src_name);
	return 0;
}

/* SRC's overlay file, byte for byte (its header names its backing
 * file), into a local scratch file (c->local), and its virtual size. */
static int fetch_disk(struct clone_ctx *c, struct vmctl_error **err)
{
	cleanup_free char *parent = xasprintf("%s/" LVVM_KEYS_DIR,
					      c->env->state_dir);
	cleanup_free char *src_vol = lvstore_disk_name(c->src_name);
	virStorageVolPtr vol;
	virStorageVolInfo vi;
	int got;

	vol = sym_virStorageVolLookupByName(c->pool, src_vol);
	got = vol != NULL ? sym_virStorageVolGetInfo(vol, &vi) : -1;
	if (vol != NULL)
		sym_virStorageVolFree(vol);
	if (got < 0)
		return lvconn_error(err, c->uri, false, src_vol);
	c->capacity = vi.capacity;
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
	c->local = xasprintf("%s/%s", c->scratch, src_vol);
	return lvstore_download_file(c->pool, c->uri, src_vol, c->local, err);
}

/* A full clone: DST's overlay is the copy. */
static int copy_disk(struct clone_ctx *c, struct vmctl_error **err)
{
	cleanup_free char *dst_vol = lvstore_disk_name(c->dst);

	if (fetch_disk(c, err) < 0 ||
	    lvstore_upload(c->pool, c->uri, dst_vol, c->local, &c->overlay,
			   err) < 0)
		return -1;
	c->made_disk = true;
	return 0;
}

/* --linked: the copy is the layer, DST's overlay an empty one over it;
 * SRC's definition over it is ready (SRC is changed last, switch_src). */
static int link_disk(struct clone_ctx *c, struct vmctl_error **err)
{
	cleanup_free char *dst_vol = lvstore_disk_name(c->dst);
	unsigned char rnd[4];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		abort();
	c->layer_vol = lvstore_layer_name(c->src_name, rnd);
	if (fetch_disk(c, err) < 0 ||
	    lvstore_upload(c->pool, c->uri, c->layer_vol, c->local,
			   &c->layer, err) < 0)
		return -1;
	c->made_layer = true;
	if (lvclone_relink_xml(c->src_xml, c->layer, &c->src_xml_new,
			       err) < 0)
		return vmctl_error_wrap(err, "%s: %s", c->uri, c->src_name);
	if (lvstore_overlay(c->pool, c->uri, dst_vol, c->capacity, c->layer,
			    "qcow2", &c->overlay, err) < 0)
		return -1;
	c->made_disk = true;
	return 0;
}

/* --linked, the last step: SRC's overlay made again, empty, over the
 * layer (the local copy puts it back on failure), then SRC's domain
 * redefined with the layer in its chain. */
static int switch_src(struct clone_ctx *c, struct vmctl_error **err)
{
	cleanup_free char *disk = lvstore_disk_name(c->src_name);
	cleanup_free char *path = NULL;
	virDomainPtr d;

	if (lvstore_delete(c->pool, c->uri, disk, err) < 0)
		return -1;
	c->src_disk_gone = true;
	if (lvstore_overlay(c->pool, c->uri, disk, c->capacity, c->layer,
			    "qcow2", &path, err) < 0)
		return -1;
	c->src_disk_new = true;
	if (c->files.overlay == NULL || strcmp(path, c->files.overlay) != 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM "
				       "%s's overlay is %s, not the volume %s",
				       c->uri, c->src_name,
				       c->files.overlay ? c->files.overlay
							: "none", path);
	d = sym_virDomainDefineXML(c->conn, c->src_xml_new);
	if (d == NULL)
		return lvconn_error(err, c->uri, false,
				    "redefining the source's domain");
	sym_virDomainFree(d);
	return 0;
}

/* DST's domain XML with its chain: the layers SRC stands on and, linked,
 * the new one over them. */
static int add_layer(char **xml, const char *layer, struct vmctl_error **err)
{
	char *next;

	if (lvclone_relink_xml(*xml, layer, &next, err) < 0)
		return -1;
	free(*xml);
	*xml = next;
	return 0;
}

static int add_layers(struct clone_ctx *c, char **xml,
		      struct vmctl_error **err)
{
	/* each put on top of the one before: the lowest first */
	for (size_t i = c->files.layers.n; i > 0; i--)
		if (add_layer(xml, c->files.layers.v[i - 1], err) < 0)
			return -1;
	return c->linked ? add_layer(xml, c->layer, err) : 0;
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

static int clone_domain(struct clone_ctx *c, struct vmctl_error **err)
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
	if (c->spec->disk.image != NULL &&
	    (c->linked ? link_disk(c, err) : copy_disk(c, err)) < 0)
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
	if (libvirt_xml_build(c->spec, &f, &xml, err) < 0 ||
	    add_layers(c, &xml, err) < 0)
		return -1;
	c->dom = sym_virDomainDefineXML(c->conn, xml);
	if (c->dom == NULL)
		return lvconn_error(err, c->uri, false, "defining the domain");
	if (lvvm_keys_commit(c->env, c->uuid, &c->keys, err) < 0)
		return -1;
	if (interrupt_pending())
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR,
				       "interrupted");
	return c->linked ? switch_src(c, err) : 0;
}

void lvvm_layers_release(virConnectPtr conn, const struct strv *files)
{
	struct strv chain = { 0 }, in_use = { 0 }, gone = { 0 };
	virDomainPtr *doms = NULL;
	bool doubt = false;
	int n;

	for (size_t i = 0; i < files->n; i++)
		if (lvstore_layer_path(files->v[i]))
			strv_push(&chain, files->v[i]);
	n = chain.n > 0 ? sym_virConnectListAllDomains(conn, &doms, 0) : 0;
	/* When in doubt a layer stays. */
	doubt = n < 0;
	for (int i = 0; i < n; i++) {
		char *xml = sym_virDomainGetXMLDesc(doms[i],
						    VIR_DOMAIN_XML_INACTIVE);

		if (xml == NULL || lvclone_backing_files(xml, &in_use) < 0)
			doubt = true;
		free(xml);
		sym_virDomainFree(doms[i]);
	}
	free(doms);
	if (!doubt)
		clone_layers_unused(&chain, &in_use, &gone);
	for (size_t i = 0; i < gone.n; i++) {
		virStorageVolPtr vol = sym_virStorageVolLookupByPath(conn,
								     gone.v[i]);

		if (vol != NULL) {
			sym_virStorageVolDelete(vol, 0);
			sym_virStorageVolFree(vol);
		}
	}
	sym_virResetLastError();
	strv_clear(&chain);
	strv_clear(&in_use);
	strv_clear(&gone);
}

static void print_result(const struct clone_ctx *c,
			 const struct lvvm_info *info)
{
	if (c->env->json) {
		cJSON *j = lvvm_info_json(info, c->uri, false);
		cJSON *o = cJSON_AddObjectToObject(j, "clone");

		cJSON_AddStringToObject(o, "source", c->src_name);
		cJSON_AddBoolToObject(o, "linked", c->linked);
		if (c->layer != NULL)
			cJSON_AddStringToObject(o, "layer", c->layer);
		else
			cJSON_AddNullToObject(o, "layer");
		view_print_json(j);
		cJSON_Delete(j);
	} else if (c->env->verbosity >= 0) {
		printf("Cloned VM %s into %s (%s; vmctl --connect %s start "
		       "%s)\n  host:    %s\n", c->src_name, c->dst,
		       c->linked ? "linked: both stand on the frozen disk"
				 : "a full copy over the same base",
		       c->uri, c->dst, c->uri);
		if (c->layer != NULL)
			printf("  layer:   %s\n", c->layer);
	}
}

int lvvm_cmd_clone(const struct vmctl_env *env, const char *src,
		   const char *dst, bool linked, struct vmctl_error **err)
{
	struct clone_ctx c = {
		.env = env, .src_name = src, .dst = dst, .linked = linked,
	};
	struct lvvm_info info = { 0 };
	int ret = -1;

	if (check(&c, err) < 0)
		goto out;
	if (clone_domain(&c, err) < 0) {
		vmctl_error_wrap(err, "cloning VM %s into %s", src, dst);
		undo(&c, err);
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
