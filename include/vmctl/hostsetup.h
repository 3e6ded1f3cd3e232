/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTSETUP_H
#define VMCTL_HOSTSETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/pci.h"
#include "vmctl/strv.h"

/*
 * `vmctl host-setup`: what must change on a host so the selected PCI
 * functions boot on vfio-pci, as a plan (file edits and the commands that
 * regenerate boot files), then a transaction that carries it out.
 *
 * Planning reads the target root (which bootloader and initramfs system
 * are in use, the files as they are) and computes new contents with the
 * pure editors in bootcfg.c; it writes nothing.
 */

enum hs_boot {
	HS_BOOT_NONE,
	HS_BOOT_GRUB,         /* /etc/default/grub + update-grub / grub-mkconfig */
	HS_BOOT_GRUBBY,       /* Fedora/RHEL: BLS entries through grubby */
	HS_BOOT_SDBOOT,       /* systemd-boot: /etc/kernel/cmdline, entries */
	HS_BOOT_KERNELSTUB,   /* Pop!_OS */
};

enum hs_initrd {
	HS_INITRD_NONE,
	HS_INITRD_TOOLS,      /* Debian/Ubuntu initramfs-tools */
	HS_INITRD_DRACUT,
	HS_INITRD_MKINITCPIO,
};

struct hs_edit {
	char *path;           /* as on the target: "/etc/default/grub" */
	char *old_text;       /* NULL: the file does not exist */
	char *new_text;       /* NULL: the file goes */
	mode_t mode;
};

struct hs_plan {
	enum hs_boot boot;
	enum hs_initrd initrd;
	char *root;                  /* the filesystem changed: "/" or --root */
	struct hs_edit *edits;       /* only files whose content changes */
	size_t n_edits;
	struct strv *commands;       /* regeneration, in order */
	size_t n_commands;
	struct strv *undo_commands;  /* for tools that keep their own state */
	size_t n_undo_commands;
	struct strv kargs;           /* "intel_iommu=on", ... */
	char *kargs_file;            /* where they go, when one file says */
	char *cmdline;               /* the command line that results */
	struct strv notes;           /* what the user should know */
	char *ids;                   /* "10de:1b82,10de:10f0", or NULL */
};

const char *hs_boot_name(enum hs_boot b);
const char *hs_initrd_name(enum hs_initrd i);

/* The selected functions (every function of each chosen slot). */
int hostsetup_plan(const struct vmctl_env *env, const char *root,
		   const struct pci_host *host,
		   const struct pci_function *const *fns, size_t n,
		   struct hs_plan *plan, struct vmctl_error **err);
void hostsetup_plan_clear(struct hs_plan *plan);

/* Files a regeneration command rewrites itself (grubby's and
 * kernelstub's entries): backed up before it runs, restored by undo. */
void hostsetup_command_files(const char *root, enum hs_boot boot,
			     struct strv *paths);

/* The commands that rebuild boot files from their configuration (what
 * undo reruns), and the systems in use under a root. */
void hostsetup_regen_commands(const char *root, enum hs_boot boot,
			      enum hs_initrd initrd, struct strv **cmds,
			      size_t *n);
enum hs_boot hostsetup_detect_boot(const char *root);
enum hs_initrd hostsetup_detect_initrd(const char *root);

/* For the planners (hostsetup-*.c): add an edit of `path` (both texts
 * owned by the plan from now on; dropped when they are the same; returns
 * 1 if added), a command (run as `chroot ROOT ...` when root is not /). */
int hs_add_edit(struct hs_plan *plan, const char *path, char *old_text,
		char *new_text, mode_t mode);
void hs_add_command(struct strv **list, size_t *n, const char *root,
		    const char *const *argv);

/* Add the ids of a comma-separated list ("10DE:1B80,10de:10f0") that
 * `ids` lacks, lowercase, in order. */
void hs_ids_merge(struct strv *ids, const char *list);

/* The plan as text: diffs of every file, then every command. */
char *hostsetup_plan_render(const struct hs_plan *plan);

/*
 * Carry the plan out as a transaction recorded in
 * STATE_DIR/host-setup/manifest.json: each file's original is backed up
 * (once: the first time vmctl touches it) and the manifest written before
 * the file is replaced atomically; then the regeneration commands run.
 * A failing command restores the files this run changed and reruns the
 * regeneration.  A killed run leaves each file old or new, and a rerun
 * converges.
 */
int hostsetup_apply(const struct vmctl_env *env, const struct hs_plan *plan,
		    struct vmctl_error **err);

/* Did a run on `root` change files and die before its regeneration
 * commands succeeded?  (The manifest says so until they have.) */
bool hostsetup_regen_pending(const struct vmctl_env *env, const char *root);

/* Put back every file host-setup ever changed, byte for byte, and rerun
 * the regeneration.  *nothing is set when there was nothing to undo. */
int hostsetup_undo(const struct vmctl_env *env, const char *root,
		   bool *nothing, struct vmctl_error **err);

#endif
