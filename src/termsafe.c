// SPDX-License-Identifier: GPL-2.0-or-later
/* Guest output made safe for a terminal (see termsafe.h). */
#include <stdint.h>

#include "vmctl/termsafe.h"
#include "vmctl/xalloc.h"

enum {
	TS_GROUND,
	TS_ESC,        /* after ESC */
	TS_ESC_INTER,  /* ESC and intermediates (0x20-0x2f): nF */
	TS_CSI,        /* parameters and intermediates up to a final byte */
	TS_STRING,     /* OSC, DCS, SOS, PM, APC payload */
	TS_STRING_ESC, /* ESC inside a string: ST if '\' follows */
};

#define CAN 0x18
#define SUB 0x1a
#define ESC 0x1b
#define BEL 0x07
#define REPLACEMENT 0xfffd

struct sink {
	char *out;
	size_t n;
};

static void put_utf8(struct sink *s, uint32_t cp)
{
	char *o = s->out + s->n;

	if (cp < 0x80) {
		o[0] = (char)cp;
		s->n += 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		s->n += 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		s->n += 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		s->n += 4;
	}
}

/* A character of text: a CR before it was a line overwrite; show it as a
 * line break instead. */
static void emit(struct termsafe *ts, struct sink *s, uint32_t cp)
{
	if (ts->cr) {
		put_utf8(s, '\n');
		ts->cr = false;
	}
	put_utf8(s, cp);
}

static bool string_introducer(uint32_t cp)
{
	/* 8-bit DCS, SOS, OSC, PM, APC */
	return cp == 0x90 || cp == 0x98 || cp == 0x9d || cp == 0x9e ||
	       cp == 0x9f;
}

/* One character in the ground state. */
static void ground(struct termsafe *ts, struct sink *s, uint32_t cp)
{
	if (cp == ESC) {
		ts->state = TS_ESC;
	} else if (cp == '\n') {
		ts->cr = false;
		put_utf8(s, '\n');
	} else if (cp == '\r') {
		ts->cr = true;
	} else if (cp == '\t') {
		emit(ts, s, cp);
	} else if (cp < 0x20 || cp == 0x7f) {
		/* other C0 controls and DEL: dropped */
	} else if (cp >= 0x80 && cp <= 0x9f) {
		if (cp == 0x9b)
			ts->state = TS_CSI;
		else if (string_introducer(cp))
			ts->state = TS_STRING;
	} else {
		emit(ts, s, cp);
	}
}

/* One character (a code point, or a raw C1 byte as its value) through the
 * escape sequence state machine. */
static void step(struct termsafe *ts, struct sink *s, uint32_t cp)
{
	for (;;) {
		switch (ts->state) {
		case TS_GROUND:
			ground(ts, s, cp);
			return;
		case TS_ESC:
			if (cp == '[') {
				ts->state = TS_CSI;
			} else if (cp == ']' || cp == 'P' || cp == 'X' ||
				   cp == '^' || cp == '_') {
				ts->state = TS_STRING;
			} else if (cp >= 0x20 && cp <= 0x2f) {
				ts->state = TS_ESC_INTER;
			} else if (cp >= 0x30 && cp <= 0x7e) {
				ts->state = TS_GROUND;
			} else if (cp == ESC) {
				/* ESC ESC: the second one starts afresh */
			} else if (cp == CAN || cp == SUB) {
				ts->state = TS_GROUND;
			} else {
				/* Not a sequence: drop the ESC alone. */
				ts->state = TS_GROUND;
				continue;
			}
			return;
		case TS_ESC_INTER:
			if (cp >= 0x20 && cp <= 0x2f)
				return;
			ts->state = TS_GROUND;
			if (cp >= 0x30 && cp <= 0x7e)
				return;
			continue;
		case TS_CSI:
			if (cp >= 0x20 && cp <= 0x3f)
				return;
			ts->state = TS_GROUND;
			if (cp >= 0x40 && cp <= 0x7e)
				return;
			/* Anything else cuts the sequence short. */
			continue;
		case TS_STRING:
			if (cp == ESC) {
				ts->state = TS_STRING_ESC;
			} else if (cp == BEL || cp == 0x9c || cp == CAN ||
				   cp == SUB) {
				ts->state = TS_GROUND;
			} else if (cp == '\n') {
				/* A line ends it here, so an open string
				 * cannot hide the rest of the log. */
				ts->state = TS_GROUND;
				continue;
			}
			return;
		case TS_STRING_ESC:
			if (cp == '\\') {
				ts->state = TS_GROUND;
				return;
			}
			/* ESC and something else: a new sequence. */
			ts->state = TS_ESC;
			continue;
		default:
			ts->state = TS_GROUND;
			continue;
		}
	}
}

