// SPDX-License-Identifier: GPL-2.0-or-later
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/interrupt.h"
#include "vmctl/proc.h"
#include "vmctl/quote.h"
#include "vmctl/ssh.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

static char *alias(const char *vm)
{
	return xasprintf("vmctl-%s", vm);
}

char *ssh_known_hosts_line(const char *vm, const char *host_pub)
{
	cleanup_free char *a = alias(vm);
	size_t len = strcspn(host_pub, "\n");

	/* "ssh-ed25519 AAAA... comment" -> "vmctl-NAME ssh-ed25519 AAAA..." */
	return xasprintf("%s %.*s\n", a, (int)len, host_pub);
}

char *ssh_config_quote(const char *value, bool tokens)
{
	/* ssh splits at blanks, takes quotes and '\\' as the shell does and
	 * a word starting with '#' as a comment; with `tokens`, '%' is
	 * doubled: ssh expands %-tokens in the value */
	bool bare = value[0] != '\0' && value[0] != '#' &&
		    strpbrk(value, " \t\"'\\") == NULL;

	return quote_config(value, !bare, tokens);
}

static void opt_push(struct ssh_opts *o, const char *key, const char *value,
		     bool tokens)
{
	strv_push(&o->keys, key);
	strv_push(&o->values, value);
	strv_take(&o->written, ssh_config_quote(value, tokens));
}

/* ProxyCommand and ProxyJump take the rest of the line as it stands. */
static void opt_push_raw(struct ssh_opts *o, const char *key, char *value)
{
	strv_push(&o->keys, key);
	strv_push(&o->values, value);
	strv_take(&o->written, value);
}

/* `ssh -F CONFIG -W [%h]:%p HOST`, what ssh itself runs for ProxyJump
 * when given -F: a command for the user's shell, '%' doubled. */
static char *jump_command(const char *config, const char *host)
{
	cleanup_free char *qc = quote_shell(config);
	cleanup_free char *qh = quote_shell(host);
	cleanup_free char *pc = quote_config(qc, false, true);
	cleanup_free char *ph = quote_config(qh, false, true);

	return xasprintf("ssh -F %s -W '[%%h]:%%p' %s", pc, ph);
}

void ssh_options(const struct ssh_target *t, bool batch, struct ssh_opts *o)
{
	cleanup_free char *a = alias(t->vm);
	cleanup_free char *key = xasprintf("%s/%s", t->vm_dir, VMDIR_SSH_KEY);
	cleanup_free char *known = xasprintf("%s/%s", t->vm_dir,
					     VMDIR_KNOWN_HOSTS);
	char port[16];

	snprintf(port, sizeof(port), "%u", t->port);
	opt_push(o, "HostName", t->host, true);
	opt_push(o, "Port", port, false);
	opt_push(o, "User", t->user, false);
	opt_push(o, "IdentityFile", key, true);
	opt_push(o, "IdentitiesOnly", "yes", false);
	opt_push(o, "UserKnownHostsFile", known, true);
	opt_push(o, "GlobalKnownHostsFile", "/dev/null", false);
	opt_push(o, "StrictHostKeyChecking", "yes", false);
	opt_push(o, "HostKeyAlias", a, false);
	opt_push(o, "PreferredAuthentications", "publickey", false);
	if (batch) {
		opt_push(o, "BatchMode", "yes", false);
		opt_push(o, "ConnectTimeout", "10", false);
	}
	if (t->proxy_jump != NULL && t->config != NULL)
		opt_push_raw(o, "ProxyCommand",
			     jump_command(t->config, t->proxy_jump));
	else if (t->proxy_jump != NULL)
		opt_push_raw(o, "ProxyJump", xstrdup(t->proxy_jump));
}

void ssh_opts_clear(struct ssh_opts *o)
{
	strv_clear(&o->keys);
	strv_clear(&o->values);
	strv_clear(&o->written);
}

/* `-o KEY=VALUE` for each option. */
static void push_options(const struct ssh_target *t, bool batch,
			 struct strv *argv)
{
	struct ssh_opts o = { 0 };

