// SPDX-License-Identifier: GPL-2.0-or-later
/* When a VM is ready for work: SSH, then cloud-init done (guest-ready.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/guest-ready.h"
#include "vmctl/lvvm-ssh.h"
#include "vmctl/node.h"
#include "vmctl/proc.h"
#include "vmctl/termsafe.h"
#include "vmctl/vm.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/xalloc.h"

/* After an ssh that failed (or an answer that was no status): ask again
 * in 2 s. */
#define CI_RETRY_MS 2000
/* Answers that are no cloud-init status in a row before giving up. */
#define CI_BAD_MAX 3

int wait_until_parse(const char *s, enum wait_until *out)
{
	if (strcmp(s, "ready") == 0)
		*out = WAIT_UNTIL_READY;
	else if (strcmp(s, "ssh") == 0)
		*out = WAIT_UNTIL_SSH;
	else
		return -1;
	return 0;
}

static int parse_seconds(const char *s, int *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > 86400)
		return -1;
	*out = (int)v;
	return 0;
}

int wait_arg_parse(const char *arg, struct wait_arg *out, const char **why)
{
	const char *comma;

	*out = (struct wait_arg){ WAIT_UNTIL_READY, WAIT_DEFAULT_S };
	if (arg == NULL)
		return 0;
	comma = strchr(arg, ',');
	if (comma == NULL) {
		if (parse_seconds(arg, &out->timeout_s) == 0 ||
		    wait_until_parse(arg, &out->until) == 0)
			return 0;
	} else {
		cleanup_free char *mode = xstrndup(arg, (size_t)(comma - arg));

		if (wait_until_parse(mode, &out->until) < 0) {
			*why = "the mode is ready or ssh";
			return -1;
		}
		if (parse_seconds(comma + 1, &out->timeout_s) == 0)
			return 0;
	}
	*why = "wants ready, ssh, SECONDS (0 to 86400) or MODE,SECONDS";
	return -1;
}

void ci_status_clear(struct ci_status *st)
{
	strv_clear(&st->errors);
	st->state = CI_UNKNOWN;
	st->degraded = false;
}

static const struct node *map_get(const struct node *map, const char *key)
{
	if (map == NULL || map->kind != NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->text, key) == 0)
			return map->items[i];
	return NULL;
}

/* Each line of `text`, made safe for a terminal, into `into`. */
static void push_lines(struct strv *into, const char *text)
{
	while (*text) {
		size_t len = strcspn(text, "\n");

		if (len > 0)
			strv_take(into, termsafe_string(text, len));
		text += len;
		if (*text == '\n')
			text++;
	}
}

static void push_first_line(struct strv *into, const char *text)
{
	text += strspn(text, " \t\n");
	if (*text)
		strv_take(into, termsafe_string(text, strcspn(text, "\n")));
}

static void parse_json(int exit_status, const struct node *root,
		       struct ci_status *st)
{
	const struct node *status = map_get(root, "status");
	const struct node *errs = map_get(root, "errors");
	const struct node *rec = map_get(root, "recoverable_errors");
	const char *s;

	if (status == NULL || status->kind != NODE_SCALAR) {
		st->state = CI_BAD;
		strv_push(&st->errors, "no \"status\" in its answer");
		return;
	}
	s = status->text;
	if (strcmp(s, "done") == 0) {
		st->state = CI_DONE;
		st->degraded = exit_status == 2 ||
			       (rec != NULL && rec->kind == NODE_MAP &&
				rec->n > 0);
	} else if (strcmp(s, "running") == 0 || strcmp(s, "not run") == 0 ||
		   strcmp(s, "not started") == 0) {
		st->state = CI_RUNNING;
	} else if (strcmp(s, "disabled") == 0) {
		st->state = CI_DISABLED;
	} else if (strcmp(s, "error") == 0) {
		st->state = CI_ERROR;
		for (size_t i = 0; errs != NULL && errs->kind == NODE_SEQ &&
				   i < errs->n; i++)
			if (errs->items[i]->kind == NODE_SCALAR)
				push_lines(&st->errors, errs->items[i]->text);
		if (st->errors.n == 0) {
			const struct node *d = map_get(root, "detail");

			if (d != NULL && d->kind == NODE_SCALAR)
				push_lines(&st->errors, d->text);
		}
		if (st->errors.n == 0)
			strv_push(&st->errors, "status: error (no detail)");
	} else {
		st->state = CI_BAD;
		strv_take(&st->errors, xasprintf("unknown status \"%s\"",
						 s));
	}
}

