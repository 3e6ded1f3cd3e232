// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `create` on a libvirt host (lvvm.h): the base and the VM's volumes from
 * lvstore.c, the seed, the domain from libvirt-xml.c marked as vmctl's
 * with <metadata>, defined and started.  What a failed create made
 * (domain, volumes) is removed before the error returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/virterror.h>

#include "vmctl/cmd.h"
#include "vmctl/digestmemo.h"
#include "vmctl/firmware.h"
#include "vmctl/fsutil.h"
#include "vmctl/image.h"
#include "vmctl/imagecache.h"
#include "vmctl/interrupt.h"
#include "vmctl/job.h"
#include "vmctl/lazylib.h"
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

/* ---- create --------------------------------------------------------------- */

/* What a create made on the host, undone if it fails. */
struct made {
	virStoragePoolPtr pool;
	char *disk, *seed;           /* volume names made */
	const char *log;             /* the VM's, when its log volume was */
	virDomainPtr dom;            /* defined */
};

static void undo_made(struct made *m, const char *uri)
{
	struct vmctl_error *ignored = NULL;

	if (m->dom != NULL) {
		if (sym_virDomainIsActive(m->dom) == 1)
			sym_virDomainDestroy(m->dom);
		sym_virDomainUndefineFlags(m->dom, VIR_DOMAIN_UNDEFINE_NVRAM);
	}
	if (m->pool != NULL) {
		if (m->disk != NULL)
			lvstore_delete(m->pool, uri, m->disk, &ignored);
		vmctl_error_free(ignored);
		ignored = NULL;
		if (m->seed != NULL)
			lvstore_delete(m->pool, uri, m->seed, &ignored);
		vmctl_error_free(ignored);
		ignored = NULL;
		if (m->log != NULL)
			lvvm_console_delete_logs(m->pool, uri, m->log,
						 &ignored);
		vmctl_error_free(ignored);
	}
	sym_virResetLastError();
}

static void made_clear(struct made *m)
{
	if (m->dom != NULL)
		sym_virDomainFree(m->dom);
	if (m->pool != NULL)
		sym_virStoragePoolFree(m->pool);
	free(m->disk);
	free(m->seed);
	*m = (struct made){ 0 };
}

/* The accelerator: the spec's, or KVM where the host offers it. */
static enum spec_accel host_accel(virConnectPtr conn,
				  const struct vmctl_spec *spec)
{
	char *caps;
	bool kvm;

	if (spec->accel != SPEC_ACCEL_AUTO)
		return spec->accel;
	caps = sym_virConnectGetCapabilities(conn);
	kvm = caps != NULL && strstr(caps, "<domain type='kvm'") != NULL;
	free(caps);
	sym_virResetLastError();
	return kvm ? SPEC_ACCEL_KVM : SPEC_ACCEL_TCG;
}

struct create_ctx {
	const struct vmctl_env *env;
	virConnectPtr conn;
	const char *uri;
	const struct vmctl_spec *spec;
	struct made made;
	struct image_info base_info;
	struct firmware_ovmf fw;
	struct lvvm_devices dev;     /* GPUs and hugepages, settled first */
	struct lvvm_keys keys;       /* the VM's SSH keys here */
	char uuid[VIR_UUID_STRING_BUFLEN];  /* the domain's, chosen here */
	bool uploaded;              /* the base was sent by this create */
	uint64_t disk_size;         /* the overlay's */
	/* the facts' strings */
	char *base, *base_format, *overlay, *seed, *digest, *emulator;
	char *kernel, *initrd, *cdrom;
	char *serial_log, *nvram, *vnc_password, *created;
};

static void create_ctx_clear(struct create_ctx *c)
{
	made_clear(&c->made);
	image_info_clear(&c->base_info);
	firmware_ovmf_clear(&c->fw);
	lvvm_devices_clear(&c->dev);
	lvvm_keys_clear(&c->keys);
	free(c->base);
	free(c->base_format);
	free(c->overlay);
	free(c->seed);
	free(c->digest);
	free(c->emulator);
	free(c->kernel);
	free(c->initrd);
	free(c->cdrom);
	free(c->serial_log);
	free(c->nvram);
	free(c->vnc_password);
	free(c->created);
}

