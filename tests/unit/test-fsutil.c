// SPDX-License-Identifier: GPL-2.0-or-later
/* fsutil: lexical path cleaning, atomic writes, tree removal. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vmctl/fsutil.h"

static void test_clean(void)
{
	static const char *const cases[][2] = {
		{ "/a/./b/../c", "/a/c" }, { "/a/b/../../..", "/" },
		{ "a/../../b", "../b" }, { "./x/y/", "x/y" }, { "/", "/" },
		{ "//a//b/", "/a/b" }, { "a/..", "." }, { "../..", "../.." },
		{ "/a/b/c/../../d", "/a/d" }, { "/spec dir/./disk,1.img",
						 "/spec dir/disk,1.img" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = fs_path_clean(cases[i][0]);

		is_str(got, cases[i][1], "clean %s", cases[i][0]);
		free(got);
	}
}

static void test_files(void)
{
	char dir[] = "/tmp/vmctl-test-fsutil.XXXXXX";
	struct vmctl_error *err = NULL;
	char *text = NULL, *path, *deep;
	size_t len = 0;
	struct stat st;

	ok(mkdtemp(dir) != NULL, "temp dir");
	ok(fs_write_atomic(dir, "f", "one", 3, 0600, &err) == 0, "write");
	ok(fs_write_atomic(dir, "f", "two!", 4, 0640, &err) == 0, "replace");
	path = malloc(strlen(dir) + 8);
	strcpy(path, dir);
	strcat(path, "/f");
	ok(fs_read_file(path, 100, &text, &len, 66, &err) == 0 && len == 4 &&
	   strcmp(text, "two!") == 0, "read back the new content");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640,
	   "mode is what was asked, not what the umask left");
	free(text);
	text = NULL;
	ok(fs_read_file(path, 2, &text, &len, 66, &err) < 0 && err &&
	   err->status == 66, "size limit enforced");
	vmctl_error_free(err);
	err = NULL;
	free(path);
	deep = malloc(strlen(dir) + 16);
	strcpy(deep, dir);
	strcat(deep, "/a/b/c");
	ok(fs_mkdir_p(deep, 0700, &err) == 0 && stat(deep, &st) == 0 &&
	   (st.st_mode & 0777) == 0700, "mkdir -p");
	{
		char *link = malloc(strlen(dir) + 8);

		strcat(strcpy(link, dir), "/l");
		ok(symlink("/", link) == 0, "a symlink to / inside");
		free(link);
	}
	ok(fs_remove_tree(dir, &err) == 0 && stat(dir, &st) < 0 &&
	   stat("/etc/passwd", &st) == 0, "rm -rf does not follow symlinks");
	ok(fs_remove_tree(dir, &err) == 0, "removing a missing tree is fine");
	free(deep);
}

int main(void)
{
	test_clean();
	test_files();
	return tap_done();
}
