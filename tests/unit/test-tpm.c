// SPDX-License-Identifier: GPL-2.0-or-later
/* Windows 11's needs, pure parts: swtpm's argv, QEMU's TPM and Secure
 * Boot options, the firmware search, the spec keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vmctl/firmware.h"
#include "vmctl/fsutil.h"
#include "vmctl/qemu-argv.h"
#include "vmctl/tpm.h"
#include "vmctl/xalloc.h"

static bool has_pair(const struct strv *argv, const char *opt,
		     const char *value)
{
	for (size_t i = 0; i + 1 < argv->n; i++)
		if (strcmp(argv->v[i], opt) == 0 &&
		    strcmp(argv->v[i + 1], value) == 0)
			return true;
	return false;
}

static bool has_word(const struct strv *argv, const char *word)
{
	for (size_t i = 0; i < argv->n; i++)
		if (strcmp(argv->v[i], word) == 0)
			return true;
	return false;
}

static struct vmctl_spec *load(const char *yaml, char **why)
{
	struct vmctl_spec *spec = NULL;
	struct vmctl_error *err = NULL;

	*why = NULL;
	if (spec_load_buffer("t", yaml, strlen(yaml), SPEC_SYNTAX_YAML, &spec,
			     &err) < 0) {
		*why = xstrdup(err->message);
		vmctl_error_free(err);
	}
	return spec;
}

static void test_swtpm_argv(void)
{
	struct strv argv = { 0 };

	tpm_swtpm_argv("/s/vms/w", &argv);
	is_str(argv.v[0], "swtpm", "swtpm from PATH");
	is_str(argv.v[1], "socket", "socket interface");
	ok(has_word(&argv, "--tpm2"), "a TPM 2.0");
	ok(has_pair(&argv, "--tpmstate", "dir=/s/vms/w/tpm,mode=0600"),
	   "state in the VM directory");
	ok(has_pair(&argv, "--ctrl",
		    "type=unixio,path=/s/vms/w/swtpm.sock,mode=0600"),
	   "control socket in the VM directory");
	ok(has_pair(&argv, "--pid", "file=/s/vms/w/swtpm.pid"), "pidfile");
	ok(has_pair(&argv, "--log", "file=/s/vms/w/swtpm.log"), "log");
	ok(has_word(&argv, "--terminate"), "exits when QEMU disconnects");
	ok(has_word(&argv, "--daemon"), "daemonized: outlives vmctl");
	strv_clear(&argv);
}

static void test_qemu_argv(void)
{
	char *why;
	struct vmctl_spec *spec = load("name: w\nfirmware: uefi-secure\n"
				       "tpm: true\n", &why);
	struct qemu_host host = {
		.vm_dir = "/st,x/vms/w",
		.accel = SPEC_ACCEL_TCG,
		.ssh_port = 2222,
		.ovmf_code = "/ovmf/CODE.secboot.fd",
	};
	struct strv argv = { 0 };
	struct vmctl_error *err = NULL;

	ok(spec != NULL, "secure + tpm spec loads%s%s", why ? ": " : "",
	   why ? why : "");
	free(why);
	if (spec == NULL)
		return;
	ok(qemu_argv_build(spec, &host, &argv, &err) == 0, "argv builds");
	ok(has_pair(&argv, "-machine", "q35,accel=tcg,smm=on"), "SMM on");
	ok(has_pair(&argv, "-global",
		    "driver=cfi.pflash01,property=secure,value=on"),
	   "flash writable only from SMM");
	ok(has_pair(&argv, "-blockdev", "driver=file,filename="
		    "/ovmf/CODE.secboot.fd,node-name=ovmf-code-file,"
		    "read-only=on") &&
	   has_pair(&argv, "-blockdev", "driver=raw,file=ovmf-code-file,"
					"node-name=ovmf-code,read-only=on"),
	   "code read-only");
	ok(has_pair(&argv, "-blockdev", "driver=file,filename="
		    "/st,,x/vms/w/OVMF_VARS.qcow2,node-name=ovmf-vars-file") &&
	   has_pair(&argv, "-machine", "pflash0=ovmf-code,pflash1=ovmf-vars"),
	   "the VM's own variables");
	ok(has_pair(&argv, "-chardev",
		    "socket,id=chrtpm,path=/st,,x/vms/w/swtpm.sock"),
	   "swtpm's socket, escaped");
	ok(has_pair(&argv, "-tpmdev", "emulator,id=tpm0,chardev=chrtpm"),
	   "emulator backend");
	ok(has_pair(&argv, "-device", "tpm-crb,tpmdev=tpm0,id=tpm0"),
	   "a CRB TPM");
	strv_clear(&argv);
	host.ovmf_code = NULL;
	ok(qemu_argv_build(spec, &host, &argv, &err) < 0 && err != NULL &&
	   err->status == VMCTL_EXIT_UNAVAILABLE, "no OVMF: 69");
	vmctl_error_free(err);
	strv_clear(&argv);
	spec_free(spec);

	spec = load("name: p\nmachine: pc\n", &why);
	host.ovmf_code = NULL;
	err = NULL;
	ok(spec != NULL && qemu_argv_build(spec, &host, &argv, &err) == 0 &&
	   has_pair(&argv, "-machine", "pc,accel=tcg") &&
	   !has_word(&argv, "-tpmdev") && !has_word(&argv, "-global"),
	   "neither key: no SMM, no TPM");
	free(why);
	strv_clear(&argv);
	spec_free(spec);
}

static void test_spec(void)
{
	char *why;
	struct vmctl_spec *spec = load("name: a\nmachine: pc\n"
				       "firmware: uefi-secure\n", &why);

	ok(spec == NULL && why && strstr(why, "needs a q35 machine"),
	   "uefi-secure on pc refused: %s", why ? why : "");
	free(why);
	spec_free(spec);
	spec = load("name: a\nmachine: pc-q35-8.2\nfirmware: uefi-secure\n",
		    &why);
	ok(spec != NULL && spec->firmware == SPEC_FIRMWARE_UEFI_SECURE &&
	   !spec->tpm, "pc-q35-* is q35; tpm off by default");
	ok(spec && spec_firmware_is_uefi(spec->firmware) &&
	   strcmp(spec_firmware_name(spec->firmware), "uefi-secure") == 0,
	   "uefi-secure is UEFI, named back");
	free(why);
	spec_free(spec);
	spec = load("name: a\ntpm: yes\n", &why);
	ok(spec == NULL && why != NULL, "tpm takes a boolean only");
	free(why);
	spec_free(spec);
}

/* The firmware search under a fake root: the secure pair only for
 * uefi-secure, never the plain build. */
