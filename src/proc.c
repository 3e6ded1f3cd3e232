// SPDX-License-Identifier: GPL-2.0-or-later
/* Running programs from argv arrays (never through a shell), and telling
 * whether a process we started is still the same process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/proc.h"
#include "vmctl/xalloc.h"

extern char **environ;

struct buf {
	char *data;
	size_t len, cap;
};

static void buf_read(struct buf *b, int fd, bool *open)
{
	char chunk[4096];
	ssize_t r = read(fd, chunk, sizeof(chunk));

	if (r <= 0) {
		if (r == 0 || (errno != EINTR && errno != EAGAIN))
			*open = false;
		return;
	}
	if (b->len + (size_t)r + 1 > b->cap) {
		b->cap = (b->len + (size_t)r + 1) * 2;
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, chunk, (size_t)r);
	b->len += (size_t)r;
	b->data[b->len] = '\0';
}

/* The rest of what a pipe holds now, without waiting for more. */
static void buf_drain(struct buf *b, int fd)
{
	bool open = true;
	size_t before;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return;
	do {
		before = b->len;
		buf_read(b, fd, &open);
	} while (open && b->len > before);
}

static int run(const struct strv *argv, char *const envp[], int timeout_ms,
	       bool until_exit, struct proc_result *result,
	       struct vmctl_error **err);

int proc_run(const struct strv *argv, struct proc_result *result,
	     struct vmctl_error **err)
{
	return run(argv, NULL, -1, false, result, err);
}

int proc_run_env(const struct strv *argv, char *const envp[],
		 struct proc_result *result, struct vmctl_error **err)
{
	return run(argv, envp, -1, false, result, err);
}

int proc_run_for(const struct strv *argv, int timeout_ms,
		 struct proc_result *result, struct vmctl_error **err)
{
	return run(argv, NULL, timeout_ms < 0 ? 0 : timeout_ms, false, result,
		   err);
}

int proc_run_until_exit(const struct strv *argv, struct proc_result *result,
			struct vmctl_error **err)
{
	return run(argv, NULL, -1, true, result, err);
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* timeout_ms < 0: none; else the child is killed (SIGKILL) when it has
 * not finished by then.  until_exit: output is read until the child
 * itself exits (its pidfd says so), not until every holder of its pipes
 * has closed them. */
static int run(const struct strv *argv, char *const envp[], int timeout_ms,
	       bool until_exit, struct proc_result *result,
	       struct vmctl_error **err)
{
	long long deadline = timeout_ms >= 0 ? mono_ms() + timeout_ms : -1;
	posix_spawn_file_actions_t fa;
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, wstatus, rc;
	int exited = -1;
	struct buf ob = { 0 }, eb = { 0 };
	bool out_open = true, err_open = true;
	pid_t pid;

	*result = (struct proc_result){ 0 };
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	rc = posix_spawnp(&pid, argv->v[0], &fa, NULL, argv->v,
			  envp ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(errp[1]);
	if (rc != 0) {
		close(out[0]);
		close(errp[0]);
		return vmctl_error_errno(err, rc == ENOENT
					 ? VMCTL_EXIT_UNAVAILABLE
					 : VMCTL_EXIT_FAILURE, rc,
					 "cannot run %s", argv->v[0]);
	}
	/* Linux 5.3 and later; without it, until every holder closes */
	if (until_exit)
		exited = (int)syscall(SYS_pidfd_open, pid, 0);
	while (out_open || err_open) {
		struct pollfd p[3] = {
			{ out_open ? out[0] : -1, POLLIN, 0 },
			{ err_open ? errp[0] : -1, POLLIN, 0 },
			{ exited, POLLIN, 0 },
		};
		long long left = deadline >= 0 ? deadline - mono_ms() : -1;

		if (deadline >= 0 && left <= 0) {
			/* our own child, not yet waited for: its pid is ours */
			kill(pid, SIGKILL);
			result->timed_out = true;
			break;
		}
		if (poll(p, 3, left > INT_MAX ? INT_MAX : (int)left) < 0 &&
		    errno != EINTR)
			break;
		if (p[2].revents) {
			buf_drain(&ob, out[0]);
			buf_drain(&eb, errp[0]);
			break;
		}
		if (p[0].revents)
			buf_read(&ob, out[0], &out_open);
		if (p[1].revents)
			buf_read(&eb, errp[0], &err_open);
	}
	if (exited >= 0)
		close(exited);
	close(out[0]);
	close(errp[0]);
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	result->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
					    : 128 + WTERMSIG(wstatus);
	result->out = ob.data ? ob.data : xstrdup("");
	result->err = eb.data ? eb.data : xstrdup("");
	return 0;
}

void proc_result_clear(struct proc_result *r)
{
	free(r->out);
	free(r->err);
	*r = (struct proc_result){ 0 };
}

int proc_run_ok(const struct strv *argv, const char *what,
		struct vmctl_error **err)
{
	struct proc_result r;
	int ret = proc_run(argv, &r, err);

