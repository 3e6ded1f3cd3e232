// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The spec's keys of the machine itself (spec-walk.h): name, backend and
 * connect, machine, accel, firmware, memory (hugepages, balloon, merge),
 * cpus and their pinning, overcommit, qemu.  Pure.
 */
#include <string.h>

#include "vmctl/broker.h"
#include "vmctl/spec-walk.h"
#include "vmctl/suggest.h"
#include "vmctl/xalloc.h"

int sk_set_name(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	const char *s;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	if (!spec_name_valid(s)) {
		cleanup_free char *v = sw_shown(s);
		return sw_fail(w, n, path, "invalid name %s (1 to 63 characters: "
			    "a-z, 0-9, '.', '_', '-', starting with a letter "
			    "or digit)", v);
	}
	return sw_set_string(w, n, path, target);
}

int sk_set_machine(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	const char *s;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	if (*s == '\0' || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-")
				  != strlen(s)) {
		cleanup_free char *v = sw_shown(s);
		return sw_fail(w, n, path, "invalid machine type %s (e.g. q35, "
			    "pc, pc-q35-7.2)", v);
	}
	w->at_machine = n;
	return sw_set_string(w, n, path, target);
}

static int set_memory_size(struct walker *w, const struct node *n,
			   const char *path, void *target)
{
	uint64_t *out = target;

	w->at_mem_size = n;
	if (sw_set_size(w, n, path, 16ULL << 20, out) < 0)
		return -1;
	if (*out % (1ULL << 20) != 0)
		return sw_fail(w, n, path, "must be a whole number of MiB");
	if (*out > (16ULL << 40))
		return sw_fail(w, n, path, "%s is more than 16T", n->text);
	return 0;
}

static int set_hugepages(struct walker *w, const struct node *n,
			 const char *path, void *target)
{
	/* broker.c owns the words; sw_get_enum() only needs their order. */
	const char *const names[] = {
		broker_huge_name(SPEC_HUGE_NONE), broker_huge_name(SPEC_HUGE_2M),
		broker_huge_name(SPEC_HUGE_1G), broker_huge_name(SPEC_HUGE_AUTO),
		NULL,
	};
	int v;

	if (sw_get_enum(w, n, path, names, &v) < 0)
		return -1;
	w->at_hugepages = n;
	return broker_huge_parse(names[v], target);
}

static int set_balloon(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	w->at_balloon = n;
	return sw_get_bool(w, n, path, target);
}

/* memory: SIZE, or {size, hugepages, merge, balloon}. */
int sk_set_memory(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	typedef struct vmctl_spec spec_t;
	static const struct key keys[] = {
		KEY("size", set_memory_size, spec_t, memory),
		KEY("hugepages", set_hugepages, spec_t, hugepages),
		KEY("merge", sw_set_bool, spec_t, mem_merge),
		KEY("balloon", set_balloon, spec_t, balloon),
		{ NULL, NULL, 0 },
	};
	spec_t *spec = container_of(target, spec_t, memory);
	struct vmctl_error *e = NULL;
	uint64_t size, pages;

	if (n->kind == NODE_SCALAR)
		return set_memory_size(w, n, path, &spec->memory);
	if (n->kind != NODE_MAP)
		return sw_fail(w, n, path, "expected a size like 8G or a mapping "
			    "{size, hugepages, merge, balloon}, got %s",
			    node_kind_name(n));
	if (sw_walk_map(w, n, path, keys, spec) < 0)
		return -1;
	if (w->at_mem_size == NULL)
		return sw_fail(w, n, path, "missing key \"size\"");
	/* auto settles on 1G or 2M pages at start; 2M pages at least must
	 * divide the size. */
	if (broker_hugepages_pick(spec->hugepages, spec->memory, 0, &size,
				  &pages, &e) < 0) {
		cleanup_free char *sub = sw_child_path(path, "size");

		sw_fail(w, w->at_mem_size, sub, "%s (memory.hugepages: %s)",
		     e->message, broker_huge_name(spec->hugepages));
		vmctl_error_free(e);
		return -1;
	}
	return 0;
}

