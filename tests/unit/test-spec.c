// SPDX-License-Identifier: GPL-2.0-or-later
/* The spec loader: both syntaxes, defaults, sizes, addresses, errors. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/cpulist.h"
#include "vmctl/spec.h"
#include "vmctl/xalloc.h"

static struct vmctl_spec *load(const char *text, enum spec_syntax syntax,
			       char **errmsg)
{
	struct vmctl_spec *spec = NULL;
	struct vmctl_error *err = NULL;

	*errmsg = NULL;
	if (spec_load_buffer("t", text, strlen(text), syntax, &spec, &err) < 0) {
		*errmsg = strdup(err->message);
		vmctl_error_free(err);
	}
	return spec;
}

static void test_parity(void)
{
	const char *yaml =
		"name: gpu-vm\n"
		"cpus: {sockets: 1, cores: 4, threads: 2}\n"
		"memory: 8G\n"
		"accel: tcg\n"
		"disk: {image: /img/base.qcow2, sha256: "
		"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
		", size: 40G}\n"
		"network: {ssh_port: 2200, forwards: [\"tcp:8080:80\", "
		"\"udp:127.0.0.1:5353:53\"]}\n"
		"vnc: {listen: 127.0.0.1, display: 3, password: true}\n"
		"gpu: [{address: \"0000:01:00.0\", x_vga: true}, "
		"{id: \"10de:1b82\", index: 1}]\n"
		"qemu: {extra_args: [-S, \"-device\", \"foo,bar=1\"]}\n";
	const char *json =
		"{\"name\": \"gpu-vm\",\n"
		" \"cpus\": {\"sockets\": 1, \"cores\": 4, \"threads\": 2},\n"
		" \"memory\": \"8G\", \"accel\": \"tcg\",\n"
		" \"disk\": {\"image\": \"/img/base.qcow2\", \"sha256\": "
		"\"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
		"\", \"size\": \"40G\"},\n"
		" \"network\": {\"ssh_port\": 2200, \"forwards\": [\"tcp:8080:80\","
		" \"udp:127.0.0.1:5353:53\"]},\n"
		" \"vnc\": {\"listen\": \"127.0.0.1\", \"display\": 3, "
		"\"password\": true},\n"
		" \"gpu\": [{\"address\": \"0000:01:00.0\", \"x_vga\": true},"
		" {\"id\": \"10de:1b82\", \"index\": 1}],\n"
		" \"qemu\": {\"extra_args\": [\"-S\", \"-device\", \"foo,bar=1\"]}}\n";
	char *e1, *e2;
	struct vmctl_spec *a = load(yaml, SPEC_SYNTAX_YAML, &e1);
	struct vmctl_spec *b = load(json, SPEC_SYNTAX_AUTO, &e2);

	ok(a != NULL, "YAML spec loads%s%s", e1 ? ": " : "", e1 ? e1 : "");
	ok(b != NULL, "JSON spec loads%s%s", e2 ? ": " : "", e2 ? e2 : "");
	if (a == NULL || b == NULL)
		goto out;
	is_str(a->name, b->name, "name matches");
	ok(spec_cpu_count(a) == 8 && spec_cpu_count(b) == 8, "8 CPUs");
	ok(a->memory == 8ULL << 30 && b->memory == a->memory, "memory 8G");
	ok(a->accel == SPEC_ACCEL_TCG && b->accel == SPEC_ACCEL_TCG, "tcg");
	is_str(a->disk.sha256,
	       "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
	       "sha256 lowercased");
	is_str(a->disk.sha256, b->disk.sha256, "sha256 matches");
	ok(a->disk.size == 40ULL << 30 && b->disk.size == a->disk.size,
	   "disk size");
	ok(a->network.ssh_port == 2200 && b->network.ssh_port == 2200,
	   "ssh port");
	ok(a->network.n_forwards == 2 && b->network.n_forwards == 2,
	   "two forwards");
	ok(a->network.forwards[1].guest_port == 53 &&
	   !strcmp(a->network.forwards[1].proto, "udp") &&
	   !strcmp(b->network.forwards[1].host_addr, "127.0.0.1"),
	   "udp forward parsed");
	ok(a->vnc.password && b->vnc.password && a->vnc.display == 3,
	   "vnc");
	ok(a->n_gpus == 2 && b->n_gpus == 2, "two GPUs");
	ok(a->gpus[0].selector == SPEC_GPU_ADDRESS && a->gpus[0].x_vga &&
	   a->gpus[0].address.bus == 1, "gpu 0 by address");
	ok(b->gpus[1].selector == SPEC_GPU_ID && b->gpus[1].vendor_id == 0x10de
	   && b->gpus[1].device_id == 0x1b82 && b->gpus[1].index == 1,
	   "gpu 1 by id");
	ok(a->firmware == SPEC_FIRMWARE_UEFI && b->firmware == a->firmware,
	   "GPU VMs default to UEFI");
	ok(a->qemu.extra_args.n == 3 && b->qemu.extra_args.n == 3 &&
	   !strcmp(a->qemu.extra_args.v[2], b->qemu.extra_args.v[2]),
	   "extra args");
	ok(a->cloud_init.enabled, "cloud-init on for a disk image");
out:
	spec_free(a);
	spec_free(b);
	free(e1);
	free(e2);
}

static void test_defaults(void)
{
	char *e;
	struct vmctl_spec *s = load("name: a\n", SPEC_SYNTAX_YAML, &e);

	ok(s != NULL, "name alone is a valid spec");
	if (s == NULL)
		return;
	ok(spec_cpu_count(s) == 2 && s->memory == 2ULL << 30, "2 CPUs, 2G");
	is_str(s->machine, "q35", "machine q35");
	ok(s->accel == SPEC_ACCEL_AUTO && s->firmware == SPEC_FIRMWARE_BIOS,
	   "accel auto, BIOS");
	ok(s->vnc.enabled && s->vnc.password && s->vnc.display == -1,
	   "VNC on, with a password, display auto");
	is_str(s->vnc.listen, "0.0.0.0", "VNC listens on all addresses");
	ok(s->network.ssh_port == 0, "ssh port auto");
	ok(!s->cloud_init.enabled, "no cloud-init without a disk");
	is_str(s->cloud_init.user, "vmadmin", "default user");
	is_str(s->qemu.binary, "qemu-system-x86_64", "default QEMU");
	ok(s->hugepages == SPEC_HUGE_NONE && s->mem_merge && s->balloon,
	   "no hugepages, merge on, a balloon (no GPU)");
	ok(s->cpus.pin == SPEC_PIN_NONE && s->cpus.pin_list.n == 0,
	   "vCPUs not pinned (no GPU)");
	spec_free(s);
	s = load("name: a\ngpu: [{vendor: NVIDIA}]\n", SPEC_SYNTAX_YAML, &e);
	ok(s != NULL && !s->balloon && s->cpus.pin == SPEC_PIN_AUTO,
	   "with a GPU: no balloon, vCPUs pinned auto");
	spec_free(s);
	free(e);
}

/* memory: a size, or {size, hugepages, merge, balloon}; cpus.pin. */
static void test_memory_and_pin(void)
{
	static const struct {
		const char *text;
		enum spec_hugepages huge;
		bool merge, balloon;
		uint64_t memory;
	} mem[] = {
		{ "name: a\nmemory: 4G\n", SPEC_HUGE_NONE, true, true,
		  4ULL << 30 },
		{ "name: a\nmemory: {size: 16G, hugepages: 1G}\n",
		  SPEC_HUGE_1G, true, false, 16ULL << 30 },
		{ "name: a\nmemory: {size: 16M, hugepages: 2M, merge: false, "
		  "balloon: false}\n", SPEC_HUGE_2M, false, false, 16ULL << 20 },
		{ "{\"name\": \"a\", \"memory\": {\"size\": \"1536M\", "
		  "\"hugepages\": \"auto\"}}", SPEC_HUGE_AUTO, true, false,
		  1536ULL << 20 },
		{ "name: a\nmemory: {size: 1G, hugepages: ~, balloon: ~}\n",
		  SPEC_HUGE_NONE, true, true, 1ULL << 30 },
		{ "name: a\nmemory: {size: 1G, hugepages: none}\n"
		  "gpu: [{vendor: AMD}]\n", SPEC_HUGE_NONE, true, false,
		  1ULL << 30 },
	};
	static const struct {
		const char *text, *pins;
		enum spec_pin pin;
	} pins[] = {
		{ "name: a\ncpus: {cores: 4, pin: 2-5}\n", "2-5",
		  SPEC_PIN_LIST },
		{ "name: a\ncpus: {cores: 2, threads: 2, pin: \"2,3,6,7\"}\n",
		  "2-3,6-7", SPEC_PIN_LIST },
		{ "{\"name\": \"a\", \"cpus\": {\"cores\": 3, \"pin\": "
		  "[0, 8, 9]}}", "0,8-9", SPEC_PIN_LIST },
		{ "name: a\ncpus: {cores: 1, pin: 7}\n", "7", SPEC_PIN_LIST },
		{ "name: a\ncpus: {cores: 2, pin: auto}\n", "", SPEC_PIN_AUTO },
		{ "name: a\ncpus: {cores: 2, pin: none}\n"
		  "gpu: [{vendor: AMD}]\n", "", SPEC_PIN_NONE },
		{ "name: a\ncpus: 3\n", "", SPEC_PIN_NONE },
	};

	for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++) {
		char *e;
		struct vmctl_spec *s = load(mem[i].text, SPEC_SYNTAX_AUTO, &e);

		ok(s != NULL && s->memory == mem[i].memory &&
		   s->hugepages == mem[i].huge && s->mem_merge == mem[i].merge &&
		   s->balloon == mem[i].balloon, "memory form %zu%s%s", i,
		   e ? ": " : "", e ? e : "");
		spec_free(s);
		free(e);
	}
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		char *e, *got = NULL;
		struct vmctl_spec *s = load(pins[i].text, SPEC_SYNTAX_AUTO, &e);

		if (s != NULL)
			got = cpulist_format(s->cpus.pin_list.v,
					     s->cpus.pin_list.n);
		ok(s != NULL && s->cpus.pin == pins[i].pin, "pin form %zu%s%s",
		   i, e ? ": " : "", e ? e : "");
		is_str(got, s ? pins[i].pins : NULL, "pin form %zu: CPUs", i);
		spec_free(s);
		free(got);
		free(e);
	}
}

