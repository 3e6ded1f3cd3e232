// SPDX-License-Identifier: GPL-2.0-or-later
/* What host-setup intended: the manifest and file parsers
 * (hostcheck-parse.c) and the comparison with the running host
 * (hostcheck-compare.c), on facts built by hand. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/hostcheck.h"
#include "vmctl/kcmdline.h"
#include "vmctl/sysfs.h"
#include "vmctl/xalloc.h"

static void test_manifest(void)
{
	struct hostcheck_intent in = { 0 };

	ok(hostcheck_intent_parse_manifest(
		   "{\"root\": \"/\", \"boot\": \"grub\", \"initrd\": "
		   "\"initramfs-tools\", \"files\": [{\"path\": "
		   "\"/etc/modprobe.d/vfio.conf\", \"existed\": false}, "
		   "{\"path\": \"/etc/default/grub\", \"existed\": true, "
		   "\"mode\": 420, \"backup\": \"2\"}, {\"nopath\": 1}, "
		   "{\"path\": \"relative\"}]}", &in),
	   "today's manifest");
	is_str(in.root, "/", "root");
	is_str(in.boot, "grub", "boot");
	is_str(in.initrd, "initramfs-tools", "initrd");
	ok(in.files.n == 2 && strcmp(in.files.v[1], "/etc/default/grub") == 0,
	   "files: absolute paths only");
	ok(!in.kargs_recorded && in.kargs.n == 0 && !in.functions_recorded &&
	   !in.one_shot && !in.regen_pending, "nothing else recorded today");
	hostcheck_intent_clear(&in);

	ok(hostcheck_intent_parse_manifest(
		   "{\"kargs\": \"intel_iommu=on iommu=pt\", \"ids\": "
		   "[\"10de:1b80,10de:10f0\"], \"functions\": [\"01:00.0\", "
		   "{\"address\": \"0000:01:00.1\"}, \"nonsense\", 7], "
		   "\"one_shot\": true, \"regen_pending\": true}", &in),
	   "fields another version may record");
	ok(in.kargs_recorded && in.kargs.n == 2 &&
	   strcmp(in.kargs.v[1], "iommu=pt") == 0, "kargs as one string");
	ok(in.ids.n == 2 && strcmp(in.ids.v[1], "10de:10f0") == 0,
	   "ids as an array of lists");
	ok(in.functions_recorded && in.functions.n == 2 &&
	   strcmp(in.functions.v[0], "0000:01:00.0") == 0 &&
	   strcmp(in.functions.v[1], "0000:01:00.1") == 0,
	   "functions: addresses or objects, canonical, others skipped");
	ok(in.one_shot && in.regen_pending, "one_shot, regen_pending");
	hostcheck_intent_clear(&in);

	ok(hostcheck_intent_parse_manifest(
		   "{\"root\": 5, \"files\": {\"path\": \"/x\"}, \"kargs\": "
		   "{}, \"oneshot\": true, \"regen_pending\": \"yes\"}", &in),
	   "fields of other types");
	ok(in.root == NULL && in.files.n == 0 && !in.kargs_recorded &&
	   in.one_shot && !in.regen_pending, "read as absent (oneshot "
	   "spelled so counts)");
	hostcheck_intent_clear(&in);

	ok(hostcheck_intent_parse_manifest(
		   "{\"mode\": \"one-shot\", \"tried\": [\"intel_iommu=on\", "
		   "\"iommu=pt\"], \"kargs\": [\"intel_iommu=on\", \"iommu=pt\"]}",
		   &in), "host-setup's manifest of a one-shot run");
	ok(in.one_shot && in.tried.n == 2 &&
	   strcmp(in.tried.v[1], "iommu=pt") == 0, "mode one-shot, tried");
	hostcheck_intent_clear(&in);
	ok(hostcheck_intent_parse_manifest(
		   "{\"mode\": \"permanent\", \"tried\": []}", &in) &&
	   !in.one_shot && in.tried.n == 0, "mode permanent");
	hostcheck_intent_clear(&in);

	ok(!hostcheck_intent_parse_manifest("[1, 2]", &in) &&
	   in.error != NULL, "an array: no manifest");
	hostcheck_intent_clear(&in);
	ok(!hostcheck_intent_parse_manifest("{\"root\": ", &in),
	   "truncated JSON");
	hostcheck_intent_clear(&in);
}

static void test_grub(void)
{
	char *v = NULL;

	ok(hostcheck_grub_assign("GRUB_DEFAULT=0\n"
				 "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
				 "#GRUB_CMDLINE_LINUX_DEFAULT=\"x\"\n"
				 "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash "
				 "intel_iommu=on\" # ours\n",
				 "GRUB_CMDLINE_LINUX_DEFAULT", &v),
	   "assigned");
	is_str(v, "quiet splash intel_iommu=on", "the last assignment wins; "
	       "comments are not assignments");
	ok(!hostcheck_grub_assign("GRUB_CMDLINE_LINUX=\"a\"\n",
				  "GRUB_CMDLINE_LINUX_DEFAULT", &v),
	   "another variable: not assigned");
	is_str(v, "quiet splash intel_iommu=on", "value kept");
	hostcheck_grub_assign("GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_"
			      "LINUX_DEFAULT console=ttyS0\"\n",
			      "GRUB_CMDLINE_LINUX_DEFAULT", &v);
	is_str(v, "quiet splash intel_iommu=on console=ttyS0",
	       "a drop-in extending it: $VAR expands");
	hostcheck_grub_assign("export GRUB_CMDLINE_LINUX_DEFAULT='$x "
			      "a'\"${GRUB_CMDLINE_LINUX_DEFAULT}\"b\\ c d\n",
			      "GRUB_CMDLINE_LINUX_DEFAULT", &v);
	is_str(v, "$x aquiet splash intel_iommu=on console=ttyS0b c",
	       "export, single quotes literal, ${VAR}, escapes, concatenation");
	hostcheck_grub_assign("  GRUB_CMDLINE_LINUX_DEFAULT=console=tty1\n",
			      "GRUB_CMDLINE_LINUX_DEFAULT", &v);
	is_str(v, "console=tty1", "unquoted, indented");
	free(v);
}

static void test_kargs(void)
{
	struct strv words = { 0 }, out = { 0 };

	kcmdline_split("BOOT_IMAGE=/vmlinuz ro intel_iommu=on iommu=pt "
		       "vfio_pci.ids=10de:10f0,10de:1b80 nomodeset", &words);
	ok(hostcheck_karg_in(&words, "intel_iommu=on"), "same word");
	ok(!hostcheck_karg_in(&words, "intel_iommu=off"), "another value");
	ok(!hostcheck_karg_in(&words, "amd_iommu=on"), "absent");
	ok(hostcheck_karg_in(&words, "vfio-pci.ids=10de:1b80,10de:10f0"),
	   "vfio-pci.ids: '-' and '_' alike, ids as a set");
	ok(!hostcheck_karg_in(&words, "vfio-pci.ids=10de:1b80"),
	   "vfio-pci.ids: one id fewer is another set");
	ok(hostcheck_karg_in(&words, "nomodeset"), "a bare flag");
	strv_clear(&words);

	{
		char *j = strv_join(&words, ", ");

		is_str(j, "", "strv_join: none");
		free(j);
		strv_push(&words, "a");
		j = strv_join(&words, ", ");
		is_str(j, "a", "strv_join: one");
		free(j);
		strv_push(&words, "b");
		strv_push(&words, "c");
		j = strv_join(&words, "; ");
		is_str(j, "a; b; c", "strv_join: three");
		free(j);
		strv_clear(&words);
	}
	hostcheck_setup_kargs("quiet splash intel_iommu=on iommu=pt "
			      "iommu.strict=1 vfio-pci.ids=10de:1b80 "
			      "vfio_pci.disable_vga=1 amd_iommu", &out);
	ok(out.n == 3 && strcmp(out.v[0], "intel_iommu=on") == 0 &&
	   strcmp(out.v[1], "iommu=pt") == 0 &&
	   strcmp(out.v[2], "vfio-pci.ids=10de:1b80") == 0,
	   "host-setup's arguments only, with values");
	strv_clear(&out);
}

static void test_modprobe(void)
{
	struct strv soft = { 0 }, ids = { 0 }, addrs = { 0 };

	ok(hostcheck_parse_modprobe(
		   "# Written by vmctl host-setup\n"
		   "options vfio-pci ids=10de:1b80,10de:10f0\n"
		   "softdep nouveau pre: vfio-pci\n"
		   "softdep snd-hda-intel pre: vfio_pci post: x\n"
		   "softdep amdgpu pre: foo\n"
		   "softdep i915 post: vfio-pci\n"
		   "#softdep nvidia pre: vfio-pci\n"
		   "softdep nouveau pre: vfio-pci\n", &soft, &ids),
	   "options vfio-pci found");
	ok(soft.n == 2 && strcmp(soft.v[0], "nouveau") == 0 &&
	   strcmp(soft.v[1], "snd_hda_intel") == 0,
	   "softdeps before vfio-pci, once each, module names with '_'");
	ok(ids.n == 2 && strcmp(ids.v[1], "10de:10f0") == 0, "ids");
	strv_clear(&soft);
	strv_clear(&ids);
	ok(!hostcheck_parse_modprobe("options snd slots=1\n", &soft, &ids),
	   "no vfio-pci options");

	hostcheck_parse_hook("#!/bin/sh\npci=/sys/bus/pci\nfor dev in "
			     "0000:21:00.0 21:00.1 junk; do\n", &addrs);
	ok(addrs.n == 2 && strcmp(addrs.v[1], "0000:21:00.1") == 0,
	   "the hook's addresses");
	strv_clear(&addrs);
	hostcheck_parse_hook(NULL, &addrs);
	ok(addrs.n == 0, "no hook");
}

/* ---- comparing ------------------------------------------------------- */

