// SPDX-License-Identifier: GPL-2.0-or-later
/* Snapshots on a libvirt host, the pure parts (lvsnapshot.c): the XML
 * sent, libvirt's snapshot XML read back, the domain facts, the rules,
 * the rows as --connect prints them. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/lvsnapshot.h"
#include "vmctl/xalloc.h"

/* As libvirt 9.0 gives it (virDomainSnapshotGetXMLDesc, abridged). */
static const char running_xml[] =
	"<domainsnapshot>\n"
	"  <name>m1</name>\n"
	"  <state>running</state>\n"
	"  <parent>\n"
	"    <name>d1</name>\n"
	"  </parent>\n"
	"  <creationTime>1796290014</creationTime>\n"
	"  <memory snapshot='internal'/>\n"
	"  <disks>\n"
	"    <disk name='vda' snapshot='internal'/>\n"
	"    <disk name='vdb' snapshot='no'/>\n"
	"  </disks>\n"
	"  <domain type='qemu'>\n"
	"    <name>vm1</name>\n"
	"    <devices><hostdev mode='subsystem' type='pci'/></devices>\n"
	"  </domain>\n"
	"  <active>1</active>\n"
	"</domainsnapshot>\n";

static const char shutoff_xml[] =
	"<domainsnapshot>\n"
	"  <name>d1</name>\n"
	"  <state>shutoff</state>\n"
	"  <creationTime>1796290027</creationTime>\n"
	"  <memory snapshot='no'/>\n"
	"</domainsnapshot>\n";

static void test_parse(void)
{
	struct lvsnapshot s;
	struct vmctl_error *err = NULL;

	ok(lvsnapshot_parse(running_xml, &s, &err) == 0, "running: parses");
	is_str(s.name, "m1", "running: name");
	is_str(s.parent, "d1", "running: parent (not the domain's name)");
	ok(s.created == 1796290014, "running: creationTime");
	ok(s.memory, "running: holds memory");
	lvsnapshot_clear(&s);

	ok(lvsnapshot_parse(shutoff_xml, &s, &err) == 0, "shutoff: parses");
	ok(s.parent == NULL, "shutoff: a root");
	ok(!s.memory, "shutoff: disks only");
	lvsnapshot_clear(&s);

	ok(lvsnapshot_parse("<domainsnapshot><name>p</name><state>paused"
			    "</state><creationTime>x</creationTime>"
			    "</domainsnapshot>", &s, &err) == 0 &&
	   s.memory && s.created == 0, "paused: memory; a bad time is 0");
	lvsnapshot_clear(&s);
	ok(lvsnapshot_parse("<domainsnapshot><name>e</name><state>disk-"
			    "snapshot</state></domainsnapshot>", &s,
			    &err) == 0 && !s.memory,
	   "disk-snapshot: no memory");
	lvsnapshot_clear(&s);

	ok(lvsnapshot_parse("<domain><name>x</name></domain>", &s,
			    &err) < 0 && err != NULL &&
	   err->status == VMCTL_EXIT_FAILURE, "not a domainsnapshot: 1");
	vmctl_error_free(err);
	err = NULL;
	ok(lvsnapshot_parse("<domainsnapshot><state>running</state>"
			    "</domainsnapshot>", &s, &err) < 0,
	   "no name: refused");
	vmctl_error_free(err);
	err = NULL;
	ok(lvsnapshot_parse("<domainsnapshot", &s, &err) < 0,
	   "broken XML: refused");
	vmctl_error_free(err);
}

static void test_create_xml(void)
{
	cleanup_free char *mem = lvsnapshot_create_xml("m1", true);
	cleanup_free char *disk = lvsnapshot_create_xml("d1", false);

	is_str(mem, "<domainsnapshot>\n  <name>m1</name>\n"
	       "  <memory snapshot='internal'/>\n</domainsnapshot>\n",
	       "--memory: memory internal");
	is_str(disk, "<domainsnapshot>\n  <name>d1</name>\n"
	       "  <memory snapshot='no'/>\n</domainsnapshot>\n",
	       "disk only: no memory");
}

