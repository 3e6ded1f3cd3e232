// SPDX-License-Identifier: GPL-2.0-or-later
/* Spec + host facts -> argv, and the quoting it relies on. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/qemu-argv.h"
#include "vmctl/quote.h"
#include "vmctl/suggest.h"

/* Index of the argument after `opt` whose value starts with `prefix`. */
static const char *find_opt(const struct strv *argv, const char *opt,
			    const char *prefix)
{
	for (size_t i = 0; i + 1 < argv->n; i++)
		if (strcmp(argv->v[i], opt) == 0 &&
		    strncmp(argv->v[i + 1], prefix, strlen(prefix)) == 0)
			return argv->v[i + 1];
	return NULL;
}

static void test_quote(void)
{
	char *s;

	is_str(s = quote_qemu_opt("/a,b,,c"), "/a,,b,,,,c", "commas double");
	free(s);
	is_str(s = quote_qemu_opt("plain"), "plain", "no comma, no change");
	free(s);
	is_str(s = quote_shell("-m"), "-m", "safe word bare");
	free(s);
	is_str(s = quote_shell("a b"), "'a b'", "space quoted");
	free(s);
	is_str(s = quote_shell("it's"), "'it'\\''s'", "quote escaped");
	free(s);
	is_str(s = quote_shell(""), "''", "empty word");
	free(s);
	is_str(s = quote_shell("$(rm -rf /)"), "'$(rm -rf /)'",
	       "command substitution inert");
	free(s);
}

static void test_suggest(void)
{
	static const char *const keys[] = { "memory", "machine", "cpus",
					    "cdrom", NULL };

	is_str(suggest_closest("memroy", keys), "memory", "transposition");
	is_str(suggest_closest("cpu", keys), "cpus", "missing letter");
	is_str(suggest_closest("MEMORY", keys), "memory", "case");
	ok(suggest_closest("zzzzzz", keys) == NULL, "nothing close");
}

static struct vmctl_spec *load(const char *yaml)
{
	struct vmctl_spec *spec = NULL;
	struct vmctl_error *err = NULL;

	if (spec_load_buffer("t", yaml, strlen(yaml), SPEC_SYNTAX_YAML, &spec,
			     &err) < 0) {
		printf("# %s\n", err->message);
		vmctl_error_free(err);
	}
	return spec;
}

static void test_argv(void)
{
	struct vmctl_spec *spec = load(
		"name: vm1\n"
		"accel: kvm\n"
		"disk: {image: /base.qcow2}\n"
		"cdrom: '/iso/with, comma.iso'\n"
		"kernel: {image: /k, initrd: /i, cmdline: 'console=ttyS0 a=\"b c\"'}\n"
		"network: {forwards: ['tcp:8080:80']}\n"
		"vnc: {listen: '::', display: 2}\n"
		"gpu: [{address: '0000:01:00.0', x_vga: true, rom: '/r,om'}]\n"
		"qemu: {extra_args: [-S]}\n");
	struct pci_addr fns[] = { { 0, 1, 0, 0 }, { 0, 1, 0, 1 } };
	struct qemu_gpu gpu = { fns, 2, NULL };
	struct qemu_host host = {
		.vm_dir = "/state, dir/vms/vm1",
		.accel = SPEC_ACCEL_KVM,
		.ssh_port = 2222,
		.vnc_display = 2,
		.ovmf_code = "/ovmf/CODE.fd",
		.gpus = &gpu,
		.n_gpus = 1,
	};
	struct strv argv = { 0 };
	struct vmctl_error *err = NULL;

	ok(spec != NULL, "spec loads");
	if (spec == NULL)
		return;
	gpu.spec = &spec->gpus[0];
	ok(qemu_argv_build(spec, &host, &argv, &err) == 0, "argv builds");
	is_str(argv.v[0], "qemu-system-x86_64", "binary first");
	is_str(find_opt(&argv, "-machine", ""), "q35,accel=kvm", "kvm machine");
	is_str(find_opt(&argv, "-cpu", ""), "host", "host CPU under KVM");
	is_str(find_opt(&argv, "-blockdev",
			"driver=file,filename=/state,, dir/vms/vm1/disk"),
	       "driver=file,filename=/state,, dir/vms/vm1/disk.qcow2,"
	       "node-name=disk0-file,discard=unmap",
	       "overlay path escaped inside -blockdev");
	is_str(find_opt(&argv, "-blockdev", "driver=file,filename=/iso"),
	       "driver=file,filename=/iso/with,, comma.iso,"
	       "node-name=cdrom0-file,read-only=on", "cdrom path escaped");
	is_str(find_opt(&argv, "-pidfile", ""), "/state, dir/vms/vm1/qemu.pid",
	       "-pidfile takes a plain path");
	is_str(find_opt(&argv, "-append", ""), "console=ttyS0 a=\"b c\"",
	       "kernel cmdline is one argument, untouched");
	is_str(find_opt(&argv, "-netdev", ""),
	       "user,id=net0,hostfwd=tcp:0.0.0.0:2222-:22,"
	       "hostfwd=tcp::8080-:80", "SSH and forwards");
	is_str(find_opt(&argv, "-vnc", ""), "[::]:2,password=on",
	       "IPv6 VNC listen bracketed, password on");
	is_str(find_opt(&argv, "-device", "pcie-root-port"),
	       "pcie-root-port,id=gpu0-port,bus=pcie.0,chassis=1",
	       "GPU behind a root port");
	is_str(find_opt(&argv, "-device", "vfio-pci,host=0000:01:00.0"),
	       "vfio-pci,host=0000:01:00.0,id=gpu0-fn0,bus=gpu0-port,addr=00.0,"
	       "multifunction=on,x-vga=on,romfile=/r,,om",
	       "function 0: multifunction, x-vga, escaped rom");
	is_str(find_opt(&argv, "-device", "vfio-pci,host=0000:01:00.1"),
	       "vfio-pci,host=0000:01:00.1,id=gpu0-fn1,bus=gpu0-port,addr=00.1",
	       "function 1 on the same slot");
	ok(find_opt(&argv, "-device", "VGA") == NULL,
	   "no emulated VGA when the GPU has x-vga");
	is_str(find_opt(&argv, "-blockdev",
			"driver=file,filename=/state,, dir/vms/vm1/OVMF"),
	       "driver=file,filename=/state,, dir/vms/vm1/OVMF_VARS.qcow2,"
	       "node-name=ovmf-vars-file", "per-VM UEFI vars, escaped");
	is_str(find_opt(&argv, "-sandbox", ""),
	       "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
	       "resourcecontrol=deny", "sandboxed");
	is_str(argv.v[argv.n - 1], "-S", "extra args last");
	strv_clear(&argv);

	host.accel = SPEC_ACCEL_AUTO;
	ok(qemu_argv_build(spec, &host, &argv, &err) < 0 && err != NULL,
	   "an unresolved accelerator is refused");
	vmctl_error_free(err);
	strv_clear(&argv);
	spec_free(spec);
}

