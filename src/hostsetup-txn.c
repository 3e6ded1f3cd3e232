// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup transactions (the state they keep: hostsetup-txn.h).
 *
 * Order of work, so a kill at any point is recoverable: back up and record
 * in the manifest first (with what this run will change, so undo can take
 * it out), then replace each file atomically, then run the regeneration
 * commands, then record what they changed.  A failing command puts this
 * run's files (and their records) back.  Undo is hostsetup-undo.c.
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
#include "vmctl/hostsetup-recipe.h"
#include "vmctl/hostsetup-root.h"
#include "vmctl/hostsetup-txn.h"
#include "vmctl/proc.h"
#include "vmctl/quote.h"
#include "vmctl/xalloc.h"

int hs_txn_open(const struct vmctl_env *env, struct hs_txn *t,
		struct vmctl_error **err)
{
	cleanup_free char *backup = NULL, *lock = NULL, *path = NULL;
	cleanup_free char *text = NULL;
	size_t len;

	*t = (struct hs_txn){ .lock = -1 };
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

int hs_manifest_root(const cJSON *manifest, const char *root,
		     struct vmctl_error **err)
{
	const cJSON *mroot = cJSON_GetObjectItem(manifest, "root");
	const char *was = cJSON_IsString(mroot) ? mroot->valuestring : "?";

	if (cJSON_IsString(mroot) && strcmp(was, root) == 0)
		return 0;
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "host-setup "
			       "changed %s, not %s (use --root %s)", was,
			       root, was);
}

void hs_txn_close(struct hs_txn *t)
{
	cJSON_Delete(t->manifest);
	if (t->lock >= 0)
		close(t->lock);
	free(t->dir);
}

int hs_txn_save(struct hs_txn *t, struct vmctl_error **err)
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
static int remember(struct hs_txn *t, const char *root, const char *path,
		    struct vmctl_error **err)
{
	cJSON *files = cJSON_GetObjectItem(t->manifest, "files"), *entry;
	cleanup_free char *text = NULL, *name = NULL, *bdir = NULL;
	mode_t mode = 0644;

	if (find_file(files, path) != NULL)
		return 0;
	if (hs_read(root, path, &text, &mode, err) < 0)
		return -1;
	entry = cJSON_CreateObject();
	cJSON_AddStringToObject(entry, "path", path);
	if (text != NULL) {
		name = xasprintf("%d", cJSON_GetArraySize(files) + 1);
		bdir = xasprintf("%s/backup", t->dir);
		if (fs_write_atomic(bdir, name, text, strlen(text), 0600,
				    err) < 0) {
			cJSON_Delete(entry);
			return -1;
		}
		cJSON_AddTrueToObject(entry, "existed");
		cJSON_AddNumberToObject(entry, "mode", mode);
		cJSON_AddStringToObject(entry, "backup", name);
	} else {
		cJSON_AddFalseToObject(entry, "existed");
	}
	cJSON_AddTrueToObject(entry, "clean");
	cJSON_AddArrayToObject(entry, "versions");
	hs_recipe_add_version(entry, text);
	cJSON_AddItemToArray(files, entry);
	return hs_txn_save(t, err);
}

/*
 * This run is about to change ENTRY's file from BEFORE to AFTER: remember
 * its record as it was (prev), note whether anyone else changed the file
 * since vmctl's last run, and add what this run changes.
 */
static void record_change(cJSON *entry, const char *before, const char *after)
{
	cJSON *prev = cJSON_CreateObject();

	if (cJSON_GetObjectItem(entry, "prev") == NULL) {
		cJSON_AddItemToObject(prev, "lines", cJSON_Duplicate(
			cJSON_GetObjectItem(entry, "lines"), 1));
		cJSON_AddItemToObject(prev, "words", cJSON_Duplicate(
			cJSON_GetObjectItem(entry, "words"), 1));
		cJSON_AddItemToObject(entry, "prev", prev);
		if (!hs_recipe_is_version(entry, before))
			cJSON_ReplaceItemInObject(entry, "clean",
						  cJSON_CreateFalse());
	} else {
		cJSON_Delete(prev);
	}
	hs_recipe_add(entry, before, after);
	if (cJSON_IsTrue(cJSON_GetObjectItem(entry, "clean")))
		hs_recipe_add_version(entry, after);
}

/*
 * The run before this one was killed before it finished (regen_pending):
 * what its commands did to a file (grubby's entries) was never recorded.
 * While the file is clean, everything in it since its original is
 * vmctl's: the record starts again from the original.
 */