static struct pci_function *add_fn(struct pci_host *h, const char *addr,
				   unsigned vendor, unsigned device,
				   unsigned class_code, const char *driver,
				   int group)
{
	struct pci_function *fn;

	h->fns = xreallocarray(h->fns, h->n + 1, sizeof(*h->fns));
	fn = &h->fns[h->n++];
	*fn = (struct pci_function){
		.vendor_id = vendor, .device_id = device,
		.class_code = class_code,
		.driver = driver ? xstrdup(driver) : NULL,
		.iommu_group = group, .numa_node = -1, .boot_vga = -1,
		.bridge = (class_code >> 8) == 0x0604, .detailed = true,
	};
	sysfs_parse_pci_name(addr, &fn->addr);
	h->iommu = true;
	return fn;
}

/* A host after host-setup for the GTX 1080 (01:00.0, 01:00.1; group 1
 * with its root port), as it should be. */
static void setup_host(struct hostcheck_facts *f)
{
	struct hostcheck_intent *in = &f->intent;

	*f = (struct hostcheck_facts){ 0 };
	f->cmdline = xstrdup("BOOT_IMAGE=/vmlinuz ro quiet intel_iommu=on "
			     "iommu=pt vfio-pci.ids=10de:1b80,10de:10f0");
	f->vfio = f->vfio_pci = f->vfio_iommu_type1 = true;
	f->gpus = 1;
	add_fn(&f->pci, "0000:00:01.0", 0x8086, 0x1901, 0x060400, "pcieport",
	       1);
	add_fn(&f->pci, "0000:01:00.0", 0x10de, 0x1b80, 0x030000, "vfio-pci",
	       1);
	add_fn(&f->pci, "0000:01:00.1", 0x10de, 0x10f0, 0x040300, "vfio-pci",
	       1);
	add_fn(&f->pci, "0000:00:1f.3", 0x8086, 0xa348, 0x040300,
	       "snd_hda_intel", 7);
	in->present = true;
	in->root = xstrdup("/");
	in->boot = xstrdup("grub");
	in->initrd = xstrdup("initramfs-tools");
	strv_push(&in->files, "/etc/default/grub");
	strv_push(&in->files, "/etc/modprobe.d/vfio.conf");
	in->written = 1000;
	in->booted = 2000;
	hostcheck_setup_kargs(f->cmdline, &in->kargs);
	in->kargs_file = xstrdup("/etc/default/grub");
	in->kargs_var = xstrdup("GRUB_CMDLINE_LINUX_DEFAULT");
	in->kargs_file_has = true;
	in->bootmenu = xstrdup("/boot/grub/grub.cfg");
	in->bootmenu_has = true;
	strv_push(&in->functions, "0000:01:00.0");
	strv_push(&in->functions, "0000:01:00.1");
	strv_push(&in->ids, "10de:1b80");
	strv_push(&in->ids, "10de:10f0");
	strv_push(&in->softdeps, "nouveau");
	strv_push(&in->softdeps, "snd_hda_intel");
	in->modprobe_file = xstrdup("/etc/modprobe.d/vfio.conf");
	in->initrd_config = xstrdup("/etc/initramfs-tools/modules");
	in->initrd_has_vfio = true;
	in->initrd_image = xstrdup("/boot/initrd.img-6.1.0-18-amd64");
}

