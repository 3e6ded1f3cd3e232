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

/*
 * How the new kernel arguments go in.  ONESHOT (the default): they are
 * tried for one boot first (GRUB: its environment block; systemd-boot: a
 * one-shot entry), so a host that hangs falls back to its old command
 * line at the next power cycle, and `host-setup --confirm` writes them
 * for good after a good boot.  PERMANENT (--permanent, --confirm): they
 * are written for good at once.
 */
enum hs_mode {
	HS_MODE_ONESHOT,
	HS_MODE_PERMANENT,
};

/* A selected function as the plan saw it (for the manifest). */
struct hs_function {
	char addr[PCI_ADDR_STRLEN];
	unsigned vendor_id, device_id, subsys_vendor_id, subsys_device_id;
	bool by_address;     /* bound by address (the init-top hook) */
	bool boot_display;
};

struct hs_plan {
	enum hs_boot boot;
	enum hs_initrd initrd;
	enum hs_mode mode;
	char *root;                  /* the filesystem changed: "/" or --root */
	struct hs_edit *edits;       /* only files whose content changes */
	size_t n_edits;
	struct strv *commands;       /* regeneration, in order */
	size_t n_commands;
	struct strv *undo_commands;  /* what undo runs besides regeneration */
	size_t n_undo_commands;
	struct strv kargs;           /* "intel_iommu=on", ... */
	struct strv tried;           /* ONESHOT: those the next boot tries */
	char *oneshot;               /* ONESHOT: how ("grub-editenv ...") */
	struct strv arm;             /* ONESHOT: the command that arms it */
	bool armed;                  /* the plan runs it */
	char *kargs_file;            /* where they go, when one file says */
	char *cmdline;               /* the command line that results */
	struct strv running;         /* PROC/cmdline: the running kernel's */
	struct strv notes;           /* what the user should know */
	char *ids;                   /* "10de:1b82,10de:10f0", or NULL */
	struct hs_function *fns;
	size_t n_fns;
};

const char *hs_boot_name(enum hs_boot b);
const char *hs_initrd_name(enum hs_initrd i);

/*
 * The plan for the selected functions (every function of each chosen
 * slot).  With HS_MODE_ONESHOT on a bootloader that has no one-shot boot
 * (grubby, kernelstub, unified kernel images, systemd-boot without a
 * default entry in loader.conf) and arguments to add, planning fails with
 * status 64: --permanent is the way to say "no safety net".
 */
int hostsetup_plan(const struct vmctl_env *env, const char *root,
		   const struct pci_host *host,
		   const struct pci_function *const *fns, size_t n,
		   enum hs_mode mode, struct hs_plan *plan,
		   struct vmctl_error **err);
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

/* The error (status 64) for a bootloader with no one-shot boot when
 * there are arguments to add: WHY says why; --permanent is the way on. */
int hs_no_oneshot(const struct hs_plan *plan, const char *why,
		  struct vmctl_error **err);

/* Add the ids of a comma-separated list ("10DE:1B80,10de:10f0") that
 * `ids` lacks, lowercase, in order. */
void hs_ids_merge(struct strv *ids, const char *list);

/* The plan as text: diffs of every file, then every command. */
char *hostsetup_plan_render(const struct hs_plan *plan);

/*
 * Carry the plan out as a transaction recorded in
 * STATE_DIR/host-setup/manifest.json (hostsetup-txn.h): each file's
 * original is backed up (once: the first time vmctl touches it) and the
 * manifest written, with what this run changes in each file, before the
 * file is replaced atomically (through its symbolic links); then the
 * commands run, arming the one-shot boot last, and the manifest records
 * the plan (kernel arguments, one-shot or permanent, functions).  A
 * failing command restores the files this run changed and reruns the
 * regeneration.  A killed run leaves each file old or new, and a rerun
 * converges.
 */
int hostsetup_apply(const struct vmctl_env *env, const struct hs_plan *plan,
		    struct vmctl_error **err);

/* What the manifest says of a root (for --confirm). */
struct hs_state {
	bool exists;             /* host-setup changed it */
	bool oneshot;            /* its kernel arguments are only tried */
	struct strv tried;       /* which */
	struct strv addresses;   /* the functions it binds */
};

/* *st empty (exists false) when host-setup has not changed anything;
 * an error when it changed another root. */
int hostsetup_state_read(const struct vmctl_env *env, const char *root,
			 struct hs_state *st, struct vmctl_error **err);
void hostsetup_state_clear(struct hs_state *st);

/* Did a run on `root` change files and die before its regeneration
 * commands succeeded?  (The manifest says so until they have.) */
bool hostsetup_regen_pending(const struct vmctl_env *env, const char *root);

/*
 * Take out what host-setup put in (hostsetup-undo.c): each file back byte
 * for byte while it is what vmctl left, else only vmctl's lines and words
 * taken out; then the boot files rebuilt.  A file whose vmctl lines or
 * words someone changed is left as it is, named in the error (status 1),
 * and stays on record for another --undo.  `force`: every file back byte
 * for byte, edits since or not.  *nothing: there was nothing to undo.
 */
int hostsetup_undo(const struct vmctl_env *env, const char *root, bool force,
		   bool *nothing, struct vmctl_error **err);

#endif
