// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-check after host-setup and a reboot: what host-setup intended
 * (facts->intent) against the running host, one check per way it can
 * fail to take, each naming the cause it finds and its fix.  Pure.
 *
 *   setup         the manifest itself: unreadable, a run interrupted
 *                 before the boot files were rebuilt, no reboot since
 *   setup-args    the kernel arguments it set, on PROC/cmdline
 *   setup-driver  the functions it chose, on vfio-pci
 *   setup-group   their IOMMU groups, viable
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/hostcheck.h"
#include "vmctl/kcmdline.h"
#include "vmctl/xalloc.h"

/* The host booted before host-setup last ran. */
static bool not_rebooted(const struct hostcheck_intent *in)
{
	return in->booted > 0 && in->written > 0 && in->booted < in->written;
}

static const char *or_none(const char *s)
{
	return s != NULL ? s : "none";
}

static void check_setup(const struct hostcheck_facts *f,
			struct hostcheck_report *r)
{
	const struct hostcheck_intent *in = &f->intent;
	cleanup_free char *files = strv_join(&in->files, ", ");
	const char *root = in->root ? in->root : "/";
	bool other_root = strcmp(root, "/") != 0;

	if (in->regen_pending)
		hostcheck_add(r, "setup", HOSTCHECK_FAIL, "rerun vmctl "
			      "host-setup with the same selectors: it rebuilds "
			      "them; then reboot", "host-setup (%s, %s) was "
			      "interrupted before it rebuilt the boot files "
			      "from %s", or_none(in->boot), or_none(in->initrd),
			      *files ? files : "what it changed");
	else if (not_rebooted(in))
		hostcheck_add(r, "setup", HOSTCHECK_FAIL, "reboot", "the host "
			      "has not rebooted since host-setup changed %s: "
			      "none of it is in effect yet", *files ? files
			      : "its files");
	else
		hostcheck_add(r, "setup", HOSTCHECK_OK, NULL, "host-setup "
			      "(%s, %s) changed %s%s%s", or_none(in->boot),
			      or_none(in->initrd), *files ? files : "nothing",
			      other_root ? " under " : "",
			      other_root ? root : "");
}

/* ---- kernel arguments --------------------------------------------------- */

/* Is KARG on trial (a one-shot boot's)?  All are when the manifest does
 * not say which. */
static bool on_trial(const struct hostcheck_intent *in, const char *karg)
{
	struct strv one = { 0 };
	bool yes = in->tried.n == 0;

	strv_push(&one, karg);
	for (size_t i = 0; i < in->tried.n && !yes; i++)
		yes = hostcheck_karg_in(&one, in->tried.v[i]);
	strv_clear(&one);
	return in->one_shot && yes;
}

/* Why the arguments are not in effect, and the fix, first cause first;
 * `trial`: every missing one was only tried for one boot. */
static void args_cause(const struct hostcheck_intent *in, bool trial,
		       char **why, char **fix)
{
	const char *file = in->kargs_file;

	if (not_rebooted(in)) {
		*why = xstrdup("the host has not rebooted since");
		*fix = xstrdup("reboot");
	} else if (trial) {
		*why = xstrdup("host-setup tried them for one boot only, and "
			       "this boot is not that one: the trial boot "
			       "came and went without `vmctl host-setup "
			       "--confirm` (or it failed, and the host came "
			       "back with its old command line)");
		*fix = xstrdup("rerun vmctl host-setup with the same "
			       "selectors to try them once more, then reboot "
			       "(--permanent: no trial)");
	} else if (!in->kargs_file_has) {
		*why = xasprintf("%s no longer carries them", file);
		*fix = xstrdup("rerun vmctl host-setup, then reboot");
	} else if (in->kargs_override != NULL) {
		*why = xasprintf("%s sets %s after it, without them, and the "
				 "last assignment wins", in->kargs_override,
				 in->kargs_var);
		*fix = xasprintf("add them to %s's %s too (or drop that "
				 "line), run update-grub, reboot",
				 in->kargs_override, in->kargs_var);
	} else if (in->bootmenu != NULL && !in->bootmenu_has) {
		*why = xasprintf("%s has no boot entry with them: update-grub "
				 "has not run since", in->bootmenu);
		*fix = xasprintf("run update-grub (grub-mkconfig -o %s), then "
				 "reboot", in->bootmenu);
	} else {
		*why = xasprintf("%s%s%s carr%s them, so this boot came from "
				 "another entry, kernel or boot loader", file,
				 in->bootmenu ? " and " : "",
				 in->bootmenu ? in->bootmenu : "",
				 in->bootmenu ? "y" : "ies");
		*fix = xstrdup("boot the default entry, from the disk whose "
			       "boot loader host-setup configured");
	}
}

