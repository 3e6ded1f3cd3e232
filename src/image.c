// SPDX-License-Identifier: GPL-2.0-or-later
/* Disk images: our own header check and size, and qemu-img for qcow2
 * overlays. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/image.h"
#include "vmctl/proc.h"
#include "vmctl/xalloc.h"

void image_argv_overlay(const char *base, const char *base_format,
			const char *overlay, uint64_t size, struct strv *argv)
{
	strv_push(argv, "qemu-img");
	strv_push(argv, "create");
	strv_push(argv, "-q");
	strv_push(argv, "-f");
	strv_push(argv, "qcow2");
	strv_push(argv, "-F");
	strv_push(argv, base_format);
	strv_push(argv, "-b");
	strv_push(argv, base);
	strv_push(argv, overlay);
	if (size != 0)
		strv_pushf(argv, "%" PRIu64, size);
}

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

#define QCOW2_INCOMPAT_DATA_FILE (1u << 2)
#define QCOW2_EXT_DATA_FILE 0x44415441u   /* "DATA" */

static int qcow2_check(const unsigned char *buf, size_t len, char **why)
{
	uint64_t version, ext, hdr_end, cluster;

	if (len < 72) {
		*why = xstrdup("truncated qcow2 header");
		return -1;
	}
	version = be(buf + 4, 4);
	if (version < 2 || version > 3) {
		*why = xasprintf("qcow version %" PRIu64 " (only qcow2 "
				 "versions 2 and 3 are taken)", version);
		return -1;
	}
	if (be(buf + 8, 8) != 0) {
		*why = xstrdup("it has a backing file of its own");
		return -1;
	}
	cluster = be(buf + 20, 4);
	if (cluster < 9 || cluster > 21) {
		*why = xasprintf("invalid qcow2 cluster size 2^%" PRIu64,
				 cluster);
		return -1;
	}
	hdr_end = 72;
	if (version == 3) {
		if (len < 104) {
			*why = xstrdup("truncated qcow2 header");
			return -1;
		}
		if (be(buf + 72, 8) & QCOW2_INCOMPAT_DATA_FILE) {
			*why = xstrdup("it keeps its data in an external "
				       "data file");
			return -1;
		}
		hdr_end = be(buf + 100, 4);
	}
	/* Header extensions lie in the first cluster, after the header. */
	cluster = 1ull << cluster;
	if (hdr_end < 72 || hdr_end > cluster) {
		*why = xstrdup("invalid qcow2 header length");
		return -1;
	}
	for (ext = hdr_end;;) {
		uint64_t type, elen;

		if (ext + 8 > len || ext + 8 > cluster) {
			*why = xstrdup("qcow2 header extensions run past the "
				       "first cluster");
			return -1;
		}
		type = be(buf + ext, 4);
		elen = be(buf + ext + 4, 4);
		if (type == 0)
			return 0;
		if (type == QCOW2_EXT_DATA_FILE) {
			*why = xstrdup("it names an external data file");
			return -1;
		}
		ext += 8 + ((elen + 7) & ~7ull);
	}
}

int image_header_check(const unsigned char *buf, size_t len,
		       const char **format, char **why)
{
	/* Formats QEMU would probe that are not taken as a base; anything
	 * else is raw, and is opened as raw (never probed). */
	static const struct {
		size_t off;
		const char *magic;
		size_t n;
		const char *name;
	} other[] = {
		{ 0, "QED\0", 4, "qed" },
		{ 0, "KDMV", 4, "vmdk" },
		{ 0, "COWD", 4, "vmdk" },
		{ 0, "# Disk DescriptorFile", 21, "vmdk" },
		{ 0, "conectix", 8, "vpc" },
		{ 0, "vhdxfile", 8, "vhdx" },
		{ 0, "LUKS\xba\xbe", 6, "luks" },
		{ 0, "WithoutFreeSpace", 16, "parallels" },
		{ 0, "WithouFreSpacExt", 16, "parallels" },
		{ 0, "Bochs Virtual HD Image", 22, "bochs" },
		{ 64, "\x7f\x10\xda\xbe", 4, "vdi" },
	};

	*why = NULL;
	if (len >= 4 && memcmp(buf, "QFI\xfb", 4) == 0) {
		*format = "qcow2";
		return qcow2_check(buf, len, why);
	}
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		if (len >= other[i].off + other[i].n &&
		    memcmp(buf + other[i].off, other[i].magic, other[i].n) == 0) {
			*format = other[i].name;
			*why = xasprintf("it is a %s image; only qcow2 and raw "
					 "base images are taken (qemu-img "
					 "convert -O qcow2 makes one)",
					 other[i].name);
			return -1;
		}
	}
	*format = "raw";
	return 0;
}

/*
 * The first cluster is all the header check needs: qcow2 keeps its header
 * extensions and backing file name there.  The first 64 KiB are read (the
 * usual cluster, and more than any other format's magic needs), then the
 * rest of a larger qcow2 cluster, 2 MiB at most.
 */
#define HEADER_READ_FIRST (64u << 10)

static int read_upto(int fd, const char *path, unsigned char *buf,
		     size_t *len, size_t want, struct vmctl_error **err)
{
	while (*len < want) {
		ssize_t r = read(fd, buf + *len, want - *len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
						 "reading %s", path);
		if (r == 0)
			break;
		*len += (size_t)r;
	}
	return 0;
}

