// SPDX-License-Identifier: GPL-2.0-or-later
/* The spec's cdrom (a path, or empty: a drive without a medium) and
 * boot (disk, cdrom-once): parsing, refusals, written back. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/spec.h"
#include "vmctl/xalloc.h"

static struct vmctl_spec *load(const char *text, enum spec_syntax syntax,
			       char **errmsg)
{
	struct vmctl_spec *spec = NULL;
	struct vmctl_error *err = NULL;

	*errmsg = NULL;
	if (spec_load_buffer("t", text, strlen(text), syntax, &spec, &err) < 0) {
		*errmsg = strdup(err->message);
		vmctl_error_free(err);
	}
	return spec;
}

static char *written(const struct vmctl_spec *spec)
{
	cJSON *j = spec_to_json(spec);
	char *text = cJSON_PrintUnformatted(j);

	cJSON_Delete(j);
	return text;
}

static void test_cdrom(void)
{
	char *e = NULL, *text = NULL;
	struct vmctl_spec *s;

	s = load("name: a\n", SPEC_SYNTAX_YAML, &e);
	ok(s != NULL && !s->cdrom_drive && s->cdrom == NULL &&
	   s->boot == SPEC_BOOT_DISK, "no cdrom: no drive, boot disk");
	text = s ? written(s) : NULL;
	ok(text && !strstr(text, "\"cdrom\"") &&
	   strstr(text, "\"boot\":\"disk\""), "written: %s", text ? text : "-");
	free(text);
	spec_free(s);

	s = load("name: a\ncdrom: /isos/x.iso\n", SPEC_SYNTAX_YAML, &e);
	ok(s && s->cdrom_drive && s->cdrom && !strcmp(s->cdrom, "/isos/x.iso"),
	   "cdrom: PATH: a drive with that medium");
	spec_free(s);

	s = load("name: a\ndisk: {image: /b.qcow2}\ncdrom: empty\n",
		 SPEC_SYNTAX_YAML, &e);
	ok(s && s->cdrom_drive && s->cdrom == NULL, "cdrom: empty: a drive, "
	   "no medium");
	ok(s && s->cloud_init.enabled, "an empty drive is no installer: "
	   "cloud-init stays on");
	text = s ? written(s) : NULL;
	ok(text && strstr(text, "\"cdrom\":\"empty\""), "written: %s", text ? text : "-");
	spec_free(s);
	/* spec.json reads back to the same drive */
	s = text ? load(text, SPEC_SYNTAX_JSON, &e) : NULL;
	ok(s && s->cdrom_drive && s->cdrom == NULL, "\"cdrom\": \"empty\" in "
	   "JSON: the empty drive again%s%s", e ? ": " : "", e ? e : "");
	spec_free(s);
	free(text);
	free(e);
}

static void test_boot(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "name: a\ndisk: {image: /b}\nboot: cdrom-once\n",
		  "t:3:7: boot: cdrom-once needs a CD-ROM drive (cdrom: PATH, "
		  "or cdrom: empty)" },
		{ "name: a\ncdrom: /x.iso\nboot: cdrom-once\n",
		  "t:3:7: boot: cdrom-once boots the disk after the CD-ROM, and "
		  "there is no disk (add disk.image)" },
		{ "name: a\ndisk: {image: /b}\ncdrom: empty\nkernel: /k\n"
		  "boot: cdrom-once\n",
		  "t:5:7: boot: a kernel boots directly, without the firmware's "
		  "boot order (drop kernel or boot)" },
		{ "name: a\nboot: cdrom\n",
		  "t:2:7: boot: unknown value \"cdrom\" (expected one of: "
		  "disk, cdrom-once)" },
		{ "name: a\nboot: cdrom-onse\n",
		  "t:2:7: boot: unknown value \"cdrom-onse\" (did you mean "
		  "\"cdrom-once\"?)" },
	};
	char *e = NULL, *text = NULL;
	struct vmctl_spec *s;

	s = load("name: a\ndisk: {image: /b}\ncdrom: /x.iso\n"
		 "boot: cdrom-once\n", SPEC_SYNTAX_YAML, &e);
	ok(s && s->boot == SPEC_BOOT_CDROM_ONCE, "boot: cdrom-once%s%s",
	   e ? ": " : "", e ? e : "");
	text = s ? written(s) : NULL;
	ok(text && strstr(text, "\"boot\":\"cdrom-once\""), "written: %s",
	   text ? text : "-");
	spec_free(s);
	s = text ? load(text, SPEC_SYNTAX_JSON, &e) : NULL;
	ok(s && s->boot == SPEC_BOOT_CDROM_ONCE, "read back");
	spec_free(s);
	free(text);
	free(e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = load(bad[i].text, SPEC_SYNTAX_YAML, &e);
		ok(s == NULL, "refused %zu", i);
		is_str(e, bad[i].want, "refused %zu: the message", i);
		spec_free(s);
		free(e);
	}
}

int main(void)
{
	test_cdrom();
	test_boot();
	return tap_done();
}
