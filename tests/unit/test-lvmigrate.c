// SPDX-License-Identifier: GPL-2.0-or-later
/* migrate and move, the pure parts (lvmigrate-plan.c): flags, the migrate
 * URI, the refusal of host devices, the files a domain has in the pool,
 * the XML rewritten with the destination's paths. */
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>

#include "tap.h"
#include "vmctl/lvmigrate.h"
#include "vmctl/lvstore.h"
#include "vmctl/xalloc.h"

#define POOL "/var/lib/libvirt/images/vmctl"
#define BASE POOL "/base-sha256-ab12.qcow2.0a1b2c3d"
#define KERNEL POOL "/base-sha256-cd34.raw.11223344"

/* What libvirt-xml.c makes, as libvirt gives it back (abridged). */
static const char domain_xml[] =
	"<domain type='qemu'>\n"
	"  <name>vm1</name>\n"
	"  <os>\n"
	"    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>\n"
	"    <kernel>" KERNEL "</kernel>\n"
	"    <initrd>" POOL "/base-sha256-ef56.raw.55667788</initrd>\n"
	"  </os>\n"
	"  <devices>\n"
	"    <disk type='file' device='disk'>\n"
	"      <driver name='qemu' type='qcow2'/>\n"
	"      <source file='" POOL "/vm1.qcow2'/>\n"
	"      <backingStore type='file'>\n"
	"        <format type='qcow2'/>\n"
	"        <source file='" BASE "'/>\n"
	"        <backingStore/>\n"
	"      </backingStore>\n"
	"      <target dev='vda' bus='virtio'/>\n"
	"    </disk>\n"
	"    <disk type='file' device='cdrom'>\n"
	"      <source file='" POOL "/vm1-seed.iso'/>\n"
	"      <readonly/>\n"
	"    </disk>\n"
	"    <serial type='pty'><log file='/var/log/libvirt/qemu/vm1-serial"
	".log'/></serial>\n"
	"    <interface type='network'><source network='vmctl'/></interface>\n"
	"  </devices>\n"
	"</domain>\n";

static char *with_devices(const char *extra)
{
	const char *end = strstr(domain_xml, "  </devices>");

	return xasprintf("%.*s%s%s", (int)(end - domain_xml), domain_xml,
			 extra, end);
}

static void test_flags_and_uri(void)
{
	unsigned f = lvmigrate_flags();
	char *s;

	ok(f & VIR_MIGRATE_LIVE, "live");
	ok(f & VIR_MIGRATE_PERSIST_DEST, "persistent there");
	ok(f & VIR_MIGRATE_UNDEFINE_SOURCE, "undefined here");
	ok(f & VIR_MIGRATE_NON_SHARED_INC, "the disk's top layer copied");
	ok(!(f & VIR_MIGRATE_NON_SHARED_DISK), "not the whole chain");
	ok(!(f & VIR_MIGRATE_PEER2PEER), "managed by vmctl (no p2p)");

	s = lvmigrate_migrate_uri("qemu+ssh://root@10.77.0.2/system?keyfile="
				  "/k&no_verify=0", NULL);
	is_str(s, "tcp://10.77.0.2", "remote: the host of --to");
	free(s);
	s = lvmigrate_migrate_uri("qemu+ssh://root@[fd00::2]:2222/system",
				  NULL);
	is_str(s, "tcp://[fd00::2]", "IPv6 in brackets, no ssh port");
	free(s);
	s = lvmigrate_migrate_uri("qemu:///system", NULL);
	ok(s == NULL, "local: libvirt's choice");
	free(s);
	s = lvmigrate_migrate_uri("qemu:///system", "tcp://10.77.0.1");
	is_str(s, "tcp://10.77.0.1", "--migrate-uri wins");
	free(s);
}

