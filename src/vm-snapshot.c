// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Snapshots and save/restore of a direct-backend VM: qcow2 internal
 * snapshots in the VM's overlay, taken by qemu-img while it is stopped and
 * through QMP (commands, or snapshot-save/-load jobs) while it runs.  The
 * tree lives in snapshots.json, written atomically under the VM's lock.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/proc.h"
#include "vmctl/qmp.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vm-snapshot.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

#define QMP_TIMEOUT_MS 60000
#define JOB_TIMEOUT_MS (10 * 60 * 1000)
#define JOB_ID "vmctl-snapshot"

/* ---- the record --------------------------------------------------------- */

static int record_read(const struct vmctl_env *env, const char *name,
		       struct snapshot_record *rec, struct vmctl_error **err)
{
	cleanup_free char *path = state_vm_file(env, name, SNAPSHOT_RECORD);
	cleanup_free char *text = NULL;
	size_t len;

	*rec = (struct snapshot_record){ 0 };
	if (!vm_file_exists(path))
		return 0;
	if (fs_read_file(path, 1 << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 err) < 0)
		return -1;
	if (snapshot_record_parse(text, rec, err) < 0)
		return vmctl_error_wrap(err, "VM %s", name);
	return 0;
}

static int record_write(const struct vmctl_env *env, const char *name,
			const struct snapshot_record *rec,
			struct vmctl_error **err)
{
	cleanup_free char *dir = state_vm_dir(env, name);
	cleanup_free char *text = snapshot_record_format(rec);

	return fs_write_atomic(dir, SNAPSHOT_RECORD, text, strlen(text), 0600,
			       err);
}

bool vm_snapshot_saved(const struct vmctl_env *env, const char *name)
{
	struct snapshot_record rec;
	struct vmctl_error *ignored = NULL;
	bool saved = record_read(env, name, &rec, &ignored) == 0 && rec.saved;

	vmctl_error_free(ignored);
	snapshot_record_clear(&rec);
	return saved;
}

char *vm_snapshot_loadvm(const struct vmctl_env *env, const char *name)
{
	struct snapshot_record rec;
	struct vmctl_error *ignored = NULL;
	char *loadvm = NULL;

	if (record_read(env, name, &rec, &ignored) == 0 && rec.loadvm != NULL) {
		loadvm = rec.loadvm;
		rec.loadvm = NULL;
	}
	vmctl_error_free(ignored);
	snapshot_record_clear(&rec);
	return loadvm;
}

/* ---- the VM an operation works on --------------------------------------- */

/* Where a UEFI VM keeps its variables: qcow2 (snapshotted with the RAM),
 * or the raw file of a VM that has run since before that. */
static void uefi_store(const struct vmctl_env *env, const char *name,
		       const struct vmctl_spec *spec, struct snapshot_vm *vm)
{
	if (!spec_firmware_is_uefi(spec->firmware))
		return;
	vm->vars_raw = state_ovmf_vars_raw(env, name);
	vm->vars = !vm->vars_raw;
}

struct snapctx {
	const struct vmctl_env *env;
	const char *name;
	int lock;
	struct vm_state st;
	struct vmctl_spec *spec;
	struct snapshot_record rec;
	char *overlay;
	char *vars;                  /* the qcow2 UEFI variables, or NULL */
	struct snapshot_image *img;  /* what the qcow2 holds */
	size_t n_img;
	struct snapshot_vm vm;
};

static void ctx_close(struct snapctx *c)
{
	snapshot_images_free(c->img, c->n_img);
	snapshot_record_clear(&c->rec);
	free(c->overlay);
	free(c->vars);
	spec_free(c->spec);
	state_clear(&c->st);
	if (c->lock >= 0)
		close(c->lock);
}

/* qemu-img info's snapshots of `path`; -U: a running QEMU holds it. */
static int images_of(const char *vm, const char *path,
		     struct snapshot_image **img, size_t *n,
		     struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;
	int ret;

	*img = NULL;
	*n = 0;
	strv_push(&argv, "qemu-img");
	strv_push(&argv, "info");
	strv_push(&argv, "--output=json");
	strv_push(&argv, "-U");
	strv_push(&argv, path);
	ret = proc_run(&argv, &r, err);
	strv_clear(&argv);
	if (ret < 0)
		return -1;
	if (r.status != 0) {
		cleanup_free char *why = proc_result_summary(&r);

		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				      "VM %s: qemu-img info: %s", vm, why);
	} else {
		ret = snapshot_images_parse(r.out, img, n, err);
	}
	proc_result_clear(&r);
	return ret;
}