static int resume_record(const struct hs_txn *t, cJSON *entry,
			 const char *current, struct vmctl_error **err)
{
	cleanup_free char *original = NULL;
	const char *backup = cJSON_GetStringValue(cJSON_GetObjectItem(entry,
								      "backup"));
	size_t len;

	if (!cJSON_IsTrue(cJSON_GetObjectItem(entry, "clean")) ||
	    hs_recipe_is_version(entry, current))
		return 0;
	if (backup != NULL) {
		cleanup_free char *bpath = xasprintf("%s/backup/%s", t->dir,
						     backup);

		if (fs_read_file(bpath, 64u << 20, &original, &len,
				 VMCTL_EXIT_FAILURE, err) < 0)
			return -1;
	}
	cJSON_DeleteItemFromObject(entry, "lines");
	cJSON_DeleteItemFromObject(entry, "words");
	hs_recipe_add(entry, original, current);
	hs_recipe_add_version(entry, current);
	return 0;
}

/* The run is over: its records stand (done), or go back to before it. */
static void settle_records(cJSON *manifest, bool done)
{
	cJSON *f;

	cJSON_ArrayForEach(f, cJSON_GetObjectItem(manifest, "files")) {
		cJSON *prev = cJSON_DetachItemFromObject(f, "prev");

		if (prev != NULL && !done) {
			cJSON_ReplaceItemInObject(f, "lines", cJSON_Duplicate(
				cJSON_GetObjectItem(prev, "lines"), 1));
			cJSON_ReplaceItemInObject(f, "words", cJSON_Duplicate(
				cJSON_GetObjectItem(prev, "words"), 1));
		}
		cJSON_Delete(prev);
	}
}

int hs_write_target(const char *root, const char *path, const char *text,
		    size_t len, mode_t mode, struct vmctl_error **err)
{
	cleanup_free char *resolved = NULL, *full = NULL, *dir = NULL;
	char *slash;

	if (hs_resolve(root, path, &resolved, err) < 0)
		return -1;
	full = hs_path(root, resolved);
	dir = xstrdup(full);
	slash = strrchr(dir, '/');
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
int hs_run_commands(struct strv *cmds, size_t n, bool show,
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

void hs_commands_from_json(const cJSON *a, struct strv **cmds, size_t *n)
{
	const cJSON *c, *w;

	cJSON_ArrayForEach(c, a) {
		struct strv argv = { 0 };

		cJSON_ArrayForEach(w, c)
			if (cJSON_IsString(w))
				strv_push(&argv, w->valuestring);
		if (argv.n == 0)
			continue;
		*cmds = xreallocarray(*cmds, *n + 1, sizeof(**cmds));
		(*cmds)[(*n)++] = argv;
	}
}

cJSON *hs_commands_to_json(struct strv *cmds, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		cJSON *c = cJSON_CreateArray();

		for (size_t k = 0; k < cmds[i].n; k++)
			cJSON_AddItemToArray(c, cJSON_CreateString(
				cmds[i].v[k]));
		cJSON_AddItemToArray(a, c);
	}
	return a;
}

/* A file as it is before this run: its bytes, or absent. */
struct before {
	char *path;
	char *text;     /* NULL: absent */
	mode_t mode;
};

static void restore_before(const char *root, struct before *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct vmctl_error *ignored = NULL;
		cleanup_free char *full = hs_path(root, b[i].path);

		if (b[i].text != NULL)
			hs_write_target(root, b[i].path, b[i].text,
					strlen(b[i].text), b[i].mode,
					&ignored);
		else
			unlink(full);
		vmctl_error_free(ignored);
	}
}

int hs_remove_target(const char *root, const char *path,
		     struct vmctl_error **err)
{
	cleanup_free char *full = hs_path(root, path);

	if (unlink(full) < 0 && errno != ENOENT)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "removing %s", full);
	return 0;
}

int hostsetup_apply(const struct vmctl_env *env, const struct hs_plan *plan,
		    struct vmctl_error **err)
{
	struct hs_txn t;
	struct strv touched = { 0 };
	struct before *before = NULL;
	size_t n_before = 0;
	bool show = env->verbosity >= 0 && isatty(STDERR_FILENO), resumed;
	cJSON *files;
	int ret = -1;

