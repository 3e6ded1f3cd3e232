// SPDX-License-Identifier: GPL-2.0-or-later
/* Digests of local files, remembered by identity (digestmemo.h). */
#include <cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/checksum.h"
#include "vmctl/digestmemo.h"
#include "vmctl/fsutil.h"
#include "vmctl/xalloc.h"

#define MEMO_NAME "digests.json"
#define MEMO_READ_MAX (1u << 20)

/* The identity an entry holds, as text (JSON numbers lose bits past
 * 2^53, and a device number can have them). */
static const char *const id_keys[] = {
	"dev", "ino", "size", "mtime", "mtime_ns", "ctime", "ctime_ns",
};
#define N_ID (sizeof(id_keys) / sizeof(id_keys[0]))

static void id_values(const struct stat *st, char v[N_ID][24])
{
	const unsigned long long n[N_ID] = {
		(unsigned long long)st->st_dev,
		(unsigned long long)st->st_ino,
		(unsigned long long)st->st_size,
		(unsigned long long)st->st_mtim.tv_sec,
		(unsigned long long)st->st_mtim.tv_nsec,
		(unsigned long long)st->st_ctim.tv_sec,
		(unsigned long long)st->st_ctim.tv_nsec,
	};

	for (size_t i = 0; i < N_ID; i++)
		snprintf(v[i], sizeof(v[i]), "%llu", n[i]);
}

static bool entry_matches(const cJSON *e, const char *path,
			  const struct stat *st)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "path");
	char want[N_ID][24];

	if (!cJSON_IsString(p) || strcmp(p->valuestring, path) != 0)
		return false;
	id_values(st, want);
	for (size_t i = 0; i < N_ID; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e,
								  id_keys[i]);

		if (!cJSON_IsString(v) || strcmp(v->valuestring, want[i]) != 0)
			return false;
	}
	return true;
}

static cJSON *memo_entries(cJSON *doc)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "files");

	return cJSON_IsArray(a) ? a : NULL;
}

char *digestmemo_lookup(const char *json, const char *path,
			const struct stat *st)
{
	cJSON *doc = json ? cJSON_Parse(json) : NULL;
	const cJSON *e;
	char *found = NULL;

	cJSON_ArrayForEach(e, memo_entries(doc)) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "digest");

		if (entry_matches(e, path, st) && cJSON_IsString(d) &&
		    strncmp(d->valuestring, "sha256:", 7) == 0) {
			found = xstrdup(d->valuestring);
			break;
		}
	}
	cJSON_Delete(doc);
	return found;
}

char *digestmemo_update(const char *json, const char *path,
			const struct stat *st, const char *digest)
{
	cJSON *old = json ? cJSON_Parse(json) : NULL;
	cJSON *doc = cJSON_CreateObject();
	cJSON *files = cJSON_AddArrayToObject(doc, "files");
	cJSON *e = cJSON_CreateObject();
	const cJSON *o;
	char id[N_ID][24];
	int n = 1;
	char *text;

	cJSON_AddStringToObject(e, "path", path);
	id_values(st, id);
	for (size_t i = 0; i < N_ID; i++)
		cJSON_AddStringToObject(e, id_keys[i], id[i]);
	cJSON_AddStringToObject(e, "digest", digest);
	cJSON_AddItemToArray(files, e);
	cJSON_ArrayForEach(o, memo_entries(old)) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "path");

		if (n >= DIGESTMEMO_MAX)
			break;
		if (!cJSON_IsString(p) || strcmp(p->valuestring, path) == 0)
			continue;
		cJSON_AddItemToArray(files, cJSON_Duplicate(o, true));
		n++;
	}
	text = cJSON_Print(doc);
	cJSON_Delete(doc);
	cJSON_Delete(old);
	if (text == NULL)
		abort();   /* allocation failure, as xmalloc */
	return text;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int digestmemo_sha256(const struct vmctl_env *env, const char *path,
		      char **digest, struct vmctl_error **err)
{
	cleanup_free char *memo = xasprintf("%s/" MEMO_NAME, env->state_dir);
	cleanup_free char *json = NULL, *hex = NULL, *text = NULL;
	struct vmctl_error *ignored = NULL;
	struct stat before, after;
	size_t len;

	*digest = NULL;
	if (stat(path, &before) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_NOINPUT, errno, "%s",
					 path);
	if (fs_read_file(memo, MEMO_READ_MAX, &json, &len, 0, &ignored) < 0) {
		vmctl_error_free(ignored);
		ignored = NULL;
	}
	*digest = digestmemo_lookup(json, path, &before);
	if (*digest != NULL)
		return 0;
	if (checksum_file(path, CHECKSUM_SHA256, &hex, err) < 0)
		return -1;
	*digest = xasprintf("sha256:%s", hex);
	/* Remembered only when the file did not change while it was read. */
	if (stat(path, &after) < 0 || !same_file(&before, &after))
		return 0;
	text = digestmemo_update(json, path, &after, *digest);
	if (fs_mkdir_p(env->state_dir, 0700, &ignored) < 0 ||
	    fs_write_atomic(env->state_dir, MEMO_NAME, text, strlen(text),
			    0600, &ignored) < 0)
		vmctl_error_free(ignored);
	return 0;
}
