// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which PCI devices the host itself runs on: the controller of the root
 * filesystem and the NIC of the default route.  Everything comes through
 * the roots: PROC/self/mountinfo gives the root's device number,
 * SYSFS/dev/block/MAJ:MIN is the kernel's link to the block device, whose
 * resolved path runs through the PCI function that serves it (or, for
 * device-mapper and md, through `slaves/` to the disks under it);
 * PROC/net/route gives the interface, SYSFS/class/net/NAME its device
 * (following `lower_*` links through bridges, bonds and VLANs).  libudev
 * does the same walk over the real /sys only; see docs/ARCHITECTURE.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/pci.h"
#include "vmctl/sysfs.h"
#include "vmctl/xalloc.h"

/* Stacked block and net devices deeper than this are not followed. */
#define NEEDS_MAX_DEPTH 8

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') * 64 +
				      (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* The next blank-separated field of *p's line, advancing *p. */
static bool field(const char **p, const char **start, size_t *len)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '\n')
		return false;
	*start = s;
	*len = strcspn(s, " \t\n");
	*p = s + *len;
	return true;
}

int pci_needs_parse_mountinfo(const char *text, unsigned *major,
			      unsigned *minor, char **source, char **fstype)
{
	bool found = false;

	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *next = strchr(line, '\n'), *p = line, *f;
		size_t len;
		unsigned ma, mi;
		char *mp = NULL;
		int n;

		/* id parent MAJ:MIN root mountpoint options [opt...] - type
		 * source superoptions */
		if (!field(&p, &f, &len) || !field(&p, &f, &len) ||
		    !field(&p, &f, &len))
			goto nextline;
		if (sscanf(f, "%u:%u%n", &ma, &mi, &n) != 2 ||
		    (size_t)n != len)
			goto nextline;
		if (!field(&p, &f, &len) || !field(&p, &f, &len))
			goto nextline;
		mp = unescape(f, len);
		if (strcmp(mp, "/") != 0) {
			free(mp);
			goto nextline;
		}
		free(mp);
		while (field(&p, &f, &len) && !(len == 1 && *f == '-'))
			;
		if (!field(&p, &f, &len))
			goto nextline;
		/* The last mount on / is the one in effect. */
		free(*fstype);
		*fstype = unescape(f, len);
		free(*source);
		*source = field(&p, &f, &len) ? unescape(f, len) : xstrdup("");
		*major = ma;
		*minor = mi;
		found = true;
nextline:
		line = next ? next + 1 : NULL;
	}
	return found ? 0 : -1;
}

static void push_unique(struct strv *sv, const char *s, size_t len)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strlen(sv->v[i]) == len && strncmp(sv->v[i], s, len) == 0)
			return;
	strv_take(sv, xstrndup(s, len));
}

void pci_needs_parse_route(const char *text, struct strv *ifaces)
{
	/* Iface Destination Gateway Flags RefCnt Use Metric Mask ...;
	 * a default route has destination and mask 0 and RTF_UP. */
	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *next = strchr(line, '\n'), *p = line, *f[8];
		size_t len[8];
		int i;

		for (i = 0; i < 8 && field(&p, &f[i], &len[i]); i++)
			;
		if (i == 8 && len[1] == 8 && strncmp(f[1], "00000000", 8) == 0
		    && len[7] == 8 && strncmp(f[7], "00000000", 8) == 0 &&
		    (strtoul(f[3], NULL, 16) & 0x1))
			push_unique(ifaces, f[0], len[0]);
		line = next ? next + 1 : NULL;
	}
}

void pci_needs_parse_ipv6_route(const char *text, struct strv *ifaces)
{
	/* dest plen src splen nexthop metric refcnt use flags iface; a
	 * default route is ::/0, up (RTF_UP), not a reject route (those
	 * sit on lo). */
	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *next = strchr(line, '\n'), *p = line, *f[10];
		size_t len[10];
		int i;

		for (i = 0; i < 10 && field(&p, &f[i], &len[i]); i++)
			;
		if (i == 10 && len[0] == 32 &&
		    strspn(f[0], "0") >= 32 && len[1] == 2 &&
		    strncmp(f[1], "00", 2) == 0) {
			unsigned long flags = strtoul(f[8], NULL, 16);

			if ((flags & 0x1) && !(flags & 0x200) &&
			    !(len[9] == 2 && strncmp(f[9], "lo", 2) == 0))
				push_unique(ifaces, f[9], len[9]);
		}
		line = next ? next + 1 : NULL;
	}
}

