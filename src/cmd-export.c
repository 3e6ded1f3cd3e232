// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmctl export --libvirt [SPEC]: the spec as a libvirt domain.
 *
 * The facts come from where `create` and `start` take them: this host for
 * what the spec leaves open (hostfacts.c: accelerator, OVMF, GPU
 * functions, hugepage size), and the state dir for the VM's files.  A VM
 * of the spec's name that exists gives its real files (its base as
 * vm.json records it, its VNC password); otherwise the paths are those
 * `create` would make, and what only `create` can know is a placeholder,
 * said on stderr: the base of a URL whose digest is not in the spec, and
 * the VNC password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/cmd.h"
#include "vmctl/hostfacts.h"
#include "vmctl/image.h"
#include "vmctl/imagecache.h"
#include "vmctl/libvirt-xml.h"
#include "vmctl/spec.h"
#include "vmctl/state.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

#define PLACEHOLDER_PASSWORD "@VNC_PASSWORD@"

/* Everything the facts point to, owned here. */
struct export_files {
	char *emulator, *overlay, *base, *base_format, *seed, *nvram,
	     *serial_log, *vnc_password;
	struct strv placeholders;   /* what the note on stderr names */
};

static void export_files_clear(struct export_files *x)
{
	free(x->emulator);
	free(x->overlay);
	free(x->base);
	free(x->base_format);
	free(x->seed);
	free(x->nvram);
	free(x->serial_log);
	free(x->vnc_password);
	strv_clear(&x->placeholders);
}

/* A base not yet fetched: its cache entry when the spec gives the digest,
 * else a placeholder in the cache; a local file's format read from its
 * header, or, while it does not exist, guessed from its name. */
static int planned_base(const struct vmctl_env *env,
			const struct spec_disk *disk, struct export_files *x,
			struct vmctl_error **err)
{
	cleanup_free char *dir = imagecache_dir(env);
	cleanup_free char *entry = NULL;
	const char *format = NULL;
	size_t len = strlen(disk->image);
	bool raw = len > 4 && strcmp(disk->image + len - 4, ".raw") == 0;

	if (strstr(disk->image, "://") == NULL) {
		x->base = xstrdup(disk->image);
		if (access(disk->image, F_OK) == 0) {
			if (image_check_base(disk->image, &format, err) < 0)
				return vmctl_error_wrap(err, "disk.image");
			x->base_format = xstrdup(format);
			return 0;
		}
	} else if (disk->sha256 != NULL || disk->sha512 != NULL) {
		entry = disk->sha256 != NULL
			? imagecache_entry_name(CHECKSUM_SHA256, disk->sha256)
			: imagecache_entry_name(CHECKSUM_SHA512, disk->sha512);
		x->base = xasprintf("%s/%s", dir, entry);
	} else {
		/* named by the digest the checksum list gives at create */
		x->base = xasprintf("%s/DIGEST", dir);
		strv_push(&x->placeholders, "the base image's name");
	}
	x->base_format = xstrdup(raw ? "raw" : "qcow2");
	strv_push(&x->placeholders, "the base image's format");
	return 0;
}

static int gather_files(const struct vmctl_env *env,
			const struct vmctl_spec *spec, struct export_files *x,
			struct vmctl_error **err)
{
	bool exists = state_vm_exists(env, spec->name);
	struct vm_state st = { 0 };

	x->emulator = spec->qemu.binary[0] == '/'
		? xstrdup(spec->qemu.binary)
		: xasprintf("/usr/bin/%s", spec->qemu.binary);
	x->serial_log = state_vm_file(env, spec->name, VMDIR_SERIAL_LOG);
	if (spec->cloud_init.enabled)
		x->seed = state_vm_file(env, spec->name, VMDIR_SEED);
	/* libvirt 9.0 keeps NVRAM raw: a raw file beside the VM's qcow2
	 * variables, made from the template when libvirt first starts it. */
	if (spec_firmware_is_uefi(spec->firmware))
		x->nvram = state_vm_file(env, spec->name, VMDIR_OVMF_VARS);
	if (spec->vnc.enabled && spec->vnc.password) {
		if (exists)
			x->vnc_password = vm_read_vnc_password(env, spec->name);
		if (x->vnc_password == NULL) {
			x->vnc_password = xstrdup(PLACEHOLDER_PASSWORD);
			strv_push(&x->placeholders, "the VNC password");
		}
	}
	if (spec->disk.image == NULL)
		return 0;
	x->overlay = state_vm_file(env, spec->name, VMDIR_DISK);
	if (exists && state_read(env, spec->name, &st, err) < 0)
		return vmctl_error_wrap(err, "VM %s", spec->name);
	if (st.base_image != NULL && st.base_format != NULL) {
		x->base = steal_pointer(&st.base_image);
		x->base_format = steal_pointer(&st.base_format);
		state_clear(&st);
		return 0;
	}
	state_clear(&st);
	return planned_base(env, &spec->disk, x, err);
}

