// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl snapshot create NAME SNAP [--memory] | list NAME | revert NAME SNAP
 * | delete NAME SNAP */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmctl/cmd.h"
#include "vmctl/lvsnapshot.h"
#include "vmctl/lvvm-snapshot.h"
#include "vmctl/view.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vm-snapshot.h"
#include "vmctl/xalloc.h"

/* uri: the libvirt host's (--connect), or NULL. */
static void print_done(const struct vmctl_env *env, const char *name,
		       const char *snap, const char *action, bool memory,
		       const char *uri, const char *text)
{
	if (env->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "snapshot", snap);
		cJSON_AddStringToObject(o, "action", action);
		cJSON_AddBoolToObject(o, "memory", memory);
		if (uri != NULL) {
			cJSON_AddStringToObject(o, "backend", "libvirt");
			cJSON_AddStringToObject(o, "host", uri);
		}
		view_print_json(o);
		cJSON_Delete(o);
	} else if (env->verbosity >= 0) {
		printf("%s\n", text);
	}
}

static char *size_text(uint64_t bytes)
{
	if (bytes == 0)
		return xstrdup("-");
	if (bytes >= (1ull << 30))
		return xasprintf("%.1fG", (double)bytes / (1ull << 30));
	return xasprintf("%.1fM", (double)bytes / (1ull << 20));
}

static int snapshot_list(struct vmctl_env *env, const char *name,
			 struct vmctl_error **err)
{
	struct snapshot_record rec;
	struct snapshot_image *img = NULL;
	struct snapshot_row *rows = NULL;
	size_t n_img = 0, n;
	cleanup_free char *uri = NULL;

	if (env->connect != NULL
		    ? lvvm_snapshot_list(env, name, &rec, &img, &n_img, &uri,
					 err) < 0
		    : vm_snapshot_list(env, name, &rec, &img, &n_img, err) < 0)
		return -1;
	n = snapshot_rows(&rec, img, n_img, &rows);
	if (env->json) {
		cJSON *a = snapshot_rows_json(rows, n);

		if (uri != NULL)
			lvsnapshot_json_remote(a, uri);
		view_print_json(a);
		cJSON_Delete(a);
	} else if (n == 0) {
		printf("VM %s has no snapshots\n", name);
	} else {
		printf("%-28s %-19s %-6s %8s  %s\n", "NAME", "CREATED",
		       "MEMORY", "SIZE", "PARENT");
		for (size_t i = 0; i < n; i++) {
			cleanup_free char *label = xasprintf(
				"%*s%s%s", rows[i].depth * 2, "", rows[i].name,
				rows[i].current ? " *" : "");
			cleanup_free char *size = size_text(
				rows[i].vm_state_size);
			char when[32] = "-";
			time_t t = rows[i].created;
			struct tm tm;

			if (t > 0 && localtime_r(&t, &tm) != NULL)
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
					 &tm);
			printf("%-28s %-19s %-6s %8s  %s\n", label, when,
			       rows[i].memory ? "yes" : "no", size,
			       rows[i].parent ? rows[i].parent : "-");
			if (rows[i].problem != NULL)
				fprintf(stderr, "vmctl: VM %s: snapshot %s: "
					"%s\n", name, rows[i].name,
					rows[i].problem);
		}
		if (rec.saved)
			printf("(VM %s also holds a saved state: vmctl start "
			       "%s resumes it)\n", name, name);
	}
	free(rows);
	snapshot_images_free(img, n_img);
	snapshot_record_clear(&rec);
	return VMCTL_EXIT_OK;
}

