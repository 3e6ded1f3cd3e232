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

/* SRC after a linked clone: its overlay over a layer over the base, and
 * a second disk whose chain names another file. */
static const char linked_xml[] =
	"<domain type='qemu'><name>src</name><devices>"
	"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
	"<source file='/pool/src.qcow2'/>"
	"<backingStore type='file'><format type='qcow2'/>"
	"<source file='/pool/layer_src-00000002.qcow2'/>"
	"<backingStore type='file'><format type='qcow2'/>"
	"<source file='/pool/layer_old-00000001.qcow2'/>"
	"<backingStore type='file'><format type='raw'/>"
	"<source file='/pool/base-sha256-dd.raw.4'/><backingStore/></backingStore>"
	"</backingStore></backingStore>"
	"<target dev='vda' bus='virtio'/></disk>"
	"<disk type='file' device='disk'><source file='/pool/data.qcow2'/>"
	"<backingStore type='file'><format type='qcow2'/>"
	"<source file='/pool/layer_data-00000003.qcow2'/><backingStore/></backingStore>"
	"<target dev='vdb' bus='virtio'/></disk>"
	"</devices></domain>";

static void test_chain(void)
{
	struct lvclone_src s;
	struct vmctl_error *e = NULL;
	struct strv files = { 0 };
	char *joined;

	ok(lvclone_src_parse(linked_xml, &s, &e) == 0, "a linked VM parses");
	is_str(s.overlay, "/pool/src.qcow2", "its overlay");
	joined = strv_join(&s.layers, " ");
	is_str(joined, "/pool/layer_src-00000002.qcow2 "
	       "/pool/layer_old-00000001.qcow2", "its layers, top first");
	free(joined);
	is_str(s.base, "/pool/base-sha256-dd.raw.4", "the chain's last: base");
	is_str(s.base_format, "raw", "the base's format");
	lvclone_src_clear(&s);
	ok(lvclone_src_parse(domain_xml, &s, &e) == 0 && s.layers.n == 0,
	   "a created VM stands on no layer");
	lvclone_src_clear(&s);

	ok(lvclone_backing_files(linked_xml, &files) == 0, "backing files");
	joined = strv_join(&files, " ");
	is_str(joined, "/pool/layer_src-00000002.qcow2 "
	       "/pool/layer_old-00000001.qcow2 /pool/base-sha256-dd.raw.4 "
	       "/pool/layer_data-00000003.qcow2",
	       "every disk's chain, not its own source");
	free(joined);
	strv_clear(&files);
	ok(lvclone_backing_files("<domain", &files) < 0 && files.n == 0,
	   "backing files: XML that does not parse");
}

static void test_relink(void)
{
	struct lvclone_src s;
	struct vmctl_error *e = NULL;
	char *out = NULL, *again = NULL, *joined;

	ok(lvclone_relink_xml(domain_xml, "/pool/layer_src-0a0b0c0d.qcow2",
			      &out, &e) == 0, "relink");
	ok(lvclone_src_parse(out, &s, &e) == 0, "the result parses");
	is_str(s.overlay, "/pool/src.qcow2", "the overlay stays");
	joined = strv_join(&s.layers, " ");
	is_str(joined, "/pool/layer_src-0a0b0c0d.qcow2", "now on the layer");
	free(joined);
	is_str(s.base, "/pool/base-sha256-dd.raw.4", "over the old base");
	is_str(s.base_format, "raw", "its format kept");
	is_str(s.cdrom, "/pool/base-sha256-cc.raw.3", "other disks kept");
	is_str(s.kernel, "/pool/base-sha256-aa.raw.1", "the rest kept");
	lvclone_src_clear(&s);
	ok(strstr(out, "<format type=\"qcow2\"/>") != NULL,
	   "the layer's format is said: qcow2");

	ok(lvclone_relink_xml(out, "/pool/layer_src-01010101.qcow2", &again,
			      &e) == 0, "relink a linked VM again");
	ok(lvclone_src_parse(again, &s, &e) == 0, "parses");
	joined = strv_join(&s.layers, " ");
	is_str(joined, "/pool/layer_src-01010101.qcow2 "
	       "/pool/layer_src-0a0b0c0d.qcow2", "the new layer on top");
	free(joined);
	is_str(s.base, "/pool/base-sha256-dd.raw.4", "the base last");
	lvclone_src_clear(&s);
	free(out);
	free(again);

	ok(lvclone_relink_xml("<domain><name>x</name></domain>", "/l", &out,
			      &e) < 0 && out == NULL && e != NULL,
	   "a domain without a base is refused");
	is_str(e->message, "the domain's disk stands on no base", "why");
	vmctl_error_free(e);
	e = NULL;
	ok(lvclone_relink_xml("<domain", "/l", &out, &e) < 0 && e != NULL,
	   "XML that does not parse");
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
		{ { .dst = "dst", .state = VM_STOPPED, .linked = true,
		    .has_disk = true }, "ok" },
		{ { .dst = "dst", .state = VM_STOPPED, .linked = true },
		  "1 qemu:///system: VM src has no disk image to share: a linked clone stands on its disk (make a full clone)" },
		{ { .dst = "dst", .state = VM_STOPPED, .linked = true,
		    .has_disk = true, .n_snapshots = 1 },
		  "1 qemu:///system: VM src has 1 snapshot: a linked clone freezes its disk as a shared layer, snapshots and all (delete them, or make a full clone)" },
		{ { .dst = "dst", .state = VM_RUNNING, .linked = true,
		    .has_disk = true },
		  "1 qemu:///system: VM src is running: stop it first (a clone copies a disk nothing is writing)" },
		{ { .dst = "dst", .state = VM_STOPPED, .linked = true,
		    .has_disk = true, .dst_volume = "dst.qcow2" },
		  "1 qemu:///system: volume dst.qcow2 of the pool exists (remove it, or pick another name)" },
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
	test_chain();
	test_relink();
	test_check();
	return tap_done();
}
