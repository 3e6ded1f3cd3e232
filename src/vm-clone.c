// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmctl clone (include/vmctl/vm-clone.h): under SRC's lock, the image
 * cache's shared lock (prune waits) and, while names and layers change,
 * the state-wide lock.  DST is made like a create makes a VM (appearing
 * whole, locked, marked `creating` until done); a failure removes it and
 * puts SRC's disk back as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/clone-plan.h"
#include "vmctl/image.h"
#include "vmctl/imagecache.h"
#include "vmctl/interrupt.h"
#include "vmctl/proc.h"
#include "vmctl/snapshot-tree.h"
#include "vmctl/vm-clone.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

extern char **environ;

#define SRC_NEW_DISK VMDIR_DISK ".clone-new"

char *vm_layers_dir(const struct vmctl_env *env)
{
	return xasprintf("%s/layers", env->state_dir);
}

/* ---- the layers every VM names ----------------------------------------- */

/* Every layer some VM stands on; -1 when a VM's state does not read (it
 * might stand on any of them). */
static int layers_in_use(const struct vmctl_env *env, struct strv *in_use)
{
	struct vmctl_error *ignored = NULL;
	struct strv names = { 0 };
	int ret = 0;

	if (state_list(env, &names, &ignored) < 0) {
		vmctl_error_free(ignored);
		return -1;
	}
	for (size_t i = 0; i < names.n && ret == 0; i++) {
		struct vm_state st;

		if (state_read(env, names.v[i], &st, &ignored) < 0) {
			vmctl_error_free(ignored);
			ignored = NULL;
			/* A create that has not written it yet stands on
			 * no layer; anything else is unknown. */
			if (!vm_create_unfinished(env, names.v[i]))
				ret = -1;
			continue;
		}
		strv_extend(in_use, &st.layers);
		state_clear(&st);
	}
	strv_clear(&names);
	return ret;
}

void vm_layers_release(const struct vmctl_env *env, const struct strv *chain)
{
	struct vmctl_error *ignored = NULL;
	struct strv in_use = { 0 }, gone = { 0 };
	int glock;

	if (chain->n == 0)
		return;
	/* A clone adding a VM over one of them holds this lock. */
	glock = state_lock_global(env, &ignored);
	if (glock < 0) {
		vmctl_error_free(ignored);
		return;
	}
	/* When in doubt a layer stays (`image prune` judges it later). */
	if (layers_in_use(env, &in_use) == 0) {
		clone_layers_unused(chain, &in_use, &gone);
		for (size_t i = 0; i < gone.n; i++)
			unlink(gone.v[i]);
	}
	close(glock);
	strv_clear(&in_use);
	strv_clear(&gone);
}

/* ---- SRC ---------------------------------------------------------------- */

static int read_snapshots(const struct vmctl_env *env, const char *name,
			  struct snapshot_record *rec,
			  struct vmctl_error **err)
{
	cleanup_free char *path = state_vm_file(env, name, SNAPSHOT_RECORD);
	cleanup_free char *text = NULL;
	size_t len;

	*rec = (struct snapshot_record){ 0 };
	if (!vm_file_exists(path))
		return 0;
	if (fs_read_file(path, 1 << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 err) < 0 ||
	    snapshot_record_parse(text, rec, err) < 0)
		return vmctl_error_wrap(err, "VM %s", name);
	return 0;
}

/* ---- the copy ----------------------------------------------------------- */

/* qemu-img with its progress (stdout) on our stderr, stdin empty. */
static int run_visible(const struct strv *argv, struct vmctl_error **err)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, e;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	e = posix_spawnp(&pid, argv->v[0], &fa, NULL, argv->v, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0)
		return vmctl_error_errno(err, VMCTL_EXIT_UNAVAILABLE, e, "%s",
					 argv->v[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE,
						 errno, "waiting for %s",
						 argv->v[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
			       "qemu-img rebase failed (%s %d)",
			       WIFEXITED(status) ? "exit status" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status)
						 : WTERMSIG(status));
}

static int full_copy(const struct vmctl_env *env, const char *src,
		     const char *dst, const struct vm_state *st, bool progress,
		     struct vmctl_error **err)
{
	cleanup_free char *from = state_vm_file(env, src, VMDIR_DISK);
	cleanup_free char *to = state_vm_file(env, dst, VMDIR_DISK);
	struct strv argv = { 0 };
	int ret;