int sk_set_accel(struct walker *w, const struct node *n, const char *path,
		     void *target)
{
	static const char *const names[] = { "auto", "kvm", "tcg", NULL };
	int v;

	if (sw_get_enum(w, n, path, names, &v) < 0)
		return -1;
	*(enum spec_accel *)target = (enum spec_accel)v;
	return 0;
}

int sk_set_backend(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	static const char *const names[] = { "direct", "libvirt", NULL };
	int v;

	w->at_backend = n;
	if (sw_get_enum(w, n, path, names, &v) < 0)
		return -1;
	*(enum spec_backend *)target = (enum spec_backend)v;
	return 0;
}

/* connect: a libvirt URI (it holds ':') or a name from the hosts file,
 * resolved when the VM is created (hosts.h). */
int sk_set_connect(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	w->at_connect = n;
	return sw_set_string(w, n, path, target);
}

int sk_set_firmware(struct walker *w, const struct node *n,
			const char *path, void *target)
{
	static const char *const names[] = { "bios", "uefi", "uefi-secure",
					     NULL };
	static const enum spec_firmware values[] = {
		SPEC_FIRMWARE_BIOS, SPEC_FIRMWARE_UEFI,
		SPEC_FIRMWARE_UEFI_SECURE,
	};
	int v;

	if (sw_get_enum(w, n, path, names, &v) < 0)
		return -1;
	*(enum spec_firmware *)target = values[v];
	w->at_firmware = n;
	return 0;
}

static int set_cpu_count(struct walker *w, const struct node *n,
			 const char *path, void *target)
{
	unsigned long v;

	if (sw_get_uint(w, n, path, 1, 255, &v) < 0)
		return -1;
	*(unsigned *)target = (unsigned)v;
	return 0;
}

/*
 * Add host CPUs to a pin list, which keeps them sorted: vCPU i runs on
 * the i-th, so they must come in ascending order, each once.
 */
static int pin_add(struct walker *w, const struct node *n, const char *path,
		   struct cpulist *pins, const struct cpulist *more)
{
	for (size_t i = 0; i < more->n; i++) {
		unsigned cpu = more->v[i];

		if (cpulist_contains(pins, cpu))
			return sw_fail(w, n, path, "CPU %u is named twice", cpu);
		if (pins->n > 0 && cpu < pins->v[pins->n - 1])
			return sw_fail(w, n, path, "list the CPUs in ascending "
				    "order (vCPU i runs on the i-th): %u comes "
				    "after %u", cpu, pins->v[pins->n - 1]);
		cpulist_add(pins, cpu);
	}
	return 0;
}