/* spec_to_json() of a loaded spec loads back to the same spec: what a
 * VM's spec.json keeps, with every default written out. */
static void test_round_trip(void)
{
	static const char *const texts[] = {
		"name: a\n",
		"name: a\nmemory: {size: 16M, hugepages: 2M, merge: false, "
		"balloon: false}\ncpus: {cores: 3, pin: [1, 4, 5]}\n",
		"name: a\nmemory: {size: 2G, hugepages: auto}\n"
		"cpus: {cores: 2, pin: auto}\n",
		"name: a\nmemory: {size: 1G, hugepages: 1G}\n"
		"gpu: [{address: \"01:00.0\"}]\n",
		"name: a\nmemory: 3G\ngpu: [{vendor: NVIDIA}]\n"
		"cpus: {cores: 2, pin: none}\n",
		"name: a\nfirmware: uefi-secure\ntpm: true\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *e = NULL, *e2 = NULL, *first = NULL, *second = NULL;
		struct vmctl_spec *a = load(texts[i], SPEC_SYNTAX_YAML, &e);
		struct vmctl_spec *b = NULL;
		cJSON *j;

		if (a != NULL) {
			j = spec_to_json(a);
			first = cJSON_PrintUnformatted(j);
			cJSON_Delete(j);
			b = load(first, SPEC_SYNTAX_JSON, &e2);
		}
		if (b != NULL) {
			j = spec_to_json(b);
			second = cJSON_PrintUnformatted(j);
			cJSON_Delete(j);
		}
		ok(a != NULL && b != NULL, "spec %zu: written and read back%s%s",
		   i, e2 ? ": " : (e ? ": " : ""), e2 ? e2 : (e ? e : ""));
		is_str(second, first, "spec %zu: the same spec again", i);
		ok(a != NULL && b != NULL && a->memory == b->memory &&
		   a->hugepages == b->hugepages &&
		   a->mem_merge == b->mem_merge && a->balloon == b->balloon &&
		   a->cpus.pin == b->cpus.pin &&
		   a->cpus.pin_list.n == b->cpus.pin_list.n,
		   "spec %zu: memory and pinning kept", i);
		if (i == 5)
			ok(b != NULL && b->tpm &&
			   b->firmware == SPEC_FIRMWARE_UEFI_SECURE &&
			   strstr(first, "\"firmware\":\"uefi-secure\"") &&
			   strstr(first, "\"tpm\":true"),
			   "firmware and tpm kept: %s", first);
		if (i == 1)
			ok(first != NULL &&
			   strstr(first, "\"pin\":\"1,4-5\"") != NULL &&
			   strstr(first, "\"memory\":{\"size\":\"16M\","
				  "\"hugepages\":\"2M\",\"merge\":false,"
				  "\"balloon\":false}") != NULL,
			   "pin as a CPU list, memory as a map: %s", first);
		spec_free(a);
		spec_free(b);
		free(first);
		free(second);
		free(e);
		free(e2);
	}
}