	if (image_create_overlay(from, "qcow2", to, 0, err) < 0)
		return vmctl_error_wrap(err, "copying %s's disk", src);
	clone_rebase_argv(to, st->base_image, st->base_format, progress,
			  &argv);
	if (progress) {
		ret = run_visible(&argv, err);
		fputc('\n', stderr);
	} else {
		ret = proc_run_ok(&argv, "qemu-img rebase", err);
	}
	strv_clear(&argv);
	if (ret == 0 && interrupt_pending())
		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR,
				      "interrupted");
	return ret < 0 ? vmctl_error_wrap(err, "copying %s's disk", src) : 0;
}

/* ---- the linked clone ----------------------------------------------------- */

struct linked {
	char *layer;          /* STATE_DIR/layers/SRC-HEX.qcow2 */
	char *src_disk, *src_new;
	bool linked, made_new, committed;
};

static void linked_undo(struct linked *l)
{
	if (!l->committed) {
		if (l->made_new)
			unlink(l->src_new);
		if (l->linked)
			unlink(l->layer);
	}
	free(l->layer);
	free(l->src_disk);
	free(l->src_new);
	*l = (struct linked){ 0 };
}

/* SRC's overlay gets a second name, the layer; SRC's next overlay and
 * DST's are made over it.  SRC still runs on its own disk until commit. */
static int linked_prepare(const struct vmctl_env *env, const char *src,
			  const char *dst, struct linked *l,
			  struct vmctl_error **err)
{
	cleanup_free char *dir = vm_layers_dir(env);
	cleanup_free char *name = NULL, *dst_disk = NULL;
	unsigned char rnd[4];

	if (fs_mkdir_p(dir, 0700, err) < 0)
		return -1;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		abort();
	name = clone_layer_name(src, rnd);
	l->layer = xasprintf("%s/%s", dir, name);
	l->src_disk = state_vm_file(env, src, VMDIR_DISK);
	l->src_new = state_vm_file(env, src, SRC_NEW_DISK);
	dst_disk = state_vm_file(env, dst, VMDIR_DISK);
	if (link(l->src_disk, l->layer) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "%s", l->layer);
	l->linked = true;
	unlink(l->src_new);   /* what a killed clone left */
	l->made_new = true;
	if (image_create_overlay(l->layer, "qcow2", l->src_new, 0, err) < 0 ||
	    image_create_overlay(l->layer, "qcow2", dst_disk, 0, err) < 0)
		return -1;
	return 0;
}

/* SRC moves onto its new overlay: its record first, then the rename (on
 * failure the record is put back).  The layer becomes read-only. */
static int linked_commit(const struct vmctl_env *env, const char *src,
			 struct vm_state *st, struct linked *l,
			 struct vmctl_error **err)
{
	cleanup_free char *dir = state_vm_dir(env, src);
	struct strv old = st->layers, chain = { 0 };
	struct vmctl_error *ignored = NULL;

	clone_linked_chain(l->layer, &old, &chain);
	st->layers = chain;
	if (state_write(env, src, st, err) < 0)
		goto fail;
	if (rename(l->src_new, l->src_disk) < 0) {
		vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
				  l->src_disk);
		st->layers = old;
		state_write(env, src, st, &ignored);
		vmctl_error_free(ignored);
		st->layers = chain;
		goto fail;
	}
	l->committed = true;
	strv_clear(&old);
	chmod(l->layer, 0444);
	fs_sync_dir(dir, &ignored);
	vmctl_error_free(ignored);
	return 0;
fail:
	strv_clear(&chain);
	st->layers = old;
	return -1;
}

/* ---- clone -------------------------------------------------------------- */

static void dst_state(const struct vm_state *src, struct vm_state *dst)
{
	*dst = (struct vm_state){
		.vnc_display = -1,
		.created = time(NULL),
		.base_image = src->base_image ? xstrdup(src->base_image) : NULL,
		.base_format = src->base_format ? xstrdup(src->base_format)
						: NULL,
		.base_digest = src->base_digest ? xstrdup(src->base_digest)
						: NULL,
		.base_id_known = src->base_id_known,
		.base_id = src->base_id,
		.claim = { .node = -1, .hugepage_node = -1 },
	};
}

