// SPDX-License-Identifier: GPL-2.0-or-later
/* cdrom and disk resize on a libvirt host, the pure parts (lvmedia.c):
 * the CD-ROM's <disk> for virDomainUpdateDeviceFlags, its medium, the
 * overlay disk's target. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/lvmedia.h"
#include "vmctl/xalloc.h"

/* As libvirt 9.0 gives a running vmctl domain (abridged). */
static const char live_xml[] =
	"<domain type='qemu' id='7'>\n"
	"  <name>vm1</name>\n"
	"  <devices>\n"
	"    <disk type='file' device='disk'>\n"
	"      <driver name='qemu' type='qcow2' discard='unmap'/>\n"
	"      <source file='/var/lib/libvirt/images/vmctl/vm1.qcow2' "
	"index='3'/>\n"
	"      <backingStore type='file' index='4'>\n"
	"        <format type='qcow2'/>\n"
	"        <source file='/var/lib/libvirt/images/vmctl/base.qcow2'/>\n"
	"      </backingStore>\n"
	"      <target dev='vda' bus='virtio'/>\n"
	"    </disk>\n"
	"    <disk type='file' device='disk'>\n"
	"      <driver name='qemu' type='raw'/>\n"
	"      <source file='/var/lib/libvirt/images/vmctl/vm1-seed.iso'/>\n"
	"      <target dev='vdb' bus='virtio'/>\n"
	"      <readonly/>\n"
	"    </disk>\n"
	"    <disk type='file' device='cdrom'>\n"
	"      <driver name='qemu' type='raw'/>\n"
	"      <source file='/pool/base-sha256-ab.raw' index='1'/>\n"
	"      <backingStore/>\n"
	"      <target dev='sda' bus='sata'/>\n"
	"      <readonly/>\n"
	"      <boot order='2'/>\n"
	"      <alias name='sata0-0-0'/>\n"
	"      <address type='drive' controller='0' bus='0' target='0' "
	"unit='0'/>\n"
	"    </disk>\n"
	"  </devices>\n"
	"</domain>\n";

static const char plain_xml[] =
	"<domain type='qemu'><name>vm2</name><devices>"
	"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
	"<source file='/p/vm2.qcow2'/><target dev='sda' bus='sata'/></disk>"
	"</devices></domain>";

static const char empty_cd_xml[] =
	"<domain type='qemu'><name>vm3</name><devices>"
	"<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
	"<target dev='sda' bus='sata'/><readonly/></disk>"
	"</devices></domain>";

static void test_cdrom_xml(void)
{
	char *x = NULL;

	ok(lvmedia_cdrom_xml(live_xml, "/pool/new & iso.raw", &x) == 1,
	   "insert: the drive found");
	ok(x != NULL && strstr(x, "<source file=\"/pool/new &amp; "
			       "iso.raw\"/>") != NULL,
	   "insert: the new source, escaped");
	ok(x != NULL && strstr(x, "base-sha256-ab") == NULL &&
	   strstr(x, "index=") == NULL && strstr(x, "backingStore") == NULL,
	   "insert: the old medium and its chain gone");
	ok(x != NULL && strstr(x, "<target dev=\"sda\" bus=\"sata\"/>") &&
	   strstr(x, "<boot order=\"2\"/>") && strstr(x, "<readonly/>") &&
	   strstr(x, "<address type=\"drive\""),
	   "insert: target, boot order, read-only and address kept");
	ok(x != NULL && strncmp(x, "<disk type=\"file\" device=\"cdrom\">",
				33) == 0, "insert: a file cdrom disk");
	ok(x != NULL && strstr(x, "type=\"raw\"/><source") != NULL,
	   "insert: the source after the driver");
	free(x);
	x = NULL;
	ok(lvmedia_cdrom_xml(live_xml, NULL, &x) == 1 && x != NULL &&
	   strstr(x, "<source") == NULL && strstr(x, "dev=\"sda\"") != NULL,
	   "eject: the drive without a source");
	free(x);
	x = NULL;
	ok(lvmedia_cdrom_xml(plain_xml, "/x.iso", &x) == 0 && x == NULL,
	   "no cdrom drive: 0");
	ok(lvmedia_cdrom_xml("<domain", "/x.iso", &x) == -1 && x == NULL,
	   "unparsable: -1");
	ok(lvmedia_cdrom_xml("<pool/>", "/x.iso", &x) == -1,
	   "not a domain: -1");
}

static void test_cdrom_medium(void)
{
	char *m = NULL, stale[] = "x";

	ok(lvmedia_cdrom_medium(live_xml, &m) == 1, "medium: a drive");
	is_str(m, "/pool/base-sha256-ab.raw", "medium: its source");
	free(m);
	m = stale;   /* an output, overwritten: not the function's to free */
	ok(lvmedia_cdrom_medium(empty_cd_xml, &m) == 1 && m == NULL,
	   "medium: an empty drive");
	ok(lvmedia_cdrom_medium(plain_xml, &m) == 0 && m == NULL,
	   "medium: no drive");
	ok(lvmedia_cdrom_medium("not xml", &m) == -1, "medium: unparsable");
}

