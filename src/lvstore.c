// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl's storage pool on a libvirt host: bases uploaded once by digest,
 * each VM's overlay and seed (lvstore.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "vmctl/interrupt.h"
#include "vmctl/lazylib.h"
#include "vmctl/libvirt-xml.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvstore.h"
#include "vmctl/xalloc.h"
#include "vmctl/xmlwriter.h"

/* What one virStreamSend or virStreamRecv carries. */
#define STREAM_CHUNK (1u << 20)

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

char *lvstore_layer_name(const char *src, const unsigned char rnd[4])
{
	return xasprintf(LVSTORE_LAYER_PREFIX "%s-%02x%02x%02x%02x.qcow2", src,
			 rnd[0], rnd[1], rnd[2], rnd[3]);
}

bool lvstore_layer_path(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash != NULL ? slash + 1 : path;

	return strncmp(name, LVSTORE_LAYER_PREFIX,
		       strlen(LVSTORE_LAYER_PREFIX)) == 0;
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
	virStoragePoolPtr pool = sym_virStoragePoolLookupByName(conn, LVSTORE_POOL);
	int active, autostart = 0;

	*out = NULL;
	if (pool == NULL) {
		cleanup_free char *xml = lvstore_pool_xml(LVSTORE_POOL,
							  LVSTORE_POOL_PATH);

		sym_virResetLastError();
		pool = sym_virStoragePoolDefineXML(conn, xml, 0);
		if (pool == NULL)
			return lvconn_error(err, uri, false, "defining storage "
					    "pool " LVSTORE_POOL);
		if (sym_virStoragePoolBuild(pool, 0) < 0) {
			lvconn_error(err, uri, false, "building storage pool "
				     LVSTORE_POOL);
			sym_virStoragePoolUndefine(pool);
			sym_virStoragePoolFree(pool);
			return -1;
		}
	}
	/* No refresh: every volume vmctl uses is made through libvirt, so
	 * libvirtd knows it (and libvirt refuses a refresh while another
	 * client streams a volume). */
	active = sym_virStoragePoolIsActive(pool);
	if ((active == 0 && sym_virStoragePoolCreate(pool, 0) < 0) || active < 0 ||
	    (sym_virStoragePoolGetAutostart(pool, &autostart) == 0 && !autostart &&
	     sym_virStoragePoolSetAutostart(pool, 1) < 0)) {
		lvconn_error(err, uri, false, "starting storage pool "
			     LVSTORE_POOL);
		sym_virStoragePoolFree(pool);
		return -1;
	}
	*out = pool;
	return 0;
}

static int vol_path(virStorageVolPtr vol, const char *uri, char **out,
		    struct vmctl_error **err)
{
	*out = sym_virStorageVolGetPath(vol);
	if (*out == NULL)
		return lvconn_error(err, uri, false, "volume path");
	return 0;
}

/* Send the file's bytes into the stream; -1 with *err (errno's or
 * libvirt's) on failure. */
static int send_file(virStreamPtr st, int fd, const char *uri,
		     const char *path, struct vmctl_error **err)
{
	cleanup_free char *buf = xmalloc(STREAM_CHUNK);

	for (;;) {
		ssize_t n = read(fd, buf, STREAM_CHUNK);

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
			int sent = sym_virStreamSend(st, buf + off,
						     (size_t)(n - off));

			if (sent < 0)
				return lvconn_error(err, uri, false,
						    "uploading");
			off += sent;
		}
	}
}

int lvstore_download(virStorageVolPtr vol, const char *uri,
		     unsigned long long offset, lvstore_sink sink,
		     void *opaque, unsigned long long *got,
		     struct vmctl_error **err)
{
	virStreamPtr st = sym_virStreamNew(sym_virStorageVolGetConnect(vol), 0);
	cleanup_free char *buf = xmalloc(STREAM_CHUNK);
	const char *what = sym_virStorageVolGetName(vol);
	int n;

	*got = 0;
	if (st == NULL || sym_virStorageVolDownload(vol, st, offset, 0, 0) < 0) {
		if (st != NULL)
			sym_virStreamFree(st);
		return lvconn_error(err, uri, false, what);
	}
	while ((n = sym_virStreamRecv(st, buf, STREAM_CHUNK)) > 0) {
		*got += (unsigned)n;
		if (sink(buf, (size_t)n, opaque, err) < 0) {
			sym_virStreamAbort(st);
			sym_virStreamFree(st);
			return -1;
		}
	}
	if (n < 0 || sym_virStreamFinish(st) < 0) {
		if (n < 0)
			sym_virStreamAbort(st);
		lvconn_error(err, uri, false, what);
		sym_virStreamFree(st);
		return -1;
	}
	sym_virStreamFree(st);
	return 0;
}