static void test_facts(void)
{
	bool gpu, uefi;

	ok(lvsnapshot_domain_facts("<domain><os><loader readonly='yes' "
				   "type='pflash'>/x/OVMF_CODE.fd</loader>"
				   "<nvram>/n</nvram></os><devices><hostdev "
				   "mode='subsystem' type='pci'/></devices>"
				   "</domain>", &gpu, &uefi) == 0 &&
	   gpu && uefi, "hostdev and pflash");
	ok(lvsnapshot_domain_facts("<domain><os><type>hvm</type></os>"
				   "<devices><interface type='hostdev'/>"
				   "</devices></domain>", &gpu, &uefi) == 0 &&
	   gpu && !uefi, "interface type hostdev is a passed-through device");
	ok(lvsnapshot_domain_facts("<domain><os firmware='efi'/><devices>"
				   "<interface type='network'/><disk/>"
				   "</devices></domain>", &gpu, &uefi) == 0 &&
	   !gpu && uefi, "firmware='efi' is UEFI; a network NIC no GPU");
	ok(lvsnapshot_domain_facts("<domain><os><kernel>/k</kernel></os>"
				   "</domain>", &gpu, &uefi) == 0 &&
	   !gpu && !uefi, "a plain domain");
	ok(lvsnapshot_domain_facts("<domain", &gpu, &uefi) < 0,
	   "broken XML: -1");
}

/* The refusal's message, or "" when allowed. */
static char *verdict_of(enum snapshot_op op, struct snapshot_vm vm, bool uefi)
{
	struct vmctl_error *err = NULL;
	char *msg;

	vm.name = "vm1";
	if (lvsnapshot_plan(op, &vm, uefi, &err) == 0)
		return xstrdup("");
	msg = xasprintf("%d %s", err->status, err->message);
	vmctl_error_free(err);
	return msg;
}

static char *verdict(enum snapshot_op op, struct snapshot_vm vm)
{
	return verdict_of(op, vm, false);
}

#define has(s, part) (strstr((s), (part)) != NULL)

static void test_plan(void)
{
	struct snapshot_vm run = { .running = true };
	struct snapshot_vm run_mem = { .running = true, .memory = true };
	struct snapshot_vm off = { 0 };
	struct snapshot_vm off_mem = { .memory = true };
	struct snapshot_vm gpu_off = { .gpu = true };
	struct snapshot_vm gpu_run = { .gpu = true, .running = true };
	struct snapshot_vm uefi_run = { .running = true };
	cleanup_free char *a = verdict(SNAPSHOT_CREATE, run_mem);
	cleanup_free char *b = verdict(SNAPSHOT_CREATE, off);
	cleanup_free char *c = verdict(SNAPSHOT_CREATE, run);
	cleanup_free char *d = verdict(SNAPSHOT_CREATE, off_mem);
	cleanup_free char *e = verdict_of(SNAPSHOT_CREATE, off, true);
	cleanup_free char *f = verdict_of(SNAPSHOT_SAVE, uefi_run, true);
	cleanup_free char *g = verdict(SNAPSHOT_CREATE, gpu_off);
	cleanup_free char *h = verdict(SNAPSHOT_SAVE, gpu_run);
	cleanup_free char *i = verdict(SNAPSHOT_REVERT, run);
	cleanup_free char *j = verdict(SNAPSHOT_REVERT, run_mem);
	cleanup_free char *k = verdict(SNAPSHOT_REVERT, off_mem);
	cleanup_free char *l = verdict(SNAPSHOT_DELETE, gpu_run);
	cleanup_free char *m = verdict(SNAPSHOT_SAVE, off);
	cleanup_free char *n = verdict(SNAPSHOT_CREATE,
				       (struct snapshot_vm){ .gpu = true,
							     .memory = true });

	is_str(a, "", "running --memory: allowed");
	is_str(b, "", "stopped disk-only: allowed");
	ok(has(c, "1 VM vm1 is running: libvirt takes an internal snapshot "
	       "of a running VM only with its memory"),
	   "running disk-only: refused (%s)", c);
	ok(has(d, "1 VM vm1 is not running: it has no memory to snapshot"),
	   "stopped --memory: refused (%s)", d);
	ok(has(e, "1 VM vm1 boots UEFI: libvirt takes no internal snapshot"),
	   "UEFI: even a stopped disk-only one refused (%s)", e);
	is_str(f, "", "UEFI save: libvirt's managed save may");
	is_str(g, "", "GPU, stopped, disk only: allowed");
	ok(has(h, "has a passed-through GPU: cannot save it"),
	   "GPU save: refused (%s)", h);
	ok(has(n, "has a passed-through GPU: cannot snapshot it with its "
	       "memory"), "GPU --memory: the GPU's reason first (%s)", n);
	ok(has(i, "stop it first"), "running revert to disk-only: refused");
	is_str(j, "", "running revert to --memory: allowed");
	is_str(k, "", "stopped revert to --memory: allowed");
	ok(has(l, "while it runs"), "GPU running delete: refused (%s)", l);
	ok(has(m, "not running: it has no memory to save"),
	   "stopped save: refused (%s)", m);
}

