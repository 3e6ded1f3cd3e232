// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A step run beside the caller (job.h).
 */
#include "vmctl/job.h"

static void *job_run(void *arg)
{
	struct job *j = arg;

	j->ret = j->fn(j->arg, &j->err);
	return NULL;
}

void job_start(struct job *j, job_fn fn, void *arg)
{
	*j = (struct job){ .fn = fn, .arg = arg };
	if (pthread_create(&j->thread, NULL, job_run, j) == 0)
		j->running = true;
	else
		job_run(j);
}

int job_join(struct job *j, struct vmctl_error **err)
{
	int ret;

	if (j->fn == NULL)
		return 0;
	if (j->running)
		pthread_join(j->thread, NULL);
	j->running = false;
	ret = j->ret;
	if (j->err != NULL && err != NULL && *err == NULL)
		*err = j->err;
	else
		vmctl_error_free(j->err);
	*j = (struct job){ 0 };
	return ret;
}
