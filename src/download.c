// SPDX-License-Identifier: GPL-2.0-or-later
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/download.h"
#include "vmctl/interrupt.h"
#include "vmctl/lazylib.h"
#include "vmctl/xalloc.h"

const char *download_redirect_protocols(const char *url)
{
	/* A redirect may keep or raise the protection, never drop it: an
	 * https URL (or a checksum list fetched over it) that lands on http
	 * would be worth no more than an http one. */
	if (strncasecmp(url, "https://", 8) == 0)
		return "https";
	if (strncasecmp(url, "http://", 7) == 0)
		return "http,https";
	return "";   /* file:// and the like are never redirected */
}

/* A handle for URL, libcurl opened first (lazylib.h); NULL with *err. */
static CURL *new_handle(const char *url, char *errbuf,
			struct vmctl_error **err)
{
	static bool initialized;
	CURL *c;

	if (lazylib_load(LAZYLIB_CURL, err) < 0)
		return NULL;
	if (!initialized) {
		sym_curl_global_init(CURL_GLOBAL_DEFAULT);
		initialized = true;
	}
	c = sym_curl_easy_init();
	if (c == NULL) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				"cannot initialize libcurl");
		return NULL;
	}
	errbuf[0] = '\0';
	sym_curl_easy_setopt(c, CURLOPT_URL, url);
	sym_curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	sym_curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	sym_curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
			     download_redirect_protocols(url));
	sym_curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION,
			     *download_redirect_protocols(url) ? 1L : 0L);
	sym_curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	sym_curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	sym_curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* Give up on a transfer slower than 1 KiB/s for a minute. */
	sym_curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	sym_curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	sym_curl_easy_setopt(c, CURLOPT_USERAGENT, "vmctl/" VMCTL_VERSION);
	sym_curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	return c;
}

static int transfer_error(CURL *c, CURLcode rc, const char *url,
			  const char *errbuf, struct vmctl_error **err)
{
	long http = 0;

	sym_curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
	if (rc == CURLE_HTTP_RETURNED_ERROR && http >= 400)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "download %s: HTTP %ld", url, http);
	return vmctl_error_set(err, rc == CURLE_COULDNT_RESOLVE_HOST ||
				    rc == CURLE_COULDNT_CONNECT
				    ? VMCTL_EXIT_UNAVAILABLE : VMCTL_EXIT_FAILURE,
			       0, "download %s: %s", url,
			       *errbuf ? errbuf : sym_curl_easy_strerror(rc));
}

