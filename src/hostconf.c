// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Host-wide settings (include/vmctl/hostconf.h): STATE_DIR/host.json under
 * the VMCTL_HOST_RESERVE override.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "vmctl/broker.h"
#include "vmctl/fsutil.h"
#include "vmctl/hostconf.h"
#include "vmctl/spec.h"
#include "vmctl/state.h"
#include "vmctl/xalloc.h"

#define HOSTCONF_MAX (1u << 20)

int hostconf_reserve_parse(const char *s, struct hostconf_reserve *out)
{
	size_t digits = strspn(s, "0123456789");
	uint64_t v;

	if (strcmp(s, "default") == 0) {
		*out = (struct hostconf_reserve){ HOSTCONF_RESERVE_DEFAULT, 0 };
		return 0;
	}
	if (digits > 0 && digits <= 3 && strcmp(s + digits, "%") == 0) {
		v = strtoull(s, NULL, 10);
		if (v > HOSTCONF_RESERVE_PERCENT_MAX)
			return -1;
		*out = (struct hostconf_reserve){ HOSTCONF_RESERVE_PERCENT, v };
		return 0;
	}
	if (spec_parse_size(s, &v) < 0)
		return -1;
	*out = (struct hostconf_reserve){ HOSTCONF_RESERVE_BYTES, v };
	return 0;
}

char *hostconf_reserve_format(const struct hostconf_reserve *r)
{
	static const char units[] = "TGMK";

	if (r->kind == HOSTCONF_RESERVE_DEFAULT)
		return xstrdup("default");
	if (r->kind == HOSTCONF_RESERVE_PERCENT)
		return xasprintf("%" PRIu64 "%%", r->value);
	if (r->value == 0)
		return xstrdup("0G");
	/* The largest unit that keeps it whole. */
	for (int i = 0; i < 3; i++) {
		unsigned shift = 10 * (unsigned)(4 - i);

		if (r->value % (UINT64_C(1) << shift) == 0)
			return xasprintf("%" PRIu64 "%c", r->value >> shift,
					 units[i]);
	}
	return xasprintf("%" PRIu64 "K", r->value >> 10);
}

const char *hostconf_source_name(enum hostconf_source from)
{
	switch (from) {
	case HOSTCONF_FROM_FILE:
		return "file";
	case HOSTCONF_FROM_ENV:
		return "env";
	default:
		return "default";
	}
}

uint64_t hostconf_reserve(const struct hostconf *c, uint64_t host_total)
{
	const struct hostconf_reserve *r = &c->reserve;
	uint64_t v, pct;

	switch (r->kind) {
	case HOSTCONF_RESERVE_BYTES:
		v = r->value;
		break;
	case HOSTCONF_RESERVE_PERCENT:
		/* total * pct / 100 without overflowing */
		pct = r->value < 100 ? r->value : 100;
		v = host_total / 100 * pct + host_total % 100 * pct / 100;
		break;
	default:
		return broker_reserve_default(host_total);
	}
	return v < host_total ? v : host_total;
}

int hostconf_parse(const char *text, size_t len, const char *path,
		   struct hostconf *out, struct vmctl_error **err)
{
	cJSON *o = cJSON_ParseWithLength(text, len);
	const cJSON *r;
	struct hostconf c = { 0 };
	int ret = 0;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s: not a JSON object", path);
	}
	r = cJSON_GetObjectItemCaseSensitive(o, "reserve");
	if (r != NULL) {
		if (!cJSON_IsString(r) ||
		    hostconf_reserve_parse(r->valuestring, &c.reserve) < 0) {
			cleanup_free char *v = cJSON_PrintUnformatted(r);

			ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					      "%s: reserve: %s is not %s",
					      path, v, HOSTCONF_RESERVE_SYNTAX);
		} else {
			c.reserve_from = HOSTCONF_FROM_FILE;
		}
	}
	cJSON_Delete(o);
	if (ret == 0)
		*out = c;
	return ret;
}

char *hostconf_path(const struct vmctl_env *env)
{
	return xasprintf("%s/" HOSTCONF_FILE, env->state_dir);
}

/* host.json's text, or NULL (and 0) when there is none. */
static int read_text(const char *path, char **text, size_t *len,
		     struct vmctl_error **err)
{
	*text = NULL;
	if (fs_read_file(path, HOSTCONF_MAX, text, len, VMCTL_EXIT_FAILURE,
			 err) == 0)
		return 0;
	if ((*err)->errnum != ENOENT)
		return -1;
	vmctl_error_free(*err);
	*err = NULL;
	return 0;
}

int hostconf_read(const struct vmctl_env *env, struct hostconf *out,
		  struct vmctl_error **err)
{
	cleanup_free char *path = hostconf_path(env);
	cleanup_free char *text = NULL;
	struct hostconf c = { 0 };
	size_t len;

	if (read_text(path, &text, &len, err) < 0 ||
	    (text != NULL && hostconf_parse(text, len, path, &c, err) < 0))
		return -1;
	if (env->host_reserve != NULL) {
		if (hostconf_reserve_parse(env->host_reserve,
					   &c.reserve) < 0)
			return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
					       "VMCTL_HOST_RESERVE=%s: want %s",
					       env->host_reserve,
					       HOSTCONF_RESERVE_SYNTAX);
		c.reserve_from = HOSTCONF_FROM_ENV;
	}
	*out = c;
	return 0;
}

int hostconf_write_reserve(const struct vmctl_env *env,
			   const struct hostconf_reserve *r,
			   struct vmctl_error **err)
{
	cleanup_free char *path = hostconf_path(env);
	cleanup_free char *text = NULL, *value = NULL, *printed = NULL;
	cleanup_free char *out = NULL;
	cleanup_close int lock = state_lock_global(env, err);
	cJSON *o = NULL;
	size_t len;

	if (lock < 0 || read_text(path, &text, &len, err) < 0)
		return -1;
	o = text ? cJSON_ParseWithLength(text, len) : cJSON_CreateObject();
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s: not a JSON object (fix or remove "
				       "it)", path);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(o, "reserve");
	if (r->kind != HOSTCONF_RESERVE_DEFAULT) {
		value = hostconf_reserve_format(r);
		cJSON_AddStringToObject(o, "reserve", value);
	}
	printed = cJSON_Print(o);
	cJSON_Delete(o);
	out = xasprintf("%s\n", printed);
	return fs_write_atomic(env->state_dir, HOSTCONF_FILE, out, strlen(out),
			       0644, err);
}
