// SPDX-License-Identifier: GPL-2.0-or-later
/* host-setup's pure parts: modules.alias matching, and the record of
 * what vmctl changed in a file, taken out again by undo. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/hostsetup-facts.h"
#include "vmctl/hostsetup-recipe.h"
#include "vmctl/kcmdline.h"

static const char alias[] =
	"# Aliases extracted from modules themselves.\n"
	"alias fs-ext4 ext4\n"
	"alias pci:v000010DEd*sv*sd*bc03sc*i* nouveau\n"
	"alias pci:v000010DEd00001B80sv*sd*bc*sc*i* nvidia-drm\n"
	"alias pci:v*d*sv*sd*bc04sc03i00* snd_hda_intel\n"
	"alias pci:v000010DEd*sv*sd*bc04sc03i00* snd_hda_intel\n"
	"alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
	"alias pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
	"alias pci:v*d*sv*sd*bc*sc*i* pci_stub\n"
	"alias pci:v00001002d*sv*sd*bc03sc*i* radeon\n";

static char *match(const char *modalias)
{
	struct strv mods = { 0 };
	char *s;

	hostsetup_alias_match(alias, modalias, &mods);
	s = kcmdline_join(&mods);
	strv_clear(&mods);
	return s;
}

static void test_alias(void)
{
	char *s;

	s = match("pci:v000010DEd00001B80sv00001458sd00003702bc03sc00i00");
	is_str(s, "nouveau nvidia_drm", "the GPU: every matching module, "
	       "'-' written '_', vfio-pci and pci-stub left out");
	free(s);
	s = match("pci:v000010DEd000010F0sv00001458sd00003702bc04sc03i00");
	is_str(s, "snd_hda_intel", "HDMI audio: snd_hda_intel, once");
	free(s);
	s = match("pci:v000010DEd00001B80");
	is_str(s, "", "a modalias the patterns do not match whole");
	free(s);
}

/* Record BEFORE -> AFTER (and more runs), then revert NOW: want WANT, or
 * a conflict whose reason holds WANT when `conflict`. */
static void revert(const char *name, const char *const *runs, size_t n,
		   const char *now, const char *want, bool conflict)
{
	cJSON *entry = cJSON_CreateObject();
	char *out = NULL, *why = NULL;
	int r;

	for (size_t i = 0; i + 1 < n; i++)
		hs_recipe_add(entry, runs[i], runs[i + 1]);
	r = hs_recipe_revert(now, entry, &out, &why);
	if (conflict) {
		ok(r < 0 && why != NULL && strstr(why, want) != NULL,
		   "%s: a conflict", name);
		if (why != NULL && strstr(why, want) == NULL)
			printf("#   why: %s\n", why);
	} else {
		ok(r == 0, "%s: reverted", name);
		is_str(out, want, "%s: what is left", name);
	}
	free(out);
	free(why);
	cJSON_Delete(entry);
}

static void test_recipe(void)
{
	const char *grub[] = {
		"GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
		"GRUB_CMDLINE_LINUX=\"\"\n",
		"GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
		"GRUB_CMDLINE_LINUX=\"\"\n# vmctl\n"
		"GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT "
		"iommu=pt\"\n",
	};
	const char *cmdline[] = {
		"root=UUID=1 rw quiet iommu=soft\n",
		"root=UUID=1 rw quiet iommu=pt intel_iommu=on "
		"vfio-pci.ids=10de:1b80\n",
		"root=UUID=1 rw quiet iommu=pt intel_iommu=on "
		"vfio-pci.ids=10de:1b80,10de:10f0\n",
	};
	const char *conf[] = {
		NULL,
		"# vmctl\noptions vfio-pci ids=10de:1b80\n",
		"# vmctl\noptions vfio-pci ids=10de:1b80,10de:10f0\n"
		"softdep nouveau pre: vfio-pci\n",
	};

	revert("grub: vmctl's line out, the admin's edit kept", grub, 2,
	       "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
	       "GRUB_CMDLINE_LINUX=\"cryptdevice=/dev/sda2:root\"\n# vmctl\n"
	       "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT "
	       "iommu=pt\"\nGRUB_TIMEOUT=3\n",
	       "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
	       "GRUB_CMDLINE_LINUX=\"cryptdevice=/dev/sda2:root\"\n"
	       "GRUB_TIMEOUT=3\n", false);
	revert("grub: vmctl's line changed by the admin", grub, 2,
	       "GRUB_DEFAULT=0\n# vmctl\n"
	       "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT\"\n",
	       "vmctl's line \"GRUB_CMDLINE_LINUX_DEFAULT=", true);
	revert("cmdline: words out, root= changed since kept", cmdline, 2,
	       "root=UUID=2 rw quiet iommu=pt intel_iommu=on "
	       "vfio-pci.ids=10de:1b80 nomodeset\n",
	       "root=UUID=2 rw quiet iommu=soft nomodeset\n", false);
	revert("cmdline: two runs, the ids vmctl changed itself", cmdline, 3,
	       cmdline[2], cmdline[0], false);
	revert("cmdline: the admin removed vmctl's argument", cmdline, 3,
	       "root=UUID=1 rw quiet iommu=pt vfio-pci.ids=10de:1b80,"
	       "10de:10f0\n", "vmctl's \"intel_iommu=on\"", true);
	revert("vfio.conf: vmctl's own lines, rewritten by a second run", conf,
	       3, "# mine\n# vmctl\noptions vfio-pci ids=10de:1b80,10de:10f0\n"
	       "softdep nouveau pre: vfio-pci\n", "# mine\n", false);
}

int main(void)
{
	test_alias();
	test_recipe();
	return tap_done();
}
