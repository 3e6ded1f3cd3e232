/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTSETUP_TXN_H
#define VMCTL_HOSTSETUP_TXN_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/strv.h"

/*
 * The state of host-setup's transactions, STATE_DIR/host-setup/, shared
 * by apply (hostsetup-txn.c) and undo (hostsetup-undo.c):
 *
 *   manifest.json   what vmctl changed and how to take it out again
 *   backup/N        a file's original bytes, taken the first time only
 *   lock            flock: one host-setup at a time
 *
 * manifest.json (version 2):
 *   root, boot, initrd     the tree changed, its bootloader and initramfs
 *   regen_pending          a run changed files and has not finished
 *                          rebuilding the boot files
 *   files[]                every file vmctl ever touched there:
 *     path                 as the target sees it
 *     existed, mode, backup   before vmctl's first change
 *     clean                nobody but vmctl changed it in between runs
 *     versions             SHA-256s of the texts vmctl wrote (and the
 *                          original): while clean and still one of
 *                          these, undo restores the backup byte for byte
 *     lines, words         what vmctl added and set (hostsetup-recipe.h)
 *     prev                 lines and words before the run in progress
 *   undo_commands          commands undo runs besides the regeneration
 *   (and what the plan was: see hostsetup_apply)
 */
struct hs_txn {
	char *dir;
	cJSON *manifest;   /* NULL: none yet */
	int lock;
};

int hs_txn_open(const struct vmctl_env *env, struct hs_txn *t,
		struct vmctl_error **err);
void hs_txn_close(struct hs_txn *t);
int hs_txn_save(struct hs_txn *t, struct vmctl_error **err);

/* The manifest is about ROOT, or an error saying which root it is. */
int hs_manifest_root(const cJSON *manifest, const char *root,
		     struct vmctl_error **err);

/* Write PATH under ROOT atomically, through its symbolic links (the
 * link stays, its target is replaced). */
int hs_write_target(const char *root, const char *path, const char *text,
		    size_t len, mode_t mode, struct vmctl_error **err);

/* Remove PATH under ROOT (the link itself, if it is one); gone already
 * is fine. */
int hs_remove_target(const char *root, const char *path,
		     struct vmctl_error **err);

/* Run commands in order, saying so on a terminal (`show`). */
int hs_run_commands(struct strv *cmds, size_t n, bool show,
		    struct vmctl_error **err);

/* Record what the plan meant in the manifest (hostsetup-state.c):
 *   kargs        every kernel argument vmctl wants in effect
 *   mode         "one-shot": `tried` are armed or booted once, not kept
 *                yet (--confirm keeps them); "permanent": written for good
 *   tried        the arguments the one-shot boot adds
 *   oneshot      how it is armed ("grub-editenv ... set vmctl_try=...",
 *                "bootctl set-oneshot vmctl-try.conf"), or null
 *   kargs_file   where the arguments live; cmdline: what the default
 *                entries' arguments become (GRUB), or null
 *   ids          vfio-pci's ids (the union), or null
 *   functions[]  {address, id, subsystem, bound_by: "ids"|"address",
 *                boot_display}
 * and, before the run changes anything (a kill must not lose them), the
 * commands undo runs besides the regeneration ("grub-editenv ... unset
 * vmctl_try"): added to, never dropped, by later runs. */
struct hs_plan;
void hs_record_plan(cJSON *m, const struct hs_plan *plan);
void hs_record_undo_commands(cJSON *m, const struct hs_plan *plan);

/* The commands of a JSON array of argv arrays, and back. */
void hs_commands_from_json(const cJSON *a, struct strv **cmds, size_t *n);
cJSON *hs_commands_to_json(struct strv *cmds, size_t n);

#endif
