// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/strv.h"
#include "vmctl/xalloc.h"

void strv_take(struct strv *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 16;
		sv->v = xreallocarray(sv->v, sv->cap, sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void strv_push(struct strv *sv, const char *s)
{
	strv_take(sv, xstrdup(s));
}

void strv_pushf(struct strv *sv, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	strv_take(sv, s);
}

void strv_extend(struct strv *sv, const struct strv *from)
{
	for (size_t i = 0; i < from->n; i++)
		strv_push(sv, from->v[i]);
}

void strv_copy(struct strv *dst, const struct strv *src)
{
	*dst = (struct strv){ 0 };
	strv_extend(dst, src);
}

char *strv_join(const struct strv *sv, const char *sep)
{
	size_t len = 1, sl = strlen(sep);
	char *out, *p;

	for (size_t i = 0; i < sv->n; i++)
		len += strlen(sv->v[i]) + (i ? sl : 0);
	p = out = xmalloc(len);
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			p = stpcpy(p, sep);
		p = stpcpy(p, sv->v[i]);
	}
	*p = '\0';
	return out;
}

void strv_clear(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	*sv = (struct strv){ 0 };
}

bool strv_contains(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}
