// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migrate and move between libvirt hosts (lvmigrate.h): the destination
 * is readied (bases, overlay, seed), then libvirt migrates the running
 * VM, or the stopped VM's volumes are carried through this machine and
 * the domain defined there.  What was made on the destination is removed
 * on failure; the source VM stays (running if it was).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vmctl/checksum.h"
#include "vmctl/fsutil.h"
#include "vmctl/imagecache.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvmigrate.h"
#include "vmctl/lvstore.h"
#include "vmctl/lvvm.h"
#include "vmctl/proc.h"
#include "vmctl/view.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/xalloc.h"

struct side {
	virConnectPtr conn;
	char *uri;
	virStoragePoolPtr pool;
};

struct job {
	const struct vmctl_env *env;
	const char *name;
	struct side src, dst;
	virDomainPtr dom;              /* on the source */
	struct lvmigrate_files files;
	char **dst_paths;              /* files.v[i] on the destination */
	char *scratch;                 /* local directory for carried files */
	bool made_disk, made_seed;     /* volumes made on the destination */
	bool dst_dom_possible;         /* a domain may be there because of us */
};

static void side_close(struct side *s)
{
	if (s->pool != NULL)
		virStoragePoolFree(s->pool);
	lvconn_close(s->conn);
	free(s->uri);
	*s = (struct side){ 0 };
}

static void job_clear(struct job *j)
{
	struct vmctl_error *ignored = NULL;

	for (size_t i = 0; i < j->files.n && j->dst_paths; i++)
		free(j->dst_paths[i]);
	free(j->dst_paths);
	lvmigrate_files_clear(&j->files);
	if (j->scratch != NULL)
		fs_remove_tree(j->scratch, &ignored);
	vmctl_error_free(ignored);
	free(j->scratch);
	if (j->dom != NULL)
		virDomainFree(j->dom);
	side_close(&j->src);
	side_close(&j->dst);
}

/* Both hosts, the VM on the source, no domain of its name on the
 * destination, the pools. */
static int job_open(struct job *j, const struct lvmigrate_opts *o,
		    struct vmctl_error **err)
{
	struct vmctl_env to = *j->env;
	virDomainPtr there;

	to.connect = (char *)o->to;
	if (lvconn_open_env(j->env, 0, &j->src.conn, &j->src.uri, err) < 0 ||
	    lvvm_find(j->src.conn, j->src.uri, j->name, &j->dom, NULL,
		      err) < 0 ||
	    lvconn_open_env(&to, 0, &j->dst.conn, &j->dst.uri, err) < 0)
		return -1;
	if (strcmp(j->src.uri, j->dst.uri) == 0)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "%s: the VM "
				       "is there already (--to names the "
				       "source)", j->dst.uri);
	there = virDomainLookupByName(j->dst.conn, j->name);
	if (there != NULL) {
		virDomainFree(there);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST, "%s: a "
				       "domain named \"%s\" already exists",
				       j->dst.uri, j->name);
	}
	virResetLastError();
	return lvstore_pool(j->src.conn, j->src.uri, &j->src.pool, err) < 0 ||
	       lvstore_pool(j->dst.conn, j->dst.uri, &j->dst.pool, err) < 0
	       ? -1 : 0;
}

/* The domain's files in the pool; anything but its bases, overlay and
 * seed is refused before anything is done. */
static int job_files(struct job *j, const char *xml, struct vmctl_error **err)
{
	if (lvmigrate_files(xml, LVSTORE_POOL_PATH, j->name, &j->files,
			    err) < 0)
		return vmctl_error_wrap(err, "%s: %s", j->src.uri, j->name);
	for (size_t i = 0; i < j->files.n; i++)
		if (j->files.v[i].kind == LVMIGRATE_OTHER)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "%s: %s: volume %s is not one "
					       "vmctl carries", j->src.uri,
					       j->name, j->files.v[i].volume);
	j->dst_paths = xcalloc(j->files.n ? j->files.n : 1,
			       sizeof(*j->dst_paths));
	j->scratch = xasprintf("%s/vmctl-move-XXXXXX", getenv("TMPDIR") &&
			       *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(j->scratch) == NULL) {
		int e = errno;

		free(j->scratch);
		j->scratch = NULL;
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, e,
					 "temporary directory");
	}
	return 0;
}

