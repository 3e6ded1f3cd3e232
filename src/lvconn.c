// SPDX-License-Identifier: GPL-2.0-or-later
/* The libvirt connection: open with a bounded reach, errors as values,
 * PCI node devices as a struct pci_host (lvconn.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libvirt/virterror.h>

#include "vmctl/hosts.h"
#include "vmctl/lazylib.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvnodedev.h"
#include "vmctl/xalloc.h"

/* libvirt prints every error to stderr unless told otherwise; ours are
 * values that main() prints once. */
static void libvirt_quiet(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;
}

int lvconn_init(struct vmctl_error **err)
{
	static bool done;

	if (done)
		return 0;
	if (lazylib_load(LAZYLIB_LIBVIRT, err) < 0 ||
	    lazylib_load(LAZYLIB_LIBVIRT_QEMU, err) < 0)
		return -1;
	done = true;
	sym_virInitialize();
	sym_virSetErrorFunc(NULL, libvirt_quiet);
	return 0;
}

static int status_of(int code, bool opening)
{
	switch (code) {
	case VIR_ERR_AUTH_FAILED:
	case VIR_ERR_AUTH_CANCELLED:
	case VIR_ERR_AUTH_UNAVAILABLE:
	case VIR_ERR_ACCESS_DENIED:
	case VIR_ERR_OPERATION_DENIED:
		return VMCTL_EXIT_NOPERM;
	default:
		return opening ? VMCTL_EXIT_UNAVAILABLE : VMCTL_EXIT_FAILURE;
	}
}

