// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/error.h"
#include "vmctl/xalloc.h"

static int error_setv(struct vmctl_error **err, int status, int errnum,
		      bool with_strerror, const char *fmt, va_list ap)
{
	struct vmctl_error *e;
	char *msg;

	if (err == NULL)
		return -1;
	msg = xvasprintf(fmt, ap);
	if (with_strerror && errnum != 0) {
		char *full = xasprintf("%s: %s", msg, strerror(errnum));

		free(msg);
		msg = full;
	}
	/* Keep the first error: it is the cause. */
	if (*err != NULL) {
		free(msg);
		return -1;
	}
	e = xcalloc(1, sizeof(*e));
	e->status = status;
	e->errnum = errnum;
	e->message = msg;
	*err = e;
	return -1;
}

int vmctl_error_set(struct vmctl_error **err, int status, int errnum,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_setv(err, status, errnum, false, fmt, ap);
	va_end(ap);
	return -1;
}

int vmctl_error_errno(struct vmctl_error **err, int status, int errnum,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_setv(err, status, errnum, true, fmt, ap);
	va_end(ap);
	return -1;
}

int vmctl_error_at(struct vmctl_error **err, const char *file,
		   unsigned line, unsigned col, const char *path,
		   const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (path != NULL && *path != '\0')
		vmctl_error_set(err, VMCTL_EXIT_SPEC, 0, "%s:%u:%u: %s: %s",
				file, line, col, path, msg);
	else
		vmctl_error_set(err, VMCTL_EXIT_SPEC, 0, "%s:%u:%u: %s",
				file, line, col, msg);
	if (err != NULL && *err != NULL)
		(*err)->located = 1;
	return -1;
}

int vmctl_error_wrap(struct vmctl_error **err, const char *fmt, ...)
{
	char *ctx, *msg;
	va_list ap;

	if (err == NULL || *err == NULL)
		return -1;
	va_start(ap, fmt);
	ctx = xvasprintf(fmt, ap);
	va_end(ap);
	msg = xasprintf("%s: %s", ctx, (*err)->message);
	free(ctx);
	free((*err)->message);
	(*err)->message = msg;
	(*err)->located = 0;
	return -1;
}

void vmctl_error_free(struct vmctl_error *err)
{
	if (err == NULL)
		return;
	free(err->message);
	free(err);
}

int vmctl_error_status_from_errno(int errnum, int fallback)
{
	switch (errnum) {
	case EACCES:
	case EPERM:
		return VMCTL_EXIT_NOPERM;
	case ENOENT:
		return fallback == VMCTL_EXIT_NOINPUT ? VMCTL_EXIT_NOINPUT
						      : VMCTL_EXIT_UNAVAILABLE;
	default:
		return fallback;
	}
}
