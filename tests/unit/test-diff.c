// SPDX-License-Identifier: GPL-2.0-or-later
/* diff_unified() agrees with `diff -u` (expected texts produced by it). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/diff.h"

static void check(const char *name, const char *a, const char *b,
		  const char *want)
{
	char *got = diff_unified("/f", a, b);

	is_str(got, want, "%s", name);
	free(got);
}

int main(void)
{
	check("equal", "a\n", "a\n", "");
	check("one line changed, context 3",
	      "1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nX\n6\n7\n8\n",
	      "--- a/f\n+++ b/f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n"
	      " 8\n");
	check("two hunks",
	      "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
	      "A\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nB\n",
	      "--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n-1\n+A\n 2\n 3\n 4\n"
	      "@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+B\n");
	check("new file", NULL, "x\n",
	      "--- /dev/null\n+++ b/f\n@@ -0,0 +1 @@\n+x\n");
	check("removed file", "x\n", NULL,
	      "--- a/f\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n");
	check("appended line", "a\nb\n", "a\nb\nc\n",
	      "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n b\n+c\n");
	return tap_done();
}