static int to_file(const char *data, size_t n, void *opaque,
		   struct vmctl_error **err)
{
	int fd = *(int *)opaque;

	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, data + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
						 "writing a download");
		off += (size_t)w;
	}
	return 0;
}

int lvstore_download_file(virStoragePoolPtr pool, const char *uri,
			  const char *name, const char *path,
			  struct vmctl_error **err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL |
				    O_CLOEXEC, 0600);
	virStorageVolPtr vol;
	unsigned long long got;
	int ret;

	if (fd < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 path);
	vol = sym_virStorageVolLookupByName(pool, name);
	if (vol == NULL)
		return lvconn_error(err, uri, false, name);
	ret = lvstore_download(vol, uri, 0, to_file, &fd, &got, err);
	sym_virStorageVolFree(vol);
	return ret;
}

/* A new volume from its XML (NULL: a name XML cannot carry). */
static int create_volume(virStoragePoolPtr pool, const char *uri,
			 const char *name, const char *xml,
			 virStorageVolPtr *out, struct vmctl_error **err)
{
	if (xml == NULL)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "volume name "
				       "holds a control character");
	*out = sym_virStorageVolCreateXML(pool, xml, 0);
	if (*out == NULL)
		return lvconn_error(err, uri, false, name);
	return 0;
}

int lvstore_upload(virStoragePoolPtr pool, const char *uri, const char *name,
		   const char *path, char **path_out,
		   struct vmctl_error **err)
{
	virConnectPtr conn = sym_virStoragePoolGetConnect(pool);
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
	st = sym_virStreamNew(conn, 0);
	if (st == NULL || sym_virStorageVolUpload(vol, st, 0,
						  (unsigned long long)sb.st_size,
						  0) < 0) {
		lvconn_error(err, uri, false, name);
		goto out;
	}
	if (send_file(st, fd, uri, path, err) < 0) {
		sym_virStreamAbort(st);
		vmctl_error_wrap(err, "%s", name);
		goto out;
	}
	if (sym_virStreamFinish(st) < 0) {
		lvconn_error(err, uri, false, name);
		goto out;
	}
	ret = vol_path(vol, uri, path_out, err);
out:
	if (st != NULL)
		sym_virStreamFree(st);
	if (ret < 0)
		sym_virStorageVolDelete(vol, 0);
	sym_virStorageVolFree(vol);
	return ret;
}

bool lvstore_base_parse(const char *volume, char **digest, char **format)
{
	const char *algo, *hex, *dot, *end;
	size_t n;

	*digest = *format = NULL;
	if (strncmp(volume, "base-", 5) != 0)
		return false;
	algo = volume + 5;
	hex = strchr(algo, '-');
	if (hex == NULL || hex == algo)
		return false;
	hex++;
	dot = strchr(hex, '.');
	if (dot == NULL || dot == hex || strspn(hex, "0123456789abcdef") !=
	    (size_t)(dot - hex))
		return false;
	end = strchr(dot + 1, '.');
	if (end == NULL) {
		end = dot + 1 + strlen(dot + 1);
	} else {
		n = strlen(end + 1);
		if (n != 8 || strspn(end + 1, "0123456789abcdef") != 8)
			return false;
	}
	if (end == dot + 1)
		return false;
	*digest = xasprintf("%.*s:%.*s", (int)(hex - 1 - algo), algo,
			    (int)(dot - hex), hex);
	*format = xstrndup(dot + 1, (size_t)(end - dot - 1));
	return true;
}

/*
 * A base's volumes: each upload goes to a volume of its own, NAME.RAND,
 * and only once all of it is there does its uploader mark it whole with
 * an empty volume NAME.RAND.ok.  A volume is never written after its mark,
 * so a VM never stands on a base an upload cut short (killed) or still
 * sending (another create of the same base, at the same time) left
 * half written.
 */
