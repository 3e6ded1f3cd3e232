// SPDX-License-Identifier: GPL-2.0-or-later
/* Image headers (issue 9: bases that name other files), redirect rules,
 * file identities, the gpgv argv. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vmctl/checksum.h"
#include "vmctl/download.h"
#include "vmctl/env.h"
#include "vmctl/fsutil.h"
#include "vmctl/image.h"
#include "vmctl/imagecache.h"
#include "vmctl/signature.h"
#include "vmctl/xalloc.h"

static void put_be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* A qcow2 v3 header with 64 KiB clusters and no extensions. */
static unsigned char *qcow2(size_t *len)
{
	unsigned char *b = calloc(1, 65536);

	memcpy(b, "QFI\xfb", 4);
	put_be(b + 4, 3, 4);
	put_be(b + 20, 16, 4);
	put_be(b + 24, 16 << 20, 8);
	put_be(b + 96, 4, 4);
	put_be(b + 100, 112, 4);
	*len = 65536;
	return b;
}

static int check(const unsigned char *b, size_t len, const char **fmt,
		 char **why)
{
	free(*why);
	*why = NULL;
	return image_header_check(b, len, fmt, why);
}

static void test_headers(void)
{
	const char *fmt = NULL;
	char *why = NULL;
	size_t len;
	unsigned char *b = qcow2(&len);

	ok(check(b, len, &fmt, &why) == 0 && strcmp(fmt, "qcow2") == 0,
	   "a plain qcow2 v3 is taken");
	put_be(b + 8, 0x200, 8);
	put_be(b + 16, 9, 4);
	memcpy(b + 0x200, "/dev/sda1", 9);
	ok(check(b, len, &fmt, &why) < 0 && strstr(why, "backing file"),
	   "a backing file is refused");
	{
		char *backing = image_header_backing(b, len);

		is_str(backing, "/dev/sda1", "the backing name is read");
		free(backing);
	}
	put_be(b + 8, 0, 8);
	put_be(b + 72, 1u << 2, 8);
	ok(check(b, len, &fmt, &why) < 0 && strstr(why, "external data"),
	   "the external data file bit is refused");
	put_be(b + 72, 0, 8);
	put_be(b + 112, 0x44415441u, 4);
	put_be(b + 116, 9, 4);
	memcpy(b + 120, "/dev/sda1", 9);
	ok(check(b, len, &fmt, &why) < 0 && strstr(why, "names an external"),
	   "a data file header extension is refused without the bit");
	put_be(b + 112, 0xe2792acau, 4);   /* backing format: harmless */
	ok(check(b, len, &fmt, &why) == 0, "other extensions are skipped");
	ok(check(b, 130, &fmt, &why) < 0 && strstr(why, "past the first"),
	   "extensions beyond what was read are refused, not trusted");
	ok(check(b, 50, &fmt, &why) < 0 && strstr(why, "truncated"),
	   "a truncated header is refused");
	put_be(b + 4, 2, 4);
	memset(b + 72, 0, 64);
	ok(check(b, len, &fmt, &why) == 0, "qcow2 v2 without extensions");
	put_be(b + 4, 1, 4);
	ok(check(b, len, &fmt, &why) < 0 && strstr(why, "version 1"),
	   "qcow v1 is refused");
	memcpy(b, "KDMV", 4);
	ok(check(b, len, &fmt, &why) < 0 && strcmp(fmt, "vmdk") == 0,
	   "vmdk (extents can be any file) is refused");
	memcpy(b, "# Disk DescriptorFile", 21);
	ok(check(b, len, &fmt, &why) < 0, "a vmdk descriptor is refused");
	memset(b, 0, len);
	ok(check(b, len, &fmt, &why) == 0 && strcmp(fmt, "raw") == 0,
	   "anything else is raw");
	ok(check(b, 0, &fmt, &why) == 0 && strcmp(fmt, "raw") == 0,
	   "an empty file is raw");
	free(why);
	free(b);
}

/*
 * image_info reads a header's whole first cluster, not a fixed amount: a
 * qcow2 with 2 MiB clusters whose extensions lie past the first 64 KiB is
 * read to their end (a data file extension there refused, its end marker
 * found), and a small raw file is read whole.
 */
static void test_info_reads_cluster(void)
{
	char path[] = "/tmp/vmctl-test-image.XXXXXX";
	size_t len = 2u << 20, ext = 100000;
	unsigned char *b = calloc(1, len);
	struct image_info info;
	struct vmctl_error *err = NULL;
	int fd = mkstemp(path);

	memcpy(b, "QFI\xfb", 4);
	put_be(b + 4, 3, 4);
	put_be(b + 20, 21, 4);
	put_be(b + 24, 1u << 30, 8);
	put_be(b + 96, 4, 4);
	put_be(b + 100, ext, 4);            /* header length: extensions
					       start there */
	put_be(b + ext, 0x44415441u, 4);    /* "DATA" */
	put_be(b + ext + 4, 9, 4);
	memcpy(b + ext + 8, "/dev/sda1", 9);
	ok(fd >= 0 && write(fd, b, len) == (ssize_t)len, "2 MiB cluster qcow2");
	ok(image_info(path, &info, &err) < 0 && err != NULL &&
	   strstr(err->message, "names an external data file"),
	   "its data file extension, 100000 bytes in, is found (%s)",
	   err ? err->message : "taken");
	vmctl_error_free(err);
	err = NULL;
	put_be(b + ext, 0xe2792acau, 4);    /* backing format: harmless */
	ok(pwrite(fd, b + ext, 4, (off_t)ext) == 4, "extension replaced");
	ok(image_info(path, &info, &err) == 0 &&
	   strcmp(info.format, "qcow2") == 0 &&
	   info.virtual_size == 1u << 30,
	   "taken once it is harmless: qcow2, 1 GiB (%s)",
	   err ? err->message : "ok");
	image_info_clear(&info);
	vmctl_error_free(err);
	err = NULL;
	ok(ftruncate(fd, 0) == 0 && pwrite(fd, "boot", 4, 0) == 4,
	   "a 4-byte raw file");
	ok(image_info(path, &info, &err) == 0 &&
	   strcmp(info.format, "raw") == 0 && info.virtual_size == 4,
	   "raw, its size its length");
	image_info_clear(&info);
	vmctl_error_free(err);
	close(fd);
	unlink(path);
	free(b);
}