/* "2-5,8": each comma-separated part through cpulist_parse(). */
static int pin_parse_text(struct walker *w, const struct node *n,
			  const char *path, struct cpulist *pins)
{
	static const char *const words[] = { "auto", "none", NULL };
	cleanup_free char *copy = xstrdup(n->text);
	struct cpulist all = { 0 };
	char *save = NULL;

	if (cpulist_parse(n->text, &all) < 0) {
		cleanup_free char *v = sw_shown(n->text);
		const char *hint = suggest_closest(n->text, words);

		if (hint != NULL)
			return sw_fail(w, n, path, "unknown value %s (did you "
				    "mean \"%s\"?)", v, hint);
		return sw_fail(w, n, path, "expected auto, none, or host CPUs "
			    "(\"2-5\", \"2,3,6,7\" or [2, 3, 6, 7]), got %s",
			    v);
	}
	cpulist_clear(&all);
	/* Well-formed: now part by part, for order and repeats. */
	for (char *part = strtok_r(copy, ",", &save); part != NULL;
	     part = strtok_r(NULL, ",", &save)) {
		struct cpulist one = { 0 };
		int ret;

		cpulist_parse(part, &one);
		ret = pin_add(w, n, path, pins, &one);
		cpulist_clear(&one);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* cpus.pin: auto, none, a CPU list string or a list of CPU numbers. */
static int set_pin(struct walker *w, const struct node *n, const char *path,
		   void *target)
{
	struct spec_cpus *cpus = container_of(target, struct spec_cpus, pin);
	struct cpulist pins = { 0 };

	w->at_pin = n;
	if (n->kind == NODE_SEQ) {
		for (size_t i = 0; i < n->n; i++) {
			cleanup_free char *sub = xasprintf("%s[%zu]", path, i);
			struct cpulist one = { 0 };
			unsigned long v;
			int ret;

			if (sw_get_uint(w, n->items[i], sub, 0, CPULIST_MAX,
				     &v) < 0)
				goto sw_fail;
			cpulist_add(&one, (unsigned)v);
			ret = pin_add(w, n->items[i], sub, &pins, &one);
			cpulist_clear(&one);
			if (ret < 0)
				goto sw_fail;
		}
	} else if (sw_want_scalar(w, n, path, "auto, none or a list of host "
			       "CPUs") < 0) {
		return -1;
	} else if (strcmp(n->text, "auto") == 0 ||
		   strcmp(n->text, "none") == 0) {
		cpulist_clear(&cpus->pin_list);
		cpus->pin = *n->text == 'a' ? SPEC_PIN_AUTO : SPEC_PIN_NONE;
		return 0;
	} else if (pin_parse_text(w, n, path, &pins) < 0) {
		goto sw_fail;
	}
	cpulist_clear(&cpus->pin_list);
	cpus->pin_list = pins;
	cpus->pin = SPEC_PIN_LIST;
	return 0;
sw_fail:
	cpulist_clear(&pins);
	return -1;
}

int sk_set_cpus(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	static const struct key keys[] = {
		KEY("sockets", set_cpu_count, struct spec_cpus, sockets),
		KEY("cores", set_cpu_count, struct spec_cpus, cores),
		KEY("threads", set_cpu_count, struct spec_cpus, threads),
		KEY("pin", set_pin, struct spec_cpus, pin),
		{ NULL, NULL, 0 },
	};
	struct spec_cpus *cpus = target;
	unsigned long count;

	if (n->kind == NODE_SCALAR) {
		cpus->sockets = 1;
		cpus->threads = 1;
		return set_cpu_count(w, n, path, &cpus->cores);
	}
	if (n->kind != NODE_MAP)
		return sw_fail(w, n, path, "expected a CPU count or a mapping "
			    "{sockets, cores, threads}, got %s",
			    node_kind_name(n));
	cpus->sockets = cpus->cores = cpus->threads = 1;
	if (sw_walk_map(w, n, path, keys, cpus) < 0)
		return -1;
	count = (unsigned long)cpus->sockets * cpus->cores * cpus->threads;
	if (count > 255)
		return sw_fail(w, n, path, "%u sockets x %u cores x %u threads "
			    "is more than 255 CPUs", cpus->sockets,
			    cpus->cores, cpus->threads);
	if (cpus->pin == SPEC_PIN_LIST && cpus->pin_list.n != count) {
		cleanup_free char *sub = sw_child_path(path, "pin");

		return sw_fail(w, w->at_pin, sub, "names %zu host CPU%s, but the "
			    "VM has %lu vCPU%s (one host CPU for each)",
			    cpus->pin_list.n, cpus->pin_list.n == 1 ? "" : "s",
			    count, count == 1 ? "" : "s");
	}
	return 0;
}

int sk_set_qemu(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	typedef struct spec_qemu qemu_t;
	static const struct key keys[] = {
		KEY("binary", sw_set_string, qemu_t, binary),
		KEY("extra_args", sk_set_strv, qemu_t, extra_args),
		{ NULL, NULL, 0 },
	};

	return sw_walk_map(w, n, path, keys, target);
}

int sk_set_overcommit(struct walker *w, const struct node *n,
			  const char *path, void *target)
{
	w->at_overcommit = n;
	return sw_set_bool(w, n, path, target);
}
