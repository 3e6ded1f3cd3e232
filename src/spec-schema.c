// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The spec schema: the one place that knows the keys of a VM spec.
 *
 * It walks a struct node tree (from YAML or JSON alike) with tables of
 * known keys, converts and range-checks every value, fills in defaults and
 * finally checks the keys that depend on each other.  Every error names the
 * file, line, column and key path of the offending node.  The walker is
 * pure: it reads no files and touches nothing.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
#include <strings.h>
#include <limits.h>
#include <stdio.h>

#include "vmctl/broker.h"
#include "vmctl/fsutil.h"
#include "vmctl/spec-schema.h"
#include "vmctl/suggest.h"
#include "vmctl/usb.h"
#include "vmctl/xalloc.h"

struct walker {
	const char *file;
	const char *base_dir;      /* relative paths resolve here, or NULL */
	struct vmctl_error **err;
	/* Nodes the cross-key checks point at. */
	const struct node *root;
	const struct node *at_machine, *at_vnc_password, *at_vnc_listen;
	const struct node *at_vnc_display;
	const struct node *at_ssh_port, *at_firmware, *at_cloud_init;
	const struct node *at_gpu, *at_forwards, *at_overcommit;
	const struct node *at_backend, *at_connect;
	const struct node *at_boot;
	const struct node *at_mem_size, *at_hugepages, *at_balloon, *at_pin;
	/* spec_schema_keys(): walk_map() only reports its table here. */
	bool probing;
	const struct key *probed;
	bool cloud_init_given;
};

typedef int (*key_fn)(struct walker *w, const struct node *n,
		      const char *path, void *target);

struct key {
	const char *name;
	key_fn parse;
	size_t offset;     /* of the target inside the struct being filled */
};

/* QEMU takes all forwards in one option string, and Linux caps a single
 * argument at 128 KiB: a few hundred is far more than any VM needs. */
#define SPEC_MAX_FORWARDS 256

#define KEY(name, fn, type, field) { name, fn, offsetof(type, field) }
#define container_of(p, type, field) \
	((type *)(void *)((char *)(p) - offsetof(type, field)))

/* ---- diagnostics ---------------------------------------------------- */

static int fail(struct walker *w, const struct node *n, const char *path,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct walker *w, const struct node *n, const char *path,
		const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	return vmctl_error_at(w->err, w->file, n->line, n->col, path, "%s",
			      msg);
}

/* Quote a user's value for a message, cut short and made printable. */
static char *shown(const char *s)
{
	size_t len = strlen(s), max = 40;
	char *out = xmalloc(max * 4 + 8), *p = out;

	*p++ = '"';
	for (size_t i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			p += sprintf(p, "\\x%02x", c);
		} else {
			*p++ = (char)c;
		}
	}
	if (len > max)
		p += sprintf(p, "...");
	*p++ = '"';
	*p = '\0';
	return out;
}