static void test_default_spec(void)
{
	struct vmctl_spec *s = NULL;
	struct vmctl_error *err = NULL;

	ok(spec_load_default(NULL, &s, &err) == 0,
	   "embedded default spec loads");
	if (s == NULL) {
		vmctl_error_free(err);
		return;
	}
	ok(strstr(s->disk.image, "debian-12-genericcloud-amd64.qcow2") != NULL,
	   "default spec boots Debian 12 genericcloud");
	ok(s->disk.checksum_url != NULL &&
	   strstr(s->disk.checksum_url, "SHA512SUMS") != NULL,
	   "verified against Debian's SHA512SUMS");
	ok(spec_cpu_count(s) == 2 && s->memory == 2ULL << 30, "2 CPUs, 2G");
	ok(s->cloud_init.enabled && s->vnc.enabled, "cloud-init and VNC on");
	spec_free(s);
}

/* VMCTL_IMAGE_MIRROR: the default spec's URLs under the origin move to
 * the mirror, path kept; anything else is refused with one line. */
static void test_default_spec_mirror(void)
{
	static const struct {
		const char *mirror, *image, *sums;
	} good[] = {
		{ "file:///srv/m", "file:///srv/m/bookworm/latest/"
		  "debian-12-genericcloud-amd64.qcow2",
		  "file:///srv/m/bookworm/latest/SHA512SUMS" },
		{ "https://m.example/cloud//", "https://m.example/cloud/"
		  "bookworm/latest/debian-12-genericcloud-amd64.qcow2",
		  "https://m.example/cloud/bookworm/latest/SHA512SUMS" },
		{ "", SPEC_IMAGE_ORIGIN "/bookworm/latest/"
		  "debian-12-genericcloud-amd64.qcow2",
		  SPEC_IMAGE_ORIGIN "/bookworm/latest/SHA512SUMS" },
	};
	static const char *const bad[] = {
		"http://m.example/cloud", "/srv/m", "file://", "file:///",
		"https://", "https://m.example/a b", "https://m/x?y=1",
		"ftp://m.example/", "https://m/\n",
	};
	struct spec_disk d = { 0 };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct vmctl_spec *s = NULL;
		struct vmctl_error *err = NULL;

		int rc = spec_load_default(good[i].mirror, &s, &err);

		ok(rc == 0 && strcmp(s->disk.image, good[i].image) == 0 &&
		   strcmp(s->disk.checksum_url, good[i].sums) == 0,
		   "mirror \"%s\": %s", good[i].mirror,
		   s ? s->disk.image : err->message);
		spec_free(s);
		vmctl_error_free(err);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vmctl_spec *s = NULL;
		struct vmctl_error *err = NULL;

		int rc = spec_load_default(bad[i], &s, &err);

		ok(rc < 0 && s == NULL &&
		   err != NULL && err->status == VMCTL_EXIT_USAGE &&
		   strncmp(err->message, "VMCTL_IMAGE_MIRROR: ", 20) == 0 &&
		   strchr(err->message, '\n') == NULL,
		   "bad mirror %zu refused: %s", i, err ? err->message : "");
		vmctl_error_free(err);
	}
	/* Only URLs under the origin move (a look-alike host does not). */
	d.image = xstrdup(SPEC_IMAGE_ORIGIN "x/a.qcow2");
	d.checksum_url = xstrdup("https://other.example/SHA512SUMS");
	d.checksum_sig_url = xstrdup(SPEC_IMAGE_ORIGIN "/SHA512SUMS.sign");
	ok(spec_disk_mirror(&d, "file:///m", NULL) == 0 &&
	   strcmp(d.image, SPEC_IMAGE_ORIGIN "x/a.qcow2") == 0 &&
	   strcmp(d.checksum_url, "https://other.example/SHA512SUMS") == 0 &&
	   strcmp(d.checksum_sig_url, "file:///m/SHA512SUMS.sign") == 0,
	   "only URLs under %s move", SPEC_IMAGE_ORIGIN);
	free(d.image);
	free(d.checksum_url);
	free(d.checksum_sig_url);
}

