// SPDX-License-Identifier: GPL-2.0-or-later
/* migrate and move: carrying a VM's volumes to the destination and its
 * XML with the destination's paths; undoing that (lvmigrate.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vmctl/checksum.h"
#include "vmctl/imagecache.h"
#include "vmctl/lazylib.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvmigrate.h"
#include "vmctl/lvstore.h"
#include "vmctl/lvvm-console.h"
#include "vmctl/proc.h"
#include "vmctl/strv.h"
#include "vmctl/xalloc.h"

/* The source's volume `name` into the local file `path`. */
static int download(struct lvmigrate_job *j, const char *name, const char *path,
		    struct vmctl_error **err)
{
	return lvstore_download_file(j->src.pool, j->src.uri, name, path, err);
}

/* A base as a local file: the verified cache's entry of its digest (its
 * shared lock held in *src until cleared), or the source's volume,
 * checked against the digest it is named by. */
static int local_base(struct lvmigrate_job *j, const struct lvmigrate_file *f,
		      struct imagecache_result *src, struct vmctl_error **err)
{
	const char *hex = strchr(f->digest, ':') + 1;
	enum checksum_algo algo = strncmp(f->digest, "sha512:", 7) == 0
				  ? CHECKSUM_SHA512 : CHECKSUM_SHA256;
	cleanup_free char *got = NULL;
	int found = imagecache_find(j->env, f->digest, src, err);

	if (found != 0)
		return found < 0 ? -1 : 0;
	if (strncmp(f->digest, "sha256:", 7) != 0 && algo != CHECKSUM_SHA512)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: %s: "
				       "no digest to check it by", j->src.uri,
				       f->volume);
	src->path = xasprintf("%s/%s", j->scratch, f->volume);
	if (download(j, f->volume, src->path, err) < 0 ||
	    checksum_file(src->path, algo, &got, err) < 0)
		return -1;
	if (strcmp(got, hex) != 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: volume "
				       "%s does not hold what its name says "
				       "(%s:%s)", j->src.uri, f->volume,
				       checksum_algo_name(algo), got);
	return 0;
}

/* Every base on the destination (uploaded unless one is there). */
static int carry_bases(struct lvmigrate_job *j, struct vmctl_error **err)
{
	for (size_t i = 0; i < j->files.n; i++) {
		const struct lvmigrate_file *f = &j->files.v[i];
		cleanup_free char *name = NULL;
		struct imagecache_result local = { 0 };
		bool uploaded;
		int found, ret;

		if (f->kind != LVMIGRATE_BASE)
			continue;
		name = lvstore_base_name(f->digest, f->format);
		found = lvstore_base_find(j->dst.pool, j->dst.uri, name,
					  &j->dst_paths[i], err);
		if (found < 0)
			return -1;
		if (found > 0)
			continue;
		ret = local_base(j, f, &local, err);
		if (ret == 0)
			ret = lvstore_base(j->dst.pool, j->dst.uri, local.path,
					   f->digest, f->format,
					   &j->dst_paths[i], &uploaded, err);
		imagecache_result_clear(&local);
		if (ret < 0)
			return -1;
		if (uploaded && j->env->verbosity >= 0)
			fprintf(stderr, "Uploaded %s to %s\n", f->digest,
				j->dst.uri);
	}
	return 0;
}

/* The destination's path of the file the source names `path`. */
static const char *dst_path_of(const struct lvmigrate_job *j, const char *path)
{
	for (size_t i = 0; path != NULL && i < j->files.n; i++)
		if (strcmp(j->files.v[i].path, path) == 0)
			return j->dst_paths[i];
	return NULL;
}

/* The overlay on the destination: made empty over its base (migrate:
 * QEMU copies what it holds), or carried whole, its backing file made
 * the destination's (move). */
static int carry_disk(struct lvmigrate_job *j, size_t i, bool contents,
		      struct vmctl_error **err)
{
	const struct lvmigrate_file *f = &j->files.v[i];
	const char *backing = dst_path_of(j, f->backing);
	cleanup_free char *local = NULL;
	virStorageVolPtr vol;
	virStorageVolInfo info;

	if (!contents) {
		vol = sym_virStorageVolLookupByName(j->src.pool, f->volume);
		if (vol == NULL || sym_virStorageVolGetInfo(vol, &info) < 0) {
			if (vol != NULL)
				sym_virStorageVolFree(vol);
			return lvconn_error(err, j->src.uri, false, f->volume);
		}
		sym_virStorageVolFree(vol);
		if (lvstore_overlay(j->dst.pool, j->dst.uri, f->volume,
				    info.capacity, backing, f->backing_format,
				    &j->dst_paths[i], err) < 0)
			return -1;
		j->made_disk = true;
		return 0;
	}
	local = xasprintf("%s/%s", j->scratch, f->volume);
	if (download(j, f->volume, local, err) < 0)
		return -1;
	if (backing != NULL) {
		struct strv argv = { 0 };
		struct proc_result r = { 0 };
		int ret;
		const char *args[] = { "qemu-img", "rebase", "-u", "-f",
				       "qcow2", "-F", f->backing_format
				       ? f->backing_format : "qcow2", "-b",
				       backing, local };

		for (size_t k = 0; k < sizeof(args) / sizeof(args[0]); k++)
			strv_push(&argv, args[k]);
		ret = proc_run(&argv, &r, err);
		if (ret == 0 && r.status != 0) {
			cleanup_free char *why = proc_result_summary(&r);

			ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					      "qemu-img rebase %s: %s",
					      f->volume, why);
		}
		proc_result_clear(&r);
		strv_clear(&argv);
		if (ret < 0)
			return -1;
	}
	if (lvstore_upload(j->dst.pool, j->dst.uri, f->volume, local,
			   &j->dst_paths[i], err) < 0)
		return -1;
	j->made_disk = true;
	return 0;
}