static char *child_path(const char *path, const char *key)
{
	return *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

/* ---- scalars -------------------------------------------------------- */

static int want_scalar(struct walker *w, const struct node *n,
		       const char *path, const char *what)
{
	if (n->kind != NODE_SCALAR)
		return fail(w, n, path, "expected %s, got %s", what,
			    node_kind_name(n));
	return 0;
}

static int get_string(struct walker *w, const struct node *n,
		      const char *path, const char **out)
{
	if (want_scalar(w, n, path, "a string") < 0)
		return -1;
	if (node_is_null(n))
		return fail(w, n, path, "expected a string, got null");
	*out = n->text;
	return 0;
}

static int get_bool(struct walker *w, const struct node *n, const char *path,
		    bool *out)
{
	if (want_scalar(w, n, path, "true or false") < 0)
		return -1;
	if (!n->quoted && (strcmp(n->text, "true") == 0 ||
			   strcmp(n->text, "True") == 0 ||
			   strcmp(n->text, "TRUE") == 0)) {
		*out = true;
		return 0;
	}
	if (!n->quoted && (strcmp(n->text, "false") == 0 ||
			   strcmp(n->text, "False") == 0 ||
			   strcmp(n->text, "FALSE") == 0)) {
		*out = false;
		return 0;
	}
	cleanup_free char *v = shown(n->text);
	return fail(w, n, path, "expected true or false, got %s%s", v,
		    n->quoted ? " (a string)" : "");
}

static bool is_bool_literal(const struct node *n)
{
	bool dummy;
	struct walker quiet = { 0 };

	return n->kind == NODE_SCALAR && get_bool(&quiet, n, "", &dummy) == 0;
}

static int get_uint(struct walker *w, const struct node *n, const char *path,
		    unsigned long min, unsigned long max, unsigned long *out)
{
	const char *s;
	unsigned long v = 0;

	if (want_scalar(w, n, path, "an integer") < 0)
		return -1;
	s = n->text;
	if (n->quoted || *s == '\0' || strspn(s, "0123456789") != strlen(s)) {
		cleanup_free char *what = shown(s);
		return fail(w, n, path, "expected an integer, got %s%s", what,
			    n->quoted ? " (a string)" : "");
	}
	for (; *s; s++) {
		if (v > (ULONG_MAX - 9) / 10) {
			v = ULONG_MAX;
			break;
		}
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < min || v > max)
		return fail(w, n, path, "%s is out of range (%lu to %lu)",
			    n->text, min, max);
	*out = v;
	return 0;
}

static bool is_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static char *lowercase(const char *s)
{
	char *l = xstrdup(s);

	for (char *p = l; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

static int get_enum(struct walker *w, const struct node *n, const char *path,
		    const char *const *names, int *out)
{
	const char *s, *hint;
	cleanup_free char *list = NULL, *v = NULL;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	list = xstrdup(names[0]);
	for (int i = 1; names[i] != NULL; i++) {
		char *l = xasprintf("%s, %s", list, names[i]);

		free(list);
		list = l;
	}
	v = shown(s);
	hint = suggest_closest(s, names);
	if (hint != NULL)
		return fail(w, n, path, "unknown value %s (did you mean \"%s\"?)",
			    v, hint);
	return fail(w, n, path, "unknown value %s (expected one of: %s)", v,
		    list);
}

/* ---- text every syntax must refuse ----------------------------------- */

static int check_text(struct walker *w, const struct node *n,
		      const char *path, const char *what)
{
	size_t len = strlen(n->text);
	unsigned cp;
	cleanup_free char *name = NULL;

	if (node_refused_at(n->text, len, &cp) == len)
		return 0;
	name = node_refused_name(cp);
	return fail(w, n, path, "%s in %s", name, what);
}

/* Every key and scalar, whatever the schema makes of it: an escape
 * (JSON "\u0085", YAML "\x85" or "\N") gets here as the character. */
static int check_texts(struct walker *w, const struct node *n,
		       const char *path)
{
	for (size_t i = 0; i < n->n; i++) {
		cleanup_free char *sub = NULL;

		if (n->kind == NODE_MAP) {
			if (check_text(w, n->keys[i], path, "a key") < 0)
				return -1;
			sub = child_path(path, n->keys[i]->text);
		} else {
			sub = xasprintf("%s[%zu]", path, i);
		}
		if (check_texts(w, n->items[i], sub) < 0)
			return -1;
	}
	return n->kind == NODE_SCALAR ? check_text(w, n, path, "a string")
				      : 0;
}

/* ---- maps ----------------------------------------------------------- */

static int walk_map(struct walker *w, const struct node *n, const char *path,
		    const struct key *keys, void *base)
{
	const char *names[32];
	size_t n_names = 0;

	if (w->probing) {
		w->probed = keys;
		return -1;
	}
	if (n->kind != NODE_MAP)
		return fail(w, n, path, "expected a mapping, got %s",
			    node_kind_name(n));
	for (const struct key *k = keys; k->name; k++)
		names[n_names++] = k->name;
	names[n_names] = NULL;

	for (size_t i = 0; i < n->n; i++) {
		const struct node *key = n->keys[i];
		const struct key *k;
		cleanup_free char *sub = child_path(path, key->text);

		for (k = keys; k->name; k++)
			if (strcmp(k->name, key->text) == 0)
				break;
		if (k->name == NULL) {
			const char *hint = suggest_closest(key->text, names);

			if (hint != NULL)
				return fail(w, key, sub, "unknown key (did you "
					    "mean \"%s\"?)", hint);
			return fail(w, key, sub, "unknown key");
		}
		/* Only known keys get here, so this scan stays short. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(n->keys[j]->text, key->text) == 0)
				return fail(w, key, sub, "duplicate key (first "
					    "given at line %u, column %u)",
					    n->keys[j]->line,
					    n->keys[j]->col);
		if (node_is_null(n->items[i]))
			continue;   /* "key: ~" keeps the default */
		if (k->parse(w, n->items[i], sub, (char *)base + k->offset) < 0)
			return -1;
	}
	return 0;
}

/* ---- value parsers -------------------------------------------------- */

static int set_string(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	char **out = target;
	const char *s;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	if (*s == '\0')
		return fail(w, n, path, "must not be empty");
	free(*out);
	*out = xstrdup(s);
	return 0;
}

static bool is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
	       strncmp(s, "file://", 7) == 0;
}

/* A file path: made absolute against the spec's directory. */
static int set_path(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	char **out = target;

	if (set_string(w, n, path, target) < 0)
		return -1;
	if (**out != '/' && w->base_dir != NULL && !is_url(*out)) {
		cleanup_free char *abs = xasprintf("%s/%s", w->base_dir, *out);

		free(*out);
		*out = fs_path_clean(abs);
	}
	return 0;
}

static int set_path_or_url(struct walker *w, const struct node *n,
			   const char *path, void *target)
{
	const char *s;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	if (strstr(s, "://") != NULL && !is_url(s)) {
		cleanup_free char *v = shown(s);
		return fail(w, n, path, "unsupported URL %s (use http://, "
			    "https:// or file://)", v);
	}
	return set_path(w, n, path, target);
}

static int set_url(struct walker *w, const struct node *n, const char *path,
		   void *target)
{
	const char *s;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	if (!is_url(s)) {
		cleanup_free char *v = shown(s);
		return fail(w, n, path, "expected an http://, https:// or "
			    "file:// URL, got %s", v);
	}
	return set_string(w, n, path, target);
}

static int set_bool(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	return get_bool(w, n, path, target);
}

static int set_name(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	const char *s;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	if (!spec_name_valid(s)) {
		cleanup_free char *v = shown(s);
		return fail(w, n, path, "invalid name %s (1 to 63 characters: "
			    "a-z, 0-9, '.', '_', '-', starting with a letter "
			    "or digit)", v);
	}
	return set_string(w, n, path, target);
}

static int set_machine(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	const char *s;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	if (*s == '\0' || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-")
				  != strlen(s)) {
		cleanup_free char *v = shown(s);
		return fail(w, n, path, "invalid machine type %s (e.g. q35, "
			    "pc, pc-q35-7.2)", v);
	}
	w->at_machine = n;
	return set_string(w, n, path, target);
}

static int set_size(struct walker *w, const struct node *n, const char *path,
		    uint64_t min, uint64_t *out)
{
	const char *s;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	if (spec_parse_size(s, out) < 0) {
		cleanup_free char *v = shown(s);
		if (strspn(s, "0123456789") == strlen(s) && *s)
			return fail(w, n, path, "size %s has no unit (write "
				    "e.g. %sM or %sG)", v, s, s);
		return fail(w, n, path, "invalid size %s (an integer with K, "
			    "M, G or T, e.g. 512M or 8G)", v);
	}
	if (*out < min)
		return fail(w, n, path, "size \"%s\" is too small (at least "
			    "%" PRIu64 "M)", s, min >> 20);
	return 0;
}

static int set_memory_size(struct walker *w, const struct node *n,
			   const char *path, void *target)
{
	uint64_t *out = target;

	w->at_mem_size = n;
	if (set_size(w, n, path, 16ULL << 20, out) < 0)
		return -1;
	if (*out % (1ULL << 20) != 0)
		return fail(w, n, path, "must be a whole number of MiB");
	if (*out > (16ULL << 40))
		return fail(w, n, path, "%s is more than 16T", n->text);
	return 0;
}

static int set_hugepages(struct walker *w, const struct node *n,
			 const char *path, void *target)
{
	/* broker.c owns the words; get_enum() only needs their order. */
	const char *const names[] = {
		broker_huge_name(SPEC_HUGE_NONE), broker_huge_name(SPEC_HUGE_2M),
		broker_huge_name(SPEC_HUGE_1G), broker_huge_name(SPEC_HUGE_AUTO),
		NULL,
	};
	int v;

	if (get_enum(w, n, path, names, &v) < 0)
		return -1;
	w->at_hugepages = n;
	return broker_huge_parse(names[v], target);
}

static int set_balloon(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	w->at_balloon = n;
	return get_bool(w, n, path, target);
}

/* memory: SIZE, or {size, hugepages, merge, balloon}. */
static int set_memory(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	typedef struct vmctl_spec spec_t;
	static const struct key keys[] = {
		KEY("size", set_memory_size, spec_t, memory),
		KEY("hugepages", set_hugepages, spec_t, hugepages),
		KEY("merge", set_bool, spec_t, mem_merge),
		KEY("balloon", set_balloon, spec_t, balloon),
		{ NULL, NULL, 0 },
	};
	spec_t *spec = container_of(target, spec_t, memory);
	struct vmctl_error *e = NULL;
	uint64_t size, pages;

	if (n->kind == NODE_SCALAR)
		return set_memory_size(w, n, path, &spec->memory);
	if (n->kind != NODE_MAP)
		return fail(w, n, path, "expected a size like 8G or a mapping "
			    "{size, hugepages, merge, balloon}, got %s",
			    node_kind_name(n));
	if (walk_map(w, n, path, keys, spec) < 0)
		return -1;
	if (w->at_mem_size == NULL)
		return fail(w, n, path, "missing key \"size\"");
	/* auto settles on 1G or 2M pages at start; 2M pages at least must
	 * divide the size. */
	if (broker_hugepages_pick(spec->hugepages, spec->memory, 0, &size,
				  &pages, &e) < 0) {
		cleanup_free char *sub = child_path(path, "size");

		fail(w, w->at_mem_size, sub, "%s (memory.hugepages: %s)",
		     e->message, broker_huge_name(spec->hugepages));
		vmctl_error_free(e);
		return -1;
	}
	return 0;
}

static int set_disk_size(struct walker *w, const struct node *n,
			 const char *path, void *target)
{
	return set_size(w, n, path, 1ULL << 20, target);
}

static int set_accel(struct walker *w, const struct node *n, const char *path,
		     void *target)
{
	static const char *const names[] = { "auto", "kvm", "tcg", NULL };
	int v;

	if (get_enum(w, n, path, names, &v) < 0)
		return -1;
	*(enum spec_accel *)target = (enum spec_accel)v;
	return 0;
}

static int set_backend(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	static const char *const names[] = { "direct", "libvirt", NULL };
	int v;

	w->at_backend = n;
	if (get_enum(w, n, path, names, &v) < 0)
		return -1;
	*(enum spec_backend *)target = (enum spec_backend)v;
	return 0;
}

/* connect: a libvirt URI (it holds ':') or a name from the hosts file,
 * resolved when the VM is created (hosts.h). */
static int set_connect(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	w->at_connect = n;
	return set_string(w, n, path, target);
}

static int set_firmware(struct walker *w, const struct node *n,
			const char *path, void *target)
{
	static const char *const names[] = { "bios", "uefi", "uefi-secure",
					     NULL };
	static const enum spec_firmware values[] = {
		SPEC_FIRMWARE_BIOS, SPEC_FIRMWARE_UEFI,
		SPEC_FIRMWARE_UEFI_SECURE,
	};
	int v;

	if (get_enum(w, n, path, names, &v) < 0)
		return -1;
	*(enum spec_firmware *)target = values[v];
	w->at_firmware = n;
	return 0;
}

static int set_disk_bus(struct walker *w, const struct node *n,
			const char *path, void *target)
{
	static const char *const names[] = { "virtio", "sata", "scsi", NULL };
	int v;

	if (get_enum(w, n, path, names, &v) < 0)
		return -1;
	*(enum spec_disk_bus *)target = (enum spec_disk_bus)v;
	return 0;
}

static int set_nic_model(struct walker *w, const struct node *n,
			 const char *path, void *target)
{
	static const char *const names[] = { "virtio", "e1000e", NULL };
	int v;

	if (get_enum(w, n, path, names, &v) < 0)
		return -1;
	*(enum spec_nic_model *)target = (enum spec_nic_model)v;
	return 0;
}

static int set_cpu_count(struct walker *w, const struct node *n,
			 const char *path, void *target)
{
	unsigned long v;

	if (get_uint(w, n, path, 1, 255, &v) < 0)
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
			return fail(w, n, path, "CPU %u is named twice", cpu);
		if (pins->n > 0 && cpu < pins->v[pins->n - 1])
			return fail(w, n, path, "list the CPUs in ascending "
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
		cleanup_free char *v = shown(n->text);
		const char *hint = suggest_closest(n->text, words);

		if (hint != NULL)
			return fail(w, n, path, "unknown value %s (did you "
				    "mean \"%s\"?)", v, hint);
		return fail(w, n, path, "expected auto, none, or host CPUs "
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

			if (get_uint(w, n->items[i], sub, 0, CPULIST_MAX,
				     &v) < 0)
				goto fail;
			cpulist_add(&one, (unsigned)v);
			ret = pin_add(w, n->items[i], sub, &pins, &one);
			cpulist_clear(&one);
			if (ret < 0)
				goto fail;
		}
	} else if (want_scalar(w, n, path, "auto, none or a list of host "
			       "CPUs") < 0) {
		return -1;
	} else if (strcmp(n->text, "auto") == 0 ||
		   strcmp(n->text, "none") == 0) {
		cpulist_clear(&cpus->pin_list);
		cpus->pin = *n->text == 'a' ? SPEC_PIN_AUTO : SPEC_PIN_NONE;
		return 0;
	} else if (pin_parse_text(w, n, path, &pins) < 0) {
		goto fail;
	}
	cpulist_clear(&cpus->pin_list);
	cpus->pin_list = pins;
	cpus->pin = SPEC_PIN_LIST;
	return 0;
fail:
	cpulist_clear(&pins);
	return -1;
}

static int set_cpus(struct walker *w, const struct node *n, const char *path,
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
		return fail(w, n, path, "expected a CPU count or a mapping "
			    "{sockets, cores, threads}, got %s",
			    node_kind_name(n));
	cpus->sockets = cpus->cores = cpus->threads = 1;
	if (walk_map(w, n, path, keys, cpus) < 0)
		return -1;
	count = (unsigned long)cpus->sockets * cpus->cores * cpus->threads;
	if (count > 255)
		return fail(w, n, path, "%u sockets x %u cores x %u threads "
			    "is more than 255 CPUs", cpus->sockets,
			    cpus->cores, cpus->threads);
	if (cpus->pin == SPEC_PIN_LIST && cpus->pin_list.n != count) {
		cleanup_free char *sub = child_path(path, "pin");

		return fail(w, w->at_pin, sub, "names %zu host CPU%s, but the "
			    "VM has %lu vCPU%s (one host CPU for each)",
			    cpus->pin_list.n, cpus->pin_list.n == 1 ? "" : "s",
			    count, count == 1 ? "" : "s");
	}
	return 0;
}

static int set_sha(struct walker *w, const struct node *n, const char *path,
		   void *target, size_t hexlen)
{
	char **out = target;
	const char *s;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	if (!is_hex(s, hexlen)) {
		cleanup_free char *v = shown(s);
		return fail(w, n, path, "expected %zu hexadecimal digits, got "
			    "%s", hexlen, v);
	}
	free(*out);
	*out = lowercase(s);
	return 0;
}

static int set_sha256(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	return set_sha(w, n, path, target, 64);
}

static int set_sha512(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	return set_sha(w, n, path, target, 128);
}

static bool is_plain_http(const char *url)
{
	return url != NULL && strncasecmp(url, "http://", 7) == 0;
}

/* Where the digest a download is checked against comes from must be
 * trustworthy: pinned in the spec, or a checksum list fetched over https
 * or carrying a good OpenPGP signature.  Over plain http an attacker
 * can swap the list along with the image. */
static int check_disk_trust(struct walker *w, const struct node *n,
			    const char *path, const struct spec_disk *disk)
{
	bool pinned = disk->sha256 != NULL || disk->sha512 != NULL;
	bool signed_list = disk->checksum_sig_url != NULL;

	if (signed_list && disk->checksum_url == NULL)
		return fail(w, n, path, "checksum_sig_url signs the list at "
			    "checksum_url: give checksum_url too");
	if (signed_list && disk->keyring == NULL)
		return fail(w, n, path, "checksum_sig_url needs keyring (the "
			    "OpenPGP keys to check the signature with)");
	if (disk->keyring != NULL && !signed_list)
		return fail(w, n, path, "keyring is only used with "
			    "checksum_sig_url");
	if (is_plain_http(disk->image) && !pinned && !signed_list)
		return fail(w, n, path, "image is a plain http:// URL: pin "
			    "its digest with sha256 or sha512 (a checksum "
			    "list fetched over http proves nothing), or sign "
			    "the list (checksum_sig_url and keyring)");
	if (is_plain_http(disk->checksum_url) && !signed_list)
		return fail(w, n, path, "checksum_url is a plain http:// URL, "
			    "which proves nothing: use https, pin sha256 or "
			    "sha512, or sign the list (checksum_sig_url and "
			    "keyring)");
	return 0;
}

static int set_disk(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	typedef struct spec_disk disk_t;
	static const struct key keys[] = {
		KEY("image", set_path_or_url, disk_t, image),
		KEY("sha256", set_sha256, disk_t, sha256),
		KEY("sha512", set_sha512, disk_t, sha512),
		KEY("checksum_url", set_url, disk_t, checksum_url),
		KEY("checksum_sig_url", set_url, disk_t, checksum_sig_url),
		KEY("keyring", set_path, disk_t, keyring),
		KEY("size", set_disk_size, disk_t, size),
		KEY("bus", set_disk_bus, disk_t, bus),
		{ NULL, NULL, 0 },
	};
	disk_t *disk = target;
	int sums = 0;

	/* "disk: URL" is the short form of "disk: {image: URL}" and passes
	 * the same trust check. */
	if (n->kind == NODE_SCALAR) {
		if (set_path_or_url(w, n, path, &disk->image) < 0)
			return -1;
		return check_disk_trust(w, n, path, disk);
	}
	if (walk_map(w, n, path, keys, disk) < 0)
		return -1;
	sums = (disk->sha256 != NULL) + (disk->sha512 != NULL) +
	       (disk->checksum_url != NULL);
	if (sums > 1)
		return fail(w, n, path, "give one of sha256, sha512 and "
			    "checksum_url, not several");
	if (disk->image == NULL)
		return fail(w, n, path, "missing key \"image\"");
	return check_disk_trust(w, n, path, disk);
}

static int set_kernel(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	typedef struct spec_kernel kernel_t;
	static const struct key keys[] = {
		KEY("image", set_path, kernel_t, image),
		KEY("initrd", set_path, kernel_t, initrd),
		KEY("cmdline", set_string, kernel_t, cmdline),
		{ NULL, NULL, 0 },
	};
	kernel_t *kernel = target;

	if (n->kind == NODE_SCALAR)
		return set_path(w, n, path, &kernel->image);
	if (walk_map(w, n, path, keys, kernel) < 0)
		return -1;
	if (kernel->image == NULL)
		return fail(w, n, path, "missing key \"image\" (initrd and "
			    "cmdline need a kernel)");
	return 0;
}

static int set_strv(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	struct strv *sv = target;

	if (n->kind != NODE_SEQ)
		return fail(w, n, path, "expected a list of strings, got %s",
			    node_kind_name(n));
	strv_clear(sv);
	for (size_t i = 0; i < n->n; i++) {
		cleanup_free char *sub = xasprintf("%s[%zu]", path, i);
		const char *s;

		if (get_string(w, n->items[i], sub, &s) < 0)
			return -1;
		strv_push(sv, s);
	}
	return 0;
}

static int set_user(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	const char *s;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	/* What useradd accepts by default, and never "root". */
	if (*s == '\0' || strlen(s) > 32 || !(islower((unsigned char)*s) ||
					       *s == '_') ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(s)) {
		cleanup_free char *v = shown(s);
		return fail(w, n, path, "invalid user name %s (lowercase "
			    "letters, digits, '_' and '-', at most 32)", v);
	}
	if (strcmp(s, "root") == 0)
		return fail(w, n, path, "the cloud-init user must not be root");
	return set_string(w, n, path, target);
}

static int set_cloud_init(struct walker *w, const struct node *n,
			  const char *path, void *target)
{
	typedef struct spec_cloud_init ci_t;
	static const struct key keys[] = {
		KEY("user", set_user, ci_t, user),
		KEY("ssh_authorized_keys", set_strv, ci_t,
		    ssh_authorized_keys),
		KEY("password_hash", set_string, ci_t, password_hash),
		KEY("packages", set_strv, ci_t, packages),
		KEY("user_data", set_path, ci_t, user_data),
		{ NULL, NULL, 0 },
	};
	ci_t *ci = target;

	w->cloud_init_given = true;
	w->at_cloud_init = n;
	if (is_bool_literal(n))
		return get_bool(w, n, path, &ci->enabled);
	ci->enabled = true;
	if (n->kind != NODE_MAP)
		return fail(w, n, path, "expected a mapping or true/false, "
			    "got %s", node_kind_name(n));
	return walk_map(w, n, path, keys, ci);
}

static int set_address(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	char **out = target;
	const char *s;
	unsigned char buf[sizeof(struct in6_addr)];

	if (get_string(w, n, path, &s) < 0)
		return -1;
	if (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1) {
		cleanup_free char *v = shown(s);
		return fail(w, n, path, "expected an IPv4 or IPv6 address, got "
			    "%s", v);
	}
	free(*out);
	*out = xstrdup(s);
	return 0;
}

static int set_ipv4(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	struct in_addr a;

	if (n->kind == NODE_SCALAR && inet_pton(AF_INET, n->text, &a) != 1) {
		cleanup_free char *v = shown(n->text);
		return fail(w, n, path, "expected an IPv4 address, got %s", v);
	}
	return set_address(w, n, path, target);
}

static int set_ssh_port(struct walker *w, const struct node *n,
			const char *path, void *target)
{
	unsigned long v;

	w->at_ssh_port = n;
	if (n->kind == NODE_SCALAR && strcmp(n->text, "auto") == 0) {
		*(unsigned *)target = 0;
		return 0;
	}
	if (n->kind == NODE_SCALAR && !n->quoted &&
	    strspn(n->text, "0123456789") != strlen(n->text)) {
		cleanup_free char *s = shown(n->text);
		return fail(w, n, path, "expected a port number or \"auto\", "
			    "got %s", s);
	}
	if (get_uint(w, n, path, 1, 65535, &v) < 0)
		return -1;
	*(unsigned *)target = (unsigned)v;
	return 0;
}

/* "tcp:8080:80", "udp:5353:53" or "tcp:127.0.0.1:8080:80". */
static int parse_forward(const char *s, struct spec_forward *f)
{
	cleanup_free char *copy = xstrdup(s);
	char *parts[4], *p = copy, *end;
	size_t n = 0;
	unsigned long port;
	unsigned char buf[sizeof(struct in_addr)];

	/* Split on every ':' (no field may be empty). */
	for (;;) {
		if (n == 4)
			return -1;
		parts[n++] = p;
		p = strchr(p, ':');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (n < 3)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (*parts[i] == '\0')
			return -1;
	if (strcmp(parts[0], "tcp") != 0 && strcmp(parts[0], "udp") != 0)
		return -1;
	if (n == 4 && inet_pton(AF_INET, parts[1], buf) != 1)
		return -1;
	for (size_t i = n - 2; i < n; i++) {
		errno = 0;
		port = strtoul(parts[i], &end, 10);
		if (errno || *end || !isdigit((unsigned char)*parts[i]) ||
		    port < 1 || port > 65535)
			return -1;
		if (i == n - 2)
			f->host_port = (unsigned)port;
		else
			f->guest_port = (unsigned)port;
	}
	f->proto = xstrdup(parts[0]);
	f->host_addr = xstrdup(n == 4 ? parts[1] : "");
	return 0;
}

static int set_forwards(struct walker *w, const struct node *n,
			const char *path, void *target)
{
	struct spec_network *net =
		container_of(target, struct spec_network, forwards);

	w->at_forwards = n;
	if (n->kind != NODE_SEQ)
		return fail(w, n, path, "expected a list like "
			    "[\"tcp:8080:80\"], got %s", node_kind_name(n));
	if (n->n > SPEC_MAX_FORWARDS)
		return fail(w, n->items[SPEC_MAX_FORWARDS], path, "more than "
			    "%d forwards", SPEC_MAX_FORWARDS);
	for (size_t i = 0; i < n->n; i++) {
		cleanup_free char *sub = xasprintf("%s[%zu]", path, i);
		struct spec_forward f = { 0 };
		const char *s;

		if (get_string(w, n->items[i], sub, &s) < 0)
			return -1;
		if (parse_forward(s, &f) < 0) {
			cleanup_free char *v = shown(s);
			return fail(w, n->items[i], sub, "invalid forward %s "
				    "(PROTO:[ADDR:]HOSTPORT:GUESTPORT, e.g. "
				    "\"tcp:8080:80\")", v);
		}
		for (size_t j = 0; j < net->n_forwards; j++) {
			if (net->forwards[j].host_port == f.host_port &&
			    strcmp(net->forwards[j].proto, f.proto) == 0) {
				fail(w, n->items[i], sub, "host port %s/%u is "
				     "already forwarded by %s[%zu]", f.proto,
				     f.host_port, path, j);
				free(f.proto);
				free(f.host_addr);
				return -1;
			}
		}
		net->forwards = xreallocarray(net->forwards,
					      net->n_forwards + 1,
					      sizeof(*net->forwards));
		net->forwards[net->n_forwards++] = f;
	}
	return 0;
}

static int set_network(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	typedef struct spec_network net_t;
	static const struct key keys[] = {
		KEY("ssh_port", set_ssh_port, net_t, ssh_port),
		KEY("ssh_listen", set_ipv4, net_t, ssh_listen),
		KEY("model", set_nic_model, net_t, model),
		KEY("forwards", set_forwards, net_t, forwards),
		{ NULL, NULL, 0 },
	};

	return walk_map(w, n, path, keys, target);
}

static int set_display(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	unsigned long v;

	if (n->kind == NODE_SCALAR && strcmp(n->text, "auto") == 0) {
		*(int *)target = -1;
		return 0;
	}
	if (n->kind == NODE_SCALAR && !n->quoted &&
	    strspn(n->text, "0123456789") != strlen(n->text)) {
		cleanup_free char *s = shown(n->text);
		return fail(w, n, path, "expected a display number (0 to 99) "
			    "or \"auto\", got %s", s);
	}
	if (get_uint(w, n, path, 0, 99, &v) < 0)
		return -1;
	*(int *)target = (int)v;
	return 0;
}

static int set_vnc_listen(struct walker *w, const struct node *n,
			  const char *path, void *target)
{
	w->at_vnc_listen = n;
	return set_address(w, n, path, target);
}

static int set_vnc_display(struct walker *w, const struct node *n,
			   const char *path, void *target)
{
	w->at_vnc_display = n;
	return set_display(w, n, path, target);
}

static int set_vnc_password(struct walker *w, const struct node *n,
			    const char *path, void *target)
{
	w->at_vnc_password = n;
	return get_bool(w, n, path, target);
}

static int set_vnc(struct walker *w, const struct node *n, const char *path,
		   void *target)
{
	typedef struct spec_vnc vnc_t;
	static const struct key keys[] = {
		KEY("enabled", set_bool, vnc_t, enabled),
		KEY("listen", set_vnc_listen, vnc_t, listen),
		KEY("display", set_vnc_display, vnc_t, display),
		KEY("password", set_vnc_password, vnc_t, password),
		{ NULL, NULL, 0 },
	};
	vnc_t *vnc = target;

	if (is_bool_literal(n))
		return get_bool(w, n, path, &vnc->enabled);
	if (n->kind != NODE_MAP)
		return fail(w, n, path, "expected a mapping or true/false, "
			    "got %s", node_kind_name(n));
	return walk_map(w, n, path, keys, vnc);
}

static int set_gpu_vendor(struct walker *w, const struct node *n,
			  const char *path, void *target)
{
	static const char *const vendors[] = { "NVIDIA", "AMD", "Intel", NULL };
	const char *s, *hint;
	cleanup_free char *v = NULL;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	for (size_t i = 0; vendors[i]; i++) {
		if (strcasecmp(s, vendors[i]) == 0) {
			free(*(char **)target);
			*(char **)target = xstrdup(vendors[i]);
			return 0;
		}
	}
	v = shown(s);
	hint = suggest_closest(s, vendors);
	if (hint != NULL)
		return fail(w, n, path, "unknown GPU vendor %s (did you mean "
			    "\"%s\"?)", v, hint);
	return fail(w, n, path, "unknown GPU vendor %s (expected NVIDIA, "
		    "AMD or Intel, or use id/address)", v);
}

static int set_gpu_id(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	struct spec_gpu *gpu = container_of(target, struct spec_gpu,
					    vendor_id);
	const char *s;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	if (strlen(s) != 9 || s[4] != ':' || !is_hex(s + 5, 4) ||
	    strspn(s, "0123456789abcdefABCDEF") != 4) {
		cleanup_free char *v = shown(s);
		return fail(w, n, path, "invalid PCI id %s (VENDOR:DEVICE in "
			    "hex, e.g. \"10de:1b82\")", v);
	}
	gpu->vendor_id = (unsigned)strtoul(s, NULL, 16);
	gpu->device_id = (unsigned)strtoul(s + 5, NULL, 16);
	return 0;
}

static int set_gpu_address(struct walker *w, const struct node *n,
			   const char *path, void *target)
{
	const char *s;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	if (pci_addr_parse(s, target) < 0) {
		cleanup_free char *v = shown(s);
		return fail(w, n, path, "invalid PCI address %s (DOMAIN:BUS:"
			    "DEVICE.FUNCTION, e.g. \"0000:01:00.0\")", v);
	}
	return 0;
}

static int set_gpu_index(struct walker *w, const struct node *n,
			 const char *path, void *target)
{
	unsigned long v;

	if (get_uint(w, n, path, 0, 255, &v) < 0)
		return -1;
	*(unsigned *)target = (unsigned)v;
	return 0;
}

static int set_gpu(struct walker *w, const struct node *n, const char *path,
		   void *target)
{
	static const struct key keys[] = {
		KEY("vendor", set_gpu_vendor, struct spec_gpu, vendor),
		KEY("id", set_gpu_id, struct spec_gpu, vendor_id),
		KEY("address", set_gpu_address, struct spec_gpu, address),
		KEY("index", set_gpu_index, struct spec_gpu, index),
		KEY("x_vga", set_bool, struct spec_gpu, x_vga),
		KEY("rom", set_path, struct spec_gpu, rom),
		KEY("managed", set_bool, struct spec_gpu, managed),
		{ NULL, NULL, 0 },
	};
	struct vmctl_spec *spec = container_of(target, struct vmctl_spec,
					       gpus);

	w->at_gpu = n;
	if (n->kind != NODE_SEQ)
		return fail(w, n, path, "expected a list of GPUs, e.g. "
			    "[{vendor: NVIDIA}], got %s", node_kind_name(n));
	for (size_t i = 0; i < n->n; i++) {
		const struct node *item = n->items[i];
		cleanup_free char *sub = xasprintf("%s[%zu]", path, i);
		struct spec_gpu *gpu;
		int selectors = 0;

		spec->gpus = xreallocarray(spec->gpus, spec->n_gpus + 1,
					   sizeof(*spec->gpus));
		gpu = &spec->gpus[spec->n_gpus++];
		*gpu = (struct spec_gpu){ 0 };
		if (walk_map(w, item, sub, keys, gpu) < 0)
			return -1;
		for (size_t k = 0; k < item->n; k++) {
			const char *key = item->keys[k]->text;

			/* "vendor: ~" keeps no value: it selects nothing. */
			if (node_is_null(item->items[k]))
				continue;

			if (strcmp(key, "vendor") == 0)
				selectors++, gpu->selector = SPEC_GPU_VENDOR;
			else if (strcmp(key, "id") == 0)
				selectors++, gpu->selector = SPEC_GPU_ID;
			else if (strcmp(key, "address") == 0)
				selectors++, gpu->selector = SPEC_GPU_ADDRESS;
		}
		if (selectors != 1)
			return fail(w, item, sub, "give exactly one of vendor, "
				    "id and address");
		if (gpu->selector == SPEC_GPU_ADDRESS && gpu->index != 0)
			return fail(w, item, sub, "index picks among cards a "
				    "vendor or id matches; an address names "
				    "one card already");
	}
	return 0;
}

/* usb: [{id: "046d:c52b"}, {bus: 3, port: "1.2"}] (usb.h). */
static int set_usb_id(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	struct spec_usb *u = container_of(target, struct spec_usb, vendor_id);
	const char *s;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	if (!usb_parse_id(s, &u->vendor_id, &u->product_id)) {
		cleanup_free char *v = shown(s);
		return fail(w, n, path, "invalid USB id %s (VENDOR:PRODUCT in "
			    "hex, e.g. \"046d:c52b\")", v);
	}
	return 0;
}

static int set_usb_bus(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	unsigned long v;

	if (get_uint(w, n, path, 1, 255, &v) < 0)
		return -1;
	*(unsigned *)target = (unsigned)v;
	return 0;
}

static int set_usb_port(struct walker *w, const struct node *n,
			const char *path, void *target)
{
	const char *s;

	if (get_string(w, n, path, &s) < 0)
		return -1;
	if (!usb_port_valid(s)) {
		cleanup_free char *v = shown(s);
		return fail(w, n, path, "invalid USB port %s (the kernel's "
			    "port path: \"1\", \"1.2\", \"1.2.3\"; 1 to 31 "
			    "each, at most 7 deep)", v);
	}
	free(*(char **)target);
	*(char **)target = xstrdup(s);
	return 0;
}

static int set_usb(struct walker *w, const struct node *n, const char *path,
		   void *target)
{
	static const struct key keys[] = {
		KEY("id", set_usb_id, struct spec_usb, vendor_id),
		KEY("bus", set_usb_bus, struct spec_usb, bus),
		KEY("port", set_usb_port, struct spec_usb, port),
		{ NULL, NULL, 0 },
	};
	struct vmctl_spec *spec = container_of(target, struct vmctl_spec, usb);

	if (n->kind != NODE_SEQ)
		return fail(w, n, path, "expected a list of USB devices, e.g. "
			    "[{id: \"046d:c52b\"}], got %s", node_kind_name(n));
	if (n->n > USB_MAX_DEVICES)
		return fail(w, n, path, "%zu USB devices, at most %d", n->n,
			    USB_MAX_DEVICES);
	for (size_t i = 0; i < n->n; i++) {
		const struct node *item = n->items[i];
		cleanup_free char *sub = xasprintf("%s[%zu]", path, i);
		struct spec_usb *u;
		bool id = false, bus = false, port = false;

		spec->usb = xreallocarray(spec->usb, spec->n_usb + 1,
					  sizeof(*spec->usb));
		u = &spec->usb[spec->n_usb++];
		*u = (struct spec_usb){ 0 };
		if (walk_map(w, item, sub, keys, u) < 0)
			return -1;
		for (size_t k = 0; k < item->n; k++) {
			const char *key = item->keys[k]->text;

			id |= strcmp(key, "id") == 0;
			bus |= strcmp(key, "bus") == 0;
			port |= strcmp(key, "port") == 0;
		}
		if (id == (bus || port) || bus != port)
			return fail(w, item, sub, "give either id, or bus and "
				    "port");
	}
	return 0;
}

static int set_qemu(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	typedef struct spec_qemu qemu_t;
	static const struct key keys[] = {
		KEY("binary", set_string, qemu_t, binary),
		KEY("extra_args", set_strv, qemu_t, extra_args),
		{ NULL, NULL, 0 },
	};

	return walk_map(w, n, path, keys, target);
}

static int set_overcommit(struct walker *w, const struct node *n,
			  const char *path, void *target)
{
	w->at_overcommit = n;
	return set_bool(w, n, path, target);
}

/* ---- the CD-ROM and the boot order (vm-cdrom.h) --------------------- */

/* cdrom: PATH (the medium), or "empty": a drive to insert into later. */
static int set_cdrom(struct walker *w, const struct node *n,
		     const char *path, void *target)
{
	struct vmctl_spec *spec = container_of(target, struct vmctl_spec,
					       cdrom);

	/* (quoted too: JSON has no other kind; a file named so is
	 * ./empty) */
	if (n->kind == NODE_SCALAR && strcmp(n->text, "empty") == 0) {
		free(spec->cdrom);
		spec->cdrom = NULL;
		spec->cdrom_drive = true;
		return 0;
	}
	if (set_path(w, n, path, target) < 0)
		return -1;
	spec->cdrom_drive = true;
	return 0;
}

static int set_boot(struct walker *w, const struct node *n,
		    const char *path, void *target)
{
	static const char *const names[] = { "disk", "cdrom-once", NULL };
	int v;

	if (get_enum(w, n, path, names, &v) < 0)
		return -1;
	*(enum spec_boot *)target = v == 1 ? SPEC_BOOT_CDROM_ONCE
					   : SPEC_BOOT_DISK;
	w->at_boot = n;
	return 0;
}

static int check_boot(struct walker *w, const struct vmctl_spec *spec)
{
	if (spec->boot != SPEC_BOOT_CDROM_ONCE)
		return 0;
	if (!spec->cdrom_drive)
		return fail(w, w->at_boot, "boot", "cdrom-once needs a CD-ROM "
			    "drive (cdrom: PATH, or cdrom: empty)");
	if (spec->disk.image == NULL)
		return fail(w, w->at_boot, "boot", "cdrom-once boots the disk "
			    "after the CD-ROM, and there is no disk (add "
			    "disk.image)");
	if (spec->kernel.image != NULL)
		return fail(w, w->at_boot, "boot", "a kernel boots directly, "
			    "without the firmware's boot order (drop kernel "
			    "or boot)");
	return 0;
}

static const struct key spec_keys[] = {
	KEY("name", set_name, struct vmctl_spec, name),
	KEY("backend", set_backend, struct vmctl_spec, backend),
	KEY("connect", set_connect, struct vmctl_spec, connect),
	KEY("cpus", set_cpus, struct vmctl_spec, cpus),
	KEY("memory", set_memory, struct vmctl_spec, memory),
	KEY("machine", set_machine, struct vmctl_spec, machine),
	KEY("accel", set_accel, struct vmctl_spec, accel),
	KEY("firmware", set_firmware, struct vmctl_spec, firmware),
	KEY("disk", set_disk, struct vmctl_spec, disk),
	KEY("cdrom", set_cdrom, struct vmctl_spec, cdrom),
	KEY("boot", set_boot, struct vmctl_spec, boot),
	KEY("kernel", set_kernel, struct vmctl_spec, kernel),
	KEY("cloud_init", set_cloud_init, struct vmctl_spec, cloud_init),
	KEY("network", set_network, struct vmctl_spec, network),
	KEY("vnc", set_vnc, struct vmctl_spec, vnc),
	KEY("gpu", set_gpu, struct vmctl_spec, gpus),
	KEY("usb", set_usb, struct vmctl_spec, usb),
	KEY("hide_hypervisor", set_bool, struct vmctl_spec, hide_hypervisor),
	KEY("hyperv", set_bool, struct vmctl_spec, hyperv),
	KEY("tpm", set_bool, struct vmctl_spec, tpm),
	KEY("overcommit", set_overcommit, struct vmctl_spec, overcommit),
	KEY("qemu", set_qemu, struct vmctl_spec, qemu),
	{ NULL, NULL, 0 },
};

/* ---- defaults and cross-key checks ---------------------------------- */

static void spec_set_defaults(struct vmctl_spec *spec)
{
	spec->cpus.sockets = 1;
	spec->cpus.cores = 2;
	spec->cpus.threads = 1;
	spec->memory = 2ULL << 30;
	spec->mem_merge = true;
	spec->machine = xstrdup("q35");
	spec->accel = SPEC_ACCEL_AUTO;
	spec->firmware = SPEC_FIRMWARE_DEFAULT;
	spec->cloud_init.user = xstrdup("vmadmin");
	spec->network.ssh_listen = xstrdup("0.0.0.0");
	spec->vnc.enabled = true;
	spec->vnc.listen = xstrdup("0.0.0.0");
	spec->vnc.display = -1;
	spec->vnc.password = true;
	spec->qemu.binary = xstrdup("qemu-system-x86_64");
}

static int check_spec(struct walker *w, struct vmctl_spec *spec)
{
	const struct node *root = w->root;

	if (spec->name == NULL)
		return fail(w, root, "", "missing key \"name\"");
	if (spec->connect != NULL) {
		if (w->at_backend != NULL &&
		    spec->backend != SPEC_BACKEND_LIBVIRT)
			return fail(w, w->at_connect, "connect", "a libvirt "
				    "host, but backend is direct (drop one)");
		spec->backend = SPEC_BACKEND_LIBVIRT;
	}
	if (spec->n_gpus > 0 && !spec_machine_is_q35(spec->machine))
		return fail(w, w->at_machine ? w->at_machine : w->at_gpu,
			    "machine", "GPU passthrough needs a q35 machine "
			    "(PCIe root ports), not \"%s\"", spec->machine);
	/* Secure Boot's variable store is guarded by SMM, which only q35
	 * has. */
	if (spec->firmware == SPEC_FIRMWARE_UEFI_SECURE &&
	    !spec_machine_is_q35(spec->machine))
		return fail(w, w->at_machine ? w->at_machine : w->at_firmware,
			    "machine", "firmware uefi-secure needs a q35 "
			    "machine (SMM), not \"%s\"", spec->machine);
	if (spec->n_gpus > 0 && spec->overcommit)
		return fail(w, w->at_overcommit, "overcommit",
			    "a VM with a passed-through GPU cannot be "
			    "overcommitted: VFIO pins all its memory");
	if (spec->hugepages != SPEC_HUGE_NONE && spec->overcommit)
		return fail(w, w->at_overcommit, "overcommit",
			    "hugepages are reserved for the VM before it "
			    "starts: there is nothing to overcommit (drop "
			    "overcommit or set memory.hugepages: none)");
	if (spec->n_gpus > 0 && w->at_balloon != NULL && spec->balloon)
		return fail(w, w->at_balloon, "memory.balloon",
			    "a passed-through GPU's memory is pinned by VFIO: "
			    "a balloon cannot take any of it back (drop "
			    "memory.balloon)");
	if (spec->hugepages != SPEC_HUGE_NONE && w->at_balloon != NULL &&
	    spec->balloon)
		return fail(w, w->at_balloon, "memory.balloon",
			    "hugepages stay reserved for the VM: a balloon "
			    "would give them back to the hugepage pool, not "
			    "to the host (drop memory.balloon)");
	if (w->at_balloon == NULL)
		spec->balloon = spec->n_gpus == 0 &&
				spec->hugepages == SPEC_HUGE_NONE;
	if (w->at_pin == NULL)
		spec->cpus.pin = spec->n_gpus > 0 ? SPEC_PIN_AUTO
						  : SPEC_PIN_NONE;
	/* Every guest reaches the host's loopback through user networking
	 * (10.0.2.2), so no TCP address is safe without a password. */
	if (spec->vnc.enabled && !spec->vnc.password &&
	    (w->at_vnc_listen != NULL || w->at_vnc_display != NULL))
		return fail(w, w->at_vnc_listen ? w->at_vnc_listen
						: w->at_vnc_display,
			    w->at_vnc_listen ? "vnc.listen" : "vnc.display",
			    "VNC without a password is served on a UNIX socket "
			    "in the VM's directory, never on TCP (guests reach "
			    "the host's loopback); drop vnc.%s or set "
			    "vnc.password: true",
			    w->at_vnc_listen ? "listen" : "display");
	if (spec->vnc.enabled && spec->vnc.display >= 0) {
		unsigned vnc_port = 5900 + (unsigned)spec->vnc.display;

		if (spec->network.ssh_port == vnc_port)
			return fail(w, w->at_ssh_port, "network.ssh_port",
				    "port %u is also VNC display %d's port",
				    vnc_port, spec->vnc.display);
		for (size_t i = 0; i < spec->network.n_forwards; i++)
			if (spec->network.forwards[i].host_port == vnc_port &&
			    strcmp(spec->network.forwards[i].proto, "tcp") == 0)
				return fail(w, w->at_forwards,
					    "network.forwards",
					    "forward of tcp port %u collides "
					    "with VNC display %d", vnc_port,
					    spec->vnc.display);
	}
	for (size_t i = 0; i < spec->network.n_forwards; i++)
		if (spec->network.ssh_port != 0 &&
		    spec->network.forwards[i].host_port ==
			    spec->network.ssh_port &&
		    strcmp(spec->network.forwards[i].proto, "tcp") == 0)
			return fail(w, w->at_ssh_port, "network.ssh_port",
				    "port %u is also used by "
				    "network.forwards[%zu]",
				    spec->network.ssh_port, i);
	/* A VM with a disk image is a cloud image unless an installer ISO is
	 * attached; only then is cloud-init on without being asked for. */
	if (!w->cloud_init_given)
		spec->cloud_init.enabled = spec->disk.image != NULL &&
					   spec->cdrom == NULL;
	if (spec->firmware == SPEC_FIRMWARE_DEFAULT)
		spec->firmware = spec->n_gpus > 0 ? SPEC_FIRMWARE_UEFI
						  : SPEC_FIRMWARE_BIOS;
	return check_boot(w, spec);
}

int spec_schema_read(const char *file, const char *base_dir,
		     const struct node *root, struct vmctl_spec **out,
		     struct vmctl_error **err)
{
	struct walker w = {
		.file = file, .base_dir = base_dir, .err = err, .root = root,
	};
	struct vmctl_spec *spec;

	if (root->kind == NODE_SCALAR && node_is_null(root))
		return vmctl_error_at(err, file, root->line, root->col, NULL,
				      "the spec is empty (expected a mapping "
				      "with at least \"name\")");
	if (root->kind != NODE_MAP)
		return vmctl_error_at(err, file, root->line, root->col, NULL,
				      "a spec must be a mapping of keys, got "
				      "%s", node_kind_name(root));
	if (check_texts(&w, root, "") < 0)
		return -1;
	spec = xcalloc(1, sizeof(*spec));
	spec_set_defaults(spec);
	if (walk_map(&w, root, "", spec_keys, spec) < 0 ||
	    check_spec(&w, spec) < 0) {
		spec_free(spec);
		return -1;
	}
	*out = spec;
	return 0;
}

/* ---- the key list (vmctl-spec(5), tests) ------------------------------ */

/* Which table a key's parser walks, if any: it is handed an empty mapping,
 * then a list holding one, and walk_map() reports instead of walking. */
static const struct key *probe_table(const struct key *k, void *target)
{
	struct vmctl_error *e = NULL;
	struct node map = { .kind = NODE_MAP };
	struct node *item = &map;
	struct node seq = { .kind = NODE_SEQ, .items = &item, .n = 1 };
	struct walker w = { .file = "", .err = &e, .root = &map,
			    .probing = true };

	if (k->parse(&w, &map, k->name, target) < 0 && w.probed == NULL) {
		vmctl_error_free(e);
		e = NULL;
		k->parse(&w, &seq, k->name, target);
	}
	vmctl_error_free(e);
	return w.probed;
}

static void list_keys(const struct key *keys, const char *prefix, int depth,
		      void *base, spec_schema_key_fn *fn, void *ctx)
{
	for (const struct key *k = keys; k->name; k++) {
		void *target = (char *)base + k->offset;
		const struct key *sub = probe_table(k, target);
		cleanup_free char *path = child_path(prefix, k->name);

		fn(ctx, path, k->name, depth, sub != NULL);
		if (sub != NULL)
			list_keys(sub, path, depth + 1, target, fn, ctx);
	}
}

void spec_schema_keys(spec_schema_key_fn *fn, void *ctx)
{
	struct vmctl_spec *spec = xcalloc(1, sizeof(*spec));

	spec_set_defaults(spec);
	list_keys(spec_keys, "", 0, spec, fn, ctx);
	spec_free(spec);
}