static void add_need(struct pci_host *host, const struct pci_addr *a,
		     enum pci_need_kind kind, const char *detail)
{
	for (size_t i = 0; i < host->n_needs; i++)
		if (host->needs[i].kind == kind &&
		    pci_addr_cmp(&host->needs[i].addr, a) == 0)
			return;
	host->needs = xreallocarray(host->needs, host->n_needs + 1,
				    sizeof(*host->needs));
	host->needs[host->n_needs++] = (struct pci_need){
		.addr = *a, .kind = kind, .detail = xstrdup(detail) };
}

/*
 * The PCI functions under a block device, given its resolved sysfs path.
 * A device-mapper or md device lists what it is built on in `slaves/`
 * (a partition of one: in its parent's); an NVMe namespace with native
 * multipath sits under a virtual nvme-subsystem whose controllers link to
 * their PCI functions.
 */
static int block_to_pci(const char *path, int depth, struct pci_host *host,
			const char *detail)
{
	struct pci_addr a;
	struct strv slaves = { 0 };
	cleanup_free char *dir = NULL;
	int found = 0;

	if (depth > NEEDS_MAX_DEPTH)
		return 0;
	if (sysfs_path_last_pci(path, &a)) {
		add_need(host, &a, PCI_NEED_ROOT_FS, detail);
		return 1;
	}
	dir = xasprintf("%s/slaves", path);
	if (sysfs_list_dir(dir, &slaves) < 0 || slaves.n == 0) {
		cleanup_free char *pslaves = xasprintf("%s/../slaves", path);
		cleanup_free char *partition = xasprintf("%s/partition", path);
		const char *subsys = strstr(path, "/nvme-subsystem/");

		strv_clear(&slaves);
		if (access(partition, F_OK) == 0 &&
		    sysfs_list_dir(pslaves, &slaves) == 0 && slaves.n > 0) {
			free(dir);
			dir = steal_pointer(&pslaves);
		} else if (subsys != NULL) {
			/* .../nvme-subsystem/nvme-subsysN/nvmeXnY[/PART]:
			 * the controllers nvmeX are links in nvme-subsysN. */
			struct strv ctrls = { 0 };
			const char *name = subsys + strlen("/nvme-subsystem/");
			cleanup_free char *sdir = xstrndup(
				path, (size_t)(name - path) +
				strcspn(name, "/"));

			if (sysfs_list_dir(sdir, &ctrls) == 0)
				for (size_t i = 0; i < ctrls.n; i++) {
					cleanup_free char *c = NULL;
					cleanup_free char *r = NULL;

					if (strncmp(ctrls.v[i], "nvme", 4) ||
					    strspn(ctrls.v[i] + 4,
						   "0123456789") !=
					    strlen(ctrls.v[i] + 4) ||
					    ctrls.v[i][4] == '\0')
						continue;
					c = xasprintf("%s/%s", sdir,
						      ctrls.v[i]);
					r = sysfs_resolve(c);
					if (r && sysfs_path_last_pci(r, &a)) {
						add_need(host, &a,
							 PCI_NEED_ROOT_FS,
							 detail);
						found = 1;
					}
				}
			strv_clear(&ctrls);
			return found;
		} else {
			strv_clear(&slaves);
			return 0;
		}
	}
	for (size_t i = 0; i < slaves.n; i++) {
		cleanup_free char *link = xasprintf("%s/%s", dir, slaves.v[i]);
		cleanup_free char *real = sysfs_resolve(link);

		if (real != NULL && block_to_pci(real, depth + 1, host, detail))
			found = 1;
	}
	strv_clear(&slaves);
	return found;
}

/* The block device of the root filesystem: by device number, or, for
 * filesystems that report an anonymous one (btrfs), by the mount's
 * source under DEV (a /dev/mapper link names its dm-N). */
static char *root_block_path(const struct vmctl_env *env, unsigned major,
			     unsigned minor, const char *source)
{
	cleanup_free char *bydev = xasprintf("%s/dev/block/%u:%u",
					     env->sysfs, major, minor);
	cleanup_free char *name = NULL;
	cleanup_free char *bypath = NULL;
	const char *base;

	if (major != 0)
		return sysfs_resolve(bydev);
	if (strncmp(source, "/dev/", 5) != 0)
		return NULL;
	base = strrchr(source, '/') + 1;
	{
		/* "/dev/sda2" or "/dev/mapper/vg-root" under DEV */
		size_t dirlen = (size_t)(base - source) - 1;
		cleanup_free char *dir = xasprintf("%s%.*s", env->dev,
						   (int)(dirlen - 4),
						   source + 4);

		if (sysfs_link_name(dir, base, &name) < 0)
			name = xstrdup(base);
	}
	bypath = xasprintf("%s/class/block/%s", env->sysfs, name);
	return sysfs_resolve(bypath);
}