static void check_args(const struct hostcheck_facts *f,
		       const struct strv *words, struct hostcheck_report *r)
{
	const struct hostcheck_intent *in = &f->intent;
	struct strv missing = { 0 };
	bool trial = in->one_shot;
	cleanup_free char *want = strv_join(&in->kargs, " ");
	cleanup_free char *gone = NULL, *why = NULL, *fix = NULL;
	cleanup_free char *where = NULL;

	if (in->kargs.n == 0) {
		bool none = in->boot != NULL && strcmp(in->boot, "none") == 0;

		hostcheck_add(r, "setup-args", HOSTCHECK_WARN, none
			      ? "add intel_iommu=on (AMD: amd_iommu=on) and "
				"iommu=pt to the kernel command line yourself"
			      : "rerun vmctl host-setup", "%s", none
			      ? "host-setup found no boot loader configuration"
				" to write the kernel arguments to"
			      : "no kernel argument of host-setup's is found "
				"in the files it changed");
		return;
	}
	where = in->kargs_recorded && in->kargs_file == NULL
		? xstrdup("its manifest") : xasprintf("%s%s%s",
		in->kargs_file ? in->kargs_file : "?",
		in->kargs_var ? " " : "", in->kargs_var ? in->kargs_var : "");
	if (f->cmdline == NULL) {
		hostcheck_add(r, "setup-args", HOSTCHECK_WARN, "check that "
			      "PROC/cmdline is readable", "cannot compare %s "
			      "(from %s) with the running kernel's", want,
			      where);
		return;
	}
	for (size_t i = 0; i < in->kargs.n; i++) {
		const char *k = in->kargs.v[i], *eq = strchr(k, '=');
		cleanup_free char *key = xstrndup(k, eq ? (size_t)(eq - k)
						       : strlen(k));
		const char *have = kcmdline_get(words, key);

		if (hostcheck_karg_in(words, in->kargs.v[i]))
			continue;
		trial = trial && on_trial(in, in->kargs.v[i]);
		if (have != NULL)
			strv_pushf(&missing, "%s (in effect: %s=%s)",
				   in->kargs.v[i], key, have);
		else
			strv_push(&missing, in->kargs.v[i]);
	}
	if (missing.n == 0 && in->one_shot) {
		cleanup_free char *tried = strv_join(in->tried.n ? &in->tried
						     : &in->kargs, " ");

		hostcheck_add(r, "setup-args", HOSTCHECK_WARN, "if the host "
			      "works as it should, keep them: vmctl "
			      "host-setup --confirm", "%s in effect, but %s "
			      "only for this boot (a trial, through %s): the "
			      "next boot goes back to the old command line",
			      want, tried, where);
		return;
	}
	if (missing.n == 0) {
		hostcheck_add(r, "setup-args", HOSTCHECK_OK, NULL, "%s in "
			      "effect (host-setup set them in %s)", want,
			      where);
		return;
	}
	gone = strv_join(&missing, ", ");
	strv_clear(&missing);
	if (in->kargs_file == NULL) {
		why = xstrdup("no boot configuration file among the files "
			      "host-setup changed carries them");
		fix = xstrdup("rerun vmctl host-setup, then reboot");
	} else {
		args_cause(in, trial, &why, &fix);
	}
	hostcheck_add(r, "setup-args", trial && !not_rebooted(in)
		      ? HOSTCHECK_WARN : HOSTCHECK_FAIL, fix, "not on the "
		      "running kernel's command line: %s; host-setup set them "
		      "in %s, but %s", gone, where, why);
}

/* ---- drivers ------------------------------------------------------------ */

static const struct hostcheck_driver *driver_of(
	const struct hostcheck_intent *in, const char *name)
{
	for (size_t i = 0; i < in->n_drivers; i++)
		if (strcmp(in->drivers[i].name, name) == 0)
			return &in->drivers[i];
	return NULL;
}

static const char *regen_command(const struct hostcheck_intent *in)
{
	const char *k = in->initrd ? in->initrd : "";

	return strcmp(k, "dracut") == 0 ? "dracut -f --regenerate-all"
	       : strcmp(k, "mkinitcpio") == 0 ? "mkinitcpio -P"
	       : "update-initramfs -u -k all";
}

/* Is FN's vendor:device in vfio-pci.ids (in effect or in modprobe.d), or
 * FN bound by address? */
