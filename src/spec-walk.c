// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The spec schema's walker (spec-walk.h): located diagnostics, scalars of
 * every type, mappings of known keys (with "did you mean"), and the
 * values many keys share (strings, paths, URLs, booleans, sizes).  Pure.
 */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/fsutil.h"
#include "vmctl/spec-walk.h"
#include "vmctl/suggest.h"
#include "vmctl/xalloc.h"

/* ---- diagnostics ---------------------------------------------------- */

int sw_fail(struct walker *w, const struct node *n, const char *path,
		const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	return vmctl_error_at(w->err, w->file, n->line, n->col, path, "%s",
			      msg);
}

/* Quote a user's value for a message, cut short and made printable. */
char *sw_shown(const char *s)
{
	size_t len = strlen(s), max = 40;
	char *out = xmalloc(max * 4 + 8), *p = out;

	*p++ = '"';
	for (size_t i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			p += sprintf(p, "\\x%02x", c);
		} else {
			*p++ = (char)c;
		}
	}
	if (len > max)
		p += sprintf(p, "...");
	*p++ = '"';
	*p = '\0';
	return out;
}

char *sw_child_path(const char *path, const char *key)
{
	return *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

/* ---- scalars -------------------------------------------------------- */

int sw_want_scalar(struct walker *w, const struct node *n,
		       const char *path, const char *what)
{
	if (n->kind != NODE_SCALAR)
		return sw_fail(w, n, path, "expected %s, got %s", what,
			    node_kind_name(n));
	return 0;
}

int sw_get_string(struct walker *w, const struct node *n,
		      const char *path, const char **out)
{
	if (sw_want_scalar(w, n, path, "a string") < 0)
		return -1;
	if (node_is_null(n))
		return sw_fail(w, n, path, "expected a string, got null");
	*out = n->text;
	return 0;
}

int sw_get_bool(struct walker *w, const struct node *n, const char *path,
		    bool *out)
{
	if (sw_want_scalar(w, n, path, "true or false") < 0)
		return -1;
	if (!n->quoted && (strcmp(n->text, "true") == 0 ||
			   strcmp(n->text, "True") == 0 ||
			   strcmp(n->text, "TRUE") == 0)) {
		*out = true;
		return 0;
	}
	if (!n->quoted && (strcmp(n->text, "false") == 0 ||
			   strcmp(n->text, "False") == 0 ||
			   strcmp(n->text, "FALSE") == 0)) {
		*out = false;
		return 0;
	}
	cleanup_free char *v = sw_shown(n->text);
	return sw_fail(w, n, path, "expected true or false, got %s%s", v,
		    n->quoted ? " (a string)" : "");
}

bool sw_is_bool_literal(const struct node *n)
{
	bool dummy;
	struct walker quiet = { 0 };

	return n->kind == NODE_SCALAR && sw_get_bool(&quiet, n, "", &dummy) == 0;
}

int sw_get_uint(struct walker *w, const struct node *n, const char *path,
		    unsigned long min, unsigned long max, unsigned long *out)
{
	const char *s;
	unsigned long v = 0;

	if (sw_want_scalar(w, n, path, "an integer") < 0)
		return -1;
	s = n->text;
	if (n->quoted || *s == '\0' || strspn(s, "0123456789") != strlen(s)) {
		cleanup_free char *what = sw_shown(s);
		return sw_fail(w, n, path, "expected an integer, got %s%s", what,
			    n->quoted ? " (a string)" : "");
	}
	for (; *s; s++) {
		if (v > (ULONG_MAX - 9) / 10) {
			v = ULONG_MAX;
			break;
		}
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < min || v > max)
		return sw_fail(w, n, path, "%s is out of range (%lu to %lu)",
			    n->text, min, max);
	*out = v;
	return 0;
}

bool sw_is_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

char *sw_lowercase(const char *s)
{
	char *l = xstrdup(s);

	for (char *p = l; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

int sw_get_enum(struct walker *w, const struct node *n, const char *path,
		    const char *const *names, int *out)
{
	const char *s, *hint;
	cleanup_free char *list = NULL, *v = NULL;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	list = xstrdup(names[0]);
	for (int i = 1; names[i] != NULL; i++) {
		char *l = xasprintf("%s, %s", list, names[i]);

		free(list);
		list = l;
	}
	v = sw_shown(s);
	hint = suggest_closest(s, names);
	if (hint != NULL)
		return sw_fail(w, n, path, "unknown value %s (did you mean \"%s\"?)",
			    v, hint);
	return sw_fail(w, n, path, "unknown value %s (expected one of: %s)", v,
		    list);
}

/* ---- text every syntax must refuse ----------------------------------- */

static int check_text(struct walker *w, const struct node *n,
		      const char *path, const char *what)
{
	size_t len = strlen(n->text);
	unsigned cp;
	cleanup_free char *name = NULL;

	if (node_refused_at(n->text, len, &cp) == len)
		return 0;
	name = node_refused_name(cp);
	return sw_fail(w, n, path, "%s in %s", name, what);
}

/* Every key and scalar, whatever the schema makes of it: an escape
 * (JSON "\u0085", YAML "\x85" or "\N") gets here as the character. */
int sw_check_texts(struct walker *w, const struct node *n,
		       const char *path)
{
	for (size_t i = 0; i < n->n; i++) {
		cleanup_free char *sub = NULL;

		if (n->kind == NODE_MAP) {
			if (check_text(w, n->keys[i], path, "a key") < 0)
				return -1;
			sub = sw_child_path(path, n->keys[i]->text);
		} else {
			sub = xasprintf("%s[%zu]", path, i);
		}
		if (sw_check_texts(w, n->items[i], sub) < 0)
			return -1;
	}
	return n->kind == NODE_SCALAR ? check_text(w, n, path, "a string")
				      : 0;
}

/* ---- maps ----------------------------------------------------------- */

int sw_walk_map(struct walker *w, const struct node *n, const char *path,
		    const struct key *keys, void *base)
{
	const char *names[32];
	size_t n_names = 0;

	if (w->probing) {
		w->probed = keys;
		return -1;
	}
	if (n->kind != NODE_MAP)
		return sw_fail(w, n, path, "expected a mapping, got %s",
			    node_kind_name(n));
	for (const struct key *k = keys; k->name; k++)
		names[n_names++] = k->name;
	names[n_names] = NULL;

	for (size_t i = 0; i < n->n; i++) {
		const struct node *key = n->keys[i];
		const struct key *k;
		cleanup_free char *sub = sw_child_path(path, key->text);

		for (k = keys; k->name; k++)
			if (strcmp(k->name, key->text) == 0)
				break;
		if (k->name == NULL) {
			const char *hint = suggest_closest(key->text, names);

			if (hint != NULL)
				return sw_fail(w, key, sub, "unknown key (did you "
					    "mean \"%s\"?)", hint);
			return sw_fail(w, key, sub, "unknown key");
		}
		/* Only known keys get here, so this scan stays short. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(n->keys[j]->text, key->text) == 0)
				return sw_fail(w, key, sub, "duplicate key (first "
					    "given at line %u, column %u)",
					    n->keys[j]->line,
					    n->keys[j]->col);
		if (node_is_null(n->items[i]))
			continue;   /* "key: ~" keeps the default */
		if (k->parse(w, n->items[i], sub, (char *)base + k->offset) < 0)
			return -1;
	}
	return 0;
}

/* ---- value parsers -------------------------------------------------- */

int sw_set_string(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	char **out = target;
	const char *s;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	if (*s == '\0')
		return sw_fail(w, n, path, "must not be empty");
	free(*out);
	*out = xstrdup(s);
	return 0;
}

static bool is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
	       strncmp(s, "file://", 7) == 0;
}

/* A file path: made absolute against the spec's directory. */
int sw_set_path(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	char **out = target;

	if (sw_set_string(w, n, path, target) < 0)
		return -1;
	if (**out != '/' && w->base_dir != NULL && !is_url(*out)) {
		cleanup_free char *abs = xasprintf("%s/%s", w->base_dir, *out);

		free(*out);
		*out = fs_path_clean(abs);
	}
	return 0;
}

int sw_set_path_or_url(struct walker *w, const struct node *n,
			   const char *path, void *target)
{
	const char *s;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	if (strstr(s, "://") != NULL && !is_url(s)) {
		cleanup_free char *v = sw_shown(s);
		return sw_fail(w, n, path, "unsupported URL %s (use http://, "
			    "https:// or file://)", v);
	}
	return sw_set_path(w, n, path, target);
}

int sw_set_url(struct walker *w, const struct node *n, const char *path,
		   void *target)
{
	const char *s;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	if (!is_url(s)) {
		cleanup_free char *v = sw_shown(s);
		return sw_fail(w, n, path, "expected an http://, https:// or "
			    "file:// URL, got %s", v);
	}
	return sw_set_string(w, n, path, target);
}

int sw_set_bool(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	return sw_get_bool(w, n, path, target);
}

int sw_set_size(struct walker *w, const struct node *n, const char *path,
		    uint64_t min, uint64_t *out)
{
	const char *s;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	if (spec_parse_size(s, out) < 0) {
		cleanup_free char *v = sw_shown(s);
		if (strspn(s, "0123456789") == strlen(s) && *s)
			return sw_fail(w, n, path, "size %s has no unit (write "
				    "e.g. %sM or %sG)", v, s, s);
		return sw_fail(w, n, path, "invalid size %s (an integer with K, "
			    "M, G or T, e.g. 512M or 8G)", v);
	}
	if (*out < min)
		return sw_fail(w, n, path, "size \"%s\" is too small (at least "
			    "%" PRIu64 "M)", s, min >> 20);
	return 0;
}