static void read_root_fs(const struct vmctl_env *env, struct pci_host *host)
{
	cleanup_free char *path = xasprintf("%s/self/mountinfo", env->proc);
	cleanup_free char *text = NULL;
	cleanup_free char *source = NULL;
	cleanup_free char *fstype = NULL;
	cleanup_free char *block = NULL;
	cleanup_free char *detail = NULL;
	struct vmctl_error *e = NULL;
	unsigned major = 0, minor = 0;
	size_t len;

	if (fs_read_file(path, 16 << 20, &text, &len, 1, &e) < 0) {
		strv_pushf(&host->needs_notes, "root filesystem: %s",
			   e->message);
		vmctl_error_free(e);
		return;
	}
	if (pci_needs_parse_mountinfo(text, &major, &minor, &source,
				      &fstype) < 0) {
		strv_pushf(&host->needs_notes, "root filesystem: no mount on "
			   "/ in %s", path);
		return;
	}
	detail = xasprintf("%s", *source ? source : fstype);
	block = root_block_path(env, major, minor, source);
	if (block == NULL) {
		strv_pushf(&host->needs_notes, "root filesystem: %s (%s, "
			   "%u:%u) is on no block device found in sysfs",
			   detail, fstype, major, minor);
		return;
	}
	if (!block_to_pci(block, 0, host, detail))
		strv_pushf(&host->needs_notes, "root filesystem: %s (%s) is "
			   "on no PCI device", detail, fstype);
}

/* The PCI functions under a network interface, given its resolved
 * path: its own device, or those of the devices it is stacked on. */
static int net_to_pci(const char *path, int depth, struct pci_host *host,
		      const char *detail)
{
	struct strv entries = { 0 };
	struct pci_addr a;
	int found = 0;

	if (depth > NEEDS_MAX_DEPTH)
		return 0;
	if (sysfs_path_last_pci(path, &a)) {
		add_need(host, &a, PCI_NEED_ROUTE_NIC, detail);
		return 1;
	}
	if (sysfs_list_dir(path, &entries) < 0)
		return 0;
	for (size_t i = 0; i < entries.n; i++) {
		cleanup_free char *link = NULL;
		cleanup_free char *real = NULL;

		if (strncmp(entries.v[i], "lower_", 6) != 0)
			continue;
		link = xasprintf("%s/%s", path, entries.v[i]);
		real = sysfs_resolve(link);
		if (real != NULL && net_to_pci(real, depth + 1, host, detail))
			found = 1;
	}
	strv_clear(&entries);
	return found;
}

static void read_routes(const struct vmctl_env *env, struct pci_host *host)
{
	static const char *const files[] = { "net/route", "net/ipv6_route" };
	struct strv ifaces = { 0 };

	for (size_t i = 0; i < 2; i++) {
		cleanup_free char *path = xasprintf("%s/%s", env->proc,
						    files[i]);
		cleanup_free char *text = NULL;
		struct vmctl_error *e = NULL;
		size_t len;

		if (fs_read_file(path, 16 << 20, &text, &len, 1, &e) < 0) {
			vmctl_error_free(e);
			continue;
		}
		if (i == 0)
			pci_needs_parse_route(text, &ifaces);
		else
			pci_needs_parse_ipv6_route(text, &ifaces);
	}
	for (size_t i = 0; i < ifaces.n; i++) {
		cleanup_free char *link = xasprintf("%s/class/net/%s",
						    env->sysfs, ifaces.v[i]);
		cleanup_free char *real = sysfs_resolve(link);

		if (real == NULL || !net_to_pci(real, 0, host, ifaces.v[i]))
			strv_pushf(&host->needs_notes, "default route: %s is "
				   "on no PCI device", ifaces.v[i]);
	}
	strv_clear(&ifaces);
}

void pci_needs_read(const struct vmctl_env *env, struct pci_host *host)
{
	read_root_fs(env, host);
	read_routes(env, host);
}