/* Guest RAM: hugepages from a memfd backend bound to a node, merge,
 * and the balloon. */
static void test_memory(void)
{
	static const struct {
		const char *yaml;
		uint64_t page;
		int node;
		const char *machine, *backend;
		bool balloon;
	} cases[] = {
		{ "name: a\naccel: tcg\n", 0, -1, "q35,accel=tcg", NULL,
		  true },
		{ "name: a\nmemory: {size: 2G, merge: false}\n", 0, -1,
		  "q35,accel=tcg,mem-merge=off", NULL, true },
		{ "name: a\nmemory: {size: 64M, hugepages: 2M, balloon: "
		  "false}\n", 2ULL << 20, -1, "q35,accel=tcg,memory-backend=ram0",
		  "memory-backend-memfd,id=ram0,size=67108864,hugetlb=on,"
		  "hugetlbsize=2097152,prealloc=on", false },
		{ "name: a\nmemory: {size: 4G, hugepages: 1G, merge: false}\n",
		  1ULL << 30, 1, "q35,accel=tcg,memory-backend=ram0",
		  "memory-backend-memfd,id=ram0,size=4294967296,hugetlb=on,"
		  "hugetlbsize=1073741824,prealloc=on,host-nodes=1,policy=bind,"
		  "merge=off", false },
		{ "name: a\nmemory: {size: 4G, hugepages: auto}\n"
		  "gpu: [{address: '0000:01:00.0'}]\n", 2ULL << 20, 0,
		  "q35,accel=tcg,memory-backend=ram0",
		  "memory-backend-memfd,id=ram0,size=4294967296,hugetlb=on,"
		  "hugetlbsize=2097152,prealloc=on,host-nodes=0,policy=bind",
		  false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmctl_spec *spec = load(cases[i].yaml);
		struct pci_addr fn = { 0, 1, 0, 0 };
		struct qemu_gpu gpu = { &fn, 1, NULL };
		struct qemu_host host = {
			.vm_dir = "/v", .accel = SPEC_ACCEL_TCG,
			.ssh_port = 2222, .ovmf_code = "/ovmf",
			.hugepage_size = cases[i].page,
			.mem_node = cases[i].node,
		};
		struct strv argv = { 0 };
		struct vmctl_error *err = NULL;

		if (spec == NULL) {
			ok(0, "case %zu loads", i);
			continue;
		}
		if (spec->n_gpus > 0) {
			gpu.spec = &spec->gpus[0];
			host.gpus = &gpu;
			host.n_gpus = 1;
		}
		ok(qemu_argv_build(spec, &host, &argv, &err) == 0,
		   "case %zu builds", i);
		is_str(find_opt(&argv, "-machine", ""), cases[i].machine,
		       "case %zu: -machine", i);
		is_str(find_opt(&argv, "-object", ""), cases[i].backend,
		       "case %zu: RAM backend", i);
		is_str(find_opt(&argv, "-m", ""),
		       i == 0 ? "2048M" : i == 1 ? "2048M" : i == 2 ? "64M"
								 : "4096M",
		       "case %zu: -m agrees", i);
		is_str(find_opt(&argv, "-device", "virtio-balloon"),
		       cases[i].balloon ? "virtio-balloon-pci,id=balloon0,"
					  "deflate-on-oom=on" : NULL,
		       "case %zu: balloon %s", i,
		       cases[i].balloon ? "on" : "off");
		vmctl_error_free(err);
		strv_clear(&argv);
		spec_free(spec);
	}
}

static void test_mac(void)
{
	char a[18], b[18], c[18];

	qemu_mac_for_name("vm1", a);
	qemu_mac_for_name("vm1", b);
	qemu_mac_for_name("vm2", c);
	ok(strcmp(a, b) == 0 && strcmp(a, c) != 0, "MAC stable per name");
	ok(strncmp(a, "52:54:00:", 9) == 0 && strlen(a) == 17,
	   "MAC in QEMU's locally administered range");
}

int main(void)
{
	test_quote();
	test_suggest();
	test_argv();
	test_memory();
	test_mac();
	return tap_done();
}
