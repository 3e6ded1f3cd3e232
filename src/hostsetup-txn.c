// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup transactions.  STATE_DIR/host-setup/ holds:
 *
 *   manifest.json   the root changed and every file vmctl ever touched
 *                   there: whether it existed, its mode, its backup
 *   backup/N        the file's original bytes, taken the first time only
 *   lock            flock: one host-setup at a time
 *
 * Order of work, so a kill at any point is recoverable: back up and record
 * in the manifest first, then replace each file atomically, then run the
 * regeneration commands.  Undo restores the originals byte for byte.
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/hostsetup.h"
#include "vmctl/hostsetup-root.h"
#include "vmctl/proc.h"
#include "vmctl/quote.h"
#include "vmctl/xalloc.h"

struct txn {
	char *dir;
	cJSON *manifest;
	int lock;
};

static int txn_open(const struct vmctl_env *env, struct txn *t,
		    struct vmctl_error **err)
{
	cleanup_free char *backup = NULL, *lock = NULL, *path = NULL;
	cleanup_free char *text = NULL;
	size_t len;

	*t = (struct txn){ .lock = -1 };
	t->dir = xasprintf("%s/host-setup", env->state_dir);
	backup = xasprintf("%s/backup", t->dir);
	if (fs_mkdir_p(backup, 0700, err) < 0)
		return -1;
	lock = xasprintf("%s/lock", t->dir);
	t->lock = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (t->lock < 0 || flock(t->lock, LOCK_EX) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 lock);
	path = xasprintf("%s/manifest.json", t->dir);
	if (access(path, F_OK) == 0) {
		if (fs_read_file(path, 16u << 20, &text, &len,
				 VMCTL_EXIT_FAILURE, err) < 0)
			return -1;
		t->manifest = cJSON_ParseWithLength(text, len);
		if (!cJSON_IsObject(t->manifest))
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "%s is corrupt", path);
	}
	return 0;
}

static void txn_close(struct txn *t)
{
	cJSON_Delete(t->manifest);
	if (t->lock >= 0)
		close(t->lock);
	free(t->dir);
}

static int txn_save(struct txn *t, struct vmctl_error **err)
{
	char *text = cJSON_Print(t->manifest);
	int ret = fs_write_atomic(t->dir, "manifest.json", text, strlen(text),
				  0600, err);

	free(text);
	return ret;
}

static cJSON *find_file(cJSON *files, const char *path)
{
	cJSON *f;

	cJSON_ArrayForEach(f, files) {
		cJSON *p = cJSON_GetObjectItem(f, "path");

		if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0)
			return f;
	}
	return NULL;
}

/* Back up `path` the first time vmctl touches it, and record it. */
static int remember(struct txn *t, const char *root, const char *path,
		    struct vmctl_error **err)
{
	cJSON *files = cJSON_GetObjectItem(t->manifest, "files"), *entry;
	cleanup_free char *full = hs_path(root, path);
	cleanup_free char *text = NULL, *name = NULL, *bdir = NULL;
	struct stat st;
	size_t len = 0;

	if (find_file(files, path) != NULL)
		return 0;
	entry = cJSON_CreateObject();
	cJSON_AddStringToObject(entry, "path", path);
	if (lstat(full, &st) == 0) {
		if (fs_read_file(full, 64u << 20, &text, &len,
				 VMCTL_EXIT_FAILURE, err) < 0) {
			cJSON_Delete(entry);
			return -1;
		}
		name = xasprintf("%d", cJSON_GetArraySize(files) + 1);
		bdir = xasprintf("%s/backup", t->dir);
		if (fs_write_atomic(bdir, name, text, len, 0600, err) < 0) {
			cJSON_Delete(entry);
			return -1;
		}
		cJSON_AddTrueToObject(entry, "existed");
		cJSON_AddNumberToObject(entry, "mode", st.st_mode & 07777);
		cJSON_AddStringToObject(entry, "backup", name);
	} else {
		cJSON_AddFalseToObject(entry, "existed");
	}
	cJSON_AddItemToArray(files, entry);
	return txn_save(t, err);
}

static int write_target(const char *root, const char *path, const char *text,
			size_t len, mode_t mode, struct vmctl_error **err)
{
	cleanup_free char *full = hs_path(root, path);
	cleanup_free char *dir = xstrdup(full);
	char *slash = strrchr(dir, '/');

	*slash = '\0';
	if (fs_mkdir_p(*dir ? dir : "/", 0755, err) < 0)
		return -1;
	/* Temporaries of an earlier, killed run go first. */
	fs_remove_temps(*dir ? dir : "/", slash + 1);
	return fs_write_atomic(*dir ? dir : "/", slash + 1, text, len, mode,
			       err);
}

static int run_command(const struct strv *argv, struct vmctl_error **err)
{
	struct proc_result r;
	int ret = 0;

	if (proc_run(argv, &r, err) < 0)
		return -1;
	if (r.status != 0) {
		cleanup_free char *why = proc_result_summary(&r);
		cleanup_free char *line = quote_shell_argv(argv);

		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				      "`%s` failed: %s", line, why);
	}
	proc_result_clear(&r);
	return ret;
}