void ci_status_parse(int exit_status, const char *out, const char *err_text,
		     struct ci_status *st)
{
	struct node *root = NULL;
	struct vmctl_error *perr = NULL;

	*st = (struct ci_status){ .state = CI_UNKNOWN };
	if (exit_status == 255)
		return;   /* ssh's own failure: the guest did not answer */
	if (exit_status == 127) {
		st->state = CI_ABSENT;
		return;
	}
	out = out != NULL ? out : "";
	if (out[strspn(out, " \t\n")] == '{' &&
	    node_json_parse("cloud-init status", out, strlen(out), &root,
			    &perr) == 0 && root->kind == NODE_MAP) {
		parse_json(exit_status, root, st);
		node_free(root);
		return;
	}
	node_free(root);
	vmctl_error_free(perr);
	st->state = CI_BAD;
	push_first_line(&st->errors, err_text != NULL ? err_text : "");
	if (st->errors.n == 0)
		push_first_line(&st->errors, out);
	if (st->errors.n == 0)
		strv_take(&st->errors, xasprintf("no answer (exit status "
						 "%d)", exit_status));
}

static double since_s(long long start_ms)
{
	return (double)(vm_now_ms() - start_ms) / 1000.0;
}

/* cloud-init's error lines as one message. */
static int ci_failed(struct vmctl_error **err, const char *vm,
		     const struct ci_status *st)
{
	cleanup_free char *lines = strv_join(&st->errors, "\n  ");

	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
			       "VM %s: cloud-init failed:\n  %s\n(in the "
			       "guest: cloud-init status --long, "
			       "/var/log/cloud-init-output.log)", vm, lines);
}

/*
 * The ssh argv for `cloud-init status --wait --format json`: one login
 * and one Python start for the whole wait (each costs a TCG guest
 * seconds of CPU it would rather give cloud-init), with keepalives so a
 * guest that dies under it ends the session within 30 s.
 */
static void ci_argv(const struct ssh_target *t, struct strv *argv)
{
	static const char *const keepalive[] = {
		"-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3",
		NULL
	};
	struct strv cmd = { 0 };

	strv_push(&cmd, "cloud-init");
	strv_push(&cmd, "status");
	strv_push(&cmd, "--wait");
	strv_push(&cmd, "--format");
	strv_push(&cmd, "json");
	ssh_argv_flags(t, true, keepalive, &cmd, argv);
	strv_clear(&cmd);
}

static int wait_cloud_init(const struct ssh_target *t, int timeout_s,
			   long long start_ms, bool progress,
			   bool (*alive)(void *), void *alive_data,
			   struct wait_report *rep, struct vmctl_error **err)
{
	struct strv argv = { 0 };
	int bad = 0, ret = -1;

	ci_argv(t, &argv);
	if (progress)
		fprintf(stderr, "Waiting for cloud-init on %s...\n", t->vm);
	for (;;) {
		struct ci_status st;
		struct proc_result r;
		long long left = (long long)timeout_s * 1000 -
				 (vm_now_ms() - start_ms);

		if (ssh_wait_stopped(t->vm, "cloud-init", alive, alive_data,
				     err))
			break;
		if (proc_run_for(&argv, left > 1000 ? (int)left : 1000, &r,
				 err) < 0)
			break;
		if (r.status == 255 && ssh_stderr_says_key_mismatch(r.err)) {
			proc_result_clear(&r);
			ssh_key_refused(t->vm, err);
			break;
		}
		if (r.timed_out)
			st = (struct ci_status){ .state = CI_RUNNING };
		else
			ci_status_parse(r.status, r.out, r.err, &st);
		proc_result_clear(&r);
		bad = st.state == CI_BAD ? bad + 1 : 0;
		if (st.state == CI_DONE || st.state == CI_DISABLED ||
		    st.state == CI_ABSENT) {
			rep->ci = st.state;
			rep->degraded = st.degraded;
			ret = 0;
		} else if (st.state == CI_ERROR) {
			ci_failed(err, t->vm, &st);
		} else if (bad >= CI_BAD_MAX) {
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					"VM %s: cloud-init status: %s", t->vm,
					st.errors.v[0]);
		} else if (since_s(start_ms) >= timeout_s) {
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, ETIMEDOUT,
					"VM %s: cloud-init not done after %d s",
					t->vm, timeout_s);
		} else {
			/* ssh failed, or no answer yet: again, after a pause */
			ci_status_clear(&st);
			vm_sleep_ms(CI_RETRY_MS);
			continue;
		}
		ci_status_clear(&st);
		break;
	}
	strv_clear(&argv);
	return ret;
}

