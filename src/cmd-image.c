// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl image list [--json] | image prune [--dry-run] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/cmd.h"
#include "vmctl/imagecache.h"
#include "vmctl/view.h"
#include "vmctl/xalloc.h"

static char *human_size(uint64_t bytes)
{
	double mib = (double)bytes / (1024.0 * 1024.0);

	if (mib >= 1024.0)
		return xasprintf("%.1f GiB", mib / 1024.0);
	return xasprintf("%.1f MiB", mib);
}

static char *joined(const struct strv *sv, const char *none)
{
	char *out;

	if (sv->n == 0)
		return xstrdup(none);
	out = xstrdup(sv->v[0]);
	for (size_t i = 1; i < sv->n; i++) {
		char *more = xasprintf("%s,%s", out, sv->v[i]);

		free(out);
		out = more;
	}
	return out;
}

static cJSON *strv_json(const struct strv *sv)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(sv->v[i]));
	return arr;
}

static cJSON *entry_json(const struct imagecache_entry *e)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "path", e->path);
	if (e->digest)
		cJSON_AddStringToObject(o, "digest", e->digest);
	else
		cJSON_AddNullToObject(o, "digest");
	cJSON_AddNumberToObject(o, "size", (double)e->size);
	cJSON_AddNumberToObject(o, "disk_bytes", (double)e->disk_bytes);
	cJSON_AddBoolToObject(o, "legacy", e->legacy);
	cJSON_AddItemToObject(o, "urls", strv_json(&e->urls));
	cJSON_AddItemToObject(o, "vms", strv_json(&e->vms));
	cJSON_AddBoolToObject(o, "layer", e->layer);
	if (e->layer && e->base)
		cJSON_AddStringToObject(o, "base", e->base);
	else if (e->layer)
		cJSON_AddNullToObject(o, "base");
	return o;
}

static int image_list(struct vmctl_env *env, struct vmctl_error **err)
{
	struct imagecache_listing l;

	if (imagecache_list(env, &l, err) < 0)
		return -1;
	if (env->json) {
		cJSON *arr = cJSON_CreateArray();

		for (size_t i = 0; i < l.n; i++)
			cJSON_AddItemToArray(arr, entry_json(&l.v[i]));
		view_print_json(arr);
		cJSON_Delete(arr);
	} else if (l.n == 0) {
		printf("no cached images\n");
	} else {
		printf("%-20s %10s  %-20s %s\n", "DIGEST", "SIZE", "VMS",
		       "SOURCE");
		for (size_t i = 0; i < l.n; i++) {
			const struct imagecache_entry *e = &l.v[i];
			cleanup_free char *size = human_size(e->size);
			cleanup_free char *vms = joined(&e->vms, "-");
			cleanup_free char *urls = joined(&e->urls,
							 e->legacy ? e->name
								   : "-");

			if (e->layer) {
				cleanup_free char *on = xasprintf(
					"%s over %s", e->name,
					e->base ? e->base : "?");

				printf("%-20.20s %10s  %-20s %s\n", "layer",
				       size, vms, on);
				continue;
			}
			printf("%-20.20s %10s  %-20s %s\n",
			       e->digest ? e->digest : "unknown", size, vms,
			       urls);
		}
	}
	for (size_t i = 0; i < l.unknown_vms.n; i++)
		fprintf(stderr, "vmctl: VM %s: cannot tell which image it "
			"uses\n", l.unknown_vms.v[i]);
	imagecache_listing_clear(&l);
	return VMCTL_EXIT_OK;
}

static int image_prune(struct vmctl_env *env, bool dry_run,
		       struct vmctl_error **err)
{
	struct imagecache_prune p;
	cleanup_free char *freed = NULL;

	if (imagecache_prune(env, dry_run, &p, err) < 0)
		return vmctl_error_wrap(err, "image prune");
	for (size_t i = 0; i < p.removed.n; i++)
		printf("%s %s\n", dry_run ? "would remove" : "removed",
		       p.removed.v[i]);
	freed = human_size(p.freed);
	printf("%s %s\n", dry_run ? "would free" : "freed", freed);
	imagecache_prune_clear(&p);
	return VMCTL_EXIT_OK;
}

enum { OPT_DRY_RUN = 0x300 };
static const struct option options[] = {
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ NULL, 0, NULL, 0 },
};

static int cmd_image_exec(struct vmctl_env *env, int argc, char **argv,
			  struct vmctl_error **err)
{
	bool dry_run = false;
	const char *sub;
	int opt;

	while ((opt = cmd_getopt(&cmd_image_entry, env, argc, argv, "",
				 options)) != -1) {
		if (opt != OPT_DRY_RUN)
			return cmd_done(opt);
		dry_run = true;
	}
	if (optind >= argc)
		return cmd_usage_error(&cmd_image_entry, err,
				       "list or prune?");
	sub = argv[optind];
	if (optind + 1 < argc)
		return cmd_usage_error(&cmd_image_entry, err, "%s takes no "
				       "arguments", sub);
	if (strcmp(sub, "list") == 0 && !dry_run)
		return image_list(env, err);
	if (strcmp(sub, "prune") == 0)
		return image_prune(env, dry_run, err);
	return cmd_usage_error(&cmd_image_entry, err, "unknown subcommand "
			       "%s%s", sub, dry_run ? " (--dry-run is for "
			       "prune)" : "");
}

const struct cmd_entry cmd_image_entry = {
	.name = "image",
	.usage = "list [--json] | prune [--dry-run]",
	.summary = "the image cache: list entries and their VMs, prune unused "
		   "ones",
	.help = "Downloaded base images live in STATE_DIR/images/, one entry "
		"per digest.\nAn entry is never replaced while it verifies, so "
		"a VM's base never changes\nunder it; a new digest for a URL "
		"(a republished \"latest\") is a new entry.\n"
		"  list   each entry: digest, size, the VMs over it, its source "
		"URLs\n"
		"         (--json: docs/json.md)\n"
		"  prune  remove the entries no VM uses, and interrupted "
		"downloads;\n"
		"         --dry-run says what would go.  Waits for creates in "
		"progress.\n",
	.options = options,
	.exec = cmd_image_exec,
};
