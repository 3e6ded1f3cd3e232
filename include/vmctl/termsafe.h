/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_TERMSAFE_H
#define VMCTL_TERMSAFE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Guest output made safe for a terminal.  A guest writes what it likes on
 * its serial console; shown raw, escape sequences could retitle the
 * terminal, rewrite the clipboard (OSC 52), answer queries into the
 * terminal's input, or hide lines.  The filter passes printable text, \n
 * and \t, and removes:
 *   - ESC sequences: CSI (ESC [ ... final), OSC, DCS, SOS, PM and APC
 *     strings (to ST, BEL, CAN/SUB, or the end of the line, so a string
 *     never left open cannot hide the rest of a log), nF sequences
 *     (ESC, intermediates, final) and two-byte ESC sequences;
 *   - C0 controls and DEL; CR LF (and CR CR LF) become \n, and a CR that
 *     text follows becomes \n too, so a line cannot overwrite another;
 *   - C1 controls, as U+0080-U+009F in UTF-8 and as raw bytes 0x80-0x9F
 *     (which 8-bit terminals obey); the introducers among them (CSI, OSC,
 *     DCS, SOS, PM, APC) start a sequence that is removed whole.
 * Other invalid UTF-8 (stray bytes, overlong forms, surrogates, beyond
 * U+10FFFF, truncated sequences) becomes U+FFFD, one per maximal invalid
 * subpart as Unicode recommends; a byte 0x80-0x9F right after invalid
 * UTF-8 counts as more of it, not as a C1 control.
 *
 * The filter keeps its state between calls, so text can be fed in chunks
 * of any size (`logs -f`) and comes out as if fed whole.
 */
struct termsafe {
	unsigned char state;     /* where in an escape sequence we are */
	unsigned char utf8[4];   /* the start of a UTF-8 sequence */
	unsigned char utf8_len;  /* bytes of it seen */
	unsigned char utf8_want; /* bytes it has in all */
	bool cr;                 /* a CR whose meaning the next byte tells */
	bool invalid;            /* the last byte was invalid UTF-8 */
};

#define TERMSAFE_INIT { 0 }

/* Room termsafe_feed() needs for len input bytes (and termsafe_finish()
 * for 0). */
#define TERMSAFE_OUT_MAX(len) (3 * (size_t)(len) + 8)

/* Filter len bytes into out, which has room for TERMSAFE_OUT_MAX(len);
 * returns the number of bytes written (out is not NUL-terminated). */
size_t termsafe_feed(struct termsafe *ts, const char *in, size_t len,
		     char *out);

/* The input has ended: an unfinished UTF-8 sequence becomes U+FFFD, a
 * last CR a newline.  out has room for TERMSAFE_OUT_MAX(0). */
size_t termsafe_finish(struct termsafe *ts, char *out);

/* All of in, filtered: a new NUL-terminated string. */
char *termsafe_string(const char *in, size_t len);

#endif