static int images_read(struct snapctx *c, struct vmctl_error **err)
{
	snapshot_images_free(c->img, c->n_img);
	return images_of(c->name, c->overlay, &c->img, &c->n_img, err);
}

static const struct snapshot_image *image_of(const struct snapctx *c,
					     const char *snap)
{
	for (size_t i = 0; i < c->n_img; i++)
		if (strcmp(c->img[i].name, snap) == 0)
			return &c->img[i];
	return NULL;
}

static int ctx_open(struct snapctx *c, const struct vmctl_env *env,
		    const char *name, struct vmctl_error **err)
{
	*c = (struct snapctx){ .env = env, .name = name, .lock = -1 };
	if (vm_open(env, name, &c->lock, &c->st, err) < 0)
		return -1;
	if (vm_load_spec(env, name, &c->spec, err) < 0)
		return -1;
	if (c->spec->disk.image == NULL)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s has no disk: nothing to "
				       "snapshot", name);
	c->overlay = state_vm_file(env, name, VMDIR_DISK);
	c->vm = (struct snapshot_vm){
		.name = name,
		.running = c->st.qemu.pid > 0,
		.gpu = c->spec->n_gpus > 0,
	};
	uefi_store(env, name, c->spec, &c->vm);
	if (c->vm.vars)
		c->vars = state_vm_file(env, name, VMDIR_OVMF_VARS_QCOW2);
	if (record_read(env, name, &c->rec, err) < 0)
		return -1;
	return images_read(c, err);
}

static int unknown(const struct snapctx *c, const char *snap,
		   struct vmctl_error **err)
{
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT,
			       "VM %s has no snapshot \"%s\" (see vmctl "
			       "snapshot list %s)", c->name, snap, c->name);
}

/* ---- the tools ----------------------------------------------------------- */

static int qemu_img_on(const struct snapctx *c, const char *image,
		       enum snapshot_op op, const char *snap,
		       struct vmctl_error **err)
{
	struct strv argv = { 0 };
	int ret;

	snapshot_qemu_img_argv(op, image, snap, &argv);
	ret = proc_run_ok(&argv, "qemu-img snapshot", err);
	strv_clear(&argv);
	return ret < 0 ? vmctl_error_wrap(err, "VM %s", c->name) : 0;
}

/* op on the stopped VM's disk; a snapshot deleted goes from the UEFI
 * variables too (those taken with the RAM are in both). */
static int qemu_img(const struct snapctx *c, enum snapshot_op op,
		    const char *snap, struct vmctl_error **err)
{
	struct snapshot_image *vars = NULL;
	size_t n_vars = 0;
	bool there = false;

	if (qemu_img_on(c, c->overlay, op, snap, err) < 0)
		return -1;
	if (op != SNAPSHOT_DELETE || c->vars == NULL)
		return 0;
	if (images_of(c->name, c->vars, &vars, &n_vars, err) < 0)
		return -1;
	for (size_t i = 0; i < n_vars; i++)
		there = there || strcmp(vars[i].name, snap) == 0;
	snapshot_images_free(vars, n_vars);
	return there ? qemu_img_on(c, c->vars, op, snap, err) : 0;
}

static const cJSON *job_of(const cJSON *jobs)
{
	const cJSON *j;

	cJSON_ArrayForEach(j, jobs) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");

		if (cJSON_IsString(id) && strcmp(id->valuestring, JOB_ID) == 0)
			return j;
	}
	return NULL;
}

static void job_dismiss(struct qmp *q)
{
	cJSON *a = cJSON_CreateObject();

	cJSON_AddStringToObject(a, "id", JOB_ID);
	qmp_execute(q, "job-dismiss", a, NULL, NULL);
}

