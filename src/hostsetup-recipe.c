// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What vmctl changed in a file, and taking exactly that out again (see
 * hostsetup-recipe.h): line differences (longest common subsequence), and
 * word differences within a line changed in place.  Pure.
 */
#include <stdlib.h>
#include <string.h>

#include "vmctl/bootcfg.h"
#include "vmctl/checksum.h"
#include "vmctl/hostsetup-recipe.h"
#include "vmctl/kcmdline.h"
#include "vmctl/xalloc.h"

/* The lines of TEXT, without their newlines. */
static void split_lines(const char *text, struct strv *lines)
{
	for (const char *l = text ? text : ""; *l;) {
		size_t n = strcspn(l, "\n");

		strv_take(lines, xstrndup(l, n));
		l += n + (l[n] == '\n');
	}
}

static cJSON *array(cJSON *entry, const char *name)
{
	cJSON *a = cJSON_GetObjectItem(entry, name);

	if (!cJSON_IsArray(a)) {
		cJSON_DeleteItemFromObject(entry, name);
		a = cJSON_AddArrayToObject(entry, name);
	}
	return a;
}

/* Remove the last string equal to S from array A; true if there was one. */
static bool take_string(cJSON *a, const char *s)
{
	for (int i = cJSON_GetArraySize(a) - 1; i >= 0; i--) {
		const char *v = cJSON_GetStringValue(cJSON_GetArrayItem(a, i));

		if (v != NULL && strcmp(v, s) == 0) {
			cJSON_DeleteItemFromArray(a, i);
			return true;
		}
	}
	return false;
}

static void add_word(cJSON *words, const char *was, const char *now)
{
	cJSON *w;

	/* vmctl changing a word it set itself: the record keeps the first
	 * `was` and the last `now` */
	cJSON_ArrayForEach(w, words) {
		const char *n = cJSON_GetStringValue(
			cJSON_GetObjectItem(w, "now"));
		const char *o = cJSON_GetStringValue(
			cJSON_GetObjectItem(w, "was"));

		if (*was == '\0' || n == NULL || o == NULL ||
		    strcmp(n, was) != 0)
			continue;
		if (strcmp(o, now) == 0) {
			cJSON_DetachItemViaPointer(words, w);
			cJSON_Delete(w);
		} else {
			cJSON_ReplaceItemInObject(w, "now",
						  cJSON_CreateString(now));
		}
		return;
	}
	w = cJSON_CreateObject();
	cJSON_AddStringToObject(w, "was", was);
	cJSON_AddStringToObject(w, "now", now);
	cJSON_AddItemToArray(words, w);
}

/* The words of line A that became the words of line B. */
static void word_changes(cJSON *words, const char *a, const char *b)
{
	struct strv wa = { 0 }, wb = { 0 };
	bool *used_a, *used_b;

	kcmdline_split(a, &wa);
	kcmdline_split(b, &wb);
	used_a = xcalloc(wa.n + 1, sizeof(bool));
	used_b = xcalloc(wb.n + 1, sizeof(bool));
	for (size_t i = 0; i < wa.n; i++)
		for (size_t j = 0; j < wb.n && !used_a[i]; j++)
			if (!used_b[j] && strcmp(wa.v[i], wb.v[j]) == 0)
				used_a[i] = used_b[j] = true;
	/* a word of the same key replaced; the rest added or dropped */
	for (size_t j = 0; j < wb.n; j++) {
		const char *was = "";

		if (used_b[j])
			continue;
		for (size_t i = 0; i < wa.n && !*was; i++)
			if (!used_a[i] && kcmdline_same_key(wa.v[i], wb.v[j])) {
				used_a[i] = true;
				was = wa.v[i];
			}
		add_word(words, was, wb.v[j]);
	}
	for (size_t i = 0; i < wa.n; i++)
		if (!used_a[i])
			add_word(words, wa.v[i], "");
	free(used_a);
	free(used_b);
	strv_clear(&wa);
	strv_clear(&wb);
}

static void hunk(cJSON *lines, cJSON *words, const struct strv *a,
		 size_t a0, size_t a1, const struct strv *b, size_t b0,
		 size_t b1)
{
	/* a line changed in place that is not vmctl's own: its words */
	if (a1 - a0 == b1 - b0) {
		for (size_t k = 0; k < a1 - a0; k++) {
			if (take_string(lines, a->v[a0 + k])) {
				cJSON_AddItemToArray(lines, cJSON_CreateString(
					b->v[b0 + k]));
				continue;
			}
			word_changes(words, a->v[a0 + k], b->v[b0 + k]);
		}
		return;
	}
	for (size_t i = a0; i < a1; i++)
		take_string(lines, a->v[i]);
	for (size_t j = b0; j < b1; j++)
		cJSON_AddItemToArray(lines, cJSON_CreateString(b->v[j]));
}

