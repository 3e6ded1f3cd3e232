// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl validate SPEC...: check specs without acting on them. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmctl/cmd.h"
#include "vmctl/spec.h"
#include "vmctl/xalloc.h"

static int cmd_validate_exec(struct vmctl_env *env, int argc, char **argv,
			     struct vmctl_error **err)
{
	cJSON *report = NULL;
	int opt, status = VMCTL_EXIT_OK;

	while ((opt = cmd_getopt(&cmd_validate_entry, env, argc, argv, "",
				 NULL)) != -1) {
		if (opt == CMD_OPT_EXIT)
			return VMCTL_EXIT_OK;
		return VMCTL_EXIT_USAGE;
	}
	if (optind >= argc)
		return cmd_usage_error(&cmd_validate_entry, err,
				       "no spec given");
	if (env->json)
		report = cJSON_CreateArray();
	for (int i = optind; i < argc; i++) {
		struct vmctl_error *e = NULL;
		struct vmctl_spec *spec = NULL;
		cJSON *item;

		if (spec_load_file(argv[i], &spec, &e) == 0) {
			spec_free(spec);
			if (report == NULL && env->verbosity >= 0)
				printf("%s: OK\n", argv[i]);
		} else if (report == NULL) {
			cmd_print_error(e);
		}
		/* The worst outcome decides: unreadable beats invalid. */
		if (e != NULL && (status == VMCTL_EXIT_OK ||
				  e->status == VMCTL_EXIT_NOINPUT))
			status = e->status;
		if (report != NULL) {
			item = cJSON_CreateObject();
			cJSON_AddStringToObject(item, "file", argv[i]);
			cJSON_AddBoolToObject(item, "valid", e == NULL);
			if (e != NULL)
				cJSON_AddStringToObject(item, "error",
							e->message);
			cJSON_AddItemToArray(report, item);
		}
		vmctl_error_free(e);
	}
	if (report != NULL) {
		char *text = cJSON_Print(report);

		puts(text);
		free(text);
		cJSON_Delete(report);
	}
	return status;
}

const struct cmd_entry cmd_validate_entry = {
	.name = "validate",
	.usage = "SPEC...",
	.summary = "check VM specs (YAML or JSON) and report every problem",
	.help = "Prints \"SPEC: OK\" for each valid spec, and for an invalid "
		"one a line\nFILE:LINE:COL: KEY: MESSAGE. Exits 65 if any spec "
		"is invalid, 66 if one\ncannot be read. --json prints "
		"[{\"file\", \"valid\", \"error\"}].\n",
	.exec = cmd_validate_exec,
};
