// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl host reserve [SIZE | PERCENT% | default] [--dry-run]: the memory
 * the resource broker keeps for the host (hostconf.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/broker.h"
#include "vmctl/cmd.h"
#include "vmctl/hostconf.h"
#include "vmctl/hostinv.h"
#include "vmctl/view.h"
#include "vmctl/xalloc.h"

static void show(const struct vmctl_env *env, const struct hostconf *c,
		 uint64_t total)
{
	cleanup_free char *setting = hostconf_reserve_format(&c->reserve);
	cleanup_free char *bytes = broker_size_format(
		hostconf_reserve(c, total));
	cleanup_free char *all = broker_size_format(total);
	cleanup_free char *path = hostconf_path(env);

	if (env->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "setting", setting);
		cJSON_AddStringToObject(o, "source",
					hostconf_source_name(c->reserve_from));
		cJSON_AddNumberToObject(o, "bytes",
					(double)hostconf_reserve(c, total));
		cJSON_AddNumberToObject(o, "total", (double)total);
		view_print_json(o);
		cJSON_Delete(o);
		return;
	}
	switch (c->reserve_from) {
	case HOSTCONF_FROM_ENV:
		printf("host reserve: %s (VMCTL_HOST_RESERVE, over %s)",
		       setting, path);
		break;
	case HOSTCONF_FROM_FILE:
		printf("host reserve: %s (%s)", setting, path);
		break;
	default:
		printf("host reserve: default (10 %% of RAM, at least 2 GiB)");
		break;
	}
	printf(": %s of %s kept for the host\n", bytes, all);
}

int cmd_host_reserve(struct vmctl_env *env, const struct cmd_host_opts *opts,
		     int argc, char **argv, struct vmctl_error **err)
{
	struct hostconf conf;
	struct hostconf_reserve r;
	uint64_t total;

	if (argc > 1)
		return cmd_usage_error(&cmd_host_entry, err, "reserve: one "
				       "setting only");
	if (opts->unmerge)
		return cmd_usage_error(&cmd_host_entry, err, "--unmerge is "
				       "for ksm off");
	if (argc == 1 && hostconf_reserve_parse(argv[0], &r) < 0)
		return cmd_usage_error(&cmd_host_entry, err, "reserve: \"%s\" "
				       "is not %s", argv[0],
				       HOSTCONF_RESERVE_SYNTAX);
	if (argc == 0 && opts->dry_run)
		return cmd_usage_error(&cmd_host_entry, err, "reserve "
				       "without a setting changes nothing: no "
				       "--dry-run");
	if (hostinv_read_mem_total(env, &total, err) < 0)
		return vmctl_error_wrap(err, "host reserve");
	if (argc == 1 && opts->dry_run) {
		cleanup_free char *path = hostconf_path(env);

		conf = (struct hostconf){
			.reserve = r,
			.reserve_from = r.kind == HOSTCONF_RESERVE_DEFAULT
					? HOSTCONF_FROM_DEFAULT
					: HOSTCONF_FROM_FILE,
		};
		if (!env->json)
			printf("# would set the reserve in %s\n", path);
		show(env, &conf, total);
		return VMCTL_EXIT_OK;
	}
	if (argc == 1 && hostconf_write_reserve(env, &r, err) < 0)
		return vmctl_error_wrap(err, "host reserve");
	if (hostconf_read(env, &conf, err) < 0)
		return vmctl_error_wrap(err, "host reserve");
	if (argc == 1 && conf.reserve_from == HOSTCONF_FROM_ENV)
		fprintf(stderr, "vmctl: warning: VMCTL_HOST_RESERVE=%s "
			"overrides the setting while it is set\n",
			env->host_reserve);
	show(env, &conf, total);
	return VMCTL_EXIT_OK;
}
