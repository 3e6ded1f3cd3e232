// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl's storage pool on a libvirt host: bases uploaded once by digest,
 * each VM's overlay and seed (lvstore.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "vmctl/interrupt.h"
#include "vmctl/libvirt-xml.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvstore.h"
#include "vmctl/xalloc.h"
#include "vmctl/xmlwriter.h"

/* What one virStreamSend carries. */
#define UPLOAD_CHUNK (1u << 20)

char *lvstore_base_name(const char *digest, const char *format)
{
	size_t algo = strcspn(digest, ":");

	if (digest[algo] == '\0')
		return xasprintf("base-%s.%s", digest, format);
	return xasprintf("base-%.*s-%s.%s", (int)algo, digest,
			 digest + algo + 1, format);
}

char *lvstore_disk_name(const char *vm)
{
	return xasprintf("%s.qcow2", vm);
}

char *lvstore_seed_name(const char *vm)
{
	return xasprintf("%s-seed.iso", vm);
}

char *lvstore_pool_xml(const char *name, const char *path)
{
	cleanup_free char *n = xml_escape(name);
	cleanup_free char *p = xml_escape(path);

	if (n == NULL || p == NULL)
		return NULL;
	return xasprintf("<pool type='dir'>\n  <name>%s</name>\n  <target>\n"
			 "    <path>%s</path>\n  </target>\n</pool>\n", n, p);
}

char *lvstore_volume_xml(const char *name, uint64_t capacity,
			 const char *format, const char *backing,
			 const char *backing_format)
{
	cleanup_free char *n = xml_escape(name);
	cleanup_free char *b = backing ? xml_escape(backing) : NULL;
	cleanup_free char *store = NULL;

	if (n == NULL || (backing != NULL && b == NULL))
		return NULL;
	if (backing != NULL)
		store = xasprintf("  <backingStore>\n    <path>%s</path>\n"
				  "    <format type='%s'/>\n  </backingStore>\n",
				  b, backing_format);
	return xasprintf("<volume>\n  <name>%s</name>\n  <capacity unit='bytes'>"
			 "%" PRIu64 "</capacity>\n  <target>\n    <format "
			 "type='%s'/>\n  </target>\n%s</volume>\n", n, capacity,
			 format, store ? store : "");
}

int lvstore_pool(virConnectPtr conn, const char *uri,
		 virStoragePoolPtr *out, struct vmctl_error **err)
{
	virStoragePoolPtr pool = virStoragePoolLookupByName(conn, LVSTORE_POOL);
	int active;

	*out = NULL;
	if (pool == NULL) {
		cleanup_free char *xml = lvstore_pool_xml(LVSTORE_POOL,
							  LVSTORE_POOL_PATH);

		virResetLastError();
		pool = virStoragePoolDefineXML(conn, xml, 0);
		if (pool == NULL)
			return lvconn_error(err, uri, false, "defining storage "
					    "pool " LVSTORE_POOL);
		if (virStoragePoolBuild(pool, 0) < 0) {
			lvconn_error(err, uri, false, "building storage pool "
				     LVSTORE_POOL);
			virStoragePoolUndefine(pool);
			virStoragePoolFree(pool);
			return -1;
		}
	}
	active = virStoragePoolIsActive(pool);
	if ((active == 0 && virStoragePoolCreate(pool, 0) < 0) || active < 0 ||
	    virStoragePoolSetAutostart(pool, 1) < 0 ||
	    virStoragePoolRefresh(pool, 0) < 0) {
		lvconn_error(err, uri, false, "starting storage pool "
			     LVSTORE_POOL);
		virStoragePoolFree(pool);
		return -1;
	}
	*out = pool;
	return 0;
}

static int vol_path(virStorageVolPtr vol, const char *uri, char **out,
		    struct vmctl_error **err)
{
	*out = virStorageVolGetPath(vol);
	if (*out == NULL)
		return lvconn_error(err, uri, false, "volume path");
	return 0;
}

/* Send the file's bytes into the stream; -1 with *err (errno's or
 * libvirt's) on failure. */
static int send_file(virStreamPtr st, int fd, const char *uri,
		     const char *path, struct vmctl_error **err)
{
	cleanup_free char *buf = xmalloc(UPLOAD_CHUNK);

	for (;;) {
		ssize_t n = read(fd, buf, UPLOAD_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
						 "reading %s", path);
		if (n == 0)
			return 0;
		if (interrupt_pending())
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR,
					       "interrupted");
		for (ssize_t off = 0; off < n;) {
			int sent = virStreamSend(st, buf + off,
						 (size_t)(n - off));

			if (sent < 0)
				return lvconn_error(err, uri, false,
						    "uploading");
			off += sent;
		}
	}
}