static void test_check(void)
{
	char *reason = NULL, *xml;

	ok(lvmigrate_check(domain_xml, &reason) == 0 && reason == NULL,
	   "no host device: may migrate");
	xml = with_devices("    <hostdev mode='subsystem' type='pci' "
			   "managed='yes'><source><address domain='0x0000' "
			   "bus='0x01' slot='0x00' function='0x1'/></source>"
			   "</hostdev>\n");
	ok(lvmigrate_check(xml, &reason) < 0, "a PCI hostdev is refused");
	ok(reason && strstr(reason, "pci 0000:01:00.1") &&
	   strstr(reason, "VFIO devices cannot migrate") &&
	   strstr(reason, "vmctl move"), "why, which, and what to do: %s",
	   reason ? reason : "(null)");
	free(reason);
	free(xml);
	xml = with_devices("    <interface type='hostdev' managed='yes'>"
			   "<source><address type='pci' domain='0x0000' "
			   "bus='0x02' slot='0x10' function='0x0'/></source>"
			   "</interface>\n");
	ok(lvmigrate_check(xml, &reason) < 0, "an SR-IOV interface too");
	free(reason);
	free(xml);
	xml = with_devices("    <hostdev mode='subsystem' type='usb'>"
			   "<source><vendor id='0x1234'/></source></hostdev>\n");
	ok(lvmigrate_check(xml, &reason) < 0 && strstr(reason, "usb"),
	   "a USB hostdev too");
	free(reason);
	free(xml);
	ok(lvmigrate_check("<domain", &reason) < 0 && reason != NULL,
	   "XML that does not parse is refused");
	free(reason);
}