/* Everything the domain needs on the destination. */
int lvmigrate_carry_files(struct lvmigrate_job *j, bool disk_contents,
		       struct vmctl_error **err)
{
	if (carry_bases(j, err) < 0)
		return -1;
	for (size_t i = 0; i < j->files.n; i++) {
		const struct lvmigrate_file *f = &j->files.v[i];

		if (f->kind == LVMIGRATE_DISK &&
		    carry_disk(j, i, disk_contents, err) < 0)
			return -1;
		/* the log starts anew there (the source's goes with the
		 * VM's volumes) */
		if (f->kind == LVMIGRATE_LOG) {
			j->made_log = true;
			if (lvvm_console_make_log(j->dst.pool, j->dst.uri,
						  j->name, &j->dst_paths[i],
						  err) < 0)
				return -1;
		}
		if (f->kind == LVMIGRATE_SEED) {
			/* read-only: libvirt's copy leaves it out */
			cleanup_free char *local = xasprintf("%s/%s",
							     j->scratch,
							     f->volume);

			j->made_seed = true;
			if (download(j, f->volume, local, err) < 0 ||
			    lvstore_upload(j->dst.pool, j->dst.uri, f->volume,
					   local, &j->dst_paths[i], err) < 0)
				return -1;
		}
	}
	return 0;
}

/* The domain's XML with the destination's paths. */
char *lvmigrate_dst_xml(const struct lvmigrate_job *j, unsigned flags,
		     struct vmctl_error **err)
{
	char *xml = sym_virDomainGetXMLDesc(j->dom, flags);
	const char **from = xcalloc(j->files.n + 1, sizeof(*from));
	const char **to = xcalloc(j->files.n + 1, sizeof(*to));
	size_t n = 0;
	char *out;

	if (xml == NULL) {
		free(from);
		free(to);
		lvconn_error(err, j->src.uri, false, "reading the domain");
		return NULL;
	}
	for (size_t i = 0; i < j->files.n; i++)
		if (j->dst_paths[i] != NULL) {
			from[n] = j->files.v[i].path;
			to[n++] = j->dst_paths[i];
		}
	out = lvmigrate_rewrite(xml, from, to, n);
	if (out == NULL)
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: %s: the "
				"domain's XML does not parse", j->src.uri,
				j->name);
	free(xml);
	free(from);
	free(to);
	return out;
}

/* Failure: what this command made on the destination goes. */
void lvmigrate_undo_dst(struct lvmigrate_job *j)
{
	struct vmctl_error *ignored = NULL;
	cleanup_free char *disk = lvstore_disk_name(j->name);
	cleanup_free char *seed = lvstore_seed_name(j->name);

	if (j->dst_dom_possible) {
		virDomainPtr d = sym_virDomainLookupByName(j->dst.conn, j->name);

		if (d != NULL) {
			if (sym_virDomainIsActive(d) == 1)
				sym_virDomainDestroy(d);
			sym_virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_NVRAM);
			sym_virDomainFree(d);
		}
	}
	if (j->made_disk)
		lvstore_delete(j->dst.pool, j->dst.uri, disk, &ignored);
	vmctl_error_free(ignored);
	ignored = NULL;
	if (j->made_seed)
		lvstore_delete(j->dst.pool, j->dst.uri, seed, &ignored);
	vmctl_error_free(ignored);
	ignored = NULL;
	if (j->made_log)
		lvvm_console_delete_logs(j->dst.pool, j->dst.uri, j->name,
					 &ignored);
	vmctl_error_free(ignored);
	sym_virResetLastError();
}

/* Success: the VM's volumes on the source go (never its bases). */
int lvmigrate_drop_src(struct lvmigrate_job *j, struct vmctl_error **err)
{
	cleanup_free char *disk = lvstore_disk_name(j->name);
	cleanup_free char *seed = lvstore_seed_name(j->name);

	if (lvstore_delete(j->src.pool, j->src.uri, disk, err) < 0 ||
	    lvstore_delete(j->src.pool, j->src.uri, seed, err) < 0 ||
	    lvvm_console_delete_logs(j->src.pool, j->src.uri, j->name,
				     err) < 0)
		return vmctl_error_wrap(err, "the VM runs on %s; removing "
					"its volumes from the source",
					j->dst.uri);
	return 0;
}
