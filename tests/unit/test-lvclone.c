// SPDX-License-Identifier: GPL-2.0-or-later
/* clone with --connect, the pure part (lvclone.c): what SRC's domain XML
 * names, and the refusals. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/lvclone.h"
#include "vmctl/xalloc.h"

static const char domain_xml[] =
	"<domain type='qemu'><name>src</name>"
	"<os><type arch='x86_64'>hvm</type>"
	"<kernel>/pool/base-sha256-aa.raw.1</kernel>"
	"<initrd>/pool/base-sha256-bb.raw.2</initrd></os>"
	"<devices>"
	"<disk type='file' device='cdrom'><source file='/pool/base-sha256-cc.raw.3'/></disk>"
	"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
	"<source file='/pool/src.qcow2'/>"
	"<backingStore type='file'><format type='raw'/>"
	"<source file='/pool/base-sha256-dd.raw.4'/><backingStore/></backingStore>"
	"<target dev='vda' bus='virtio'/></disk>"
	"<disk type='file' device='disk'><source file='/pool/src-seed.iso'/>"
	"<target dev='vdb' bus='virtio'/><readonly/></disk>"
	"</devices></domain>";

static void test_parse(void)
{
	struct lvclone_src s;
	struct vmctl_error *e = NULL;

	ok(lvclone_src_parse(domain_xml, &s, &e) == 0, "parses");
	is_str(s.overlay, "/pool/src.qcow2", "the first disk's source");
	is_str(s.base, "/pool/base-sha256-dd.raw.4", "its backing file");
	is_str(s.base_format, "raw", "its backing format");
	is_str(s.kernel, "/pool/base-sha256-aa.raw.1", "kernel");
	is_str(s.initrd, "/pool/base-sha256-bb.raw.2", "initrd");
	is_str(s.cdrom, "/pool/base-sha256-cc.raw.3", "cdrom");
	lvclone_src_clear(&s);

	ok(lvclone_src_parse("<domain><name>x</name></domain>", &s, &e) == 0,
	   "a domain with no files");
	ok(s.overlay == NULL && s.base == NULL && s.kernel == NULL &&
	   s.initrd == NULL && s.cdrom == NULL, "names none");
	lvclone_src_clear(&s);

	ok(lvclone_src_parse("<domain", &s, &e) < 0 && e != NULL,
	   "XML that does not parse is an error");
	vmctl_error_free(e);
}

static char *check(struct lvclone_check c)
{
	struct vmctl_error *e = NULL;
	char *out;

	c.src = "src";
	c.uri = "qemu:///system";
	if (lvclone_check(&c, &e) == 0)
		return xstrdup("ok");
	out = xasprintf("%d %s", e->status, e->message);
	vmctl_error_free(e);
	return out;
}

static void test_check(void)
{
	struct {
		struct lvclone_check c;
		const char *want;
	} t[] = {
		{ { .dst = "dst", .state = VM_STOPPED }, "ok" },
		{ { .dst = "dst", .state = VM_CRASHED }, "ok" },
		{ { .dst = "Dst", .state = VM_STOPPED },
		  "64 qemu:///system: invalid VM name \"Dst\"" },
		{ { .dst = "src", .state = VM_STOPPED },
		  "64 qemu:///system: a clone needs a name of its own (src is the source)" },
		{ { .dst = "dst", .state = VM_STOPPED, .dst_domain = true },
		  "1 qemu:///system: a VM named \"dst\" already exists" },
		{ { .dst = "dst", .state = VM_RUNNING },
		  "1 qemu:///system: VM src is running: stop it first (a clone copies a disk nothing is writing)" },
		{ { .dst = "dst", .state = VM_SAVED },
		  "1 qemu:///system: VM src holds a saved state (its RAM in its disk): start it and stop it before cloning" },
		{ { .dst = "dst", .state = VM_STOPPED, .dst_volume = "dst-seed.iso" },
		  "1 qemu:///system: volume dst-seed.iso of the pool exists (remove it, or pick another name)" },
		{ { .dst = "dst", .state = VM_STOPPED, .n_snapshots = 2 },
		  "1 qemu:///system: VM src has 2 snapshots: through libvirt a clone copies its disk file, snapshots and all (delete them first)" },
		{ { .dst = "dst", .state = VM_STOPPED, .linked = true },
		  "64 --connect qemu:///system: a linked clone is not supported through libvirt (vmctl's libvirt volumes have no shared layers): make a full clone" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = check(t[i].c);

		is_str(got, t[i].want, "check %zu", i);
		free(got);
	}
}

int main(void)
{
	test_parse();
	test_check();
	return tap_done();
}