/* Wait for the job to conclude, dismiss it, say how it ended. */
static int job_wait(struct qmp *q, struct vmctl_error **err)
{
	long long deadline = vm_now_ms() + JOB_TIMEOUT_MS;

	for (;;) {
		cJSON *jobs = NULL;
		const cJSON *job, *status, *error;
		cleanup_free char *why = NULL;

		if (qmp_execute(q, "query-jobs", NULL, &jobs, err) < 0)
			return -1;
		job = job_of(jobs);
		status = cJSON_GetObjectItemCaseSensitive(job, "status");
		if (job == NULL || !cJSON_IsString(status)) {
			cJSON_Delete(jobs);
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "QMP: job %s vanished", JOB_ID);
		}
		if (strcmp(status->valuestring, "concluded") == 0) {
			error = cJSON_GetObjectItemCaseSensitive(job, "error");
			if (cJSON_IsString(error))
				why = xstrdup(error->valuestring);
			cJSON_Delete(jobs);
			job_dismiss(q);
			if (why != NULL)
				return vmctl_error_set(err, VMCTL_EXIT_FAILURE,
						       0, "QMP job: %s", why);
			return 0;
		}
		cJSON_Delete(jobs);
		if (vm_now_ms() >= deadline)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE,
					       ETIMEDOUT, "QMP job %s did not "
					       "finish in %d s", JOB_ID,
					       JOB_TIMEOUT_MS / 1000);
		vm_sleep_ms(50);
	}
}

static int qmp_do(struct qmp *q, const struct snapshot_vm *vm,
		  enum snapshot_op op, enum snapshot_tool tool,
		  const char *snap, struct vmctl_error **err)
{
	cJSON *args;
	const char *cmd = snapshot_qmp_command(vm, op, tool, snap, JOB_ID,
					       &args);

	/* A job a killed vmctl left concluded would hold the id. */
	if (tool == SNAPSHOT_QMP_JOB)
		job_dismiss(q);
	if (qmp_execute(q, cmd, args, NULL, err) < 0)
		return -1;
	return tool == SNAPSHOT_QMP_JOB ? job_wait(q, err) : 0;
}

/* Delete `snap` from the running VM, the tool as the plan says. */
static int qmp_delete(struct qmp *q, const struct snapshot_vm *vm,
		      const char *snap, struct vmctl_error **err)
{
	struct snapshot_vm running = *vm;
	enum snapshot_tool tool;

	running.running = true;
	if (snapshot_plan(SNAPSHOT_DELETE, &running, &tool, err) < 0)
		return -1;
	return qmp_do(q, &running, SNAPSHOT_DELETE, tool, snap, err);
}

static int qmp_connect(const struct snapctx *c, struct qmp **q,
		       struct vmctl_error **err)
{
	cleanup_free char *sock = state_vm_file(c->env, c->name, VMDIR_QMP);

	if (qmp_open(sock, QMP_TIMEOUT_MS, q, err) < 0)
		return vmctl_error_wrap(err, "VM %s", c->name);
	return 0;
}

/* op on the running VM (over QMP) or the stopped one (qemu-img). */
static int apply(const struct snapctx *c, enum snapshot_op op,
		 enum snapshot_tool tool, const char *snap,
		 struct vmctl_error **err)
{
	struct qmp *q = NULL;
	int ret;

	if (tool == SNAPSHOT_QEMU_IMG)
		return qemu_img(c, op, snap, err);
	if (qmp_connect(c, &q, err) < 0)
		return -1;
	ret = qmp_do(q, &c->vm, op, tool, snap, err);
	qmp_close(q);
	if (ret < 0)
		vmctl_error_wrap(err, "VM %s", c->name);
	return ret;
}

/* ---- the operations ------------------------------------------------------ */

int vm_snapshot_create(const struct vmctl_env *env, const char *name,
		       const char *snap, bool memory,
		       struct vmctl_error **err)
{
	struct snapctx c;
	enum snapshot_tool tool;
	int ret = -1;

	if (snapshot_check_name(snap, err) < 0)
		return -1;
	if (ctx_open(&c, env, name, err) < 0)
		goto out;
	if (snapshot_find(&c.rec, snap) != NULL || image_of(&c, snap) != NULL) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST,
				"VM %s already has a snapshot \"%s\"", name,
				snap);
		goto out;
	}
	c.vm.memory = memory;
	if (snapshot_plan(SNAPSHOT_CREATE, &c.vm, &tool, err) < 0 ||
	    apply(&c, SNAPSHOT_CREATE, tool, snap, err) < 0)
		goto out;
	snapshot_add(&c.rec, snap, time(NULL), memory);
	ret = record_write(env, name, &c.rec, err);
