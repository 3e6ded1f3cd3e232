// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl cmdline [SPEC] [--swtpm]: the QEMU argv `create` would run, or
 * the swtpm argv `start` runs first for a spec with tpm: true. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmctl/cmd.h"
#include "vmctl/media.h"
#include "vmctl/hostfacts.h"
#include "vmctl/qemu-argv.h"
#include "vmctl/quote.h"
#include "vmctl/spec.h"
#include "vmctl/tpm.h"
#include "vmctl/xalloc.h"

static void print_json(const struct strv *argv)
{
	cJSON *arr = cJSON_CreateArray();
	char *text;

	for (size_t i = 0; i < argv->n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(argv->v[i]));
	text = cJSON_PrintUnformatted(arr);
	puts(text);
	free(text);
	cJSON_Delete(arr);
}

static const struct option options[] = {
	{ "swtpm", no_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_cmdline_exec(struct vmctl_env *env, int argc, char **argv,
			    struct vmctl_error **err)
{
	struct vmctl_spec *spec = NULL;
	struct hostfacts facts = { 0 };
	struct strv qemu = { 0 };
	bool swtpm = false;
	int opt, ret = -1;

	while ((opt = cmd_getopt(&cmd_cmdline_entry, env, argc, argv, "",
				 options)) != -1) {
		if (opt != 's')
			return opt == CMD_OPT_EXIT ? VMCTL_EXIT_OK
						   : VMCTL_EXIT_USAGE;
		swtpm = true;
	}
	if (argc - optind > 1)
		return cmd_usage_error(&cmd_cmdline_entry, err,
				       "one spec at most");
	if (optind < argc)
		ret = spec_load_file(argv[optind], &spec, err);
	else
		ret = spec_load_default(env->image_mirror, &spec, err);
	if (ret < 0)
		return -1;
	if (swtpm && !spec->tpm) {
		vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "--swtpm: VM %s has "
				"no tpm: true", spec->name);
		spec_free(spec);
		return -1;
	}
	ret = hostfacts_gather(env, spec, NULL, &facts, err);
	/* what create's first start runs: boot: cdrom-once's CD-ROM first */
	facts.qemu.cdrom_first = media_cdrom_first(spec, false, false);
	if (ret == 0 && swtpm)
		tpm_swtpm_argv(facts.qemu.vm_dir, &qemu);
	else if (ret == 0)
		ret = qemu_argv_build(spec, &facts.qemu, &qemu, err);
	if (ret == 0) {
		if (facts.accel_reason != NULL && env->verbosity > 0)
			fprintf(stderr, "vmctl: accel auto: using TCG (%s)\n",
				facts.accel_reason);
		if (env->json) {
			print_json(&qemu);
		} else {
			char *line = quote_shell_argv(&qemu);

			puts(line);
			free(line);
		}
	}
	strv_clear(&qemu);
	hostfacts_clear(&facts);
	spec_free(spec);
	return ret;
}

const struct cmd_entry cmd_cmdline_entry = {
	.name = "cmdline",
	.usage = "[SPEC] [--swtpm] [--json]",
	.summary = "print the QEMU command line `create` would run",
	.help = "Without SPEC, uses the embedded default spec. The line is "
		"shell-quoted so it\ncan be pasted; --json prints the argv as "
		"a JSON array. Host facts that the\nspec leaves open (the "
		"accelerator for accel: auto, free ports) are read\nfrom this "
		"host, as `create` would. With --swtpm, the line of the "
		"software TPM\nthat `start` runs before QEMU for a spec with "
		"tpm: true.\n",
	.options = options,
	.exec = cmd_cmdline_exec,
};
