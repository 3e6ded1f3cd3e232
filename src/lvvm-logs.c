// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A libvirt VM's serial log (lvvm-console.h): a volume of vmctl's pool,
 * NAME-serial.log, that virtlogd appends to (and rotates to .1, .2 ...),
 * read through the storage API (virStorageVolDownload on a stream), so
 * a remote host needs nothing but libvirtd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <libvirt/virterror.h>

#include "vmctl/interrupt.h"
#include "vmctl/lazylib.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvstore.h"
#include "vmctl/lvvm-console.h"
#include "vmctl/lvvm.h"
#include "vmctl/termsafe.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/xalloc.h"

#define CHUNK 65536
#define FOLLOW_POLL_MS 200
#define MAX_ROTATED 9            /* virtlogd keeps 3 by default */

char *lvvm_console_log_name(const char *vm)
{
	return xasprintf("%s-serial.log", vm);
}

/* ---- the log volumes ------------------------------------------------------- */

int lvvm_console_make_log(virStoragePoolPtr pool, const char *uri,
			  const char *name, char **path_out,
			  struct vmctl_error **err)
{
	cleanup_free char *vol_name = lvvm_console_log_name(name);
	cleanup_free char *xml = lvstore_volume_xml(vol_name, 0, "raw", NULL,
						    NULL);
	virStorageVolPtr vol;

	*path_out = NULL;
	if (xml == NULL)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "volume name "
				       "holds a control character");
	vol = sym_virStorageVolCreateXML(pool, xml, 0);
	if (vol == NULL)
		return lvconn_error(err, uri, false, vol_name);
	*path_out = sym_virStorageVolGetPath(vol);
	if (*path_out == NULL) {
		lvconn_error(err, uri, false, vol_name);
		sym_virStorageVolDelete(vol, 0);
	}
	sym_virStorageVolFree(vol);
	return *path_out != NULL ? 0 : -1;
}

