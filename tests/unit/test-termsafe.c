// SPDX-License-Identifier: GPL-2.0-or-later
/* termsafe: guest output is stripped of everything a terminal would obey,
 * whole or in chunks of any size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/termsafe.h"
#include "vmctl/xalloc.h"

#define FFFD "\xef\xbf\xbd"

/* in filtered whole, and fed one byte at a time, and split at every
 * point: all three give want. */
static void check_len(const char *name, const char *in, size_t len,
		      const char *want)
{
	char *whole = termsafe_string(in, len);
	char *bytewise = xmalloc(TERMSAFE_OUT_MAX(len) + 1);
	struct termsafe ts = TERMSAFE_INIT;
	size_t n = 0;
	bool splits_agree = true;

	is_str(whole, want, "%s", name);
	for (size_t i = 0; i < len; i++)
		n += termsafe_feed(&ts, in + i, 1, bytewise + n);
	n += termsafe_finish(&ts, bytewise + n);
	bytewise[n] = '\0';
	is_str(bytewise, want, "%s (a byte at a time)", name);
	for (size_t cut = 1; cut < len; cut++) {
		struct termsafe t2 = TERMSAFE_INIT;
		char *out = xmalloc(TERMSAFE_OUT_MAX(len) + 1);
		size_t m = termsafe_feed(&t2, in, cut, out);

		m += termsafe_feed(&t2, in + cut, len - cut, out + m);
		m += termsafe_finish(&t2, out + m);
		out[m] = '\0';
		if (strcmp(out, want) != 0) {
			printf("# split at %zu: \"%s\"\n", cut, out);
			splits_agree = false;
		}
		free(out);
	}
	ok(splits_agree, "%s (split anywhere)", name);
	free(bytewise);
	free(whole);
}

static void check(const char *name, const char *in, const char *want)
{
	check_len(name, in, strlen(in), want);
}

/* What a terminal could obey must never come out: ESC, C0 but \n and
 * \t, DEL, C1 as bytes or UTF-8, and the output is valid UTF-8. */
static bool safe_output(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t k;

		if (c < 0x80) {
			if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return false;
		if (i + k >= n)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) ||
		    (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
			return false;
		i += k + 1;
	}
	return true;
}

/* Random bytes weighted towards the interesting ones: whatever comes in,
 * the output is safe, and chunking does not change it. */
static void random_inputs(void)
{
	static const unsigned char pick[] = {
		0x1b, '[', ']', 'P', '_', '^', 'X', '\\', 0x07, '\r', '\n',
		'\t', 0x18, 0x9b, 0x9c, 0x9d, 0x90, 0xc2, 0xe0, 0xed, 0xf0,
		0xf4, 0x80, 0xbf, 0xff, '1', ';', 'm', 'a', ' ', '?', 0x7f,
	};
	uint32_t seed = 12345;
	unsigned bad_output = 0, bad_chunks = 0;

	for (int round = 0; round < 20000; round++) {
		unsigned char in[48];
		char *whole, *chunked;
		struct termsafe ts = TERMSAFE_INIT;
		size_t n = 0, len = sizeof(in);

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (seed >> 16) & 1
					? pick[(seed >> 17) % sizeof(pick)]
					: (unsigned char)(seed >> 8);
		}
		whole = termsafe_string((const char *)in, len);
		if (!safe_output((const unsigned char *)whole, strlen(whole)))
			bad_output++;
		chunked = xmalloc(TERMSAFE_OUT_MAX(len) + 1);
		for (size_t i = 0; i < len; i += 5) {
			size_t c = len - i < 5 ? len - i : 5;

			n += termsafe_feed(&ts, (const char *)in + i, c,
					   chunked + n);
		}
		n += termsafe_finish(&ts, chunked + n);
		chunked[n] = '\0';
		if (strcmp(whole, chunked) != 0)
			bad_chunks++;
		free(chunked);
		free(whole);
	}
	ok(bad_output == 0, "random input: output always safe (%u bad)",
	   bad_output);
	ok(bad_chunks == 0, "random input: chunks change nothing (%u bad)",
	   bad_chunks);
}

/* The worst case for the output size stays within TERMSAFE_OUT_MAX. */
static void output_bound(void)
{
	/* A CR and a lead byte carried in, then lead + invalid pairs. */
	struct termsafe ts = TERMSAFE_INIT;
	char first[] = "\r\xf0\x9f\x98";
	char in[] = "\xe2\xff\xe2\xff\xe2\xff\xff";
	char out[TERMSAFE_OUT_MAX(sizeof(in) - 1)];
	size_t n;

	n = termsafe_feed(&ts, first, sizeof(first) - 1,
			  (char[TERMSAFE_OUT_MAX(4)]){ 0 });
	ok(n == 0, "a CR and an unfinished character wait for more");
	n = termsafe_feed(&ts, in, sizeof(in) - 1, out);
	ok(n <= TERMSAFE_OUT_MAX(sizeof(in) - 1),
	   "output within TERMSAFE_OUT_MAX (%zu)", n);
	ok(n == 1 + 3 * 7 + 3 && memcmp(out, "\n" FFFD, 4) == 0,
	   "each invalid subpart is one U+FFFD (%zu bytes)", n);
}

