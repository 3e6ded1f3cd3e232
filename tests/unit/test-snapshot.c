// SPDX-License-Identifier: GPL-2.0-or-later
/* Snapshots, the pure half (snapshot-tree.c): the tree record, the rules
 * that refuse, the tools and commands chosen, the list rows. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/qemu-argv.h"
#include "vmctl/snapshot-tree.h"
#include "vmctl/xalloc.h"

static char *plan_str(enum snapshot_op op, struct snapshot_vm vm)
{
	struct vmctl_error *e = NULL;
	enum snapshot_tool tool;
	char *s;

	vm.name = "w";
	if (snapshot_plan(op, &vm, &tool, &e) < 0) {
		s = xasprintf("%d %s", e->status, e->message);
		vmctl_error_free(e);
		return s;
	}
	return xstrdup(tool == SNAPSHOT_QEMU_IMG ? "qemu-img"
		       : tool == SNAPSHOT_QMP_SYNC ? "qmp-sync" : "qmp-job");
}

static void test_rules(void)
{
	struct { enum snapshot_op op; struct snapshot_vm vm; const char *want; } c[] = {
		{ SNAPSHOT_CREATE, { .running = false }, "qemu-img" },
		{ SNAPSHOT_CREATE, { .running = true }, "qmp-sync" },
		{ SNAPSHOT_CREATE, { .running = true, .memory = true }, "qmp-job" },
		{ SNAPSHOT_CREATE, { .memory = true }, "1 VM w is not running: it has no memory to snapshot" },
		{ SNAPSHOT_REVERT, { .running = false }, "qemu-img" },
		{ SNAPSHOT_REVERT, { .running = false, .memory = true }, "qemu-img" },
		{ SNAPSHOT_REVERT, { .running = true, .memory = true }, "qmp-job" },
		{ SNAPSHOT_REVERT, { .running = true }, "1 VM w is running and the snapshot holds no memory: stop it first (vmctl stop w), then revert" },
		{ SNAPSHOT_DELETE, { .running = true }, "qmp-sync" },
		{ SNAPSHOT_DELETE, { .running = false }, "qemu-img" },
		{ SNAPSHOT_SAVE, { .running = true }, "qmp-job" },
		{ SNAPSHOT_SAVE, { .running = false }, "1 VM w is not running: it has no memory to save" },
		/* GPUs: disk snapshots of the stopped VM only. */
		{ SNAPSHOT_CREATE, { .gpu = true }, "qemu-img" },
		{ SNAPSHOT_REVERT, { .gpu = true, .memory = true }, "qemu-img" },
		{ SNAPSHOT_DELETE, { .gpu = true }, "qemu-img" },
		{ SNAPSHOT_CREATE, { .gpu = true, .running = true }, "1 VM w has a passed-through GPU: cannot snapshot it while it runs (VFIO device state cannot be saved; only disk snapshots of the stopped VM)" },
		{ SNAPSHOT_REVERT, { .gpu = true, .running = true, .memory = true }, "1 VM w has a passed-through GPU: cannot revert it while it runs (VFIO device state cannot be saved; only disk snapshots of the stopped VM)" },
		{ SNAPSHOT_DELETE, { .gpu = true, .running = true }, "1 VM w has a passed-through GPU: cannot delete a snapshot of it while it runs (VFIO device state cannot be saved; only disk snapshots of the stopped VM)" },
		{ SNAPSHOT_CREATE, { .gpu = true, .memory = true }, "1 VM w has a passed-through GPU: cannot snapshot it with its memory (VFIO device state cannot be saved; only disk snapshots of the stopped VM)" },
		{ SNAPSHOT_SAVE, { .gpu = true, .running = true }, "1 VM w has a passed-through GPU: cannot save it with its memory (VFIO device state cannot be saved; only disk snapshots of the stopped VM)" },
		/* UEFI: the RAM with the qcow2 variables; not with raw ones. */
		{ SNAPSHOT_SAVE, { .vars = true, .running = true }, "qmp-job" },
		{ SNAPSHOT_CREATE, { .vars = true, .running = true, .memory = true }, "qmp-job" },
		{ SNAPSHOT_DELETE, { .vars = true, .running = true }, "qmp-job" },
		{ SNAPSHOT_DELETE, { .vars = true }, "qemu-img" },
		{ SNAPSHOT_SAVE, { .vars_raw = true, .running = true }, "1 VM w boots UEFI with its variables in a raw file (it has run since before vmctl kept them in qcow2): cannot save its memory until it is stopped and started again; take a disk-only snapshot" },
		{ SNAPSHOT_CREATE, { .vars_raw = true, .running = true, .memory = true }, "1 VM w boots UEFI with its variables in a raw file (it has run since before vmctl kept them in qcow2): cannot snapshot its memory until it is stopped and started again; take a disk-only snapshot" },
		{ SNAPSHOT_CREATE, { .vars_raw = true, .running = true }, "qmp-sync" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *got = plan_str(c[i].op, c[i].vm);

		is_str(got, c[i].want, "rule %zu", i);
		free(got);
	}
}