static void test_base_of(void)
{
	static const struct {
		const char *vol, *digest, *format;
	} cases[] = {
		{ "base-sha256-ab12.qcow2.0a1b2c3d", "sha256:ab12", "qcow2" },
		{ "base-sha256-ab12.qcow2", "sha256:ab12", "qcow2" },
		{ "base-sha512-ff.raw.00000000", "sha512:ff", "raw" },
		{ "base-sha256-ab12.qcow2.0a1b2c3d.ok", NULL, NULL },
		{ "base-sha256-ab12.qcow2.0a1b", NULL, NULL },
		{ "base-sha256-XY.qcow2", NULL, NULL },
		{ "base-sha256-ab12.", NULL, NULL },
		{ "base-sha256ab12.qcow2", NULL, NULL },
		{ "vm1.qcow2", NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d, *f;
		bool is = lvstore_base_parse(cases[i].vol, &d, &f);

		if (cases[i].digest == NULL) {
			ok(!is && d == NULL && f == NULL, "%s: not a base",
			   cases[i].vol);
			continue;
		}
		ok(is, "%s: a base", cases[i].vol);
		is_str(d, cases[i].digest, "%s: digest", cases[i].vol);
		is_str(f, cases[i].format, "%s: format", cases[i].vol);
		free(d);
		free(f);
	}
}

static void test_files(void)
{
	struct lvmigrate_files fs;
	struct vmctl_error *err = NULL;
	char *xml;

	ok(lvmigrate_files(domain_xml, POOL, "vm1", &fs, &err) == 0,
	   "files");
	ok(fs.n == 5, "kernel, initrd, overlay, base, seed: %zu", fs.n);
	if (fs.n == 5) {
		is_str(fs.v[0].path, KERNEL, "kernel first (document order)");
		ok(fs.v[0].kind == LVMIGRATE_BASE, "the kernel is a base");
		is_str(fs.v[0].digest, "sha256:cd34", "its digest");
		is_str(fs.v[0].format, "raw", "its format");
		ok(fs.v[2].kind == LVMIGRATE_DISK, "the overlay");
		is_str(fs.v[2].volume, "vm1.qcow2", "its volume");
		is_str(fs.v[2].backing, BASE, "its backing file");
		is_str(fs.v[2].backing_format, "qcow2", "its backing format");
		ok(fs.v[3].kind == LVMIGRATE_BASE, "the base");
		ok(fs.v[4].kind == LVMIGRATE_SEED, "the seed");
	}
	lvmigrate_files_clear(&fs);

	/* the serial log in the pool (where create puts it) is the VM's */
	{
		const char *at = strstr(domain_xml, "/var/log/libvirt/qemu");
		char *inpool = at == NULL ? NULL :
			xasprintf("%.*s%s%s", (int)(at - domain_xml),
				  domain_xml, POOL,
				  at + strlen("/var/log/libvirt/qemu"));

		ok(inpool != NULL && lvmigrate_files(inpool, POOL, "vm1", &fs,
						     &err) == 0 && fs.n == 6 &&
		   fs.v[5].kind == LVMIGRATE_LOG &&
		   strcmp(fs.v[5].volume, "vm1-serial.log") == 0,
		   "the serial log, a new one there");
		lvmigrate_files_clear(&fs);
		free(inpool);
	}

	/* the same file twice is listed once; files elsewhere not at all */
	xml = with_devices("    <disk type='file' device='cdrom'><source "
			   "file='" POOL "/vm1-seed.iso'/></disk>\n"
			   "    <disk type='file' device='cdrom'><source "
			   "file='/srv/iso/x.iso'/></disk>\n"
			   "    <disk type='file' device='cdrom'><source "
			   "file='" POOL "/sub/x.iso'/></disk>\n");
	ok(lvmigrate_files(xml, POOL, "vm1", &fs, &err) == 0 && fs.n == 5,
	   "each file once, only the pool's own");
	lvmigrate_files_clear(&fs);
	free(xml);

	xml = with_devices("    <disk type='file' device='disk'><source "
			   "file='" POOL "/other.qcow2'/></disk>\n");
	ok(lvmigrate_files(xml, POOL, "vm1", &fs, &err) == 0 && fs.n == 6 &&
	   fs.v[5].kind == LVMIGRATE_OTHER, "another VM's volume: other");
	lvmigrate_files_clear(&fs);
	free(xml);

	ok(lvmigrate_files("<nope", POOL, "vm1", &fs, &err) < 0 && err,
	   "XML that does not parse");
	vmctl_error_free(err);
}

static void test_rewrite(void)
{
	const char *from[] = { BASE, KERNEL };
	const char *to[] = { POOL "/base-sha256-ab12.qcow2.ffffffff",
			     POOL "/base-sha256-cd34.raw.eeeeeeee" };
	char *x = lvmigrate_rewrite(domain_xml, from, to, 2);

	ok(x != NULL, "rewritten");
	ok(x && strstr(x, "<source file=\"" POOL
		       "/base-sha256-ab12.qcow2.ffffffff\"/>"),
	   "the backing file's path");
	ok(x && strstr(x, "<kernel>" POOL
		       "/base-sha256-cd34.raw.eeeeeeee</kernel>"),
	   "the kernel's path");
	ok(x && !strstr(x, BASE) && !strstr(x, KERNEL), "no old path left");
	ok(x && strstr(x, POOL "/vm1.qcow2") && strstr(x, "vm1-seed.iso") &&
	   strstr(x, "/var/log/libvirt/qemu/vm1-serial.log"),
	   "the rest as it was");
	free(x);
	x = lvmigrate_rewrite(domain_xml, from, to, 0);
	ok(x && strstr(x, BASE), "nothing to replace: the same document");
	free(x);
	{
		/* only whole values: a path that merely starts the same */
		const char *f1[] = { POOL "/vm1" };
		const char *t1[] = { "/elsewhere/vm1" };

		x = lvmigrate_rewrite(domain_xml, f1, t1, 1);
		ok(x && !strstr(x, "/elsewhere"), "whole values only");
		free(x);
	}
	ok(lvmigrate_rewrite("<broken", from, to, 2) == NULL,
	   "XML that does not parse: NULL");
}

int main(void)
{
	test_flags_and_uri();
	test_check();
	test_base_of();
	test_files();
	test_rewrite();
	return tap_done();
}
