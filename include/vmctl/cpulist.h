/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_CPULIST_H
#define VMCTL_CPULIST_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Sets of CPU numbers in the kernel's list syntax ("0-3,8-11", the form of
 * sysfs `cpulist`, `online` and `thread_siblings_list`, and of cpus.pin):
 * pure.  A set is a sorted array without duplicates.
 */
struct cpulist {
	unsigned *v;
	size_t n;
	size_t cap;     /* of v: grown by doubling (a range may be 64K long) */
};

/* Parse "0-3,8,10-11" (whitespace around it ignored; "" is the empty
 * set).  -1 on malformed text or a number above CPULIST_MAX. */
#define CPULIST_MAX 65535
int cpulist_parse(const char *text, struct cpulist *out);
/* The shortest list text: "0-3,8,10-11"; "" for the empty set. */
char *cpulist_format(const unsigned *cpus, size_t n);
bool cpulist_contains(const struct cpulist *set, unsigned cpu);
/* Add one CPU, keeping the set sorted and free of duplicates. */
void cpulist_add(struct cpulist *set, unsigned cpu);
void cpulist_clear(struct cpulist *set);

#endif