out:
	ctx_close(&c);
	return ret;
}

int vm_snapshot_revert(const struct vmctl_env *env, const char *name,
		       const char *snap, bool *resumes,
		       struct vmctl_error **err)
{
	const struct snapshot_image *im;
	const struct snapshot *rs;
	struct snapctx c;
	enum snapshot_tool tool;
	int ret = -1;

	*resumes = false;
	if (snapshot_check_name(snap, err) < 0)
		return -1;
	if (ctx_open(&c, env, name, err) < 0)
		goto out;
	im = image_of(&c, snap);
	if (im == NULL) {
		unknown(&c, snap, err);
		goto out;
	}
	rs = snapshot_find(&c.rec, snap);
	c.vm.memory = rs != NULL ? rs->memory : im->vm_state_size > 0;
	if (snapshot_plan(SNAPSHOT_REVERT, &c.vm, &tool, err) < 0 ||
	    apply(&c, SNAPSHOT_REVERT, tool, snap, err) < 0)
		goto out;
	/* A saved state is of the disk just replaced: it goes. */
	if (c.rec.saved && !c.vm.running &&
	    image_of(&c, SNAPSHOT_SAVED_TAG) != NULL &&
	    qemu_img(&c, SNAPSHOT_DELETE, SNAPSHOT_SAVED_TAG, err) < 0)
		goto out;
	c.rec.saved = false;
	free(c.rec.loadvm);
	c.rec.loadvm = NULL;
	if (c.vm.memory && !c.vm.running)
		c.rec.loadvm = xstrdup(snap);
	*resumes = c.vm.memory;
	snapshot_set_current(&c.rec, snap);
	ret = record_write(env, name, &c.rec, err);
out:
	ctx_close(&c);
	return ret;
}

int vm_snapshot_delete(const struct vmctl_env *env, const char *name,
		       const char *snap, struct vmctl_error **err)
{
	struct snapctx c;
	enum snapshot_tool tool;
	int ret = -1;

	if (snapshot_check_name(snap, err) < 0)
		return -1;
	if (ctx_open(&c, env, name, err) < 0)
		goto out;
	if (image_of(&c, snap) == NULL && snapshot_find(&c.rec, snap) == NULL) {
		unknown(&c, snap, err);
		goto out;
	}
	if (snapshot_plan(SNAPSHOT_DELETE, &c.vm, &tool, err) < 0)
		goto out;
	/* Only in the record (the disk lost it): the record follows. */
	if (image_of(&c, snap) != NULL &&
	    apply(&c, SNAPSHOT_DELETE, tool, snap, err) < 0)
		goto out;
	snapshot_remove(&c.rec, snap);
	ret = record_write(env, name, &c.rec, err);
out:
	ctx_close(&c);
	return ret;
}

int vm_snapshot_list(const struct vmctl_env *env, const char *name,
		     struct snapshot_record *rec, struct snapshot_image **img,
		     size_t *n_img, struct vmctl_error **err)
{
	struct snapctx c;
	int ret = ctx_open(&c, env, name, err);

	if (ret == 0) {
		*rec = c.rec;
		c.rec = (struct snapshot_record){ 0 };
		*img = c.img;
		*n_img = c.n_img;
		c.img = NULL;
		c.n_img = 0;
	}
	ctx_close(&c);
	return ret;
}

/* ---- save / restore ------------------------------------------------------ */

int vm_save(const struct vmctl_env *env, const char *name,
	    struct vmctl_error **err)
{
	struct snapctx c;
	enum snapshot_tool tool;
	struct qmp *q = NULL;
	int ret = -1;