/* The base (from vmctl's verified cache, as the direct backend gets it)
 * on the host, and the size of the VM's overlay over it. */
static int make_base(struct create_ctx *c, bool progress,
		     struct vmctl_error **err)
{
	struct imagecache_result image = { 0 };
	const struct vmctl_spec *spec = c->spec;
	int ret = -1;

	if (imagecache_get(c->env, &spec->disk, progress, &image, err) < 0 ||
	    image_info(image.path, &c->base_info, err) < 0)
		goto out;
	if (image.digest != NULL) {
		c->digest = xstrdup(image.digest);
	} else if (digestmemo_sha256(c->env, image.path, &c->digest,
				     err) < 0) {
		/* (a local file with no digest in the spec: named by what
		 * it holds now) */
		goto out;
	}
	c->disk_size = spec->disk.size ? spec->disk.size
				       : c->base_info.virtual_size;
	if (c->disk_size < c->base_info.virtual_size) {
		vmctl_error_set(err, VMCTL_EXIT_SPEC, 0, "disk.size is smaller "
				"than the image %s", image.path);
		goto out;
	}
	c->base_format = xstrdup(c->base_info.format);
	if (lvstore_base(c->made.pool, c->uri, image.path, c->digest,
			 c->base_format, &c->base, &c->uploaded, err) < 0)
		goto out;
	/* on stderr, so also with --json */
	if (c->uploaded && c->env->verbosity >= 0)
		fprintf(stderr, "Uploaded base image %s to %s\n", c->digest,
			c->uri);
	ret = 0;
out:
	imagecache_result_clear(&image);
	return ret;
}

/*
 * The overlay is made on the host (libvirtd runs qemu-img there, some
 * 40 ms) in a thread of its own while this one makes the seed and hashes
 * the boot files: a libvirt connection takes calls from several threads.
 * c->made.disk names the volume from the start, so a failure elsewhere
 * undoes it.
 */
static int overlay_step(void *arg, struct vmctl_error **err)
{
	struct create_ctx *c = arg;

	return lvstore_overlay(c->made.pool, c->uri, c->made.disk,
			       c->disk_size, c->base, c->base_format,
			       &c->overlay, err);
}

static void overlay_start(struct create_ctx *c, struct job *j)
{
	c->made.disk = lvstore_disk_name(c->spec->name);
	job_start(j, overlay_step, c);
}

/* The cloud-init seed, made locally as the direct backend makes it, with
 * the VM's keys kept here by its UUID (lvvm-ssh.h), and uploaded. */
static int make_seed(struct create_ctx *c, struct vmctl_error **err)
{
	cleanup_free char *iso = NULL;

	c->made.seed = lvstore_seed_name(c->spec->name);
	if (lvvm_keys_prepare(c->env, c->uuid, c->spec, &c->keys, &iso,
			      err) < 0 ||
	    lvstore_upload(c->made.pool, c->uri, c->made.seed, iso, &c->seed,
			   err) < 0) {
		free(c->made.seed);
		c->made.seed = NULL;
		return -1;
	}
	return 0;
}

/*
 * A file the spec names (kernel, initrd, cdrom) on the host: a volume
 * named by its digest, as a base is, so the libvirt host needs nothing
 * but libvirtd, and a file several VMs boot from is sent once.
 */
int lvvm_upload_file(const struct vmctl_env *env, virStoragePoolPtr pool,
		     const char *uri, const char *path, char **out,
		     struct vmctl_error **err)
{
	cleanup_free char *digest = NULL;
	bool uploaded;

