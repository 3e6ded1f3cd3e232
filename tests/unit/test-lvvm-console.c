// SPDX-License-Identifier: GPL-2.0-or-later
/* lvvm-console: the keys that leave a libvirt console (Ctrl-], Ctrl-b d)
 * are taken out of what is typed, in one read or split across reads;
 * everything else reaches the guest; the log volume's name. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/lvvm-console.h"

/* in fed in chunks of `step` bytes: what is sent, and whether it left. */
static char *feed(const char *in, size_t len, size_t step, bool *left)
{
	struct lvvm_console_keys k = { 0 };
	char *out = calloc(1, len + 2);
	size_t n = 0;

	*left = false;
	for (size_t i = 0; i < len && !*left; i += step) {
		size_t m = len - i < step ? len - i : step;

		n += lvvm_console_keys_feed(&k, in + i, m, out + n, left);
	}
	out[n] = '\0';
	return out;
}

static void check(const char *name, const char *in, size_t len,
		  const char *want, bool want_left)
{
	for (size_t step = 1; step <= len + 1; step++) {
		bool left;
		char *got = feed(in, len, step, &left);

		is_str(got, want, "%s (chunks of %zu)", name, step);
		ok(left == want_left, "%s (chunks of %zu): %s", name, step,
		   want_left ? "leaves" : "stays");
		free(got);
	}
}

#define CHECK(name, in, want, left) check(name, in, sizeof(in) - 1, want, left)

int main(void)
{
	char out[8];
	struct lvvm_console_keys k = { 0 };
	bool left;
	char *name;

	CHECK("plain text passes", "echo hi\r", "echo hi\r", false);
	CHECK("Ctrl-] leaves, what came before is sent",
	      "ls\r\035more", "ls\r", true);
	CHECK("Ctrl-b d leaves", "ab\002dcd", "ab", true);
	CHECK("Ctrl-b then another key: both sent", "\002x", "\002x", false);
	CHECK("Ctrl-b Ctrl-b d: the first is sent, the second leaves",
	      "\002\002d", "\002", true);
	CHECK("Ctrl-b Ctrl-]: the Ctrl-b is sent, then it leaves",
	      "\002\035", "\002", true);
	CHECK("Ctrl-C and other controls pass", "\003\004\033[A",
	      "\003\004\033[A", false);
	CHECK("a lone d passes", "dd", "dd", false);

	/* a Ctrl-b at the end of a read waits for the next */
	ok(lvvm_console_keys_feed(&k, "\002", 1, out, &left) == 0 && !left,
	   "a trailing Ctrl-b is held");
	ok(lvvm_console_keys_feed(&k, "y", 1, out, &left) == 2 &&
	   memcmp(out, "\002y", 2) == 0 && !left,
	   "and sent with the next key");

	name = lvvm_console_log_name("web-1");
	is_str(name, "web-1-serial.log", "the log volume's name");
	free(name);
	return tap_done();
}
