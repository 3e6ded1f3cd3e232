/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_XALLOC_H
#define VMCTL_XALLOC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

/* Allocation failure is not an error vmctl can recover from: abort. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* Grow an array of n elements of size `size` to at least `want` elements. */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
/* A copy of `size` bytes at `p`; NULL when size is 0. */
void *xmemdup(const void *p, size_t size);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

/* cleanup attributes: early returns free what they must. */
void cleanup_freep(void *p);
void cleanup_closep(int *fd);
void cleanup_fclosep(FILE **f);

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_file __attribute__((cleanup(cleanup_fclosep)))

/* Hand ownership on: `*out = steal_pointer(&p);` leaves p NULL. */
static inline void *steal_pointer(void *pp)
{
	void **p = pp;
	void *v = *p;

	*p = NULL;
	return v;
}

#endif
