// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmctl cdrom and vmctl disk resize on a libvirt host (lvvm-media.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "vmctl/lazylib.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvmedia.h"
#include "vmctl/lvstore.h"
#include "vmctl/lvvm-media.h"
#include "vmctl/lvvm.h"
#include "vmctl/media.h"
#include "vmctl/xalloc.h"

/* The VM an operation works on. */
struct mediactx {
	const char *name;
	virConnectPtr conn;
	char *uri;
	virDomainPtr dom;
	bool running;
	char *xml;       /* live when running, else the definition */
};

static void ctx_close(struct mediactx *c)
{
	if (c->dom != NULL)
		sym_virDomainFree(c->dom);
	lvconn_close(c->conn);
	free(c->uri);
	free(c->xml);
	*c = (struct mediactx){ 0 };
}

/* Opened, with *uri given the URI once known; refused while a saved
 * state waits (its devices must come back as they were saved). */
static int ctx_open(struct mediactx *c, const struct vmctl_env *env,
		    const char *name, const char *what, char **uri,
		    struct vmctl_error **err)
{
	*c = (struct mediactx){ .name = name };
	if (lvvm_open_vm(env, name, 0, &c->conn, &c->uri, &c->dom, err) < 0)
		return -1;
	*uri = xstrdup(c->uri);
	c->running = sym_virDomainIsActive(c->dom) == 1;
	if (!c->running && sym_virDomainHasManagedSaveImage(c->dom, 0) == 1)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s "
				       "holds a saved state: vmctl --connect "
				       "%s start %s resumes it, then %s",
				       c->uri, name, c->uri, name, what);
	c->xml = sym_virDomainGetXMLDesc(c->dom, c->running ? 0
					     : VIR_DOMAIN_XML_INACTIVE);
	if (c->xml == NULL)
		return lvconn_error(err, c->uri, false, name);
	sym_virResetLastError();
	return 0;
}

static int xml_unparsable(const struct mediactx *c, struct vmctl_error **err)
{
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s: the "
			       "domain's XML does not parse", c->uri, c->name);
}

/* ---- cdrom ----------------------------------------------------------- */

/* The drive's <disk> on `path` (NULL: empty), or the refusal of a
 * domain without a drive. */
static int cdrom_xml(const struct mediactx *c, const char *path, char **out,
		     struct vmctl_error **err)
{
	int r = lvmedia_cdrom_xml(c->xml, path, out);

	if (r < 0)
		return xml_unparsable(c, err);
	if (r == 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s "
				       "has no CD-ROM drive, and libvirt adds "
				       "none to a domain (a SATA drive does "
				       "not hot-plug): create the VM with "
				       "`cdrom: empty` in its spec", c->uri,
				       c->name);
	return 0;
}

/* The medium changed: live and kept when the domain runs, in its
 * definition when it is stopped. */
static int cdrom_update(struct mediactx *c, const char *xml,
			const char *what, struct vmctl_error **err)
{
	unsigned flags = VIR_DOMAIN_AFFECT_CONFIG;

	if (c->running)
		flags |= VIR_DOMAIN_AFFECT_LIVE;
	if (sym_virDomainUpdateDeviceFlags(c->dom, xml, flags) < 0)
		return lvconn_error(err, c->uri, false, what);
	return 0;
}

int lvvm_cdrom_insert(const struct vmctl_env *env, const char *name,
		      const char *iso, struct vm_cdrom_result *out,
		      char **uri, struct vmctl_error **err)
{
	struct mediactx c = { 0 };
	virStoragePoolPtr pool = NULL;
	cleanup_free char *path = NULL, *volume = NULL, *xml = NULL;
	cleanup_free char *what = NULL;
	int fd = -1, ret = -1;

	*out = (struct vm_cdrom_result){ 0 };
	*uri = NULL;
	ret = vm_cdrom_iso_open(iso, &path, &fd, err);
	if (fd >= 0)
		close(fd);   /* (the upload reads it by its path) */
	if (ret < 0)
		return -1;
	ret = -1;
	if (ctx_open(&c, env, name, "change its CD-ROM", uri, err) < 0 ||
	    cdrom_xml(&c, NULL, &xml, err) < 0)   /* a drive, before sending */
		goto out;
	free(xml);
	xml = NULL;
	if (lvstore_pool(c.conn, c.uri, &pool, err) < 0 ||
	    lvvm_upload_file(env, pool, c.uri, path, &volume, err) < 0 ||
	    cdrom_xml(&c, volume, &xml, err) < 0)
		goto out;
	what = xasprintf("inserting %s", path);
	if (cdrom_update(&c, xml, what, err) < 0)
		goto out;
	out->running = c.running;
	out->medium = steal_pointer(&path);
	ret = 0;
out:
	if (pool != NULL)
		sym_virStoragePoolFree(pool);
	ctx_close(&c);
	return ret;
}