static bool ids_cover(const struct hostcheck_intent *in,
		      const struct strv *words, const struct pci_function *fn,
		      const char *addr)
{
	const char *line = kcmdline_get(words, "vfio-pci.ids");
	char id[16];
	struct strv running = { 0 };
	bool in_line;

	snprintf(id, sizeof(id), "%04x:%04x", fn->vendor_id, fn->device_id);
	hostcheck_split(line ? line : "", ",", &running);
	in_line = strv_contains(&running, id);
	strv_clear(&running);
	return in_line || (in->modprobe_file != NULL &&
			   strv_contains(&in->ids, id)) ||
	       strv_contains(&in->by_address, addr);
}

/* Why FN is not on vfio-pci, and the fix, first cause first. */
static void driver_cause(const struct hostcheck_facts *f,
			 const struct strv *words,
			 const struct pci_function *fn, const char *addr,
			 char **why, char **fix)
{
	const struct hostcheck_intent *in = &f->intent;
	const struct hostcheck_driver *d = fn->driver
		? driver_of(in, fn->driver) : NULL;
	const char *mod = d && d->module ? d->module : NULL;

	if (not_rebooted(in)) {
		*why = xstrdup("the host has not rebooted since host-setup");
		*fix = xstrdup("reboot");
	} else if (fn->driver == NULL && !f->vfio_pci) {
		*why = xstrdup("vfio_pci is not loaded: nothing loaded it at "
			       "boot");
		*fix = xasprintf("vmctl bind %s loads it and binds the card "
				 "now; rerun vmctl host-setup to put it in the "
				 "initramfs", addr);
	} else if (!ids_cover(in, words, fn, addr)) {
		*why = xasprintf("its ids %04x:%04x are in neither vfio-pci.ids"
				 " nor `options vfio-pci ids=`", fn->vendor_id,
				 fn->device_id);
		*fix = xasprintf("rerun vmctl host-setup %s", addr);
	} else if (fn->driver == NULL) {
		*why = xstrdup("vfio-pci is loaded and has its ids, but did "
			       "not take it");
		*fix = xasprintf("vmctl bind %s binds it now; check the "
				 "kernel log for vfio-pci", addr);
	} else if (d != NULL && mod == NULL) {
		*why = xasprintf("%s is built into the kernel, so no softdep "
				 "can load vfio-pci before it", fn->driver);
		*fix = xasprintf("vmctl bind %s after each boot (a spec's gpu "
				 "managed: true does it at start)", addr);
	} else if (mod != NULL && !strv_contains(&in->softdeps, mod)) {
		*why = xasprintf("no `softdep %s pre: vfio-pci` in %s, so %s "
				 "loaded first and took it", mod,
				 in->modprobe_file ? in->modprobe_file
				 : "/etc/modprobe.d", mod);
		*fix = xasprintf("rerun vmctl host-setup (it writes the "
				 "softdep), then reboot");
	} else if (in->initrd_config != NULL && !in->initrd_has_vfio) {
		*why = xasprintf("%s does not put vfio_pci in the initramfs, "
				 "which loads %s first", in->initrd_config,
				 fn->driver);
		*fix = xasprintf("rerun vmctl host-setup (it adds vfio_pci to "
				 "%s), then reboot", in->initrd_config);
	} else if (in->initrd_image != NULL &&
		   in->initrd_older_than != NULL) {
		*why = xasprintf("%s is older than %s: the initramfs was not "
				 "rebuilt after host-setup", in->initrd_image,
				 in->initrd_older_than);
		*fix = xasprintf("%s, then reboot", regen_command(in));
	} else {
		*why = xstrdup("its softdep, ids and initramfs look right; the "
			       "kernel log says more");
		*fix = xasprintf("vmctl bind %s binds it now; check `journalctl"
				 " -b -k | grep -i vfio`", addr);
	}
}

static void check_drivers(const struct hostcheck_facts *f,
			  const struct strv *words, struct hostcheck_report *r)
{
	const struct hostcheck_intent *in = &f->intent;
	struct strv bad = { 0 };
	cleanup_free char *fix = NULL, *list = NULL;

	if (in->functions.n == 0) {
		hostcheck_add(r, "setup-driver", HOSTCHECK_WARN, "rerun vmctl "
			      "host-setup with the card's selector",
			      "host-setup's manifest and files name no PCI "
			      "function (no vfio-pci ids, no address)");
		return;
	}
	for (size_t i = 0; i < in->functions.n; i++) {
		const char *a = in->functions.v[i];
		const struct pci_function *fn;
		struct pci_addr addr;
		char *why = NULL, *one = NULL;

		if (pci_addr_parse(a, &addr) < 0 ||
		    (fn = pci_host_find(&f->pci, &addr)) == NULL) {
			strv_pushf(&bad, "%s is not on this host", a);
			if (fix == NULL)
				fix = xstrdup("rerun vmctl host-setup for the "
					      "card where it is now");
			continue;
		}
		if (pci_function_on_vfio(fn))
			continue;
		driver_cause(f, words, fn, a, &why, &one);
		strv_pushf(&bad, "%s is on %s, not vfio-pci: %s", a,
			   fn->driver ? fn->driver : "no driver", why);
		if (fix == NULL)
			fix = steal_pointer(&one);
		free(one);
		free(why);
	}
	if (bad.n == 0) {
		list = strv_join(&in->functions, ", ");
		hostcheck_add(r, "setup-driver", HOSTCHECK_OK, NULL, "%s on "
			      "vfio-pci", list);
		return;
	}
	list = strv_join(&bad, "; ");
	strv_clear(&bad);
	hostcheck_add(r, "setup-driver", HOSTCHECK_FAIL, fix, "%s", list);
}