static int check_source(const struct vmctl_env *env, const char *src,
			const char *dst, const struct vm_state *st,
			bool linked, struct vmctl_error **err)
{
	struct snapshot_record rec;
	struct clone_source s = {
		.name = src,
		.state = vm_state_of(env, src, st),
		.has_disk = st->base_image != NULL,
	};
	int ret;

	if (read_snapshots(env, src, &rec, err) < 0)
		return -1;
	s.n_snapshots = rec.n;
	s.saved = rec.saved;
	snapshot_record_clear(&rec);
	ret = clone_plan_check(&s, dst, state_vm_exists(env, dst), linked,
			       err);
	if (ret == 0)
		ret = vm_check_socket_paths(env, dst, err);
	return ret;
}

int vm_clone(const struct vmctl_env *env, const char *src, const char *dst,
	     const struct vm_clone_opts *opts, struct vm_info *out,
	     struct vmctl_error **err)
{
	struct vm_state st = { 0 }, dst_st = { 0 };
	struct vmctl_spec *spec = NULL;
	struct linked l = { 0 };
	cleanup_free char *vars = NULL, *marker = NULL;
	bool raw_vars;
	int slock = -1, clock = -1, glock = -1, dlock = -1, ret = -1;
	bool made = false;

	if (vm_require(env, src, err) < 0)
		return -1;
	if (!spec_name_valid(dst))
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				       "invalid VM name \"%s\"", dst);
	if (vm_open(env, src, &slock, &st, err) < 0)
		return -1;
	if (check_source(env, src, dst, &st, opts->linked, err) < 0 ||
	    vm_load_spec(env, src, &spec, err) < 0 ||
	    vm_spec_rename(spec, dst, err) < 0)
		goto out;
	/* Prune waits while DST's state does not yet name its base. */
	if (st.base_image != NULL) {
		clock = imagecache_lock(env, false, err);
		if (clock < 0)
			goto out;
	}
	glock = state_lock_global(env, err);
	if (glock < 0)
		goto out;
	state_sweep(env);
	if (state_vm_exists(env, dst)) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST,
				"a VM named \"%s\" already exists", dst);
		goto out;
	}
	if (vm_make_dir(env, dst, &dlock, err) < 0)
		goto out;
	made = true;
	if (!opts->linked) {   /* the copy may take minutes */
		close(glock);
		glock = -1;
	}
	dst_state(&st, &dst_st);
	if (st.base_image != NULL && opts->linked) {
		if (linked_prepare(env, src, dst, &l, err) < 0)
			goto out;
		clone_linked_chain(l.layer, &st.layers, &dst_st.layers);
	} else if (st.base_image != NULL) {
		if (full_copy(env, src, dst, &st, opts->progress, err) < 0)
			goto out;
	}
	/* SRC's variables: qcow2, or the raw file of a VM not started since
	 * vmctl made them qcow2. */
	raw_vars = state_ovmf_vars_raw(env, src);
	vars = state_vm_file(env, src, raw_vars ? VMDIR_OVMF_VARS
						: VMDIR_OVMF_VARS_QCOW2);
	if (vm_identity_files(env, dst, spec, vars,
			      raw_vars ? "raw" : "qcow2", err) < 0 ||
	    state_write(env, dst, &dst_st, err) < 0)
		goto out;
	marker = state_vm_file(env, dst, VMDIR_CREATING);
	if (unlink(marker) < 0) {
		vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s", marker);
		goto out;
	}
	if (opts->linked && linked_commit(env, src, &st, &l, err) < 0)
		goto out;
	ret = vm_fill_info(env, dst, out, err);
out:
	if (ret < 0 && made) {
		struct vmctl_error *ignored = NULL;

		vm_remove_dir(env, dst, &ignored);
		vmctl_error_free(ignored);
	}
	linked_undo(&l);
	if (dlock >= 0)
		close(dlock);
	if (glock >= 0)
		close(glock);
	if (clock >= 0)
		close(clock);
	close(slock);
	spec_free(spec);
	state_clear(&st);
	state_clear(&dst_st);
	return ret;
}