int main(void)
{
	/* text */
	check("plain text", "hello, world\n", "hello, world\n");
	check("tabs and UTF-8 stay", "a\tb \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n",
	      "a\tb \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n");
	check("empty", "", "");

	/* CSI */
	check("SGR colours", "\x1b[1;31mred\x1b[0m\n", "red\n");
	check("private mode (alternate screen)", "\x1b[?1049hx\x1b[?1049l",
	      "x");
	check("cursor movement and erase", "a\x1b[2J\x1b[H\x1b[10;20Hb\x1b[K",
	      "ab");
	check("device status query", "\x1b[6n\x1b[c\x1b[>0c", "");
	check("CSI with intermediates", "\x1b[0 q\x1b[!p.", ".");
	check("CSI cut short by a control", "\x1b[12\nx", "\nx");
	check("CSI cut short by ESC", "\x1b[1\x1b[31mx", "x");
	check("CSI cancelled by CAN", "\x1b[1\x18x", "x");

	/* strings */
	check("OSC title, BEL", "a\x1b]0;pwned\x07" "b", "ab");
	check("OSC title, ST", "a\x1b]2;pwned\x1b\\b", "ab");
	check("OSC 52 clipboard", "\x1b]52;c;cm0gLXJmIH4K\x07ok", "ok");
	check("OSC 8 hyperlink", "\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\",
	      "click");
	check("DCS (DECRQSS)", "\x1bP$qm\x1b\\x", "x");
	check("DCS sixel", "\x1bPq#0;2;0;0;0#0~~@@vv@@~~\x1b\\y", "y");
	check("APC", "\x1b_Gf=100;AAAA\x1b\\z", "z");
	check("PM and SOS", "\x1b^secret\x1b\\\x1bXsecret\x1b\\w", "w");
	check("string ended by CAN", "\x1b]0;t\x18x", "x");
	check("ESC in a string starts a new sequence",
	      "\x1b]0;t\x1b[31mx", "x");
	check("open string ends at the line", "\x1b]0;title\nnext line\n",
	      "\nnext line\n");
	check("string over CR LF", "\x1b]0;t\r\nx", "\nx");

	/* other ESC sequences */
	check("RIS (reset)", "a\x1b" "cb", "ab");
	check("save/restore cursor", "\x1b" "7x\x1b" "8", "x");
	check("charset designation (nF)", "\x1b(0lqk\x1b(B", "lqk");
	check("DEC line attributes", "\x1b#8\x1b#6x", "x");
	check("keypad modes", "\x1b=\x1b>x", "x");
	check("ESC ESC", "\x1b\x1b[31mx", "x");
	check("ESC before a control", "\x1b\nx", "\nx");
	check("ESC before UTF-8", "\x1b\xc3\xa9", "\xc3\xa9");
	check("lone ESC at the end", "x\x1b", "x");

	/* C0 */
	check("bell, backspace, SO/SI, DEL dropped",
	      "a\a\b\x0e\x0f\x7f\x05z", "az");
	check("form feed, vertical tab dropped", "a\f\vb", "ab");

	/* CR */
	check("CR LF", "a\r\nb\r\n", "a\nb\n");
	check("CR CR LF", "a\r\r\nb", "a\nb");
	check("CR overwriting a line shows both", "evil\rgood\n",
	      "evil\ngood\n");
	check("progress bar", "10%\r\x1b[K50%\r\x1b[K100%\r\n",
	      "10%\n50%\n100%\n");
	check("CR at the end", "x\r", "x\n");
	check("LF CR", "a\n\rb", "a\n\nb");

	/* C1 in UTF-8 */
	check("U+009B CSI", "\xc2\x9b" "31mred", "red");
	check("U+009D OSC to U+009C ST", "\xc2\x9d" "0;t\xc2\x9cx", "x");
	check("U+0090 DCS to ESC \\", "\xc2\x90q#0\x1b\\x", "x");
	check("U+009F APC, U+009E PM, U+0098 SOS",
	      "\xc2\x9f" "a\xc2\x9c\xc2\x9e" "b\xc2\x9c\xc2\x98" "c\xc2\x9cx",
	      "x");
	check("U+0085 NEL and U+0084 IND dropped", "a\xc2\x85\xc2\x84" "b",
	      "ab");
	check("U+00A0 is not C1", "a\xc2\xa0" "b", "a\xc2\xa0" "b");

	/* C1 as raw bytes */
	check("raw 0x9b CSI", "\x9b" "31mred\x9b" "0m", "red");
	check("raw 0x9d OSC to BEL", "\x9d" "0;pwned\x07x", "x");
	check("raw 0x90 DCS to raw 0x9c", "\x90" "q\x9cx", "x");
	check("raw 0x84, 0x85, 0x8d dropped", "a\x84\x85\x8d" "b", "ab");

	/* invalid UTF-8 */
	check("stray 0xff", "a\xff" "b", "a" FFFD "b");
	check("stray continuation 0xa0-0xbf", "\xa9x", FFFD "x");
	check("overlong slash", "\xc0\xaf", FFFD FFFD);
	check("overlong 3 bytes", "\xe0\x80\xaf", FFFD FFFD FFFD);
	check("surrogate", "\xed\xa0\x80", FFFD FFFD FFFD);
	check("beyond U+10FFFF", "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	check("truncated, then text", "\xe2\x82x", FFFD "x");
	check("truncated at the end", "x\xf0\x9f\x98", "x" FFFD);
	check("truncated before ESC", "\xe2\x1b[31mx", FFFD "x");
	check("0xf5 and up", "\xf5\xfe", FFFD FFFD);
	check_len("NUL inside", "a\0b", 3, "ab");

	random_inputs();
	output_bound();
	return tap_done();
}