/* Whether b may follow the bytes seen of the sequence ts->utf8: the
 * second byte's range excludes overlong forms, surrogates and code
 * points beyond U+10FFFF (the Unicode standard's table 3-7). */
static bool utf8_continues(const struct termsafe *ts, unsigned char b)
{
	unsigned char lo = 0x80, hi = 0xbf;

	if (ts->utf8_len == 1) {
		switch (ts->utf8[0]) {
		case 0xe0: lo = 0xa0; break;
		case 0xed: hi = 0x9f; break;
		case 0xf0: lo = 0x90; break;
		case 0xf4: hi = 0x8f; break;
		default: break;
		}
	}
	return b >= lo && b <= hi;
}

static uint32_t utf8_decode(const struct termsafe *ts)
{
	uint32_t cp = ts->utf8[0] & (0x7f >> ts->utf8_want);

	for (unsigned i = 1; i < ts->utf8_want; i++)
		cp = (cp << 6) | (ts->utf8[i] & 0x3f);
	return cp;
}

static void byte(struct termsafe *ts, struct sink *s, unsigned char b)
{
	if (ts->utf8_len > 0) {
		if (utf8_continues(ts, b)) {
			ts->utf8[ts->utf8_len++] = b;
			if (ts->utf8_len < ts->utf8_want)
				return;
			ts->utf8_len = 0;
			ts->invalid = false;
			step(ts, s, utf8_decode(ts));
			return;
		}
		/* The sequence so far is one invalid subpart; b starts
		 * afresh. */
		ts->utf8_len = 0;
		ts->invalid = true;
		step(ts, s, REPLACEMENT);
	}
	if (b < 0x80) {
		ts->invalid = false;
		step(ts, s, b);
	} else if (b <= 0x9f && !ts->invalid) {
		/* A raw C1 control, as an 8-bit terminal reads it.  (Right
		 * after invalid UTF-8 it is more of the same.) */
		step(ts, s, b);
	} else if (b >= 0xc2 && b <= 0xf4) {
		ts->utf8[0] = b;
		ts->utf8_len = 1;
		ts->utf8_want = b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
	} else {
		ts->invalid = true;
		step(ts, s, REPLACEMENT);
	}
}

size_t termsafe_feed(struct termsafe *ts, const char *in, size_t len,
		     char *out)
{
	struct sink s = { .out = out };

	for (size_t i = 0; i < len; i++)
		byte(ts, &s, (unsigned char)in[i]);
	return s.n;
}

size_t termsafe_finish(struct termsafe *ts, char *out)
{
	struct sink s = { .out = out };

	if (ts->utf8_len > 0) {
		ts->utf8_len = 0;
		step(ts, &s, REPLACEMENT);
	}
	if (ts->cr) {
		ts->cr = false;
		put_utf8(&s, '\n');
	}
	ts->state = TS_GROUND;
	return s.n;
}

char *termsafe_string(const char *in, size_t len)
{
	struct termsafe ts = TERMSAFE_INIT;
	char *out = xmalloc(TERMSAFE_OUT_MAX(len) + 1);
	size_t n = termsafe_feed(&ts, in, len, out);

	n += termsafe_finish(&ts, out + n);
	out[n] = '\0';
	return out;
}