struct progress {
	const char *label;
	curl_off_t offset;   /* bytes already there when resuming */
	double last_draw;
	double start;
	bool drawn;
	bool draw;        /* a bar on stderr; else only watch for Ctrl-C */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int draw_progress(void *data, curl_off_t total, curl_off_t done,
			 curl_off_t ut, curl_off_t un)
{
	struct progress *p = data;
	double t = now_s(), mib = 1024.0 * 1024.0;
	double have = (double)(done + p->offset) / mib;
	double speed = t > p->start ? (double)done / mib / (t - p->start) : 0;

	(void)ut;
	(void)un;
	if (interrupt_pending())
		return 1;   /* abort the transfer */
	if (!p->draw)
		return 0;
	if (t - p->last_draw < 0.2 && !(total > 0 && done == total))
		return 0;
	p->last_draw = t;
	p->drawn = true;
	if (total > 0) {
		double all = (double)(total + p->offset) / mib;
		int pct = (int)(100.0 * have / all);
		int bar = pct * 30 / 100;

		fprintf(stderr, "\r%s [%-30.*s] %3d%% %7.1f/%.1f MiB %6.1f MiB/s",
			p->label, bar, "==============================", pct,
			have, all, speed);
	} else {
		fprintf(stderr, "\r%s %7.1f MiB %6.1f MiB/s", p->label, have,
			speed);
	}
	return 0;
}

/* Where a download goes, and the errno of the first write that failed
 * (curl only says "failed writing"; ENOSPC is what the user needs). */
struct sink {
	int fd;
	int errnum;
};

static size_t to_file(char *ptr, size_t size, size_t n, void *data)
{
	struct sink *k = data;
	size_t len = size * n, done = 0;

	while (done < len) {
		ssize_t w = write(k->fd, ptr + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			k->errnum = w < 0 ? errno : ENOSPC;
			return 0;   /* abort the transfer */
		}
		done += (size_t)w;
	}
	return len;
}

int download_file(const char *url, const char *path, bool resume,
		  bool progress, struct vmctl_error **err)
{
	char errbuf[CURL_ERROR_SIZE];
	struct progress prog = { 0 };
	struct sink sink = { .fd = -1 };
	struct stat st;
	long http = 0;
	CURLcode rc;
	CURL *c;

	if (!resume || stat(path, &st) < 0)
		st.st_size = 0;
	sink.fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC |
		       (st.st_size > 0 ? O_APPEND : O_TRUNC), 0644);
	if (sink.fd < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 path);
	c = new_handle(url, errbuf, err);
	if (c == NULL) {
		close(sink.fd);
		return -1;
	}
	sym_curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_file);
	sym_curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	if (st.st_size > 0)
		sym_curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE,
				     (curl_off_t)st.st_size);
	{
		const char *base = strrchr(url, '/');

		prog.label = base && base[1] ? base + 1 : url;
		prog.offset = st.st_size;
		prog.start = now_s();
		prog.draw = progress;
		sym_curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, draw_progress);
		sym_curl_easy_setopt(c, CURLOPT_XFERINFODATA, &prog);
		sym_curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	rc = sym_curl_easy_perform(c);
	sym_curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
	if (prog.drawn)
		fputc('\n', stderr);
	if (st.st_size > 0 &&
	    (rc == CURLE_RANGE_ERROR || (rc == CURLE_OK && http == 200) ||
	     (rc == CURLE_HTTP_RETURNED_ERROR && http == 416))) {
		/* The server sent the whole file, not the rest: start over. */
		sym_curl_easy_cleanup(c);
		close(sink.fd);
		return download_file(url, path, false, progress, err);
	}
	/* On disk before anyone renames it into place. */
	if (rc == CURLE_OK && fsync(sink.fd) < 0)
		sink.errnum = errno;
	if (close(sink.fd) < 0 && rc == CURLE_OK && sink.errnum == 0)
		sink.errnum = errno;
	if (sink.errnum != 0) {
		sym_curl_easy_cleanup(c);
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, sink.errnum,
					 "download %s: writing %s", url, path);
	}
	if (rc != CURLE_OK) {
		transfer_error(c, rc, url, errbuf, err);
		sym_curl_easy_cleanup(c);
		return -1;
	}
	sym_curl_easy_cleanup(c);
	return 0;
}

struct membuf {
	char *data;
	size_t len, max;
};

static size_t to_memory(char *ptr, size_t size, size_t n, void *data)
{
	struct membuf *m = data;
	size_t add = size * n;

	if (m->len + add > m->max)
		return 0;   /* too big: abort the transfer */
	m->data = xrealloc(m->data, m->len + add + 1);
	memcpy(m->data + m->len, ptr, add);
	m->len += add;
	m->data[m->len] = '\0';
	return add;
}

int download_text(const char *url, size_t max, char **out,
		  struct vmctl_error **err)
{
	char errbuf[CURL_ERROR_SIZE];
	struct membuf m = { .max = max };
	CURLcode rc;
	CURL *c = new_handle(url, errbuf, err);

	if (c == NULL)
		return -1;
	sym_curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_memory);
	sym_curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
	rc = sym_curl_easy_perform(c);
	if (rc != CURLE_OK) {
		if (rc == CURLE_WRITE_ERROR)
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					"download %s: larger than %zu bytes",
					url, max);
		else
			transfer_error(c, rc, url, errbuf, err);
		sym_curl_easy_cleanup(c);
		free(m.data);
		return -1;
	}
	sym_curl_easy_cleanup(c);
	*out = m.data ? m.data : xstrdup("");
	return 0;
}
