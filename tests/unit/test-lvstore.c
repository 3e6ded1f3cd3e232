// SPDX-License-Identifier: GPL-2.0-or-later
/* The libvirt backend's pure parts: volume names and XML (lvstore.c),
 * states and JSON (lvvm.c). */
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>

#include "tap.h"
#include "vmctl/lvstore.h"
#include "vmctl/lvvm.h"
#include "vmctl/xalloc.h"

static void test_names(void)
{
	char *s;

	s = lvstore_base_name("sha256:abc", "qcow2");
	is_str(s, "base-sha256-abc.qcow2", "base named by its digest");
	free(s);
	s = lvstore_base_name("abc", "raw");
	is_str(s, "base-abc.raw", "a digest without an algorithm");
	free(s);
	s = lvstore_disk_name("vm1");
	is_str(s, "vm1.qcow2", "disk");
	free(s);
	s = lvstore_seed_name("vm1");
	is_str(s, "vm1-seed.iso", "seed");
	free(s);
}

/* A base's volumes: its uploads NAME.RAND and their marks NAME.RAND.ok;
 * nothing else, not even a name that starts the same. */
static void test_base_volumes(void)
{
	static const struct {
		const char *vol;
		bool is, mark;
	} cases[] = {
		{ "base-x.qcow2.0a1b2c3d", true, false },
		{ "base-x.qcow2.0a1b2c3d.ok", true, true },
		{ "base-x.qcow2", false, false },	/* before RAND */
		{ "base-x.qcow2.0a1b2c3", false, false },	/* 7 digits */
		{ "base-x.qcow2.0a1b2c3d4", false, false },	/* 9 */
		{ "base-x.qcow2.0A1B2C3D", false, false },	/* upper case */
		{ "base-x.qcow2.0a1b2c3d.okk", false, false },
		{ "base-x.qcow2.0a1b2c3d.", false, false },
		{ "base-x.qcow2x0a1b2c3d", false, false },
		{ "base-x.qcow", false, false },
		{ "base-x.qcow2.0a1b2c3d.ok.0a1b2c3d", false, false },
		{ "vm.qcow2", false, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool mark = !cases[i].mark;
		bool is = lvstore_base_volume(cases[i].vol, "base-x.qcow2",
					      &mark);

		ok(is == cases[i].is, "%s: %s", cases[i].vol,
		   cases[i].is ? "the base's" : "not the base's");
		if (is)
			ok(mark == cases[i].mark, "%s: %s", cases[i].vol,
			   cases[i].mark ? "a mark" : "an upload");
	}
}

static void test_xml(void)
{
	char *s = lvstore_pool_xml("vmctl", "/var/lib/x");

	is_str(s, "<pool type='dir'>\n  <name>vmctl</name>\n  <target>\n"
	       "    <path>/var/lib/x</path>\n  </target>\n</pool>\n", "pool");
	free(s);
	s = lvstore_volume_xml("a.qcow2", 1024, "qcow2", "/p/b&c", "raw");
	is_str(s, "<volume>\n  <name>a.qcow2</name>\n  <capacity unit='bytes'>"
	       "1024</capacity>\n  <target>\n    <format type='qcow2'/>\n"
	       "  </target>\n  <backingStore>\n    <path>/p/b&amp;c</path>\n"
	       "    <format type='raw'/>\n  </backingStore>\n</volume>\n",
	       "overlay over a backing store, escaped");
	free(s);
	s = lvstore_volume_xml("s.iso", 7, "raw", NULL, NULL);
	ok(s && !strstr(s, "backingStore") && strstr(s, ">7<"), "plain volume");
	free(s);
	ok(lvstore_volume_xml("a\001", 1, "raw", NULL, NULL) == NULL,
	   "a control character is refused");
}

static void test_state_json(void)
{
	struct lvvm_info i = { .name = xstrdup("v"), .state = VM_RUNNING,
			       .accel = "tcg", .cpus = 2,
			       .memory = 256ull << 20 };
	cJSON *j;
	char *text;

	ok(lvvm_state_of(VIR_DOMAIN_SHUTOFF) == VM_STOPPED, "shut off");
	ok(lvvm_state_of(VIR_DOMAIN_CRASHED) == VM_CRASHED, "crashed");
	ok(lvvm_state_of(VIR_DOMAIN_RUNNING) == VM_RUNNING, "running");
	ok(lvvm_state_of(VIR_DOMAIN_PAUSED) == VM_RUNNING, "paused: running");
	j = lvvm_info_json(&i, "qemu:///system", false);
	text = cJSON_PrintUnformatted(j);
	is_str(text, "{\"name\":\"v\",\"state\":\"running\",\"pid\":null,"
	       "\"cpus\":2,\"memory_mib\":256,\"accel\":\"tcg\",\"ssh_port\":"
	       "null,\"vnc\":null,\"uptime_s\":null,\"backend\":\"libvirt\","
	       "\"host\":\"qemu:///system\",\"ip\":null}", "list's shape");
	free(text);
	cJSON_Delete(j);
	j = lvvm_info_json(&i, "qemu:///system", true);
	ok(cJSON_GetObjectItem(j, "digest") && cJSON_GetObjectItem(j, "created"),
	   "status adds the mark's fields");
	cJSON_Delete(j);
	lvvm_info_clear(&i);
}

int main(void)
{
	test_names();
	test_base_volumes();
	test_xml();
	test_state_json();
	return tap_done();
}
