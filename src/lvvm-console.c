// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A libvirt VM's serial console (lvvm-console.h): virDomainOpenConsole on
 * a non-blocking stream, driven by libvirt's default event loop together
 * with the local terminal (raw while it runs) and a signal pipe.  The log
 * is lvvm-logs.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "vmctl/lazylib.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvvm-console.h"
#include "vmctl/lvvm.h"
#include "vmctl/xalloc.h"

#define CHUNK 65536
#define LINGER_MS 1000           /* output awaited after stdin's end */

/* ---- pure ------------------------------------------------------------------ */

size_t lvvm_console_keys_feed(struct lvvm_console_keys *k, const char *in,
			      size_t len, char *out, bool *leave)
{
	size_t n = 0;

	*leave = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (k->prefix) {
			k->prefix = false;
			if (c == 'd') {
				*leave = true;
				return n;
			}
			out[n++] = LVVM_CONSOLE_PREFIX;
		}
		if (c == LVVM_CONSOLE_ESCAPE) {
			*leave = true;
			return n;
		}
		if (c == LVVM_CONSOLE_PREFIX)
			k->prefix = true;
		else
			out[n++] = (char)c;
	}
	return n;
}

/* ---- console --------------------------------------------------------------- */

/* SIGINT, SIGTERM, SIGHUP while the console runs: written to a pipe that
 * the event loop watches, so the terminal is restored on the way out. */
static int signal_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (write(signal_pipe[1], &c, 1) < 0) {
		/* full: a signal is already waiting */
	}
	errno = saved;
}

struct console {
	virStreamPtr st;
	struct lvvm_console_keys keys;
	int stdin_watch, signal_watch, linger;
	char pending[4096 + 1];     /* typed bytes libvirt has not taken */
	size_t n_pending;
	bool quit, closed;          /* closed: the guest's side ended */
	int error;                  /* -1: *err set */
	struct vmctl_error **err;
	const char *uri;
};

static void console_fail(struct console *c, const char *what)
{
	if (c->error == 0)
		lvconn_error(c->err, c->uri, false, what);
	c->error = -1;
	c->quit = true;
}

static bool write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		n -= (size_t)w;
	}
	return true;
}

/* Send what is pending; while libvirt cannot take it, stop reading the
 * keyboard and wait until the stream is writable. */
static void flush_pending(struct console *c)
{
	while (c->n_pending > 0) {
		int n = sym_virStreamSend(c->st, c->pending, c->n_pending);

		if (n == -2)
			break;
		if (n < 0) {
			console_fail(c, "console");
			return;
		}
		memmove(c->pending, c->pending + n, c->n_pending - (size_t)n);
		c->n_pending -= (size_t)n;
	}
	sym_virStreamEventUpdateCallback(c->st, VIR_STREAM_EVENT_READABLE |
					 (c->n_pending ? VIR_STREAM_EVENT_WRITABLE
						   : 0));
	if (c->stdin_watch >= 0)
		sym_virEventUpdateHandle(c->stdin_watch, c->n_pending
					 ? 0 : VIR_EVENT_HANDLE_READABLE);
}

static void on_stream(virStreamPtr st, int events, void *opaque)
{
	struct console *c = opaque;
	char buf[CHUNK];

	if (events & VIR_STREAM_EVENT_READABLE) {
		int n;

		while ((n = sym_virStreamRecv(st, buf, sizeof(buf))) > 0) {
			if (!write_all(STDOUT_FILENO, buf, (size_t)n)) {
				c->quit = true;     /* stdout closed */
				return;
			}
			if (c->linger >= 0)
				sym_virEventUpdateTimeout(c->linger, LINGER_MS);
		}
		if (n == 0) {
			c->closed = c->quit = true;
			return;
		}
		if (n == -1) {
			console_fail(c, "console");
			return;
		}
	}
	if (events & VIR_STREAM_EVENT_WRITABLE)
		flush_pending(c);
	if (events & (VIR_STREAM_EVENT_HANGUP | VIR_STREAM_EVENT_ERROR))
		c->closed = c->quit = true;
}

static void on_linger(int timer, void *opaque)
{
	(void)timer;
	((struct console *)opaque)->quit = true;
}

static void on_stdin(int watch, int fd, int events, void *opaque)
{
	struct console *c = opaque;
	char buf[sizeof(c->pending) - 1];
	ssize_t r;
	bool leave;

	(void)events;
	if (c->n_pending > 0)
		return;         /* the stream takes the last keys first */
	r = read(fd, buf, sizeof(buf));
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		/* stdin ended: what the guest still answers is printed until
		 * it has been quiet for LINGER_MS */
		sym_virEventRemoveHandle(watch);
		c->stdin_watch = -1;
		c->linger = sym_virEventAddTimeout(LINGER_MS, on_linger, c, NULL);
		if (c->linger < 0)
			c->quit = true;
		return;
	}
	c->n_pending += lvvm_console_keys_feed(&c->keys, buf, (size_t)r,
					       c->pending + c->n_pending,
					       &leave);
	flush_pending(c);
	if (leave)
		c->quit = true;
}