static const struct option options[] = {
	{ "memory", no_argument, NULL, 'm' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_snapshot_exec(struct vmctl_env *env, int argc, char **argv,
			     struct vmctl_error **err)
{
	const struct cmd_entry *cmd = &cmd_snapshot_entry;
	bool memory = false;
	const char *sub, *name, *snap;
	cleanup_free char *uri = NULL;   /* --connect's */
	int opt, want;

	while ((opt = cmd_getopt(cmd, env, argc, argv, "", options)) != -1) {
		if (opt != 'm')
			return cmd_done(opt);
		memory = true;
	}
	if (optind >= argc)
		return cmd_usage_error(cmd, err, "create, list, revert or "
				       "delete?");
	sub = argv[optind++];
	want = strcmp(sub, "list") == 0 ? 1 : 2;
	if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 &&
	    strcmp(sub, "revert") != 0 && strcmp(sub, "delete") != 0)
		return cmd_usage_error(cmd, err, "unknown subcommand %s", sub);
	if (memory && strcmp(sub, "create") != 0)
		return cmd_usage_error(cmd, err, "--memory is for create");
	if (argc - optind != want)
		return cmd_usage_error(cmd, err, "%s takes %s", sub,
				       want == 1 ? "one VM name"
						 : "a VM name and a snapshot "
						   "name");
	name = argv[optind];
	snap = want == 2 ? argv[optind + 1] : NULL;
	if (env->connect == NULL && vm_require(env, name, err) < 0)
		return -1;
	if (strcmp(sub, "list") == 0)
		return snapshot_list(env, name, err);
	if (strcmp(sub, "create") == 0) {
		cleanup_free char *text = NULL;

		if (env->connect != NULL
			    ? lvvm_snapshot_create(env, name, snap, memory, &uri,
						   err) < 0
			    : vm_snapshot_create(env, name, snap, memory,
						 err) < 0)
			return -1;
		text = xasprintf("Took snapshot %s of VM %s (%s)", snap, name,
				 memory ? "disk and memory" : "disk only");
		print_done(env, name, snap, "create", memory, uri, text);
	} else if (strcmp(sub, "revert") == 0) {
		cleanup_free char *text = NULL;
		bool resumes;

		if (env->connect != NULL
			    ? lvvm_snapshot_revert(env, name, snap, &resumes,
						   &uri, err) < 0
			    : vm_snapshot_revert(env, name, snap, &resumes,
						 err) < 0)
			return -1;
		text = xasprintf("Reverted VM %s to snapshot %s%s", name, snap,
				 resumes ? " (with its memory)" : "");
		print_done(env, name, snap, "revert", resumes, uri, text);
	} else {
		cleanup_free char *text = NULL;

		if (env->connect != NULL
			    ? lvvm_snapshot_delete(env, name, snap, &uri,
						   err) < 0
			    : vm_snapshot_delete(env, name, snap, err) < 0)
			return -1;
		text = xasprintf("Deleted snapshot %s of VM %s", snap, name);
		print_done(env, name, snap, "delete", false, uri, text);
	}
	return VMCTL_EXIT_OK;
}

const struct cmd_entry cmd_snapshot_entry = {
	.name = "snapshot",
	.usage = "create NAME SNAP [--memory] | list NAME [--json] | "
		 "revert NAME SNAP | delete NAME SNAP",
	.summary = "snapshots of a VM's disk (and memory): take, list, revert "
		   "to, delete",
	.help = "Snapshots are qcow2 internal snapshots in the VM's disk, kept "
		"as a tree:\na new one's parent is the current one; revert "
		"makes SNAP current; delete\nmoves its children to its parent.\n"
		"  create   of a stopped VM: its disk.  Of a running VM: its disk "
		"at once\n           (QMP), or with --memory its RAM and "
		"devices too (the guest\n           pauses while QEMU writes "
		"them).\n"
		"  revert   a stopped VM: its disk now, and its memory (a "
		"--memory snapshot)\n           at the next start.  A running "
		"VM: only to a --memory snapshot,\n           which it resumes "
		"at once.  A saved VM's saved state goes.\n"
		"  list     the tree: name (* current), time, memory, the size "
		"of the saved\n           memory, parent; --json: docs/json.md.  "
		"A snapshot vmctl's record\n           and the disk disagree "
		"about is named on stderr.\n"
		"A VM with a passed-through GPU takes disk snapshots only while "
		"stopped\n(VFIO device state cannot be saved).  Names: a "
		"letter, then letters, digits,\n'.', '_', '-'.  Exit status 64 "
		"for an invalid name, 1 for an unknown or\nduplicate one or a "
		"refused operation; nothing is changed then.\n"
		"With --connect: libvirt's internal snapshots and its snapshot "
		"tree; a running\nVM takes --memory snapshots only, a UEFI VM "
		"none; a --memory snapshot\nreverted while stopped is kept "
		"as the VM's saved state for its next start.\n",
	.remote = true,
	.options = options,
	.exec = cmd_snapshot_exec,
};