static void test_redirects(void)
{
	is_str(download_redirect_protocols("https://x/y"), "https",
	       "https never redirects to http");
	is_str(download_redirect_protocols("HTTPS://x/y"), "https",
	       "scheme case does not matter");
	is_str(download_redirect_protocols("http://x/y"), "http,https",
	       "http may go to https");
	is_str(download_redirect_protocols("file:///x"), "", "file: never");
}

/* The size create gives the overlay: qcow2's header field (what qemu-img
 * info calls virtual-size), a raw file's length. */
static void test_sizes(void)
{
	size_t len;
	unsigned char *b = qcow2(&len);

	put_be(b + 24, 10ull << 30, 8);
	ok(image_header_size(b, len, "qcow2", 196608) == 10ull << 30,
	   "qcow2: the header's size, not the file's");
	ok(image_header_size(b, len, "raw", 196608) == 196608,
	   "raw: the file's size");
	ok(image_header_size(b, 20, "qcow2", 196608) == 0,
	   "a header too short to hold it: 0, never bytes past it");
	free(b);
}

/* imagecache_find: an entry counts only while it holds its digest. */
static void test_find(void)
{
	char root[] = "/tmp/vmctl-test-find-XXXXXX";
	struct vmctl_env env = { .state_dir = root };
	struct imagecache_result r;
	struct vmctl_error *err = NULL;
	char *hex, *digest, *path;
	FILE *f;

	if (mkdtemp(root) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	hex = checksum_sha256_data("base bytes", 10);
	digest = xasprintf("sha256:%s", hex);
	path = xasprintf("%s/images/sha256-%s", root, hex);
	ok(imagecache_find(&env, digest, &r, &err) == 0 && r.path == NULL,
	   "no entry: none");
	f = fopen(path, "w");
	ok(f != NULL && fputs("base bytes", f) >= 0 && fclose(f) == 0,
	   "an entry written");
	ok(imagecache_find(&env, digest, &r, &err) == 1 &&
	   strcmp(r.path, path) == 0 && r.locked && r.verified,
	   "found, verified, the cache's lock held");
	imagecache_result_clear(&r);
	f = fopen(path, "w");
	ok(f != NULL && fputs("other bytes", f) >= 0 && fclose(f) == 0,
	   "its bytes changed");
	ok(imagecache_find(&env, digest, &r, &err) == 0 && r.path == NULL &&
	   err == NULL, "an entry that no longer holds its digest: none");
	ok(imagecache_find(&env, "md5:00", &r, &err) == 0, "not a digest");
	unlink(path);
	free(path);
	path = xasprintf("%s/images/sha256-%s.verified", root, hex);
	unlink(path);
	free(path);
	path = xasprintf("%s/images/lock", root);
	unlink(path);
	free(path);
	path = xasprintf("%s/images", root);
	rmdir(path);
	free(path);
	rmdir(root);
	free(digest);
	free(hex);
}

static void test_file_id(void)
{
	struct fs_file_id a = { .dev = 1, .ino = 2, .size = 10,
				.mtime_sec = 5 };
	struct fs_file_id b = a;
	char *d;

	ok(fs_file_id_same(&a, &b), "same identity");
	b.size = 11;
	b.mtime_nsec = 1;
	d = fs_file_id_describe_change(&a, &b);
	is_str(d, "size 10 -> 11 bytes, modified", "size and mtime");
	free(d);
	b = a;
	b.ino = 3;
	ok(!fs_file_id_same(&a, &b), "another inode");
	d = fs_file_id_describe_change(&a, &b);
	is_str(d, "replaced by another file", "replaced");
	free(d);
}

static void test_names(void)
{
	char *n = imagecache_entry_name(CHECKSUM_SHA512, "ab");
	struct strv argv = { 0 };

	is_str(n, "sha512-ab", "entries are named by digest");
	free(n);
	signature_argv_gpgv("/k.gpg", "/s", "/d", &argv);
	ok(argv.n == 6 && strcmp(argv.v[0], "gpgv") == 0 &&
	   strcmp(argv.v[2], "/k.gpg") == 0 && strcmp(argv.v[3], "--") == 0,
	   "gpgv --keyring KEYRING -- SIG DATA");
	ok(strv_contains(&argv, "/s") && !strv_contains(&argv, "/x"),
	   "strv_contains");
	strv_clear(&argv);
}

int main(void)
{
	test_headers();
	test_info_reads_cluster();
	test_redirects();
	test_sizes();
	test_find();
	test_file_id();
	test_names();
	return tap_done();
}