static void test_sizes(void)
{
	static const struct {
		const char *s;
		int ok;
		uint64_t v;
	} cases[] = {
		{ "512M", 0, 512ULL << 20 }, { "8G", 0, 8ULL << 30 },
		{ "1T", 0, 1ULL << 40 }, { "64K", 0, 64ULL << 10 },
		{ "2GiB", 0, 2ULL << 30 }, { "2GB", 0, 2ULL << 30 },
		{ "2g", 0, 2ULL << 30 }, { "2048", -1, 0 },
		{ "1.5G", -1, 0 }, { "G", -1, 0 }, { "8Q", -1, 0 },
		{ "-1G", -1, 0 }, { "8Gx", -1, 0 }, { "", -1, 0 },
		{ "99999999999999999999G", -1, 0 },
		{ "17179869184G", -1, 0 },   /* 2^34 G overflows 64 bits */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0;
		int r = spec_parse_size(cases[i].s, &v);

		ok(r == cases[i].ok && (r < 0 || v == cases[i].v),
		   "size \"%s\" %s", cases[i].s,
		   cases[i].ok == 0 ? "parses" : "is refused");
	}
}

static void test_pci_addr(void)
{
	struct pci_addr a;

	ok(pci_addr_parse("0000:01:00.0", &a) == 0 && a.bus == 1 &&
	   a.dev == 0 && a.func == 0, "full address");
	ok(pci_addr_parse("01:00.1", &a) == 0 && a.domain == 0 &&
	   a.func == 1, "short address in domain 0");
	ok(pci_addr_parse("10000:01:00.0", &a) < 0, "domain too long");
	ok(pci_addr_parse("0000:01:20.0", &a) < 0, "device above 0x1f");
	ok(pci_addr_parse("0000:01:00.8", &a) < 0, "function above 7");
	ok(pci_addr_parse("0000:01:00", &a) < 0, "function missing");
	ok(pci_addr_parse("0000:01:00.0 ", &a) < 0, "trailing space");
	ok(pci_addr_parse("zz:00.0", &a) < 0, "not hex");
}