static const struct hostcheck_item *judged(const struct hostcheck_facts *f,
					   struct hostcheck_report *r,
					   const char *name)
{
	hostcheck_report_clear(r);
	hostcheck_judge(f, r);
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->items[i].name, name) == 0)
			return &r->items[i];
	return NULL;
}

/* NAME has STATUS, its message holds TEXT and its fix FIX (when given). */
static void expect(const struct hostcheck_facts *f, const char *name,
		   enum hostcheck_status status, const char *text,
		   const char *fix, const char *what)
{
	struct hostcheck_report r = { 0 };
	const struct hostcheck_item *it = judged(f, &r, name);

	ok(it && it->status == status && strstr(it->message, text) &&
	   (fix == NULL || (it->fix && strstr(it->fix, fix))),
	   "%s: %s %s", what, name, it ? it->message : "missing");
	if (it && fix && (!it->fix || !strstr(it->fix, fix)))
		printf("#   fix: %s\n", it->fix ? it->fix : "(none)");
	hostcheck_report_clear(&r);
}

static void set_driver(struct hostcheck_facts *f, size_t i, const char *drv,
		       const char *module)
{
	struct hostcheck_intent *in = &f->intent;

	free(f->pci.fns[i].driver);
	f->pci.fns[i].driver = drv ? xstrdup(drv) : NULL;
	if (drv == NULL)
		return;
	in->drivers = xreallocarray(in->drivers, in->n_drivers + 1,
				    sizeof(*in->drivers));
	in->drivers[in->n_drivers++] = (struct hostcheck_driver){
		.name = xstrdup(drv), .module = module ? xstrdup(module) : NULL };
}

