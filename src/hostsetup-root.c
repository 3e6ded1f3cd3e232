// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup's view of its target root: paths under it, with symbolic
 * links followed inside it (so --root never reaches this machine's /etc
 * through an absolute link), and the reads every planner shares.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/hostsetup-root.h"
#include "vmctl/xalloc.h"

#define MAX_LINKS 40

char *hs_path(const char *root, const char *path)
{
	size_t len = strlen(root);

	if (strcmp(root, "/") == 0)
		return xstrdup(path);
	return xasprintf("%.*s%s", (int)(len && root[len - 1] == '/'
					 ? len - 1 : len), root, path);
}

/* Push the components of PATH in front of those left to walk. */
static void push_components(struct strv *todo, const char *path)
{
	struct strv add = { 0 };

	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");

		if (n > 0)
			strv_take(&add, xstrndup(p, n));
		p += n + (p[n] == '/');
	}
	/* todo is a stack: its last element is walked first */
	for (size_t i = add.n; i > 0; i--)
		strv_push(todo, add.v[i - 1]);
	strv_clear(&add);
}

static char *pop(struct strv *todo)
{
	char *c = todo->v[--todo->n];

	todo->v[todo->n] = NULL;
	return c;
}

int hs_resolve(const char *root, const char *path, char **out,
			   struct vmctl_error **err)
{
	struct strv todo = { 0 };
	char *done = xstrdup("");
	unsigned links = 0;

	push_components(&todo, path);
	while (todo.n > 0) {
		cleanup_free char *c = pop(&todo);
		cleanup_free char *cand = NULL, *full = NULL;
		char target[PATH_MAX];
		struct stat st;
		ssize_t len;

		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			char *slash = strrchr(done, '/');

			if (slash != NULL)
				*slash = '\0';
			continue;
		}
		cand = xasprintf("%s/%s", done, c);
		full = hs_path(root, cand);
		if (lstat(full, &st) < 0 || !S_ISLNK(st.st_mode)) {
			free(done);
			done = steal_pointer(&cand);
			continue;
		}
		if (++links > MAX_LINKS) {
			strv_clear(&todo);
			free(done);
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, ELOOP,
					       "%s: too many symbolic links",
					       path);
		}
		len = readlink(full, target, sizeof(target) - 1);
		if (len < 0) {
			int e = errno;

			strv_clear(&todo);
			free(done);
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, e,
						 "%s", full);
		}
		target[len] = '\0';
		if (target[0] == '/')
			done[0] = '\0';
		push_components(&todo, target);
	}
	strv_clear(&todo);
	if (*done == '\0') {
		free(done);
		done = xstrdup("/");
	}
	*out = done;
	return 0;
}

bool hs_exists(const char *root, const char *path)
{
	cleanup_free char *resolved = NULL, *full = NULL;
	struct vmctl_error *ignored = NULL;
	struct stat st;

	if (hs_resolve(root, path, &resolved, &ignored) < 0) {
		vmctl_error_free(ignored);
		return false;
	}
	full = hs_path(root, resolved);
	return stat(full, &st) == 0;
}

int hs_read(const char *root, const char *path, char **out,
			mode_t *mode, struct vmctl_error **err)
{
	cleanup_free char *resolved = NULL, *full = NULL;
	size_t len;
	struct stat st;

	*out = NULL;
	if (hs_resolve(root, path, &resolved, err) < 0)
		return -1;
	full = hs_path(root, resolved);
	if (stat(full, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 full);
	}
	if (mode != NULL)
		*mode = st.st_mode & 07777;
	return fs_read_file(full, 4u << 20, out, &len, VMCTL_EXIT_FAILURE,
			    err);
}

static int by_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void hs_list(const char *root, const char *dir,
			 const char *suffix, struct strv *names)
{
	cleanup_free char *resolved = NULL, *full = NULL;
	struct vmctl_error *ignored = NULL;
	size_t first = names->n, sl = strlen(suffix);
	struct dirent *de;
	DIR *d;

	if (hs_resolve(root, dir, &resolved, &ignored) < 0) {
		vmctl_error_free(ignored);
		return;
	}
	full = hs_path(root, resolved);
	d = opendir(full);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.' || l <= sl ||
		    strcmp(de->d_name + l - sl, suffix) != 0)
			continue;
		strv_push(names, de->d_name);
	}
	closedir(d);
	if (names->n > first)
		qsort(names->v + first, names->n - first, sizeof(char *),
		      by_strcmp);
}

void hs_texts(const char *root, const char *dir, const char *suffix,
	      struct strv *paths, struct strv *texts)
{
	struct strv names = { 0 };

	hs_list(root, dir, suffix, &names);
	for (size_t i = 0; i < names.n; i++) {
		char *path = xasprintf("%s/%s", dir, names.v[i]);
		char *text = NULL;
		struct vmctl_error *ignored = NULL;

		if (hs_read(root, path, &text, NULL, &ignored) < 0 ||
		    text == NULL) {
			vmctl_error_free(ignored);
			free(path);
			continue;
		}
		strv_take(paths, path);
		strv_take(texts, text);
	}
	strv_clear(&names);
}

void hs_loader_entries(const char *root, struct strv *paths)
{
	static const char *const dirs[] = {
		"/boot/loader/entries", "/efi/loader/entries",
		"/boot/efi/loader/entries",
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct strv names = { 0 };

		hs_list(root, dirs[i], ".conf", &names);
		for (size_t k = 0; k < names.n; k++)
			strv_pushf(paths, "%s/%s", dirs[i], names.v[k]);
		strv_clear(&names);
	}
}