int lvvm_cdrom_eject(const struct vmctl_env *env, const char *name,
		     struct vm_cdrom_result *out, char **uri,
		     struct vmctl_error **err)
{
	struct mediactx c = { 0 };
	cleanup_free char *xml = NULL, *medium = NULL;
	int ret = -1;

	*out = (struct vm_cdrom_result){ 0 };
	*uri = NULL;
	if (ctx_open(&c, env, name, "change its CD-ROM", uri, err) < 0 ||
	    cdrom_xml(&c, NULL, &xml, err) < 0)
		goto out;
	if (lvmedia_cdrom_medium(c.xml, &medium) < 0) {
		xml_unparsable(&c, err);
		goto out;
	}
	out->running = c.running;
	out->was_empty = medium == NULL;
	if (!out->was_empty && cdrom_update(&c, xml, "ejecting", err) < 0)
		goto out;
	ret = 0;
out:
	ctx_close(&c);
	return ret;
}

/* ---- disk resize ----------------------------------------------------- */

static int no_disk(const struct mediactx *c, struct vmctl_error **err)
{
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s has no "
			       "disk", c->uri, c->name);
}

/* Running: the overlay's target in the live XML, grown by QEMU. */
static int resize_online(struct mediactx *c, const char *volume,
			 const char *size, struct vm_disk_result *out,
			 struct vmctl_error **err)
{
	cleanup_free char *target = NULL;
	virDomainBlockInfo bi;
	int r = lvmedia_disk_target(c->xml, volume, &target);

	if (r < 0)
		return xml_unparsable(c, err);
	if (r == 0)
		return no_disk(c, err);
	if (sym_virDomainGetBlockInfo(c->dom, target, &bi, 0) < 0)
		return lvconn_error(err, c->uri, false, target);
	out->before = bi.capacity;
	if (media_resize_target(c->name, size, out->before, &out->after,
				err) < 0)
		return vmctl_error_wrap(err, "%s", c->uri);
	if (sym_virDomainBlockResize(c->dom, target, out->after,
				     VIR_DOMAIN_BLOCK_RESIZE_BYTES) < 0)
		return lvconn_error(err, c->uri, false, "resizing the disk");
	return 0;
}

/* Stopped: the overlay volume, grown by libvirtd (qemu-img). */
static int resize_offline(struct mediactx *c, const char *volume,
			  const char *size, struct vm_disk_result *out,
			  struct vmctl_error **err)
{
	virStoragePoolPtr pool = NULL;
	virStorageVolPtr vol = NULL;
	virStorageVolInfo vi;
	int ret = -1;

	if (lvstore_pool(c->conn, c->uri, &pool, err) < 0)
		return -1;
	vol = sym_virStorageVolLookupByName(pool, volume);
	if (vol == NULL) {
		virErrorPtr e = sym_virGetLastError();

		if (e != NULL && e->code == VIR_ERR_NO_STORAGE_VOL) {
			sym_virResetLastError();
			no_disk(c, err);
		} else {
			lvconn_error(err, c->uri, false, volume);
		}
		goto out;
	}
	if (sym_virStorageVolGetInfo(vol, &vi) < 0) {
		lvconn_error(err, c->uri, false, volume);
		goto out;
	}
	out->before = vi.capacity;
	if (media_resize_target(c->name, size, out->before, &out->after,
				err) < 0) {
		vmctl_error_wrap(err, "%s", c->uri);
		goto out;
	}
	if (sym_virStorageVolResize(vol, out->after, 0) < 0) {
		lvconn_error(err, c->uri, false, "resizing the disk");
		goto out;
	}
	ret = 0;
out:
	if (vol != NULL)
		sym_virStorageVolFree(vol);
	sym_virStoragePoolFree(pool);
	return ret;
}

int lvvm_disk_resize(const struct vmctl_env *env, const char *name,
		     const char *size, struct vm_disk_result *out, char **uri,
		     struct vmctl_error **err)
{
	struct mediactx c = { 0 };
	cleanup_free char *volume = lvstore_disk_name(name);
	int ret = -1;

	*out = (struct vm_disk_result){ 0 };
	*uri = NULL;
	if (ctx_open(&c, env, name, "resize its disk", uri, err) < 0)
		goto out;
	out->online = c.running;
	ret = c.running ? resize_online(&c, volume, size, out, err)
			: resize_offline(&c, volume, size, out, err);
out:
	ctx_close(&c);
	return ret;
}

/* ---- status ---------------------------------------------------------- */