static void test_compare(void)
{
	struct hostcheck_facts f;
	struct hostcheck_report r = { 0 };

	setup_host(&f);
	expect(&f, "setup", HOSTCHECK_OK, "host-setup (grub, initramfs-tools) "
	       "changed /etc/default/grub, /etc/modprobe.d/vfio.conf", NULL,
	       "right");
	expect(&f, "setup-args", HOSTCHECK_OK, "intel_iommu=on iommu=pt "
	       "vfio-pci.ids=10de:1b80,10de:10f0 in effect (host-setup set "
	       "them in /etc/default/grub GRUB_CMDLINE_LINUX_DEFAULT)", NULL,
	       "right");
	expect(&f, "setup-driver", HOSTCHECK_OK, "0000:01:00.0, 0000:01:00.1 "
	       "on vfio-pci", NULL, "right");
	expect(&f, "setup-group", HOSTCHECK_OK, "group 1 viable", NULL,
	       "right: a root port may keep pcieport");
	judged(&f, &r, "setup");
	ok(r.n == 17 && strcmp(r.items[13].name, "setup") == 0 &&
	   strcmp(r.items[16].name, "setup-group") == 0,
	   "the four setup checks come last");
	hostcheck_report_clear(&r);

	/* On trial: in effect now, gone at the next boot. */
	f.intent.one_shot = true;
	expect(&f, "setup-args", HOSTCHECK_WARN, "in effect, but "
	       "intel_iommu=on iommu=pt vfio-pci.ids=10de:1b80,10de:10f0 only "
	       "for this boot (a trial", "vmctl host-setup --confirm",
	       "the one-shot boot: confirm");
	strv_push(&f.intent.tried, "intel_iommu=on");
	expect(&f, "setup-args", HOSTCHECK_WARN, "but intel_iommu=on only for "
	       "this boot", "--confirm", "only the tried ones are named");
	free(f.cmdline);
	f.cmdline = xstrdup("ro iommu=pt vfio-pci.ids=10de:1b80,10de:10f0");
	expect(&f, "setup-args", HOSTCHECK_WARN, "not on the running kernel's "
	       "command line: intel_iommu=on; host-setup set them in "
	       "/etc/default/grub GRUB_CMDLINE_LINUX_DEFAULT, but host-setup "
	       "tried them for one boot only", "try them once more",
	       "the trial boot came and went: a warning");
	free(f.cmdline);
	f.cmdline = xstrdup("ro intel_iommu=on vfio-pci.ids=10de:1b80,"
			    "10de:10f0");
	expect(&f, "setup-args", HOSTCHECK_FAIL, "not on the running kernel's "
	       "command line: iommu=pt", "boot the default entry",
	       "a permanent argument missing is no trial's");
	f.intent.one_shot = false;
	strv_clear(&f.intent.tried);

	/* The arguments. */
	free(f.cmdline);
	f.cmdline = xstrdup("ro quiet iommu=pt vfio-pci.ids=10de:1b80 -- "
			    "intel_iommu=on");
	expect(&f, "setup-args", HOSTCHECK_FAIL, "not on the running kernel's "
	       "command line: intel_iommu=on, vfio-pci.ids=10de:1b80,10de:10f0"
	       " (in effect: vfio-pci.ids=10de:1b80); host-setup set them in "
	       "/etc/default/grub GRUB_CMDLINE_LINUX_DEFAULT, but "
	       "/etc/default/grub and /boot/grub/grub.cfg carry them",
	       "boot the default entry", "another entry booted; init's words "
	       "do not count");
	f.intent.bootmenu_has = false;
	expect(&f, "setup-args", HOSTCHECK_FAIL, "but /boot/grub/grub.cfg has "
	       "no boot entry with them: update-grub has not run since",
	       "run update-grub", "grub.cfg not rebuilt");
	f.intent.kargs_override = xstrdup("/etc/default/grub.d/50-cloud.cfg");
	expect(&f, "setup-args", HOSTCHECK_FAIL, "but /etc/default/grub.d/"
	       "50-cloud.cfg sets GRUB_CMDLINE_LINUX_DEFAULT after it, without "
	       "them", "add them to /etc/default/grub.d/50-cloud.cfg's",
	       "a drop-in resets the variable");
	f.intent.kargs_file_has = false;
	expect(&f, "setup-args", HOSTCHECK_FAIL, "but /etc/default/grub no "
	       "longer carries them", "rerun vmctl host-setup",
	       "the file changed since");
	f.intent.one_shot = true;
	expect(&f, "setup-args", HOSTCHECK_WARN, "for one boot only", NULL,
	       "one-shot arguments: a warning");
	f.intent.booted = 500;
	expect(&f, "setup-args", HOSTCHECK_FAIL, "not rebooted since",
	       "reboot", "no reboot comes first");
	expect(&f, "setup", HOSTCHECK_FAIL, "the host has not rebooted since "
	       "host-setup changed /etc/default/grub", "reboot", "no reboot");
	f.intent.booted = 0;
	expect(&f, "setup", HOSTCHECK_OK, "changed", NULL,
	       "boot time unknown: no claim");
	f.intent.regen_pending = true;
	expect(&f, "setup", HOSTCHECK_FAIL, "interrupted before it rebuilt "
	       "the boot files", "rerun vmctl host-setup", "regen_pending");
	strv_clear(&f.intent.kargs);
	expect(&f, "setup-args", HOSTCHECK_WARN, "no kernel argument of "
	       "host-setup's is found", NULL, "no arguments found");
	hostcheck_facts_clear(&f);

	/* The drivers. */
	setup_host(&f);
	set_driver(&f, 1, "nouveau", "nouveau");
	strv_clear(&f.intent.softdeps);
	expect(&f, "setup-driver", HOSTCHECK_FAIL, "0000:01:00.0 is on "
	       "nouveau, not vfio-pci: no `softdep nouveau pre: vfio-pci` in "
	       "/etc/modprobe.d/vfio.conf", "it writes the softdep",
	       "softdep missing");
	strv_push(&f.intent.softdeps, "nouveau");
	f.intent.initrd_has_vfio = false;
	expect(&f, "setup-driver", HOSTCHECK_FAIL, "/etc/initramfs-tools/"
	       "modules does not put vfio_pci in the initramfs, which loads "
	       "nouveau first", NULL, "initramfs config");
	f.intent.initrd_has_vfio = true;
	f.intent.initrd_older_than = xstrdup("/etc/modprobe.d/vfio.conf");
	expect(&f, "setup-driver", HOSTCHECK_FAIL, "/boot/initrd.img-6.1.0-"
	       "18-amd64 is older than /etc/modprobe.d/vfio.conf",
	       "update-initramfs -u -k all", "initramfs not rebuilt");
	free(f.intent.initrd);
	f.intent.initrd = xstrdup("dracut");
	expect(&f, "setup-driver", HOSTCHECK_FAIL, "older than",
	       "dracut -f --regenerate-all", "dracut's command");
	free(f.intent.initrd_older_than);
	f.intent.initrd_older_than = NULL;
	expect(&f, "setup-driver", HOSTCHECK_FAIL, "look right", "vmctl bind "
	       "0000:01:00.0", "no cause found");
	free(f.intent.drivers[0].module);
	f.intent.drivers[0].module = NULL;
	expect(&f, "setup-driver", HOSTCHECK_FAIL, "nouveau is built into the "
	       "kernel", NULL, "built-in driver");
	strv_clear(&f.intent.ids);
	free(f.cmdline);
	f.cmdline = xstrdup("intel_iommu=on iommu=pt");
	expect(&f, "setup-driver", HOSTCHECK_FAIL, "its ids 10de:1b80 are in "
	       "neither vfio-pci.ids nor `options vfio-pci ids=`", NULL,
	       "ids not covered");
	strv_push(&f.intent.by_address, "0000:01:00.0");
	expect(&f, "setup-driver", HOSTCHECK_FAIL, "built into", NULL,
	       "bound by address: ids need not cover it");
	set_driver(&f, 2, NULL, NULL);
	f.vfio_pci = false;
	expect(&f, "setup-driver", HOSTCHECK_FAIL, "; 0000:01:00.1 is on no "
	       "driver, not vfio-pci: vfio_pci is not loaded", NULL,
	       "two functions, each with its cause");
	strv_push(&f.intent.functions, "0000:0a:00.0");
	expect(&f, "setup-driver", HOSTCHECK_FAIL, "0000:0a:00.0 is not on "
	       "this host", NULL, "a function gone");
	strv_clear(&f.intent.functions);
	expect(&f, "setup-driver", HOSTCHECK_WARN, "name no PCI function",
	       NULL, "no function");
	hostcheck_facts_clear(&f);

	/* The groups. */
	setup_host(&f);
	f.pci.fns[3].iommu_group = 1;
	expect(&f, "setup-group", HOSTCHECK_FAIL, "not viable, so VFIO refuses "
	       "the card: group 1 holds 0000:00:1f.3 (class 0403) "
	       "[snd_hda_intel], not on vfio-pci", "bind 0000:00:1f.3 too",
	       "a companion on its driver");
	free(f.pci.fns[3].driver);
	f.pci.fns[3].driver = xstrdup("pci-stub");
	expect(&f, "setup-group", HOSTCHECK_OK, "group 1 viable", NULL,
	       "a companion on pci-stub");
	f.pci.extras = xcalloc(1, sizeof(*f.pci.extras));
	f.pci.extras[0] = (struct pci_group_extra){ .group = 1,
		.name = xstrdup("platform-dev") };
	f.pci.n_extras = 1;
	expect(&f, "setup-group", HOSTCHECK_FAIL, "group 1 holds "
	       "platform-dev, which is no PCI device", NULL, "a non-PCI member");
	for (size_t i = 0; i < f.pci.n; i++)
		f.pci.fns[i].iommu_group = -1;
	expect(&f, "setup-group", HOSTCHECK_WARN, "no chosen function is in "
	       "an IOMMU group", NULL, "no groups");
	hostcheck_facts_clear(&f);

	/* The manifest. */
	setup_host(&f);
	f.intent.error = xstrdup("not a JSON object");
	f.intent.manifest = xstrdup("/var/lib/vmctl/host-setup/manifest.json");
	expect(&f, "setup", HOSTCHECK_WARN, "/var/lib/vmctl/host-setup/"
	       "manifest.json: not a JSON object: what host-setup intended "
	       "is not compared", NULL, "a corrupt manifest");
	ok(judged(&f, &r, "setup-args") == NULL, "a corrupt manifest: nothing "
	   "compared");
	hostcheck_report_clear(&r);
	f.intent.present = false;
	ok(judged(&f, &r, "setup") == NULL && r.n == 13, "no manifest: the "
	   "checks of before");
	hostcheck_report_clear(&r);
	hostcheck_facts_clear(&f);
}

int main(void)
{
	test_manifest();
	test_grub();
	test_kargs();
	test_modprobe();
	test_compare();
	return tap_done();
}
