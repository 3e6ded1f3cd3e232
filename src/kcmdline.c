// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdlib.h>
#include <string.h>

#include "vmctl/kcmdline.h"
#include "vmctl/xalloc.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

void kcmdline_split(const char *line, struct strv *words)
{
	const char *p = line;

	while (*p) {
		const char *start;
		bool quoted = false;

		while (blank(*p))
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p && (quoted || !blank(*p))) {
			if (*p == '"')
				quoted = !quoted;
			p++;
		}
		strv_take(words, xstrndup(start, (size_t)(p - start)));
	}
}

char *kcmdline_join(const struct strv *words)
{
	size_t len = 1;
	char *out, *o;

	for (size_t i = 0; i < words->n; i++)
		len += strlen(words->v[i]) + 1;
	out = o = xmalloc(len);
	for (size_t i = 0; i < words->n; i++) {
		size_t n = strlen(words->v[i]);

		if (i > 0)
			*o++ = ' ';
		memcpy(o, words->v[i], n);
		o += n;
	}
	*o = '\0';
	return out;
}

/* The key of a word, normalised: quotes dropped, '-' read as '_' in the
 * part before '=' (the kernel treats them alike in parameter names). */
static char *word_key(const char *word)
{
	size_t n = 0;
	char *key = xmalloc(strlen(word) + 1);

	for (const char *p = word; *p && *p != '='; p++) {
		if (*p == '"')
			continue;
		key[n++] = *p == '-' ? '_' : *p;
	}
	key[n] = '\0';
	return key;
}

bool kcmdline_same_key(const char *word, const char *key)
{
	cleanup_free char *a = word_key(word), *b = word_key(key);

	return strcmp(a, b) == 0;
}

/* A word's value with its quotes dropped ("" for a bare flag). */
static char *word_value(const char *word)
{
	const char *eq = strchr(word, '=');
	size_t n = 0;
	char *v;

	if (eq == NULL)
		return xstrdup("");
	v = xmalloc(strlen(eq));
	for (const char *p = eq + 1; *p; p++)
		if (*p != '"')
			v[n++] = *p;
	v[n] = '\0';
	return v;
}

bool kcmdline_same_word(const char *a, const char *b)
{
	cleanup_free char *va = NULL, *vb = NULL;

	if (!kcmdline_same_key(a, b) ||
	    (strchr(a, '=') == NULL) != (strchr(b, '=') == NULL))
		return false;
	va = word_value(a);
	vb = word_value(b);
	return strcmp(va, vb) == 0;
}

bool kcmdline_has_all(const struct strv *words, const struct strv *want)
{
	for (size_t i = 0; i < want->n; i++) {
		bool found = false;

		for (size_t w = 0; w < words->n && !found; w++)
			found = kcmdline_same_word(words->v[w], want->v[i]);
		if (!found)
			return false;
	}
	return true;
}

static void remove_at(struct strv *words, size_t i)
{
	free(words->v[i]);
	memmove(&words->v[i], &words->v[i + 1],
		(words->n - i) * sizeof(*words->v));   /* with the NULL */
	words->n--;
}

bool kcmdline_set(struct strv *words, const char *key, const char *value)
{
	cleanup_free char *want = *value ? xasprintf("%s=%s", key, value)
					 : xstrdup(key);
	bool changed = false, found = false;

	for (size_t i = 0; i < words->n;) {
		if (!kcmdline_same_key(words->v[i], key)) {
			i++;
			continue;
		}
		if (found) {
			remove_at(words, i);
			changed = true;
			continue;
		}
		found = true;
		if (strcmp(words->v[i], want) != 0) {
			free(words->v[i]);
			words->v[i] = xstrdup(want);
			changed = true;
		}
		i++;
	}
	if (!found) {
		strv_push(words, want);
		changed = true;
	}
	return changed;
}

bool kcmdline_remove(struct strv *words, const char *key)
{
	bool removed = false;

	for (size_t i = 0; i < words->n;) {
		if (kcmdline_same_key(words->v[i], key)) {
			remove_at(words, i);
			removed = true;
		} else {
			i++;
		}
	}
	return removed;
}

const char *kcmdline_get(const struct strv *words, const char *key)
{
	for (size_t i = 0; i < words->n; i++) {
		if (kcmdline_same_key(words->v[i], key)) {
			const char *eq = strchr(words->v[i], '=');

			return eq ? eq + 1 : "";
		}
	}
	return NULL;
}