	if (ret < 0)
		return -1;
	if (r.status != 0) {
		cleanup_free char *why = proc_result_summary(&r);

		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: %s",
				      what, why);
	}
	proc_result_clear(&r);
	return ret;
}

char *proc_result_summary(const struct proc_result *r)
{
	const char *end = r->err + strlen(r->err), *start;

	/* The last line is where programs put the error that stopped them;
	 * earlier lines are often warnings. */
	while (end > r->err && (end[-1] == '\n' || end[-1] == ' ' ||
				end[-1] == '\r'))
		end--;
	if (end == r->err)
		return xasprintf("exit status %d", r->status);
	start = end;
	while (start > r->err && start[-1] != '\n')
		start--;
	return xstrndup(start, (size_t)(end - start));
}

int proc_exec(const struct strv *argv, struct vmctl_error **err)
{
	return proc_exec_env(argv, NULL, err);
}

int proc_exec_env(const struct strv *argv, char *const envp[],
		  struct vmctl_error **err)
{
	if (envp != NULL)
		execvpe(argv->v[0], argv->v, envp);
	else
		execvp(argv->v[0], argv->v);
	return vmctl_error_errno(err, errno == ENOENT ? VMCTL_EXIT_UNAVAILABLE
						      : VMCTL_EXIT_FAILURE,
				 errno, "cannot run %s", argv->v[0]);
}

/* "pid (comm) state ppid ...": comm may hold spaces and parens, so
 * fields are counted from the last ')'.  Returns field `n` (state is 3). */
static const char *stat_field(char *line, int n)
{
	char *p = strrchr(line, ')');

	if (p == NULL || p[1] != ' ')
		return NULL;
	p += 2;
	for (int field = 3; field < n; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return NULL;
		p++;
	}
	return p;
}

int proc_identify(const struct vmctl_env *env, pid_t pid, struct proc_id *out)
{
	cleanup_free char *path = xasprintf("%s/%d/stat", env->proc, (int)pid);
	cleanup_file FILE *f = NULL;
	char line[2048];
	const char *state, *ppid, *start;
	unsigned long long starttime;
	int parent;

	if (pid <= 0)
		return -1;
	f = fopen(path, "re");
	if (f == NULL || fgets(line, sizeof(line), f) == NULL)
		return -1;
	state = stat_field(line, 3);
	ppid = stat_field(line, 4);
	start = stat_field(line, 22);
	if (state == NULL || ppid == NULL || start == NULL ||
	    *state == 'Z' || *state == 'X')   /* a zombie has exited */
		return -1;
	if (sscanf(ppid, "%d", &parent) != 1 ||
	    sscanf(start, "%llu", &starttime) != 1)
		return -1;
	out->pid = pid;
	out->ppid = parent;
	out->starttime = starttime;
	return 0;
}

bool proc_alive(const struct vmctl_env *env, const struct proc_id *id)
{
	struct proc_id now;

	if (id->pid <= 0 || proc_identify(env, id->pid, &now) < 0)
		return false;
	return now.starttime == id->starttime;
}

/*
 * A pidfd pins the process it was opened for: once the identity check
 * passes after pidfd_open(), the signal goes to that process even if it
 * exits and its pid is reused in between.  Kernels before 5.3 have no
 * pidfds; there the check and kill() are as close together as they can be.
 */
int proc_signal(const struct vmctl_env *env, const struct proc_id *id,
		int sig)
{
	int fd, ret;

	if (id->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	fd = (int)syscall(SYS_pidfd_open, id->pid, 0);
	if (fd < 0 && errno != ENOSYS)
		return -1;
	if (!proc_alive(env, id)) {
		if (fd >= 0)
			close(fd);
		errno = ESRCH;
		return -1;
	}
	if (fd < 0)
		return kill(id->pid, sig);
	ret = (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
	if (ret < 0 && errno == ENOSYS)
		ret = kill(id->pid, sig);
	close(fd);
	return ret;
}

int proc_pidfile_names(const struct vmctl_env *env, const char *pidfile,
		       const char *arg, struct proc_id *id)
{
	cleanup_free char *text = NULL, *cmdline = NULL, *cpath = NULL;
	struct vmctl_error *ignored = NULL;
	size_t len;
	long v;

	if (fs_read_file(pidfile, 64, &text, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return -1;
	}
	v = strtol(text, NULL, 10);
	if (v <= 0 || v > INT32_MAX || proc_identify(env, (pid_t)v, id) < 0)
		return -1;
	cpath = xasprintf("%s/%ld/cmdline", env->proc, v);
	if (fs_read_file(cpath, 1u << 20, &cmdline, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return -1;
	}
	for (size_t off = 0; off < len; off += strlen(cmdline + off) + 1)
		if (strcmp(cmdline + off, arg) == 0)
			return 0;
	return -1;
}