static void on_signal_pipe(int watch, int fd, int events, void *opaque)
{
	char sig;

	(void)watch;
	(void)events;
	if (read(fd, &sig, 1) == 1)
		((struct console *)opaque)->quit = true;
}

/* The terminal as it was, and the signals that must restore it. */
struct terminal {
	bool raw;
	struct termios saved;
	struct sigaction old[3], old_pipe;
};

static const int caught_signals[3] = { SIGINT, SIGTERM, SIGHUP };

static int terminal_setup(struct terminal *t, struct vmctl_error **err)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "pipe");
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(caught_signals[i], &sa, &t->old[i]);
	/* a closed stdout ends the console, it does not kill vmctl */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &t->old_pipe);
	t->raw = isatty(STDIN_FILENO) &&
		 tcgetattr(STDIN_FILENO, &t->saved) == 0;
	if (t->raw) {
		struct termios raw = t->saved;

		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	}
	return 0;
}

static void terminal_restore(struct terminal *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t->saved);
	for (int i = 0; i < 3; i++)
		sigaction(caught_signals[i], &t->old[i], NULL);
	sigaction(SIGPIPE, &t->old_pipe, NULL);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	signal_pipe[0] = signal_pipe[1] = -1;
}

static int run_console(struct console *c)
{
	struct terminal term = { 0 };

	if (terminal_setup(&term, c->err) < 0)
		return -1;
	c->stdin_watch = sym_virEventAddHandle(STDIN_FILENO,
					       VIR_EVENT_HANDLE_READABLE,
					       on_stdin, c, NULL);
	c->signal_watch = sym_virEventAddHandle(signal_pipe[0],
						VIR_EVENT_HANDLE_READABLE,
						on_signal_pipe, c, NULL);
	if (c->stdin_watch < 0 || c->signal_watch < 0 ||
	    sym_virStreamEventAddCallback(c->st, VIR_STREAM_EVENT_READABLE |
					  VIR_STREAM_EVENT_HANGUP |
					  VIR_STREAM_EVENT_ERROR, on_stream, c,
					  NULL) < 0)
		console_fail(c, "console events");
	while (!c->quit)
		if (sym_virEventRunDefaultImpl() < 0)
			console_fail(c, "event loop");
	sym_virStreamEventRemoveCallback(c->st);
	if (c->stdin_watch >= 0)
		sym_virEventRemoveHandle(c->stdin_watch);
	if (c->signal_watch >= 0)
		sym_virEventRemoveHandle(c->signal_watch);
	if (c->linger >= 0)
		sym_virEventRemoveTimeout(c->linger);
	terminal_restore(&term);
	return c->error;
}

int lvvm_console_cmd_console(const struct vmctl_env *env, const char *name,
			     struct vmctl_error **err)
{
	struct console c = { .stdin_watch = -1, .signal_watch = -1,
			     .linger = -1, .err = err };
	virConnectPtr conn = NULL;
	cleanup_free char *uri = NULL;
	virDomainPtr dom = NULL;
	int ret = -1;

	/* before the connection: its streams report through this loop (and
	 * so libvirt opened first) */
	if (lvconn_init(err) < 0)
		return -1;
	if (sym_virEventRegisterDefaultImpl() < 0)
		return lvconn_error(err, env->connect, false, "event loop");
	if (lvvm_open_vm(env, name, 0, &conn, &uri, &dom, err) < 0)
		goto out;
	c.uri = uri;
	if (sym_virDomainIsActive(dom) != 1) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s is not "
				"running", uri, name);
		goto out;
	}
	c.st = sym_virStreamNew(conn, VIR_STREAM_NONBLOCK);
	/* FORCE: like a second `vmctl attach`, a new console is not refused
	 * (libvirt has one reader: the older one is closed) */
	if (c.st == NULL || sym_virDomainOpenConsole(dom, NULL, c.st,
						     VIR_DOMAIN_CONSOLE_FORCE) < 0) {
		lvconn_error(err, uri, false, "opening the console");
		goto out;
	}
	if (env->verbosity >= 0)
		fprintf(stderr, "vmctl: attaching to %s's console on %s; "
			"Ctrl-] (or Ctrl-b d) detaches\n", name, uri);
	ret = run_console(&c);
	if (ret == 0 && !c.closed)
		sym_virStreamAbort(c.st);
	else if (ret == 0)
		sym_virStreamFinish(c.st);
	sym_virResetLastError();
	if (ret == 0 && c.closed && env->verbosity >= 0)
		fprintf(stderr, "\r\nvmctl: %s's console closed (the VM "
			"stopped)\n", name);
out:
	if (c.st != NULL)
		sym_virStreamFree(c.st);
	if (dom != NULL)
		sym_virDomainFree(dom);
	lvconn_close(conn);
	return ret < 0 ? -1 : VMCTL_EXIT_OK;
}
