// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/qmp.h"
#include "vmctl/xalloc.h"

#define QMP_LINE_MAX (16u << 20)

struct qmp {
	int fd;
	int timeout_ms;
	char *buf;
	size_t len, cap;
	char *path;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read one message; events are returned too, the caller skips them. */
static int read_message(struct qmp *q, cJSON **out, struct vmctl_error **err)
{
	long long deadline = now_ms() + q->timeout_ms;

	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		struct pollfd p = { q->fd, POLLIN, 0 };
		long long left;
		ssize_t r;

		if (nl != NULL) {
			size_t n = (size_t)(nl - q->buf) + 1;
			cJSON *msg = cJSON_ParseWithLength(q->buf, n);

			memmove(q->buf, q->buf + n, q->len - n);
			q->len -= n;
			if (msg == NULL || !cJSON_IsObject(msg)) {
				cJSON_Delete(msg);
				return vmctl_error_set(err, VMCTL_EXIT_FAILURE,
						       0, "QMP %s: malformed "
						       "message", q->path);
			}
			*out = msg;
			return 0;
		}
		left = deadline - now_ms();
		if (left <= 0)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE,
					       ETIMEDOUT, "QMP %s: no answer "
					       "in %d ms", q->path,
					       q->timeout_ms);
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE,
						 errno, "QMP %s", q->path);
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (q->cap - q->len < 4096) {
			if (q->cap >= QMP_LINE_MAX)
				return vmctl_error_set(err, VMCTL_EXIT_FAILURE,
						       0, "QMP %s: message "
						       "too long", q->path);
			q->cap = q->cap ? q->cap * 2 : 8192;
			q->buf = xrealloc(q->buf, q->cap);
		}
		r = read(q->fd, q->buf + q->len, q->cap - q->len);
		if (r == 0)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE,
					       ECONNRESET, "QMP %s: QEMU "
					       "closed the connection",
					       q->path);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE,
						 errno, "QMP %s", q->path);
		}
		q->len += (size_t)r;
	}
}

static int send_all(struct qmp *q, const char *s, struct vmctl_error **err)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t w = send(q->fd, s, len, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE,
						 errno, "QMP %s", q->path);
		}
		s += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The command's first byte, with `fd` (SCM_RIGHTS) riding on it. */
static int send_fd(struct qmp *q, const char *s, int fd,
		   struct vmctl_error **err)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)s, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	while (sendmsg(q->fd, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE,
						 errno, "QMP %s", q->path);
	return send_all(q, s + 1, err);
}

int qmp_execute(struct qmp *q, const char *command, cJSON *arguments,
		cJSON **reply, struct vmctl_error **err)
{
	return qmp_execute_fd(q, command, arguments, -1, reply, err);
}

int qmp_execute_fd(struct qmp *q, const char *command, cJSON *arguments,
		   int fd, cJSON **reply, struct vmctl_error **err)
{
	cJSON *req = cJSON_CreateObject();
	char *text;
	int ret;

	cJSON_AddStringToObject(req, "execute", command);
	if (arguments != NULL)
		cJSON_AddItemToObject(req, "arguments", arguments);
	text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	ret = fd >= 0 ? send_fd(q, text, fd, err) : send_all(q, text, err);
	if (ret == 0)
		ret = send_all(q, "\n", err);
	free(text);
	if (ret < 0)
		return -1;
	for (;;) {
		cJSON *msg = NULL, *ret_val, *error;

		if (read_message(q, &msg, err) < 0)
			return -1;
		if (cJSON_HasObjectItem(msg, "event")) {
			cJSON_Delete(msg);
			continue;
		}
		error = cJSON_GetObjectItem(msg, "error");
		if (error != NULL) {
			cJSON *desc = cJSON_GetObjectItem(error, "desc");

			vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					"QMP %s: %s", command,
					cJSON_IsString(desc) ? desc->valuestring
							     : "error");
			cJSON_Delete(msg);
			return -1;
		}
		ret_val = cJSON_DetachItemFromObject(msg, "return");
		cJSON_Delete(msg);
		if (reply != NULL)
			*reply = ret_val;
		else
			cJSON_Delete(ret_val);
		return 0;
	}
}

void qmp_set_timeout(struct qmp *q, int timeout_ms)
{
	q->timeout_ms = timeout_ms;
}

int qmp_open(const char *socket_path, int timeout_ms, struct qmp **out,
	     struct vmctl_error **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct qmp *q;
	cJSON *greeting = NULL;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENAMETOOLONG,
				       "QMP socket path too long: %s",
				       socket_path);
	strcpy(sa.sun_path, socket_path);
	q = xcalloc(1, sizeof(*q));
	q->timeout_ms = timeout_ms;
	q->path = xstrdup(socket_path);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&sa,
				 sizeof(sa)) < 0) {
		vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "QMP %s",
				  socket_path);
		qmp_close(q);
		return -1;
	}
	if (read_message(q, &greeting, err) < 0 ||
	    !cJSON_HasObjectItem(greeting, "QMP") ||
	    qmp_execute(q, "qmp_capabilities", NULL, NULL, err) < 0) {
		if (greeting != NULL && !cJSON_HasObjectItem(greeting, "QMP"))
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					"%s is not a QMP socket", socket_path);
		cJSON_Delete(greeting);
		qmp_close(q);
		return -1;
	}
	cJSON_Delete(greeting);
	*out = q;
	return 0;
}

void qmp_close(struct qmp *q)
{
	if (q == NULL)
		return;
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	free(q->path);
	free(q);
}

int qmp_query_status(struct qmp *q, char **status, struct vmctl_error **err)
{
	cJSON *reply = NULL, *s;

	if (qmp_execute(q, "query-status", NULL, &reply, err) < 0)
		return -1;
	s = cJSON_GetObjectItem(reply, "status");
	*status = xstrdup(cJSON_IsString(s) ? s->valuestring : "unknown");
	cJSON_Delete(reply);
	return 0;
}