/* Regeneration can take a minute (an initramfs per kernel): on a
 * terminal, say what is running. */
static int run_commands(struct strv *cmds, size_t n, bool show,
			struct vmctl_error **err)
{
	for (size_t i = 0; i < n; i++) {
		if (show) {
			cleanup_free char *line = quote_shell_argv(&cmds[i]);

			fprintf(stderr, "Running %s ...\n", line);
		}
		if (run_command(&cmds[i], err) < 0)
			return -1;
	}
	return 0;
}

/* A file as it is before this run: its bytes, or absent. */
struct before {
	char *path;
	char *text;     /* NULL: absent */
	size_t len;
	mode_t mode;
};

static void restore_before(const char *root, struct before *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct vmctl_error *ignored = NULL;
		cleanup_free char *full = hs_path(root, b[i].path);

		if (b[i].text != NULL)
			write_target(root, b[i].path, b[i].text, b[i].len,
				     b[i].mode, &ignored);
		else
			unlink(full);
		vmctl_error_free(ignored);
	}
}

int hostsetup_apply(const struct vmctl_env *env, const struct hs_plan *plan,
		    struct vmctl_error **err)
{
	struct txn t;
	struct strv touched = { 0 };
	struct before *before = NULL;
	size_t n_before = 0;
	bool show = env->verbosity >= 0 && isatty(STDERR_FILENO);
	int ret = -1;

	if (txn_open(env, &t, err) < 0)
		goto out;
	if (t.manifest == NULL) {
		t.manifest = cJSON_CreateObject();
		cJSON_AddStringToObject(t.manifest, "root", plan->root);
		cJSON_AddStringToObject(t.manifest, "boot",
					hs_boot_name(plan->boot));
		cJSON_AddStringToObject(t.manifest, "initrd",
					hs_initrd_name(plan->initrd));
		cJSON_AddArrayToObject(t.manifest, "files");
	} else {
		cJSON *root = cJSON_GetObjectItem(t.manifest, "root");

		if (!cJSON_IsString(root) ||
		    strcmp(root->valuestring, plan->root) != 0) {
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					"host-setup already changed %s; undo "
					"that first (vmctl host-setup --undo "
					"--root %s)",
					cJSON_IsString(root) ? root->valuestring
							     : "?",
					cJSON_IsString(root) ? root->valuestring
							     : "?");
			goto out;
		}
	}
	for (size_t i = 0; i < plan->n_edits; i++)
		strv_push(&touched, plan->edits[i].path);
	if (plan->n_commands > 0)
		hostsetup_command_files(plan->root, plan->boot, &touched);

	/* 1. Back up and record every file before any is changed. */
	before = xcalloc(touched.n ? touched.n : 1, sizeof(*before));
	for (size_t i = 0; i < touched.n; i++) {
		cleanup_free char *full = hs_path(plan->root,
						      touched.v[i]);
		struct stat st;

		if (remember(&t, plan->root, touched.v[i], err) < 0)
			goto out;
		before[n_before].path = touched.v[i];
		if (lstat(full, &st) == 0) {
			before[n_before].mode = st.st_mode & 07777;
			if (fs_read_file(full, 64u << 20,
					 &before[n_before].text,
					 &before[n_before].len,
					 VMCTL_EXIT_FAILURE, err) < 0)
				goto out;
		}
		n_before++;
	}
	/* Until the regeneration below succeeds, a rerun must redo it even
	 * if every file already has its new content. */
	if (plan->n_edits > 0 || plan->n_commands > 0) {
		cJSON_DeleteItemFromObject(t.manifest, "regen_pending");
		cJSON_AddTrueToObject(t.manifest, "regen_pending");
		if (txn_save(&t, err) < 0)
			goto out;
	}
	/* 2. Replace the files, each atomically. */
	for (size_t i = 0; i < plan->n_edits; i++) {
		const struct hs_edit *e = &plan->edits[i];

		if (e->new_text == NULL) {
			cleanup_free char *full = hs_path(plan->root, e->path);

			if (unlink(full) < 0 && errno != ENOENT) {
				vmctl_error_errno(err, VMCTL_EXIT_FAILURE,
						  errno, "removing %s", full);
				restore_before(plan->root, before, n_before);
				goto out;
			}
			continue;
		}
		if (write_target(plan->root, e->path, e->new_text,
				 strlen(e->new_text), e->mode, err) < 0) {
			restore_before(plan->root, before, n_before);
			goto out;
		}
	}
	/* 3. Regenerate; on failure, put this run's files back and rebuild
	 * from them. */
	if (run_commands(plan->commands, plan->n_commands, show, err) < 0) {
		struct strv *regen = NULL;
		size_t n_regen = 0;
		struct vmctl_error *again = NULL;

		restore_before(plan->root, before, n_before);
		hostsetup_regen_commands(plan->root, plan->boot, plan->initrd,
					 &regen, &n_regen);
		if (run_commands(regen, n_regen, show, &again) < 0) {
			vmctl_error_wrap(err, "rolled back the files, but "
					 "rebuilding boot files failed too "
					 "(%s)", again->message);
		} else {
			struct vmctl_error *ignored = NULL;

			vmctl_error_wrap(err, "changes rolled back");
			cJSON_DeleteItemFromObject(t.manifest, "regen_pending");
			txn_save(&t, &ignored);
			vmctl_error_free(ignored);
		}
		vmctl_error_free(again);
		for (size_t i = 0; i < n_regen; i++)
			strv_clear(&regen[i]);
		free(regen);
		goto out;
	}
	cJSON_DeleteItemFromObject(t.manifest, "regen_pending");
	if (txn_save(&t, err) < 0)
		goto out;
	ret = 0;