int ssh_wait_ready(const struct ssh_target *t, enum wait_until until,
		   int timeout_s, long long start_ms, bool progress,
		   bool (*alive)(void *), void *alive_data,
		   struct wait_report *rep, struct vmctl_error **err)
{
	int left = timeout_s - (int)since_s(start_ms);
	double ssh_wait_s;

	rep->ci = CI_UNKNOWN;
	if (ssh_wait(t, left > 0 ? left : 1, progress, alive, alive_data,
		     &ssh_wait_s, err) < 0)
		return -1;
	rep->ssh_ok = true;
	rep->ssh_s = rep->ready_s = since_s(start_ms);
	if (until == WAIT_UNTIL_SSH)
		return 0;
	if (wait_cloud_init(t, timeout_s, start_ms, progress, alive,
			    alive_data, rep, err) < 0)
		return -1;
	rep->ready_s = since_s(start_ms);
	return 0;
}

/* -v: how long each stage took, counted from the command's start; after
 * a failure, the stages it got to. */
static void report_stages(const char *name, const struct wait_report *rep,
			  enum wait_until until, double base_s, bool create,
			  bool lease, bool done)
{
	if (create)
		fprintf(stderr, "VM %s: QEMU running after %.1f s\n", name,
			base_s);
	if (lease && rep->lease_s > 0)
		fprintf(stderr, "VM %s: address (DHCP lease) after %.1f s\n",
			name, base_s + rep->lease_s);
	if (rep->ssh_ok)
		fprintf(stderr, "VM %s: SSH accepting the key after %.1f s\n",
			name, base_s + rep->ssh_s);
	if (until == WAIT_UNTIL_SSH || !done)
		return;
	if (rep->ci == CI_ABSENT)
		fprintf(stderr, "VM %s: no cloud-init command in the guest: "
			"ready at SSH\n", name);
	else if (rep->ci == CI_DISABLED)
		fprintf(stderr, "VM %s: cloud-init is disabled in the guest: "
			"ready at SSH\n", name);
	else
		fprintf(stderr, "VM %s: cloud-init done after %.1f s\n", name,
			base_s + rep->ready_s);
}

int guest_ready_wait(const struct vmctl_env *env, const char *name,
		     const struct wait_arg *w, bool progress,
		     long long start_ms, bool create,
		     struct vmctl_error **err)
{
	struct wait_report rep = { 0 };
	double base_s = since_s(start_ms);
	bool ssh_only = w->until == WAIT_UNTIL_SSH;

	int ret = env->connect != NULL
		? lvvm_wait_ssh(env, name, w->until, w->timeout_s, progress,
				&rep, err)
		: vm_wait_ssh(env, name, w->until, w->timeout_s, progress,
			      &rep, err);

	if (env->verbosity > 0)
		report_stages(name, &rep, w->until, base_s, create,
			      env->connect != NULL, ret == 0);
	if (ret < 0)
		return -1;
	if (rep.degraded && env->verbosity >= 0)
		fprintf(stderr, "VM %s: cloud-init finished with recoverable "
			"errors (in the guest: cloud-init status --long)\n",
			name);
	if (env->verbosity < 0 || (create && env->json))
		return VMCTL_EXIT_OK;
	if (create)
		printf("%s after %.1f s: vmctl ssh %s\n",
		       ssh_only ? "SSH ready" : "Ready", rep.ready_s, name);
	else
		printf("VM %s: %s after %.1f s\n", name,
		       ssh_only ? "SSH ready" : "ready", rep.ready_s);
	return VMCTL_EXIT_OK;
}