static void test_firmware(void)
{
	char tmpl[] = "/tmp/vmctl-tpm-fw.XXXXXX";
	char *root = mkdtemp(tmpl), *dir;
	struct vmctl_env env = { 0 };
	struct firmware_ovmf fw;
	struct vmctl_error *err = NULL;
	static const char *const files[] = {
		"OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd",
		"OVMF_CODE_4M.secboot.fd", "OVMF_VARS_4M.ms.fd",
	};

	if (root == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	env.root = root;
	ok(firmware_find(&env, SPEC_FIRMWARE_UEFI_SECURE, &fw, &err) < 0 &&
	   err && err->status == VMCTL_EXIT_UNAVAILABLE &&
	   strstr(err->message, "Secure Boot") != NULL,
	   "none installed: 69, names Secure Boot");
	vmctl_error_free(err);
	dir = xasprintf("%s/usr/share/OVMF", root);
	ok(fs_mkdir_p(dir, 0755, NULL) == 0, "fake OVMF dir");
	for (size_t i = 0; i < 4; i++) {
		char *p = xasprintf("%s/%s", dir, files[i]);
		FILE *f = fopen(p, "w");

		if (f)
			fclose(f);
		free(p);
	}
	ok(firmware_find(&env, SPEC_FIRMWARE_UEFI_SECURE, &fw, NULL) == 0 &&
	   strstr(fw.code, "/OVMF_CODE_4M.secboot.fd") &&
	   strstr(fw.vars, "/OVMF_VARS_4M.ms.fd"),
	   "secure: the SMM build and the store with Microsoft's keys");
	firmware_ovmf_clear(&fw);
	ok(firmware_find(&env, SPEC_FIRMWARE_UEFI, &fw, NULL) == 0 &&
	   strstr(fw.code, "/OVMF_CODE_4M.fd") &&
	   strstr(fw.vars, "/OVMF_VARS_4M.fd"), "plain: the non-SMM build");
	firmware_ovmf_clear(&fw);
	fs_remove_tree(root, NULL);
	free(dir);
}

int main(void)
{
	test_swtpm_argv();
	test_qemu_argv();
	test_spec();
	test_firmware();
	return tap_done();
}
