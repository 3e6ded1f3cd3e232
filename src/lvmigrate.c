// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migrate and move between libvirt hosts (lvmigrate.h): the destination
 * is readied (bases, overlay, seed), then libvirt migrates the running
 * VM, or the stopped VM's volumes are carried through this machine and
 * the domain defined there.  What was made on the destination is removed
 * on failure; the source VM stays (running if it was).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vmctl/fsutil.h"
#include "vmctl/interrupt.h"
#include "vmctl/lazylib.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvmigrate.h"
#include "vmctl/lvstore.h"
#include "vmctl/lvvm-snapshot.h"
#include "vmctl/lvvm.h"
#include "vmctl/view.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/xalloc.h"

static void side_close(struct lvmigrate_side *s)
{
	if (s->pool != NULL)
		sym_virStoragePoolFree(s->pool);
	lvconn_close(s->conn);
	free(s->uri);
	*s = (struct lvmigrate_side){ 0 };
}

static void job_clear(struct lvmigrate_job *j)
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
		sym_virDomainFree(j->dom);
	side_close(&j->src);
	side_close(&j->dst);
}

/* Both hosts, the VM on the source, no domain of its name on the
 * destination, the pools. */
static int job_open(struct lvmigrate_job *j, const struct lvmigrate_opts *o,
		    struct vmctl_error **err)
{
	struct vmctl_env to = *j->env;
	virDomainPtr there;

	to.connect = (char *)o->to;
	if (lvconn_open_env(j->env, 0, &j->src.conn, &j->src.uri, err) < 0 ||
	    lvvm_find(j->src.conn, j->src.uri, j->name, &j->dom, NULL,
		      err) < 0 ||
	    lvvm_snapshot_movable(j->dom, j->src.uri, j->name, err) < 0 ||
	    lvconn_open_env(&to, 0, &j->dst.conn, &j->dst.uri, err) < 0)
		return -1;
	if (strcmp(j->src.uri, j->dst.uri) == 0)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "%s: the VM "
				       "is there already (--to names the "
				       "source)", j->dst.uri);
	there = sym_virDomainLookupByName(j->dst.conn, j->name);
	if (there != NULL) {
		sym_virDomainFree(there);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST, "%s: a "
				       "domain named \"%s\" already exists",
				       j->dst.uri, j->name);
	}
	sym_virResetLastError();
	return lvstore_pool(j->src.conn, j->src.uri, &j->src.pool, err) < 0 ||
	       lvstore_pool(j->dst.conn, j->dst.uri, &j->dst.pool, err) < 0
	       ? -1 : 0;
}

/* The domain's files in the pool; anything but its bases, overlay and
 * seed is refused before anything is done. */
static int job_files(struct lvmigrate_job *j, const char *xml, struct vmctl_error **err)
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

static void print_done(const struct lvmigrate_job *j, const char *verb,
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
	bool show;                   /* draw it (a terminal) */
	atomic_bool done;
	pthread_t thread;
};

/* While virDomainMigrate3 runs: Ctrl-C aborts the job (the migration
 * then fails, and what was made there is removed); on a terminal, how
 * much is sent. */
static void *progress_run(void *arg)
{
	struct progress *p = arg;
	static const char spin[] = "|/-\\";
	unsigned k = 0;
	bool aborted = false;

	while (!atomic_load(&p->done)) {
		virDomainJobInfo ji;
		double s = (double)(vm_now_ms() - p->t0) / 1000.0;

		if (interrupt_pending() && !aborted) {
			aborted = true;
			sym_virDomainAbortJob(p->dom);
		}
		if (!p->show) {
			/* (nothing to draw) */
		} else if (sym_virDomainGetJobInfo(p->dom, &ji) == 0 &&
		    ji.type != VIR_DOMAIN_JOB_NONE && ji.dataTotal > 0)
			fprintf(stderr, "\r%c Migrating %s: %llu of %llu MiB "
				"(%.0f s)   ", spin[k++ % 4], p->name,
				ji.dataProcessed >> 20, ji.dataTotal >> 20, s);
		else
			fprintf(stderr, "\r%c Migrating %s (%.0f s)   ",
				spin[k++ % 4], p->name, s);
		sym_virResetLastError();
		vm_sleep_ms(250);
	}
	if (p->show)
		fprintf(stderr, "\r\033[K");
	return NULL;
}

