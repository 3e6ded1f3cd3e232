// SPDX-License-Identifier: GPL-2.0-or-later
/* Reading sysfs attributes and links; paths come from the caller's roots. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/sysfs.h"
#include "vmctl/xalloc.h"

/* A sysfs attribute is at most one page; proc files we read this way
 * (cmdline) are small too. */
#define ATTR_MAX 4096

int sysfs_read_attr(const char *dir, const char *name, char **out)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[ATTR_MAX + 1];
	size_t len = 0;

	if (fd < 0)
		return -1;
	while (len < ATTR_MAX) {
		ssize_t r = read(fd, buf + len, ATTR_MAX - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' ||
			   buf[len - 1] == '\t' || buf[len - 1] == '\0'))
		len--;
	buf[len] = '\0';
	*out = xstrndup(buf, len);
	return 0;
}

int sysfs_read_long(const char *dir, const char *name, long *out)
{
	cleanup_free char *s = NULL;
	char *end;
	long v;

	if (sysfs_read_attr(dir, name, &s) < 0)
		return -1;
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0') {
		errno = EINVAL;
		return -1;
	}
	*out = v;
	return 0;
}

int sysfs_read_link(const char *dir, const char *name, char **out)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	size_t cap = 256;

	for (;;) {
		cleanup_free char *buf = xmalloc(cap);
		ssize_t r = readlink(path, buf, cap);

		if (r < 0)
			return -1;
		if ((size_t)r < cap) {
			buf[r] = '\0';
			*out = steal_pointer(&buf);
			return 0;
		}
		if (cap >= 65536) {
			errno = ENAMETOOLONG;
			return -1;
		}
		cap *= 2;
	}
}

int sysfs_link_name(const char *dir, const char *name, char **out)
{
	cleanup_free char *target = NULL;
	const char *base;
	size_t len;

	if (sysfs_read_link(dir, name, &target) < 0)
		return -1;
	len = strlen(target);
	while (len > 1 && target[len - 1] == '/')
		target[--len] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (*base == '\0') {
		errno = EINVAL;
		return -1;
	}
	*out = xstrdup(base);
	return 0;
}

char *sysfs_resolve(const char *path)
{
	return realpath(path, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sysfs_list_dir(const char *dir, struct strv *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		strv_push(out, e->d_name);
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n hex digits at s into *v. */
static bool hexfield(const char *s, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		int h = hexval(s[i]);

		if (h < 0)
			return false;
		*v = *v * 16 + (unsigned)h;
	}
	return true;
}

static bool parse_pci_name_n(const char *s, size_t len, struct pci_addr *out)
{
	struct pci_addr a;

	/* dddd:bb:dd.f: the kernel always writes a 4-digit domain here. */
	if (len != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.')
		return false;
	if (!hexfield(s, 4, &a.domain) || !hexfield(s + 5, 2, &a.bus) ||
	    !hexfield(s + 8, 2, &a.dev) || !hexfield(s + 11, 1, &a.func))
		return false;
	if (a.dev > 0x1f || a.func > 7)
		return false;
	*out = a;
	return true;
}

bool sysfs_parse_pci_name(const char *name, struct pci_addr *out)
{
	return parse_pci_name_n(name, strlen(name), out);
}

bool sysfs_path_last_pci(const char *path, struct pci_addr *out)
{
	bool found = false;
	const char *p = path;

	while (*p != '\0') {
		size_t len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len > 0 && parse_pci_name_n(p, len, out))
			found = true;
		p += len;
	}
	return found;
}
