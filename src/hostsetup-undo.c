// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup --undo: take out what vmctl put in, and nothing else.
 *
 * For each file in the manifest (hostsetup-txn.h):
 *   - still what vmctl left it as (one of the versions it wrote), and
 *     nobody else changed it between runs: the original comes back byte
 *     for byte (or the file goes, if vmctl created it); so too after an
 *     interrupted run, and for every file with --force;
 *   - changed since (an admin's root= or cryptdevice= edit): vmctl's lines
 *     come out and its words go back as they were (hostsetup-recipe.c),
 *     and every other change stays; a file vmctl created goes if nothing
 *     else is left in it;
 *   - vmctl's own line or word changed or removed by someone: a conflict.
 *     The file is left as it is and named; the rest is undone, the boot
 *     files rebuilt, and the manifest keeps only the files in conflict,
 *     so a later --undo (after a hand fix, or with --force) finishes.
 * Symbolic links stay links: a file is written where its link points.
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/hostsetup.h"
#include "vmctl/hostsetup-recipe.h"
#include "vmctl/hostsetup-root.h"
#include "vmctl/hostsetup-txn.h"
#include "vmctl/xalloc.h"

static bool blank(const char *text)
{
	return text[strspn(text, " \t\n")] == '\0';
}

/* The original back, byte for byte. */
static int restore(const struct hs_txn *t, const char *root,
		   const cJSON *entry, const char *path,
		   struct vmctl_error **err)
{
	cleanup_free char *bpath = NULL, *text = NULL;
	size_t len;

	if (!cJSON_IsTrue(cJSON_GetObjectItem(entry, "existed")))
		return hs_remove_target(root, path, err);
	bpath = xasprintf("%s/backup/%s", t->dir, cJSON_GetStringValue(
		cJSON_GetObjectItem(entry, "backup")));
	if (fs_read_file(bpath, 64u << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 err) < 0)
		return -1;
	return hs_write_target(root, path, text, len, (mode_t)
			       cJSON_GetNumberValue(cJSON_GetObjectItem(
				       entry, "mode")), err);
}

/*
 * Undo one file.  Returns -1 on an error, 0 when done, 1 on a conflict
 * (*why says what).
 */
static int undo_file(const struct hs_txn *t, const char *root,
		     const cJSON *entry, bool exact, char **why,
		     struct vmctl_error **err)
{
	const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(entry,
								    "path"));
	bool existed = cJSON_IsTrue(cJSON_GetObjectItem(entry, "existed"));
	cleanup_free char *current = NULL, *out = NULL;
	const cJSON *prev = cJSON_GetObjectItem(entry, "prev");
	mode_t mode = 0644;

	*why = NULL;
	if (path == NULL)
		return 0;
	/* A write killed before its rename leaves a temporary. */
	{
		cleanup_free char *full = hs_path(root, path);
		char *slash = strrchr(full, '/');

		*slash = '\0';
		fs_remove_temps(*full ? full : "/", slash + 1);
	}
	if (hs_read(root, path, &current, &mode, err) < 0)
		return -1;
	if (current == NULL && !existed)
		return 0;
	/* a manifest from before vmctl kept records (no versions): the
	 * originals back, as that vmctl would have done */
	if (exact || !cJSON_IsArray(cJSON_GetObjectItem(entry, "versions")) ||
	    (current != NULL &&
	     cJSON_IsTrue(cJSON_GetObjectItem(entry, "clean")) &&
	     hs_recipe_is_version(entry, current)))
		return restore(t, root, entry, path, err);
	if (current == NULL) {
		*why = xstrdup("it was removed since");
		return 1;
	}
	if (hs_recipe_revert(current, entry, &out, why) < 0) {
		cleanup_free char *first = steal_pointer(why);

		/* a run killed before it replaced the file: its record of
		 * the run before */
		if (prev == NULL || hs_recipe_revert(current, prev, &out,
						     why) < 0) {
			free(*why);
			*why = steal_pointer(&first);
			return 1;
		}
	}
	if (!existed && blank(out))
		return hs_remove_target(root, path, err);
	return hs_write_target(root, path, out, strlen(out), mode, err);
}

static void run_recorded(const struct hs_txn *t, const char *name,
			 struct strv **cmds, size_t *n)
{
	hs_commands_from_json(cJSON_GetObjectItem(t->manifest, name), cmds, n);
}

int hostsetup_undo(const struct vmctl_env *env, const char *root, bool force,
		   bool *nothing, struct vmctl_error **err)
{
	struct hs_txn t;
	struct strv *regen = NULL;
	size_t n_regen = 0;
	cleanup_free char *conflicts = xstrdup("");
	cJSON *files, *keep = cJSON_CreateArray();
	bool interrupted;
	int ret = -1;

	*nothing = false;
	if (hs_txn_open(env, &t, err) < 0)
		goto out;
	if (t.manifest == NULL) {
		*nothing = true;
		ret = 0;
		goto out;
	}
	if (hs_manifest_root(t.manifest, root, err) < 0)
		goto out;
	/* An interrupted run: nobody can have edited in between. */
	interrupted = cJSON_IsTrue(cJSON_GetObjectItem(t.manifest,
						       "regen_pending"));
	files = cJSON_GetObjectItem(t.manifest, "files");
	for (cJSON *f = files ? files->child : NULL; f != NULL; f = f->next) {
		char *why = NULL;
		bool clean = cJSON_IsTrue(cJSON_GetObjectItem(f, "clean"));
		int r = undo_file(&t, root, f, force || (interrupted && clean),
				  &why, err);
		char *more;

		if (r < 0)
			goto out;
		if (r == 0)
			continue;
		{
			cleanup_free char *full = hs_path(root,
				cJSON_GetStringValue(cJSON_GetObjectItem(
					f, "path")));

			more = xasprintf("%s\n  %s: %s", conflicts, full, why);
		}
		free(why);
		free(conflicts);
		conflicts = more;
		cJSON_AddItemToArray(keep, cJSON_Duplicate(f, 1));
	}
	hostsetup_regen_commands(root, hostsetup_detect_boot(root),
				 hostsetup_detect_initrd(root), &regen,
				 &n_regen);
	run_recorded(&t, "undo_commands", &regen, &n_regen);
	if (hs_run_commands(regen, n_regen, env->verbosity >= 0 &&
			    isatty(STDERR_FILENO), err) < 0) {
		vmctl_error_wrap(err, "files restored, but rebuilding boot "
				 "files failed; fix that and rerun --undo");
		goto out;
	}
	if (*conflicts) {
		/* Only the files in conflict stay on record. */
		cJSON_ReplaceItemInObject(t.manifest, "files", keep);
		keep = NULL;
		cJSON_DeleteItemFromObject(t.manifest, "regen_pending");
		cJSON_DeleteItemFromObject(t.manifest, "undo_commands");
		if (hs_txn_save(&t, err) < 0)
			goto out;
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				"undone, but for these files, changed since "
				"host-setup in a way it cannot take out; they "
				"are left as they are:%s\nTake vmctl's changes "
				"out of them by hand and run --undo again, or "
				"--undo --force to put back the files as they "
				"were before host-setup (losing the edits "
				"made since).", conflicts);
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
	cJSON_Delete(keep);
	for (size_t i = 0; i < n_regen; i++)
		strv_clear(&regen[i]);
	free(regen);
	hs_txn_close(&t);
	return ret;
}