static void test_disk_target(void)
{
	char *t = NULL;

	ok(lvmedia_disk_target(live_xml, "vm1.qcow2", &t) == 1,
	   "target: the overlay found");
	is_str(t, "vda", "target: the overlay's, not the seed's");
	free(t);
	ok(lvmedia_disk_target(live_xml, "vm1-seed.iso", &t) == 1 &&
	   t != NULL && strcmp(t, "vdb") == 0, "target: by the volume");
	free(t);
	ok(lvmedia_disk_target(plain_xml, "vm2.qcow2", &t) == 1 &&
	   t != NULL && strcmp(t, "sda") == 0, "target: a SATA disk");
	free(t);
	ok(lvmedia_disk_target(live_xml, "base.qcow2", &t) == 0 && t == NULL,
	   "target: a backing file is not the disk");
	ok(lvmedia_disk_target(live_xml, "vm1", &t) == 0,
	   "target: the whole name only");
	ok(lvmedia_disk_target(empty_cd_xml, "vm3.qcow2", &t) == 0,
	   "target: no disk");
	ok(lvmedia_disk_target("", "vm3.qcow2", &t) == -1,
	   "target: unparsable");
}

/* boot: cdrom-once: the definition vmctl makes (CD-ROM at 1, disk at 2,
 * user aliases), as libvirt gives it back. */
static const char once_xml[] =
	"<domain type='qemu'>\n"
	"  <name>once</name>\n"
	"  <devices>\n"
	"    <disk type='file' device='disk'>\n"
	"      <source file='/pool/once.qcow2'/>\n"
	"      <target dev='vda' bus='virtio'/>\n"
	"      <boot order='2'/>\n"
	"      <alias name='ua-disk0'/>\n"
	"    </disk>\n"
	"    <disk type='file' device='cdrom'>\n"
	"      <source file='/pool/iso-sha256-ab.raw'/>\n"
	"      <target dev='sda' bus='sata'/>\n"
	"      <readonly/>\n"
	"      <boot order='1'/>\n"
	"      <alias name='ua-cdrom0'/>\n"
	"    </disk>\n"
	"  </devices>\n"
	"</domain>\n";

static void test_boot_once(void)
{
	char *cd = NULL, *disk = NULL, *out = NULL, *again = NULL;
	char *empty = NULL, *p;

	ok(lvmedia_boot_cdrom_first(once_xml, &cd, &disk) == 1,
	   "the CD-ROM boots first, a medium in");
	is_str(cd, "ua-cdrom0", "the drive's alias");
	is_str(disk, "ua-disk0", "the disk's alias");
	free(cd);
	free(disk);
	ok(lvmedia_boot_disk_first(once_xml, &out) == 1 && out != NULL,
	   "swapped");
	ok(out != NULL && strstr(out, "<boot order=\"1\"/>\n      <alias "
				 "name=\"ua-disk0\"/>") != NULL &&
	   strstr(out, "<boot order=\"2\"/>\n      <alias name=\"ua-cdrom0\""
		  "/>") != NULL, "the disk at 1, the CD-ROM at 2");
	ok(out != NULL && lvmedia_boot_cdrom_first(out, &cd, &disk) == 0 &&
	   cd == NULL && disk == NULL, "then no longer CD-ROM first");
	ok(out != NULL && lvmedia_boot_disk_first(out, &again) == 0 &&
	   again == NULL, "and nothing to swap again");
	free(out);
	/* an empty drive: the disk boots (the firmware falls through); the
	 * once waits for a start with a medium */
	empty = xstrdup(once_xml);
	p = strstr(empty, "      <source file='/pool/iso");
	memset(p, ' ', strchr(p, '\n') - p);
	ok(lvmedia_boot_cdrom_first(empty, &cd, &disk) == 0,
	   "no medium: not CD-ROM first");
	ok(lvmedia_boot_disk_first(empty, &out) == 1, "but still swappable");
	free(out);
	free(empty);
	/* libvirt's own aliases are no qdev ids vmctl chose */
	empty = xstrdup(once_xml);
	p = strstr(empty, "ua-cdrom0");
	memcpy(p, "sata0-0-0", 9);
	ok(lvmedia_boot_cdrom_first(empty, &cd, &disk) == 0 && cd == NULL,
	   "a drive without a user alias: 0");
	free(empty);
	ok(lvmedia_boot_cdrom_first(live_xml, &cd, &disk) == 0,
	   "boot: disk: not CD-ROM first");
	ok(lvmedia_boot_cdrom_first("<domain", &cd, &disk) == -1 &&
	   lvmedia_boot_disk_first("<x/>", &out) == -1, "bad XML: -1");
}

int main(void)
{
	test_cdrom_xml();
	test_cdrom_medium();
	test_disk_target();
	test_boot_once();
	return tap_done();
}
