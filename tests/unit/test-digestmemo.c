// SPDX-License-Identifier: GPL-2.0-or-later
/* The digest memo's pure parts (digestmemo.c): a file is known again only
 * with its whole identity; the memo keeps the files used last. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/digestmemo.h"
#include "vmctl/xalloc.h"

static struct stat file(unsigned long long ino)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_dev = 0xfd01ull << 32;   /* past 2^53 as a number */
	st.st_ino = ino;
	st.st_size = 14190528;
	st.st_mtim.tv_sec = 1764684000;
	st.st_mtim.tv_nsec = 123456789;
	st.st_ctim = st.st_mtim;
	return st;
}

static void test_lookup(void)
{
	struct stat st = file(7), other;
	char *memo = digestmemo_update(NULL, "/k/vmlinuz", &st, "sha256:aa");
	char *d;

	d = digestmemo_lookup(memo, "/k/vmlinuz", &st);
	is_str(d, "sha256:aa", "the same file is known");
	free(d);
	ok(digestmemo_lookup(memo, "/k/initrd", &st) == NULL,
	   "another path is not");
	other = st;
	other.st_dev ^= 1;
	ok(digestmemo_lookup(memo, "/k/vmlinuz", &other) == NULL,
	   "nor another device (above 2^53: kept exactly)");
	other = st;
	other.st_ino = 8;
	ok(digestmemo_lookup(memo, "/k/vmlinuz", &other) == NULL,
	   "nor a file renamed over it");
	other = st;
	other.st_mtim.tv_nsec++;
	ok(digestmemo_lookup(memo, "/k/vmlinuz", &other) == NULL,
	   "nor one written since (mtime)");
	other = st;
	other.st_ctim.tv_sec++;
	ok(digestmemo_lookup(memo, "/k/vmlinuz", &other) == NULL,
	   "nor one whose mtime was set back (ctime)");
	other = st;
	other.st_size--;
	ok(digestmemo_lookup(memo, "/k/vmlinuz", &other) == NULL,
	   "nor one of another size");
	ok(digestmemo_lookup("{\"files\": 3}", "/k/vmlinuz", &st) == NULL &&
	   digestmemo_lookup("not json", "/k/vmlinuz", &st) == NULL &&
	   digestmemo_lookup(NULL, "/k/vmlinuz", &st) == NULL,
	   "a broken or missing memo knows nothing");
	free(memo);
	memo = digestmemo_update("{\"files\": [{\"path\": \"/k/vmlinuz\", "
				 "\"digest\": \"md5:x\"}]}", "/x", &st,
				 "sha256:bb");
	ok(digestmemo_lookup(memo, "/k/vmlinuz", &st) == NULL,
	   "an entry without the identity (or not sha256) is never taken");
	free(memo);
}

static void test_update(void)
{
	struct stat st = file(1), st2 = file(2);
	char *memo = digestmemo_update("garbage", "/a", &st, "sha256:01");
	char *next, *d;

	next = digestmemo_update(memo, "/a", &st2, "sha256:02");
	free(memo);
	memo = next;
	ok(digestmemo_lookup(memo, "/a", &st) == NULL,
	   "a path's old identity is dropped");
	d = digestmemo_lookup(memo, "/a", &st2);
	is_str(d, "sha256:02", "its new one is kept");
	free(d);
	for (unsigned i = 0; i < DIGESTMEMO_MAX + 5; i++) {
		char path[16], digest[32];
		struct stat s = file(100 + i);

		snprintf(path, sizeof(path), "/f%u", i);
		snprintf(digest, sizeof(digest), "sha256:%u", i);
		next = digestmemo_update(memo, path, &s, digest);
		free(memo);
		memo = next;
	}
	{
		struct stat last = file(100 + DIGESTMEMO_MAX + 4);
		struct stat first = file(100);
		struct stat kept = file(100 + 5);

		d = digestmemo_lookup(memo, "/f68", &last);
		ok(d != NULL, "the file used last is kept");
		free(d);
		ok(digestmemo_lookup(memo, "/f0", &first) == NULL,
		   "past %d files, the ones used longest ago go",
		   DIGESTMEMO_MAX);
		d = digestmemo_lookup(memo, "/f5", &kept);
		ok(d != NULL, "the last %d stay", DIGESTMEMO_MAX);
		free(d);
	}
	free(memo);
}

int main(void)
{
	test_lookup();
	test_update();
	return tap_done();
}