int lvvm_console_delete_logs(virStoragePoolPtr pool, const char *uri,
			     const char *name, struct vmctl_error **err)
{
	cleanup_free char *log = lvvm_console_log_name(name);

	if (lvstore_delete(pool, uri, log, err) < 0)
		return -1;
	for (int i = 1; i <= MAX_ROTATED; i++) {
		cleanup_free char *old = xasprintf("%s.%d", log, i);

		if (lvstore_delete(pool, uri, old, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- logs ------------------------------------------------------------------ */

/* Where the log's bytes go: stdout, through the filter unless raw. */
struct sink {
	struct termsafe filter;
	bool raw;
	char *safe;
};

static int sink_write(struct sink *s, const char *buf, size_t n)
{
	if (s->raw)
		return fwrite(buf, 1, n, stdout) == n ? 0 : -1;
	/* s->safe holds what CHUNK bytes become: fed CHUNK at a time */
	for (size_t off = 0; off < n; off += CHUNK) {
		size_t in = n - off < CHUNK ? n - off : CHUNK;
		size_t out = termsafe_feed(&s->filter, buf + off, in, s->safe);

		if (fwrite(s->safe, 1, out, stdout) != out)
			return -1;
	}
	return 0;
}

static int sink_finish(struct sink *s, struct vmctl_error **err)
{
	size_t n = s->raw ? 0 : termsafe_finish(&s->filter, s->safe);

	if (fwrite(s->safe, 1, n, stdout) != n || fflush(stdout) != 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "stdout");
	return VMCTL_EXIT_OK;
}

/* The volume's bytes from `offset` to its end into the sink; *got: how
 * many. */
static int to_stdout(const char *data, size_t n, void *opaque,
		     struct vmctl_error **err)
{
	if (sink_write(opaque, data, n) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "stdout");
	return 0;
}

static int download(virStorageVolPtr vol, const char *uri,
		    unsigned long long offset, struct sink *s,
		    unsigned long long *got, struct vmctl_error **err)
{
	int ret = lvstore_download(vol, uri, offset, to_stdout, s, got, err);

	fflush(stdout);
	return ret;
}

/* The volume's size now (libvirt looks at the file again); -1 when it is
 * not there. */
static long long volume_size(virStorageVolPtr vol)
{
	virStorageVolInfo info;

	if (sym_virStorageVolGetInfo(vol, &info) < 0) {
		sym_virResetLastError();
		return -1;
	}
	return (long long)info.capacity;
}

/* A volume of the pool, or NULL (no error kept) when there is none. */
static virStorageVolPtr lookup(virStoragePoolPtr pool, const char *name)
{
	virStorageVolPtr vol = sym_virStorageVolLookupByName(pool, name);

	if (vol == NULL)
		sym_virResetLastError();
	return vol;
}

/* Is the domain still defined? */
static bool domain_exists(virConnectPtr conn, const char *name)
{
	virDomainPtr dom = sym_virDomainLookupByName(conn, name);

	if (dom == NULL) {
		virErrorPtr e = sym_virGetLastError();
		bool gone = e != NULL && e->code == VIR_ERR_NO_DOMAIN;

		sym_virResetLastError();
		return !gone;
	}
	sym_virDomainFree(dom);
	return true;
}

/* The pool, refreshed if libvirt lets us: only to see the rotated
 * volumes virtlogd made (the log itself was made through libvirt).  A
 * refresh is refused while another client streams a volume of the pool;
 * a log must still be readable then. */
static int log_pool(virConnectPtr conn, const char *uri,
		    virStoragePoolPtr *out, struct vmctl_error **err)
{
	*out = sym_virStoragePoolLookupByName(conn, LVSTORE_POOL);
	if (*out == NULL)
		return lvconn_error(err, uri, false, "storage pool "
				    LVSTORE_POOL);
	if (sym_virStoragePoolRefresh(*out, 0) < 0)
		sym_virResetLastError();
	return 0;
}

/* What logs holds: the connection, the pool, the log volume. */
struct logs {
	virConnectPtr conn;
	char *uri;
	virStoragePoolPtr pool;
	char *log_name;
	virStorageVolPtr vol;
	struct sink sink;
};

static void logs_clear(struct logs *l)
{
	if (l->vol != NULL)
		sym_virStorageVolFree(l->vol);
	if (l->pool != NULL)
		sym_virStoragePoolFree(l->pool);
	lvconn_close(l->conn);
	free(l->uri);
	free(l->log_name);
	free(l->sink.safe);
}

/* The older, rotated part (NAME-serial.log.1) from `offset`, first. */
static int copy_rotated(struct logs *l, unsigned long long offset,
			struct vmctl_error **err)
{
	cleanup_free char *old = xasprintf("%s.1", l->log_name);
	virStorageVolPtr vol = lookup(l->pool, old);
	unsigned long long got;
	long long size;
	int ret = 0;

	if (vol == NULL)
		return 0;
	size = volume_size(vol);
	if (size > (long long)offset)
		ret = download(vol, l->uri, offset, &l->sink, &got, err);
	sym_virStorageVolFree(vol);
	return ret;
}

/* -f: new bytes as they come, until Ctrl-C or the domain is gone. */
static int follow_log(struct logs *l, const char *name,
		      unsigned long long offset, struct vmctl_error **err)
{
	interrupt_catch();
	for (;;) {
		unsigned long long got;
		long long size;

		if (interrupt_pending() || !domain_exists(l->conn, name))
			return 0;
		vm_sleep_ms(FOLLOW_POLL_MS);
		size = volume_size(l->vol);
		if (size >= 0 && (unsigned long long)size < offset) {
			/* virtlogd rotated it: the old file's rest, then the
			 * new one from its start */
			if (sym_virStoragePoolRefresh(l->pool, 0) < 0)
				sym_virResetLastError();
			if (copy_rotated(l, offset, err) < 0)
				return -1;
			offset = 0;
		}
		if (size > (long long)offset) {
			if (download(l->vol, l->uri, offset, &l->sink, &got,
				     err) < 0)
				return -1;
			offset += got;
		}
	}
}

int lvvm_console_cmd_logs(const struct vmctl_env *env, const char *name,
			  bool follow, bool raw, struct vmctl_error **err)
{
	struct logs l = { .sink = { .filter = TERMSAFE_INIT, .raw = raw } };
	virDomainPtr dom = NULL;
	unsigned long long got = 0;
	int ret = -1;

	l.log_name = lvvm_console_log_name(name);
	l.sink.safe = xmalloc(TERMSAFE_OUT_MAX(CHUNK));
	if (lvvm_open_vm(env, name, 0, &l.conn, &l.uri, &dom, err) < 0 ||
	    log_pool(l.conn, l.uri, &l.pool, err) < 0)
		goto out;
	l.vol = lookup(l.pool, l.log_name);
	if (l.vol == NULL) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT, "%s: VM %s "
				"has no serial log volume %s in pool "
				LVSTORE_POOL " (made before vmctl kept it "
				"there?)", l.uri, name, l.log_name);
		goto out;
	}
	if (copy_rotated(&l, 0, err) < 0 ||
	    download(l.vol, l.uri, 0, &l.sink, &got, err) < 0 ||
	    (follow && follow_log(&l, name, got, err) < 0))
		goto out;
	ret = sink_finish(&l.sink, err);
out:
	if (dom != NULL)
		sym_virDomainFree(dom);
	logs_clear(&l);
	return ret;
}
