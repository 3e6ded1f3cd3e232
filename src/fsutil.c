// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/xalloc.h"

int fs_read_file(const char *path, size_t max, char **out, size_t *len,
		 int missing_status, struct vmctl_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t size = 0, cap = 0;
	struct stat st;

	if (fd < 0)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, missing_status), errno, "%s", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		return vmctl_error_set(err, missing_status, EISDIR,
				       "%s: is a directory", path);
	for (;;) {
		ssize_t r;

		if (cap - size < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + size, cap - size);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return vmctl_error_errno(err, missing_status, errno,
						 "%s", path);
		}
		if (r == 0)
			break;
		size += (size_t)r;
		if (size > max)
			return vmctl_error_set(err, missing_status, EFBIG,
					       "%s: larger than %zu MiB", path,
					       max >> 20);
	}
	if (buf == NULL)
		buf = xmalloc(1);
	buf[size] = '\0';
	*len = size;
	*out = steal_pointer(&buf);
	return 0;
}

char *fs_abs_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	cleanup_free char *dir = NULL, *cwd = NULL;

	if (slash == path)
		return xstrdup("/");
	dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	if (*dir == '/')
		return steal_pointer(&dir);
	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		return steal_pointer(&dir);
	if (strcmp(dir, ".") == 0)
		return steal_pointer(&cwd);
	return xasprintf("%s/%s", cwd, dir);
}
