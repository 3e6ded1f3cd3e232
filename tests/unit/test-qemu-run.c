// SPDX-License-Identifier: GPL-2.0-or-later
/* QEMU's launcher (qemu-run.c): its command lines, and the gate that sends
 * a waiting launcher its words, to the pane's own process only. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "vmctl/fsutil.h"
#include "vmctl/qemu-run.h"
#include "vmctl/xalloc.h"

static char *joined(const struct strv *v)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < v->n; i++)
		len += strlen(v->v[i]) + 1;
	out = xcalloc(1, len);
	for (size_t i = 0; i < v->n; i++) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, v->v[i]);
	}
	return out;
}

static void test_argv(void)
{
	struct cpulist cpus = { 0 };
	struct qemu_run_opts o = { .log = "/s/serial.log", .log_max = 4096,
				   .memlock = 1024, .cpus = &cpus };
	struct strv qemu = { 0 }, words = { 0 }, argv = { 0 };
	cleanup_free char *w = NULL, *a = NULL, *g = NULL;

	cpulist_parse("2-3", &cpus);
	strv_push(&qemu, "qemu-system-x86_64");
	strv_push(&qemu, "-m");
	strv_push(&qemu, "128M");
	qemu_run_words(&o, &qemu, &words);
	w = joined(&words);
	is_str(w, "--log /s/serial.log --log-max 4096 --memlock 1024 --cpus "
		  "2-3 -- qemu-system-x86_64 -m 128M", "the launcher's words");
	qemu_run_argv("/bin/vmctl", &words, &argv);
	a = joined(&argv);
	ok(strncmp(a, "/bin/vmctl __run-qemu --log ", 28) == 0 &&
	   strstr(a, " -- qemu-system-x86_64 -m 128M") != NULL,
	   "ungated: all in the pane's command (%s)", a);
	strv_clear(&argv);
	qemu_run_gated_argv("/bin/vmctl", "/s/gate.sock", &argv);
	g = joined(&argv);
	is_str(g, "/bin/vmctl __run-qemu --gate /s/gate.sock",
	       "gated: the pane's command is the gate alone");
	strv_clear(&argv);
	strv_clear(&words);
	strv_clear(&qemu);
	cpulist_clear(&cpus);
}

/* A process that connects to the gate, says so on `ready`, and exits with
 * the number of bytes it was sent (at most 100).  (Each child closes its
 * copy of the listening gate: a launcher tmux starts has none.) */
static pid_t foreign(const char *path, int gate, int ready)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		char buf[128];
		ssize_t r, total = 0;

		close(gate);
		strcpy(sa.sun_path, path);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(200);
		if (write(ready, "c", 1) != 1)
			_exit(201);
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			total += r;
		_exit(total > 100 ? 100 : (int)total);
	}
	return pid;
}

/* `vmctl __run-qemu --gate PATH` in a child of its own. */
static pid_t launcher_at(const char *path, int gate)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "__run-qemu", "--gate", (char *)path, NULL };

		close(gate);
		_exit(qemu_run_main(3, argv));
	}
	return pid;
}

static int exit_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void test_gate(void)
{
	char dir[] = "/tmp/vmctl-test-qemu-run.XXXXXX";
	cleanup_free char *path = NULL, *out = NULL, *script = NULL;
	cleanup_free char *text = NULL;
	struct vmctl_error *err = NULL;
	struct strv words = { 0 };
	int gate, ready[2], passed = 0, tries;
	pid_t other, launcher;
	size_t len;
	char c;

	if (!ok(mkdtemp(dir) != NULL && pipe(ready) == 0, "temp dir"))
		return;
	path = xasprintf("%s/gate.sock", dir);
	out = xasprintf("%s/ran", dir);
	gate = qemu_run_gate_open(path, &err);
	ok(gate >= 0, "gate open");

	/* first in line: a process that is not the launcher */
	other = foreign(path, gate, ready[1]);
	ok(read(ready[0], &c, 1) == 1, "another process waits at the gate");

	launcher = launcher_at(path, gate);
	script = xasprintf("printf '%%s|' \"$@\" > %s", out);
	strv_push(&words, "--");
	strv_push(&words, "sh");
	strv_push(&words, "-c");
	strv_push(&words, script);
	strv_push(&words, "sh");
	strv_push(&words, "two words");
	strv_push(&words, "");
	strv_push(&words, "x;$(id)");
	for (tries = 0; tries < 50 && !passed; tries++)
		passed = qemu_run_gate_pass(gate, launcher, &words, 100);
	ok(passed == 1, "the launcher let through (after %d tries)", tries);
	ok(exit_status(other) == 0,
	   "the other process was sent nothing and closed");
	ok(exit_status(launcher) == 0, "the launcher ran its command");
	ok(fs_read_file(out, 4096, &text, &len, 1, &err) == 0,
	   "its output written");
	is_str(text, "two words||x;$(id)|",
	       "its words arrive as sent, empty ones and all");

	/* a launcher whose create closes the gate says so, runs nothing */
	launcher = launcher_at(path, gate);
	usleep(100 * 1000);
	close(gate);
	unlink(out);
	ok(exit_status(launcher) == 1 && access(out, F_OK) != 0,
	   "gate closed: the launcher exits 1, nothing run");

	strv_clear(&words);
	vmctl_error_free(err);
	close(ready[0]);
	close(ready[1]);
	fs_remove_tree(dir, NULL);
}

static void test_bad_launch(void)
{
	char *gate_and_more[] = { "__run-qemu", "--gate", "/x", "--", "q",
				  NULL };
	char *nothing[] = { "__run-qemu", "--log", "/l", NULL };

	ok(qemu_run_main(5, gate_and_more) == 64,
	   "--gate with a command too: usage");
	ok(qemu_run_main(3, nothing) == 64, "no QEMU command: usage");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_argv();
	test_gate();
	test_bad_launch();
	return tap_done();
}
