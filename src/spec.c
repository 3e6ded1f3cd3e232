// SPDX-License-Identifier: GPL-2.0-or-later
/* Loading specs: pick the syntax, parse to a node tree, read the schema. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmctl/fsutil.h"
#include "vmctl/node.h"
#include "vmctl/spec-schema.h"
#include "vmctl/spec.h"
#include "vmctl/xalloc.h"

/* A spec is a few KiB; this only bounds what a mistake can cost. */
#define SPEC_MAX_BYTES (64u << 20)

static bool has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static enum spec_syntax detect_syntax(const char *file, const char *buf,
				      size_t len)
{
	if (has_suffix(file, ".json"))
		return SPEC_SYNTAX_JSON;
	if (has_suffix(file, ".yaml") || has_suffix(file, ".yml"))
		return SPEC_SYNTAX_YAML;
	/* By content: JSON documents are objects, and a YAML spec cannot
	 * start with '{' unless it is written in flow style, which JSON
	 * parses the same way anyway. */
	for (size_t i = 0; i < len; i++) {
		if (isspace((unsigned char)buf[i]))
			continue;
		return buf[i] == '{' ? SPEC_SYNTAX_JSON : SPEC_SYNTAX_YAML;
	}
	return SPEC_SYNTAX_YAML;
}

/* Offset of the first byte that is not valid UTF-8 or is a control
 * character other than tab, CR and LF; len when there is none. */
static size_t utf8_invalid_at(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
			    c == 0x7f)
				return i;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return i;
		i += n + 1;
	}
	return len;
}

static int load(const char *file, const char *base_dir, const char *buf,
		size_t len, enum spec_syntax syntax, struct vmctl_spec **out,
		struct vmctl_error **err)
{
	struct node *root = NULL;
	const char *nul = memchr(buf, '\0', len);
	int ret;
	size_t bad;
	unsigned cp;

	if (nul != NULL) {
		unsigned line, col;

		node_position(buf, (size_t)(nul - buf), &line, &col);
		return vmctl_error_at(err, file, line, col, NULL,
				      "NUL byte in the spec (is this a "
				      "binary file?)");
	}
	/* Both syntaxes are UTF-8 text; say so the same way for both. */
	bad = utf8_invalid_at(buf, len);
	if (bad < len) {
		unsigned line, col;

		node_position(buf, bad, &line, &col);
		return vmctl_error_at(err, file, line, col, NULL,
				      (unsigned char)buf[bad] < 0x80
				      ? "control character in the spec"
				      : "invalid UTF-8 in the spec");
	}
	if (syntax == SPEC_SYNTAX_AUTO)
		syntax = detect_syntax(file, buf, len);
	/* libyaml would refuse these with a vaguer message, or (U+0085)
	 * read a line break; in JSON the schema names the key holding one. */
	if (syntax == SPEC_SYNTAX_YAML &&
	    (bad = node_refused_at(buf, len, &cp)) < len) {
		cleanup_free char *name = node_refused_name(cp);
		unsigned line, col;

		node_position(buf, bad, &line, &col);
		return vmctl_error_at(err, file, line, col, NULL,
				      "%s in the spec", name);
	}
	if (syntax == SPEC_SYNTAX_JSON) {
		/* cJSON does not skip a byte order mark; libyaml does. */
		if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
			buf += 3;
			len -= 3;
		}
		ret = node_json_parse(file, buf, len, &root, err);
	} else {
		ret = node_yaml_parse(file, buf, len, &root, err);
	}
	if (ret < 0)
		return -1;
	ret = spec_schema_read(file, base_dir, root, out, err);
	node_free(root);
	return ret;
}

int spec_load_buffer(const char *file, const char *buf, size_t len,
		     enum spec_syntax syntax, struct vmctl_spec **out,
		     struct vmctl_error **err)
{
	return load(file, NULL, buf, len, syntax, out, err);
}

int spec_load_file(const char *path, struct vmctl_spec **out,
		   struct vmctl_error **err)
{
	cleanup_free char *buf = NULL, *dir = NULL;
	size_t len;

	if (fs_read_file(path, SPEC_MAX_BYTES, &buf, &len, VMCTL_EXIT_NOINPUT,
			 err) < 0)
		return vmctl_error_wrap(err, "cannot read spec");
	dir = fs_abs_dirname(path);
	return load(path, dir, buf, len, SPEC_SYNTAX_AUTO, out, err);
}

/* Where a mirror may be: https (the checksum list must come over it, as
 * from the origin) or a local directory; no query or fragment, which
 * would end up in the middle of each URL. */
static bool mirror_valid(const char *m, size_t len)
{
	size_t scheme = strncmp(m, "https://", 8) == 0	 ? 8
			: strncmp(m, "file:///", 8) == 0 ? 7
							 : 0;

	if (scheme == 0 || len <= scheme)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)m[i] <= ' ' || m[i] == 0x7f || m[i] == '?' ||
		    m[i] == '#')
			return false;
	return true;
}

static void mirror_url(char **url, const char *mirror, size_t len)
{
	const size_t olen = strlen(SPEC_IMAGE_ORIGIN);
	char *moved;

	if (*url == NULL || strncmp(*url, SPEC_IMAGE_ORIGIN, olen) != 0 ||
	    ((*url)[olen] != '/' && (*url)[olen] != '\0'))
		return;
	moved = xasprintf("%.*s%s", (int)len, mirror, *url + olen);
	free(*url);
	*url = moved;
}

int spec_disk_mirror(struct spec_disk *disk, const char *mirror,
		     struct vmctl_error **err)
{
	size_t len;

