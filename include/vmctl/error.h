/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_ERROR_H
#define VMCTL_ERROR_H

/*
 * Errors are values (the crun model): a function that can fail takes a
 * `struct vmctl_error **err`, returns a negative number on failure and fills
 * *err.  Callers add context on the way up with vmctl_error_wrap(); only
 * main() prints an error and turns its status into the process exit code.
 */

/* Documented exit codes (README.md, `vmctl --help`); sysexits.h values. */
enum vmctl_exit {
	VMCTL_EXIT_OK = 0,
	VMCTL_EXIT_FAILURE = 1,     /* the operation failed */
	VMCTL_EXIT_USAGE = 64,      /* bad command line */
	VMCTL_EXIT_SPEC = 65,       /* invalid spec */
	VMCTL_EXIT_NOINPUT = 66,    /* spec file missing or unreadable */
	VMCTL_EXIT_UNAVAILABLE = 69,/* required program or device unavailable */
	VMCTL_EXIT_NOPERM = 77,     /* permission denied */
};

struct vmctl_error {
	int status;    /* enum vmctl_exit: what main() exits with */
	int errnum;    /* errno behind the failure, or 0 */
	int located;   /* message starts with FILE:LINE:COL: print it bare */
	char *message;
};

/* Set *err (which must be NULL) and return -1. */
int vmctl_error_set(struct vmctl_error **err, int status, int errnum,
		    const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Like vmctl_error_set() with errno's text appended: "message: strerror". */
int vmctl_error_errno(struct vmctl_error **err, int status, int errnum,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Spec diagnostics: "FILE:LINE:COL: PATH: message", status 65. */
int vmctl_error_at(struct vmctl_error **err, const char *file,
		   unsigned line, unsigned col, const char *path,
		   const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Prefix the message with "context: "; returns -1 for tail calls. */
int vmctl_error_wrap(struct vmctl_error **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void vmctl_error_free(struct vmctl_error *err);

/* Map errno of a failed open/exec to an exit status (EACCES -> 77, ...). */
int vmctl_error_status_from_errno(int errnum, int fallback);

#endif