int lvconn_error(struct vmctl_error **err, const char *uri, bool opening,
		 const char *what)
{
	virErrorPtr e = sym_virGetLastError();
	cleanup_free char *msg = xstrdup(e && e->message ? e->message
					 : "unknown libvirt error");
	int status = status_of(e ? e->code : 0, opening);

	/* One line: ssh's and the daemon's messages may hold several. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	for (size_t n = strlen(msg); n > 0 && msg[n - 1] == ' '; n--)
		msg[n - 1] = '\0';
	sym_virResetLastError();
	return vmctl_error_set(err, status, 0, "%s: %s: %s", uri, what, msg);
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The transport of "driver+transport://...": "" when none is named. */
static char *uri_transport(const char *uri)
{
	const char *colon = strstr(uri, "://");
	const char *plus = memchr(uri, '+', colon ? (size_t)(colon - uri) : 0);

	if (colon == NULL || plus == NULL)
		return xstrdup("");
	return xstrndup(plus + 1, (size_t)(colon - plus - 1));
}

static bool transport_is_ssh(const char *t)
{
	return strcmp(t, "ssh") == 0 || strcmp(t, "libssh2") == 0 ||
	       strcmp(t, "libssh") == 0;
}

bool lvconn_uri_ssh(const char *uri)
{
	cleanup_free char *t = uri_transport(uri);

	return transport_is_ssh(t);
}

char *lvconn_uri_bounded(const char *uri)
{
	cleanup_free char *t = uri_transport(uri);
	size_t end = strcspn(uri, "#");
	const char *q = memchr(uri, '?', end);
	const char *sep;

	if (strcmp(t, "ssh") != 0 ||
	    (q != NULL && (has_prefix(q + 1, "no_tty=") ||
			   strstr(q, "&no_tty=") != NULL)))
		return xstrdup(uri);
	sep = q == NULL ? "?" : uri[end - 1] == '?' || uri[end - 1] == '&'
			  ? "" : "&";
	return xasprintf("%.*s%sno_tty=1%s", (int)end, uri, sep, uri + end);
}

char *lvconn_uri_param(const char *uri, const char *name)
{
	const char *q = strchr(uri, '?');
	size_t n = strlen(name);

	while (q != NULL) {
		const char *kv = q + 1, *end = kv + strcspn(kv, "&#");

		if ((size_t)(end - kv) > n && strncmp(kv, name, n) == 0 &&
		    kv[n] == '=') {
			/* %XX decoded by libcurl (the handle is not used) */
			int len = 0;
			char *dec, *out = NULL;

			lazylib_need(LAZYLIB_CURL);
			dec = sym_curl_easy_unescape(NULL, kv + n + 1,
						     (int)(end - kv - n - 1), &len);
			if (dec == NULL)
				abort();   /* allocation failure */
			if (len > 0 && strlen(dec) == (size_t)len)
				out = xstrdup(dec);
			sym_curl_free(dec);
			return out;
		}
		q = *end == '&' ? end : NULL;
	}
	return NULL;
}

bool lvconn_uri_endpoint(const char *uri, char **host, unsigned *port)
{
	cleanup_free char *t = uri_transport(uri);
	const char *auth = strstr(uri, "://");
	const char *end, *at, *h, *hend, *p = NULL;

	*host = NULL;
	if (auth == NULL || strcmp(t, "unix") == 0 || strcmp(t, "ext") == 0)
		return false;
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (const char *c = auth; c < end; c++)
		if (*c == '@')
			at = c;
	h = at ? at + 1 : auth;
	if (*h == '[') {
		hend = memchr(h, ']', (size_t)(end - h));
		if (hend == NULL)
			return false;
		if (hend + 1 < end && hend[1] == ':')
			p = hend + 2;
		h++;
	} else {
		hend = memchr(h, ':', (size_t)(end - h));
		if (hend != NULL)
			p = hend + 1;
		else
			hend = end;
	}
	if (hend == h)
		return false;
	*port = transport_is_ssh(t) ? 22 : strcmp(t, "tcp") == 0 ? 16509
									: 16514;
	if (p != NULL && p < end) {
		cleanup_free char *ps = xstrndup(p, (size_t)(end - p));
		char *e;
		unsigned long v = strtoul(ps, &e, 10);

		if (*e == '\0' && v > 0 && v < 65536)
			*port = (unsigned)v;
	}
	*host = xstrndup(h, (size_t)(hend - h));
	return true;
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/*
 * An SSH server speaks first ("SSH-2.0-..."): wait for that before the
 * deadline.  Something that takes the connection and says nothing (a hung
 * sshd, a tarpit, an intercepting proxy) would keep ssh, which libvirt
 * runs without a timeout, waiting for ever.  0, or -1 with errno ETIME
 * (silent) or EPROTO (not SSH).
 */
static int await_ssh_banner(int fd, const struct timespec *deadline)
{
	char buf[4];
	size_t got = 0;

	while (got < sizeof(buf)) {
		struct pollfd p = { fd, POLLIN, 0 };
		long left = ms_left(deadline);
		int r = left > 0 ? poll(&p, 1, (int)left) : 0;
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			errno = r == 0 ? ETIME : errno;
			return -1;
		}
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errno = n == 0 ? EPROTO : errno;
			return -1;
		}
		got += (size_t)n;
	}
	if (memcmp(buf, "SSH-", 4) != 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* One address: 0 when a TCP connection is made before the deadline
 * (and with `ssh`, the server's banner read); else -1 with errno. */
static int try_connect(const struct addrinfo *ai,
		       const struct timespec *deadline, bool ssh)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
			SOCK_CLOEXEC, ai->ai_protocol);
	int soerr = 0, saved;
	socklen_t len = sizeof(soerr);

	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		struct pollfd p = { fd, POLLOUT, 0 };
		long left;
		int r;

		if (errno != EINPROGRESS)
			goto fail;
		do {
			left = ms_left(deadline);
			r = left > 0 ? poll(&p, 1, (int)left) : 0;
		} while (r < 0 && errno == EINTR);
		if (r == 0)
			errno = ETIMEDOUT;
		if (r <= 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			goto fail;
		if (soerr != 0) {
			errno = soerr;
			goto fail;
		}
	}
	if (ssh && await_ssh_banner(fd, deadline) < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Reach HOST:PORT over TCP within LVCONN_TIMEOUT_S, or say why not. */
static int probe(const char *uri, const char *host, unsigned port,
		 bool ssh, struct vmctl_error **err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	struct timespec deadline;
	char service[8];
	int rc, last = ETIMEDOUT;

	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0)
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0, "%s: "
				       "cannot resolve %s: %s", uri, host,
				       gai_strerror(rc));
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += LVCONN_TIMEOUT_S;
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		if (try_connect(ai, &deadline, ssh) == 0) {
			freeaddrinfo(res);
			return 0;
		}
		last = errno;
		if (ms_left(&deadline) <= 0)
			break;
	}
	freeaddrinfo(res);
	if (last == ETIME)
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, last, "%s: "
				       "%s port %u takes connections but sends "
				       "no SSH banner within %d s", uri, host,
				       port, LVCONN_TIMEOUT_S);
	if (last == EPROTO)
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, last, "%s: "
				       "%s port %u is no SSH server", uri, host,
				       port);
	if (last == ETIMEDOUT)
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, last, "%s: "
				       "cannot reach %s port %u: no answer "
				       "within %d s", uri, host, port,
				       LVCONN_TIMEOUT_S);
	return vmctl_error_errno(err, VMCTL_EXIT_UNAVAILABLE, last, "%s: "
				 "cannot reach %s port %u", uri, host, port);
}

/* virConnectOpenAuth in a thread of its own, waited for until a
 * deadline; the caller may walk away from it (abandoned), and the thread
 * then cleans up after itself. */
struct opener {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *uri, *bounded;
	unsigned flags;
	virConnectPtr conn;
	struct vmctl_error *err;
	bool done, abandoned;
};

static void opener_free(struct opener *o)
{
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cv);
	free(o->uri);
	free(o->bounded);
	vmctl_error_free(o->err);
	free(o);
}

static void *opener_run(void *arg)
{
	struct opener *o = arg;
	virConnectPtr conn = sym_virConnectOpenAuth(
		o->bounded, lazylib_virConnectAuthPtrDefault(),
		o->flags & LVCONN_READ_ONLY ? VIR_CONNECT_RO : 0);
	struct vmctl_error *e = NULL;
	bool abandoned;

	/* libvirt's last error is this thread's: made a value here. */
	if (conn == NULL)
		lvconn_error(&e, o->uri, true, "cannot connect");
	pthread_mutex_lock(&o->mu);
	o->conn = conn;
	o->err = e;
	o->done = true;
	abandoned = o->abandoned;
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
	if (abandoned) {
		if (conn != NULL)
			sym_virConnectClose(conn);
		opener_free(o);
	}
	return NULL;
}