	if (hs_txn_open(env, &t, err) < 0)
		goto out;
	if (t.manifest == NULL) {
		t.manifest = cJSON_CreateObject();
		cJSON_AddNumberToObject(t.manifest, "version", 2);
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
	files = cJSON_GetObjectItem(t.manifest, "files");
	for (size_t i = 0; i < plan->n_edits; i++)
		strv_push(&touched, plan->edits[i].path);
	if (plan->n_commands > 0) {
		struct strv by_commands = { 0 };

		hostsetup_command_files(plan->root, plan->boot, &by_commands);
		for (size_t i = 0; i < by_commands.n; i++)
			if (!strv_contains(&touched, by_commands.v[i]))
				strv_push(&touched, by_commands.v[i]);
		strv_clear(&by_commands);
	}

	/* 1. Back up and record every file before any is changed. */
	resumed = cJSON_IsTrue(cJSON_GetObjectItem(t.manifest,
						   "regen_pending"));
	before = xcalloc(touched.n ? touched.n : 1, sizeof(*before));
	for (size_t i = 0; i < touched.n; i++) {
		if (remember(&t, plan->root, touched.v[i], err) < 0 ||
		    hs_read(plan->root, touched.v[i], &before[i].text,
			    &before[i].mode, err) < 0)
			goto out;
		before[i].path = touched.v[i];
		n_before++;
		if (resumed && resume_record(&t, find_file(files, touched.v[i]),
					     before[i].text, err) < 0)
			goto out;
	}
	/* What the edits change, recorded before they are made; until the
	 * regeneration below succeeds, a rerun must redo it even if every
	 * file already has its new content. */
	for (size_t i = 0; i < plan->n_edits; i++)
		record_change(find_file(files, plan->edits[i].path),
			      before[i].text, plan->edits[i].new_text);
	hs_record_undo_commands(t.manifest, plan);
	if (plan->n_edits > 0 || plan->n_commands > 0) {
		cJSON_DeleteItemFromObject(t.manifest, "regen_pending");
		cJSON_AddTrueToObject(t.manifest, "regen_pending");
		if (hs_txn_save(&t, err) < 0)
			goto out;
	}
	/* 2. Replace the files, each atomically. */
	for (size_t i = 0; i < plan->n_edits; i++) {
		const struct hs_edit *e = &plan->edits[i];

		if (e->new_text == NULL
		    ? hs_remove_target(plan->root, e->path, err) < 0
		    : hs_write_target(plan->root, e->path, e->new_text,
				      strlen(e->new_text), e->mode, err) < 0) {
			restore_before(plan->root, before, n_before);
			goto out;
		}
	}
	/* 3. Regenerate; on failure, put this run's files back and rebuild
	 * from them. */
	if (hs_run_commands(plan->commands, plan->n_commands, show, err) < 0) {
		struct strv *regen = NULL;
		size_t n_regen = 0;
		struct vmctl_error *again = NULL;

		restore_before(plan->root, before, n_before);
		hostsetup_regen_commands(plan->root, plan->boot, plan->initrd,
					 &regen, &n_regen);
		if (hs_run_commands(regen, n_regen, show, &again) < 0) {
			vmctl_error_wrap(err, "rolled back the files, but "
					 "rebuilding boot files failed too "
					 "(%s)", again->message);
		} else {
			struct vmctl_error *ignored = NULL;

			vmctl_error_wrap(err, "changes rolled back");
			cJSON_DeleteItemFromObject(t.manifest, "regen_pending");
			settle_records(t.manifest, false);
			hs_txn_save(&t, &ignored);
			vmctl_error_free(ignored);
		}
		vmctl_error_free(again);
		for (size_t i = 0; i < n_regen; i++)
			strv_clear(&regen[i]);
		free(regen);
		goto out;
	}
	/* 4. What the commands changed (grubby's, kernelstub's files). */
	for (size_t i = plan->n_edits; i < n_before; i++) {
		cleanup_free char *after = NULL;

		if (hs_read(plan->root, before[i].path, &after, NULL, err) < 0)
			goto out;
		record_change(find_file(files, before[i].path),
			      before[i].text, after);
	}
	settle_records(t.manifest, true);
	hs_record_plan(t.manifest, plan);
	cJSON_DeleteItemFromObject(t.manifest, "regen_pending");
	if (hs_txn_save(&t, err) < 0)
		goto out;
	ret = 0;
out:
	for (size_t i = 0; i < n_before; i++)
		free(before[i].text);
	free(before);
	strv_clear(&touched);
	hs_txn_close(&t);
	return ret;
}