static void test_names(void)
{
	const char *good[] = { "a", "before-upgrade", "v1.2_x", "Z9" };
	const char *bad[] = { "", "1", "1x", "-a", "a b", "a/b", "vmctl-saved",
			      "vmctl-x", "ä",
			      "a234567890123456789012345678901234567890123456789012345678901234" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(snapshot_name_valid(good[i]), "valid: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!snapshot_name_valid(bad[i]), "invalid: \"%s\"", bad[i]);
}

static char *tree_str(const struct snapshot_record *r)
{
	char *s = xasprintf("cur=%s", r->current ? r->current : "-");

	for (size_t i = 0; i < r->n; i++) {
		char *n = xasprintf("%s %s<%s%s", s, r->v[i].name,
				    r->v[i].parent ? r->v[i].parent : "-",
				    r->v[i].memory ? ",m" : "");
		free(s);
		s = n;
	}
	return s;
}

static void test_tree(void)
{
	struct snapshot_record r = { 0 }, back;
	struct vmctl_error *e = NULL;
	char *s, *text;

	snapshot_add(&r, "a", 100, false);
	snapshot_add(&r, "b", 200, true);
	snapshot_set_current(&r, "a");
	snapshot_add(&r, "c", 300, false);    /* a branch off a */
	snapshot_add(&r, "d", 400, false);
	s = tree_str(&r);
	is_str(s, "cur=d a<- b<a,m c<a d<c", "add: parent is the current one");
	free(s);

	text = snapshot_record_format(&r);
	ok(snapshot_record_parse(text, &back, &e) == 0, "record parses back");
	s = tree_str(&back);
	is_str(s, "cur=d a<- b<a,m c<a d<c", "record round trip");
	free(s);
	ok(back.v[1].created == 200, "created kept");
	snapshot_record_clear(&back);
	free(text);

	r.loadvm = xstrdup("c");
	snapshot_remove(&r, "c");             /* current's parent, children move */
	s = tree_str(&r);
	is_str(s, "cur=d a<- b<a,m d<a", "delete re-parents children");
	free(s);
	ok(r.loadvm == NULL, "delete drops a pending resume of it");
	snapshot_remove(&r, "d");
	s = tree_str(&r);
	is_str(s, "cur=a a<- b<a,m", "delete of current: its parent is current");
	free(s);
	snapshot_remove(&r, "a");
	s = tree_str(&r);
	is_str(s, "cur=- b<-,m", "delete of a root: children become roots");
	free(s);
	snapshot_remove(&r, "nope");
	ok(r.n == 1, "delete of an unknown one changes nothing");
	snapshot_record_clear(&r);

	ok(snapshot_record_parse("[1]", &r, &e) < 0, "a non-object is refused");
	vmctl_error_free(e);
	e = NULL;
	ok(snapshot_record_parse(NULL, &r, &e) == 0 && r.n == 0,
	   "no record: empty");
}

static void test_commands(void)
{
	struct strv argv = { 0 };
	cJSON *args;
	const char *cmd;
	char *s, *j;

	snapshot_qemu_img_argv(SNAPSHOT_REVERT, "/v/disk.qcow2", "a", &argv);
	s = strv_join(&argv, " ");
	is_str(s, "qemu-img snapshot -a a /v/disk.qcow2", "qemu-img revert");
	free(s);
	strv_clear(&argv);
	snapshot_qemu_img_argv(SNAPSHOT_DELETE, "/v/disk.qcow2", "a", &argv);
	s = strv_join(&argv, " ");
	is_str(s, "qemu-img snapshot -d a /v/disk.qcow2", "qemu-img delete");
	free(s);
	strv_clear(&argv);

	struct snapshot_vm bios = { .name = "w" }, uefi = { .name = "w", .vars = true };
	struct { const struct snapshot_vm *vm; enum snapshot_op op; enum snapshot_tool tool; const char *want; } c[] = {
		{ &bios, SNAPSHOT_CREATE, SNAPSHOT_QMP_SYNC, "blockdev-snapshot-internal-sync {\"device\":\"disk0\",\"name\":\"s\"}" },
		{ &bios, SNAPSHOT_DELETE, SNAPSHOT_QMP_SYNC, "blockdev-snapshot-delete-internal-sync {\"device\":\"disk0\",\"name\":\"s\"}" },
		{ &bios, SNAPSHOT_CREATE, SNAPSHOT_QMP_JOB, "snapshot-save {\"job-id\":\"j\",\"tag\":\"s\",\"vmstate\":\"disk0\",\"devices\":[\"disk0\"]}" },
		{ &bios, SNAPSHOT_SAVE, SNAPSHOT_QMP_JOB, "snapshot-save {\"job-id\":\"j\",\"tag\":\"s\",\"vmstate\":\"disk0\",\"devices\":[\"disk0\"]}" },
		{ &bios, SNAPSHOT_REVERT, SNAPSHOT_QMP_JOB, "snapshot-load {\"job-id\":\"j\",\"tag\":\"s\",\"vmstate\":\"disk0\",\"devices\":[\"disk0\"]}" },
		/* UEFI: the variables with the disk, the RAM in the disk. */
		{ &uefi, SNAPSHOT_SAVE, SNAPSHOT_QMP_JOB, "snapshot-save {\"job-id\":\"j\",\"tag\":\"s\",\"vmstate\":\"disk0\",\"devices\":[\"disk0\",\"ovmf-vars\"]}" },
		{ &uefi, SNAPSHOT_REVERT, SNAPSHOT_QMP_JOB, "snapshot-load {\"job-id\":\"j\",\"tag\":\"s\",\"vmstate\":\"disk0\",\"devices\":[\"disk0\",\"ovmf-vars\"]}" },
		{ &uefi, SNAPSHOT_DELETE, SNAPSHOT_QMP_JOB, "snapshot-delete {\"job-id\":\"j\",\"tag\":\"s\",\"devices\":[\"disk0\",\"ovmf-vars\"]}" },
		{ &uefi, SNAPSHOT_CREATE, SNAPSHOT_QMP_SYNC, "blockdev-snapshot-internal-sync {\"device\":\"disk0\",\"name\":\"s\"}" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cmd = snapshot_qmp_command(c[i].vm, c[i].op, c[i].tool, "s", "j", &args);
		j = cJSON_PrintUnformatted(args);
		s = xasprintf("%s %s", cmd, j);
		is_str(s, c[i].want, "qmp %zu", i);
		free(s);
		free(j);
		cJSON_Delete(args);
	}
}

static void test_rows(void)
{
	struct snapshot_record r = { 0 };
	struct snapshot_image *img = NULL;
	struct snapshot_row *rows = NULL;
	struct vmctl_error *e = NULL;
	size_t n_img = 0, n;
	cJSON *a;
	char *s;

	snapshot_add(&r, "a", 1, false);
	snapshot_add(&r, "b", 2, true);
	snapshot_set_current(&r, "a");
	snapshot_add(&r, "lost", 3, false);
	ok(snapshot_images_parse(
		   "{\"snapshots\":[{\"id\":\"1\",\"name\":\"a\",\"vm-state-size\":0,\"date-sec\":1},"
		   "{\"id\":\"2\",\"name\":\"b\",\"vm-state-size\":4096,\"date-sec\":2},"
		   "{\"id\":\"3\",\"name\":\"vmctl-saved\",\"vm-state-size\":9,\"date-sec\":4},"
		   "{\"id\":\"4\",\"name\":\"stray\",\"vm-state-size\":0,\"date-sec\":5}]}",
		   &img, &n_img, &e) == 0 && n_img == 4, "qemu-img info parses");
	n = snapshot_rows(&r, img, n_img, &rows);
	a = snapshot_rows_json(rows, n);
	s = cJSON_PrintUnformatted(a);
	is_str(s, "[{\"name\":\"a\",\"parent\":null,\"created\":1,\"memory\":false,\"vm_state_size\":0,\"current\":false,\"problem\":null},"
		  "{\"name\":\"b\",\"parent\":\"a\",\"created\":2,\"memory\":true,\"vm_state_size\":4096,\"current\":false,\"problem\":null},"
		  "{\"name\":\"lost\",\"parent\":\"a\",\"created\":3,\"memory\":false,\"vm_state_size\":0,\"current\":true,\"problem\":\"in vmctl's record, missing from the disk\"},"
		  "{\"name\":\"stray\",\"parent\":null,\"created\":5,\"memory\":false,\"vm_state_size\":0,\"current\":false,\"problem\":\"in the disk, not in vmctl's record\"}]",
	       "rows: tree order, saved state hidden, disagreements named");
	ok(rows[1].depth == 1 && rows[0].depth == 0, "depths");
	free(s);
	cJSON_Delete(a);
	free(rows);
	snapshot_images_free(img, n_img);
	snapshot_record_clear(&r);
}

/* UEFI variables: a qcow2 node the snapshot jobs name; a legacy raw file
 * still runs as raw. */
static void test_argv_vars(void)
{
	struct vmctl_spec *spec = NULL;
	struct vmctl_error *e = NULL;
	struct qemu_host host = { .vm_dir = "/v", .accel = SPEC_ACCEL_TCG,
				  .ssh_port = 2222, .mem_node = -1,
				  .ovmf_code = "/ovmf/CODE.fd" };
	struct strv argv = { 0 };
	char *s;

	const char *yaml = "name: w\nmemory: 1G\naccel: tcg\nfirmware: uefi\n"
			   "disk: {image: /b.qcow2}\n";

	if (spec_load_buffer("t", yaml, strlen(yaml), SPEC_SYNTAX_YAML, &spec,
			     &e) < 0) {
		ok(0, "spec: %s", e->message);
		vmctl_error_free(e);
		return;
	}
	ok(qemu_argv_build(spec, &host, &argv, &e) == 0, "argv builds");
	s = strv_join(&argv, " ");
	ok(strstr(s, " -blockdev driver=file,filename=/v/OVMF_VARS.qcow2,"
		     "node-name=ovmf-vars-file -blockdev driver=qcow2,"
		     "file=ovmf-vars-file,node-name=" SNAPSHOT_VARS_NODE
		     " -machine pflash0=ovmf-code,pflash1=" SNAPSHOT_VARS_NODE)
		   != NULL, "qcow2 variables on pflash1: %s", s);
	ok(strstr(s, "-loadvm") == NULL && strstr(s, " -S") == NULL,
	   "no -loadvm, not held");
	free(s);
	strv_clear(&argv);
	host.ovmf_vars_raw = true;
	host.paused = true;
	qemu_argv_build(spec, &host, &argv, &e);
	s = strv_join(&argv, " ");
	ok(strstr(s, "filename=/v/OVMF_VARS.fd,node-name=ovmf-vars-file "
		     "-blockdev driver=raw,") != NULL,
	   "a legacy raw store as raw");
	ok(strstr(s, " -S ") != NULL, "held for a resume");
	free(s);
	strv_clear(&argv);
	spec_free(spec);
}

int main(void)
{
	test_rules();
	test_names();
	test_tree();
	test_commands();
	test_rows();
	test_argv_vars();
	return tap_done();
}