static unsigned open_timeout_s(void)
{
	const char *v = getenv("VMCTL_CONNECT_TIMEOUT");
	char *end;
	unsigned long s;

	if (v == NULL || *v == '\0')
		return LVCONN_OPEN_TIMEOUT_S;
	s = strtoul(v, &end, 10);
	return *end == '\0' && s > 0 && s <= 3600 ? (unsigned)s
						   : LVCONN_OPEN_TIMEOUT_S;
}

static int open_bounded(const char *uri, const char *bounded, unsigned flags,
			virConnectPtr *out, struct vmctl_error **err)
{
	struct opener *o = xcalloc(1, sizeof(*o));
	unsigned limit = open_timeout_s();
	struct timespec deadline;
	pthread_t t;
	int ret;

	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	o->uri = xstrdup(uri);
	o->bounded = xstrdup(bounded);
	o->flags = flags;
	if (pthread_create(&t, NULL, opener_run, o) != 0) {
		opener_free(o);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: cannot "
				       "start a thread to connect", uri);
	}
	pthread_detach(t);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += limit;
	pthread_mutex_lock(&o->mu);
	while (!o->done &&
	       pthread_cond_timedwait(&o->cv, &o->mu, &deadline) != ETIMEDOUT)
		;
	if (!o->done) {
		o->abandoned = true;
		pthread_mutex_unlock(&o->mu);
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, ETIMEDOUT,
				       "%s: no answer within %u s after the "
				       "server's banner (ssh's login or the "
				       "remote libvirtd hangs; "
				       "VMCTL_CONNECT_TIMEOUT sets the limit)",
				       uri, limit);
	}
	pthread_mutex_unlock(&o->mu);
	*out = o->conn;
	ret = o->conn != NULL ? 0 : -1;
	if (ret < 0) {
		*err = o->err;
		o->err = NULL;
	}
	opener_free(o);
	return ret;
}

int lvconn_open(const char *uri, unsigned flags, virConnectPtr *out,
		struct vmctl_error **err)
{
	cleanup_free char *bounded = lvconn_uri_bounded(uri);
	cleanup_free char *host = NULL;
	cleanup_free char *transport = uri_transport(uri);
	unsigned port;

	*out = NULL;
	if (lvconn_init(err) < 0)
		return -1;
	if (lvconn_uri_endpoint(uri, &host, &port)) {
		if (probe(uri, host, port, transport_is_ssh(transport),
			  err) < 0)
			return -1;
		return open_bounded(uri, bounded, flags, out, err);
	}
	*out = sym_virConnectOpenAuth(bounded, lazylib_virConnectAuthPtrDefault(),
				      flags & LVCONN_READ_ONLY ? VIR_CONNECT_RO
							   : 0);
	if (*out == NULL)
		return lvconn_error(err, uri, true, "cannot connect");
	return 0;
}

int lvconn_open_env(const struct vmctl_env *env, unsigned flags,
		    virConnectPtr *out, char **uri, struct vmctl_error **err)
{
	cleanup_free char *resolved = NULL;

	*out = NULL;
	if (hosts_resolve_env(env, &resolved, err) < 0 ||
	    lvconn_open(resolved, flags, out, err) < 0)
		return -1;
	if (uri != NULL)
		*uri = steal_pointer(&resolved);
	return 0;
}

void lvconn_close(virConnectPtr conn)
{
	if (conn != NULL)
		sym_virConnectClose(conn);
}

int lvconn_pci_host_read(virConnectPtr conn, const char *uri,
			 struct pci_host *out, struct vmctl_error **err)
{
	virNodeDevicePtr *devs = NULL;
	struct lvnodedev_pci *parsed;
	int n, ret = 0;
	size_t got = 0;

	*out = (struct pci_host){ 0 };
	n = sym_virConnectListAllNodeDevices(conn, &devs,
			VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV);
	if (n < 0)
		return lvconn_error(err, uri, false, "listing PCI node devices");
	parsed = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*parsed));
	for (int i = 0; i < n; i++) {
		const char *name = sym_virNodeDeviceGetName(devs[i]);
		char *xml = ret == 0 ? sym_virNodeDeviceGetXMLDesc(devs[i], 0)
				     : NULL;

		if (ret == 0 && xml == NULL)
			ret = lvconn_error(err, uri, false, name);
		else if (ret == 0 &&
			 lvnodedev_parse_pci(name, xml, strlen(xml),
					     &parsed[got], err) < 0)
			ret = vmctl_error_wrap(err, "%s", uri);
		else if (ret == 0)
			got++;
		free(xml);
		sym_virNodeDeviceFree(devs[i]);
	}
	free(devs);
	if (ret == 0)
		lvnodedev_host_build(parsed, got, out);
	for (size_t i = 0; i < got; i++)
		lvnodedev_pci_clear(&parsed[i]);
	free(parsed);
	return ret;
}