static void test_names(void)
{
	ok(spec_name_valid("gpu-vm"), "gpu-vm");
	ok(spec_name_valid("0vm.test_1"), "0vm.test_1");
	ok(!spec_name_valid("GPU"), "uppercase refused");
	ok(!spec_name_valid("-vm"), "leading dash refused");
	ok(!spec_name_valid(""), "empty refused");
	ok(!spec_name_valid("a,b"), "comma refused");
	ok(spec_name_valid("a23456789012345678901234567890123456789012345678"
			   "901234567890123"), "63 characters");
	ok(!spec_name_valid("a234567890123456789012345678901234567890123456789"
			    "012345678901234"), "64 characters refused");
}

/* backend and connect: where create makes the VM. */
static void test_backend(void)
{
	char *e = NULL;
	struct vmctl_spec *s = load("name: a\n", SPEC_SYNTAX_AUTO, &e);

	ok(s && s->backend == SPEC_BACKEND_DIRECT && s->connect == NULL,
	   "the direct backend by default");
	spec_free(s);
	s = load("name: a\nconnect: gpu1\n", SPEC_SYNTAX_AUTO, &e);
	ok(s && s->backend == SPEC_BACKEND_LIBVIRT &&
	   strcmp(s->connect, "gpu1") == 0, "connect: names a libvirt host");
	spec_free(s);
	s = load("{\"name\": \"a\", \"backend\": \"libvirt\"}",
		 SPEC_SYNTAX_AUTO, &e);
	ok(s && s->backend == SPEC_BACKEND_LIBVIRT && s->connect == NULL,
	   "backend: libvirt alone (this machine's libvirtd)");
	spec_free(s);
	free(e);
}

