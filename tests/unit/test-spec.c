// SPDX-License-Identifier: GPL-2.0-or-later
/* The spec loader: both syntaxes, defaults, sizes, addresses, errors. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
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
	spec_free(s);
}

static void test_default_spec(void)
{
	struct vmctl_spec *s = NULL;
	struct vmctl_error *err = NULL;

	ok(spec_load_default(&s, &err) == 0, "embedded default spec loads");
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

int main(void)
{
	test_parity();
	test_defaults();
	test_default_spec();
	test_sizes();
	test_pci_addr();
	test_names();
	test_errors();
	test_text_neighbours();
	return tap_done();
}