bool lvstore_base_volume(const char *vol, const char *name, bool *mark)
{
	size_t n = strlen(name);
	const char *tail = vol + n;

	if (strncmp(vol, name, n) != 0 || tail[0] != '.' ||
	    strspn(tail + 1, "0123456789abcdef") != 8)
		return false;
	*mark = strcmp(tail + 9, ".ok") == 0;
	return *mark || tail[9] == '\0';
}

/* The whole base `name` (the first marked, in name order) among the
 * pool's volumes as libvirtd knows them: 1 with *path_out, 0 when there
 * is none. */
static int base_find(virStoragePoolPtr pool, const char *uri,
		     const char *name, char **path_out,
		     struct vmctl_error **err)
{
	virStorageVolPtr *vols = NULL;
	char *best = NULL;
	int n, ret = 0;

	if ((n = sym_virStoragePoolListAllVolumes(pool, &vols, 0)) < 0)
		return lvconn_error(err, uri, false, "listing volumes");
	for (int i = 0; i < n; i++) {
		const char *v = sym_virStorageVolGetName(vols[i]);
		bool mark;

		if (lvstore_base_volume(v, name, &mark) && mark &&
		    (best == NULL || strcmp(v, best) < 0)) {
			free(best);
			best = xstrndup(v, strlen(v) - 3);
		}
	}
	for (int i = 0; i < n; i++) {
		/* the marked volume itself must be there */
		if (best != NULL && ret == 0 &&
		    strcmp(sym_virStorageVolGetName(vols[i]), best) == 0)
			ret = vol_path(vols[i], uri, path_out, err) < 0 ? -1 : 1;
		sym_virStorageVolFree(vols[i]);
	}
	free(vols);
	free(best);
	sym_virResetLastError();
	return ret;
}

/* base_find(), and again after a refresh when it finds nothing (a base
 * copied into the pool's directory by hand): volumes made through
 * libvirt (every vmctl's) are known without one, and a refresh (libvirtd
 * reads every volume's header) costs a create time. */
int lvstore_base_find(virStoragePoolPtr pool, const char *uri,
		      const char *name, char **path_out,
		      struct vmctl_error **err)
{
	int ret = base_find(pool, uri, name, path_out, err);

	if (ret != 0)
		return ret;
	/* best effort: libvirt refuses it while a volume is streamed ("has
	 * asynchronous jobs running"), and then the upload happens */
	if (sym_virStoragePoolRefresh(pool, 0) < 0) {
		sym_virResetLastError();
		return 0;
	}
	return base_find(pool, uri, name, path_out, err);
}

int lvstore_base(virStoragePoolPtr pool, const char *uri, const char *path,
		 const char *digest, const char *format, char **path_out,
		 bool *uploaded, struct vmctl_error **err)
{
	cleanup_free char *name = lvstore_base_name(digest, format);
	cleanup_free char *part = NULL, *mark = NULL, *xml = NULL;
	virStorageVolPtr vol;
	unsigned char rnd[4];
	int ret;

	*uploaded = false;
	*path_out = NULL;
	if (access(path, R_OK) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_NOINPUT, errno, "%s",
					 path);
	ret = lvstore_base_find(pool, uri, name, path_out, err);
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		abort();
	part = xasprintf("%s.%02x%02x%02x%02x", name, rnd[0], rnd[1], rnd[2],
			 rnd[3]);
	if (lvstore_upload(pool, uri, part, path, path_out, err) < 0)
		return -1;
	mark = xasprintf("%s.ok", part);
	xml = lvstore_volume_xml(mark, 0, "raw", NULL, NULL);
	if (create_volume(pool, uri, mark, xml, &vol, err) < 0) {
		struct vmctl_error *ignored = NULL;

		free(*path_out);
		*path_out = NULL;
		lvstore_delete(pool, uri, part, &ignored);
		vmctl_error_free(ignored);
		return -1;
	}
	sym_virStorageVolFree(vol);
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
		sym_virStorageVolDelete(vol, 0);
	sym_virStorageVolFree(vol);
	return ret;
}

int lvstore_delete(virStoragePoolPtr pool, const char *uri, const char *name,
		   struct vmctl_error **err)
{
	virStorageVolPtr vol = sym_virStorageVolLookupByName(pool, name);
	int ret;

	if (vol == NULL) {
		sym_virResetLastError();
		return 0;
	}
	ret = sym_virStorageVolDelete(vol, 0);
	sym_virStorageVolFree(vol);
	if (ret < 0)
		return lvconn_error(err, uri, false, name);
	return 1;
}