static void test_errors(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "name: a\nmemroy: 2G\n",
		  "t:2:1: memroy: unknown key (did you mean \"memory\"?)" },
		{ "name: a\nname: b\n",
		  "t:2:1: name: duplicate key (first given at line 1, "
		  "column 1)" },
		{ "name: a\nvnc: {listen: 127.0.0.1, password: false}\n",
		  "t:2:15: vnc.listen: VNC without a password is served on a "
		  "UNIX socket in the VM's directory, never on TCP (guests "
		  "reach the host's loopback); drop vnc.listen or set "
		  "vnc.password: true" },
		{ "{\"name\": \"a\", \"cpus\": 4.0}",
		  "t:1:23: cpus: expected an integer, got \"4.0\"" },
		{ "a: &a [*a]\n",
		  "t:1:8: alias *a names no anchor defined before it" },
		{ "", "t:1:1: the spec is empty (expected a mapping with at "
		      "least \"name\")" },
		{ "name: a\nmemory: {hugepages: 2M}\n",
		  "t:2:9: memory: missing key \"size\"" },
		{ "name: a\nmemory: [2G]\n",
		  "t:2:9: memory: expected a size like 8G or a mapping {size, "
		  "hugepages, merge, balloon}, got a list" },
		{ "name: a\nmemory: {size: 2G, hugepage: 2M}\n",
		  "t:2:20: memory.hugepage: unknown key (did you mean "
		  "\"hugepages\"?)" },
		{ "name: a\nmemory: {size: 2G, hugepages: 4K}\n",
		  "t:2:31: memory.hugepages: unknown value \"4K\" (expected "
		  "one of: none, 2M, 1G, auto)" },
		{ "name: a\nmemory: {size: 2G, hugepages: 1g}\n",
		  "t:2:31: memory.hugepages: unknown value \"1g\" (did you "
		  "mean \"1G\"?)" },
		{ "name: a\nmemory: {size: 2G, merge: \"no\"}\n",
		  "t:2:27: memory.merge: expected true or false, got \"no\" "
		  "(a string)" },
		{ "name: a\nmemory: {size: 33M, hugepages: 2M}\n",
		  "t:2:16: memory.size: memory 33 MiB is not a whole number of "
		  "2M hugepages (memory.hugepages: 2M)" },
		{ "name: a\nmemory: {hugepages: 1G, size: 1536M}\n",
		  "t:2:31: memory.size: memory 1.5 GiB is not a whole number "
		  "of 1G hugepages (memory.hugepages: 1G)" },
		{ "name: a\nmemory: {size: 33M, hugepages: auto}\n",
		  "t:2:16: memory.size: memory 33 MiB is not a whole number of "
		  "2M hugepages (memory.hugepages: auto)" },
		{ "name: a\novercommit: true\n"
		  "memory: {size: 2G, hugepages: auto}\n",
		  "t:2:13: overcommit: hugepages are reserved for the VM "
		  "before it starts: there is nothing to overcommit (drop "
		  "overcommit or set memory.hugepages: none)" },
		{ "name: a\nmemory: {size: 2G, balloon: true}\n"
		  "gpu: [{vendor: NVIDIA}]\n",
		  "t:2:29: memory.balloon: a passed-through GPU's memory is "
		  "pinned by VFIO: a balloon cannot take any of it back (drop "
		  "memory.balloon)" },
		{ "name: a\ncpus: {cores: 4, pin: 2-4}\n",
		  "t:2:23: cpus.pin: names 3 host CPUs, but the VM has 4 vCPUs "
		  "(one host CPU for each)" },
		{ "name: a\ncpus: {pin: [1, 2], threads: 1}\n",
		  "t:2:13: cpus.pin: names 2 host CPUs, but the VM has 1 vCPU "
		  "(one host CPU for each)" },
		{ "name: a\ncpus: {cores: 4, pin: \"2-4,3\"}\n",
		  "t:2:23: cpus.pin: CPU 3 is named twice" },
		{ "name: a\ncpus: {cores: 2, pin: [5, 5]}\n",
		  "t:2:27: cpus.pin[1]: CPU 5 is named twice" },
		{ "name: a\ncpus: {cores: 2, pin: [6, 2]}\n",
		  "t:2:27: cpus.pin[1]: list the CPUs in ascending order (vCPU "
		  "i runs on the i-th): 2 comes after 6" },
		{ "name: a\ncpus: {cores: 2, pin: \"6,2\"}\n",
		  "t:2:23: cpus.pin: list the CPUs in ascending order (vCPU i "
		  "runs on the i-th): 2 comes after 6" },
		{ "name: a\ncpus: {cores: 2, pin: nnoe}\n",
		  "t:2:23: cpus.pin: unknown value \"nnoe\" (did you mean "
		  "\"none\"?)" },
		{ "name: a\ncpus: {cores: 2, pin: \"1-2,\"}\n",
		  "t:2:23: cpus.pin: expected auto, none, or host CPUs "
		  "(\"2-5\", \"2,3,6,7\" or [2, 3, 6, 7]), got \"1-2,\"" },
		{ "{\"name\": \"a\", \"cpus\": {\"cores\": 2, "
		  "\"pin\": [1, \"2\"]}}",
		  "t:1:47: cpus.pin[1]: expected an integer, got \"2\" "
		  "(a string)" },
		{ "name: a\ndisk: http://example.org/a.qcow2\n",
		  "t:2:7: disk: image is a plain http:// URL: pin its digest "
		  "with sha256 or sha512 (a checksum list fetched over http "
		  "proves nothing), or sign the list (checksum_sig_url and "
		  "keyring)" },
		{ "name: a\nbackend: direct\nconnect: gpu1\n",
		  "t:3:10: connect: a libvirt host, but backend is direct "
		  "(drop one)" },
		{ "name: a\nbackend: libvrit\n",
		  "t:2:10: backend: unknown value \"libvrit\" (did you mean "
		  "\"libvirt\"?)" },
		{ "name: a\nconnect: \"\"\n",
		  "t:2:10: connect: must not be empty" },
		{ "name: a\ncpus: {cores: 2, pni: auto}\n",
		  "t:2:18: cpus.pni: unknown key (did you mean \"pin\"?)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *e;
		struct vmctl_spec *s = load(cases[i].text, SPEC_SYNTAX_AUTO, &e);

		ok(s == NULL, "invalid spec %zu refused", i);
		is_str(e, cases[i].want, "message %zu", i);
		spec_free(s);
		free(e);
	}
}