/* ---- IOMMU groups ------------------------------------------------------- */

static bool has_group(const int *groups, size_t n, int g)
{
	for (size_t i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

/* The kernel's viability rule: every other member of a chosen function's
 * group on vfio-pci, pci-stub or no driver, or a bridge. */
static void check_groups(const struct hostcheck_facts *f,
			 struct hostcheck_report *r)
{
	const struct hostcheck_intent *in = &f->intent;
	const struct pci_host *pci = &f->pci;
	int *groups = xcalloc(in->functions.n + 1, sizeof(*groups));
	struct strv bad = { 0 }, names = { 0 };
	cleanup_free char *list = NULL, *fix = NULL;
	size_t n = 0;

	for (size_t i = 0; i < in->functions.n; i++) {
		const struct pci_function *fn;
		struct pci_addr addr;

		if (pci_addr_parse(in->functions.v[i], &addr) == 0 &&
		    (fn = pci_host_find(pci, &addr)) != NULL &&
		    fn->iommu_group >= 0 &&
		    !has_group(groups, n, fn->iommu_group)) {
			groups[n++] = fn->iommu_group;
			strv_pushf(&names, "%d", fn->iommu_group);
		}
	}
	for (size_t i = 0; i < pci->n; i++) {
		const struct pci_function *m = &pci->fns[i];
		char a[PCI_ADDR_STRLEN];

		pci_addr_format(&m->addr, a);
		if (m->iommu_group < 0 ||
		    !has_group(groups, n, m->iommu_group) ||
		    strv_contains(&in->functions, a) || m->bridge ||
		    pci_function_released(m))
			continue;
		strv_pushf(&bad, "group %d holds %s (class %04x) [%s], not on "
			   "vfio-pci", m->iommu_group, a, m->class_code >> 8,
			   m->driver);
		if (fix == NULL)
			fix = xasprintf("bind %s too (vmctl host-setup or "
					"vmctl bind with its address), or move "
					"the card to a slot whose IOMMU group "
					"it has alone", a);
	}
	for (size_t i = 0; i < pci->n_extras; i++)
		if (has_group(groups, n, pci->extras[i].group)) {
			strv_pushf(&bad, "group %d holds %s, which is no PCI "
				   "device", pci->extras[i].group,
				   pci->extras[i].name);
			if (fix == NULL)
				fix = xstrdup("move the card to a slot whose "
					      "IOMMU group it has alone");
		}
	free(groups);
	list = strv_join(&names, ", ");
	strv_clear(&names);
	if (n == 0 && in->functions.n > 0) {
		hostcheck_add(r, "setup-group", HOSTCHECK_WARN, "turn the "
			      "IOMMU on (see the iommu check)", "no chosen "
			      "function is in an IOMMU group");
	} else if (n > 0 && bad.n == 0) {
		hostcheck_add(r, "setup-group", HOSTCHECK_OK, NULL, "group%s "
			      "%s viable", n > 1 ? "s" : "", list);
	} else if (bad.n > 0) {
		cleanup_free char *why = strv_join(&bad, "; ");

		hostcheck_add(r, "setup-group", HOSTCHECK_FAIL, fix, "not "
			      "viable, so VFIO refuses the card: %s", why);
	}
	strv_clear(&bad);
}

void hostcheck_compare(const struct hostcheck_facts *f,
		       const struct strv *words, struct hostcheck_report *r)
{
	const struct hostcheck_intent *in = &f->intent;

	if (!in->present)
		return;
	if (in->error != NULL) {
		hostcheck_add(r, "setup", HOSTCHECK_WARN, "fix or remove it "
			      "(vmctl host-setup --undo restores from it)",
			      "%s: %s: what host-setup intended is not "
			      "compared", in->manifest, in->error);
		return;
	}
	check_setup(f, r);
	check_args(f, words, r);
	check_drivers(f, words, r);
	check_groups(f, r);
}