/* ---- carrying volumes ---------------------------------------------------- */

static int sink(virStreamPtr st, const char *data, size_t n, void *opaque)
{
	int fd = *(int *)opaque;
	size_t off = 0;

	(void)st;
	while (off < n) {
		ssize_t w = write(fd, data + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		off += (size_t)w;
	}
	return (int)n;
}

/* The source's volume `name` into the local file `path`. */
static int download(struct job *j, const char *name, const char *path,
		    struct vmctl_error **err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL |
				    O_CLOEXEC, 0600);
	virStorageVolPtr vol = NULL;
	virStreamPtr st = NULL;
	int ret = -1;

	if (fd < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 path);
	vol = virStorageVolLookupByName(j->src.pool, name);
	st = vol ? virStreamNew(j->src.conn, 0) : NULL;
	if (st == NULL || virStorageVolDownload(vol, st, 0, 0, 0) < 0) {
		lvconn_error(err, j->src.uri, false, name);
		goto out;
	}
	if (virStreamRecvAll(st, sink, &fd) < 0) {
		lvconn_error(err, j->src.uri, false, name);
		virStreamAbort(st);
		goto out;
	}
	if (virStreamFinish(st) < 0) {
		lvconn_error(err, j->src.uri, false, name);
		goto out;
	}
	ret = 0;
out:
	if (st != NULL)
		virStreamFree(st);
	if (vol != NULL)
		virStorageVolFree(vol);
	return ret;
}

/* A base as a local file: the verified cache's entry of its digest, or
 * the source's volume, checked against the digest it is named by. */
static int local_base(struct job *j, const struct lvmigrate_file *f,
		      char **path, struct vmctl_error **err)
{
	const char *hex = strchr(f->digest, ':') + 1;
	enum checksum_algo algo = strncmp(f->digest, "sha512:", 7) == 0
				  ? CHECKSUM_SHA512 : CHECKSUM_SHA256;
	cleanup_free char *dir = imagecache_dir(j->env);
	cleanup_free char *entry = imagecache_entry_name(algo, hex);
	cleanup_free char *cached = xasprintf("%s/%s", dir, entry);
	cleanup_free char *stamp = xasprintf("%s.verified", cached);
	cleanup_free char *got = NULL;

	if (access(cached, R_OK) == 0 && access(stamp, F_OK) == 0) {
		*path = steal_pointer(&cached);
		return 0;
	}
	if (strncmp(f->digest, "sha256:", 7) != 0 && algo != CHECKSUM_SHA512)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: %s: "
				       "no digest to check it by", j->src.uri,
				       f->volume);
	*path = xasprintf("%s/%s", j->scratch, f->volume);
	if (download(j, f->volume, *path, err) < 0 ||
	    checksum_file(*path, algo, &got, err) < 0)
		return -1;
	if (strcmp(got, hex) != 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: volume "
				       "%s does not hold what its name says "
				       "(%s:%s)", j->src.uri, f->volume,
				       checksum_algo_name(algo), got);
	return 0;
}

/* Every base on the destination (uploaded unless one is there). */
static int carry_bases(struct job *j, struct vmctl_error **err)
{
	for (size_t i = 0; i < j->files.n; i++) {
		const struct lvmigrate_file *f = &j->files.v[i];
		cleanup_free char *name = NULL, *local = NULL;
		bool uploaded;
		int found;

		if (f->kind != LVMIGRATE_BASE)
			continue;
		name = lvstore_base_name(f->digest, f->format);
		found = lvstore_base_find(j->dst.pool, j->dst.uri, name,
					  &j->dst_paths[i], err);
		if (found < 0)
			return -1;
		if (found > 0)
			continue;
		if (local_base(j, f, &local, err) < 0 ||
		    lvstore_base(j->dst.pool, j->dst.uri, local, f->digest,
				 f->format, &j->dst_paths[i], &uploaded,
				 err) < 0)
			return -1;
		if (uploaded && j->env->verbosity >= 0)
			fprintf(stderr, "Uploaded %s to %s\n", f->digest,
				j->dst.uri);
	}
	return 0;
}