/* The bytes a header in `buf` needs read: its first cluster if qcow2. */
static size_t header_want(const unsigned char *buf, size_t len)
{
	uint64_t bits;

	if (len < 24 || memcmp(buf, "QFI\xfb", 4) != 0)
		return len;
	bits = be(buf + 20, 4);
	return bits >= 9 && bits <= 21 ? (size_t)1 << bits : len;
}

static int read_header(const char *path, unsigned char **out, size_t *len,
		       uint64_t *file_size, struct vmctl_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	cleanup_free unsigned char *buf = NULL;
	size_t want;
	off_t end;

	if (fd < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 path);
	buf = xmalloc(HEADER_READ_FIRST);
	*len = 0;
	if (read_upto(fd, path, buf, len, HEADER_READ_FIRST, err) < 0)
		return -1;
	want = header_want(buf, *len);
	if (*len == HEADER_READ_FIRST && want > *len) {
		buf = xrealloc(buf, want);
		if (read_upto(fd, path, buf, len, want, err) < 0)
			return -1;
	}
	/* (the end, not st_size: a block device's size too) */
	if (file_size != NULL) {
		end = lseek(fd, 0, SEEK_END);
		if (end < 0)
			return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
						 "%s", path);
		*file_size = (uint64_t)end;
	}
	*out = steal_pointer(&buf);
	return 0;
}

int image_check_base(const char *path, const char **format,
		     struct vmctl_error **err)
{
	cleanup_free unsigned char *buf = NULL;
	cleanup_free char *why = NULL;
	size_t len = 0;

	if (read_header(path, &buf, &len, NULL, err) < 0)
		return -1;
	if (image_header_check(buf, len, format, &why) < 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "base image %s refused: %s", path, why);
	return 0;
}

char *image_header_backing(const unsigned char *buf, size_t len)
{
	uint64_t off, n;

	if (len < 20 || memcmp(buf, "QFI\xfb", 4) != 0)
		return NULL;
	off = be(buf + 8, 8);
	n = be(buf + 16, 4);
	if (off == 0 || n == 0 || n > 1023 || off > len || n > len - off)
		return NULL;
	return xstrndup((const char *)buf + off, (size_t)n);
}

int image_backing_file(const char *path, char **backing,
		       struct vmctl_error **err)
{
	cleanup_free unsigned char *buf = NULL;
	size_t len = 0;

	*backing = NULL;
	if (read_header(path, &buf, &len, NULL, err) < 0)
		return -1;
	*backing = image_header_backing(buf, len);
	return 0;
}

uint64_t image_header_size(const unsigned char *buf, size_t len,
			   const char *format, uint64_t file_size)
{
	/* qcow2: the guest-visible size is the header's `size` field */
	if (strcmp(format, "qcow2") == 0)
		return len >= 32 ? be(buf + 24, 8) : 0;
	return file_size;
}

int image_info(const char *path, struct image_info *info,
	       struct vmctl_error **err)
{
	cleanup_free unsigned char *buf = NULL;
	cleanup_free char *why = NULL;
	const char *format;
	uint64_t file_size;
	size_t len = 0;

	*info = (struct image_info){ 0 };
	if (read_header(path, &buf, &len, &file_size, err) < 0)
		return vmctl_error_wrap(err, "reading image %s", path);
	if (image_header_check(buf, len, &format, &why) < 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "base image %s refused: %s", path, why);
	info->format = xstrdup(format);
	info->virtual_size = image_header_size(buf, len, format, file_size);
	return 0;
}

int image_qcow2_size(const char *path, uint64_t *size,
		     struct vmctl_error **err)
{
	cleanup_free unsigned char *buf = NULL;
	size_t len = 0;

	if (read_header(path, &buf, &len, NULL, err) < 0)
		return -1;
	if (len < 32 || memcmp(buf, "QFI\xfb", 4) != 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s is not a qcow2 image", path);
	*size = image_header_size(buf, len, "qcow2", 0);
	return 0;
}

void image_info_clear(struct image_info *info)
{
	free(info->format);
	*info = (struct image_info){ 0 };
}

int image_create_overlay(const char *base, const char *base_format,
			 const char *overlay, uint64_t size,
			 struct vmctl_error **err)
{
	struct strv argv = { 0 };
	int ret;

	image_argv_overlay(base, base_format, overlay, size, &argv);
	ret = proc_run_ok(&argv, "qemu-img create", err);
	strv_clear(&argv);
	return ret;
}

void image_argv_to_qcow2(const char *src, const char *format,
			 const char *out, struct strv *argv)
{
	strv_push(argv, "qemu-img");
	strv_push(argv, "convert");
	strv_push(argv, "-q");
	strv_push(argv, "-f");
	strv_push(argv, format);
	strv_push(argv, "-O");
	strv_push(argv, "qcow2");
	strv_push(argv, src);
	strv_push(argv, out);
}

int image_to_qcow2(const char *src, const char *format, const char *dir,
		   const char *name, struct vmctl_error **err)
{
	cleanup_free char *tmp = xasprintf("%s/.%s.tmp", dir, name);
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	cleanup_free char *what = xasprintf("qemu-img convert %s", src);
	struct strv argv = { 0 };
	int fd, ret;

	unlink(tmp);
	image_argv_to_qcow2(src, format, tmp, &argv);
	ret = proc_run_ok(&argv, what, err);
	strv_clear(&argv);
	if (ret < 0) {
		unlink(tmp);
		return -1;
	}
	/* qemu-img does not fsync: the rename must not expose a file whose
	 * blocks a crash could lose. */
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0600) < 0 || fsync(fd) < 0 ||
	    rename(tmp, path) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, e,
				       "writing %s", path);
	}
	close(fd);
	return fs_sync_dir(dir, err);
}
