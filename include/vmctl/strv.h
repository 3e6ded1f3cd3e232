/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_STRV_H
#define VMCTL_STRV_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A growable, NULL-terminated vector of owned strings: what argv arrays and
 * string lists in the spec are made of.  `v` is always NULL-terminated when
 * non-NULL, so it can be handed to execvp() as is.
 */
struct strv {
	char **v;
	size_t n;
	size_t cap;
};

void strv_push(struct strv *sv, const char *s);
void strv_pushf(struct strv *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Push a string the vector now owns. */
void strv_take(struct strv *sv, char *s);
void strv_extend(struct strv *sv, const struct strv *from);
void strv_clear(struct strv *sv);
/* Whether `s` is one of the strings. */
bool strv_contains(const struct strv *sv, const char *s);
void strv_copy(struct strv *dst, const struct strv *src);
/* The strings with `sep` between them ("" for none). */
char *strv_join(const struct strv *sv, const char *sep);

#endif