void hs_recipe_add(cJSON *entry, const char *before, const char *after)
{
	cJSON *lines = array(entry, "lines"), *words = array(entry, "words");
	struct strv a = { 0 }, b = { 0 };
	size_t *lcs, w, i = 0, j = 0, ha = 0, hb = 0;

	split_lines(before, &a);
	split_lines(after, &b);
	w = b.n + 1;
	lcs = xcalloc((a.n + 1) * w, sizeof(*lcs));
	for (size_t x = a.n; x-- > 0;)
		for (size_t y = b.n; y-- > 0;)
			lcs[x * w + y] = strcmp(a.v[x], b.v[y]) == 0
				? lcs[(x + 1) * w + y + 1] + 1
				: lcs[(x + 1) * w + y] > lcs[x * w + y + 1]
				? lcs[(x + 1) * w + y] : lcs[x * w + y + 1];
	while (i < a.n || j < b.n) {
		if (i < a.n && j < b.n && strcmp(a.v[i], b.v[j]) == 0) {
			hunk(lines, words, &a, ha, i, &b, hb, j);
			ha = ++i;
			hb = ++j;
		} else if (i < a.n && (j == b.n || lcs[(i + 1) * w + j] >=
						   lcs[i * w + j + 1])) {
			i++;
		} else {
			j++;
		}
	}
	hunk(lines, words, &a, ha, i, &b, hb, j);
	free(lcs);
	strv_clear(&a);
	strv_clear(&b);
}

int hs_recipe_revert(const char *current, const cJSON *entry, char **out,
		     char **why)
{
	const cJSON *lines = cJSON_GetObjectItem(entry, "lines");
	const cJSON *words = cJSON_GetObjectItem(entry, "words");
	struct strv l = { 0 };
	size_t len = current ? strlen(current) : 0;
	bool newline = len > 0 && current[len - 1] == '\n';
	long last = -1;
	char *text;

	*out = *why = NULL;
	split_lines(current, &l);
	for (int k = cJSON_GetArraySize(lines) - 1; k >= 0; k--) {
		const char *s = cJSON_GetStringValue(
			cJSON_GetArrayItem(lines, k));
		size_t i = l.n;

		while (s != NULL && i > 0 && strcmp(l.v[i - 1], s) != 0)
			i--;
		if (s == NULL || i == 0) {
			*why = xasprintf("vmctl's line \"%s\" is not there "
					 "any more", s ? s : "?");
			goto conflict;
		}
		free(l.v[i - 1]);
		memmove(&l.v[i - 1], &l.v[i], (l.n - i + 1) * sizeof(*l.v));
		l.n--;
	}
	for (int k = cJSON_GetArraySize(words) - 1; k >= 0; k--) {
		const cJSON *wd = cJSON_GetArrayItem(words, k);
		const char *was = cJSON_GetStringValue(
			cJSON_GetObjectItem(wd, "was"));
		const char *now = cJSON_GetStringValue(
			cJSON_GetObjectItem(wd, "now"));
		bool found = false;

		if (was == NULL || now == NULL)
			continue;
		if (*now == '\0') {
			/* vmctl dropped it (a duplicate): back beside the
			 * words it set */
			char *more;

			if (last < 0) {
				*why = xasprintf("no line of vmctl's words left "
						 "to put \"%s\" back on", was);
				goto conflict;
			}
			more = xasprintf("%s %s", l.v[last], was);
			free(l.v[last]);
			l.v[last] = more;
			continue;
		}
		for (size_t i = 0; i < l.n && !found; i++) {
			char *next = bootcfg_replace_word(l.v[i], now, was,
							  &found);

			if (found) {
				free(l.v[i]);
				l.v[i] = next;
				last = (long)i;
			} else {
				free(next);
			}
		}
		if (!found) {
			*why = xasprintf("vmctl's \"%s\" is not there any "
					 "more", now);
			goto conflict;
		}
	}
	text = xstrdup("");
	for (size_t i = 0; i < l.n; i++) {
		char *more = xasprintf("%s%s%s", text, i ? "\n" : "", l.v[i]);

		free(text);
		text = more;
	}
	*out = (newline && l.n > 0) ? xasprintf("%s\n", text) : xstrdup(text);
	free(text);
	strv_clear(&l);
	return 0;
conflict:
	strv_clear(&l);
	return -1;
}

void hs_recipe_add_version(cJSON *entry, const char *text)
{
	cJSON *versions = cJSON_GetObjectItem(entry, "versions");
	cleanup_free char *hash = NULL;
	cJSON *v;

	if (text == NULL)
		return;
	hash = checksum_sha256_data(text, strlen(text));
	if (!cJSON_IsArray(versions))
		versions = cJSON_AddArrayToObject(entry, "versions");
	cJSON_ArrayForEach(v, versions)
		if (cJSON_IsString(v) && strcmp(v->valuestring, hash) == 0)
			return;
	cJSON_AddItemToArray(versions, cJSON_CreateString(hash));
}

bool hs_recipe_is_version(const cJSON *entry, const char *text)
{
	cleanup_free char *hash = NULL;
	const cJSON *v;

	if (text == NULL)
		return !cJSON_IsTrue(cJSON_GetObjectItem(entry, "existed"));
	hash = checksum_sha256_data(text, strlen(text));
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(entry, "versions"))
		if (cJSON_IsString(v) && strcmp(v->valuestring, hash) == 0)
			return true;
	return false;
}