	ssh_options(t, batch, &o);
	for (size_t i = 0; i < o.keys.n; i++) {
		strv_push(argv, "-o");
		strv_pushf(argv, "%s=%s", o.keys.v[i], o.written.v[i]);
	}
	ssh_opts_clear(&o);
}

/* The host part of a destination: an IPv6 address in brackets. */
static char *dest_host(const char *host)
{
	return strchr(host, ':') != NULL ? xasprintf("[%s]", host)
					 : xstrdup(host);
}

void ssh_argv(const struct ssh_target *t, bool batch,
	      const struct strv *command, struct strv *argv)
{
	ssh_argv_flags(t, batch, NULL, command, argv);
}

void ssh_argv_flags(const struct ssh_target *t, bool batch,
		    const char *const *flags, const struct strv *command,
		    struct strv *argv)
{
	strv_push(argv, "ssh");
	for (size_t i = 0; flags != NULL && flags[i] != NULL; i++)
		strv_push(argv, flags[i]);
	push_options(t, batch, argv);
	/* HostName, User and Port are options: this only names the host
	 * for the user's ssh_config (Host lines) */
	strv_push(argv, t->host);
	if (command != NULL && command->n > 0) {
		/* ssh hands the remote side one string for its shell. */
		char *line = quote_shell_argv(command);

		strv_push(argv, "--");
		strv_take(argv, line);
	}
}

char *ssh_config_block(const char *alias_name, const struct ssh_target *t,
		       char **why)
{
	struct ssh_opts o = { 0 };
	struct strv lines = { 0 };
	char *text = NULL;

	*why = NULL;
	if (alias_name[0] == '\0' ||
	    strcspn(alias_name, " \t\"'\\#*?!,=") != strlen(alias_name)) {
		*why = xasprintf("\"%s\" cannot be an ssh_config Host name",
				 alias_name);
		return NULL;
	}
	ssh_options(t, false, &o);
	strv_pushf(&lines, "Host %s", alias_name);
	for (size_t i = 0; i < o.keys.n; i++) {
		for (const char *s = o.written.v[i]; *s != '\0'; s++)
			if ((unsigned char)*s < 0x20 || *s == 0x7f) {
				*why = xasprintf("VM %s: its %s holds a control "
						 "character, which an "
						 "ssh_config line cannot",
						 t->vm, o.keys.v[i]);
				goto out;
			}
		strv_pushf(&lines, "\t%s %s", o.keys.v[i], o.written.v[i]);
	}
	strv_push(&lines, "");
	text = strv_join(&lines, "\n");
out:
	strv_clear(&lines);
	ssh_opts_clear(&o);
	return text;
}

/* A path in the guest that scp in SFTP mode globs: a backslash before each of
 * "*?[\\" so it names that one file. */
static char *glob_escape(const char *path)
{
	char *out = xmalloc(strlen(path) * 2 + 1), *p = out;

	for (const char *s = path; *s != '\0'; s++) {
		if (strchr("*?[\\", *s) != NULL)
			*p++ = '\\';
		*p++ = *s;
	}
	*p = '\0';
	return out;
}

static void push_operand(const struct ssh_target *t, const char *path,
			 bool remote, bool source, struct strv *argv)
{
	if (remote) {
		cleanup_free char *host = dest_host(t->host);
		cleanup_free char *p = source ? glob_escape(path)
					      : xstrdup(path);

		strv_pushf(argv, "%s:%s", host, p);
	} else if (path[0] != '/' && strchr(path, ':') != NULL) {
		/* not HOST:PATH to scp */
		strv_pushf(argv, "./%s", path);
	} else {
		strv_push(argv, path);
	}
}

void ssh_scp_argv(const struct ssh_target *t, const char *src, bool src_remote,
		  const char *dst, bool dst_remote, struct strv *argv)
{
	strv_push(argv, "scp");
	strv_push(argv, "-s");          /* SFTP: no remote shell */
	strv_push(argv, "-r");
	push_options(t, false, argv);
	strv_push(argv, "--");
	push_operand(t, src, src_remote, true, argv);
	push_operand(t, dst, dst_remote, false, argv);
}

/* A copy of `s` that lives as long as *hold. */
static const char *keep(struct strv *hold, const char *s)
{
	if (s == NULL)
		return NULL;
	strv_push(hold, s);
	return hold->v[hold->n - 1];
}