void lvvm_media_status(virDomainPtr dom, bool cdrom_once, cJSON *json)
{
	/* What the direct backend's status reads from its spec and
	 * vm.json. */
	struct vmctl_spec spec = { .boot = cdrom_once ? SPEC_BOOT_CDROM_ONCE
						      : SPEC_BOOT_DISK };
	char *xml = sym_virDomainGetXMLDesc(dom, 0);
	char *def = sym_virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
	char *swapped = NULL;
	int r = xml != NULL ? lvmedia_cdrom_medium(xml, &spec.cdrom) : -1;
	bool booted = def != NULL &&
		      lvmedia_boot_disk_first(def, &swapped) == 0;

	free(swapped);
	free(def);
	free(xml);
	sym_virResetLastError();
	if (r < 0)
		return;
	spec.cdrom_drive = r == 1;
	if (json != NULL) {
		media_status_json(json, &spec, booted);
	} else {
		cleanup_free char *text = media_status_text(&spec, booted);

		fputs(text, stdout);
	}
	free(spec.cdrom);
}

/* One qom-set through the monitor; QEMU's error is in the reply. */
static int qom_set(virDomainPtr dom, const char *uri,
		   const struct media_qom_set *step, struct vmctl_error **err)
{
	cJSON *cmd = cJSON_CreateObject(), *reply_json, *e;
	cleanup_free char *text = NULL;
	char *reply = NULL;
	int ret = 0;

	cJSON_AddStringToObject(cmd, "execute", "qom-set");
	cJSON_AddItemToObject(cmd, "arguments", media_qom_set_args(step));
	text = cJSON_PrintUnformatted(cmd);
	cJSON_Delete(cmd);
	if (sym_virDomainQemuMonitorCommand(dom, text, &reply, 0) < 0)
		return lvconn_error(err, uri, false, "qom-set");
	reply_json = cJSON_Parse(reply);
	e = cJSON_GetObjectItem(reply_json, "error");
	if (reply_json == NULL || e != NULL) {
		const char *desc = cJSON_GetStringValue(
			cJSON_GetObjectItem(e, "desc"));

		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: qom-set "
				      "%s bootindex %d: %s", uri, step->path,
				      step->value, desc ? desc
				      : "no answer from QEMU");
	}
	cJSON_Delete(reply_json);
	free(reply);
	return ret;
}

static int swap_live(virDomainPtr dom, const char *uri, const char *cdrom,
		     const char *disk, struct vmctl_error **err)
{
	cleanup_free char *cd_path = xasprintf(MEDIA_QOM_PREFIX "%s", cdrom);
	cleanup_free char *disk_path = xasprintf(MEDIA_QOM_PREFIX "%s", disk);
	struct media_qom_set steps[3];
	size_t n = media_boot_swap_paths(cd_path, disk_path, steps);

	for (size_t i = 0; i < n; i++)
		if (qom_set(dom, uri, &steps[i], err) < 0)
			return -1;
	return 0;
}

/* The persistent definition with the disk first (when not so yet). */
static int disk_first_defined(virConnectPtr conn, const char *uri,
			      virDomainPtr dom, struct vmctl_error **err)
{
	/* SECURE: the definition written back keeps the VNC password */
	char *xml = sym_virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE |
					    VIR_DOMAIN_XML_SECURE);
	char *fixed = NULL;
	int ret = -1;

	if (xml == NULL)
		return lvconn_error(err, uri, false, "reading the definition");
	switch (lvmedia_boot_disk_first(xml, &fixed)) {
	case 0:
		ret = 0;
		break;
	case 1: {
		virDomainPtr d = sym_virDomainDefineXML(conn, fixed);

		if (d != NULL) {
			sym_virDomainFree(d);
			ret = 0;
		} else {
			lvconn_error(err, uri, false, "redefining the domain "
				     "with the disk first");
		}
		break;
	}
	default:
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: the domain's "
				"XML does not parse", uri);
	}
	free(fixed);
	free(xml);
	return ret;
}

int lvvm_boot_once(virConnectPtr conn, const char *uri, virDomainPtr dom,
		   struct vmctl_error **err)
{
	char *live = sym_virDomainGetXMLDesc(dom, 0);
	cleanup_free char *cdrom = NULL, *disk = NULL;
	int r;

	if (live == NULL)
		return lvconn_error(err, uri, false, "reading the domain");
	r = lvmedia_boot_cdrom_first(live, &cdrom, &disk);
	free(live);
	if (r <= 0)
		return 0;
	if (swap_live(dom, uri, cdrom, disk, err) < 0 ||
	    disk_first_defined(conn, uri, dom, err) < 0)
		return vmctl_error_wrap(err, "boot: cdrom-once: the disk "
					"first after this boot");
	return 0;
}
