/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_QMP_H
#define VMCTL_QMP_H

#include <cJSON.h>

#include "vmctl/error.h"

/*
 * A QMP client: one connection to a VM's control socket.  Messages are
 * JSON objects, one a line; asynchronous events between a command and its
 * reply are skipped.  Every read has a deadline, so a wedged QEMU turns
 * into an error, not a hang.
 */
struct qmp;

/* Connect, read the greeting and negotiate capabilities. */
int qmp_open(const char *socket_path, int timeout_ms, struct qmp **out,
	     struct vmctl_error **err);
/* Run a command; *reply (may be NULL) gets its "return" value. */
int qmp_execute(struct qmp *q, const char *command, cJSON *arguments,
		cJSON **reply, struct vmctl_error **err);
/* qmp_execute, passing `fd` along (SCM_RIGHTS): add-fd, getfd. */
int qmp_execute_fd(struct qmp *q, const char *command, cJSON *arguments,
		   int fd, cJSON **reply, struct vmctl_error **err);
void qmp_close(struct qmp *q);
/* The deadline of each later read (a long job blocks QEMU's monitor). */
void qmp_set_timeout(struct qmp *q, int timeout_ms);

/* query-status's "status" ("running", "paused", "shutdown", ...). */
int qmp_query_status(struct qmp *q, char **status, struct vmctl_error **err);

#endif