static int migrate(struct lvmigrate_job *j, const struct lvmigrate_opts *o,
		   long long t0, struct vmctl_error **err)
{
	cleanup_free char *live = NULL, *persist = NULL, *muri = NULL;
	virTypedParameterPtr params = NULL;
	int n = 0, max = 0, ret = -1;
	struct progress p = {
		.dom = j->dom, .name = j->name, .t0 = t0,
		.show = j->env->verbosity >= 0 && !j->env->json &&
			isatty(STDERR_FILENO),
	};
	bool watched;
	virDomainPtr moved;

	live = lvmigrate_dst_xml(j, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_MIGRATABLE,
		       err);
	persist = live ? lvmigrate_dst_xml(j, VIR_DOMAIN_XML_SECURE |
				 VIR_DOMAIN_XML_MIGRATABLE |
				 VIR_DOMAIN_XML_INACTIVE, err) : NULL;
	if (persist == NULL)
		return -1;
	muri = lvmigrate_migrate_uri(j->dst.uri, o->migrate_uri);
	if (sym_virTypedParamsAddString(&params, &n, &max,
					VIR_MIGRATE_PARAM_DEST_XML, live) < 0 ||
	    sym_virTypedParamsAddString(&params, &n, &max,
					VIR_MIGRATE_PARAM_PERSIST_XML,
					persist) < 0 ||
	    (muri != NULL &&
	     sym_virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_URI,
					 muri) < 0))
		abort();
	atomic_init(&p.done, false);
	watched = pthread_create(&p.thread, NULL, progress_run, &p) == 0;
	j->dst_dom_possible = true;
	moved = sym_virDomainMigrate3(j->dom, j->dst.conn, params, (unsigned)n,
				      lvmigrate_flags());
	if (moved == NULL)
		lvconn_error(err, j->src.uri, false, muri ? muri
				: "migrating");
	if (watched) {
		atomic_store(&p.done, true);
		pthread_join(p.thread, NULL);
	}
	if (moved != NULL) {
		sym_virDomainFree(moved);
		ret = 0;
	}
	sym_virTypedParamsFree(params, n);
	return ret;
}

int lvmigrate_cmd_migrate(const struct vmctl_env *env, const char *name,
			  const struct lvmigrate_opts *opts,
			  struct vmctl_error **err)
{
	struct lvmigrate_job j = { .env = env, .name = name };
	long long t0 = vm_now_ms();
	cleanup_free char *xml = NULL, *reason = NULL;
	int ret = -1;

	if (job_open(&j, opts, err) < 0)
		goto out;
	xml = sym_virDomainGetXMLDesc(j.dom, 0);
	if (xml == NULL) {
		lvconn_error(err, j.src.uri, false, name);
		goto out;
	}
	if (lvmigrate_check(xml, &reason) < 0) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: cannot migrate "
				"VM %s: %s", j.src.uri, name, reason);
		goto out;
	}
	if (sym_virDomainIsActive(j.dom) != 1) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s is not "
				"running: `vmctl move` carries a stopped VM",
				j.src.uri, name);
		goto out;
	}
	if (job_files(&j, xml, err) < 0)
		goto out;
	if (lvmigrate_carry_files(&j, false, err) < 0 || migrate(&j, opts, t0, err) < 0) {
		vmctl_error_wrap(err, "migrating VM %s to %s", name, j.dst.uri);
		lvmigrate_undo_dst(&j);
		goto out;
	}
	if (lvmigrate_drop_src(&j, err) < 0)
		goto out;
	print_done(&j, "Migrated", "running", vm_now_ms() - t0);
	ret = VMCTL_EXIT_OK;
out:
	job_clear(&j);
	return ret;
}

/* ---- move ---------------------------------------------------------------- */

static int move(struct lvmigrate_job *j, bool was_running, struct vmctl_error **err)
{
	cleanup_free char *xml = NULL;
	virDomainPtr d;

	if (lvmigrate_carry_files(j, true, err) < 0)
		return -1;
	xml = lvmigrate_dst_xml(j, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE, err);
	if (xml == NULL)
		return -1;
	j->dst_dom_possible = true;
	d = sym_virDomainDefineXML(j->dst.conn, xml);
	if (d == NULL)
		return lvconn_error(err, j->dst.uri, false,
				    "defining the domain");
	if (was_running && sym_virDomainCreate(d) < 0) {
		sym_virDomainFree(d);
		return lvconn_error(err, j->dst.uri, false,
				    "starting the domain");
	}
	sym_virDomainFree(d);
	return 0;
}

int lvmigrate_cmd_move(const struct vmctl_env *env, const char *name,
		       const struct lvmigrate_opts *opts,
		       struct vmctl_error **err)
{
	struct lvmigrate_job j = { .env = env, .name = name };
	long long t0 = vm_now_ms();
	cleanup_free char *xml = NULL;
	enum vm_stop_step how;
	bool was_running;
	int ret = -1;

	if (job_open(&j, opts, err) < 0)
		goto out;
	xml = sym_virDomainGetXMLDesc(j.dom, VIR_DOMAIN_XML_INACTIVE);
	if (xml == NULL) {
		lvconn_error(err, j.src.uri, false, name);
		goto out;
	}
	if (job_files(&j, xml, err) < 0)
		goto out;
	was_running = sym_virDomainIsActive(j.dom) == 1;
	if (lvvm_stop_domain(j.dom, j.src.uri, opts->timeout_s, &how,
			     err) < 0)
		goto out;
	if (move(&j, was_running, err) < 0) {
		struct vmctl_error *e = NULL;

		vmctl_error_wrap(err, "moving VM %s to %s", name, j.dst.uri);
		lvmigrate_undo_dst(&j);
		if (was_running && sym_virDomainCreate(j.dom) < 0) {
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
	if (sym_virDomainUndefineFlags(j.dom, VIR_DOMAIN_UNDEFINE_NVRAM |
				       VIR_DOMAIN_UNDEFINE_MANAGED_SAVE) < 0) {
		lvconn_error(err, j.src.uri, false, "the VM is on the "
			     "destination; undefining it at the source");
		goto out;
	}
	if (lvmigrate_drop_src(&j, err) < 0)
		goto out;
	print_done(&j, "Moved", was_running ? "running" : "stopped",
		   vm_now_ms() - t0);
	ret = VMCTL_EXIT_OK;
out:
	job_clear(&j);
	return ret;
}
