/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_SPEC_WALK_H
#define VMCTL_SPEC_WALK_H

/*
 * Inside the spec schema (not for other modules): the walker that
 * spec-schema.c drives over a struct node tree, its key tables, and the
 * parsers of each group of keys.
 *
 *   spec-walk.c            diagnostics, scalars, mappings, generic values
 *   spec-keys-machine.c    name, backend, machine, accel, firmware, memory,
 *                          cpus (and pinning), overcommit, qemu
 *   spec-keys-storage.c    disk, kernel, cloud_init, cdrom, boot
 *   spec-keys-devices.c    network, vnc, gpu, usb
 *
 * A parser takes the node, its key path (for messages) and where to store
 * the value; it returns 0, or -1 with *w->err set by sw_fail().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmctl/node.h"
#include "vmctl/spec.h"

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
	/* spec_schema_keys(): sw_walk_map() only reports its table here. */
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

#define KEY(name, fn, type, field) { name, fn, offsetof(type, field) }
#define container_of(p, type, field) \
	((type *)(void *)((char *)(p) - offsetof(type, field)))

/* ---- spec-walk.c: the walker ---- */

int sw_fail(struct walker *w, const struct node *n, const char *path,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
char *sw_shown(const char *s);
char *sw_child_path(const char *path, const char *key);
int sw_want_scalar(struct walker *w, const struct node *n,
		       const char *path, const char *what);
int sw_get_string(struct walker *w, const struct node *n,
		      const char *path, const char **out);
int sw_get_bool(struct walker *w, const struct node *n, const char *path,
		    bool *out);
bool sw_is_bool_literal(const struct node *n);
int sw_get_uint(struct walker *w, const struct node *n, const char *path,
		    unsigned long min, unsigned long max, unsigned long *out);
bool sw_is_hex(const char *s, size_t len);
char *sw_lowercase(const char *s);
int sw_get_enum(struct walker *w, const struct node *n, const char *path,
		    const char *const *names, int *out);
int sw_check_texts(struct walker *w, const struct node *n,
		       const char *path);
int sw_walk_map(struct walker *w, const struct node *n, const char *path,
		    const struct key *keys, void *base);
int sw_set_string(struct walker *w, const struct node *n,
		      const char *path, void *target);
int sw_set_path(struct walker *w, const struct node *n, const char *path,
		    void *target);
int sw_set_path_or_url(struct walker *w, const struct node *n,
			   const char *path, void *target);
int sw_set_url(struct walker *w, const struct node *n, const char *path,
		   void *target);
int sw_set_bool(struct walker *w, const struct node *n, const char *path,
		    void *target);
int sw_set_size(struct walker *w, const struct node *n, const char *path,
		    uint64_t min, uint64_t *out);

/* ---- spec-keys-machine.c ---- */

int sk_set_name(struct walker *w, const struct node *n, const char *path,
		    void *target);
int sk_set_machine(struct walker *w, const struct node *n,
		       const char *path, void *target);
int sk_set_memory(struct walker *w, const struct node *n,
		      const char *path, void *target);
int sk_set_accel(struct walker *w, const struct node *n, const char *path,
		     void *target);
int sk_set_backend(struct walker *w, const struct node *n,
		       const char *path, void *target);
int sk_set_connect(struct walker *w, const struct node *n,
		       const char *path, void *target);
int sk_set_firmware(struct walker *w, const struct node *n,
			const char *path, void *target);
int sk_set_cpus(struct walker *w, const struct node *n, const char *path,
		    void *target);
int sk_set_qemu(struct walker *w, const struct node *n, const char *path,
		    void *target);
int sk_set_overcommit(struct walker *w, const struct node *n,
			  const char *path, void *target);

/* ---- spec-keys-storage.c ---- */

int sk_set_disk(struct walker *w, const struct node *n, const char *path,
		    void *target);
int sk_set_kernel(struct walker *w, const struct node *n,
		      const char *path, void *target);
int sk_set_strv(struct walker *w, const struct node *n, const char *path,
		    void *target);
int sk_set_cloud_init(struct walker *w, const struct node *n,
			  const char *path, void *target);
int sk_set_cdrom(struct walker *w, const struct node *n,
		     const char *path, void *target);
int sk_set_boot(struct walker *w, const struct node *n,
		    const char *path, void *target);
int sk_check_boot(struct walker *w, const struct vmctl_spec *spec);

/* ---- spec-keys-devices.c ---- */

int sk_set_network(struct walker *w, const struct node *n,
		       const char *path, void *target);
int sk_set_vnc(struct walker *w, const struct node *n, const char *path,
		   void *target);
int sk_set_gpu(struct walker *w, const struct node *n, const char *path,
		   void *target);
int sk_set_usb(struct walker *w, const struct node *n, const char *path,
		   void *target);

#endif
