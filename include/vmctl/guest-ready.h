/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_GUEST_READY_H
#define VMCTL_GUEST_READY_H

#include <stdbool.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/ssh.h"
#include "vmctl/strv.h"

/*
 * When a VM is ready for work (`create --wait`, `wait`).  "ready" (the
 * default): SSH accepts the VM's key and cloud-init has finished in the
 * guest (`cloud-init status --wait --format json` over the same
 * pinned-key SSH says done), so the spec's packages and runcmd are in place.  "ssh": SSH
 * accepts the key, nothing more.
 *
 * A guest without cloud-init (the command is not found: exit 127) or with
 * cloud-init disabled is ready at SSH: there is nothing to wait for, and
 * -v says so.  A VM whose spec has no cloud-init has no key vmctl could
 * log in with, so it cannot be waited for at all (vm_ssh_target()).
 */

/* Ready includes cloud-init's packages and runcmd, which take minutes of
 * their own (and a TCG boot of a cloud image minutes more). */
#define WAIT_DEFAULT_S 600

enum wait_until {
	WAIT_UNTIL_READY,   /* SSH, then cloud-init done */
	WAIT_UNTIL_SSH,     /* SSH accepts the VM's key */
};

struct wait_arg {
	enum wait_until until;
	int timeout_s;
};

/* Pure: "ready" or "ssh".  -1 for anything else. */
int wait_until_parse(const char *s, enum wait_until *out);

/*
 * Pure: the value of --wait[=ARG]: NULL (ready, WAIT_DEFAULT_S),
 * "SECONDS", "ready", "ssh", "ready,SECONDS" or "ssh,SECONDS"; SECONDS
 * 0 to 86400.  -1 with *why (static text) for anything else.
 */
int wait_arg_parse(const char *arg, struct wait_arg *out, const char **why);

/* What `cloud-init status --format json` said. */
enum ci_state {
	CI_UNKNOWN,      /* no answer (ssh failed): ask again */
	CI_RUNNING,      /* not started yet, or running */
	CI_DONE,         /* done (maybe with recoverable errors) */
	CI_ERROR,        /* done or running with errors: `errors` */
	CI_DISABLED,     /* disabled in the guest: nothing to wait for */
	CI_ABSENT,       /* no cloud-init command in the guest */
	CI_BAD,          /* an answer that is none of these: `errors` [0] */
};

struct ci_status {
	enum ci_state state;
	/* CI_DONE: cloud-init's exit status was 2 (newer releases:
	 * "degraded", recoverable errors), or it listed some */
	bool degraded;
	/* CI_ERROR: cloud-init's own error lines (its "errors", else its
	 * "detail"); CI_BAD: what came back instead */
	struct strv errors;
};

/*
 * Pure: judge one run of `ssh ... cloud-init status [--wait] --format
 * json`: its
 * exit status (255: ssh's own failure; 127: command not found), its
 * stdout and its stderr.  Knows Debian 12's cloud-init 22.4 (exit 1 on
 * error, "status": "not run"|"running"|"done"|"error"|"disabled") and
 * later releases (exit 2 for recoverable errors, "not started",
 * "recoverable_errors").
 */
void ci_status_parse(int exit_status, const char *out, const char *err_text,
		     struct ci_status *st);
void ci_status_clear(struct ci_status *st);

/* How a wait went: seconds from its start to each stage. */
struct wait_report {
	double lease_s;       /* --connect: the guest's DHCP lease; else 0 */
	double ssh_s;         /* SSH accepted the VM's key */
	double ready_s;       /* cloud-init done (WAIT_UNTIL_READY), or ssh_s */
	enum ci_state ci;     /* CI_DONE, CI_DISABLED, CI_ABSENT; CI_UNKNOWN
				 when not asked (WAIT_UNTIL_SSH) */
	bool degraded;        /* cloud-init finished with recoverable errors */
	bool ssh_ok;          /* SSH got that far (a failure was later) */
};

/*
 * ssh_wait(), then for WAIT_UNTIL_READY `cloud-init status --wait --format
 * json` over the same pinned-key SSH (one login; again after 2 s if ssh
 * fails), killed when timeout_s (counted from `start_ms`, vm_now_ms())
 * runs out.  A cloud-init error
 * fails with its own lines (errnum 0: the serial log has no say); a
 * timeout fails with ETIMEDOUT.  rep->ssh_s and rep->ready_s count from
 * start_ms.
 */
int ssh_wait_ready(const struct ssh_target *t, enum wait_until until,
		   int timeout_s, long long start_ms, bool progress,
		   bool (*alive)(void *), void *alive_data,
		   struct wait_report *rep, struct vmctl_error **err);

/*
 * The command front ends' wait (create --wait, wait), either backend:
 * wait, then print the one-line result on stdout (unless quiet or
 * --json) and, with -v, each stage's time on stderr, counted from
 * `start_ms` (create: its own start, so QEMU's start is in the times).
 */
int guest_ready_wait(const struct vmctl_env *env, const char *name,
		     const struct wait_arg *w, bool progress,
		     long long start_ms, bool create,
		     struct vmctl_error **err);

#endif