/* What YAML readers accept stays accepted: the refusal of C1 controls and
 * U+FFFE/U+FFFF has no neighbours caught with it. */
static void test_text_neighbours(void)
{
	static const char *const texts[] = {
		"\xc2\xa0",         /* U+00A0, just past C1 */
		"\x7e",              /* ~, just before DEL */
		"\xc3\xa9\xe2\x82\xac", /* e acute, euro */
		"\xef\xbf\xbd",     /* U+FFFD, just before U+FFFE */
		"\xef\xb7\x90",     /* U+FDD0, a noncharacter YAML allows */
		"\xf0\x9f\x98\x80", /* an emoji */
		"\xf4\x8f\xbf\xbd", /* U+10FFFD */
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		static const enum spec_syntax syn[] = { SPEC_SYNTAX_YAML,
							SPEC_SYNTAX_JSON };

		for (size_t k = 0; k < 2; k++) {
			char *text = xasprintf(
				k == 0 ? "name: a\nkernel: {image: /k, "
					 "cmdline: \"x%sx\"}\n"
				       : "{\"name\": \"a\", \"kernel\": "
					 "{\"image\": \"/k\", \"cmdline\": "
					 "\"x%sx\"}}",
				texts[i]);
			char *e;
			struct vmctl_spec *sp = load(text, syn[k], &e);

			ok(sp != NULL, "%s: text %zu accepted (%s)",
			   k == 0 ? "YAML" : "JSON", i, e ? e : "");
			spec_free(sp);
			free(e);
			free(text);
		}
	}
}

