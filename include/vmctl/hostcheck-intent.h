/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTCHECK_INTENT_H
#define VMCTL_HOSTCHECK_INTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmctl/env.h"
#include "vmctl/pci.h"
#include "vmctl/strv.h"

/*
 * What `vmctl host-setup` meant the host to boot with, for host-check to
 * compare with the running host after the reboot.  It comes from
 * STATE_DIR/host-setup/manifest.json and, for what the manifest does not
 * record, from the files host-setup wrote under the manifest's root.
 *
 * Manifest fields read (any may be missing or of another type: such a
 * field reads as absent):
 *   root           string: the tree host-setup changed ("/")
 *   boot, initrd   strings: "grub", "grubby", "systemd-boot", "kernelstub",
 *                  "none"; "initramfs-tools", "dracut", "mkinitcpio", "none"
 *   files[].path   the files it changed (their other keys are undo's)
 *   regen_pending  true: a run died before its boot files were rebuilt
 *   kargs          (if recorded) the kernel arguments set: an array of
 *                  "KEY=VALUE" strings, or one string of them
 *   ids            (if recorded) "vvvv:dddd,..." or an array of them
 *   functions      (if recorded) the chosen PCI functions: addresses, or
 *                  objects with "address"
 *   mode           "one-shot": the arguments are tried for one boot
 *                  and wait for `host-setup --confirm`; "permanent"
 *                  (earlier versions: one_shot or oneshot true)
 *   tried          the arguments on trial: an array, or one string
 * Without kargs: the arguments host-setup sets (intel_iommu, amd_iommu,
 * iommu, vfio-pci.ids) as its boot configuration file holds them.
 * Without ids and functions: `options vfio-pci ids=` in ROOT/etc/
 * modprobe.d, and the addresses its initramfs-tools hook binds.
 */

/* The driver a chosen function is on, and its module. */
struct hostcheck_driver {
	char *name;              /* "nouveau" */
	char *module;            /* NULL: built into the kernel */
};

struct hostcheck_intent {
	bool present;            /* the manifest exists */
	char *error;             /* unreadable or no JSON object: why */
	char *manifest;          /* its path */
	int64_t written;         /* its mtime: when host-setup last ran */
	int64_t booted;          /* PROC/uptime's boot time; 0: unknown */
	char *root;
	char *boot, *initrd;     /* NULL when not recorded */
	bool regen_pending, one_shot;
	struct strv tried;       /* one_shot: the arguments on trial (empty:
				  * not recorded, all of them) */
	struct strv files;

	/* Kernel arguments: recorded, or from the carrier file. */
	struct strv kargs;
	bool kargs_recorded;
	char *kargs_file;        /* the file that carries them (as on the
				  * target: "/etc/default/grub"), or NULL */
	char *kargs_var;         /* its GRUB variable, or NULL */
	bool kargs_file_has;     /* the carrier still holds every one */
	char *kargs_override;    /* a later grub.d drop-in resets the
				  * variable without them */
	char *bootmenu;          /* grub.cfg, or NULL when none was found */
	bool bootmenu_has;       /* a linux line of it carries them all */

	/* The PCI functions for vfio-pci. */
	struct strv functions;   /* addresses */
	bool functions_recorded;
	struct strv ids;         /* "10de:1b80" */
	struct strv by_address;  /* bound by address at boot (the hook) */
	struct strv softdeps;    /* modules with `softdep M pre: vfio-pci` */
	char *modprobe_file;     /* where `options vfio-pci ids=` is */

	/* The initramfs. */
	char *initrd_config;     /* the file that puts vfio_pci in it */
	bool initrd_has_vfio;
	char *initrd_image;      /* the running kernel's, when found */
	char *initrd_older_than; /* a file it was to be built from, newer */

	struct hostcheck_driver *drivers;   /* of the chosen functions */
	size_t n_drivers;
};

/* Is there a manifest to read? */
bool hostcheck_intent_exists(const struct vmctl_env *env);

/*
 * Read the intent (nothing when there is no manifest).  `pci` is the host
 * as read now: the functions the ids name and their drivers' modules.
 */
void hostcheck_intent_read(const struct vmctl_env *env,
			   const struct pci_host *pci,
			   struct hostcheck_intent *out);
void hostcheck_intent_clear(struct hostcheck_intent *in);

/* ---- pure helpers, for hostcheck-compare.c and tests ------------------- */

/* Words of S split at any of SEPS, appended to OUT. */
void hostcheck_split(const char *s, const char *seps, struct strv *out);

/* The manifest's fields (above) into `in`; false when it is no JSON
 * object (in->error says why). */
bool hostcheck_intent_parse_manifest(const char *text,
				     struct hostcheck_intent *in);

/* The value of VAR after a GRUB defaults file (/etc/default/grub or a
 * grub.d drop-in) has been sourced, starting from *value (NULL: unset);
 * "$VAR" and "${VAR}" expand to the value so far.  True if TEXT assigns
 * VAR. */
bool hostcheck_grub_assign(const char *text, const char *var, char **value);

/* Is KARG ("KEY=VALUE" or a bare flag) in effect in WORDS?  Keys compare
 * as the kernel's do ('-' and '_' alike); vfio-pci.ids as a set of ids. */
bool hostcheck_karg_in(const struct strv *words, const char *karg);

/* The words of LINE that set the arguments host-setup sets. */
void hostcheck_setup_kargs(const char *line, struct strv *out);

/* modprobe.d text: `softdep M pre: ... vfio-pci ...` modules and the
 * `options vfio-pci ids=` list; true when it has such options. */
bool hostcheck_parse_modprobe(const char *text, struct strv *softdeps,
			      struct strv *ids);

/* The addresses host-setup's init-top hook binds ("for dev in A B; do"). */
void hostcheck_parse_hook(const char *text, struct strv *addresses);

#endif