	if (digestmemo_sha256(env, path, &digest, err) < 0)
		return -1;
	if (lvstore_base(pool, uri, path, digest, "raw", out, &uploaded,
			 err) < 0)
		return -1;
	if (uploaded && env->verbosity >= 0)
		fprintf(stderr, "Uploaded %s to %s\n", path, uri);
	return 0;
}

static int upload_file(struct create_ctx *c, const char *path, char **out,
		       struct vmctl_error **err)
{
	return lvvm_upload_file(c->env, c->made.pool, c->uri, path, out, err);
}

static int upload_files(struct create_ctx *c, struct vmctl_error **err)
{
	const struct vmctl_spec *spec = c->spec;

	if (spec->kernel.image != NULL &&
	    upload_file(c, spec->kernel.image, &c->kernel, err) < 0)
		return vmctl_error_wrap(err, "kernel.image");
	if (spec->kernel.initrd != NULL &&
	    upload_file(c, spec->kernel.initrd, &c->initrd, err) < 0)
		return vmctl_error_wrap(err, "kernel.initrd");
	if (spec->cdrom != NULL && upload_file(c, spec->cdrom, &c->cdrom,
					       err) < 0)
		return vmctl_error_wrap(err, "cdrom");
	return 0;
}

static int make_facts(struct create_ctx *c, struct libvirt_facts *f,
		      struct vmctl_error **err)
{
	const struct vmctl_spec *spec = c->spec;
	const char *bin = spec->qemu.binary;

	c->emulator = strchr(bin, '/') ? xstrdup(bin)
				       : xasprintf(LVVM_EMULATOR_DIR "/%s", bin);
	c->created = xasprintf("%lld", (long long)time(NULL));
	*f = (struct libvirt_facts){
		.name = spec->name,
		.uuid = c->uuid,
		.accel = host_accel(c->conn, spec),
		.emulator = c->emulator,
		.overlay = c->overlay,
		.base = c->base,
		.base_format = c->base_format,
		.seed = c->seed,
		.serial_log = c->serial_log,
		.network = LVVM_NETWORK,
		.meta_created = c->created,
		.meta_image = spec->disk.image,
		.meta_digest = c->digest,
		.kernel = c->kernel,
		.initrd = c->initrd,
		.cdrom = c->cdrom,
		.hugepage_size = c->dev.hugepage_size,
		.gpus = c->dev.gpus,
		.n_gpus = c->dev.n_gpus,
	};
	return lvvm_facts_own(c->env, spec, f, &c->fw, &c->nvram,
			      &c->vnc_password, err);
}

int lvvm_facts_own(const struct vmctl_env *env, const struct vmctl_spec *spec,
		   struct libvirt_facts *f, struct firmware_ovmf *fw,
		   char **nvram, char **vnc_password,
		   struct vmctl_error **err)
{
	if (spec_firmware_is_uefi(spec->firmware)) {
		/* The host's OVMF is taken to be where this one's is (same
		 * distribution); libvirt copies the template per VM. */
		if (firmware_find(env, spec->firmware, fw, err) < 0)
			return -1;
		*nvram = xasprintf(LVVM_NVRAM_DIR "/%s_VARS.fd", spec->name);
		f->ovmf_code = fw->code;
		f->nvram = *nvram;
		f->nvram_template = fw->vars;
	}
	if (spec->vnc.enabled && spec->vnc.password) {
		*vnc_password = vm_random_password();
		f->vnc_password = *vnc_password;
	}
	return 0;
}

static int create(struct create_ctx *c, bool no_start, bool progress,
		  struct vmctl_error **err)
{
	struct libvirt_facts f;
	cleanup_free char *xml = NULL;
	virDomainPtr dom = sym_virDomainLookupByName(c->conn, c->spec->name);

