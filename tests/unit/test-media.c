// SPDX-License-Identifier: GPL-2.0-or-later
/* media.c: what cdrom and disk resize tell QEMU and qemu-img, the boot
 * order of boot: cdrom-once, the size a resize goes to. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/media.h"
#include "vmctl/xalloc.h"

static char *json(cJSON *j)
{
	char *text = cJSON_PrintUnformatted(j);

	cJSON_Delete(j);
	return text;
}

static void test_resize(void)
{
	static const struct {
		const char *arg;
		uint64_t current, want;
		int status;     /* 0: ok, else the error's */
	} cases[] = {
		{ "40G", 20ull << 30, 40ull << 30, 0 },
		{ "+10G", 20ull << 30, 30ull << 30, 0 },
		{ "20G", 20ull << 30, 0, VMCTL_EXIT_SPEC },     /* equal */
		{ "10G", 20ull << 30, 0, VMCTL_EXIT_SPEC },     /* smaller */
		{ "+0G", 20ull << 30, 0, VMCTL_EXIT_SPEC },
		{ "big", 1, 0, VMCTL_EXIT_USAGE },
		{ "+", 1, 0, VMCTL_EXIT_USAGE },
		{ "1000", 1, 0, VMCTL_EXIT_USAGE },             /* no unit */
		{ "-1G", 1, 0, VMCTL_EXIT_USAGE },
		{ "+16777215T", 1ull << 62, 0, VMCTL_EXIT_SPEC }, /* overflow */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmctl_error *err = NULL;
		uint64_t out = 0;
		int r = media_resize_target("vm", cases[i].arg,
					    cases[i].current, &out, &err);

		if (cases[i].status == 0)
			ok(r == 0 && out == cases[i].want, "resize %s: %llu",
			   cases[i].arg, (unsigned long long)out);
		else
			ok(r < 0 && err && err->status == cases[i].status,
			   "resize %s refused with %d: %s", cases[i].arg,
			   cases[i].status, err ? err->message : "(none)");
		vmctl_error_free(err);
	}
	{
		struct vmctl_error *err = NULL;
		uint64_t out;

		media_resize_target("web", "10G", 20ull << 30, &out, &err);
		is_str(err ? err->message : NULL, "VM web: its disk is 20 GiB "
		       "(21474836480 bytes): disk resize only grows it, and "
		       "10G is not larger", "the refusal names the VM and "
		       "both sizes");
		vmctl_error_free(err);
	}
}

static void test_qemu_words(void)
{
	struct strv argv = { 0 };
	char *t;

	media_resize_argv("/v/disk.qcow2", 1ull << 30, &argv);
	t = strv_join(&argv, " ");
	is_str(t, "qemu-img resize -q -f qcow2 /v/disk.qcow2 1073741824",
	       "qemu-img resize: format said, bytes");
	free(t);
	strv_clear(&argv);
	t = json(media_block_resize_args(3ull << 30));
	is_str(t, "{\"node-name\":\"disk0\",\"size\":3221225472}",
	       "block_resize on the disk's node");
	free(t);
	t = json(media_cdrom_file_node("cdrom1", 3));
	is_str(t, "{\"driver\":\"file\",\"node-name\":\"cdrom1-file\","
	       "\"filename\":\"/dev/fdset/3\",\"read-only\":true}",
	       "the ISO's file node: the fd set, read-only");
	free(t);
	t = json(media_cdrom_raw_node("cdrom1"));
	is_str(t, "{\"driver\":\"raw\",\"node-name\":\"cdrom1\",\"file\":"
	       "\"cdrom1-file\",\"read-only\":true}",
	       "raw over it: never a probed format");
	free(t);
	t = json(media_cdrom_args("cdrom1"));
	is_str(t, "{\"id\":\"cdrom0\",\"node-name\":\"cdrom1\"}",
	       "insert-medium on the drive's id");
	free(t);
	is_str(media_cdrom_node(NULL), "cdrom0", "an empty drive: cdrom0");
	is_str(media_cdrom_node("cdrom0"), "cdrom1", "beside cdrom0: cdrom1");
	is_str(media_cdrom_node("cdrom1"), "cdrom0", "beside cdrom1: cdrom0");
}

static void test_boot_once(void)
{
	struct vmctl_spec s = { .boot = SPEC_BOOT_CDROM_ONCE,
				.cdrom_drive = true, .cdrom = "/x.iso" };
	struct media_qom_set steps[3];
	size_t n;

	ok(media_cdrom_first(&s, false, false), "first start: CD-ROM first");
	ok(!media_cdrom_first(&s, true, false), "once booted: the disk");
	ok(!media_cdrom_first(&s, false, true), "resuming RAM: no firmware");
	s.cdrom = NULL;
	ok(!media_cdrom_first(&s, false, false), "no medium: the disk");
	s.cdrom = "/x.iso";
	s.boot = SPEC_BOOT_DISK;
	ok(!media_cdrom_first(&s, false, false), "boot: disk: the disk");
	n = media_boot_swap(steps);
	ok(n == 3 && !strcmp(steps[0].path, "/machine/peripheral/cdrom0") &&
	   steps[0].value == -1 &&
	   !strcmp(steps[1].path, "/machine/peripheral/disk0") &&
	   steps[1].value == 1 &&
	   !strcmp(steps[2].path, "/machine/peripheral/cdrom0") &&
	   steps[2].value == 2,
	   "the swap frees bootindex 1 before the disk takes it");
	n = media_boot_swap_paths("/p/ua-cdrom0", "/p/ua-disk0", steps);
	ok(n == 3 && !strcmp(steps[0].path, "/p/ua-cdrom0") &&
	   steps[0].value == -1 && !strcmp(steps[1].path, "/p/ua-disk0") &&
	   steps[1].value == 1 && !strcmp(steps[2].path, "/p/ua-cdrom0") &&
	   steps[2].value == 2, "the same steps on libvirt's aliases");
}

static void test_status(void)
{
	struct vmctl_spec s = { .boot = SPEC_BOOT_CDROM_ONCE,
				.cdrom_drive = true, .cdrom = NULL };
	cJSON *o = cJSON_CreateObject();
	char *t;

	media_status_json(o, &s, true);
	t = json(o);
	is_str(t, "{\"cdrom\":{\"medium\":null},\"boot\":{\"order\":"
	       "\"cdrom-once\",\"cdrom_booted\":true}}", "status --json");
	free(t);
	t = media_status_text(&s, false);
	is_str(t, "cdrom:      (empty)\nboot:       cdrom-once (the next "
	       "start boots the CD-ROM first)\n", "status text");
	free(t);
	s = (struct vmctl_spec){ 0 };
	o = cJSON_CreateObject();
	media_status_json(o, &s, false);
	t = json(o);
	is_str(t, "{\"cdrom\":null,\"boot\":{\"order\":\"disk\","
	       "\"cdrom_booted\":false}}", "no drive: cdrom null");
	free(t);
	t = media_status_text(&s, false);
	is_str(t, "", "no drive, boot disk: no lines");
	free(t);
}

int main(void)
{
	test_resize();
	test_qemu_words();
	test_boot_once();
	test_status();
	return tap_done();
}
