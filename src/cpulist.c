// SPDX-License-Identifier: GPL-2.0-or-later
/* CPU sets in the kernel's list syntax (include/vmctl/cpulist.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/cpulist.h"
#include "vmctl/xalloc.h"

static int parse_number(const char **p, unsigned *out)
{
	unsigned long v = 0;

	if (!isdigit((unsigned char)**p))
		return -1;
	while (isdigit((unsigned char)**p)) {
		v = v * 10 + (unsigned long)(**p - '0');
		if (v > CPULIST_MAX)
			return -1;
		(*p)++;
	}
	*out = (unsigned)v;
	return 0;
}

int cpulist_parse(const char *text, struct cpulist *out)
{
	struct cpulist set = { 0 };
	const char *p = text;

	while (isspace((unsigned char)*p))
		p++;
	while (*p != '\0' && !isspace((unsigned char)*p)) {
		unsigned lo, hi;

		if (parse_number(&p, &lo) < 0)
			goto bad;
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_number(&p, &hi) < 0 || hi < lo)
				goto bad;
		}
		for (unsigned c = lo; c <= hi; c++)
			cpulist_add(&set, c);
		if (*p == ',') {
			p++;
			if (*p == '\0' || isspace((unsigned char)*p))
				goto bad;
		} else if (*p != '\0' && !isspace((unsigned char)*p)) {
			goto bad;
		}
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '\0')
		goto bad;
	cpulist_clear(out);
	*out = set;
	return 0;
bad:
	cpulist_clear(&set);
	return -1;
}

char *cpulist_format(const unsigned *cpus, size_t n)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < n;) {
		size_t j = i;
		char *next;

		while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
			j++;
		if (j == i)
			next = xasprintf("%s%s%u", s, *s ? "," : "", cpus[i]);
		else
			next = xasprintf("%s%s%u-%u", s, *s ? "," : "",
					 cpus[i], cpus[j]);
		free(s);
		s = next;
		i = j + 1;
	}
	return s;
}

bool cpulist_contains(const struct cpulist *set, unsigned cpu)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->v[mid] == cpu)
			return true;
		if (set->v[mid] < cpu)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void cpulist_add(struct cpulist *set, unsigned cpu)
{
	size_t i = set->n;

	if (cpulist_contains(set, cpu))
		return;
	if (set->n == set->cap) {
		set->cap = set->cap != 0 ? set->cap * 2 : 8;
		set->v = xreallocarray(set->v, set->cap, sizeof(*set->v));
	}
	while (i > 0 && set->v[i - 1] > cpu) {
		set->v[i] = set->v[i - 1];
		i--;
	}
	set->v[i] = cpu;
	set->n++;
}

void cpulist_clear(struct cpulist *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
	set->cap = 0;
}
