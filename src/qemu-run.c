// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `vmctl __run-qemu`: what runs in a VM's tmux pane before QEMU replaces
 * it (see qemu-run.h).  It writes only to stderr (the pane, where
 * vm.c's qemu_error() finds its words) and to the serial log.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/proc.h"
#include "vmctl/qemu-run.h"
#include "vmctl/xalloc.h"

void qemu_run_words(const struct qemu_run_opts *o, const struct strv *qemu,
		    struct strv *words)
{
	if (o->log != NULL) {
		strv_push(words, "--log");
		strv_push(words, o->log);
		strv_push(words, "--log-max");
		strv_pushf(words, "%" PRIu64, o->log_max);
	}
	if (o->memlock != 0) {
		strv_push(words, "--memlock");
		strv_pushf(words, "%" PRIu64, o->memlock);
	}
	if (o->cpus != NULL && o->cpus->n > 0) {
		cleanup_free char *list = cpulist_format(o->cpus->v,
							 o->cpus->n);

		strv_push(words, "--cpus");
		strv_push(words, list);
	}
	strv_push(words, "--");
	strv_extend(words, qemu);
}

void qemu_run_argv(const char *self, const struct strv *words,
		   struct strv *argv)
{
	strv_push(argv, self);
	strv_push(argv, "__run-qemu");
	strv_extend(argv, words);
}

void qemu_run_gated_argv(const char *self, const char *gate,
			 struct strv *argv)
{
	strv_push(argv, self);
	strv_push(argv, "__run-qemu");
	strv_push(argv, "--gate");
	strv_push(argv, gate);
}

char *qemu_run_self(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return xstrdup("vmctl");
	buf[n] = '\0';
	return xstrdup(buf);
}

/* ---- the serial log keeper -------------------------------------------- */

static int open_log(const char *path, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
			    O_NOFOLLOW, 0600);

	*size = 0;
	if (fd >= 0 && fstat(fd, &st) == 0)
		*size = (uint64_t)st.st_size;
	return fd;
}

/* serial.log -> serial.log.1 (replacing the older one), a fresh log. */
static int rotate(const char *path, int fd, uint64_t *size)
{
	cleanup_free char *old = xasprintf("%s.1", path);

	if (fd >= 0)
		close(fd);
	rename(path, old);
	return open_log(path, size);
}

/* Write all of buf; on a write error (ENOSPC, say) drop it: the guest
 * must never wait on its log. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0 && fd >= 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

static void close_from(int lowest)
{
	if (syscall(SYS_close_range, (unsigned)lowest, ~0u, 0) == 0)
		return;
	for (int fd = lowest; fd < 1024; fd++)
		close(fd);
}

static _Noreturn void keep_log(int in, const char *path, uint64_t max)
{
	char buf[65536];
	uint64_t size;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), fd;

	/* Out of the pane: no terminal, no signals meant for QEMU's pane. */
	setsid();
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	dup2(in, 0);
	if (null >= 0) {
		dup2(null, 1);
		dup2(null, 2);
	}
	close_from(3);
	fd = open_log(path, &size);
	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));
		const char *p = buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);   /* QEMU is gone */
		/* Fill the log up to `max`, then start the next one. */
		while (n > 0) {
			size_t chunk = (size_t)n;

			if (size >= max)
				fd = rotate(path, fd, &size);
			if (size < max && chunk > max - size)
				chunk = (size_t)(max - size);
			write_all(fd, p, chunk);
			size += chunk;
			p += chunk;
			n -= (ssize_t)chunk;
		}
	}
}

/* Start the keeper; QEMU's end of the pipe lands on QEMU_RUN_LOG_FD. */
static int start_log(const char *path, uint64_t max)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[1]);
		keep_log(p[0], path, max);
	}
	close(p[0]);
	if (p[1] == QEMU_RUN_LOG_FD)
		return fcntl(p[1], F_SETFD, 0);   /* keep it across exec */
	if (dup2(p[1], QEMU_RUN_LOG_FD) < 0)
		return -1;
	close(p[1]);
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

