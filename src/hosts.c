// SPDX-License-Identifier: GPL-2.0-or-later
/* The hosts file: names for libvirt URIs (hosts.h).  Pure but for
 * hosts_load_file(). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/fsutil.h"
#include "vmctl/hosts.h"
#include "vmctl/node.h"
#include "vmctl/suggest.h"
#include "vmctl/xalloc.h"

/* A hosts file is a few lines; this only bounds what a mistake costs. */
#define HOSTS_MAX_BYTES (1u << 20)

static bool name_valid(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

static int parse_hosts_map(const char *file, const struct node *map,
			   struct hosts *out, struct vmctl_error **err)
{
	if (map->kind != NODE_MAP)
		return vmctl_error_at(err, file, map->line, map->col, "hosts",
				      "expected a mapping of names to URIs, "
				      "got a %s", node_kind_name(map));
	out->v = xcalloc(map->n ? map->n : 1, sizeof(*out->v));
	for (size_t i = 0; i < map->n; i++) {
		const struct node *k = map->keys[i], *v = map->items[i];

		if (!name_valid(k->text))
			return vmctl_error_at(err, file, k->line, k->col,
					      "hosts", "\"%s\": a host name is "
					      "letters, digits, '.', '_' and "
					      "'-' (at most 64)", k->text);
		if (hosts_lookup(out, k->text) != NULL)
			return vmctl_error_at(err, file, k->line, k->col,
					      "hosts", "%s: named twice",
					      k->text);
		if (v->kind != NODE_SCALAR || node_is_null(v))
			return vmctl_error_at(err, file, v->line, v->col,
					      "hosts", "%s: expected a URI "
					      "string, got %s", k->text,
					      v->kind == NODE_SCALAR ? "null"
					      : node_kind_name(v));
		if (strchr(v->text, ':') == NULL)
			return vmctl_error_at(err, file, v->line, v->col,
					      "hosts", "%s: \"%s\" is no URI "
					      "(qemu+ssh://HOST/system)",
					      k->text, v->text);
		out->v[out->n++] = (struct hosts_entry){
			.name = xstrdup(k->text), .uri = xstrdup(v->text) };
	}
	return 0;
}

int hosts_parse(const char *file, const char *buf, size_t len,
		struct hosts *out, struct vmctl_error **err)
{
	static const char *const top[] = { "hosts", NULL };
	struct node *root = NULL;
	int ret = 0;

	*out = (struct hosts){ 0 };
	if (memchr(buf, '\0', len) != NULL)
		return vmctl_error_at(err, file, 1, 1, NULL, "NUL byte in the "
				      "hosts file");
	if (node_yaml_parse(file, buf, len, &root, err) < 0)
		return -1;
	if (root == NULL || node_is_null(root))
		goto out;
	if (root->kind != NODE_MAP) {
		ret = vmctl_error_at(err, file, root->line, root->col, NULL,
				     "expected a mapping with the key "
				     "\"hosts\", got a %s",
				     node_kind_name(root));
		goto out;
	}
	for (size_t i = 0; i < root->n && ret == 0; i++) {
		const struct node *k = root->keys[i];
		const char *hint;

		if (strcmp(k->text, "hosts") != 0) {
			hint = suggest_closest(k->text, top);
			ret = vmctl_error_at(err, file, k->line, k->col,
					     k->text, "unknown key%s%s%s",
					     hint ? " (did you mean \"" : "",
					     hint ? hint : "", hint ? "\"?)" : "");
		} else if (!node_is_null(root->items[i])) {
			ret = parse_hosts_map(file, root->items[i], out, err);
		}
	}
out:
	node_free(root);
	if (ret < 0)
		hosts_clear(out);
	return ret;
}

int hosts_load_file(const char *file, struct hosts *out, int *missing,
		    struct vmctl_error **err)
{
	cleanup_free char *buf = NULL;
	size_t len;

	*out = (struct hosts){ 0 };
	*missing = 0;
	if (fs_read_file(file, HOSTS_MAX_BYTES, &buf, &len,
			 VMCTL_EXIT_NOINPUT, err) < 0) {
		if ((*err)->errnum != ENOENT)
			return vmctl_error_wrap(err, "hosts file");
		vmctl_error_free(*err);
		*err = NULL;
		*missing = 1;
		return 0;
	}
	return hosts_parse(file, buf, len, out, err);
}

void hosts_clear(struct hosts *hosts)
{
	for (size_t i = 0; i < hosts->n; i++) {
		free(hosts->v[i].name);
		free(hosts->v[i].uri);
	}
	free(hosts->v);
	*hosts = (struct hosts){ 0 };
}

const char *hosts_lookup(const struct hosts *hosts, const char *name)
{
	for (size_t i = 0; i < hosts->n; i++)
		if (strcmp(hosts->v[i].name, name) == 0)
			return hosts->v[i].uri;
	return NULL;
}

int hosts_resolve(const struct hosts *hosts, const char *file,
		  const char *what, char **uri, struct vmctl_error **err)
{
	const char *found;
	const char **names;
	const char *hint;
	int ret;

	*uri = NULL;
	if (strchr(what, ':') != NULL) {
		*uri = xstrdup(what);
		return 0;
	}
	found = hosts_lookup(hosts, what);
	if (found != NULL) {
		*uri = xstrdup(found);
		return 0;
	}
	names = xcalloc(hosts->n + 1, sizeof(*names));
	for (size_t i = 0; i < hosts->n; i++)
		names[i] = hosts->v[i].name;
	hint = suggest_closest(what, names);
	ret = vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "--connect %s: no "
			      "such host in %s%s%s%s (a libvirt URI holds "
			      "':', e.g. qemu+ssh://%s/system)", what, file,
			      hint ? " (did you mean \"" : "",
			      hint ? hint : "", hint ? "\"?)" : "", what);
	free(names);
	return ret;
}

int hosts_resolve_env(const struct vmctl_env *env, char **uri,
		      struct vmctl_error **err)
{
	struct hosts hosts = { 0 };
	int missing, ret;

	if (strchr(env->connect, ':') == NULL &&
	    hosts_load_file(env->hosts_file, &hosts, &missing, err) < 0)
		return -1;
	ret = hosts_resolve(&hosts, env->hosts_file, env->connect, uri, err);
	hosts_clear(&hosts);
	return ret;
}
