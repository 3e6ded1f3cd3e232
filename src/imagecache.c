// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "vmctl/checksum.h"
#include "vmctl/download.h"
#include "vmctl/fsutil.h"
#include "vmctl/imagecache.h"
#include "vmctl/xalloc.h"

#define SUMS_MAX (4u << 20)

static bool is_url(const char *s)
{
	return strstr(s, "://") != NULL;
}

static const char *url_basename(const char *url)
{
	const char *end = url + strcspn(url, "?#");
	const char *p = end;

	while (p > url && p[-1] != '/')
		p--;
	return p;
}

char *imagecache_name(const char *url)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	const char *base = url_basename(url);
	size_t blen = strcspn(base, "?#");
	char hex[17];

	EVP_Digest(url, strlen(url), md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 8; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	if (blen == 0 || (blen == 1 && base[0] == '.') ||
	    (blen == 2 && base[0] == '.' && base[1] == '.'))
		return xasprintf("%s-image", hex);
	return xasprintf("%s-%.*s", hex, (int)blen, base);
}

void imagecache_result_clear(struct imagecache_result *r)
{
	free(r->path);
	*r = (struct imagecache_result){ 0 };
}

/* The digest the spec expects: given, or looked up in the checksum list. */
static int expected_digest(const struct spec_disk *disk, char **hex,
			   enum checksum_algo *algo, struct vmctl_error **err)
{
	cleanup_free char *list = NULL, *name = NULL;
	const char *base;

	*hex = NULL;
	if (disk->sha256 != NULL) {
		*hex = xstrdup(disk->sha256);
		*algo = CHECKSUM_SHA256;
		return 0;
	}
	if (disk->sha512 != NULL) {
		*hex = xstrdup(disk->sha512);
		*algo = CHECKSUM_SHA512;
		return 0;
	}
	if (disk->checksum_url == NULL)
		return 0;
	if (download_text(disk->checksum_url, SUMS_MAX, &list, err) < 0)
		return vmctl_error_wrap(err, "disk.checksum_url");
	base = url_basename(disk->image);
	name = xstrndup(base, strcspn(base, "?#"));
	if (checksum_find_in_list(list, name, hex, algo) < 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s does not list %s",
				       disk->checksum_url, name);
	return 0;
}

static int verify(const char *path, const char *want, enum checksum_algo algo,
		  struct vmctl_error **err)
{
	cleanup_free char *got = NULL;

	if (checksum_file(path, algo, &got, err) < 0)
		return -1;
	if (strcmp(got, want) != 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s checksum mismatch for %s: expected "
				       "%s, got %s", checksum_algo_name(algo),
				       path, want, got);
	return 0;
}

/* "<algo>:<hex>" recorded beside a verified image. */
static char *stamp(enum checksum_algo algo, const char *hex)
{
	return xasprintf("%s:%s\n", checksum_algo_name(algo), hex);
}

static bool stamp_matches(const char *stamp_path, const char *want)
{
	cleanup_free char *text = NULL;
	struct vmctl_error *ignored = NULL;
	size_t len;

	if (fs_read_file(stamp_path, 4096, &text, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return false;
	}
	return strcmp(text, want) == 0;
}

static int fetch_url(const struct vmctl_env *env, const struct spec_disk *disk,
		     bool progress, struct imagecache_result *out,
		     struct vmctl_error **err)
{
	cleanup_free char *dir = xasprintf("%s/images", env->state_dir);
	cleanup_free char *name = imagecache_name(disk->image);
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	cleanup_free char *part = xasprintf("%s.part", path);
	cleanup_free char *stamp_path = xasprintf("%s.verified", path);
	cleanup_free char *lock_path = xasprintf("%s.lock", path);
	cleanup_free char *want = NULL, *want_stamp = NULL;
	cleanup_close int lock = -1;
	enum checksum_algo algo = CHECKSUM_SHA256;
	struct stat st;

	if (fs_mkdir_p(dir, 0755, err) < 0 ||
	    expected_digest(disk, &want, &algo, err) < 0)
		return -1;
	if (want == NULL)
		return vmctl_error_set(err, VMCTL_EXIT_SPEC, 0,
				       "disk.image is a URL: give disk.sha256, "
				       "disk.sha512 or disk.checksum_url so "
				       "the download can be verified");
	want_stamp = stamp(algo, want);
	/* Two creates fetching one image: the second waits, then reuses. */
	lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 lock_path);
	if (stat(path, &st) == 0 && stamp_matches(stamp_path, want_stamp)) {
		out->path = steal_pointer(&path);
		out->verified = true;
		return 0;
	}
	/* A cached image that does not match stays until a download that
	 * does replaces it: a bad mirror cannot destroy a good cache. */
	if (download_file(disk->image, part, true, progress, err) < 0)
		return -1;
	if (verify(part, want, algo, err) < 0) {
		unlink(part);
		return -1;
	}
	if (rename(part, path) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "%s", path);
	if (fs_write_atomic(dir, strrchr(stamp_path, '/') + 1, want_stamp,
			    strlen(want_stamp), 0644, err) < 0)
		return -1;
	out->path = steal_pointer(&path);
	out->downloaded = true;
	out->verified = true;
	return 0;
}

int imagecache_get(const struct vmctl_env *env, const struct spec_disk *disk,
		   bool progress, struct imagecache_result *out,
		   struct vmctl_error **err)
{
	*out = (struct imagecache_result){ 0 };
	if (is_url(disk->image))
		return fetch_url(env, disk, progress, out, err);
	{
		cleanup_free char *want = NULL;
		enum checksum_algo algo = CHECKSUM_SHA256;

		if (expected_digest(disk, &want, &algo, err) < 0)
			return -1;
		if (want != NULL) {
			if (verify(disk->image, want, algo, err) < 0)
				return -1;
			out->verified = true;
		}
	}
	out->path = xstrdup(disk->image);
	return 0;
}