/* The whole process, and so every thread QEMU makes, on `cpus`. */
static int set_cpus(const struct cpulist *cpus)
{
	unsigned max = cpus->v[cpus->n - 1];
	size_t size = CPU_ALLOC_SIZE(max + 1);
	cpu_set_t *set = CPU_ALLOC(max + 1);
	int ret;

	CPU_ZERO_S(size, set);
	for (size_t i = 0; i < cpus->n; i++)
		CPU_SET_S(cpus->v[i], size, set);
	ret = sched_setaffinity(0, size, set);
	CPU_FREE(set);
	return ret;
}

/* ---- the gate ------------------------------------------------------------ */

static int gate_addr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

int qemu_run_gate_open(const char *path, struct vmctl_error **err)
{
	struct sockaddr_un sa;
	int fd = -1;

	if (gate_addr(path, &sa) < 0 ||
	    (unlink(path) < 0 && errno != ENOENT) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, e,
					 "launch gate %s", path);
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int qemu_run_gate_pass(int gate, pid_t launcher, const struct strv *words,
		       int wait_ms)
{
	struct pollfd p = { gate, POLLIN, 0 };
	struct ucred peer;
	socklen_t peer_len = sizeof(peer);
	cleanup_free char *msg = NULL;
	size_t len = 0;
	int conn, ret;

	if (poll(&p, 1, wait_ms) <= 0)
		return 0;
	conn = accept4(gate, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return 0;
	/* the pane's own process, not whatever else could reach the
	 * socket (or a launcher of an attempt already undone) */
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) < 0 ||
	    peer.pid != launcher) {
		close(conn);
		return 0;
	}
	for (size_t i = 0; i < words->n; i++)
		len += strlen(words->v[i]) + 1;
	msg = xmalloc(len ? len : 1);
	len = 0;
	for (size_t i = 0; i < words->n; i++) {
		size_t n = strlen(words->v[i]) + 1;

		memcpy(msg + len, words->v[i], n);
		len += n;
	}
	ret = send_all(conn, msg, len) == 0 ? 1 : 0;
	close(conn);
	return ret;
}

/*
 * The launcher's side: once create says go, its words (NUL-terminated,
 * to the end of the stream) in *buf and, pointing into it, *words; their
 * count, or -1 when create closed the gate without a word (failed or
 * gone).
 */
static int gate_wait(const char *path, char **buf, char ***words)
{
	struct sockaddr_un sa;
	cleanup_close int fd = -1;
	size_t len = 0;
	int n = 0;

	*buf = NULL;
	*words = NULL;
	if (gate_addr(path, &sa) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    fs_read_fd(fd, path, QEMU_RUN_GATE_MAX, buf, &len, 1, NULL) < 0)
		return -1;
	if (len == 0 || (*buf)[len - 1] != '\0')
		return -1;
	for (size_t i = 0; i < len; i++)
		n += (*buf)[i] == '\0';
	*words = xcalloc((size_t)n + 1, sizeof(**words));
	for (size_t i = 0, k = 0; i < len; i += strlen(*buf + i) + 1)
		(*words)[k++] = *buf + i;
	return n;
}

struct launch {
	const char *log, *cpus_text, *gate;
	uint64_t log_max, memlock;
	struct cpulist cpus;
};

/*
 * The launcher's options in w[0..n-1], up to "--": the index of QEMU's
 * argv[0] after it, n when there is no "--" (only `--gate PATH`), or -1
 * with the reason on stderr.
 */