/* The destination's path of the file the source names `path`. */
static const char *dst_path_of(const struct job *j, const char *path)
{
	for (size_t i = 0; path != NULL && i < j->files.n; i++)
		if (strcmp(j->files.v[i].path, path) == 0)
			return j->dst_paths[i];
	return NULL;
}

/* The overlay on the destination: made empty over its base (migrate:
 * QEMU copies what it holds), or carried whole, its backing file made
 * the destination's (move). */
static int carry_disk(struct job *j, size_t i, bool contents,
		      struct vmctl_error **err)
{
	const struct lvmigrate_file *f = &j->files.v[i];
	const char *backing = dst_path_of(j, f->backing);
	cleanup_free char *local = NULL;
	virStorageVolPtr vol;
	virStorageVolInfo info;

	if (!contents) {
		vol = virStorageVolLookupByName(j->src.pool, f->volume);
		if (vol == NULL || virStorageVolGetInfo(vol, &info) < 0) {
			if (vol != NULL)
				virStorageVolFree(vol);
			return lvconn_error(err, j->src.uri, false, f->volume);
		}
		virStorageVolFree(vol);
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

		strv_push(&argv, "qemu-img");
		strv_push(&argv, "rebase");
		strv_push(&argv, "-u");
		strv_push(&argv, "-f");
		strv_push(&argv, "qcow2");
		strv_push(&argv, "-F");
		strv_push(&argv, f->backing_format ? f->backing_format
						   : "qcow2");
		strv_push(&argv, "-b");
		strv_push(&argv, backing);
		strv_push(&argv, local);
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
static int carry_files(struct job *j, bool disk_contents,
		       struct vmctl_error **err)
{
	if (carry_bases(j, err) < 0)
		return -1;
	for (size_t i = 0; i < j->files.n; i++) {
		const struct lvmigrate_file *f = &j->files.v[i];

		if (f->kind == LVMIGRATE_DISK &&
		    carry_disk(j, i, disk_contents, err) < 0)
			return -1;
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
static char *dst_xml(const struct job *j, unsigned flags,
		     struct vmctl_error **err)
{
	char *xml = virDomainGetXMLDesc(j->dom, flags);
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
static void undo_dst(struct job *j)
{
	struct vmctl_error *ignored = NULL;
	cleanup_free char *disk = lvstore_disk_name(j->name);
	cleanup_free char *seed = lvstore_seed_name(j->name);

	if (j->dst_dom_possible) {
		virDomainPtr d = virDomainLookupByName(j->dst.conn, j->name);

		if (d != NULL) {
			if (virDomainIsActive(d) == 1)
				virDomainDestroy(d);
			virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_NVRAM);
			virDomainFree(d);
		}
	}
	if (j->made_disk)
		lvstore_delete(j->dst.pool, j->dst.uri, disk, &ignored);
	vmctl_error_free(ignored);
	ignored = NULL;
	if (j->made_seed)
		lvstore_delete(j->dst.pool, j->dst.uri, seed, &ignored);
	vmctl_error_free(ignored);
	virResetLastError();
}

/* Success: the VM's volumes on the source go (never its bases). */
static int drop_src_volumes(struct job *j, struct vmctl_error **err)
{
	cleanup_free char *disk = lvstore_disk_name(j->name);
	cleanup_free char *seed = lvstore_seed_name(j->name);

	if (lvstore_delete(j->src.pool, j->src.uri, disk, err) < 0 ||
	    lvstore_delete(j->src.pool, j->src.uri, seed, err) < 0)
		return vmctl_error_wrap(err, "the VM runs on %s; removing "
					"its volumes from the source",
					j->dst.uri);
	return 0;
}

static void print_done(const struct job *j, const char *verb,
		       const char *state, long long ms)
{
	if (j->env->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", j->name);
		cJSON_AddStringToObject(o, "from", j->src.uri);
		cJSON_AddStringToObject(o, "to", j->dst.uri);
		cJSON_AddStringToObject(o, "state", state);
		cJSON_AddNumberToObject(o, "seconds", (double)ms / 1000.0);
		view_print_json(o);
		cJSON_Delete(o);
	} else if (j->env->verbosity >= 0) {
		printf("%s VM %s to %s (%s, %.1f s)\n", verb, j->name,
		       j->dst.uri, state, (double)ms / 1000.0);
	}
}

/* ---- migrate ------------------------------------------------------------- */

struct progress {
	virDomainPtr dom;
	const char *name;
	long long t0;
	atomic_bool done;
	pthread_t thread;
};

/* On the terminal, while virDomainMigrate3 runs: how much is sent. */
static void *progress_run(void *arg)
{
	struct progress *p = arg;
	static const char spin[] = "|/-\\";
	unsigned k = 0;

	while (!atomic_load(&p->done)) {
		virDomainJobInfo ji;
		double s = (double)(vm_now_ms() - p->t0) / 1000.0;

		if (virDomainGetJobInfo(p->dom, &ji) == 0 &&
		    ji.type != VIR_DOMAIN_JOB_NONE && ji.dataTotal > 0)
			fprintf(stderr, "\r%c Migrating %s: %llu of %llu MiB "
				"(%.0f s)   ", spin[k++ % 4], p->name,
				ji.dataProcessed >> 20, ji.dataTotal >> 20, s);
		else
			fprintf(stderr, "\r%c Migrating %s (%.0f s)   ",
				spin[k++ % 4], p->name, s);
		virResetLastError();
		vm_sleep_ms(250);
	}
	fprintf(stderr, "\r\033[K");
	return NULL;
}

static int migrate(struct job *j, const struct lvmigrate_opts *o,
		   long long t0, struct vmctl_error **err)
{
	cleanup_free char *live = NULL, *persist = NULL, *muri = NULL;
	virTypedParameterPtr params = NULL;
	int n = 0, max = 0, ret = -1;
	struct progress p = { .dom = j->dom, .name = j->name, .t0 = t0 };
	bool show = j->env->verbosity >= 0 && !j->env->json &&
		    isatty(STDERR_FILENO);
	virDomainPtr moved;

	live = dst_xml(j, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_MIGRATABLE,
		       err);
	persist = live ? dst_xml(j, VIR_DOMAIN_XML_SECURE |
				 VIR_DOMAIN_XML_MIGRATABLE |
				 VIR_DOMAIN_XML_INACTIVE, err) : NULL;
	if (persist == NULL)
		return -1;
	muri = lvmigrate_migrate_uri(j->dst.uri, o->migrate_uri);
	if (virTypedParamsAddString(&params, &n, &max,
				    VIR_MIGRATE_PARAM_DEST_XML, live) < 0 ||
	    virTypedParamsAddString(&params, &n, &max,
				    VIR_MIGRATE_PARAM_PERSIST_XML,
				    persist) < 0 ||
	    (muri != NULL &&
	     virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_URI,
				     muri) < 0))
		abort();
	atomic_init(&p.done, false);
	if (show && pthread_create(&p.thread, NULL, progress_run, &p) != 0)
		show = false;
	j->dst_dom_possible = true;
	moved = virDomainMigrate3(j->dom, j->dst.conn, params, (unsigned)n,
				  lvmigrate_flags());
	if (moved == NULL)
		lvconn_error(err, j->src.uri, false, muri ? muri
				: "migrating");
	if (show) {
		atomic_store(&p.done, true);
		pthread_join(p.thread, NULL);
	}
	if (moved != NULL) {
		virDomainFree(moved);
		ret = 0;
	}
	virTypedParamsFree(params, n);
	return ret;
}

int lvmigrate_cmd_migrate(const struct vmctl_env *env, const char *name,
			  const struct lvmigrate_opts *opts,
			  struct vmctl_error **err)
{
	struct job j = { .env = env, .name = name };
	long long t0 = vm_now_ms();
	cleanup_free char *xml = NULL, *reason = NULL;
	int ret = -1;

	if (job_open(&j, opts, err) < 0)
		goto out;
	xml = virDomainGetXMLDesc(j.dom, 0);
	if (xml == NULL) {
		lvconn_error(err, j.src.uri, false, name);
		goto out;
	}
	if (lvmigrate_check(xml, &reason) < 0) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: cannot migrate "
				"VM %s: %s", j.src.uri, name, reason);
		goto out;
	}
	if (virDomainIsActive(j.dom) != 1) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s is not "
				"running: `vmctl move` carries a stopped VM",
				j.src.uri, name);
		goto out;
	}
	if (job_files(&j, xml, err) < 0)
		goto out;
	if (carry_files(&j, false, err) < 0 || migrate(&j, opts, t0, err) < 0) {
		vmctl_error_wrap(err, "migrating VM %s to %s", name, j.dst.uri);
		undo_dst(&j);
		goto out;
	}
	if (drop_src_volumes(&j, err) < 0)
		goto out;
	print_done(&j, "Migrated", "running", vm_now_ms() - t0);
	ret = VMCTL_EXIT_OK;