static void test_rows(void)
{
	struct lvsnapshot *v = xcalloc(3, sizeof(*v));
	struct snapshot_record rec;
	struct snapshot_image *img;
	struct snapshot_row *rows;
	size_t n_img, n;
	cJSON *a;
	char *text;

	/* libvirt's topological order, a child listed before its sibling's
	 * child: the rows are a tree. */
	v[0] = (struct lvsnapshot){ xstrdup("root"), NULL, 10, false };
	v[1] = (struct lvsnapshot){ xstrdup("b"), xstrdup("root"), 30, true };
	v[2] = (struct lvsnapshot){ xstrdup("a"), xstrdup("root"), 20, false };
	lvsnapshot_record(v, 3, "b", true, &rec, &img, &n_img);
	ok(rec.saved && n_img == 3, "record: saved, an image a snapshot");
	n = snapshot_rows(&rec, img, n_img, &rows);
	ok(n == 3, "three rows");
	is_str(rows[0].name, "root", "root first");
	ok(rows[1].depth == 1 && rows[2].depth == 1, "children one deeper");
	ok(rows[1].current && !rows[0].current && !rows[2].current,
	   "b is current");
	ok(rows[1].memory && !rows[2].memory, "memory per snapshot");
	ok(rows[0].problem == NULL && rows[1].problem == NULL &&
	   rows[2].problem == NULL, "no problem rows");
	a = snapshot_rows_json(rows, n);
	lvsnapshot_json_remote(a, "qemu:///system");
	text = cJSON_PrintUnformatted(cJSON_GetArrayItem(a, 1));
	is_str(text, "{\"name\":\"b\",\"parent\":\"root\",\"created\":30,"
	       "\"memory\":true,\"vm_state_size\":null,\"current\":true,"
	       "\"problem\":null,\"backend\":\"libvirt\",\"host\":"
	       "\"qemu:///system\"}", "a row as --connect prints it");
	free(text);
	cJSON_Delete(a);
	free(rows);
	snapshot_images_free(img, n_img);
	snapshot_record_clear(&rec);

	lvsnapshot_record(xcalloc(1, sizeof(*v)), 0, NULL, false, &rec, &img,
			  &n_img);
	ok(snapshot_rows(&rec, img, n_img, &rows) == 0 && rec.current == NULL,
	   "no snapshots: no rows");
	free(rows);
	snapshot_images_free(img, n_img);
	snapshot_record_clear(&rec);
}

int main(void)
{
	test_parse();
	test_create_xml();
	test_facts();
	test_plan();
	test_rows();
	return tap_done();
}