static int parse_opts(int n, char **w, bool gated, struct launch *l)
{
	int i;

	for (i = 0; i < n && strcmp(w[i], "--") != 0; i += 2) {
		const char *opt = w[i], *val = i + 1 < n ? w[i + 1] : NULL;
		int bad = val == NULL;

		if (!bad && strcmp(opt, "--log") == 0)
			l->log = val;
		else if (!bad && strcmp(opt, "--log-max") == 0)
			bad = parse_u64(val, &l->log_max) < 0 ||
			      l->log_max == 0;
		else if (!bad && strcmp(opt, "--memlock") == 0)
			bad = parse_u64(val, &l->memlock) < 0;
		else if (!bad && !gated && strcmp(opt, "--gate") == 0)
			l->gate = val;
		else if (!bad && strcmp(opt, "--cpus") == 0) {
			cpulist_clear(&l->cpus);
			bad = cpulist_parse(l->cpus_text = val, &l->cpus) < 0 ||
			      l->cpus.n == 0;
		} else
			bad = 1;
		if (bad) {
			fprintf(stderr, "vmctl __run-qemu: bad option %s\n",
				opt);
			return -1;
		}
	}
	if (i == n && l->gate != NULL && !gated)
		return n;
	if (i + 1 >= n) {
		fprintf(stderr, "vmctl __run-qemu: no QEMU command\n");
		return -1;
	}
	return i + 1;
}

int qemu_run_main(int argc, char **argv)
{
	struct launch l = { .log_max = QEMU_RUN_LOG_MAX_DEFAULT };
	cleanup_free char *msg = NULL;
	cleanup_free char **words = NULL;
	int n = argc - 1, i;

	argv++;
	i = parse_opts(n, argv, false, &l);
	if (i < 0)
		return 64;
	if (l.gate != NULL) {
		if (i != n || n != 2) {
			fprintf(stderr, "vmctl __run-qemu: --gate comes "
				"alone\n");
			return 64;
		}
		n = gate_wait(l.gate, &msg, &words);
		if (n < 0) {
			fprintf(stderr, "vmctl: QEMU not started: its create "
				"ended first\n");
			return 1;
		}
		argv = words;
		i = parse_opts(n, argv, true, &l);
		if (i < 0)
			return 64;
	}
	argv += i;
	if (l.memlock != 0) {
		struct rlimit rl = { l.memlock, l.memlock };

		if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0) {
			fprintf(stderr, "vmctl: cannot raise the locked memory "
				"limit to %" PRIu64 " bytes for VFIO: %s\n",
				l.memlock, strerror(errno));
			return 77;
		}
	}
	if (l.cpus.n > 0 && set_cpus(&l.cpus) < 0) {
		fprintf(stderr, "vmctl: cannot run QEMU on CPUs %s: %s\n",
			l.cpus_text, strerror(errno));
		return 1;
	}
	cpulist_clear(&l.cpus);
	if (l.log != NULL && start_log(l.log, l.log_max) < 0) {
		fprintf(stderr, "vmctl: serial log %s: %s\n", l.log,
			strerror(errno));
		return 1;
	}
	execvp(argv[0], argv);
	fprintf(stderr, "vmctl: cannot run %s: %s\n", argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

/* ---- the QEMU user ----------------------------------------------------- */

int qemu_run_ensure_user(const char *user, struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;
	int ret;

	if (getpwnam(user) != NULL)
		return 0;
	strv_push(&argv, "useradd");
	strv_push(&argv, "--system");
	strv_push(&argv, "--user-group");
	strv_push(&argv, "--no-create-home");
	strv_push(&argv, "--home-dir");
	strv_push(&argv, "/nonexistent");
	strv_push(&argv, "--shell");
	strv_push(&argv, "/usr/sbin/nologin");
	strv_push(&argv, "--comment");
	strv_push(&argv, "vmctl QEMU processes");
	strv_push(&argv, user);
	ret = proc_run(&argv, &r, err);
	strv_clear(&argv);
	if (ret < 0)
		return vmctl_error_wrap(err, "QEMU runs as user %s, who does "
					"not exist", user);
	if (r.status != 0 && getpwnam(user) == NULL) {
		cleanup_free char *why = proc_result_summary(&r);

		ret = vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
				      "QEMU runs as user %s, who does not "
				      "exist, and useradd failed: %s", user,
				      why);
	}
	proc_result_clear(&r);
	return ret;
}