void ssh_target_keep(struct ssh_target *t, struct strv *hold)
{
	t->vm = keep(hold, t->vm);
	t->vm_dir = keep(hold, t->vm_dir);
	t->user = keep(hold, t->user);
	t->host = keep(hold, t->host);
	t->proxy_jump = keep(hold, t->proxy_jump);
	t->config = keep(hold, t->config);
}

bool ssh_stderr_says_key_mismatch(const char *text)
{
	return strstr(text, "Host key verification failed") != NULL ||
	       strstr(text, "REMOTE HOST IDENTIFICATION HAS CHANGED") != NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Does something at host:port greet us with an SSH banner? */
static bool banner_ok(const char *host, unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	char buf[64];
	size_t got = 0;
	int fd;
	bool ok = false;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return false;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		double deadline = now_s() + 2.0;

		while (got < 4 && now_s() < deadline) {
			struct pollfd p = { fd, POLLIN, 0 };
			ssize_t r;

			if (poll(&p, 1, 200) <= 0)
				continue;
			r = read(fd, buf + got, sizeof(buf) - got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		ok = got >= 4 && memcmp(buf, "SSH-", 4) == 0;
	}
	close(fd);
	return ok;
}

bool ssh_wait_stopped(const char *vm, const char *what,
		      bool (*alive)(void *), void *alive_data,
		      struct vmctl_error **err)
{
	if (interrupt_pending())
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR, "interrupted");
	else if (alive != NULL && !alive(alive_data))
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, ESRCH,
				"VM %s stopped while waiting for %s", vm, what);
	else
		return false;
	return true;
}

int ssh_key_refused(const char *vm, struct vmctl_error **err)
{
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "VM %s: its SSH "
			       "host key is not the one vmctl pinned; "
			       "refusing to trust it", vm);
}

/*
 * How ssh_wait logs in: -f, so that ssh exits 0 as soon as sshd has
 * accepted the VM's key (it goes to the background "just before command
 * execution"; that half keeps stderr, so proc_run_until_exit): ready is
 * reported then, not a TCG guest's shell start later.  The background half runs `true` and
 * ends by itself; keepalives end it within 10 s should the guest die
 * under it.
 */
static const char *const wait_flags[] = {
	"-f", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=2",
	NULL
};

int ssh_wait(const struct ssh_target *t, int timeout_s, bool progress,
	     bool (*alive)(void *), void *alive_data, double *elapsed,
	     struct vmctl_error **err)
{
	struct strv argv = { 0 }, cmd = { 0 };
	double start = now_s(), last_draw = 0;
	int ret = -1;

	strv_push(&cmd, "true");
	ssh_argv_flags(t, true, wait_flags, &cmd, &argv);
	for (;;) {
		double t_now = now_s();

		if (progress && t_now - last_draw >= 1.0) {
			fprintf(stderr, "\rWaiting for SSH on %s: %.0f s",
				t->vm, t_now - start);
			last_draw = t_now;
		}
		if (ssh_wait_stopped(t->vm, "SSH", alive, alive_data, err))
			break;
		if (t->proxy_jump != NULL || banner_ok(t->host, t->port)) {
			struct proc_result r;

			if (proc_run_until_exit(&argv, &r, err) < 0)
				break;
			if (r.status == 0) {
				proc_result_clear(&r);
				ret = 0;
				break;
			}
			if (ssh_stderr_says_key_mismatch(r.err)) {
				proc_result_clear(&r);
				ssh_key_refused(t->vm, err);
				break;
			}
			proc_result_clear(&r);
		}
		if (now_s() - start >= timeout_s) {
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, ETIMEDOUT,
					"VM %s: SSH not ready after %d s",
					t->vm, timeout_s);
			break;
		}
		/* through a jump host each try is a login: not 10 a second */
		usleep(t->proxy_jump != NULL ? 1000000 : 100000);
	}
	if (progress && last_draw > 0)
		fputc('\n', stderr);
	*elapsed = now_s() - start;
	strv_clear(&argv);
	strv_clear(&cmd);
	return ret;
}
