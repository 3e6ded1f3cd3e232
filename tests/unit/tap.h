/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal TAP producer for the unit tests: ok/not ok lines, a plan at
 * the end, exit status 0 when every check passed. */
#ifndef VMCTL_TAP_H
#define VMCTL_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...)                                               \
	do {                                                                 \
		const char *g_ = (got), *w_ = (want);                        \
		int same_ = (g_ == NULL && w_ == NULL) ||                    \
			    (g_ != NULL && w_ != NULL && !strcmp(g_, w_));   \
		if (!ok(same_, __VA_ARGS__))                                 \
			printf("#   got:  \"%s\"\n#   want: \"%s\"\n",       \
			       g_ ? g_ : "(null)", w_ ? w_ : "(null)");      \
	} while (0)

__attribute__((format(printf, 4, 5)))
static int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return cond;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