static int export_libvirt(struct vmctl_env *env, const struct vmctl_spec *spec,
			  struct vmctl_error **err)
{
	struct hostfacts facts = { 0 };
	struct export_files x = { 0 };
	struct libvirt_facts lf;
	char *xml = NULL;
	int ret;

	ret = hostfacts_gather(env, spec, NULL, &facts, err);
	if (ret == 0)
		ret = gather_files(env, spec, &x, err);
	if (ret == 0) {
		lf = (struct libvirt_facts){
			.name = spec->name,
			.accel = facts.qemu.accel,
			.emulator = x.emulator,
			.overlay = x.overlay,
			.base = x.base,
			.base_format = x.base_format,
			.seed = x.seed,
			.ovmf_code = facts.ovmf.code,
			.nvram = x.nvram,
			.nvram_template = facts.ovmf.vars,
			.serial_log = x.serial_log,
			.vnc_password = x.vnc_password,
			.hugepage_size = facts.qemu.hugepage_size,
			.gpus = facts.qemu.gpus,
			.n_gpus = facts.qemu.n_gpus,
		};
		ret = libvirt_xml_build(spec, &lf, &xml, err);
	}
	if (ret == 0) {
		if (x.placeholders.n > 0 && env->verbosity >= 0) {
			cleanup_free char *what = strv_join(&x.placeholders,
							    ", ");

			fprintf(stderr, "vmctl: note: no VM %s yet: paths are "
				"those create would make; placeholders for "
				"%s\n", spec->name, what);
		}
		fputs(xml, stdout);
		free(xml);
	}
	export_files_clear(&x);
	hostfacts_clear(&facts);
	return ret;
}

static const struct option longopts[] = {
	{ "libvirt", no_argument, NULL, 'L' },
	{ 0 },
};

static int cmd_export_exec(struct vmctl_env *env, int argc, char **argv,
			   struct vmctl_error **err)
{
	struct vmctl_spec *spec = NULL;
	bool libvirt = false;
	int opt, ret;

	while ((opt = cmd_getopt(&cmd_export_entry, env, argc, argv, "",
				 longopts)) != -1) {
		if (opt == 'L')
			libvirt = true;
		else
			return cmd_done(opt == CMD_OPT_EXIT ? opt
							    : CMD_OPT_USAGE);
	}
	if (!libvirt)
		return cmd_usage_error(&cmd_export_entry, err,
				       "say which format: --libvirt");
	if (argc - optind > 1)
		return cmd_usage_error(&cmd_export_entry, err,
				       "one spec at most");
	if (optind < argc)
		ret = spec_load_file(argv[optind], &spec, err);
	else
		ret = spec_load_default(env->image_mirror, &spec, err);
	if (ret == 0)
		ret = export_libvirt(env, spec, err);
	spec_free(spec);
	return ret;
}

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.usage = "--libvirt [SPEC]",
	.summary = "print the spec as a libvirt domain XML",
	.help = "Without SPEC, uses the embedded default spec. Host facts "
		"the spec leaves open\n(accel: auto, UEFI firmware, the "
		"functions of each GPU, hugepages: auto) are\nread from this "
		"host, as `create` would; a GPU selector no card here "
		"matches is\nan error. When a VM of the spec's name exists, "
		"the XML names its files (disk\noverlay and base, seed, UEFI "
		"variables, serial log) and its VNC password;\notherwise the "
		"paths `create` would make, with placeholders (said on "
		"stderr)\nfor what only create learns: the VNC password "
		"(" PLACEHOLDER_PASSWORD ") and a\ndownloaded base's name and "
		"format. The NIC is on the libvirt network\n\"default\": the "
		"SSH port and forwards do not apply. CPU pinning is left to\n"
		"vmctl and not written.\n",
	.options = longopts,
	.exec = cmd_export_exec,
};
