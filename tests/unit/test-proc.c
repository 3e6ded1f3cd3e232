// SPDX-License-Identifier: GPL-2.0-or-later
/* Running programs (proc.c): output and status collected; a program that
 * leaves a process of its own behind on its pipes (as ssh -f does) is
 * done, for proc_run_until_exit, when it exits itself. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "vmctl/proc.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sh(struct strv *argv, const char *script)
{
	*argv = (struct strv){ 0 };
	strv_push(argv, "sh");
	strv_push(argv, "-c");
	strv_push(argv, script);
}

static void test_run(void)
{
	struct strv argv;
	struct proc_result r;
	struct vmctl_error *err = NULL;

	sh(&argv, "echo out; echo err >&2; exit 3");
	ok(proc_run(&argv, &r, &err) == 0, "proc_run runs sh");
	is_str(r.out, "out\n", "its stdout");
	is_str(r.err, "err\n", "its stderr");
	ok(r.status == 3, "its exit status (%d)", r.status);
	proc_result_clear(&r);
	strv_clear(&argv);
}

static void test_until_exit(void)
{
	struct strv argv;
	struct proc_result r;
	struct vmctl_error *err = NULL;
	double t0 = now(), took;

	/* the background sleep keeps both pipes open for 30 s */
	sh(&argv, "echo warn >&2; sleep 30 & echo $!; exit 0");
	ok(proc_run_until_exit(&argv, &r, &err) == 0, "proc_run_until_exit");
	took = now() - t0;
	ok(took < 20, "returns when sh exits, not when its background "
	   "child lets go of the pipes (%.1f s)", took);
	ok(atoi(r.out) > 0, "with the stdout written until then (%d)",
	   atoi(r.out));
	is_str(r.err, "warn\n", "and the stderr");
	ok(r.status == 0, "and the exit status");
	if (atoi(r.out) > 0)
		kill(atoi(r.out), SIGTERM);
	proc_result_clear(&r);
	strv_clear(&argv);
}

int main(void)
{
	test_run();
	test_until_exit();
	return tap_done();
}
