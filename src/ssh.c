// SPDX-License-Identifier: GPL-2.0-or-later
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
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

int ssh_keygen(const char *path, const char *comment,
	       struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;
	int ret = 0;

	strv_push(&argv, "ssh-keygen");
	strv_push(&argv, "-q");
	strv_push(&argv, "-t");
	strv_push(&argv, "ed25519");
	strv_push(&argv, "-N");
	strv_push(&argv, "");
	strv_push(&argv, "-C");
	strv_push(&argv, comment);
	strv_push(&argv, "-f");
	strv_push(&argv, path);
	if (proc_run(&argv, &r, err) < 0) {
		strv_clear(&argv);
		return vmctl_error_wrap(err, "ssh-keygen (Debian: apt-get "
					"install openssh-client)");
	}
	strv_clear(&argv);
	if (r.status != 0) {
		cleanup_free char *why = proc_result_summary(&r);

		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				      "ssh-keygen %s: %s", path, why);
	}
	proc_result_clear(&r);
	return ret;
}

struct keygen_job {
	const char *path, *comment;
	pthread_t thread;
	bool running;
	int ret;
	struct vmctl_error *err;
};

static void *keygen_run(void *arg)
{
	struct keygen_job *j = arg;

	j->ret = ssh_keygen(j->path, j->comment, &j->err);
	return NULL;
}

int ssh_keygen_two(const char *path1, const char *comment1,
		   const char *path2, const char *comment2,
		   struct vmctl_error **err)
{
	struct keygen_job j = { .path = path2, .comment = comment2 };
	int ret;

	/* ssh-keygen spends its 10-20 ms starting up: run both at once */
	j.running = pthread_create(&j.thread, NULL, keygen_run, &j) == 0;
	if (!j.running)
		keygen_run(&j);
	ret = ssh_keygen(path1, comment1, err);
	if (j.running)
		pthread_join(j.thread, NULL);
	if (j.ret < 0 && ret == 0) {
		*err = j.err;
		return -1;
	}
	vmctl_error_free(j.err);
	return ret < 0 ? -1 : j.ret;
}

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

void ssh_argv(const struct ssh_target *t, bool batch,
	      const struct strv *command, struct strv *argv)
{
	cleanup_free char *a = alias(t->vm);

	strv_push(argv, "ssh");
	if (t->config != NULL) {
		strv_push(argv, "-F");
		strv_push(argv, t->config);
	}
	strv_push(argv, "-i");
	strv_pushf(argv, "%s/%s", t->vm_dir, VMDIR_SSH_KEY);
	strv_push(argv, "-o");
	strv_push(argv, "IdentitiesOnly=yes");
	strv_push(argv, "-o");
	strv_pushf(argv, "UserKnownHostsFile=%s/%s", t->vm_dir,
		   VMDIR_KNOWN_HOSTS);
	strv_push(argv, "-o");
	strv_push(argv, "GlobalKnownHostsFile=/dev/null");
	strv_push(argv, "-o");
	strv_push(argv, "StrictHostKeyChecking=yes");
	strv_push(argv, "-o");
	strv_pushf(argv, "HostKeyAlias=%s", a);
	strv_push(argv, "-o");
	strv_push(argv, "PreferredAuthentications=publickey");
	if (batch) {
		strv_push(argv, "-o");
		strv_push(argv, "BatchMode=yes");
		strv_push(argv, "-o");
		strv_push(argv, "ConnectTimeout=10");
	}
	if (t->proxy_jump != NULL) {
		strv_push(argv, "-o");
		strv_pushf(argv, "ProxyJump=%s", t->proxy_jump);
	}
	strv_push(argv, "-p");
	strv_pushf(argv, "%u", t->port);
	strv_pushf(argv, "%s@%s", t->user, t->host);
	if (command != NULL && command->n > 0) {
		/* ssh hands the remote side one string for its shell. */
		char *line = quote_shell_argv(command);

		strv_push(argv, "--");
		strv_take(argv, line);
	}
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

int ssh_wait(const struct ssh_target *t, int timeout_s, bool progress,
	     bool (*alive)(void *), void *alive_data, double *elapsed,
	     struct vmctl_error **err)
{
	struct strv argv = { 0 }, cmd = { 0 };
	double start = now_s(), last_draw = 0;
	int ret = -1;

	strv_push(&cmd, "true");
	ssh_argv(t, true, &cmd, &argv);
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

			if (proc_run(&argv, &r, err) < 0)
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