out:
	job_clear(&j);
	return ret;
}

/* ---- move ---------------------------------------------------------------- */

static int move(struct job *j, bool was_running, struct vmctl_error **err)
{
	cleanup_free char *xml = NULL;
	virDomainPtr d;

	if (carry_files(j, true, err) < 0)
		return -1;
	xml = dst_xml(j, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE, err);
	if (xml == NULL)
		return -1;
	j->dst_dom_possible = true;
	d = virDomainDefineXML(j->dst.conn, xml);
	if (d == NULL)
		return lvconn_error(err, j->dst.uri, false,
				    "defining the domain");
	if (was_running && virDomainCreate(d) < 0) {
		virDomainFree(d);
		return lvconn_error(err, j->dst.uri, false,
				    "starting the domain");
	}
	virDomainFree(d);
	return 0;
}

int lvmigrate_cmd_move(const struct vmctl_env *env, const char *name,
		       const struct lvmigrate_opts *opts,
		       struct vmctl_error **err)
{
	struct job j = { .env = env, .name = name };
	long long t0 = vm_now_ms();
	cleanup_free char *xml = NULL;
	enum vm_stop_step how;
	bool was_running;
	int ret = -1;

	if (job_open(&j, opts, err) < 0)
		goto out;
	xml = virDomainGetXMLDesc(j.dom, VIR_DOMAIN_XML_INACTIVE);
	if (xml == NULL) {
		lvconn_error(err, j.src.uri, false, name);
		goto out;
	}
	if (job_files(&j, xml, err) < 0)
		goto out;
	was_running = virDomainIsActive(j.dom) == 1;
	if (lvvm_stop_domain(j.dom, j.src.uri, opts->timeout_s, &how,
			     err) < 0)
		goto out;
	if (move(&j, was_running, err) < 0) {
		struct vmctl_error *e = NULL;

		vmctl_error_wrap(err, "moving VM %s to %s", name, j.dst.uri);
		undo_dst(&j);
		if (was_running && virDomainCreate(j.dom) < 0) {
			cleanup_free char *both = NULL;
			int status = (*err)->status;

			lvconn_error(&e, j.src.uri, false, "restarting it");
			both = xasprintf("%s; and %s", (*err)->message,
					 e->message);
			vmctl_error_free(e);
			vmctl_error_free(*err);
			*err = NULL;
			vmctl_error_set(err, status, 0, "%s", both);
		}
		goto out;
	}
	if (virDomainUndefineFlags(j.dom, VIR_DOMAIN_UNDEFINE_NVRAM |
				   VIR_DOMAIN_UNDEFINE_MANAGED_SAVE) < 0) {
		lvconn_error(err, j.src.uri, false, "the VM is on the "
			     "destination; undefining it at the source");
		goto out;
	}
	if (drop_src_volumes(&j, err) < 0)
		goto out;
	print_done(&j, "Moved", was_running ? "running" : "stopped",
		   vm_now_ms() - t0);
	ret = VMCTL_EXIT_OK;
out:
	job_clear(&j);
	return ret;
}
