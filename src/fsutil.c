// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/xalloc.h"

int fs_read_fd(int fd, const char *what, size_t max, char **out,
	       size_t *len, int status, struct vmctl_error **err)
{
	cleanup_free char *buf = NULL;
	size_t size = 0, cap = 0;

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
			return vmctl_error_errno(err, status, errno, "%s",
						 what);
		}
		if (r == 0)
			break;
		size += (size_t)r;
		if (size > max)
			return vmctl_error_set(err, status, EFBIG,
					       "%s: larger than %zu MiB", what,
					       max >> 20);
	}
	if (buf == NULL)
		buf = xmalloc(1);
	buf[size] = '\0';
	*len = size;
	*out = steal_pointer(&buf);
	return 0;
}

int fs_read_file(const char *path, size_t max, char **out, size_t *len,
		 int missing_status, struct vmctl_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, missing_status), errno, "%s", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		return vmctl_error_set(err, missing_status, EISDIR,
				       "%s: is a directory", path);
	return fs_read_fd(fd, path, max, out, len, missing_status, err);
}

char *fs_path_clean(const char *path)
{
	size_t len = strlen(path);
	char *out = xmalloc(len + 2), *o = out;
	const char *p = path;
	bool abs = *path == '/';

	if (abs)
		*o++ = '/';
	while (*p) {
		const char *seg = p;
		size_t n;

		while (*p == '/')
			p++;
		seg = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			char *start = out + abs;
			char *last = o > start ? o - 1 : start;

			/* Drop the previous segment unless there is none or
			 * it is itself "..". */
			while (last > start && *(last - 1) != '/')
				last--;
			if (o > start && !(o - last == 3 &&
					   strncmp(last, "..", 2) == 0)) {
				o = last;
				continue;
			}
			if (abs)
				continue;   /* "/.." is "/" */
		}
		memcpy(o, seg, n);
		o += n;
		*o++ = '/';
	}
	if (o > out + 1 || (o == out + 1 && !abs))
		o--;   /* the trailing slash */
	if (o == out)
		*o++ = '.';
	*o = '\0';
	return out;
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

int fs_write_atomic(const char *dir, const char *name, const void *data,
		    size_t len, mode_t mode, struct vmctl_error **err)
{
	/* A unique temporary name: two writers of one file never share it. */
	cleanup_free char *tmp = xasprintf("%s/.%s.XXXXXX", dir, name);
	cleanup_free char *dst = xasprintf("%s/%s", dir, name);
	cleanup_close int fd = -1, dfd = -1;
	const char *p = data;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_FAILURE), errno, "%s", tmp);
	/* O_CREAT honours the umask; the caller's mode is what it wants. */
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0 || rename(tmp, dst) < 0)
		goto fail;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	return 0;
fail:
	vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "writing %s", dst);
	unlink(tmp);
	return -1;
}

int fs_write_attr(const char *path, const char *value,
		  struct vmctl_error **err)
{
	/* O_TRUNC as a shell redirection does: sysfs ignores it, a fake tree
	 * of plain files needs it. */
	cleanup_close int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	size_t len = strlen(value);

	if (fd < 0)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_FAILURE), errno, "%s", path);
	if (write(fd, value, len) != (ssize_t)len)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_FAILURE), errno,
				"writing \"%s\" to %s", value, path);
	return 0;
}

int fs_mkdir_p(const char *path, mode_t mode, struct vmctl_error **err)
{
	cleanup_free char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return vmctl_error_errno(err,
				vmctl_error_status_from_errno(errno,
					VMCTL_EXIT_FAILURE), errno, "%s", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_FAILURE), errno, "%s", p);
	return 0;
}

static int remove_at(int parent, const char *name, struct vmctl_error **err)
{
	struct stat st;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0
		       : vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					   "%s", name);
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(parent, name, O_RDONLY | O_DIRECTORY |
					     O_NOFOLLOW | O_CLOEXEC);
		DIR *d;
		struct dirent *de;
		int ret = 0;

		if (fd < 0 || (d = fdopendir(fd)) == NULL) {
			if (fd >= 0)
				close(fd);
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE,
						 errno, "%s", name);
		}
		while (ret == 0 && (de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			ret = remove_at(dirfd(d), de->d_name, err);
		}
		closedir(d);
		if (ret < 0)
			return ret;
		if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE,
						 errno, "removing %s", name);
		return 0;
	}
	if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "removing %s", name);
	return 0;
}

int fs_remove_tree(const char *path, struct vmctl_error **err)
{
	return remove_at(AT_FDCWD, path, err);
}

int fs_copy_file(const char *from, const char *dir, const char *name,
		 mode_t mode, struct vmctl_error **err)
{
	cleanup_free char *data = NULL;
	size_t len;

	if (fs_read_file(from, 256u << 20, &data, &len, VMCTL_EXIT_UNAVAILABLE,
			 err) < 0)
		return -1;
	return fs_write_atomic(dir, name, data, len, mode, err);
}

void fs_remove_temps(const char *dir, const char *name)
{
	cleanup_free char *prefix = xasprintf(".%s.", name);
	size_t plen = strlen(prefix);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		/* exactly the mkostemp pattern: the prefix and 6 characters */
		if (strncmp(de->d_name, prefix, plen) == 0 &&
		    strlen(de->d_name) == plen + 6)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

void fs_file_id_from_stat(const struct stat *st, struct fs_file_id *id)
{
	*id = (struct fs_file_id){
		.dev = (uint64_t)st->st_dev,
		.ino = (uint64_t)st->st_ino,
		.size = (uint64_t)st->st_size,
		.mtime_sec = (int64_t)st->st_mtim.tv_sec,
		.mtime_nsec = st->st_mtim.tv_nsec,
	};
}

bool fs_file_id_same(const struct fs_file_id *a, const struct fs_file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec;
}

char *fs_file_id_describe_change(const struct fs_file_id *was,
				 const struct fs_file_id *now)
{
	cleanup_free char *size = NULL;
	const char *parts[3];
	size_t n = 0;

	if (was->size != now->size) {
		size = xasprintf("size %llu -> %llu bytes",
				 (unsigned long long)was->size,
				 (unsigned long long)now->size);
		parts[n++] = size;
	}
	if (was->mtime_sec != now->mtime_sec ||
	    was->mtime_nsec != now->mtime_nsec)
		parts[n++] = "modified";
	if (was->dev != now->dev || was->ino != now->ino)
		parts[n++] = "replaced by another file";
	return xasprintf("%s%s%s%s%s", n > 0 ? parts[0] : "",
			 n > 1 ? ", " : "", n > 1 ? parts[1] : "",
			 n > 2 ? ", " : "", n > 2 ? parts[2] : "");
}

int fs_sync_dir(const char *dir, struct vmctl_error **err)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "syncing %s", dir);
	return 0;
}