out:
	for (size_t i = 0; i < n_before; i++)
		free(before[i].text);
	free(before);
	strv_clear(&touched);
	txn_close(&t);
	return ret;
}

int hostsetup_undo(const struct vmctl_env *env, const char *root,
		   bool *nothing, struct vmctl_error **err)
{
	struct txn t;
	struct strv *regen = NULL;
	size_t n_regen = 0;
	cJSON *files, *f, *mroot;
	int ret = -1;

	*nothing = false;
	if (txn_open(env, &t, err) < 0)
		goto out;
	if (t.manifest == NULL) {
		*nothing = true;
		ret = 0;
		goto out;
	}
	mroot = cJSON_GetObjectItem(t.manifest, "root");
	if (!cJSON_IsString(mroot) || strcmp(mroot->valuestring, root) != 0) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "host-setup changed "
				"%s, not %s (use --root %s)",
				cJSON_IsString(mroot) ? mroot->valuestring : "?",
				root,
				cJSON_IsString(mroot) ? mroot->valuestring : "?");
		goto out;
	}
	files = cJSON_GetObjectItem(t.manifest, "files");
	cJSON_ArrayForEach(f, files) {
		const char *path = cJSON_GetStringValue(
			cJSON_GetObjectItem(f, "path"));
		cleanup_free char *full = NULL;

		if (path == NULL)
			continue;
		full = hs_path(root, path);
		/* A write killed before its rename leaves a temporary. */
		{
			const char *slash = strrchr(full, '/');
			cleanup_free char *dir = xstrndup(full,
				(size_t)(slash - full));

			fs_remove_temps(*dir ? dir : "/", slash + 1);
		}
		if (cJSON_IsTrue(cJSON_GetObjectItem(f, "existed"))) {
			cleanup_free char *bpath = xasprintf("%s/backup/%s",
				t.dir, cJSON_GetStringValue(
					cJSON_GetObjectItem(f, "backup")));
			cleanup_free char *text = NULL;
			size_t len;
			mode_t mode = (mode_t)cJSON_GetNumberValue(
				cJSON_GetObjectItem(f, "mode"));

			if (fs_read_file(bpath, 64u << 20, &text, &len,
					 VMCTL_EXIT_FAILURE, err) < 0 ||
			    write_target(root, path, text, len, mode, err) < 0)
				goto out;
		} else if (unlink(full) < 0 && errno != ENOENT) {
			vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					  "removing %s", full);
			goto out;
		}
	}
	hostsetup_regen_commands(root, hostsetup_detect_boot(root),
				 hostsetup_detect_initrd(root), &regen,
				 &n_regen);
	if (run_commands(regen, n_regen, env->verbosity >= 0 &&
			 isatty(STDERR_FILENO), err) < 0) {
		vmctl_error_wrap(err, "files restored, but rebuilding boot "
				 "files failed; fix that and rerun --undo");
		goto out;
	}
	/* Done: forget the transaction (the lock file stays).  The manifest
	 * goes first: once it is gone the undo is complete, and a kill now
	 * leaves only unreferenced backups, which the next run replaces. */
	{
		cleanup_free char *manifest = xasprintf("%s/manifest.json",
							t.dir);
		cleanup_free char *backup = xasprintf("%s/backup", t.dir);

		if (unlink(manifest) < 0 && errno != ENOENT) {
			vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					  manifest);
			goto out;
		}
		if (fs_remove_tree(backup, err) < 0)
			goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n_regen; i++)
		strv_clear(&regen[i]);
	free(regen);
	txn_close(&t);
	return ret;
}

bool hostsetup_regen_pending(const struct vmctl_env *env, const char *root)
{
	cleanup_free char *path = xasprintf("%s/host-setup/manifest.json",
					    env->state_dir);
	cleanup_free char *text = NULL;
	struct vmctl_error *ignored = NULL;
	size_t len;
	cJSON *m;
	bool pending = false;

	if (fs_read_file(path, 16u << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return false;
	}
	m = cJSON_ParseWithLength(text, len);
	if (cJSON_IsTrue(cJSON_GetObjectItem(m, "regen_pending")) &&
	    cJSON_IsString(cJSON_GetObjectItem(m, "root")) &&
	    strcmp(cJSON_GetObjectItem(m, "root")->valuestring, root) == 0)
		pending = true;
	cJSON_Delete(m);
	return pending;
}
