// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kernel samepage merging (include/vmctl/ksm.h): its attributes read and
 * parsed, and `run` switched by a plan of writes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/ksm.h"
#include "vmctl/sysfs.h"
#include "vmctl/xalloc.h"

#define KSM_DIR "kernel/mm/ksm"

static const char *const run_names[] = {
	[KSM_STOPPED] = "stopped",
	[KSM_RUNNING] = "running",
	[KSM_UNMERGING] = "unmerging",
};

/* The counters, in the order `ksm status` shows them. */
static const struct {
	const char *name;
	size_t offset;
} counters[] = {
	{ "pages_shared", offsetof(struct ksm_status, pages_shared) },
	{ "pages_sharing", offsetof(struct ksm_status, pages_sharing) },
	{ "pages_unshared", offsetof(struct ksm_status, pages_unshared) },
	{ "pages_volatile", offsetof(struct ksm_status, pages_volatile) },
	{ "full_scans", offsetof(struct ksm_status, full_scans) },
	{ "sleep_millisecs", offsetof(struct ksm_status, sleep_millisecs) },
	{ "pages_to_scan", offsetof(struct ksm_status, pages_to_scan) },
};

#define N_COUNTERS (sizeof(counters) / sizeof(counters[0]))

const char *ksm_run_name(enum ksm_run run)
{
	return (unsigned)run <= KSM_UNMERGING ? run_names[run] : "unknown";
}

/* A decimal number as the kernel prints an unsigned long: digits only. */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (*s < '0' || *s > '9' || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int ksm_status_set(struct ksm_status *st, const char *name, const char *text)
{
	uint64_t v;

	if (parse_u64(text, &v) < 0)
		return -1;
	if (strcmp(name, "run") == 0) {
		if (v > KSM_UNMERGING)
			return -1;
		st->run = (enum ksm_run)v;
		return 0;
	}
	if (strcmp(name, "merge_across_nodes") == 0) {
		if (v > 1)
			return -1;
		st->merge_across_nodes = (int)v;
		return 0;
	}
	for (size_t i = 0; i < N_COUNTERS; i++)
		if (strcmp(name, counters[i].name) == 0) {
			*(uint64_t *)((char *)st + counters[i].offset) = v;
			return 0;
		}
	return -1;
}

uint64_t ksm_saved(const struct ksm_status *st)
{
	return st->pages_sharing * st->page_size;
}

/* DIR/NAME into *st; absent is fine unless `required`. */
static int read_one(const char *dir, const char *name, bool required,
		    struct ksm_status *st, struct vmctl_error **err)
{
	cleanup_free char *text = NULL;

	if (sysfs_read_attr(dir, name, &text) < 0) {
		if (errno == ENOENT && !required)
			return 0;
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_FAILURE), errno, "%s/%s",
				dir, name);
	}
	if (ksm_status_set(st, name, text) < 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s/%s: unexpected value \"%s\"", dir,
				       name, text);
	return 0;
}

int ksm_read(const char *sysfs, struct ksm_status *out,
	     struct vmctl_error **err)
{
	cleanup_free char *dir = xasprintf("%s/" KSM_DIR, sysfs);
	struct ksm_status st = { .merge_across_nodes = -1 };
	long page = sysconf(_SC_PAGESIZE);
	struct stat sb;

	if (stat(dir, &sb) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return vmctl_error_errno(err,
				vmctl_error_status_from_errno(errno,
					VMCTL_EXIT_FAILURE), errno, "%s", dir);
		sb.st_mode = 0;
	}
	if (!S_ISDIR(sb.st_mode))
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, ENOENT,
				       "KSM is not available: no %s (a "
				       "kernel without CONFIG_KSM)", dir);
	if (read_one(dir, "run", true, &st, err) < 0 ||
	    read_one(dir, "merge_across_nodes", false, &st, err) < 0)
		return -1;
	for (size_t i = 0; i < N_COUNTERS; i++)
		if (read_one(dir, counters[i].name, false, &st, err) < 0)
			return -1;
	st.page_size = page > 0 ? (uint64_t)page : 4096;
	*out = st;
	return 0;
}

/* ---- switching ---------------------------------------------------------- */

void ksm_plan_build(const struct ksm_status *now, enum ksm_action action,
		    struct ksm_plan *plan)
{
	static const char *const values[] = {
		[KSM_STOPPED] = "0", [KSM_RUNNING] = "1",
		[KSM_UNMERGING] = "2",
	};
	enum ksm_run to = action == KSM_ON ? KSM_RUNNING
			  : action == KSM_UNMERGE ? KSM_UNMERGING
			  : KSM_STOPPED;

	*plan = (struct ksm_plan){ .from = now->run, .to = to };
	if (to == KSM_UNMERGING)
		plan->unmerge_bytes = ksm_saved(now);
	if (now->run == to)
		return;
	plan->v = xcalloc(1, sizeof(*plan->v));
	plan->v[plan->n++] = (struct ksm_write){ "run", values[to] };
}

char *ksm_plan_render(const char *sysfs, const struct ksm_plan *plan)
{
	char *out = xasprintf("# KSM: %s -> %s\n", ksm_run_name(plan->from),
			      ksm_run_name(plan->to));

	for (size_t i = 0; i < plan->n; i++) {
		char *more = xasprintf("%s  write %s > %s/" KSM_DIR "/%s\n",
				       out, plan->v[i].value, sysfs,
				       plan->v[i].attr);

		free(out);
		out = more;
	}
	return out;
}

int ksm_apply(const char *sysfs, const struct ksm_plan *plan,
	      struct vmctl_error **err)
{
	for (size_t i = 0; i < plan->n; i++) {
		cleanup_free char *path = xasprintf("%s/" KSM_DIR "/%s", sysfs,
						    plan->v[i].attr);

		if (fs_write_attr(path, plan->v[i].value, err) < 0) {
			if ((*err)->status == VMCTL_EXIT_NOPERM)
				return vmctl_error_wrap(err, "switching KSM "
							"needs root");
			return -1;
		}
	}
	return 0;
}

void ksm_plan_clear(struct ksm_plan *plan)
{
	free(plan->v);
	*plan = (struct ksm_plan){ 0 };
}