/* usb: the same list in both syntaxes, written back, located errors. */
static void test_usb(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "name: a\nusb: [{id: \"46d:c52b\"}]\n",
		  "t:2:12: usb[0].id: invalid USB id \"46d:c52b\" "
		  "(VENDOR:PRODUCT in hex, e.g. \"046d:c52b\")" },
		{ "name: a\nusb: [{bus: 256, port: \"1\"}]\n",
		  "t:2:13: usb[0].bus: 256 is out of range (1 to 255)" },
		{ "{\"name\": \"a\", \"usb\": [{\"bus\": 1, \"port\": \"1.0\"}]}",
		  "t:1:42: usb[0].port: invalid USB port \"1.0\" (the "
		  "kernel's port path: \"1\", \"1.2\", \"1.2.3\"; 1 to 31 "
		  "each, at most 7 deep)" },
		{ "name: a\nusb: [{id: \"046d:c52b\"}, {bus: 1}]\n",
		  "t:2:26: usb[1]: give either id, or bus and port" },
		{ "name: a\nusb: [{id: \"046d:c52b\", port: \"1\"}]\n",
		  "t:2:7: usb[0]: give either id, or bus and port" },
		{ "name: a\nusb: {id: \"046d:c52b\"}\n",
		  "t:2:6: usb: expected a list of USB devices, e.g. [{id: "
		  "\"046d:c52b\"}], got a mapping" },
		{ "name: a\nusb: [{i: 1}, {i: 2}, {i: 3}, {i: 4}, {i: 5}, "
		  "{i: 6}, {i: 7}, {i: 8}]\n",
		  "t:2:6: usb: 8 USB devices, at most 7" },
	};
	const char *yaml = "name: a\nusb: [{id: \"046D:c52b\"}, "
			   "{bus: 3, port: \"1.2\"}]\n";
	const char *json = "{\"name\": \"a\", \"usb\": [{\"id\": \"046d:c52b\"},"
			   " {\"bus\": 3, \"port\": \"1.2\"}]}";
	char *e1, *e2, *e3 = NULL, *text = NULL;
	struct vmctl_spec *a = load(yaml, SPEC_SYNTAX_YAML, &e1);
	struct vmctl_spec *b = load(json, SPEC_SYNTAX_JSON, &e2);
	struct vmctl_spec *c = NULL;

	ok(a && b && a->n_usb == 2 && b->n_usb == 2 &&
	   a->usb[0].vendor_id == 0x046d && b->usb[0].product_id == 0xc52b &&
	   a->usb[0].port == NULL && a->usb[1].bus == 3 &&
	   strcmp(b->usb[1].port, "1.2") == 0,
	   "usb: both syntaxes%s%s%s", e1 ? e1 : "", e2 ? " / " : "",
	   e2 ? e2 : "");
	if (a != NULL) {
		cJSON *j = spec_to_json(a);

		text = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
		c = load(text, SPEC_SYNTAX_JSON, &e3);
	}
	ok(text && strstr(text, "\"usb\":[{\"id\":\"046d:c52b\"},{\"bus\":3,"
			  "\"port\":\"1.2\"}]") && c && c->n_usb == 2,
	   "usb written back and read again: %s", text ? text : "");
	spec_free(a);
	spec_free(b);
	spec_free(c);
	free(e1);
	free(e2);
	free(e3);
	free(text);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char *e;
		struct vmctl_spec *sp = load(bad[i].text, SPEC_SYNTAX_AUTO, &e);

		is_str(e, bad[i].want, "usb error %zu", i);
		spec_free(sp);
		free(e);
	}
}

int main(void)
{
	test_parity();
	test_defaults();
	test_default_spec();
	test_default_spec_mirror();
	test_sizes();
	test_pci_addr();
	test_names();
	test_backend();
	test_errors();
	test_memory_and_pin();
	test_round_trip();
	test_text_neighbours();
	test_usb();
	return tap_done();
}