	if (ctx_open(&c, env, name, err) < 0)
		goto out;
	if (snapshot_plan(SNAPSHOT_SAVE, &c.vm, &tool, err) < 0 ||
	    qmp_connect(&c, &q, err) < 0)
		goto out;
	/* Paused first: the state saved is the state the guest stops in. */
	if (qmp_execute(q, "stop", NULL, NULL, err) < 0)
		goto out;
	if (image_of(&c, SNAPSHOT_SAVED_TAG) != NULL)
		qmp_delete(q, &c.vm, SNAPSHOT_SAVED_TAG, NULL);
	if (qmp_do(q, &c.vm, SNAPSHOT_SAVE, tool, SNAPSHOT_SAVED_TAG,
		   err) < 0) {
		qmp_execute(q, "cont", NULL, NULL, NULL);
		vmctl_error_wrap(err, "VM %s: save", name);
		goto out;
	}
	c.rec.saved = true;
	free(c.rec.loadvm);
	c.rec.loadvm = xstrdup(SNAPSHOT_SAVED_TAG);
	if (record_write(env, name, &c.rec, err) < 0)
		goto out;
	/* quit's reply may race QEMU's exit; the wait says. */
	qmp_execute(q, "quit", NULL, NULL, NULL);
	if (!vm_wait_gone(env, &c.st.qemu, VM_QUIT_TIMEOUT_MS)) {
		proc_signal(env, &c.st.qemu, SIGKILL);
		vm_wait_gone(env, &c.st.qemu, VM_KILL_TIMEOUT_MS);
	}
	ret = vm_record_stop(env, name, &c.st, "save", err);
out:
	qmp_close(q);
	ctx_close(&c);
	return ret;
}

int vm_save_discard(const struct vmctl_env *env, const char *name,
		    struct vmctl_error **err)
{
	struct snapctx c;
	int ret = -1;

	if (ctx_open(&c, env, name, err) < 0)
		goto out;
	if (!c.rec.saved) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT,
				"VM %s holds no saved state", name);
		goto out;
	}
	/* Saved is stopped, unless a start resumed it and then failed to
	 * drop it: QEMU holds the images then. */
	if (image_of(&c, SNAPSHOT_SAVED_TAG) != NULL) {
		struct qmp *q = NULL;
		int r;

		if (!c.vm.running) {
			r = qemu_img(&c, SNAPSHOT_DELETE, SNAPSHOT_SAVED_TAG,
				     err);
		} else {
			r = qmp_connect(&c, &q, err);
			if (r == 0)
				r = qmp_delete(q, &c.vm, SNAPSHOT_SAVED_TAG,
					       err);
			qmp_close(q);
		}
		if (r < 0)
			goto out;
	}
	c.rec.saved = false;
	free(c.rec.loadvm);
	c.rec.loadvm = NULL;
	ret = record_write(env, name, &c.rec, err);
out:
	ctx_close(&c);
	return ret;
}

int vm_snapshot_load(const struct vmctl_env *env, const char *name,
		     const struct vmctl_spec *spec, struct qmp *q,
		     const char *tag, struct vmctl_error **err)
{
	struct snapshot_vm vm = { .name = name, .running = true };
	int ret;

	uefi_store(env, name, spec, &vm);
	/* QEMU's monitor does not answer while it reads the RAM back: the
	 * start's short deadline is for a QEMU coming up, not for this. */
	qmp_set_timeout(q, QMP_TIMEOUT_MS);
	ret = qmp_do(q, &vm, SNAPSHOT_REVERT, SNAPSHOT_QMP_JOB, tag, err);
	qmp_set_timeout(q, VM_QMP_TIMEOUT_MS);
	if (ret < 0)
		return vmctl_error_wrap(err, "VM %s: resuming \"%s\"", name,
					tag);
	return 0;
}

int vm_snapshot_resumed(const struct vmctl_env *env, const char *name,
			const struct vmctl_spec *spec,
			struct vmctl_error **err)
{
	struct snapshot_record rec;
	int ret = record_read(env, name, &rec, err);

	if (ret < 0)
		return -1;
	if (rec.saved) {
		struct snapctx c = { .env = env, .name = name, .lock = -1 };
		struct snapshot_vm vm = { .name = name };
		struct qmp *q = NULL;

		uefi_store(env, name, spec, &vm);
		ret = qmp_connect(&c, &q, err);
		if (ret == 0)
			ret = qmp_delete(q, &vm, SNAPSHOT_SAVED_TAG, err);
		qmp_close(q);
		if (ret < 0) {
			snapshot_record_clear(&rec);
			return vmctl_error_wrap(err, "VM %s resumed, but its "
						"saved state stays", name);
		}
	}
	rec.saved = false;
	free(rec.loadvm);
	rec.loadvm = NULL;
	ret = record_write(env, name, &rec, err);
	snapshot_record_clear(&rec);
	return ret;
}