/* A new volume from its XML (NULL: a name XML cannot carry). */
static int create_volume(virStoragePoolPtr pool, const char *uri,
			 const char *name, const char *xml,
			 virStorageVolPtr *out, struct vmctl_error **err)
{
	if (xml == NULL)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "volume name "
				       "holds a control character");
	*out = virStorageVolCreateXML(pool, xml, 0);
	if (*out == NULL)
		return lvconn_error(err, uri, false, name);
	return 0;
}

int lvstore_upload(virStoragePoolPtr pool, const char *uri, const char *name,
		   const char *path, char **path_out,
		   struct vmctl_error **err)
{
	virConnectPtr conn = virStoragePoolGetConnect(pool);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *xml = NULL;
	virStorageVolPtr vol;
	virStreamPtr st = NULL;
	struct stat sb;
	int ret = -1;

	*path_out = NULL;
	if (fd < 0 || fstat(fd, &sb) < 0)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_NOINPUT), errno, "%s", path);
	/* Raw bytes of the file's length: the upload replaces the contents
	 * whole; the overlay's XML says what format the bytes are. */
	xml = lvstore_volume_xml(name, (uint64_t)sb.st_size, "raw", NULL,
				 NULL);
	if (create_volume(pool, uri, name, xml, &vol, err) < 0)
		return -1;
	st = virStreamNew(conn, 0);
	if (st == NULL || virStorageVolUpload(vol, st, 0,
					      (unsigned long long)sb.st_size,
					      0) < 0) {
		lvconn_error(err, uri, false, name);
		goto out;
	}
	if (send_file(st, fd, uri, path, err) < 0) {
		virStreamAbort(st);
		vmctl_error_wrap(err, "%s", name);
		goto out;
	}
	if (virStreamFinish(st) < 0) {
		lvconn_error(err, uri, false, name);
		goto out;
	}
	ret = vol_path(vol, uri, path_out, err);
out:
	if (st != NULL)
		virStreamFree(st);
	if (ret < 0)
		virStorageVolDelete(vol, 0);
	virStorageVolFree(vol);
	return ret;
}

int lvstore_base(virStoragePoolPtr pool, const char *uri, const char *path,
		 const char *digest, const char *format, char **path_out,
		 bool *uploaded, struct vmctl_error **err)
{
	cleanup_free char *name = lvstore_base_name(digest, format);
	virStorageVolPtr vol = virStorageVolLookupByName(pool, name);
	struct stat sb;

	*uploaded = false;
	if (stat(path, &sb) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_NOINPUT, errno, "%s",
					 path);
	if (vol != NULL) {
		virStorageVolInfo info;
		bool whole;
		int ret;

		/* An upload cut short (vmctl killed) leaves fewer bytes: the
		 * only way such a base differs from a whole one. */
		/* (with _PHYSICAL, `allocation` is the file size) */
		whole = virStorageVolGetInfoFlags(vol, &info,
				VIR_STORAGE_VOL_GET_PHYSICAL) == 0 &&
			info.allocation == (unsigned long long)sb.st_size;
		if (whole) {
			ret = vol_path(vol, uri, path_out, err);
			virStorageVolFree(vol);
			return ret;
		}
		ret = virStorageVolDelete(vol, 0);
		virStorageVolFree(vol);
		if (ret < 0)
			return lvconn_error(err, uri, false, name);
	}
	virResetLastError();
	if (lvstore_upload(pool, uri, name, path, path_out, err) < 0)
		return -1;
	*uploaded = true;
	return 0;
}

int lvstore_overlay(virStoragePoolPtr pool, const char *uri, const char *name,
		    uint64_t size, const char *base, const char *base_format,
		    char **path_out, struct vmctl_error **err)
{
	cleanup_free char *xml = lvstore_volume_xml(name, size, "qcow2", base,
						    base_format);
	virStorageVolPtr vol;
	int ret;

	*path_out = NULL;
	if (create_volume(pool, uri, name, xml, &vol, err) < 0)
		return -1;
	ret = vol_path(vol, uri, path_out, err);
	if (ret < 0)
		virStorageVolDelete(vol, 0);
	virStorageVolFree(vol);
	return ret;
}

int lvstore_delete(virStoragePoolPtr pool, const char *uri, const char *name,
		   struct vmctl_error **err)
{
	virStorageVolPtr vol = virStorageVolLookupByName(pool, name);
	int ret;

	if (vol == NULL) {
		virResetLastError();
		return 0;
	}
	ret = virStorageVolDelete(vol, 0);
	virStorageVolFree(vol);
	if (ret < 0)
		return lvconn_error(err, uri, false, name);
	return 1;
}