	if (dom != NULL) {
		sym_virDomainFree(dom);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST, "%s: a "
				       "domain named \"%s\" already exists",
				       c->uri, c->spec->name);
	}
	sym_virResetLastError();
	/* a port with nothing in it: refused before anything is made */
	if ((!no_start && lvvm_usb_check(c->conn, c->uri, c->spec, err) < 0) ||
	    lvvm_devices_resolve(c->conn, c->uri, c->spec, &c->dev, err) < 0 ||
	    lvstore_pool(c->conn, c->uri, &c->made.pool, err) < 0)
		return -1;
	/* Volumes of the name with no domain are a create that was killed
	 * before it could undo itself (only vmctl writes this pool). */
	{
		cleanup_free char *disk = lvstore_disk_name(c->spec->name);
		cleanup_free char *seed = lvstore_seed_name(c->spec->name);

		if (lvstore_delete(c->made.pool, c->uri, disk, err) < 0 ||
		    lvstore_delete(c->made.pool, c->uri, seed, err) < 0 ||
		    lvvm_console_delete_logs(c->made.pool, c->uri,
					     c->spec->name, err) < 0)
			return -1;
	}
	/* the serial log: a volume of the pool, read through libvirt */
	if (lvvm_console_make_log(c->made.pool, c->uri, c->spec->name,
				  &c->serial_log, err) < 0)
		return -1;
	c->made.log = c->spec->name;
	if (c->spec->disk.image != NULL) {
		struct job job;
		int ret;

		if (make_base(c, progress, err) < 0)
			return -1;
		overlay_start(c, &job);
		ret = c->spec->cloud_init.enabled ? make_seed(c, err) : 0;
		if (ret == 0)
			ret = upload_files(c, err);
		if (job_join(&job, err) < 0 || ret < 0)
			return -1;
	} else if ((c->spec->cloud_init.enabled && make_seed(c, err) < 0) ||
		   upload_files(c, err) < 0) {
		return -1;
	}
	if (make_facts(c, &f, err) < 0 ||
	    libvirt_xml_build(c->spec, &f, &xml, err) < 0)
		return -1;
	c->made.dom = sym_virDomainDefineXML(c->conn, xml);
	if (c->made.dom == NULL)
		return lvconn_error(err, c->uri, false, "defining the domain");
	if (lvvm_keys_commit(c->env, c->uuid, &c->keys, err) < 0)
		return -1;
	if (!no_start && lvvm_domain_start(c->conn, c->uri, c->made.dom,
					   "starting the domain", err) < 0)
		return -1;
	/* Ctrl-C undoes a half-made VM, as the direct backend's create. */
	if (interrupt_pending())
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR,
				       "interrupted");
	return 0;
}

int lvvm_cmd_create(const struct vmctl_env *env, struct vmctl_spec *spec,
		    const struct vm_create_opts *opts,
		    struct vmctl_error **err)
{
	struct create_ctx c = { .env = env, .spec = spec };
	struct lvvm_info info = { 0 };
	cleanup_free char *uri = NULL;
	cleanup_free char *headline = NULL;
	virConnectPtr conn = NULL;
	int ret = -1;

	if (vm_spec_rename(spec, opts->name, err) < 0)
		return -1;
	if (lvconn_open_env(env, 0, &conn, &uri, err) < 0)
		return -1;
	c.conn = conn;
	c.uri = uri;
	lvvm_uuid_random(c.uuid);
	if (create(&c, opts->no_start, opts->progress, err) < 0) {
		vmctl_error_wrap(err, "creating VM %s", spec->name);
		undo_made(&c.made, uri);
		lvvm_keys_undo(&c.keys);
		goto out;
	}
	if (lvvm_domain_info(c.made.dom, uri, &info, err) < 0)
		goto out;
	headline = xasprintf("Created VM %s (%s, %s) on %s", info.name,
			     vm_run_state_name(info.state), info.accel ? info.accel : "?",
			     uri);
	lvvm_print_result(env, uri, &info, headline);
	ret = VMCTL_EXIT_OK;
out:
	lvvm_info_clear(&info);
	create_ctx_clear(&c);
	lvconn_close(conn);
	return ret;
}