	if (mirror == NULL || *mirror == '\0')
		return 0;
	len = strlen(mirror);
	while (len > 0 && mirror[len - 1] == '/')
		len--;
	if (!mirror_valid(mirror, len)) {
		cleanup_free char *shown = xstrdup(mirror);

		for (char *p = shown; *p; p++)   /* one line, whatever it is */
			if ((unsigned char)*p < ' ' || *p == 0x7f)
				*p = '?';
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				       "VMCTL_IMAGE_MIRROR: expected an "
				       "https:// or file:/// URL standing for "
				       "%s, got \"%s\"", SPEC_IMAGE_ORIGIN,
				       shown);
	}
	mirror_url(&disk->image, mirror, len);
	mirror_url(&disk->checksum_url, mirror, len);
	mirror_url(&disk->checksum_sig_url, mirror, len);
	return 0;
}

int spec_load_default(const char *mirror, struct vmctl_spec **out,
		      struct vmctl_error **err)
{
	if (spec_load_buffer("<default spec>", spec_default_yaml,
			     spec_default_yaml_len, SPEC_SYNTAX_YAML, out,
			     err) < 0)
		return -1;
	if (spec_disk_mirror(&(*out)->disk, mirror, err) < 0) {
		spec_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

void spec_free(struct vmctl_spec *spec)
{
	if (spec == NULL)
		return;
	free(spec->name);
	free(spec->machine);
	free(spec->connect);
	cpulist_clear(&spec->cpus.pin_list);
	free(spec->disk.image);
	free(spec->disk.sha256);
	free(spec->disk.sha512);
	free(spec->disk.checksum_url);
	free(spec->disk.checksum_sig_url);
	free(spec->disk.keyring);
	free(spec->cdrom);
	free(spec->kernel.image);
	free(spec->kernel.initrd);
	free(spec->kernel.cmdline);
	free(spec->cloud_init.user);
	strv_clear(&spec->cloud_init.ssh_authorized_keys);
	free(spec->cloud_init.password_hash);
	strv_clear(&spec->cloud_init.packages);
	free(spec->cloud_init.user_data);
	free(spec->network.ssh_listen);
	for (size_t i = 0; i < spec->network.n_forwards; i++) {
		free(spec->network.forwards[i].proto);
		free(spec->network.forwards[i].host_addr);
	}
	free(spec->network.forwards);
	free(spec->vnc.listen);
	for (size_t i = 0; i < spec->n_gpus; i++) {
		free(spec->gpus[i].vendor);
		free(spec->gpus[i].rom);
	}
	free(spec->gpus);
	for (size_t i = 0; i < spec->n_usb; i++)
		free(spec->usb[i].port);
	free(spec->usb);
	free(spec->qemu.binary);
	strv_clear(&spec->qemu.extra_args);
	free(spec);
}

bool spec_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > SPEC_NAME_MAX)
		return false;
	if (!islower((unsigned char)name[0]) && !isdigit((unsigned char)name[0]))
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

unsigned spec_cpu_count(const struct vmctl_spec *spec)
{
	return spec->cpus.sockets * spec->cpus.cores * spec->cpus.threads;
}

int spec_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (toupper((unsigned char)*p)) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return -1;
	}
	p++;
	if (*p != '\0' && strcasecmp(p, "B") != 0 && strcasecmp(p, "iB") != 0)
		return -1;
	if (v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

static int parse_hex(const char **p, size_t max_digits, unsigned long max,
		     unsigned *out)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; isxdigit((unsigned char)**p) && n < max_digits; (*p)++, n++)
		v = v * 16 + (unsigned long)(isdigit((unsigned char)**p)
			? **p - '0' : tolower((unsigned char)**p) - 'a' + 10);
	if (n == 0 || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int pci_addr_parse(const char *s, struct pci_addr *out)
{
	struct pci_addr a = { 0 };
	const char *p = s;
	/* DDDD:BB:SS.F, or BB:SS.F in domain 0. */
	bool has_domain = strchr(s, ':') != strrchr(s, ':');

	if (has_domain) {
		if (parse_hex(&p, 4, 0xffff, &a.domain) < 0 || *p++ != ':')
			return -1;
	}
	if (parse_hex(&p, 2, 0xff, &a.bus) < 0 || *p++ != ':' ||
	    parse_hex(&p, 2, 0x1f, &a.dev) < 0 || *p++ != '.' ||
	    parse_hex(&p, 1, 7, &a.func) < 0 || *p != '\0')
		return -1;
	*out = a;
	return 0;
}

const char *spec_backend_name(enum spec_backend b)
{
	return b == SPEC_BACKEND_LIBVIRT ? "libvirt" : "direct";
}

const char *spec_accel_name(enum spec_accel a)
{
	switch (a) {
	case SPEC_ACCEL_KVM: return "kvm";
	case SPEC_ACCEL_TCG: return "tcg";
	case SPEC_ACCEL_AUTO: break;
	}
	return "auto";
}

const char *spec_firmware_name(enum spec_firmware f)
{
	return f == SPEC_FIRMWARE_UEFI_SECURE ? "uefi-secure"
	       : f == SPEC_FIRMWARE_UEFI ? "uefi" : "bios";
}

const char *spec_boot_name(enum spec_boot b)
{
	return b == SPEC_BOOT_CDROM_ONCE ? "cdrom-once" : "disk";
}

bool spec_firmware_is_uefi(enum spec_firmware f)
{
	return f == SPEC_FIRMWARE_UEFI || f == SPEC_FIRMWARE_UEFI_SECURE;
}

bool spec_machine_is_q35(const char *machine)
{
	return strcmp(machine, "q35") == 0 ||
	       strncmp(machine, "pc-q35", 6) == 0;
}
